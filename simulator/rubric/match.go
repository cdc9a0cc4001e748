package rubric

import (
	"strings"
)

// A compiled lexicon entry: literal parts matched in order, each within gap
// bytes of the previous one and inside the same sentence.
type pattern struct {
	parts []part
	owner int32
	gap   int
}

type part struct {
	lit       string
	wordStart bool // English: must begin a word
	wordEnd   bool // English: must end a word (false for "prefix*")
}

// matcher finds every lexicon entry in a folded text in one pass. Entries
// are bucketed by their first two (short entries) or four bytes, and only
// rune starts and English word starts are probed, so a 300-character reply
// costs a few hundred map lookups whatever the lexicon size.
type matcher struct {
	pats   []pattern
	firsts []first
	byLit  map[string]int32   // first literal (and its word-end flag) → firsts index
	by2    map[uint32][]int32 // two-byte literals ("hi", "no")
	by3    map[uint32][]int32 // three-byte literals: one Chinese character
	by4    map[uint32][]int32
	// has2 and has4 filter positions before the map lookups: most positions
	// start no entry at all.
	has2, has3, has4 [1 << 16]bool
}

func fold16(k uint32) uint32 { return (k ^ k>>16) & 0xFFFF }

// first is one distinct leading literal and the patterns that start with it,
// so "i'll" is compared once however many "i'll…verb" entries exist.
type first struct {
	part
	pats []int32
	// cont indexes the second parts of many-continuation literals ("i'll…
	// check|book|send…") by their first two bytes, so the window after the
	// literal is scanned once instead of once per continuation.
	cont   map[uint32][]int32
	single []int32 // patterns that are the literal alone
	gap    int
}

// contThreshold is the continuation count above which a literal is indexed.
const contThreshold = 8

// index builds the continuation index of every busy leading literal.
func (m *matcher) index() {
	for fi := range m.firsts {
		f := &m.firsts[fi]
		if len(f.pats) <= contThreshold {
			continue
		}
		f.cont = map[uint32][]int32{}
		for _, id := range f.pats {
			pt := &m.pats[id]
			if len(pt.parts) == 1 {
				f.single = append(f.single, id)
				continue
			}
			k := key2(pt.parts[1].lit)
			f.cont[k] = append(f.cont[k], id)
			f.gap = max(f.gap, pt.gap+len(pt.parts[1].lit))
		}
	}
}

type hit struct {
	owner      int32
	start, end int32
}

func key2(s string) uint32 { return uint32(s[0])<<8 | uint32(s[1]) }
func key3(s string) uint32 { return uint32(s[0])<<16 | uint32(s[1])<<8 | uint32(s[2]) }
func key4(s string) uint32 {
	return uint32(s[0])<<24 | uint32(s[1])<<16 | uint32(s[2])<<8 | uint32(s[3])
}

func newMatcher() *matcher {
	return &matcher{byLit: map[string]int32{}, by2: map[uint32][]int32{}, by3: map[uint32][]int32{}, by4: map[uint32][]int32{}}
}

// add compiles one entry for owner; zh selects the gap unit.
func (m *matcher) add(z *normalizer, entry string, owner int32, gapZH, gapEN int) {
	var alts [][]part
	for p := range strings.SplitSeq(entry, "…") {
		var opts []part
		for a := range strings.SplitSeq(p, "|") {
			a = strings.TrimSpace(a)
			prefix := strings.HasSuffix(a, "*")
			a = strings.TrimSuffix(a, "*")
			lit := strings.TrimSpace(z.normalizePattern(a))
			if len(lit) < 2 {
				continue
			}
			opts = append(opts, part{
				lit:       lit,
				wordStart: isASCIIAlnum(rune(lit[0])),
				wordEnd:   !prefix && isASCIIAlnum(rune(lit[len(lit)-1])),
			})
		}
		if len(opts) == 0 {
			return
		}
		alts = append(alts, opts)
	}
	// Every combination of the alternatives is one pattern.
	combos := [][]part{nil}
	for _, opts := range alts {
		var next [][]part
		for _, c := range combos {
			for _, o := range opts {
				next = append(next, append(append([]part(nil), c...), o))
			}
		}
		combos = next
	}
	for _, c := range combos {
		gap := gapEN
		if c[0].lit[0] >= 0x80 {
			gap = gapZH * 3
		}
		id := int32(len(m.pats))
		m.pats = append(m.pats, pattern{parts: c, owner: owner, gap: gap})
		key := c[0].lit
		if c[0].wordEnd {
			key += "\x00"
		}
		fi, ok := m.byLit[key]
		if !ok {
			fi = int32(len(m.firsts))
			m.byLit[key] = fi
			m.firsts = append(m.firsts, first{part: c[0]})
			lit := c[0].lit
			if len(lit) >= 4 {
				k := key4(lit)
				m.by4[k] = append(m.by4[k], fi)
				m.has4[fold16(k)] = true
			} else if len(lit) == 3 && lit[0] >= 0x80 {
				k := key3(lit)
				m.by3[k] = append(m.by3[k], fi)
				m.has3[fold16(k)] = true
			} else {
				k := key2(lit)
				m.by2[k] = append(m.by2[k], fi)
				m.has2[k&0xFFFF] = true
			}
		}
		m.firsts[fi].pats = append(m.firsts[fi].pats, id)
	}
}

func isAlnumByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9'
}

// wordEndsAt reports whether position i of text ends an English word.
func wordEndsAt(text string, i int) bool {
	if i >= len(text) {
		return true
	}
	b := text[i]
	if isAlnumByte(b) {
		return false
	}
	if b == '\'' && i+1 < len(text) && text[i+1] >= 'a' && text[i+1] <= 'z' {
		return false // "can" in "can't"
	}
	return true
}

func isSentenceEnd(text string, i int) bool {
	switch text[i] {
	case '!', '?', '\n', ';':
		return true
	case '-':
		// " - " joins two sentences in chat English.
		return i > 0 && i+1 < len(text) && text[i-1] == ' ' && text[i+1] == ' '
	case '.':
		// "3.5" and "e.g." inside a word are not sentence ends, nor are
		// one-letter abbreviations ("a.m.") and titles ("Mr.").
		if i+1 < len(text) && isAlnumByte(text[i+1]) {
			return false
		}
		w := i
		for w > 0 && isAlnumByte(text[w-1]) {
			w--
		}
		switch text[w:i] {
		case "a", "p", "m", "e", "g", "mr", "ms", "mrs", "dr", "st", "vs", "etc":
			return false
		}
		return true
	}
	return false
}

// scan appends every match in text to hits.
func (m *matcher) scan(text string, d *doc, hits []hit) []hit {
	for p := 0; p < len(text); p++ {
		b := text[p]
		if b >= 0x80 {
			if b < 0xC0 {
				continue // inside a rune
			}
		} else if !isAlnumByte(b) || p > 0 && isAlnumByte(text[p-1]) {
			continue // English entries start at word starts only
		}
		if p+4 <= len(text) {
			if k := key4(text[p:]); m.has4[fold16(k)] {
				hits = m.probe(text, d, p, m.by4[k], hits)
			}
		}
		if b >= 0x80 {
			if p+3 <= len(text) {
				if k := key3(text[p:]); m.has3[fold16(k)] {
					hits = m.probe(text, d, p, m.by3[k], hits)
				}
			}
		} else if p+2 <= len(text) {
			if k := key2(text[p:]); m.has2[k] {
				hits = m.probe(text, d, p, m.by2[k], hits)
			}
		}
	}
	return hits
}

// probe checks the leading literals fs at position p, then the rest of
// every pattern that starts with a matching one.
func (m *matcher) probe(text string, d *doc, p int, fs []int32, hits []hit) []hit {
	for _, fi := range fs {
		f := &m.firsts[fi]
		if !strings.HasPrefix(text[p:], f.lit) {
			continue
		}
		e := p + len(f.lit)
		if f.wordEnd && !wordEndsAt(text, e) {
			continue
		}
		if f.cont == nil {
			for _, id := range f.pats {
				pt := &m.pats[id]
				if end, ok := m.rest(text, d, e, pt, 1); ok {
					hits = append(hits, hit{owner: pt.owner, start: int32(p), end: int32(end)})
				}
			}
			continue
		}
		for _, id := range f.single {
			hits = append(hits, hit{owner: m.pats[id].owner, start: int32(p), end: int32(e)})
		}
		// A match may close on its sentence's terminator ("哪里…了?").
		sentEnd := min(len(text), d.sentenceEnd(e)+1)
		limit := min(len(text), e+f.gap, sentEnd)
		for j := e; j+2 <= limit; j++ {
			if b := text[j]; b >= 0x80 && b < 0xC0 {
				continue
			}
			for _, id := range f.cont[key2(text[j:])] {
				pt := &m.pats[id]
				pa := &pt.parts[1]
				end := j + len(pa.lit)
				if end > min(len(text), e+pt.gap+len(pa.lit), sentEnd) || !strings.HasPrefix(text[j:], pa.lit) ||
					pa.wordStart && j > 0 && isAlnumByte(text[j-1]) || pa.wordEnd && !wordEndsAt(text, end) {
					continue
				}
				if end, ok := m.rest(text, d, end, pt, 2); ok {
					hits = append(hits, hit{owner: pt.owner, start: int32(p), end: int32(end)})
				}
			}
		}
	}
	return hits
}

// rest matches the parts after the first, each within the gap and the
// sentence, and returns the end of the match.
func (m *matcher) rest(text string, d *doc, e int, pt *pattern, k int) (int, bool) {
	for _, pa := range pt.parts[k:] {
		// The part may end on the sentence's terminator, never run past it.
		limit := min(len(text), e+pt.gap+len(pa.lit), d.sentenceEnd(e)+1)
		found := -1
		from := e
		for from < limit {
			j := strings.Index(text[from:limit], pa.lit)
			if j < 0 {
				break
			}
			j += from
			okStart := !pa.wordStart || j == 0 || !isAlnumByte(text[j-1])
			okEnd := !pa.wordEnd || wordEndsAt(text, j+len(pa.lit))
			if okStart && okEnd {
				found = j
				break
			}
			from = j + 1
		}
		if found < 0 {
			return 0, false
		}
		e = found + len(pa.lit)
	}
	return e, true
}

package rubric

import (
	"unicode"
	"unicode/utf8"
)

// maxRunes caps how much of a reply is analysed: the wire contract allows
// 2,000 characters, and batch input may be longer. Work stays linear and
// bounded whatever arrives.
const maxRunes = 2000

// normText is a reply folded for matching: lower case, half-width, simplified
// Chinese, emoji and zero-width characters removed, runs of the same ASCII
// letter collapsed (the most common English typo is a doubled or dropped
// letter, so "sorrry", "sory" and "sorry" all fold to "sory"). start and end
// give, for every byte of text, the byte span of the original rune it came
// from, so evidence is always quoted from the reply as typed.
type normText struct {
	text       string
	start, end []int32
	orig       string
}

// origSpan returns the original text behind normalised bytes [i, j).
func (n *normText) origSpan(i, j int) string {
	if i >= j || i < 0 || j > len(n.text) {
		return ""
	}
	return n.orig[n.start[i]:n.end[j-1]]
}

type normalizer struct {
	// t2s folds the CJK Unified Ideographs block (U+4E00–U+9FFF) to
	// simplified forms; zero means unchanged.
	t2s []rune
}

const hanLo, hanHi = 0x4E00, 0x9FFF

// fold maps one rune to its matching form; 0 drops it, ' ' makes it a space.
func (z *normalizer) foldRune(r rune) rune {
	switch {
	case r < 0x80:
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		if r == '\t' || r == '\r' {
			return ' '
		}
		return r
	case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
		return z.foldRune(r - 0xFEE0)
	case r == 0x3000 || r == 0x00A0:
		return ' '
	case r == '。' || r == '｡':
		return '.'
	case r == '、':
		return ','
	case r == '…':
		return '.'
	case r == '“' || r == '”' || r == '„' || r == '‟' || r == '″':
		return '"'
	case r == '‘' || r == '’' || r == '′' || r == '`':
		return '\''
	case r == '〜' || r == '～':
		return '~'
	case r == '—' || r == '–':
		return '-'
	case r == 0x200B || r == 0x200C || r == 0x200D || r == 0xFEFF || (r >= 0xFE00 && r <= 0xFE0F):
		return 0
	}
	if r >= hanLo && r <= hanHi {
		if s := z.t2s[r-hanLo]; s != 0 {
			return s
		}
		return r
	}
	if unicode.Is(unicode.Han, r) || unicode.IsLetter(r) || unicode.IsDigit(r) {
		return unicode.ToLower(r)
	}
	if unicode.IsPunct(r) {
		return r
	}
	// Emoji, symbols, controls: a word break, nothing more.
	return ' '
}

func isASCIIAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
}

func isASCIILetter(r rune) bool { return r >= 'a' && r <= 'z' }

// normalize folds s. Spaces between two non-ASCII characters are dropped
// (Chinese writers space words at random), others collapse to one.
func (z *normalizer) normalize(s string) normText {
	n := normText{orig: s}
	n.start = make([]int32, 0, len(s)+8)
	n.end = make([]int32, 0, len(s)+8)
	n.text = string(z.foldInto(make([]byte, 0, len(s)+8), s, &n))
	return n
}

// fold is normalize without the spans back to the original: the text only,
// for comparisons that quote nothing (earlier replies, customer lines,
// scenario facts).
func (z *normalizer) fold(s string) string {
	return string(z.foldInto(make([]byte, 0, len(s)+8), s, nil))
}

// foldInto appends the folded form of s to buf. With spans, it also records
// each output byte's original span there.
func (z *normalizer) foldInto(buf []byte, s string, spans *normText) []byte {
	var prev rune = ' ' // last emitted rune
	pendingSpace := false
	var spaceAt int32
	count := 0
	for i := 0; i < len(s); {
		if count >= maxRunes {
			break
		}
		count++
		r, size := rune(s[i]), 1
		if r >= 0x80 {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		var f rune
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			f = r // the common case, without a call
		case r >= hanLo && r <= hanHi:
			if f = z.t2s[r-hanLo]; f == 0 {
				f = r
			}
		default:
			f = z.foldRune(r)
		}
		i0 := i
		i += size
		i := i0
		if f == 0 {
			continue
		}
		if f == ' ' || f == '\n' {
			if f == '\n' {
				// A line break ends a sentence; keep it.
				pendingSpace = false
				if prev != '\n' {
					if spans != nil {
						spans.start = append(spans.start, int32(i))
						spans.end = append(spans.end, int32(i+size))
					}
					buf = append(buf, '\n')
					prev = '\n'
				}
				continue
			}
			if !pendingSpace {
				spaceAt = int32(i)
			}
			pendingSpace = true
			continue
		}
		if pendingSpace {
			pendingSpace = false
			if prev != ' ' && prev != '\n' && (prev < 0x80 || f < 0x80) {
				buf = append(buf, ' ')
				if spans != nil {
					spans.start = append(spans.start, spaceAt)
					spans.end = append(spans.end, spaceAt+1)
				}
				prev = ' '
			}
		}
		if isASCIILetter(f) && f == prev {
			// Collapse the run, but let the span cover the extra letter.
			if spans != nil {
				spans.end[len(spans.end)-1] = int32(i + size)
			}
			continue
		}
		before := len(buf)
		buf = utf8.AppendRune(buf, f)
		if spans != nil {
			for k := before; k < len(buf); k++ {
				spans.start = append(spans.start, int32(i))
				spans.end = append(spans.end, int32(i+size))
			}
		}
		prev = f
	}
	return buf
}

// normalizePattern folds a lexicon entry the same way as a reply.
func (z *normalizer) normalizePattern(p string) string {
	return z.fold(p)
}

package rubric

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sparring-gym/sparring/simulator"
)

type span struct{ s, e int32 }

type quote struct {
	span
	said bool // opened by "you said" / 您说 rather than quote marks
}

// reading is everything found in one reply: which codes and markers are
// present and the evidence span of each.
type reading struct {
	n      normText
	has    []bool
	ev     []span
	quotes []quote
	policy []span // out-of-policy commitments (a subset of over_promise)
	d      *doc
}

func (r *reading) evidence(id int) string {
	return strings.TrimSpace(r.n.origSpan(int(r.ev[id].s), int(r.ev[id].e)))
}

// read finds the signals of one reply. customer is the message it answers
// (may be empty); sc may be nil.
func (a *Assessor) read(reply, customer string, sc *simulator.Scenario) *reading {
	r := &reading{n: a.z.normalize(reply)}
	text := r.n.text
	d := newDoc(text)
	r.d = d
	nOwners := len(a.names)
	r.has = make([]bool, nOwners)
	r.ev = make([]span, nOwners)
	raw := a.m.scan(text, d, make([]hit, 0, 64))

	// Quotation: the customer's words inside a reply are data, not the agent's.
	r.quotes = quoteSpans(text)
	var negs, exempts, words []hit
	// One allocation for the structure words, however many there are.
	nWords := 0
	for _, h := range raw {
		if int(h.owner) >= a.structBase {
			nWords++
		}
	}
	if nWords > 0 {
		words = make([]hit, 0, nWords)
	}
	for _, h := range raw {
		if int(h.owner) >= a.structBase {
			words = append(words, h)
			continue
		}
		switch int(h.owner) {
		case a.say:
			if a.agrees(text[h.end:]) || a.agentSpeaks(text[:h.start]) {
				continue
			}
			r.quotes = append(r.quotes, quote{span: span{h.end, int32(d.clauseEnd(int(h.end)))}, said: true})
		case a.neg:
			negs = append(negs, h)
		case a.negExempt:
			exempts = append(exempts, h)
		}
	}
	negs = slices.DeleteFunc(negs, func(n hit) bool {
		for _, x := range exempts {
			if x.start <= n.start && n.end <= x.end {
				return true
			}
		}
		return false
	})

	cand := make([]hit, 0, len(raw))
	for _, h := range raw {
		o := int(h.owner)
		if o == a.neg || o == a.negExempt || o == a.say || o >= a.structBase || r.inQuote(h.start) || r.inQuote(h.end-1) {
			continue
		}
		if sg := a.sigs[o]; sg != nil {
			if sg.negatable && a.preceded(d, h, negs) {
				continue
			}
			if sg.softenedBy >= 0 && inClauseBefore(d, h, ownedBy(raw, sg.softenedBy)) {
				continue
			}
			if sg.notInQuestion {
				cs, ce := d.clauseBounds(int(h.start))
				if d.isQuestion(cs, ce) {
					continue
				}
			}
		}
		cand = append(cand, h)
	}
	restate := a.ids2.kRestateFact
	for _, h := range cand {
		sg := a.sigs[h.owner]
		if sg != nil && len(sg.yieldsTo) > 0 && inSentenceWith(d, cand, h, sg.yieldsTo) {
			continue
		}
		if sg != nil && len(sg.clauseYields) > 0 && inClauseWith(d, cand, h, sg.clauseYields) {
			continue
		}
		// "我确认一下:…网上付款也不行,是这样吗?" restates the customer; the
		// words after a restatement cue are theirs, not the agent's.
		if sg != nil && !sg.positive && restatedBefore(d, cand, h, restate) {
			continue
		}
		r.mark(int(h.owner), a.evidenceSpan(d, int(h.start), int(h.end)))
	}

	// "I'm Lin": an introduction is a capitalised name right after the cue,
	// judged on the reply as typed.
	if intro := a.ids2.kNameIntro; !r.has[a.ids2.kIdentify] {
		for _, h := range cand {
			if int(h.owner) != intro || h.end <= 0 {
				continue
			}
			rest := reply[r.n.end[h.end-1]:]
			rest = strings.TrimLeft(rest, " ")
			w := rest
			if i := strings.IndexFunc(rest, func(c rune) bool { return !unicode.IsLetter(c) }); i >= 0 {
				w = rest[:i]
			}
			if len(w) >= 2 && w[0] >= 'A' && w[0] <= 'Z' && !a.notNames[strings.ToLower(w)] {
				r.mark(a.ids2.kIdentify, a.evidenceSpan(d, int(h.start), int(h.end)))
				break
			}
		}
	}

	// "Chen here": a capitalised name right before the cue.
	if outro := a.ids2.kNameOutro; !r.has[a.ids2.kIdentify] {
		for _, h := range cand {
			if int(h.owner) != outro || h.start <= 0 {
				continue
			}
			before := strings.TrimRight(reply[:r.n.start[h.start]], " -,")
			w := before[strings.LastIndexFunc(before, func(c rune) bool { return !unicode.IsLetter(c) })+1:]
			if len(w) >= 2 && w[0] >= 'A' && w[0] <= 'Z' && !a.notNames[strings.ToLower(w)] {
				r.mark(a.ids2.kIdentify, a.evidenceSpan(d, int(h.start), int(h.end)))
				break
			}
		}
	}

	// "慢什么慢", "急什么急": a word echoed around 什么 is a retort.
	for i := 0; ; {
		j := strings.Index(text[i:], "什么")
		if j < 0 {
			break
		}
		j += i
		prev, ps := utf8.DecodeLastRuneInString(text[:j])
		next, _ := utf8.DecodeRuneInString(text[j+len("什么"):])
		if ps > 0 && prev >= hanLo && prev == next && !r.inQuote(int32(j)) {
			// "喊什么喊" orders the voice down: calm_down already has it.
			if cd := a.ids["calm_down"]; !r.has[cd] || j < int(r.ev[cd].s) || j >= int(r.ev[cd].e) {
				r.mark(a.ids2.kIrritation, a.evidenceSpan(d, j-ps, j+len("什么")+ps))
			}
		}
		i = j + len("什么")
	}

	// A clause that is nothing but "不知道" or "No way".
	for s := 0; s < len(text); {
		cs, ce := d.clauseBounds(s)
		s = ce + 1
		if id, ok := a.clause(text[cs:ce]); ok && !r.inQuote(int32(cs)) {
			r.mark(id, a.trimSpan(d, cs, min(ce+1, len(text))))
		}
	}

	// A sentence that opens with a bare imperative orders the customer,
	// unless the customer asked how to do something: then the steps are
	// instructions ("怎么退货?" "打开订单页,点申请退货").
	softener := a.ids2.kSoftener
	for s := 0; s < len(text) && !a.askedHow(customer); {
		ss, se := d.sentenceBounds(s)
		s = max(se, s+1)
		if r.inQuote(int32(ss)) || a.imperative(text[ss:se]) == 0 || strings.Contains(text[ss:se], "?") {
			continue
		}
		softened := false
		for _, h := range raw {
			softened = softened || int(h.owner) == softener && int(h.start) >= ss && int(h.start) < se
		}
		// The codes command yields to (calm_down: "Lower the volume and we
		// can talk") name what the order is instead.
		if cmd := a.sigs[a.ids2.kCommand]; !softened && ownerWithin(cand, ss, se, cmd.yieldsTo) {
			continue
		}
		if !softened {
			r.mark(a.ids2.kCommand, a.trimSpan(d, ss, se))
		}
	}

	// Clause shapes: subject-led orders, rhetorical questions, sarcasm,
	// minimisers, blame and bare refusals phrased in unlisted words.
	structured := a.readStructures(r, d, negs, words)

	// A question nobody else explains is a question asked; one that offers
	// an action ("我先帮您约个时间?") checks agreement.
	own, plan, infoReq := a.ids2.kOwn, a.ids2.kProposePlan, a.ids2.kInfoRequest
	for s := 0; s < len(text); {
		cs, ce := s, d.clauseEnd(s)
		s = ce + 1
		if !d.isQuestion(cs, ce) || r.inQuote(int32(cs)) {
			continue
		}
		ss, se := d.sentenceBounds(cs)
		explained := slices.Contains(structured, ss)
		for _, h := range cand {
			if a.qYield[h.owner] && int(h.start) >= ss && int(h.start) < se {
				explained = true
				break
			}
		}
		if !explained {
			offer, info := false, false
			for _, h := range cand {
				if int(h.start) < cs || int(h.start) >= ce {
					continue
				}
				switch int(h.owner) {
				case own, plan:
					offer = true
				case a.questions, infoReq:
					info = true
				}
			}
			offer = offer && !info
			if offer {
				r.mark(a.ids2.kCheckAgreement, a.trimSpan(d, ss, se))
			} else {
				r.mark(a.questions, a.trimSpan(d, ss, se))
			}
		}
	}

	// A restatement that quotes the customer is restate_fact.
	var custNorm string
	if customer != "" {
		custNorm = a.cache.text(&a.z, customer)
	}

	// "碎了?不可能吧" / "Smashed? I doubt it": opening by echoing the
	// customer's word as a question, with no apology or acknowledgement,
	// disputes their account.
	if custNorm != "" {
		cs, ce := d.clauseBounds(0)
		for cs < ce && text[cs] == ' ' {
			cs++
		}
		echo := strings.Trim(text[cs:ce], " ")
		echo = strings.TrimRight(echo, "了吧吗呢啊")
		echo = strings.TrimPrefix(echo, "only ")
		short := echo != "" && (echo[0] >= 0x80 && utf8.RuneCountInString(echo) <= 6 || echo[0] < 0x80 && strings.Count(echo, " ") <= 2)
		if short && ce < len(text) && text[ce] == '?' && echoes(echo, custNorm) &&
			!r.has[a.ids2.kApologize] && !r.has[a.ids2.kAcknowledgeFeeling] && !r.has[a.ids2.kOwn] && !r.has[a.ids2.kRestateFeeling] {
			sp := a.trimSpan(d, cs, ce+1)
			r.mark(a.ids2.kArgue, sp)
			if r.has[a.questions] && r.ev[a.questions] == sp {
				r.has[a.questions] = false // the echo disputes, it does not ask
			}
		}
	}
	for _, q := range r.quotes {
		content := strings.TrimSpace(text[q.s:q.e])
		if utf8.RuneCountInString(content) < a.s.Quotes.MinRunes {
			continue
		}
		if q.said || custNorm != "" && overlaps(content, custNorm) {
			ss, se := d.sentenceBounds(int(q.s))
			r.mark(a.ids2.kRestateFact, a.shrink(d, ss, se, int(q.s), int(q.e)))
		}
	}

	if sc != nil {
		a.readScenario(r, sc, raw, negs)
	}

	// Rules between codes, in evaluation order.
	for _, id := range a.order {
		if !r.has[id] {
			continue
		}
		sg := a.sigs[id]
		ok := true
		for _, q := range sg.requires {
			ok = ok && r.has[q]
		}
		if len(sg.requiresAny) > 0 {
			any := false
			for _, q := range sg.requiresAny {
				any = any || r.has[q]
			}
			ok = ok && any
		}
		for _, q := range sg.unless {
			ok = ok && !r.has[q]
		}
		for _, group := range sg.unlessAll {
			all := true
			for _, q := range group {
				all = all && r.has[q]
			}
			ok = ok && !all
		}
		r.has[id] = ok
	}
	return r
}

func (r *reading) mark(id int, sp span) {
	if !r.has[id] {
		r.has[id] = true
		r.ev[id] = sp
	}
}

func (r *reading) inQuote(pos int32) bool {
	for _, q := range r.quotes {
		if pos >= q.s && pos < q.e {
			return true
		}
	}
	return false
}

func ownedBy(hits []hit, owner int) []hit {
	var out []hit
	for _, h := range hits {
		if int(h.owner) == owner {
			out = append(out, h)
		}
	}
	return out
}

// askedHow reports whether the customer's message asks how to do something.
func (a *Assessor) askedHow(customer string) bool {
	if customer == "" {
		return false
	}
	c := a.cache.text(&a.z, customer)
	for _, w := range a.howCues {
		if strings.Contains(c, w) {
			return true
		}
	}
	return false
}

// agrees reports whether the words after a "您说" cue agree with the
// customer ("您说得对") rather than open their words.
func (a *Assessor) agrees(after string) bool {
	for _, p := range a.sayNot {
		if strings.HasPrefix(after, p) {
			return true
		}
	}
	return false
}

// agentSpeaks reports whether the words before a "你说" cue make the agent
// the speaker: "刚才不是跟你说过了吗" is "I told you".
func (a *Assessor) agentSpeaks(before string) bool {
	for _, p := range a.sayAfter {
		if strings.HasSuffix(before, p) {
			return true
		}
	}
	return false
}

// clause looks a whole clause up in clauses, also with trailing particles
// and tags removed ("不晓得耶", "not a clue sorry").
func (a *Assessor) clause(t string) (int, bool) {
	t = strings.Trim(t, " ~")
	for range 3 {
		if id, ok := a.clauses[t]; ok {
			return id, true
		}
		cut := false
		for _, p := range a.trim {
			if len(t) > len(p) && strings.HasSuffix(t, p) {
				t = strings.Trim(t[:len(t)-len(p)], " ~")
				cut = true
				break
			}
		}
		if !cut {
			break
		}
	}
	return 0, false
}

// imperative returns the length of a bare imperative opening sentence t
// (after spaces and lead words such as "just"), or 0.
func (a *Assessor) imperative(t string) int {
	t = strings.TrimLeft(t, " \n")
	for range 2 {
		i := strings.IndexAny(t, " ,")
		if i <= 0 || !a.impLead[t[:i]] {
			break
		}
		t = strings.TrimLeft(t[i:], " ,")
	}
	if t == "" {
		return 0
	}
	for _, x := range a.impExempt {
		if strings.HasPrefix(t, x) {
			return 0
		}
	}
	if t[0] < 0x80 {
		w := t[:strings.IndexFunc(t+" ", func(c rune) bool { return !(c >= 'a' && c <= 'z') })]
		if a.impEN[w] {
			return len(w)
		}
		return 0
	}
	for _, p := range a.impZH {
		if strings.HasPrefix(t, p) {
			return len(p)
		}
	}
	return 0
}

// inClauseBefore reports whether one of cues comes before h in its clause:
// "请您把发票拍照发过来" is a request, not an order.
func inClauseBefore(d *doc, h hit, cues []hit) bool {
	cs, _ := d.clauseBounds(int(h.start))
	for _, c := range cues {
		if int(c.start) >= cs && c.end <= h.start {
			return true
		}
	}
	return false
}

// restatedBefore reports whether a restatement cue opens h's sentence
// before h.
func restatedBefore(d *doc, hits []hit, h hit, restate int) bool {
	ss, _ := d.sentenceBounds(int(h.start))
	for _, o := range hits {
		if int(o.owner) == restate && int(o.start) >= ss && o.end <= h.start {
			return true
		}
	}
	return false
}

// inClauseWith reports whether a hit of one of owners shares h's clause.
func inClauseWith(d *doc, hits []hit, h hit, owners []int) bool {
	cs, ce := d.clauseBounds(int(h.start))
	return ownerWithin(hits, cs, ce, owners)
}

// inSentenceWith reports whether a hit of one of owners shares h's sentence.
func inSentenceWith(d *doc, hits []hit, h hit, owners []int) bool {
	ss, se := d.sentenceBounds(int(h.start))
	return ownerWithin(hits, ss, se, owners)
}

// ownerWithin reports whether a hit of one of owners starts in [from, to).
func ownerWithin(hits []hit, from, to int, owners []int) bool {
	for _, o := range hits {
		if int(o.start) >= from && int(o.start) < to && slices.Contains(owners, int(o.owner)) {
			return true
		}
	}
	return false
}

// preceded reports whether one of cues ends shortly before h in the same
// clause: a negator before "保证", a "please" before "send me".
func (a *Assessor) preceded(d *doc, h hit, cues []hit) bool {
	if len(cues) == 0 {
		return false
	}
	cs, _ := d.clauseBounds(int(h.start))
	ws := windowStart(d.text, cs, int(h.start), a.s.Reply.NegWindowZH, a.s.Reply.NegWindowEN)
	for _, c := range cues {
		if int(c.start) >= ws && c.end <= h.start && !copulaBetween(d.text[c.end:h.start]) {
			return true
		}
	}
	return false
}

// copulaBetween reports whether English words between a negator and a
// match hold a copula that opens a new predicate: in "what you call not
// charging is technically…" the "not" stays with "charging".
func copulaBetween(t string) bool {
	if t == "" || t[0] >= 0x80 {
		return false
	}
	for _, w := range []string{" is ", " are ", " was ", " were "} {
		if strings.Contains(t, w) {
			return true
		}
	}
	return false
}

// windowStart walks back from pos over at most zh Chinese characters or en
// English words, never past from.
func windowStart(text string, from, pos, zh, en int) int {
	i := pos
	runes, words := 0, 0
	inWord := false
	for i > from {
		r, size := utf8.DecodeLastRuneInString(text[:i])
		if r < 0x80 && isAlnumByte(byte(r)) || r == '\'' {
			if !inWord {
				words++
				inWord = true
				if words > en {
					break
				}
			}
		} else {
			inWord = false
			if r >= 0x80 {
				runes++
				if runes > zh {
					break
				}
			}
		}
		i -= size
	}
	return i
}

func isClauseEnd(text string, i int) bool {
	return isSentenceEnd(text, i) || text[i] == ',' || text[i] == ':'
}

// doc is a folded reply with its sentence and clause terminators found
// once; lookups are binary searches over a handful of positions.
type doc struct {
	text       string
	sentEnds   []int32 // indexes of sentence terminators, ascending
	clauseEnds []int32 // indexes of clause or sentence terminators, ascending
}

func newDoc(text string) *doc {
	d := &doc{text: text}
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '.', '!', '?', '\n', ';', '-':
			if isSentenceEnd(text, i) {
				d.sentEnds = append(d.sentEnds, int32(i))
				d.clauseEnds = append(d.clauseEnds, int32(i))
			}
		case ',', ':':
			d.clauseEnds = append(d.clauseEnds, int32(i))
		}
	}
	return d
}

// next returns the first terminator at or after i in ends, or len(text).
func (d *doc) next(ends []int32, i int) int {
	lo, _ := slices.BinarySearch(ends, int32(i))
	if lo < len(ends) {
		return int(ends[lo])
	}
	return len(d.text)
}

// prev returns one past the last terminator before i, or 0.
func (d *doc) prev(ends []int32, i int) int {
	lo, _ := slices.BinarySearch(ends, int32(i))
	if lo > 0 {
		return int(ends[lo-1]) + 1
	}
	return 0
}

// sentenceEnd is the index of the terminator of i's sentence (or len).
func (d *doc) sentenceEnd(i int) int { return d.next(d.sentEnds, i) }

// clauseEnd returns the index of the clause's terminator (or len(text)).
func (d *doc) clauseEnd(i int) int { return d.next(d.clauseEnds, min(i, len(d.text))) }

func (d *doc) clauseBounds(i int) (int, int) {
	i = min(i, len(d.text))
	return d.prev(d.clauseEnds, i), d.next(d.clauseEnds, i)
}

// sentenceBounds returns the sentence around i, terminator included.
func (d *doc) sentenceBounds(i int) (int, int) {
	i = min(i, len(d.text))
	e := d.next(d.sentEnds, i)
	if e < len(d.text) {
		e++ // keep the terminator: "您看这样可以吗?"
	}
	return d.prev(d.sentEnds, i), e
}

// isQuestion reports whether clause [s, e) asks something: it ends with "?"
// or, in Chinese, with a question particle.
func (d *doc) isQuestion(s, e int) bool {
	text := d.text
	if e < len(text) && text[e] == '?' {
		return true
	}
	t := strings.TrimRight(text[s:min(e, len(text))], " ")
	return strings.HasSuffix(t, "吗") || strings.HasSuffix(t, "么")
}

// evidenceSpan is the sentence around a match, or its clause when the
// sentence is long.
func (a *Assessor) evidenceSpan(d *doc, s, e int) span {
	ss, se := d.sentenceBounds(s)
	return a.shrink(d, ss, se, s, e)
}

func (a *Assessor) shrink(d *doc, ss, se, s, e int) span {
	text := d.text
	se = max(se, e)
	if se-ss > a.s.Reply.MaxEvidenceRunes && utf8.RuneCountInString(text[ss:se]) > a.s.Reply.MaxEvidenceRunes {
		cs, _ := d.clauseBounds(s)
		ce := d.clauseEnd(max(s, e-1))
		if ce < len(text) {
			ce++
		}
		ss, se = max(ss, cs), min(se, max(ce, e))
	}
	return a.trimSpan(d, ss, se)
}

func (a *Assessor) trimSpan(d *doc, s, e int) span {
	text := d.text
	for s < e && strings.IndexByte(" ,.;:!?\n", text[s]) >= 0 {
		s++
	}
	for e > s && strings.IndexByte(" ,;:\n", text[e-1]) >= 0 {
		e--
	}
	return span{int32(s), int32(e)}
}

// echoes reports whether a short opening question repeats the customer:
// the Chinese characters all appear in the message, or an English word of
// four letters or more does ("Ripping you off?" after "You're ripping me off").
func echoes(echo, customer string) bool {
	if echo == "" {
		return false
	}
	if echo[0] >= 0x80 {
		for _, r := range echo {
			if !strings.ContainsRune(customer, r) {
				return false
			}
		}
		return true
	}
	for w := range strings.FieldsSeq(echo) {
		if len(w) >= 4 && strings.Contains(customer, w) {
			return true
		}
	}
	return false
}

// quoteSpans finds text inside "…", 「…」 and 『…』.
func quoteSpans(text string) []quote {
	var out []quote
	open := -1
	for i := 0; i < len(text); i++ {
		if text[i] == '"' {
			if open < 0 {
				open = i + 1
			} else {
				out = append(out, quote{span: span{int32(open), int32(i)}})
				open = -1
			}
		}
	}
	for _, pair := range [][2]string{{"「", "」"}, {"『", "』"}} {
		from := 0
		for {
			i := strings.Index(text[from:], pair[0])
			if i < 0 {
				break
			}
			i += from + len(pair[0])
			j := strings.Index(text[i:], pair[1])
			if j < 0 {
				break
			}
			out = append(out, quote{span: span{int32(i), int32(i + j)}})
			from = i + j
		}
	}
	return out
}

// overlaps reports whether quoted text q comes from the customer's message:
// as a substring, or sharing most of its character bigrams.
func overlaps(q, customer string) bool {
	if strings.Contains(customer, q) {
		return true
	}
	qb := bigrams(q)
	if len(qb) == 0 {
		return false
	}
	cb := bigrams(customer)
	n := 0
	for b := range qb {
		if cb[b] {
			n++
		}
	}
	return float64(n)/float64(len(qb)) >= 0.6
}

func bigrams(s string) map[[2]rune]bool {
	m := map[[2]rune]bool{}
	var prev rune = -1
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsPunct(r) {
			prev = -1
			continue
		}
		if prev >= 0 {
			m[[2]rune{prev, r}] = true
		}
		prev = r
	}
	return m
}

// detectLang says zh when Chinese characters carry the reply (one character
// counts about as much as a short English word), en otherwise.
func detectLang(text string, fallback simulator.Lang) simulator.Lang {
	// Byte counting is enough: the text is folded, so letters are a–z, and
	// CJK ideographs are the three-byte runes led by 0xE3–0xE9.
	han, letters := 0, 0
	for i := 0; i < len(text); i++ {
		switch b := text[i]; {
		case b >= 'a' && b <= 'z':
			letters++
		case b >= 0xE3 && b <= 0xE9:
			han++
		}
	}
	switch {
	case han == 0 && letters == 0:
		if fallback.Valid() {
			return fallback
		}
		return simulator.LangEN
	case han*4 >= letters:
		return simulator.LangZH
	}
	return simulator.LangEN
}

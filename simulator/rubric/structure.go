package rubric

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// structureSpec is one structural rule from rubric.yaml `structures`: a
// shape of clause (who is the subject, what follows it, what it contains,
// whether it asks) rather than a listed phrase, so that wording nobody has
// listed yet is still read. See the comment above `structures` in
// rubric.yaml for the fields.
type structureSpec struct {
	Name  string   `yaml:"name"`
	Code  string   `yaml:"code"`
	Scope string   `yaml:"scope"`
	Lead  []string `yaml:"lead"`
	Start []string `yaml:"start"`
	Skip  []string `yaml:"skip"`
	Then  []string `yaml:"then"`
	Alone bool     `yaml:"alone"`
	// Ends: the clause closes on one of these (after trailing particles
	// from clause_trim), e.g. the potential complement "不了" of 延不了/寄不了,
	// whatever verb comes first; EndsNot are closings that only look alike
	// (受不了, 免不了). MaxRunes bounds the clause's length (0: any).
	Ends     []string `yaml:"ends"`
	EndsNot  []string `yaml:"ends_not"`
	MaxRunes int      `yaml:"max_runes"`
	// Repeats: the scope holds one word said this many times in a row
	// ("催催催", "Nag, nag, nag", "fine fine fine"): mock repetition.
	Repeats  int        `yaml:"repeats"`
	All      [][]string `yaml:"all"`
	None     []string   `yaml:"none"`
	Question string     `yaml:"question"`
	// QuestionTags ("ok", "got it") end an order without asking anything.
	QuestionTags []string `yaml:"question_tags"`
	Negatable    bool     `yaml:"negatable"`
	Unless       []string `yaml:"unless"`
	UnlessWords  []string `yaml:"unless_words"`
}

// structure is a compiled structureSpec: every word folded like the reply.
type structure struct {
	code        int
	sentence    bool
	lead        []string
	start       []string
	skip        []string
	then        []string
	alone       bool
	ends        []string
	endsNot     []string
	trim        []string // clause_trim, folded: particles an ending may carry
	maxRunes    int
	repeats     int
	all         []int32 // owner id of each group's words in the matcher
	none        int32   // owner id of the none words, or -1
	question    int8    // 0 either, 1 must ask, -1 must not ask
	tags        []string
	negatable   bool
	unless      []int
	unlessWords int32 // owner id of the unless_words, or -1
	// turned is the owner id of the _turned marker ("sorry, but…"), or -1;
	// soft lists the unless codes a turn overrides (see readStructures).
	turned int
	soft   []bool
}

func (v *validator) checkStructures(s *spec, known map[string]bool) {
	for i, st := range s.Structures {
		idx := []string{"structures", st.Name}
		line := v.itemLine("structures", i)
		fail := func(msg, fix string, path ...string) {
			v.errs = append(v.errs, &ValidationError{File: v.file, Line: line, Field: strings.Join(path, "."), Msg: msg, Fix: fix})
		}
		if st.Name == "" {
			fail("structure without a name", "give every structure a short name (it appears in errors)", "structures")
		}
		if !containsCode(negativeCodes, st.Code) && !containsCode(positiveCodes, st.Code) {
			fail("unknown code "+st.Code, "name a RUBRIC.md code", append(idx, "code")...)
		}
		switch st.Scope {
		case "", "clause", "sentence":
		default:
			fail("scope "+st.Scope+" is not clause or sentence", "use scope: clause or scope: sentence", append(idx, "scope")...)
		}
		switch st.Question {
		case "", "yes", "no":
		default:
			fail("question "+st.Question+" is not yes or no", "use question: yes, question: no, or leave it out", append(idx, "question")...)
		}
		if len(st.Start) == 0 && len(st.All) == 0 && len(st.Ends) == 0 && st.Repeats == 0 {
			fail("structure matches every clause", "give it a start, all or ends list", idx...)
		}
		if len(st.EndsNot) > 0 && len(st.Ends) == 0 {
			fail("ends_not without ends", "ends_not lists exceptions to ends; add ends", append(idx, "ends_not")...)
		}
		if st.Repeats == 1 || st.Repeats < 0 {
			fail("repeats must be 2 or more", "use repeats: 3 for a word said three times in a row, or leave it out", append(idx, "repeats")...)
		}
		if st.MaxRunes < 0 {
			fail("max_runes is negative", "use 0 (no limit) or a positive length", append(idx, "max_runes")...)
		}
		if (len(st.Then) > 0 || st.Alone) && len(st.Start) == 0 {
			fail("then or alone without start", "then and alone describe what follows a start word; add start", append(idx, "then")...)
		}
		for _, u := range st.Unless {
			if !known[u] {
				fail("unknown code or marker "+u, "name a RUBRIC code or a marker defined under markers", append(idx, "unless")...)
			}
		}
		lists := [][]string{st.Lead, st.Start, st.Skip, st.Then, st.None, st.UnlessWords, st.Ends, st.EndsNot}
		lists = append(lists, st.All...)
		for _, l := range lists {
			for _, w := range l {
				if strings.TrimSpace(w) == "" {
					fail("empty word", "remove the empty entry", idx...)
				}
			}
		}
		for _, g := range st.All {
			if len(g) == 0 {
				fail("empty group in all", "remove it or list its words", append(idx, "all")...)
			}
		}
	}
}

// itemLine is the line of the i-th entry of the top-level list key.
func (v *validator) itemLine(key string, i int) int {
	n := v.root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return 1
	}
	for j := 0; j+1 < len(n.Content); j += 2 {
		if n.Content[j].Value == key {
			if seq := n.Content[j+1]; seq.Kind == yaml.SequenceNode && i < len(seq.Content) {
				return seq.Content[i].Line
			}
			return n.Content[j].Line
		}
	}
	return 1
}

func containsCode(list []string, c string) bool {
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}

// compileStructures folds the prefix lists and registers every contained
// word with the lexicon matcher under an owner of its own (group, none,
// unless_words), so the one scan of the reply finds them all; a rule then
// costs a few comparisons of hit positions per clause.
func (a *Assessor) compileStructures(s *spec, add func(string) int) {
	fold := func(ws []string) []string {
		out := make([]string, 0, len(ws))
		for _, w := range ws {
			out = append(out, strings.TrimSpace(a.z.normalizePattern(w)))
		}
		return out
	}
	gz, ge := s.Reply.GapZH, s.Reply.GapEN
	words := func(name string, ws []string) int32 {
		if len(ws) == 0 {
			return -1
		}
		id := add(name)
		for _, w := range ws {
			a.m.add(&a.z, w, int32(id), gz, ge)
		}
		return int32(id)
	}
	a.structBase = len(a.names)
	for i, st := range s.Structures {
		c := structure{
			code:        a.ids[st.Code],
			sentence:    st.Scope == "sentence",
			lead:        fold(st.Lead),
			start:       fold(st.Start),
			skip:        fold(st.Skip),
			then:        fold(st.Then),
			alone:       st.Alone,
			ends:        fold(st.Ends),
			endsNot:     fold(st.EndsNot),
			maxRunes:    st.MaxRunes,
			repeats:     st.Repeats,
			tags:        fold(st.QuestionTags),
			none:        words(fmt.Sprintf("_structure%d_none", i), st.None),
			negatable:   st.Negatable,
			unlessWords: words(fmt.Sprintf("_structure%d_unless", i), st.UnlessWords),
		}
		if len(c.ends) > 0 {
			c.trim = fold(s.ClauseTrim)
		}
		for g, ws := range st.All {
			c.all = append(c.all, words(fmt.Sprintf("_structure%d_all%d", i, g), ws))
		}
		c.turned = -1
		if id, ok := a.ids["_turned"]; ok {
			c.turned = id
		}
		for _, u := range st.Unless {
			c.unless = append(c.unless, a.ids[u])
			sp, ok := s.Signals[u]
			c.soft = append(c.soft, ok && sp.Polarity == "+" && sp.Step == "understand")
		}
		switch st.Question {
		case "yes":
			c.question = 1
		case "no":
			c.question = -1
		}
		a.structs = append(a.structs, c)
	}
}

// readStructures marks the codes of the structural rules. It returns the
// start of every sentence a rule marked, so a question there is not also
// counted as a plain `ask`.
func (a *Assessor) readStructures(r *reading, d *doc, negs, words []hit) []int {
	if len(a.structs) == 0 {
		return nil
	}
	text := d.text
	var marked []int
	for i := range a.structs {
		st := &a.structs[i]
		if r.has[st.code] || st.blockedByReply(r, words) || !st.possible(text, words) {
			continue
		}
		for s := 0; s < len(text); {
			var cs, ce int
			if st.sentence {
				cs, ce = d.sentenceBounds(s)
			} else {
				cs, ce = d.clauseBounds(s)
			}
			s = max(ce+1, s+1)
			if r.inQuote(int32(cs)) || !st.matches(text[cs:min(ce, len(text))], cs, ce, words) {
				continue
			}
			if st.question != 0 {
				ss, se := d.sentenceBounds(cs)
				q := d.isQuestion(cs, ce) || strings.Contains(text[ss:se], "?")
				if q && st.onlyTag(text[ss:se]) {
					q = false
				}
				if q != (st.question > 0) {
					continue
				}
			}
			if st.negatable && hasHitIn(negs, cs, ce) {
				continue
			}
			r.mark(st.code, a.trimSpan(d, cs, min(ce+1, len(text))))
			ss, _ := d.sentenceBounds(cs)
			marked = append(marked, ss)
			break
		}
	}
	return marked
}

// possible is a cheap test on the whole reply before any clause is
// examined: every all group has a word somewhere, an ending occurs
// somewhere, a repetition occurs somewhere. Most rules fail it at once.
func (st *structure) possible(text string, words []hit) bool {
	for _, g := range st.all {
		found := false
		for _, h := range words {
			if h.owner == g {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if len(st.ends) > 0 {
		found := false
		for _, w := range st.ends {
			if strings.Contains(text, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return st.repeats == 0 || repeated(text, st.repeats)
}

// onlyTag reports whether sentence t asks only by a trailing tag: "You
// wait for the email, ok?" orders, it does not ask.
func (st *structure) onlyTag(t string) bool {
	t = strings.TrimRight(t, " ?")
	if strings.Count(t, "?") > 0 {
		return false
	}
	i := strings.LastIndexByte(t, ',')
	if i < 0 {
		return false
	}
	tag := strings.TrimSpace(t[i+1:])
	for _, w := range st.tags {
		if tag == w {
			return true
		}
	}
	return false
}

// blockedByReply reports whether a code or word anywhere in the reply
// cancels the rule. An apology or acknowledgement turned by "but" ("抱歉,不过
// 我们系统不会重复扣款", "Sorry, but our system doesn't double charge")
// softens nothing that follows, so the understand-step codes do not cancel
// then.
func (st *structure) blockedByReply(r *reading, words []hit) bool {
	turned := st.turned >= 0 && r.has[st.turned]
	for i, u := range st.unless {
		if r.has[u] && !(turned && st.soft[i]) {
			return true
		}
	}
	if st.unlessWords >= 0 {
		for _, h := range words {
			if h.owner == st.unlessWords {
				return true
			}
		}
	}
	return false
}

// hitIn reports whether a word of owner lies inside [s, e).
func hitIn(words []hit, owner int32, s, e int) bool {
	for _, h := range words {
		if h.owner == owner && int(h.start) >= s && int(h.end) <= e {
			return true
		}
	}
	return false
}

func hasHitIn(hits []hit, s, e int) bool {
	for _, h := range hits {
		if int(h.start) >= s && int(h.start) < e {
			return true
		}
	}
	return false
}

// matches tests one clause or sentence, t = text[cs:ce], against the
// rule's shape; words are the reply's hits of structure words.
func (st *structure) matches(t string, cs, ce int, words []hit) bool {
	if st.maxRunes > 0 && utf8.RuneCountInString(strings.TrimSpace(t)) > st.maxRunes {
		return false
	}
	if len(st.ends) > 0 && !st.endsWith(t) {
		return false
	}
	if st.repeats > 0 && !repeated(t, st.repeats) {
		return false
	}
	if len(st.start) > 0 {
		t = strings.TrimLeft(t, " \n,")
		for range 2 {
			rest, ok := cutPrefixWord(t, st.lead)
			if !ok {
				break
			}
			t = strings.TrimLeft(rest, " ,")
		}
		rest, ok := cutPrefixWord(t, st.start)
		if !ok {
			return false
		}
		rest = strings.TrimLeft(rest, " ")
		for range 3 {
			r2, ok := cutPrefixWord(rest, st.skip)
			if !ok {
				break
			}
			rest = strings.TrimLeft(r2, " ")
		}
		if len(st.then) > 0 {
			if _, ok := cutPrefixWord(rest, st.then); !ok {
				return false
			}
		}
		if st.alone && strings.Trim(rest, " .!~") != "" {
			return false
		}
	}
	for _, g := range st.all {
		if !hitIn(words, g, cs, ce) {
			return false
		}
	}
	return st.none < 0 || !hitIn(words, st.none, cs, ce)
}

// repeated reports whether t holds a Chinese character n times in a row
// ("催催催") or an English word n times in a row across spaces and commas
// ("nag, nag, nag"). Digits never count: "111" is a number.
func repeated(t string, n int) bool {
	var prev rune = -1
	run := 0
	for _, r := range t {
		if r >= hanLo && r <= hanHi && r == prev {
			run++
			if run >= n {
				return true
			}
			continue
		}
		prev, run = r, 1
	}
	var last string
	run = 0
	for w := range strings.FieldsFuncSeq(t, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r == '\'') }) {
		if len(w) >= 2 && w == last {
			run++
			if run >= n {
				return true
			}
			continue
		}
		last, run = w, 1
	}
	return false
}

// endsWith reports whether clause t closes on one of the rule's endings,
// also once trailing particles are cut ("改不了哦", "延不了啦").
func (st *structure) endsWith(t string) bool {
	t = strings.TrimRight(t, " .!~")
	for range 3 {
		for _, w := range st.endsNot {
			if strings.HasSuffix(t, w) {
				return false
			}
		}
		for _, w := range st.ends {
			if strings.HasSuffix(t, w) {
				return true
			}
		}
		cut := false
		for _, p := range st.trim {
			if len(t) > len(p) && strings.HasSuffix(t, p) {
				t = strings.TrimRight(t[:len(t)-len(p)], " .!~")
				cut = true
				break
			}
		}
		if !cut {
			return false
		}
	}
	return false
}

// cutPrefixWord removes the first of words that opens t; an English word
// must end at a word boundary ("you" opens "you just", not "you'll").
func cutPrefixWord(t string, words []string) (string, bool) {
	for _, w := range words {
		if !strings.HasPrefix(t, w) {
			continue
		}
		if isWordByte(w[len(w)-1]) && len(t) > len(w) && (isWordByte(t[len(w)]) || t[len(w)] == '\'') {
			continue
		}
		return t[len(w):], true
	}
	return t, false
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b >= 'A' && b <= 'Z'
}

package rubric

import (
	"slices"
	"strings"

	"github.com/sparring-gym/sparring/simulator"
)

// Assessor implements simulator.Assessor. It is immutable after New and safe
// for concurrent use.
type Assessor struct {
	s     *spec
	z     normalizer
	m     *matcher
	cache *foldCache // folded customer lines and scenario patterns

	names []string       // owner id → code or marker name
	ids   map[string]int // name → owner id
	sigs  []*signal      // by owner id; nil for markers

	order     []int // signal ids in evaluation order
	questions int   // owner id of the question code
	qYield    []bool
	neg       int // owner ids of the negation and quotation markers
	negExempt int
	say       int
	weights   map[simulator.Step]float64
	ids2      knownIDs // ids of the codes and markers the Go code names
	codeIDs   []int    // Codes() as owner ids
	notNames  map[string]bool
	clauses   map[string]int // folded whole clause → owner id
	impZH     []string
	impEN     map[string]bool
	impLead   map[string]bool
	impExempt []string
	trim      []string
	sayNot    []string
	howCues   []string
	sayAfter  []string
	structs   []structure
	// structBase: owner ids from here on are structure words (structure.go).
	structBase int
}

type signal struct {
	code          string
	positive      bool
	step          simulator.Step
	deducts       simulator.Step
	points        float64
	replyCap      int
	negatable     bool
	notInQuestion bool
	requires      []int
	requiresAny   []int
	unless        []int
	unlessAll     [][]int
	yieldsTo      []int
	clauseYields  []int
	softenedBy    int
}

func compile(s *spec) (*Assessor, error) {
	a := &Assessor{s: s, z: normalizer{t2s: buildT2S()}, m: newMatcher(), ids: map[string]int{}, cache: newFoldCache(foldCacheLimit)}
	add := func(name string) int {
		if id, ok := a.ids[name]; ok {
			return id
		}
		a.ids[name] = len(a.names)
		a.names = append(a.names, name)
		a.sigs = append(a.sigs, nil)
		return len(a.names) - 1
	}
	for _, c := range Codes() {
		add(c)
	}
	markers := make([]string, 0, len(s.Markers))
	for name := range s.Markers {
		markers = append(markers, name)
	}
	slices.Sort(markers)
	for _, name := range markers {
		add(name)
	}
	a.neg = add("_neg")
	a.negExempt = add("_neg_exempt")
	a.say = add("_say")

	ids := func(names []string) []int {
		out := make([]int, 0, len(names))
		for _, n := range names {
			out = append(out, a.ids[n])
		}
		return out
	}
	gz, ge := s.Reply.GapZH, s.Reply.GapEN
	lex := func(owner int, zh, en []string) {
		for _, e := range zh {
			a.m.add(&a.z, e, int32(owner), gz, ge)
		}
		for _, e := range en {
			a.m.add(&a.z, e, int32(owner), gz, ge)
		}
	}
	for _, c := range Codes() {
		sp := s.Signals[c]
		id := a.ids[c]
		sg := &signal{
			code:          c,
			positive:      sp.Polarity == "+",
			step:          simulator.Step(sp.Step),
			deducts:       simulator.Step(sp.Deducts),
			points:        sp.Points,
			replyCap:      100,
			negatable:     sp.Negatable == nil || *sp.Negatable,
			notInQuestion: sp.NotInQuestion,
			requires:      ids(sp.Requires),
			requiresAny:   ids(sp.RequiresAny),
			unless:        ids(sp.Unless),
			yieldsTo:      ids(sp.YieldsTo),
			clauseYields:  ids(sp.ClauseYieldsTo),
			softenedBy:    -1,
		}
		if sp.ReplyCap != nil {
			sg.replyCap = *sp.ReplyCap
		}
		if sp.SoftenedBy != "" {
			sg.softenedBy = a.ids[sp.SoftenedBy]
		}
		for _, group := range sp.UnlessAll {
			sg.unlessAll = append(sg.unlessAll, ids(group))
		}
		a.sigs[id] = sg
		a.order = append(a.order, id)
		lex(id, sp.ZH, sp.EN)
	}
	for _, name := range markers {
		lex(a.ids[name], s.Markers[name].ZH, s.Markers[name].EN)
	}
	lex(a.neg, s.Negation.ZH, s.Negation.EN)
	lex(a.negExempt, s.Negation.ZHExempt, s.Negation.ENExempt)
	lex(a.say, s.Quotes.SayZH, s.Quotes.SayEN)
	a.compileStructures(s, add) // registers words: before index
	a.m.index()

	a.questions = a.ids[s.Questions.Code]
	a.qYield = make([]bool, len(a.names))
	for _, y := range ids(s.Questions.YieldsTo) {
		a.qYield[y] = true
	}
	a.notNames = map[string]bool{}
	for _, w := range s.Names.NotNames {
		a.notNames[strings.ToLower(w)] = true
	}
	a.clauses = map[string]int{}
	for code, list := range s.Clauses {
		for _, w := range list {
			a.clauses[strings.TrimSpace(a.z.normalizePattern(w))] = a.ids[code]
		}
	}
	a.impZH = slices.Clone(s.Imperatives.ZH)
	a.impEN = map[string]bool{}
	for _, w := range s.Imperatives.EN {
		a.impEN[a.z.normalizePattern(w)] = true // "call" folds to "cal"
	}
	a.impLead = map[string]bool{}
	for _, w := range s.Imperatives.Lead {
		a.impLead[a.z.normalizePattern(w)] = true
	}
	for _, w := range s.Imperatives.Exempt {
		a.impExempt = append(a.impExempt, a.z.normalizePattern(w))
	}
	for _, w := range s.Imperatives.AfterHow {
		a.howCues = append(a.howCues, a.z.normalizePattern(w))
	}
	for _, w := range s.Quotes.SayNotAfter {
		a.sayAfter = append(a.sayAfter, a.z.normalizePattern(w))
	}
	for _, w := range s.Quotes.SayNot {
		a.sayNot = append(a.sayNot, a.z.normalizePattern(w))
	}
	for _, w := range s.ClauseTrim {
		a.trim = append(a.trim, a.z.normalizePattern(w))
	}
	for i, w := range a.impZH {
		a.impZH[i] = a.z.normalizePattern(w)
	}
	a.ids2.kAngry = a.ids["_angry"]
	a.ids2.kCompensation = a.ids["_compensation"]
	a.ids2.kCorrection = a.ids["_correction"]
	a.ids2.kHedgeExempt = a.ids["_hedge_exempt"]
	a.ids2.kInfoRequest = a.ids["_info_request"]
	a.ids2.kNameIntro = a.ids["_name_intro"]
	a.ids2.kNameOutro = a.ids["_name_outro"]
	a.ids2.kRefund = a.ids["_refund"]
	a.ids2.kRefusal = a.ids["_refusal"]
	a.ids2.kSoftener = a.ids["_softener"]
	a.ids2.kTheirWish = a.ids["_their_wish"]
	a.ids2.kAcknowledgeFeeling = a.ids["acknowledge_feeling"]
	a.ids2.kApologize = a.ids["apologize"]
	a.ids2.kArgue = a.ids["argue"]
	a.ids2.kCheckAgreement = a.ids["check_agreement"]
	a.ids2.kCommand = a.ids["command"]
	a.ids2.kEscalateCleanly = a.ids["escalate_cleanly"]
	a.ids2.kIdentify = a.ids["identify"]
	a.ids2.kIrritation = a.ids["irritation"]
	a.ids2.kOverPromise = a.ids["over_promise"]
	a.ids2.kOwn = a.ids["own"]
	a.ids2.kProposePlan = a.ids["propose_plan"]
	a.ids2.kRestateFact = a.ids["restate_fact"]
	a.ids2.kRestateFeeling = a.ids["restate_feeling"]
	a.ids2.kUseContext = a.ids["use_context"]
	for _, code := range Codes() {
		a.codeIDs = append(a.codeIDs, a.ids[code])
	}
	a.weights = map[simulator.Step]float64{}
	for k, v := range s.Weights {
		a.weights[simulator.Step(k)] = v
	}
	return a, nil
}

// knownIDs caches owner ids so the per-reply path does no map lookups.
type knownIDs struct {
	kAngry              int
	kCompensation       int
	kCorrection         int
	kHedgeExempt        int
	kInfoRequest        int
	kNameIntro          int
	kNameOutro          int
	kRefund             int
	kRefusal            int
	kSoftener           int
	kTheirWish          int
	kAcknowledgeFeeling int
	kApologize          int
	kArgue              int
	kCheckAgreement     int
	kCommand            int
	kEscalateCleanly    int
	kIdentify           int
	kIrritation         int
	kOverPromise        int
	kOwn                int
	kProposePlan        int
	kRestateFact        int
	kRestateFeeling     int
	kUseContext         int
}

// id returns the owner id of a code or marker.
func (a *Assessor) id(name string) int { return a.ids[name] }

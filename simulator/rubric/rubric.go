// Package rubric is Sparring's service-cycle assessor: it reads a trainee
// reply in Chinese (simplified or traditional) or English, finds the RUBRIC
// signals with the reply's own words as evidence, credits the five steps,
// scores the reply and the whole session, and gives one coaching hint.
//
// The rubric is data (rubric.yaml, embedded): weights, points, caps, the
// overlay and the bilingual lexicons. New compiles it once; Assess then does
// no allocation-heavy work beyond one pass over the folded reply, so one
// Assessor serves every session concurrently.
package rubric

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sparring-gym/sparring/simulator"
)

//go:embed rubric.yaml
var defaultRubric []byte

// DefaultName is the name the embedded rubric reports in errors.
const DefaultName = "rubric.yaml"

// Codes lists every RUBRIC.md signal code the assessor can emit, positive
// first, in cycle order.
var positiveCodes = []string{
	"greet", "identify", "offer_help", "use_context",
	"apologize", "acknowledge_feeling", "ask", "restate_fact", "restate_feeling",
	"inform", "options", "recommend", "set_expectation", "own",
	"propose_plan", "check_agreement", "refuse_with_alternative", "escalate_cleanly",
	"confirm_satisfaction", "offer_more", "future_contact", "appreciate",
}

var negativeCodes = []string{
	"command", "blame", "over_promise", "flat_unknown", "flat_refusal",
	"show_off", "minimize", "calm_down", "argue", "irritation", "insult",
}

// Codes returns the RUBRIC.md codes, positive then negative.
func Codes() []string { return slices.Concat(positiveCodes, negativeCodes) }

// PositiveCodes and NegativeCodes return the codes of one polarity.
func PositiveCodes() []string { return slices.Clone(positiveCodes) }
func NegativeCodes() []string { return slices.Clone(negativeCodes) }

type bilingual struct {
	ZH string `yaml:"zh"`
	EN string `yaml:"en"`
}

func (b bilingual) in(l simulator.Lang) string {
	if l == simulator.LangZH {
		return b.ZH
	}
	return b.EN
}

type lexicon struct {
	ZH []string `yaml:"zh"`
	EN []string `yaml:"en"`
}

type signalSpec struct {
	Polarity      string     `yaml:"polarity"`
	Step          string     `yaml:"step"`
	Points        float64    `yaml:"points"`
	Deducts       string     `yaml:"deducts"`
	ReplyCap      *int       `yaml:"reply_cap"`
	Negatable     *bool      `yaml:"negatable"`
	NotInQuestion bool       `yaml:"not_in_question"`
	Requires      []string   `yaml:"requires"`
	RequiresAny   []string   `yaml:"requires_any"`
	Unless        []string   `yaml:"unless"`
	UnlessAll     [][]string `yaml:"unless_all"`
	YieldsTo      []string   `yaml:"yields_to"`
	// ClauseYieldsTo is yields_to within the match's clause only.
	ClauseYieldsTo []string `yaml:"clause_yields_to"`
	SoftenedBy     string   `yaml:"softened_by"`
	ZH             []string `yaml:"zh"`
	EN             []string `yaml:"en"`
}

type markerSpec struct {
	ZH []string `yaml:"zh"`
	EN []string `yaml:"en"`
}

type spec struct {
	Version int                `yaml:"version"`
	Weights map[string]float64 `yaml:"weights"`
	Reply   struct {
		Saturation       float64 `yaml:"saturation"`
		GoodMinScore     int     `yaml:"good_min_score"`
		MaxEvidenceRunes int     `yaml:"max_evidence_runes"`
		GapZH            int     `yaml:"gap_zh"`
		GapEN            int     `yaml:"gap_en"`
		NegWindowZH      int     `yaml:"negation_window_zh"`
		NegWindowEN      int     `yaml:"negation_window_en"`
	} `yaml:"reply"`
	Boilerplate struct {
		MinRunes   int     `yaml:"min_runes"`
		Similarity float64 `yaml:"similarity"`
		Decay      float64 `yaml:"decay"`
	} `yaml:"boilerplate"`
	Report struct {
		FullPoints  map[string]float64 `yaml:"full_points"`
		MaxEvidence int                `yaml:"max_evidence"`
		AdviceBelow int                `yaml:"advice_below"`
	} `yaml:"report"`
	HardFail struct {
		Cap           int      `yaml:"cap"`
		AngryEndAnger int      `yaml:"angry_end_anger"`
		NextStep      []string `yaml:"next_step"`
	} `yaml:"hard_fail"`
	Overlay struct {
		Tags      []string `yaml:"tags"`
		Min       int      `yaml:"min"`
		Max       int      `yaml:"max"`
		Composure struct {
			OK     int      `yaml:"ok"`
			Broken int      `yaml:"broken"`
			Codes  []string `yaml:"codes"`
		} `yaml:"composure"`
		PromptApology struct {
			OK          int `yaml:"ok"`
			Missing     int `yaml:"missing"`
			WithinTurns int `yaml:"within_turns"`
		} `yaml:"prompt_apology"`
		Ownership struct {
			OK      int `yaml:"ok"`
			Missing int `yaml:"missing"`
		} `yaml:"ownership"`
		Refusal struct {
			Good int `yaml:"good"`
			Flat int `yaml:"flat"`
		} `yaml:"refusal"`
		WithinPolicy struct {
			OK     int `yaml:"ok"`
			Broken int `yaml:"broken"`
		} `yaml:"within_policy"`
		AngerBelow struct {
			Threshold int `yaml:"threshold"`
			OK        int `yaml:"ok"`
			Missing   int `yaml:"missing"`
		} `yaml:"anger_below"`
	} `yaml:"overlay"`
	Timing struct {
		FirstReplyS  float64 `yaml:"first_reply_s"`
		LaterReplyS  float64 `yaml:"later_reply_s"`
		CoachFactor  float64 `yaml:"coach_factor"`
		ZeroAtFactor float64 `yaml:"zero_at_factor"`
		Unknown      int     `yaml:"unknown"`
	} `yaml:"timing"`
	Dimensions struct {
		Reliability dimSpec `yaml:"reliability"`
		Assurance   dimSpec `yaml:"assurance"`
		Tangibles   struct {
			Base        int `yaml:"base"`
			Shouting    int `yaml:"shouting"`
			EmojiSpam   int `yaml:"emoji_spam"`
			TextSpeak   int `yaml:"text_speak"`
			InformalYou int `yaml:"informal_you"`
			WallOfText  int `yaml:"wall_of_text"`
		} `yaml:"tangibles"`
		Empathy dimSpec `yaml:"empathy"`
	} `yaml:"dimensions"`
	Questions struct {
		Code     string   `yaml:"code"`
		YieldsTo []string `yaml:"yields_to"`
	} `yaml:"questions"`
	Clauses map[string][]string `yaml:"clauses"`
	// ClauseTrim lists trailing particles and tags ("耶", "啊", "sorry")
	// stripped from a clause before it is looked up in clauses.
	ClauseTrim  []string `yaml:"clause_trim"`
	Imperatives struct {
		ZH []string `yaml:"zh"`
		EN []string `yaml:"en"`
		// Lead words ("just", "now") may come before the verb; Exempt
		// openings ("go ahead", "hold on") are not orders.
		Lead   []string `yaml:"lead"`
		Exempt []string `yaml:"exempt"`
		// AfterHow: customer questions ("how do I…", "怎么…") after which
		// bare imperatives are the steps asked for, not orders.
		AfterHow []string `yaml:"after_how"`
	} `yaml:"imperatives"`
	Names struct {
		NotNames []string `yaml:"not_names"`
	} `yaml:"names"`
	Negation struct {
		ZH       []string `yaml:"zh"`
		ZHExempt []string `yaml:"zh_exempt"`
		EN       []string `yaml:"en"`
		ENExempt []string `yaml:"en_exempt"`
	} `yaml:"negation"`
	Quotes struct {
		SayZH  []string `yaml:"say_zh"`
		SayEN  []string `yaml:"say_en"`
		SayNot []string `yaml:"say_not"`
		// SayNotAfter: words right before a cue that make the agent the
		// speaker ("跟你说过" is "I told you", not "you said").
		SayNotAfter []string `yaml:"say_not_after"`
		MinRunes    int      `yaml:"min_runes"`
	} `yaml:"quotes"`
	Markers map[string]markerSpec `yaml:"markers"`
	// Structures are clause shapes read beside the lexicons (structure.go).
	Structures []structureSpec       `yaml:"structures"`
	Signals    map[string]signalSpec `yaml:"signals"`
	Hints      struct {
		Codes       map[string]bilingual `yaml:"codes"`
		Boilerplate bilingual            `yaml:"boilerplate"`
		AngryFirst  bilingual            `yaml:"angry_first"`
		Steps       map[string]bilingual `yaml:"steps"`
		WellDone    bilingual            `yaml:"well_done"`
	} `yaml:"hints"`
	Advice map[string]struct {
		Missing bilingual `yaml:"missing"`
		Good    bilingual `yaml:"good"`
	} `yaml:"advice"`
	HardFailReasons map[string]bilingual `yaml:"hard_fail_reasons"`
}

type dimSpec struct {
	Base  int            `yaml:"base"`
	Codes map[string]int `yaml:"codes"`
}

// ValidationError is one problem in a rubric file: where it is and how to fix it.
type ValidationError struct {
	File  string
	Line  int
	Field string
	Msg   string
	Fix   string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s (fix: %s)", e.File, e.Line, e.Field, e.Msg, e.Fix)
}

// New returns an Assessor built from the embedded default rubric.
func New() (*Assessor, error) {
	return parse(DefaultName, defaultRubric)
}

// Load returns an Assessor built from the rubric file name in fsys, e.g. a
// trainer's tuned copy of rubric.yaml.
func Load(fsys fs.FS, name string) (*Assessor, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("rubric: read %s: %w", name, err)
	}
	return parse(name, data)
}

// Parse builds an Assessor from rubric YAML; name is how errors refer to it.
func Parse(name string, data []byte) (*Assessor, error) { return parse(name, data) }

func parse(name string, data []byte) (*Assessor, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, err)
	}
	var s spec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, yamlError(name, err)
	}
	v := validator{file: name, root: &root}
	v.check(&s)
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	return compile(&s)
}

func yamlError(name string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		// yaml.v3 already puts "line N: field x not found in type ..." in each entry.
		errs := make([]error, 0, len(te.Errors))
		for _, e := range te.Errors {
			errs = append(errs, fmt.Errorf("%s: %s (fix: remove or rename the field; see the comments at the top of rubric.yaml)", name, e))
		}
		return errors.Join(errs...)
	}
	return fmt.Errorf("%s: %w (fix: correct the YAML syntax)", name, err)
}

type validator struct {
	file string
	root *yaml.Node
	errs []error
}

// line finds the line of a dotted path in the YAML tree, falling back to the
// nearest existing parent.
func (v *validator) line(path ...string) int {
	n := v.root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	best := 1
	for _, p := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			break
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == p {
				best = n.Content[i].Line
				next = n.Content[i+1]
				break
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return best
}

func (v *validator) fail(msg, fix string, path ...string) {
	v.errs = append(v.errs, &ValidationError{File: v.file, Line: v.line(path...), Field: strings.Join(path, "."), Msg: msg, Fix: fix})
}

func (v *validator) check(s *spec) {
	if s.Version != 1 {
		v.fail(fmt.Sprintf("version %d is not supported", s.Version), "set version: 1", "version")
	}
	sum := 0.0
	for _, st := range simulator.Steps {
		w, ok := s.Weights[string(st)]
		if !ok || w < 0 {
			v.fail("missing or negative weight for step "+string(st), "give every step a weight ≥ 0", "weights", string(st))
		}
		sum += w
		if s.Report.FullPoints[string(st)] <= 0 {
			v.fail("full points must be > 0", "set report.full_points."+string(st)+" to the points of a complete step", "report", "full_points", string(st))
		}
		if s.Hints.Steps[string(st)].ZH == "" || s.Hints.Steps[string(st)].EN == "" {
			v.fail("missing step hint", "add zh and en text", "hints", "steps", string(st))
		}
		if a := s.Advice[string(st)]; a.Missing.ZH == "" || a.Missing.EN == "" || a.Good.ZH == "" || a.Good.EN == "" {
			v.fail("missing advice", "add missing/good advice in zh and en", "advice", string(st))
		}
	}
	for k := range s.Weights {
		if !slices.Contains(simulator.Steps, simulator.Step(k)) {
			v.fail("unknown step "+k, "use receive, understand, help, agree or retain", "weights", k)
		}
	}
	if math.Abs(sum-1) > 0.001 {
		v.fail(fmt.Sprintf("weights sum to %.3f", sum), "make the five weights sum to 1", "weights")
	}
	if s.Reply.Saturation <= 0 {
		v.fail("saturation must be > 0", "set a positive number of points (e.g. 45)", "reply", "saturation")
	}
	if s.Reply.GoodMinScore < 0 || s.Reply.GoodMinScore > 100 {
		v.fail("good_min_score out of 0–100", "set a score between 0 and 100", "reply", "good_min_score")
	}
	if s.Reply.GapZH <= 0 || s.Reply.GapEN <= 0 || s.Reply.NegWindowZH <= 0 || s.Reply.NegWindowEN <= 0 || s.Reply.MaxEvidenceRunes <= 0 {
		v.fail("gaps, negation windows and max_evidence_runes must be > 0", "set positive sizes", "reply")
	}
	if s.Boilerplate.Decay <= 0 || s.Boilerplate.Decay > 1 || s.Boilerplate.Similarity <= 0 || s.Boilerplate.Similarity > 1 {
		v.fail("decay and similarity must be in (0, 1]", "e.g. decay: 0.5, similarity: 0.85", "boilerplate")
	}
	if s.HardFail.Cap < 0 || s.HardFail.Cap > 100 {
		v.fail("cap out of 0–100", "set the capped total, e.g. 40", "hard_fail", "cap")
	}
	if s.Overlay.Min > 0 || s.Overlay.Max < 0 {
		v.fail("overlay range must include 0", "e.g. min: -10, max: 5", "overlay")
	}
	if s.Timing.FirstReplyS <= 0 || s.Timing.LaterReplyS <= 0 || s.Timing.CoachFactor < 1 || s.Timing.ZeroAtFactor <= 1 {
		v.fail("timing limits must be positive, coach_factor ≥ 1, zero_at_factor > 1", "see GUIDE §2.3: 20 s first, 45 s later", "timing")
	}
	known := map[string]bool{}
	for _, c := range Codes() {
		known[c] = true
	}
	for name := range s.Markers {
		if !strings.HasPrefix(name, "_") {
			v.fail("marker names start with _", "rename to _"+name, "markers", name)
		}
		known[name] = true
	}
	for _, need := range []string{"_refusal", "_alternative", "_find_out", "_correction", "_refund", "_compensation", "_supervisor", "_hedge", "_hedge_exempt", "_handover", "_time", "_angry", "_softener", "_their_wish", "_info_request", "_name_intro", "_name_outro"} {
		if _, ok := s.Markers[need]; !ok {
			v.fail("missing marker "+need, "add it with zh and en lists", "markers")
		}
	}
	for _, c := range Codes() {
		sg, ok := s.Signals[c]
		if !ok {
			v.fail("missing signal "+c, "every RUBRIC.md code needs an entry", "signals")
			continue
		}
		pos := slices.Contains(positiveCodes, c)
		if pos && sg.Polarity != "+" || !pos && sg.Polarity != "-" {
			v.fail("wrong polarity for "+c, "RUBRIC.md fixes it: \"+\" for positive codes, \"-\" for negative", "signals", c, "polarity")
		}
		if pos && !slices.Contains(simulator.Steps, simulator.Step(sg.Step)) {
			v.fail("positive signal without a valid step", "set step to receive, understand, help, agree or retain per RUBRIC.md", "signals", c, "step")
		}
		if !pos && sg.Deducts != "" && !slices.Contains(simulator.Steps, simulator.Step(sg.Deducts)) {
			v.fail("deducts names no step", "use one of the five steps", "signals", c, "deducts")
		}
		if sg.Points <= 0 {
			v.fail("points must be > 0", "set the points this signal earns or costs", "signals", c, "points")
		}
		if !pos {
			if h := s.Hints.Codes[c]; h.ZH == "" || h.EN == "" {
				v.fail("negative signal without a hint", "add hints.codes."+c+" with zh and en", "hints", "codes")
			}
		}
		for _, ref := range slices.Concat(append([][]string{sg.Requires, sg.RequiresAny, sg.Unless, sg.YieldsTo, sg.ClauseYieldsTo}, sg.UnlessAll...)...) {
			if !known[ref] {
				v.fail("unknown code or marker "+ref, "name a RUBRIC code or a marker defined under markers", "signals", c)
			}
		}
		if sg.SoftenedBy != "" && !known[sg.SoftenedBy] {
			v.fail("unknown marker "+sg.SoftenedBy, "name a marker defined under markers", "signals", c, "softened_by")
		}
		v.checkLex(c, sg.ZH, sg.EN, "signals", c)
	}
	for name := range s.Signals {
		if !known[name] || strings.HasPrefix(name, "_") {
			v.fail("unknown signal "+name, "use a RUBRIC.md code (or define markers under markers)", "signals", name)
		}
	}
	for name, m := range s.Markers {
		v.checkLex(name, m.ZH, m.EN, "markers", name)
	}
	v.checkStructures(s, known)
	for code := range s.Clauses {
		if !slices.Contains(Codes(), code) {
			v.fail("unknown code "+code, "name a RUBRIC code", "clauses", code)
		}
	}
	for _, w := range slices.Concat(s.ClauseTrim, s.Imperatives.Lead, s.Imperatives.Exempt, s.Imperatives.AfterHow) {
		if strings.TrimSpace(w) == "" {
			v.fail("empty word", "remove the empty entry", "imperatives")
		}
	}
	for _, y := range s.Questions.YieldsTo {
		if !known[y] {
			v.fail("unknown code "+y, "name a RUBRIC code", "questions", "yields_to")
		}
	}
	if !slices.Contains(positiveCodes, s.Questions.Code) {
		v.fail("questions.code must be a positive code", "use ask", "questions", "code")
	}
	for _, k := range []string{"insult", "policy", "angry_end"} {
		if r := s.HardFailReasons[k]; r.ZH == "" || r.EN == "" {
			v.fail("missing hard-fail reason "+k, "add zh and en text", "hard_fail_reasons")
		}
	}
	for _, c := range slices.Concat(s.HardFail.NextStep, s.Overlay.Composure.Codes) {
		if !known[c] {
			v.fail("unknown code "+c, "name a RUBRIC code", "hard_fail")
		}
	}
}

func (v *validator) checkLex(name string, zh, en []string, path ...string) {
	for lang, list := range map[string][]string{"zh": zh, "en": en} {
		for _, p := range list {
			for part := range strings.SplitSeq(p, "…") {
				for alt := range strings.SplitSeq(part, "|") {
					a := strings.TrimSuffix(strings.TrimSpace(alt), "*")
					if a == "" {
						v.fail(fmt.Sprintf("empty part in lexicon entry %q", p), "remove the stray …, | or *", append(path, lang)...)
					} else if !startsWord(a) {
						v.fail(fmt.Sprintf("entry %q starts with punctuation", p), "start every part with a letter, digit or Chinese character", append(path, lang)...)
					}
				}
			}
		}
	}
	_ = name
}

func startsWord(s string) bool {
	for _, r := range s {
		return r >= 0x80 || isASCIIAlnum(r) || r >= 'A' && r <= 'Z'
	}
	return false
}

// DefaultYAML returns the embedded rubric, for trainers who want a copy to tune.
func DefaultYAML() ([]byte, error) { return slices.Clone(defaultRubric), nil }

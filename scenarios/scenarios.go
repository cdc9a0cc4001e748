// Package scenarios holds the built-in practice scenarios (data/*.yaml,
// embedded), loads and validates scenario files against the personas, and
// serves them as a simulator.Library. README.md documents every field.
package scenarios

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/sparring-gym/sparring/personas"
	"github.com/sparring-gym/sparring/simulator"
)

//go:embed data/*.yaml
var builtin embed.FS

// Builtin returns the embedded scenario files.
func Builtin() fs.FS {
	sub, err := fs.Sub(builtin, "data")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	return sub
}

// FieldError and ValidationErrors are shared with the personas loader so a
// tool (the CLI, the trainer's designer) handles both the same way.
type (
	FieldError       = personas.FieldError
	ValidationErrors = personas.ValidationErrors
)

type text = personas.Text

type file struct {
	ID          string             `yaml:"id"`
	Version     int                `yaml:"version"`
	Title       text               `yaml:"title"`
	Lang        string             `yaml:"lang"`
	Langs       []string           `yaml:"langs"`
	Persona     string             `yaml:"persona"`
	Difficulty  int                `yaml:"difficulty"`
	Tags        []string           `yaml:"tags"`
	Drill       bool               `yaml:"drill"`
	Published   *bool              `yaml:"published"`
	Brief       brief              `yaml:"brief"`
	HiddenFacts []fact             `yaml:"hidden_facts"`
	Policy      policy             `yaml:"policy"`
	Success     text               `yaml:"success"`
	TimeLimitS  int                `yaml:"time_limit_s"`
	MaxTurns    int                `yaml:"max_turns"`
	Weights     map[string]float64 `yaml:"weights"`
	Customer    customer           `yaml:"customer"`
	Playbook    playbook           `yaml:"playbook"`
}

type brief struct {
	CustomerName text     `yaml:"customer_name"`
	Order        text     `yaml:"order"`
	History      text     `yaml:"history"`
	Situation    text     `yaml:"situation"`
	PolicySheet  text     `yaml:"policy_sheet"`
	Context      []string `yaml:"context"`
}

type fact struct {
	ID      string   `yaml:"id"`
	Text    text     `yaml:"text"`
	AskedBy []string `yaml:"asked_by"`
}

type policy struct {
	RefundWindowDays int          `yaml:"refund_window_days"`
	VoucherCap       int          `yaml:"voucher_cap"`
	NeedsSupervisor  []string     `yaml:"needs_supervisor"`
	Forbidden        []commitment `yaml:"forbidden"`
}

type commitment struct {
	ID       string              `yaml:"id"`
	Describe text                `yaml:"describe"`
	Keywords map[string][]string `yaml:"keywords"`
}

type customer struct {
	Opening   []text            `yaml:"opening"`
	Issue     text              `yaml:"issue"`
	Questions []text            `yaml:"questions"`
	Demands   []personas.Demand `yaml:"demands"`
	Reveal    text              `yaml:"reveal"`
	Mood      *personas.Mood    `yaml:"mood"`
}

type playbook struct {
	Open        text `yaml:"open"`
	Ask         text `yaml:"ask"`
	Restate     text `yaml:"restate"`
	Inform      text `yaml:"inform"`
	Options     text `yaml:"options"`
	Plan        text `yaml:"plan"`
	Close       text `yaml:"close"`
	Cave        text `yaml:"cave"`
	OverPromise text `yaml:"over_promise"`
}

// Tags a scenario may carry; trainers filter by them.
func knownTags() []string {
	return []string{"complaint", "refusal", "abuse", "service_failure", "drill", "pre_sale",
		"after_sale", "repeat", "expectation", "over_promise", "escalation", "retention", "welcome", "contest"}
}

// Validate decodes and checks one scenario file against the personas. The
// error is a ValidationErrors whose messages name the file, the line, the
// field and the fix.
func Validate(name string, data []byte, people map[string]*simulator.Persona) (*simulator.Scenario, error) {
	var f file
	doc, derrs := personas.DecodeStrict(name, data, &f)
	if derrs != nil {
		return nil, derrs
	}
	e := &personas.Errs{Doc: doc}
	s := build(e, &f, people)
	if err := e.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

func build(e *personas.Errs, f *file, people map[string]*simulator.Persona) *simulator.Scenario {
	s := &simulator.Scenario{ID: f.ID, Version: f.Version, Difficulty: f.Difficulty, Drill: f.Drill,
		TimeLimitS: f.TimeLimitS, MaxTurns: f.MaxTurns}
	personas.CheckID(e, "id", f.ID)
	if s.Version == 0 {
		s.Version = 1
	} else if s.Version < 0 {
		e.Addf("version", "%d is not a version; use 1 or more (bump it when the scenario changes)", f.Version)
	}
	if f.Published != nil {
		s.Draft = !*f.Published
	}
	lang := simulator.Lang(f.Lang)
	if !lang.Valid() {
		if f.Lang == "" {
			e.Addf("lang", "missing; write 'lang: zh' or 'lang: en' (the language the scenario starts in)")
		} else {
			e.Addf("lang", "%q is not a language; use zh or en", f.Lang)
		}
		lang = simulator.LangEN
	}
	s.Lang = lang
	if len(f.Langs) == 0 {
		s.Langs = []simulator.Lang{lang}
	}
	for i, l := range f.Langs {
		if !simulator.Lang(l).Valid() {
			e.Addf(fmt.Sprintf("langs[%d]", i), "%q is not a language; use zh or en", l)
			continue
		}
		s.Langs = append(s.Langs, simulator.Lang(l))
	}
	if len(f.Langs) > 0 && !s.Supports(lang) {
		e.Addf("langs", "must include lang (%s); add it to the list", lang)
	}
	langs := s.Langs
	req := func(path string, t text) simulator.Text { return personas.CheckText(e, path, t, lang, langs, true) }
	opt := func(path string, t text) simulator.Text { return personas.CheckText(e, path, t, lang, langs, false) }

	s.Title = req("title", f.Title)
	s.PersonaID = f.Persona
	switch p := people[f.Persona]; {
	case f.Persona == "":
		e.Addf("persona", "missing; name a persona id, one of: %s", strings.Join(sortedKeys(people), ", "))
	case p == nil:
		e.Addf("persona", "no persona %q; use one of: %s", f.Persona, strings.Join(sortedKeys(people), ", "))
	default:
		s.Persona = p
	}
	if f.Difficulty < 1 || f.Difficulty > 5 {
		e.Addf("difficulty", "%d is out of range; use 1 (gentle) to 5 (hardest)", f.Difficulty)
	}
	for i, t := range f.Tags {
		if !slices.Contains(knownTags(), t) {
			e.Addf(fmt.Sprintf("tags[%d]", i), "%q is not a known tag; use one of: %s", t, strings.Join(knownTags(), ", "))
		}
	}
	s.Tags = slices.Clone(f.Tags)
	if f.Drill && !slices.Contains(s.Tags, "drill") {
		s.Tags = append(s.Tags, "drill")
	}

	s.Brief = simulator.Brief{
		CustomerName: req("brief.customer_name", f.Brief.CustomerName),
		Order:        opt("brief.order", f.Brief.Order),
		History:      opt("brief.history", f.Brief.History),
		Situation:    req("brief.situation", f.Brief.Situation),
		PolicySheet:  opt("brief.policy_sheet", f.Brief.PolicySheet),
		Context:      slices.Clone(f.Brief.Context),
	}
	seen := map[string]bool{}
	for i, h := range f.HiddenFacts {
		p := fmt.Sprintf("hidden_facts[%d]", i)
		personas.CheckID(e, p+".id", h.ID)
		if seen[h.ID] {
			e.Addf(p+".id", "duplicate fact id %q; give each fact its own id", h.ID)
		}
		seen[h.ID] = true
		if len(h.AskedBy) == 0 {
			e.Addf(p+".asked_by", "missing; list the words in a trainee's question that draw this fact out")
		}
		s.HiddenFacts = append(s.HiddenFacts, simulator.Fact{ID: h.ID, Text: req(p+".text", h.Text), AskedBy: lower(h.AskedBy)})
	}

	s.Policy = simulator.Policy{RefundWindowDays: f.Policy.RefundWindowDays, VoucherCap: f.Policy.VoucherCap,
		NeedsSupervisor: slices.Clone(f.Policy.NeedsSupervisor)}
	if f.Policy.RefundWindowDays < 0 {
		e.Addf("policy.refund_window_days", "%d is negative; use 0 (no refunds) or more days", f.Policy.RefundWindowDays)
	}
	if f.Policy.VoucherCap < 0 {
		e.Addf("policy.voucher_cap", "%d is negative; use 0 (no vouchers) or the largest amount allowed", f.Policy.VoucherCap)
	}
	for i, c := range f.Policy.Forbidden {
		p := fmt.Sprintf("policy.forbidden[%d]", i)
		personas.CheckID(e, p+".id", c.ID)
		s.Policy.Forbidden = append(s.Policy.Forbidden, simulator.Commitment{ID: c.ID,
			Describe: req(p+".describe", c.Describe), Keywords: personas.CheckKeywords(e, p+".keywords", c.Keywords, langs)})
	}
	s.Success = req("success", f.Success)
	if f.TimeLimitS < 0 || f.TimeLimitS > 3600 {
		e.Addf("time_limit_s", "%d is out of range; use 0 (untimed) to 3600 seconds", f.TimeLimitS)
	}
	if f.MaxTurns < 1 || f.MaxTurns > 60 {
		e.Addf("max_turns", "%d is out of range; use 1 to 60 trainee replies", f.MaxTurns)
	}
	if len(f.Weights) > 0 {
		s.Weights = map[simulator.Step]float64{}
		sum := 0.0
		for _, k := range slices.Sorted(maps.Keys(f.Weights)) {
			v := f.Weights[k]
			if !slices.Contains(simulator.Steps, simulator.Step(k)) {
				e.Addf("weights."+k, "%q is not a step; use receive, understand, help, agree or retain", k)
				continue
			}
			if v < 0 || v > 1 {
				e.Addf("weights."+k, "%g is out of range; use a share from 0 to 1", v)
			}
			s.Weights[simulator.Step(k)] = v
			sum += v
		}
		if sum < 0.99 || sum > 1.01 {
			e.Addf("weights", "the weights add up to %.2f; make them add up to 1", sum)
		}
	}

	c := f.Customer
	if len(c.Opening) == 0 {
		e.Addf("customer.opening", "missing; give at least one opening line for the customer")
	}
	for i, t := range c.Opening {
		s.Customer.Opening = append(s.Customer.Opening, req(fmt.Sprintf("customer.opening[%d]", i), t))
	}
	s.Customer.Issue = req("customer.issue", c.Issue)
	for i, t := range c.Questions {
		s.Customer.Questions = append(s.Customer.Questions, req(fmt.Sprintf("customer.questions[%d]", i), t))
	}
	if s.Persona != nil && s.Persona.RepeatsQuestion && len(c.Questions) < 2 {
		e.Addf("customer.questions", "persona %s repeats a question; give at least two rewordings of it here", s.Persona.ID)
	}
	if c.Demands != nil {
		s.Customer.Demands = personas.CheckDemands(e, "customer.demands", c.Demands, lang, langs)
	}
	s.Customer.Reveal = opt("customer.reveal", c.Reveal)
	if c.Mood != nil {
		if m, ok := personas.CheckMood(e, "customer.mood", c.Mood); ok {
			s.Customer.Mood = &m
		}
	}
	pb := f.Playbook
	s.Playbook = simulator.Playbook{
		Open: opt("playbook.open", pb.Open), Ask: opt("playbook.ask", pb.Ask), Restate: opt("playbook.restate", pb.Restate),
		Inform: opt("playbook.inform", pb.Inform), Options: opt("playbook.options", pb.Options), Plan: opt("playbook.plan", pb.Plan),
		Close: opt("playbook.close", pb.Close), Cave: opt("playbook.cave", pb.Cave), OverPromise: opt("playbook.over_promise", pb.OverPromise),
	}
	return s
}

func lower(in []string) []string {
	out := make([]string, 0, len(in))
	for _, w := range in {
		if w = strings.ToLower(strings.TrimSpace(w)); w != "" {
			out = append(out, w)
		}
	}
	return out
}

func sortedKeys(m map[string]*simulator.Persona) []string {
	ids := slices.Sorted(maps.Keys(m))
	if len(ids) == 0 {
		return []string{"(no personas loaded)"}
	}
	return ids
}

// Load reads every *.yaml file of fsys and validates it against people. All
// problems in all files come back together as a ValidationErrors; ids must be
// unique. The result is sorted by id.
func Load(fsys fs.FS, people map[string]*simulator.Persona) ([]*simulator.Scenario, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("scenarios: list files: %w", err)
	}
	sort.Strings(names)
	var (
		out  []*simulator.Scenario
		errs ValidationErrors
		ids  = map[string]string{}
	)
	for _, n := range names {
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("scenarios: read %s: %w", n, err)
		}
		name := path.Join("scenarios", n)
		s, err := Validate(name, data, people)
		if err != nil {
			errs = append(errs, err.(ValidationErrors)...)
			continue
		}
		if prev, dup := ids[s.ID]; dup {
			errs = append(errs, FieldError{File: name, Path: "id", Message: fmt.Sprintf("duplicate id %q (also in %s); give each scenario its own id", s.ID, prev)})
			continue
		}
		ids[s.ID] = name
		out = append(out, s)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	slices.SortFunc(out, func(a, b *simulator.Scenario) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Library serves loaded scenarios and personas; it never changes after
// NewLibrary, so it is safe for concurrent use.
type Library struct {
	byID     map[string]*simulator.Scenario
	list     []*simulator.Scenario
	personas []*simulator.Persona
}

var _ simulator.Library = (*Library)(nil)

// NewLibrary builds a library over loaded personas and scenarios.
func NewLibrary(people map[string]*simulator.Persona, list []*simulator.Scenario) *Library {
	l := &Library{byID: map[string]*simulator.Scenario{}}
	for _, s := range list {
		l.byID[s.ID] = s
		l.list = append(l.list, s)
	}
	slices.SortFunc(l.list, func(a, b *simulator.Scenario) int { return strings.Compare(a.ID, b.ID) })
	for _, id := range slices.Sorted(maps.Keys(people)) {
		l.personas = append(l.personas, people[id])
	}
	return l
}

// BuiltinLibrary loads the embedded personas and scenarios.
func BuiltinLibrary() (*Library, error) {
	people, err := personas.Load(personas.Builtin())
	if err != nil {
		return nil, fmt.Errorf("load personas: %w", err)
	}
	list, err := Load(Builtin(), people)
	if err != nil {
		return nil, fmt.Errorf("load scenarios: %w", err)
	}
	return NewLibrary(people, list), nil
}

// Scenario returns the scenario with id, or an error with code
// scenario_not_found.
func (l *Library) Scenario(_ context.Context, id string) (*simulator.Scenario, error) {
	if s := l.byID[id]; s != nil {
		return s, nil
	}
	return nil, simulator.Errorf(simulator.CodeScenarioNotFound,
		fmt.Sprintf("No scenario %q.", id), fmt.Sprintf("没有找到场景 %q。", id))
}

// Scenarios returns every scenario, sorted by id.
func (l *Library) Scenarios(context.Context) ([]*simulator.Scenario, error) {
	return slices.Clone(l.list), nil
}

// Personas returns every persona, sorted by id.
func (l *Library) Personas(context.Context) ([]*simulator.Persona, error) {
	return slices.Clone(l.personas), nil
}

// Package personas holds the built-in difficult customers (data/*.yaml,
// embedded) and loads and validates persona files. README.md documents every
// field.
package personas

import (
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/sparring-gym/sparring/simulator"
)

//go:embed data/*.yaml
var builtin embed.FS

// Builtin returns the embedded persona files.
func Builtin() fs.FS {
	sub, err := fs.Sub(builtin, "data")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	return sub
}

// file is the YAML shape of a persona. Pointers tell "not set" (inherit from
// extends) from zero.
type file struct {
	ID                   string                       `yaml:"id"`
	Extends              string                       `yaml:"extends"`
	Abstract             bool                         `yaml:"abstract"`
	Name                 Text                         `yaml:"name"`
	Summary              Text                         `yaml:"summary"`
	Traits               []string                     `yaml:"traits"`
	Style                string                       `yaml:"style"`
	Mood                 *Mood                        `yaml:"mood"`
	Patience             *int                         `yaml:"patience"`
	Expectation          *expectation                 `yaml:"expectation"`
	Clarity              *int                         `yaml:"clarity"`
	NeedsAcknowledgement *bool                        `yaml:"needs_acknowledgement"`
	RepeatsQuestion      *bool                        `yaml:"repeats_question"`
	Silent               *bool                        `yaml:"silent"`
	PolicyClose          *bool                        `yaml:"policy_close"`
	Effects              map[string]effect            `yaml:"effects"`
	Thresholds           *thresholds                  `yaml:"thresholds"`
	Demands              []Demand                     `yaml:"demands"`
	Lines                map[string]map[string][]Text `yaml:"lines"`
	React                map[string][]Text            `yaml:"react"`
	Reveals              []reveal                     `yaml:"reveals"`
}

type expectation struct {
	Level  int    `yaml:"level"`
	Origin string `yaml:"origin"`
	Text   Text   `yaml:"text"`
}

type effect struct {
	Anger int `yaml:"anger"`
	Trust int `yaml:"trust"`
}

type thresholds struct {
	Resolved struct {
		Anger int `yaml:"anger_below"`
		Trust int `yaml:"trust_at_least"`
	} `yaml:"resolved"`
	Retained struct {
		Anger int `yaml:"anger_below"`
		Trust int `yaml:"trust_at_least"`
	} `yaml:"retained"`
	Lost struct {
		Anger int `yaml:"anger_at_least"`
		Trust int `yaml:"trust_at_most"`
	} `yaml:"lost"`
}

type reveal struct {
	ID         string `yaml:"id"`
	AfterTurns int    `yaml:"after_turns"`
	Anger      int    `yaml:"anger"`
	Trust      int    `yaml:"trust"`
	Text       Text   `yaml:"text"`
}

// Parsed is a decoded persona before it is merged with what it extends.
type parsed struct {
	f    file
	doc  *Doc
	errs *Errs
}

// bothLangs is the languages every persona text must have.
func bothLangs() []simulator.Lang { return []simulator.Lang{simulator.LangZH, simulator.LangEN} }

// Validate decodes and checks one persona file. known resolves `extends`
// (it may be nil when the file extends nothing). The error is a
// ValidationErrors naming file, line, field and fix.
func Validate(file string, data []byte, known map[string]*simulator.Persona) (*simulator.Persona, error) {
	p, abstract, err := validate(file, data, known)
	if err != nil {
		return nil, err
	}
	_ = abstract
	return p, nil
}

func decode(name string, data []byte) (*parsed, error) {
	var f file
	doc, errs := DecodeStrict(name, data, &f)
	if errs != nil {
		return nil, errs
	}
	return &parsed{f: f, doc: doc, errs: &Errs{Doc: doc}}, nil
}

func validate(name string, data []byte, known map[string]*simulator.Persona) (*simulator.Persona, bool, error) {
	p, err := decode(name, data)
	if err != nil {
		return nil, false, err
	}
	var base *simulator.Persona
	if p.f.Extends != "" {
		base = known[p.f.Extends]
		if base == nil {
			p.errs.Addf("extends", "no persona %q to extend; use one of: %s", p.f.Extends, strings.Join(sortedIDs(known), ", "))
			return nil, false, p.errs.Err()
		}
	}
	out := build(p, base)
	if err := p.errs.Err(); err != nil {
		return nil, false, err
	}
	return out, p.f.Abstract, nil
}

func sortedIDs(m map[string]*simulator.Persona) []string {
	ids := slices.Sorted(maps.Keys(m))
	if len(ids) == 0 {
		return []string{"(none loaded)"}
	}
	return ids
}

// build merges the file over base and validates the result.
func build(p *parsed, base *simulator.Persona) *simulator.Persona {
	f, e := p.f, p.errs
	out := &simulator.Persona{}
	if base != nil {
		*out = clonePersona(base)
	}
	CheckID(e, "id", f.ID)
	out.ID = f.ID
	if t := CheckText(e, "name", f.Name, simulator.LangEN, bothLangs(), true); t != nil {
		out.Name = t
	}
	if t := CheckText(e, "summary", f.Summary, simulator.LangEN, bothLangs(), false); t != nil {
		out.Summary = t
	}
	if f.Traits != nil {
		out.Traits = slices.Clone(f.Traits)
	}
	if f.Style != "" {
		switch f.Style {
		case "driver", "analytical", "amiable", "expressive":
			out.Style = f.Style
		default:
			e.Addf("style", "%q is not a style; use driver, analytical, amiable or expressive", f.Style)
		}
	}
	if f.Mood != nil {
		if m, ok := CheckMood(e, "mood", f.Mood); ok {
			out.Mood = m
		}
	} else if base == nil {
		e.Addf("mood", "missing; give the starting mood, e.g. 'mood: {anger: 60, trust: 30}'")
	}
	if f.Patience != nil {
		if *f.Patience < 1 || *f.Patience > 20 {
			e.Addf("patience", "%d is out of range; use 1 to 20 (unhelpful replies in a row tolerated)", *f.Patience)
		}
		out.Patience = *f.Patience
	} else if base == nil {
		out.Patience = 3
	}
	if f.Clarity != nil {
		if *f.Clarity < 0 || *f.Clarity > 100 {
			e.Addf("clarity", "%d is out of range; use 0 to 100", *f.Clarity)
		}
		out.Clarity = *f.Clarity
	} else if base == nil {
		out.Clarity = 70
	}
	if f.Expectation != nil {
		x := f.Expectation
		if x.Level < 0 || x.Level > 100 {
			e.Addf("expectation.level", "%d is out of range; use 0 to 100", x.Level)
		}
		switch x.Origin {
		case simulator.OriginExperience, simulator.OriginWordOfMouth, simulator.OriginPersonalNeed:
		default:
			e.Addf("expectation.origin", "%q is not an origin; use experience, word_of_mouth or personal_need", x.Origin)
		}
		out.Expectation = simulator.Expectation{Level: x.Level, Origin: x.Origin,
			Text: CheckText(e, "expectation.text", x.Text, simulator.LangEN, bothLangs(), false)}
	}
	if f.NeedsAcknowledgement != nil {
		out.NeedsAcknowledgement = *f.NeedsAcknowledgement
	}
	if f.RepeatsQuestion != nil {
		out.RepeatsQuestion = *f.RepeatsQuestion
	}
	if f.Silent != nil {
		out.Silent = *f.Silent
	}
	if f.PolicyClose != nil {
		out.PolicyClose = *f.PolicyClose
	}
	if out.Effects == nil {
		out.Effects = simulator.DefaultEffects()
	}
	for _, code := range slices.Sorted(maps.Keys(f.Effects)) {
		if !simulator.KnownSignal(code) && !engineEffect(code) {
			e.Addf("effects."+code, "%q is not a RUBRIC signal code nor one of unheard, interrogation, accept, reveal; fix the name", code)
			continue
		}
		v := f.Effects[code]
		if v.Anger < -50 || v.Anger > 50 || v.Trust < -50 || v.Trust > 50 {
			e.Addf("effects."+code, "moves must stay within -50..50 per signal")
		}
		out.Effects[code] = simulator.Effect{Anger: v.Anger, Trust: v.Trust}
	}
	for _, code := range []string{simulator.EffectUnheard, simulator.EffectInterrogation, simulator.EffectAccept, simulator.EffectReveal} {
		if _, ok := out.Effects[code]; !ok {
			out.Effects[code] = defaultEngineEffect(code)
		}
	}
	if f.Thresholds != nil {
		t := f.Thresholds
		out.Thresholds = simulator.Thresholds{
			ResolvedAnger: t.Resolved.Anger, ResolvedTrust: t.Resolved.Trust,
			RetainedAnger: t.Retained.Anger, RetainedTrust: t.Retained.Trust,
			LostAnger: t.Lost.Anger, LostTrust: t.Lost.Trust,
		}
		th := out.Thresholds
		for _, c := range []struct {
			path string
			v    int
		}{{"thresholds.resolved.anger_below", th.ResolvedAnger}, {"thresholds.resolved.trust_at_least", th.ResolvedTrust},
			{"thresholds.retained.anger_below", th.RetainedAnger}, {"thresholds.retained.trust_at_least", th.RetainedTrust},
			{"thresholds.lost.anger_at_least", th.LostAnger}, {"thresholds.lost.trust_at_most", th.LostTrust}} {
			if c.v < 0 || c.v > 100 {
				e.Addf(c.path, "%d is out of range; use 0 to 100", c.v)
			}
		}
		if th.ResolvedAnger > th.RetainedAnger {
			e.Addf("thresholds.resolved.anger_below", "must not exceed retained.anger_below (%d): resolved is the better outcome", th.RetainedAnger)
		}
		if th.RetainedAnger >= th.LostAnger {
			e.Addf("thresholds.lost.anger_at_least", "must be above retained.anger_below (%d)", th.RetainedAnger)
		}
	} else if base == nil {
		out.Thresholds = simulator.Thresholds{ResolvedAnger: 30, ResolvedTrust: 60, RetainedAnger: 50, RetainedTrust: 40, LostAnger: 95, LostTrust: 5}
	}
	if f.Demands != nil {
		out.Demands = CheckDemands(e, "demands", f.Demands, simulator.LangEN, bothLangs())
	}
	if out.Lines.Stages == nil {
		out.Lines.Stages = map[string]map[simulator.Band][]simulator.Text{}
	}
	if out.Lines.React == nil {
		out.Lines.React = map[string][]simulator.Text{}
	}
	for _, stage := range slices.Sorted(maps.Keys(f.Lines)) {
		if !slices.Contains(simulator.Stages, stage) {
			e.Addf("lines."+stage, "%q is not a stage; use one of: %s", stage, strings.Join(simulator.Stages, ", "))
			continue
		}
		bands := map[simulator.Band][]simulator.Text{}
		for _, b := range slices.Sorted(maps.Keys(f.Lines[stage])) {
			band := simulator.Band(b)
			if band != simulator.BandAny && !slices.Contains(simulator.Bands, band) {
				e.Addf("lines."+stage+"."+b, "%q is not a mood band; use calm, tense, hot or any", b)
				continue
			}
			bands[band] = checkLines(e, "lines."+stage+"."+b, f.Lines[stage][b])
		}
		out.Lines.Stages[stage] = bands
	}
	for _, code := range slices.Sorted(maps.Keys(f.React)) {
		if !simulator.KnownSignal(code) && code != simulator.EffectUnheard && code != simulator.EffectInterrogation {
			e.Addf("react."+code, "%q is not a RUBRIC signal code nor unheard/interrogation; fix the name", code)
			continue
		}
		out.Lines.React[code] = checkLines(e, "react."+code, f.React[code])
	}
	if f.Reveals != nil {
		out.Reveals = nil
		for i, r := range f.Reveals {
			p := fmt.Sprintf("reveals[%d]", i)
			CheckID(e, p+".id", r.ID)
			if r.AfterTurns < 1 || r.AfterTurns > 10 {
				e.Addf(p+".after_turns", "%d is out of range; use 1 to 10 turns after the promise", r.AfterTurns)
			}
			out.Reveals = append(out.Reveals, simulator.Reveal{ID: r.ID, AfterTurns: r.AfterTurns, Anger: r.Anger, Trust: r.Trust,
				Text: CheckText(e, p+".text", r.Text, simulator.LangEN, bothLangs(), true)})
		}
	}
	if !f.Abstract {
		checkComplete(e, out)
	}
	return out
}

func engineEffect(code string) bool {
	switch code {
	case simulator.EffectUnheard, simulator.EffectInterrogation, simulator.EffectAccept, simulator.EffectReveal:
		return true
	}
	return false
}

func defaultEngineEffect(code string) simulator.Effect {
	switch code {
	case simulator.EffectUnheard:
		return simulator.Effect{Anger: 5, Trust: 0}
	case simulator.EffectInterrogation:
		return simulator.Effect{Anger: 5, Trust: 0}
	case simulator.EffectAccept:
		return simulator.Effect{Anger: -10, Trust: 10}
	default: // reveal, GUIDE §2.5
		return simulator.Effect{Anger: 20, Trust: -30}
	}
}

func checkLines(e *Errs, path string, in []Text) []simulator.Text {
	if len(in) == 0 {
		e.Addf(path, "no lines; give at least one {zh: ..., en: ...} entry")
	}
	out := make([]simulator.Text, 0, len(in))
	for i, t := range in {
		p := fmt.Sprintf("%s[%d]", path, i)
		if _, plain := t[plainKey]; plain {
			e.Addf(p, "persona lines need both languages; write {zh: ..., en: ...}")
			continue
		}
		out = append(out, CheckText(e, p, t, simulator.LangEN, bothLangs(), true))
	}
	return out
}

// requiredStages must have lines for every band (or "any").
func requiredStages() []string {
	return []string{simulator.StagePress, simulator.StageSettle, simulator.StageAccept,
		simulator.StageRejectOffer, simulator.StageThanks, simulator.StageLeave, simulator.StageEscalate, simulator.StageReveal}
}

func checkComplete(e *Errs, p *simulator.Persona) {
	stages := requiredStages()
	if p.RepeatsQuestion {
		stages = append(stages, simulator.StageRepeat)
	}
	for _, s := range stages {
		bands := p.Lines.Stages[s]
		if len(bands[simulator.BandAny]) > 0 {
			continue
		}
		for _, b := range simulator.Bands {
			if len(bands[b]) == 0 {
				e.Addf("lines."+s, "no %s lines for the %s band; add 'lines.%s.%s' (or 'any') here or in the persona it extends", s, b, s, b)
			}
		}
	}
	if len(p.Reveals) == 0 {
		e.Addf("reveals", "missing; give at least one reality event for over-promises (or extend a persona that has one)")
	}
	if p.Mood == (simulator.Mood{}) && p.Patience == 0 {
		e.Addf("mood", "missing; give the starting mood")
	}
}

func clonePersona(b *simulator.Persona) simulator.Persona {
	c := *b
	c.Traits = slices.Clone(b.Traits)
	c.Effects = maps.Clone(b.Effects)
	c.Demands = slices.Clone(b.Demands)
	c.Reveals = slices.Clone(b.Reveals)
	c.Lines.Stages = map[string]map[simulator.Band][]simulator.Text{}
	for k, v := range b.Lines.Stages {
		c.Lines.Stages[k] = maps.Clone(v)
	}
	c.Lines.React = maps.Clone(b.Lines.React)
	c.Summary = maps.Clone(b.Summary)
	c.Name = maps.Clone(b.Name)
	return c
}

// Load reads every *.yaml file of fsys, resolves `extends` and returns the
// concrete (non-abstract) personas by id. All problems in all files are
// returned together as a ValidationErrors.
func Load(fsys fs.FS) (map[string]*simulator.Persona, error) {
	all, abstract, err := load(fsys)
	if err != nil {
		return nil, err
	}
	out := map[string]*simulator.Persona{}
	for id, p := range all {
		if !abstract[id] {
			out[id] = p
		}
	}
	return out, nil
}

// LoadAll is Load including the abstract personas, for resolving `extends`
// when validating a single file with Validate.
func LoadAll(fsys fs.FS) (map[string]*simulator.Persona, error) {
	all, _, err := load(fsys)
	return all, err
}

func load(fsys fs.FS) (map[string]*simulator.Persona, map[string]bool, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, nil, fmt.Errorf("personas: list files: %w", err)
	}
	sort.Strings(names)
	var errs ValidationErrors
	pending := map[string][]byte{}
	for _, n := range names {
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, nil, fmt.Errorf("personas: read %s: %w", n, err)
		}
		pending[n] = data
	}
	all := map[string]*simulator.Persona{}
	abstract := map[string]bool{}
	origin := map[string]string{}
	// Resolve extends by passes: each pass loads the files whose base is
	// already loaded; a pass that loads nothing leaves only broken files.
	for len(pending) > 0 {
		progressed := false
		for _, n := range slices.Sorted(maps.Keys(pending)) {
			data := pending[n]
			p, derr := decode(path.Join("personas", n), data)
			if derr != nil {
				errs = append(errs, derr.(ValidationErrors)...)
				delete(pending, n)
				progressed = true
				continue
			}
			if p.f.Extends != "" && all[p.f.Extends] == nil {
				continue
			}
			delete(pending, n)
			progressed = true
			out, isAbstract, verr := validate(path.Join("personas", n), data, all)
			if verr != nil {
				errs = append(errs, verr.(ValidationErrors)...)
				continue
			}
			if prev, dup := origin[out.ID]; dup {
				errs = append(errs, FieldError{File: path.Join("personas", n), Line: p.doc.Line("id"), Path: "id",
					Message: fmt.Sprintf("duplicate id %q (also in %s); give each persona its own id", out.ID, prev)})
				continue
			}
			all[out.ID] = out
			origin[out.ID] = n
			abstract[out.ID] = isAbstract
		}
		if !progressed {
			for _, n := range slices.Sorted(maps.Keys(pending)) {
				p, _ := decode(path.Join("personas", n), pending[n])
				errs = append(errs, FieldError{File: path.Join("personas", n), Line: p.doc.Line("extends"), Path: "extends",
					Message: fmt.Sprintf("no persona %q to extend (or the chain loops); use one of: %s", p.f.Extends, strings.Join(sortedIDs(all), ", "))})
			}
			break
		}
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	return all, abstract, nil
}

package rubric

import (
	"context"
	"math"
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/sparring-gym/sparring/simulator"
)

var _ simulator.Assessor = (*Assessor)(nil)

// Assess reads one reply: the signals with the reply's own words as
// evidence, the steps credited under the order rules, a 0–100 score, a
// verdict and one coaching hint in the session's language. The reply is
// data only; nothing in it can change how it is scored.
func (a *Assessor) Assess(ctx context.Context, req simulator.AssessRequest) (simulator.Assessment, error) {
	if err := ctx.Err(); err != nil {
		return simulator.Assessment{}, err
	}
	r := a.read(req.Reply, req.Customer, req.Scenario)
	lang := req.Lang
	if !lang.Valid() {
		fallback := simulator.Lang("")
		if req.Scenario != nil {
			fallback = req.Scenario.Lang
		}
		lang = detectLang(r.n.text, fallback)
	}
	repeats := a.repeats(r.n.text, req.Transcript)
	return a.assessment(r, lang, req, repeats), nil
}

// prior summarises the earlier replies for the order rules.
type prior struct {
	understand, agree, help, receive, retain bool
}

func priorOf(prev []simulator.Assessment) prior {
	var p prior
	for _, as := range prev {
		for _, st := range as.Steps {
			switch st {
			case simulator.StepReceive:
				p.receive = true
			case simulator.StepUnderstand:
				p.understand = true
			case simulator.StepHelp:
				p.help = true
			case simulator.StepAgree:
				p.agree = true
			case simulator.StepRetain:
				p.retain = true
			}
		}
		if as.Has("escalate_cleanly") {
			p.agree = true
		}
	}
	return p
}

func (a *Assessor) assessment(r *reading, lang simulator.Lang, req simulator.AssessRequest, repeats int) simulator.Assessment {
	out := simulator.Assessment{Steps: []simulator.Step{}, Signals: []simulator.Signal{}}
	type found struct {
		id int
		at int32
	}
	var fs []found
	for _, id := range a.codeIDs {
		if r.has[id] {
			fs = append(fs, found{id, r.ev[id].s})
		}
	}
	slices.SortStableFunc(fs, func(x, y found) int { return int(x.at - y.at) })
	shown := map[simulator.Step]bool{}
	for _, f := range fs {
		sg := a.sigs[f.id]
		pol := simulator.Negative
		if sg.positive {
			pol = simulator.Positive
			shown[sg.step] = true
		}
		out.Signals = append(out.Signals, simulator.Signal{Code: sg.code, Polarity: pol, Evidence: r.evidence(f.id)})
	}

	// Order rules: no agreement before any understanding; no retention
	// before an agreement or a clean escalation. They judge a reply's place
	// in a conversation, so a reply scored on its own (Turn 0: batch
	// scoring with no transcript) is credited with every step it shows.
	p := priorOf(req.Previous)
	inConversation := req.Turn > 0 || len(req.Previous) > 0
	if inConversation && shown[simulator.StepAgree] && !shown[simulator.StepUnderstand] && !p.understand {
		shown[simulator.StepAgree] = false
	}
	if inConversation && shown[simulator.StepRetain] && !shown[simulator.StepAgree] && !p.agree && !r.has[a.ids2.kEscalateCleanly] {
		shown[simulator.StepRetain] = false
	}
	for _, st := range simulator.Steps {
		if shown[st] {
			out.Steps = append(out.Steps, st)
		}
	}

	pos, neg, capAt := 0.0, 0.0, 100
	for _, f := range fs {
		sg := a.sigs[f.id]
		if sg.positive {
			if shown[sg.step] {
				pos += sg.points
			}
		} else {
			neg += sg.points
			capAt = min(capAt, sg.replyCap)
		}
	}
	pos *= math.Pow(a.s.Boilerplate.Decay, float64(repeats))
	score := int(math.Round(100*(1-math.Exp(-pos/a.s.Reply.Saturation)) - neg))
	out.Score = max(0, min(score, capAt, 100))

	switch {
	case neg > 0:
		out.Verdict = simulator.VerdictPoor
	case out.Score >= a.s.Reply.GoodMinScore:
		out.Verdict = simulator.VerdictGood
	default:
		out.Verdict = simulator.VerdictOK
	}
	out.Hint = a.hint(r, lang, req, p, shown, repeats)
	out.Repeats = repeats
	out.PolicyBreach = len(r.policy) > 0
	out.Correction = r.has[a.ids2.kCorrection]
	return out
}

// hint picks the most important miss: the costliest negative signal, then a
// pasted reply, then the first step the conversation still lacks.
func (a *Assessor) hint(r *reading, lang simulator.Lang, req simulator.AssessRequest, p prior, shown map[simulator.Step]bool, repeats int) string {
	worst, worstPts := "", 0.0
	for _, id := range a.codeIDs {
		if sg := a.sigs[id]; r.has[id] && !sg.positive && sg.points > worstPts {
			worst, worstPts = sg.code, sg.points
		}
	}
	if worst != "" {
		return a.s.Hints.Codes[worst].in(lang)
	}
	if repeats > 0 {
		return a.s.Hints.Boilerplate.in(lang)
	}
	understood := shown[simulator.StepUnderstand] || p.understand
	if !understood && req.Customer != "" && a.angry(req.Customer) && !r.has[a.ids2.kApologize] && !r.has[a.ids2.kAcknowledgeFeeling] {
		return a.s.Hints.AngryFirst.in(lang)
	}
	first := len(req.Previous) == 0 && req.Turn <= 1
	if first && !shown[simulator.StepReceive] && !understood {
		return a.s.Hints.Steps[string(simulator.StepReceive)].in(lang)
	}
	seen := func(st simulator.Step, before bool) bool { return shown[st] || before }
	switch {
	case !understood:
		return a.s.Hints.Steps[string(simulator.StepUnderstand)].in(lang)
	case !seen(simulator.StepHelp, p.help):
		return a.s.Hints.Steps[string(simulator.StepHelp)].in(lang)
	case !seen(simulator.StepAgree, p.agree):
		return a.s.Hints.Steps[string(simulator.StepAgree)].in(lang)
	case !seen(simulator.StepRetain, p.retain):
		return a.s.Hints.Steps[string(simulator.StepRetain)].in(lang)
	}
	return a.s.Hints.WellDone.in(lang)
}

func (a *Assessor) angry(customer string) bool {
	text := a.cache.text(&a.z, customer)
	id := int32(a.ids2.kAngry)
	for _, h := range a.m.scan(text, newDoc(text), nil) {
		if h.owner == id {
			return true
		}
	}
	return false
}

// repeats counts earlier trainee replies that are the same text, or nearly.
func (a *Assessor) repeats(text string, transcript []simulator.Line) int {
	if utf8.RuneCountInString(text) < a.s.Boilerplate.MinRunes {
		return 0
	}
	var mine, theirs []uint64
	var other []byte
	n := 0
	for _, l := range transcript {
		if l.Speaker != simulator.SpeakerTrainee {
			continue
		}
		other = a.z.foldInto(other[:0], l.Text, nil)
		if string(other) == text {
			n++
			continue
		}
		lo, lm := utf8.RuneCount(other), utf8.RuneCountInString(text)
		if float64(min(lo, lm)) < float64(max(lo, lm))*a.s.Boilerplate.Similarity {
			continue
		}
		if mine == nil {
			mine = bigramSet(nil, []byte(text))
		}
		theirs = bigramSet(theirs[:0], other)
		if dice(mine, theirs) >= a.s.Boilerplate.Similarity {
			n++
		}
	}
	return n
}

// bigramSet appends the distinct character bigrams of s (pairs of adjacent
// runes within a word, each packed into a uint64) to dst, sorted. A sorted
// slice, not a map: the repeat check builds one per earlier reply on every
// turn.
func bigramSet(dst []uint64, s []byte) []uint64 {
	var prev rune = -1
	for len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		s = s[size:]
		if unicode.IsSpace(r) || unicode.IsPunct(r) {
			prev = -1
			continue
		}
		if prev >= 0 {
			dst = append(dst, uint64(uint32(prev))<<32|uint64(uint32(r)))
		}
		prev = r
	}
	slices.Sort(dst)
	return slices.Compact(dst)
}

// dice is the Sørensen–Dice coefficient of two sorted bigram sets.
func dice(x, y []uint64) float64 {
	if len(x)+len(y) == 0 {
		return 0
	}
	n := 0
	for i, j := 0, 0; i < len(x) && j < len(y); {
		switch {
		case x[i] < y[j]:
			i++
		case x[i] > y[j]:
			j++
		default:
			n++
			i++
			j++
		}
	}
	return 2 * float64(n) / float64(len(x)+len(y))
}

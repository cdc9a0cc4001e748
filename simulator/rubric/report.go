package rubric

import (
	"context"
	"math"
	"slices"
	"strings"

	"unicode"

	"github.com/sparring-gym/sparring/simulator"
)

// Report scores a finished session: five step scores with evidence and
// advice, the five service dimensions, the challenging-situation overlay,
// hard-fail caps and every turn's feedback. Turns whose assessment is
// missing are assessed here, so a report can be rebuilt from replies alone.
func (a *Assessor) Report(ctx context.Context, req simulator.ReportRequest) (simulator.Report, error) {
	if err := ctx.Err(); err != nil {
		return simulator.Report{}, err
	}
	lang := a.reportLang(req)
	rep := simulator.Report{
		Steps:      map[simulator.Step]simulator.StepScore{},
		Dimensions: map[simulator.Dimension]int{},
		Turns:      len(req.Turns),
		DurationS:  int(math.Round(req.Duration.Seconds())),
		Feedback:   []simulator.TurnFeedback{},
		HardFails:  []string{},
	}

	// A turn's stored assessment carries what the report needs; only a turn
	// without one (an old or hand-built record) is read again.
	type turn struct {
		rec simulator.TurnRecord
		as  simulator.Assessment
	}
	turns := make([]turn, 0, len(req.Turns))
	var prev []simulator.Assessment
	var transcript []simulator.Line
	for _, rec := range req.Turns {
		as := rec.Assessment
		if as.Steps == nil && as.Signals == nil && rec.Reply != "" {
			r := a.read(rec.Reply, rec.Customer, req.Scenario)
			as = a.assessment(r, lang, simulator.AssessRequest{
				Reply: rec.Reply, Lang: lang, Customer: rec.Customer, Transcript: transcript,
				Previous: prev, Scenario: req.Scenario, Turn: rec.Turn, Delay: rec.Delay,
			}, a.repeats(r.n.text, transcript))
		}
		as.Steps = nonNil(as.Steps)
		as.Signals = nonNil(as.Signals)
		turns = append(turns, turn{rec: rec, as: as})
		prev = append(prev, as)
		transcript = append(transcript,
			simulator.Line{Turn: rec.Turn, Speaker: simulator.SpeakerCustomer, Text: rec.Customer},
			simulator.Line{Turn: rec.Turn, Speaker: simulator.SpeakerTrainee, Text: rec.Reply})
		rep.Feedback = append(rep.Feedback, simulator.TurnFeedback{
			Turn: rec.Turn, Steps: as.Steps, Signals: as.Signals, Hint: as.Hint, Score: as.Score, Verdict: as.Verdict,
		})
	}

	// Step scores: the best credit each positive code earned (pasted replies
	// earn less), minus every negative signal charged to the step.
	credit := map[simulator.Step]map[string]float64{}
	deduct := map[simulator.Step]float64{}
	worstNeg := map[simulator.Step]string{}
	evidence := map[simulator.Step][]string{}
	count := map[string]int{}
	for _, t := range turns {
		w := math.Pow(a.s.Boilerplate.Decay, float64(t.as.Repeats))
		for _, sg := range t.as.Signals {
			count[sg.Code]++
			s := a.sigOf(sg.Code)
			if s == nil {
				continue
			}
			if !s.positive {
				deduct[s.deducts] += s.points
				if old := worstNeg[s.deducts]; old == "" || a.sigOf(old).points < s.points {
					worstNeg[s.deducts] = s.code
				}
				continue
			}
			if !slices.Contains(t.as.Steps, s.step) {
				continue
			}
			if credit[s.step] == nil {
				credit[s.step] = map[string]float64{}
			}
			credit[s.step][s.code] = max(credit[s.step][s.code], s.points*w)
			ev := sg.Evidence
			if ev != "" && len(evidence[s.step]) < a.s.Report.MaxEvidence && !slices.Contains(evidence[s.step], ev) {
				evidence[s.step] = append(evidence[s.step], ev)
			}
		}
	}
	weights := a.weightsFor(req.Scenario)
	total := 0.0
	for _, st := range simulator.Steps {
		got := 0.0
		for _, p := range credit[st] {
			got += p
		}
		score := clamp100(math.Round(100*got/a.s.Report.FullPoints[string(st)] - deduct[st]))
		adv := a.s.Advice[string(st)]
		advice := adv.Good.in(lang)
		switch {
		case score < a.s.Report.AdviceBelow && deduct[st] > 0:
			advice = a.s.Hints.Codes[worstNeg[st]].in(lang)
		case score < a.s.Report.AdviceBelow:
			advice = adv.Missing.in(lang)
		case deduct[st] > 0:
			advice = a.s.Hints.Codes[worstNeg[st]].in(lang)
		}
		rep.Steps[st] = simulator.StepScore{Score: score, Evidence: nonNil(evidence[st]), Advice: advice}
		total += weights[st] * float64(score)
	}

	// Hard fails (GUIDE §2.3) and the challenging-situation overlay (§2.4).
	policyAt := -1
	corrected := false
	for i, t := range turns {
		if t.as.PolicyBreach && policyAt < 0 {
			policyAt = i
		}
		if policyAt >= 0 && t.as.Correction {
			corrected = true
		}
	}
	reasons := a.s.HardFailReasons
	if count["insult"] > 0 {
		rep.HardFails = append(rep.HardFails, reasons["insult"].in(lang))
	}
	if policyAt >= 0 && !corrected {
		rep.HardFails = append(rep.HardFails, reasons["policy"].in(lang))
	}
	if len(turns) > 0 && req.Mood.Anger >= a.s.HardFail.AngryEndAnger {
		last := turns[len(turns)-1].as
		next := false
		for _, c := range a.s.HardFail.NextStep {
			next = next || last.Has(c)
		}
		if !next {
			rep.HardFails = append(rep.HardFails, reasons["angry_end"].in(lang))
		}
	}
	if len(turns) > 0 && a.challenging(req.Scenario) {
		total += float64(a.overlay(turns2as(turns, func(t turn) simulator.Assessment { return t.as }), policyAt >= 0, req.Mood))
	}
	rep.Total = clamp100(math.Round(total))
	if len(rep.HardFails) > 0 {
		rep.Total = min(rep.Total, a.s.HardFail.Cap)
	}

	rep.Dimensions = a.dimensions(turns2as(turns, func(t turn) simulator.Assessment { return t.as }),
		turns2as(turns, func(t turn) simulator.TurnRecord { return t.rec }), req.Mode, lang, count)
	rep.Outcome = req.Outcome
	if rep.Outcome == "" {
		rep.Outcome = deriveOutcome(turns2as(turns, func(t turn) simulator.Assessment { return t.as }), req.Mood)
	}
	return rep, nil
}

func turns2as[T, U any](ts []T, f func(T) U) []U {
	out := make([]U, 0, len(ts))
	for _, t := range ts {
		out = append(out, f(t))
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func clamp100(v float64) int { return int(max(0, min(100, v))) }

func (a *Assessor) sigOf(code string) *signal {
	id, ok := a.ids[code]
	if !ok {
		return nil
	}
	return a.sigs[id]
}

func (a *Assessor) reportLang(req simulator.ReportRequest) simulator.Lang {
	if req.Lang.Valid() {
		return req.Lang
	}
	if req.Scenario != nil && req.Scenario.Lang.Valid() {
		return req.Scenario.Lang
	}
	var b strings.Builder
	for _, t := range req.Turns {
		b.WriteString(t.Reply)
	}
	return detectLang(a.z.fold(b.String()), simulator.LangEN)
}

// weightsFor uses the scenario's weight overrides when they cover the five
// steps and sum to 1; the scenario loader validates them, this is a guard.
func (a *Assessor) weightsFor(sc *simulator.Scenario) map[simulator.Step]float64 {
	if sc == nil || len(sc.Weights) == 0 {
		return a.weights
	}
	w := map[simulator.Step]float64{}
	sum := 0.0
	for _, st := range simulator.Steps {
		v, ok := sc.Weights[st]
		if !ok {
			v = a.weights[st]
		}
		if v < 0 {
			return a.weights
		}
		w[st] = v
		sum += v
	}
	if sum <= 0 {
		return a.weights
	}
	for st := range w {
		w[st] /= sum // partial overrides are renormalised
	}
	return w
}

func (a *Assessor) challenging(sc *simulator.Scenario) bool {
	if sc == nil {
		return false
	}
	for _, t := range sc.Tags {
		if slices.Contains(a.s.Overlay.Tags, strings.ReplaceAll(strings.ToLower(t), "-", "_")) {
			return true
		}
	}
	return false
}

func (a *Assessor) overlay(as []simulator.Assessment, brokePolicy bool, mood simulator.Mood) int {
	o := a.s.Overlay
	has := func(code string, upto int) bool {
		for i, x := range as {
			if upto > 0 && i >= upto {
				break
			}
			if x.Has(code) {
				return true
			}
		}
		return false
	}
	v := o.Composure.OK
	for _, c := range o.Composure.Codes {
		if has(c, 0) {
			v = o.Composure.Broken
			break
		}
	}
	if has("apologize", o.PromptApology.WithinTurns) {
		v += o.PromptApology.OK
	} else {
		v += o.PromptApology.Missing
	}
	if has("own", 0) {
		v += o.Ownership.OK
	} else {
		v += o.Ownership.Missing
	}
	switch {
	case has("flat_refusal", 0):
		v += o.Refusal.Flat
	case has("refuse_with_alternative", 0):
		v += o.Refusal.Good
	}
	if brokePolicy {
		v += o.WithinPolicy.Broken
	} else {
		v += o.WithinPolicy.OK
	}
	if mood.Anger < o.AngerBelow.Threshold {
		v += o.AngerBelow.OK
	} else {
		v += o.AngerBelow.Missing
	}
	return max(o.Min, min(o.Max, v))
}

func deriveOutcome(as []simulator.Assessment, mood simulator.Mood) simulator.Outcome {
	if len(as) == 0 {
		return simulator.OutcomeAbandoned
	}
	if as[len(as)-1].Has("escalate_cleanly") {
		return simulator.OutcomeEscalated
	}
	agreed := false
	for _, x := range as {
		agreed = agreed || slices.Contains(x.Steps, simulator.StepAgree)
	}
	if agreed && mood.Anger < 30 {
		return simulator.OutcomeResolved
	}
	if agreed {
		return simulator.OutcomeRetained
	}
	return simulator.OutcomeLost
}

// dimensions scores the five RATER dimensions (GUIDE §3.1).
func (a *Assessor) dimensions(as []simulator.Assessment, recs []simulator.TurnRecord, mode simulator.Mode, lang simulator.Lang, count map[string]int) map[simulator.Dimension]int {
	d := a.s.Dimensions
	fromCodes := func(ds dimSpec) int {
		v := float64(ds.Base)
		for code, delta := range ds.Codes {
			n := count[code]
			if n == 0 {
				continue
			}
			if delta > 0 {
				v += float64(delta) // earned once
			} else {
				v += float64(delta * n) // charged every time
			}
		}
		return clamp100(v)
	}
	out := map[simulator.Dimension]int{
		simulator.DimReliability: fromCodes(d.Reliability),
		simulator.DimAssurance:   fromCodes(d.Assurance),
		simulator.DimEmpathy:     fromCodes(d.Empathy),
	}
	tang := float64(d.Tangibles.Base)
	if len(recs) > 0 {
		sum := 0.0
		for _, rec := range recs {
			sum += float64(a.tangibles(rec.Reply, lang))
		}
		tang = sum / float64(len(recs))
	}
	out[simulator.DimTangibles] = clamp100(math.Round(tang))
	out[simulator.DimResponsiveness] = a.responsiveness(recs, mode)
	return out
}

func (a *Assessor) tangibles(reply string, lang simulator.Lang) int {
	t := a.s.Dimensions.Tangibles
	v := t.Base
	caps, emoji, runes := 0, 0, 0
	for w := range strings.FieldsFuncSeq(reply, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if len(w) >= 4 && strings.ToUpper(w) == w && strings.ToLower(w) != w {
			caps++
		}
	}
	for _, r := range reply {
		runes++
		if r >= 0x1F300 && r <= 0x1FAFF || r >= 0x2600 && r <= 0x27BF {
			emoji++
		}
	}
	if caps > 0 || strings.Contains(reply, "!!!") || strings.Contains(reply, "!!!") {
		v += t.Shouting
	}
	if emoji >= 3 {
		v += t.EmojiSpam
	}
	norm := a.z.fold(reply)
	speak := false
	for w := range strings.FieldsFuncSeq(norm, func(r rune) bool { return !(r >= 'a' && r <= 'z') }) {
		switch w {
		case "u", "ur", "pls", "plz", "thx", "lol", "ya", "gona", "wana", "k", "cuz", "btw", "omg":
			speak = true
		}
	}
	if anyOf(norm, "亲~", "亲,", "亲!", "哦~", "呢~", "木有", "酱紫", "肿么", "神马") {
		speak = true
	}
	if speak {
		v += t.TextSpeak
	}
	if lang == simulator.LangZH && strings.Contains(norm, "你") {
		v += t.InformalYou
	}
	if runes > 400 && !strings.Contains(reply, "\n") {
		v += t.WallOfText
	}
	return max(0, min(100, v))
}

func (a *Assessor) responsiveness(recs []simulator.TurnRecord, mode simulator.Mode) int {
	tm := a.s.Timing
	sum, n := 0.0, 0
	for i, rec := range recs {
		if rec.Delay <= 0 {
			continue
		}
		limit := tm.LaterReplyS
		if i == 0 {
			limit = tm.FirstReplyS
		}
		if mode != simulator.ModeExam {
			limit *= tm.CoachFactor
		}
		s := rec.Delay.Seconds()
		v := 100.0
		if s > limit {
			v = 100 * (tm.ZeroAtFactor*limit - s) / ((tm.ZeroAtFactor - 1) * limit)
		}
		sum += max(0, min(100, v))
		n++
	}
	if n == 0 {
		return tm.Unknown
	}
	return clamp100(math.Round(sum / float64(n)))
}

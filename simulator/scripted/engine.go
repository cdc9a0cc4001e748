// Package scripted plays a persona deterministically: the customer's mood
// moves only through the signals of the assessed reply, every move is
// recorded with the turn and signal that caused it, and the words come from
// the persona's and scenario's lines. For a given scenario, seed and sequence
// of assessed replies the transcript is always byte-identical: no global
// random source, no clock, no dependence on map order.
package scripted

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/sparring-gym/sparring/simulator"
)

// Engine is the scripted simulator.Customer. It holds no state of its own;
// everything lives in CustomerTurn.State, so one Engine serves all sessions.
type Engine struct {
	states *stateCache // nil in a zero Engine: every state is decoded
}

var _ simulator.Customer = (*Engine)(nil)

// New returns the scripted engine.
func New() *Engine { return &Engine{states: newStateCache(stateCacheLimit)} }

// stateVersion is bumped when the state's meaning changes.
const stateVersion = 1

// state is the engine's whole memory of a conversation, stored as JSON.
// encoding/json writes map keys sorted, so the bytes are deterministic.
type state struct {
	V        int            `json:"v"`
	Turn     int            `json:"turn"`
	Mood     simulator.Mood `json:"mood"`
	Start    simulator.Mood `json:"start"`
	Expected int            `json:"expected"`
	Heard    bool           `json:"heard"`
	// Counts is how often each signal has occurred (diminishing returns).
	Counts    map[string]int `json:"counts,omitempty"`
	AskStreak int            `json:"ask_streak,omitempty"`
	// Unhelpful counts replies in a row without a landed helpful signal.
	Unhelpful int           `json:"unhelpful,omitempty"`
	Demands   []demandState `json:"demands,omitempty"`
	Question  questionState `json:"question"`
	Revealed  []string      `json:"revealed,omitempty"`
	Pending   []pending     `json:"pending,omitempty"`
	// Used counts how often each line pool was drawn from, so lines rotate
	// instead of repeating.
	Used      map[string]int `json:"used,omitempty"`
	Negatives int            `json:"negatives,omitempty"`
	// Agreed is set once a plan, a checked proposal or a refusal with an
	// alternative has been put to the customer.
	Agreed  bool              `json:"agreed,omitempty"`
	Outcome simulator.Outcome `json:"outcome,omitempty"`
}

type demandState struct {
	ID          string `json:"id"`
	Met         bool   `json:"met,omitempty"`
	By          string `json:"by,omitempty"`
	Alternative string `json:"alternative,omitempty"`
	Offers      int    `json:"offers,omitempty"`
	Caved       bool   `json:"caved,omitempty"`
}

type questionState struct {
	Open    bool `json:"open"`
	Next    int  `json:"next"`
	Repeats int  `json:"repeats"`
	// SettledTurn is the turn the trainee restated or checked it (0: not yet).
	SettledTurn int `json:"settled_turn,omitempty"`
}

// pending is an over-promise waiting to be found out.
type pending struct {
	Made   int    `json:"made"`
	Due    int    `json:"due"`
	Demand string `json:"demand,omitempty"`
}

// Signal groups, as functions so no package state can be changed.
func ackCodes() []string { return []string{"apologize", "acknowledge_feeling", "restate_feeling"} }
func factCodes() []string {
	return []string{"inform", "options", "recommend", "set_expectation", "propose_plan", "refuse_with_alternative", "own"}
}
func settleCodes() []string {
	return []string{"restate_fact", "check_agreement", "confirm_satisfaction"}
}
func retainCodes() []string {
	return []string{"confirm_satisfaction", "offer_more", "future_contact", "appreciate"}
}

func persona(sc *simulator.Scenario) (*simulator.Persona, error) {
	if sc == nil || sc.Persona == nil {
		return nil, simulator.Errorf(simulator.CodeInvalid, "The scenario has no persona.", "场景没有设定客户角色。")
	}
	return sc.Persona, nil
}

func demandsOf(sc *simulator.Scenario) []simulator.Demand {
	if sc.Customer.Demands != nil {
		return sc.Customer.Demands
	}
	return sc.Persona.Demands
}

func langOf(sc *simulator.Scenario, l simulator.Lang) simulator.Lang {
	if l.Valid() {
		return l
	}
	return sc.Lang
}

// Open returns the opening line and the initial state.
func (e *Engine) Open(_ context.Context, req simulator.OpenRequest) (simulator.CustomerTurn, error) {
	p, err := persona(req.Scenario)
	if err != nil {
		return simulator.CustomerTurn{}, err
	}
	sc := req.Scenario
	lang := langOf(sc, req.Lang)
	mood := p.Mood
	if sc.Customer.Mood != nil {
		mood = *sc.Customer.Mood
	}
	st := &state{V: stateVersion, Mood: mood, Start: mood, Expected: p.Expectation.Level,
		Counts: map[string]int{}, Used: map[string]int{}}
	for _, d := range demandsOf(sc) {
		st.Demands = append(st.Demands, demandState{ID: d.ID})
	}
	st.Question.Open = p.RepeatsQuestion && len(sc.Customer.Questions) > 0
	if len(sc.Customer.Opening) == 0 {
		return simulator.CustomerTurn{}, simulator.Errorf(simulator.CodeInvalid, "The scenario has no opening line.", "场景没有开场白。")
	}
	text := st.draw(req.Seed, "opening", sc.Customer.Opening).In(lang)
	intent := fmt.Sprintf("Opens the conversation about %s, %s", sc.Customer.Issue.In(simulator.LangEN), moodWords(p, mood))
	if d := openDemand(sc, st); d != nil {
		intent += fmt.Sprintf("; wants %s", d.Text.In(simulator.LangEN))
	}
	if st.Question.Open {
		intent += "; asks when, and will keep asking until the agent restates the question"
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return simulator.CustomerTurn{}, fmt.Errorf("scripted: encode state: %w", err)
	}
	return simulator.CustomerTurn{Text: text, Mood: mood, State: raw, Intent: intent + "."}, nil
}

func decodeState(raw []byte) (*state, error) {
	st := &state{}
	if err := json.Unmarshal(raw, st); err != nil {
		return nil, fmt.Errorf("scripted: decode state: %w", err)
	}
	if st.V != stateVersion {
		return nil, fmt.Errorf("scripted: state version %d, want %d", st.V, stateVersion)
	}
	if st.Counts == nil {
		st.Counts = map[string]int{}
	}
	if st.Used == nil {
		st.Used = map[string]int{}
	}
	return st, nil
}

// turnCtx gathers what one Respond decides before the line is written.
type turnCtx struct {
	moves    []simulator.MoodMove
	reaction string // react pool key
	reveal   bool
	fact     *simulator.Fact
	vague    bool
	stage    string
	alt      simulator.Text
	notes    []string // plain-English reasons for the intent
	outcome  simulator.Outcome
	reason   string
	// pleased speaks the calm lines whatever the mood: the customer has
	// just been promised what they demanded.
	pleased bool
}

// Respond applies an assessed reply and answers it.
func (e *Engine) Respond(_ context.Context, req simulator.RespondRequest) (simulator.CustomerTurn, error) {
	p, err := persona(req.Scenario)
	if err != nil {
		return simulator.CustomerTurn{}, err
	}
	sc := req.Scenario
	lang := langOf(sc, req.Lang)
	st, err := e.states.load(req.State)
	if err != nil {
		return simulator.CustomerTurn{}, err
	}
	if st.Outcome != "" {
		return simulator.CustomerTurn{}, simulator.Errorf(simulator.CodeSessionEnded, "The customer has already left.", "客户已经结束了对话。")
	}
	st.Turn = req.Turn
	tc := &turnCtx{}
	codes := signalCodes(req.Assessment)
	has := func(group []string) bool {
		for _, c := range group {
			if slices.Contains(codes, c) {
				return true
			}
		}
		return false
	}
	acked := has(ackCodes())
	landed := map[string]bool{}
	negative := false
	worst := 0

	for _, code := range codes {
		eff, known := p.Effects[code]
		if !known {
			continue
		}
		if slices.Contains(simulator.PositiveSignals, code) {
			if p.NeedsAcknowledgement && !st.Heard && !acked && slices.Contains(factCodes(), code) {
				u := p.Effects[simulator.EffectUnheard]
				tc.move(st, req.Turn, code, u, "not heard yet: facts before any acknowledgement do not land")
				if tc.reaction == "" {
					tc.reaction = simulator.EffectUnheard
				}
				continue
			}
			st.Counts[code]++
			n := st.Counts[code]
			note := ""
			if n > 1 {
				note = fmt.Sprintf("repeated (%d×): weaker effect", n)
			}
			tc.move(st, req.Turn, code, simulator.Effect{Anger: eff.Anger / n, Trust: eff.Trust / n}, note)
			landed[code] = true
			continue
		}
		negative = true
		st.Negatives++
		st.Counts[code]++
		if code == "over_promise" {
			tc.overPromise(st, p, sc, req.Turn, eff)
			continue
		}
		note := ""
		if code == "irritation" && st.Question.Open {
			note = "irritation at a repeated question: the question keeps returning"
		}
		tc.move(st, req.Turn, code, eff, note)
		if eff.Anger >= worst {
			worst = eff.Anger
			tc.reaction = code
		}
	}
	if acked {
		st.Heard = true
	}
	if landed["ask"] && !acked {
		st.AskStreak++
		if st.AskStreak > 3 {
			tc.move(st, req.Turn, "ask", p.Effects[simulator.EffectInterrogation], "interrogation: a fourth question in a row without acknowledgement")
			if tc.reaction == "" {
				tc.reaction = simulator.EffectInterrogation
			}
		}
	} else {
		st.AskStreak = 0
	}
	if !negative && (landed["propose_plan"] || landed["check_agreement"] || landed["refuse_with_alternative"] || landed["escalate_cleanly"]) {
		st.Agreed = true // a concrete way forward has been put to the customer
	}
	if landed["set_expectation"] {
		st.Expected = max(0, st.Expected-10) // an honest expectation, set early, lowers what they think they are owed
	}
	helpful := len(landed) > 0 && !negative
	if helpful {
		st.Unhelpful = 0
	} else {
		st.Unhelpful++
	}

	// Hidden facts come out when asked about.
	if landed["ask"] {
		tc.findFact(st, p, sc, req.Reply, req.Assessment)
	}
	// The repeat asker settles only when the question is restated or checked,
	// and not by a reply that is also rude.
	if st.Question.Open && !negative {
		for _, c := range settleCodes() {
			if landed[c] {
				st.Question.Open = false
				st.Question.SettledTurn = req.Turn
				tc.notes = append(tc.notes, fmt.Sprintf("feels understood (%s): stops repeating the question", c))
				break
			}
		}
	}
	if !negative { // an alternative offered rudely is not one the customer takes
		tc.demands(st, p, sc, lang, req.Turn, req.Reply, landed)
	}
	tc.reveals(st, p, req.Turn)

	// Endings the customer chooses.
	th := p.Thresholds
	switch {
	case st.Mood.Anger >= th.LostAnger || st.Mood.Trust <= th.LostTrust:
		tc.end(simulator.OutcomeLost, reasonLost(lang, "mood"), simulator.StageLeave)
	case st.Unhelpful > p.Patience && p.Silent:
		tc.end(simulator.OutcomeLost, reasonText(lang, "The customer said goodbye politely but will not order again.", "客户礼貌地道别，但不会再下单了。"), simulator.StageLeave)
	case st.Unhelpful > p.Patience:
		tc.end(simulator.OutcomeLost, reasonLost(lang, "patience"), simulator.StageLeave)
	case landed["escalate_cleanly"] && !landed["propose_plan"] && !landed["options"] && !landed["own"] && !landed["refuse_with_alternative"] && !landed["recommend"]:
		// A handover offered alongside a plan of one's own is an option, not
		// an escalation; only a handover on its own ends the chat here.
		tc.end(simulator.OutcomeEscalated, reasonText(lang, "Handed over to a supervisor with the context.", "已带着完整情况转交主管。"), simulator.StageEscalate)
	case has(retainCodes()) && st.Agreed && !st.openAny() && len(st.Pending) == 0 && st.judge(p) == simulator.OutcomeResolved:
		// The customer closes only when satisfied and a way forward was
		// agreed; anything less is for Conclude to judge when the trainee ends.
		tc.end(simulator.OutcomeResolved, reasonClosed(lang, simulator.OutcomeResolved), simulator.StageThanks)
	}
	if tc.stage == "" {
		switch {
		case st.Question.Open:
			tc.stage = simulator.StageRepeat
			st.Question.Repeats++
		case openDemand(sc, st) != nil:
			tc.stage = simulator.StagePress
		case landed["propose_plan"] || landed["check_agreement"]:
			tc.stage = simulator.StageAccept // nothing open: agrees to the plan
			tc.alt = simulator.Text{simulator.LangEN: "that plan", simulator.LangZH: "这个安排"}
		default:
			tc.stage = simulator.StageSettle
		}
	}
	// A positive reaction opens the line the first time an acknowledgement lands.
	if tc.reaction == "" && tc.outcome == "" {
		for _, c := range []string{"acknowledge_feeling", "restate_feeling", "apologize", "restate_fact", "own"} {
			if landed[c] && st.Counts[c] == 1 {
				tc.reaction = c
				break
			}
		}
	}
	text := tc.render(st, p, sc, lang, req.Seed)
	st.Outcome = tc.outcome
	raw, err := json.Marshal(st)
	if err != nil {
		return simulator.CustomerTurn{}, fmt.Errorf("scripted: encode state: %w", err)
	}
	e.states.store(raw, st)
	if req.Delta != nil {
		req.Delta(text)
	}
	return simulator.CustomerTurn{Text: text, Mood: st.Mood, Moves: tc.moves, Outcome: tc.outcome, Reason: tc.reason,
		State: raw, Intent: tc.intent(st, p, sc)}, nil
}

// signalCodes lists the reply's signal codes once each, in order.
func signalCodes(a simulator.Assessment) []string {
	var out []string
	for _, s := range a.Signals {
		if !slices.Contains(out, s.Code) {
			out = append(out, s.Code)
		}
	}
	return out
}

func (tc *turnCtx) move(st *state, turn int, code string, eff simulator.Effect, note string) {
	before := st.Mood
	st.Mood = simulator.Mood{Anger: st.Mood.Anger + eff.Anger, Trust: st.Mood.Trust + eff.Trust}.Clamp()
	m := simulator.MoodMove{Turn: turn, Signal: code, Anger: st.Mood.Anger - before.Anger, Trust: st.Mood.Trust - before.Trust, Note: note}
	if m.Anger == 0 && m.Trust == 0 && note == "" {
		return
	}
	tc.moves = append(tc.moves, m)
}

func (tc *turnCtx) end(o simulator.Outcome, reason, stage string) {
	tc.outcome, tc.reason, tc.stage = o, reason, stage
}

// overPromise: pleased for now; the cost comes when it is found out.
func (tc *turnCtx) overPromise(st *state, p *simulator.Persona, sc *simulator.Scenario, turn int, eff simulator.Effect) {
	after := 2
	if len(p.Reveals) > 0 {
		after = p.Reveals[0].AfterTurns
	}
	pd := pending{Made: turn, Due: turn + after}
	st.Expected = min(100, st.Expected+15)
	note := fmt.Sprintf("takes the promise at face value; found out on turn %d", pd.Due)
	for i := range st.Demands {
		if !st.Demands[i].Met {
			st.Demands[i].Met, st.Demands[i].By, st.Demands[i].Caved = true, "over_promise", true
			pd.Demand = st.Demands[i].ID
			tc.stage = simulator.StageAccept
			tc.pleased = true // got exactly what they asked for
			tc.alt = demandByID(sc, st.Demands[i].ID).Text
			acc := p.Effects[simulator.EffectAccept]
			eff = simulator.Effect{Anger: eff.Anger + acc.Anger, Trust: eff.Trust + acc.Trust}
			note = fmt.Sprintf("gets what policy forbids and is pleased for now; found out on turn %d", pd.Due)
			break
		}
	}
	st.Pending = append(st.Pending, pd)
	tc.move(st, turn, "over_promise", eff, note)
	tc.notes = append(tc.notes, "believes an over-promise")
}

// reveals fires the over-promises that are due.
func (tc *turnCtx) reveals(st *state, p *simulator.Persona, turn int) {
	var keep []pending
	for _, pd := range st.Pending {
		if pd.Due > turn {
			keep = append(keep, pd)
			continue
		}
		tc.fire(st, p, turn, pd)
	}
	st.Pending = keep
}

func (tc *turnCtx) fire(st *state, p *simulator.Persona, turn int, pd pending) {
	eff := p.Effects[simulator.EffectReveal]
	if len(p.Reveals) > 0 {
		eff = simulator.Effect{Anger: p.Reveals[0].Anger, Trust: p.Reveals[0].Trust}
	}
	tc.move(st, turn, "over_promise", eff, fmt.Sprintf("reveal: the promise of turn %d is found out", pd.Made))
	for i := range st.Demands {
		if st.Demands[i].ID == pd.Demand {
			st.Demands[i] = demandState{ID: pd.Demand, Offers: st.Demands[i].Offers}
		}
	}
	tc.reveal = true
	tc.reaction = ""
	tc.notes = append(tc.notes, fmt.Sprintf("finds out the over-promise of turn %d", pd.Made))
	if tc.stage == simulator.StageAccept {
		tc.stage = ""
	}
}

func (tc *turnCtx) findFact(st *state, p *simulator.Persona, sc *simulator.Scenario, reply string, a simulator.Assessment) {
	text := strings.ToLower(reply)
	for _, s := range a.Signals {
		if s.Code == "ask" {
			text += " " + strings.ToLower(s.Evidence)
		}
	}
	for i := range sc.HiddenFacts {
		f := &sc.HiddenFacts[i]
		if slices.Contains(st.Revealed, f.ID) {
			continue
		}
		if !slices.ContainsFunc(f.AskedBy, func(w string) bool { return strings.Contains(text, w) }) {
			continue
		}
		// A customer who struggles to explain answers one question at a time.
		if p.Clarity < 50 && strings.Count(reply, "?")+strings.Count(reply, "\uff1f") > 1 {
			tc.vague = true
			tc.notes = append(tc.notes, "too many questions at once: cannot answer clearly")
			return
		}
		st.Revealed = append(st.Revealed, f.ID)
		tc.fact = f
		tc.notes = append(tc.notes, fmt.Sprintf("reveals hidden fact %q because it was asked", f.ID))
		return
	}
}

// demands settles open demands with real alternatives, or notes a refusal.
func (tc *turnCtx) demands(st *state, p *simulator.Persona, sc *simulator.Scenario, lang simulator.Lang, turn int, reply string, landed map[string]bool) {
	low := strings.ToLower(reply)
	for i := range st.Demands {
		ds := &st.Demands[i]
		if ds.Met {
			continue
		}
		d := demandByID(sc, ds.ID)
		by := ""
		for _, c := range d.AcceptedBy {
			if landed[c] {
				by = c
				break
			}
		}
		if by == "" {
			return
		}
		var alt *simulator.Alternative
		if len(d.Alternatives) > 0 {
			for j := range d.Alternatives {
				a := &d.Alternatives[j]
				if slices.ContainsFunc(keywords(a.Keywords, lang), func(w string) bool { return strings.Contains(low, strings.ToLower(w)) }) {
					alt = a
					break
				}
			}
			if alt == nil {
				tc.notes = append(tc.notes, fmt.Sprintf("hears %s but no alternative it could accept", by))
				return
			}
		}
		altText := simulator.Text{simulator.LangEN: "that", simulator.LangZH: "这个"}
		if alt != nil {
			altText = alt.Text
		}
		tc.alt = altText
		if simulator.BandOf(st.Mood.Anger) == simulator.BandHot {
			tc.stage = simulator.StageRejectOffer
			tc.notes = append(tc.notes, fmt.Sprintf("too angry to consider %s yet", altText.In(simulator.LangEN)))
			return
		}
		ds.Offers++
		if ds.Offers <= d.Insist {
			tc.stage = simulator.StageRejectOffer
			tc.notes = append(tc.notes, fmt.Sprintf("turns down %s once more (insists %d×)", altText.In(simulator.LangEN), d.Insist))
			return
		}
		ds.Met, ds.By = true, by
		if alt != nil {
			ds.Alternative = alt.ID
		}
		tc.move(st, turn, by, p.Effects[simulator.EffectAccept], fmt.Sprintf("accepts %s instead of %s", altText.In(simulator.LangEN), d.Text.In(simulator.LangEN)))
		tc.stage = simulator.StageAccept
		tc.notes = append(tc.notes, fmt.Sprintf("accepts %s", altText.In(simulator.LangEN)))
		return
	}
}

func keywords(k map[simulator.Lang][]string, lang simulator.Lang) []string {
	out := slices.Clone(k[lang])
	for _, l := range simulator.Langs {
		if l != lang {
			out = append(out, k[l]...)
		}
	}
	return out
}

func demandByID(sc *simulator.Scenario, id string) simulator.Demand {
	for _, d := range demandsOf(sc) {
		if d.ID == id {
			return d
		}
	}
	return simulator.Demand{ID: id}
}

func openDemand(sc *simulator.Scenario, st *state) *simulator.Demand {
	for _, ds := range st.Demands {
		if !ds.Met {
			d := demandByID(sc, ds.ID)
			return &d
		}
	}
	return nil
}

func (st *state) openAny() bool {
	if st.Question.Open {
		return true
	}
	for _, d := range st.Demands {
		if !d.Met {
			return true
		}
	}
	return false
}

// perceived is what the chat has delivered so far, on the expectation scale.
func (st *state) perceived() int { return (st.Mood.Trust + 100 - st.Mood.Anger) / 2 }

// judge reads the outcome off the mood: resolved needs every demand settled
// and what was delivered close to what was expected.
func (st *state) judge(p *simulator.Persona) simulator.Outcome {
	th := p.Thresholds
	switch {
	case st.Mood.Anger < th.ResolvedAnger && st.Mood.Trust >= th.ResolvedTrust && !st.openAny() && st.perceived() >= st.Expected-20:
		return simulator.OutcomeResolved
	case st.Mood.Anger < th.RetainedAnger && st.Mood.Trust >= th.RetainedTrust:
		return simulator.OutcomeRetained
	}
	return simulator.OutcomeLost
}

// Conclude decides the outcome when the trainee ends the conversation. An
// over-promise not yet found out is counted as found out: the customer will
// come back when it fails.
func (e *Engine) Conclude(_ context.Context, req simulator.ConcludeRequest) (simulator.Outcome, string, error) {
	p, err := persona(req.Scenario)
	if err != nil {
		return "", "", err
	}
	lang := langOf(req.Scenario, req.Lang)
	st, err := e.states.load(req.State)
	if err != nil {
		return "", "", err
	}
	if st.Outcome != "" {
		return st.Outcome, "", nil
	}
	tc := &turnCtx{}
	pendingReveal := len(st.Pending) > 0
	for _, pd := range st.Pending {
		tc.fire(st, p, st.Turn, pd)
	}
	st.Pending = nil
	o := st.judge(p)
	if o == simulator.OutcomeRetained && !st.Agreed && st.openAny() {
		// Calmer is not kept: closing before anything was put to the customer
		// leaves them waiting, so they go (GUIDE §1.4: no abrupt close).
		return simulator.OutcomeLost, reasonText(lang, "The conversation was closed before anything was agreed; the customer is still waiting for an answer.", "还没谈妥任何方案对话就结束了，客户仍在等一个答复。"), nil
	}
	switch {
	case o != simulator.OutcomeLost && pendingReveal:
		return o, reasonText(lang, "The customer leaves pleased, but the over-promise will be found out.", "客户暂时满意地离开，但过度承诺迟早会被发现。"), nil
	case o != simulator.OutcomeLost:
		return o, reasonClosed(lang, o), nil
	case p.PolicyClose && st.Negatives == 0 && st.Heard:
		return simulator.OutcomeEscalated, reasonText(lang, "Ended by policy after a calm boundary; the contact is logged.", "在平静说明底线后按规定结束对话，已记录。"), nil
	case pendingReveal:
		return o, reasonText(lang, "The over-promise is found out and the customer does not come back.", "过度承诺被发现，客户不会再回来。"), nil
	case p.Silent:
		return o, reasonText(lang, "The customer said goodbye politely but will not order again.", "客户礼貌地道别，但不会再下单了。"), nil
	}
	return o, reasonLost(lang, "ended"), nil
}

func reasonText(lang simulator.Lang, en, zh string) string {
	if lang == simulator.LangZH {
		return zh
	}
	return en
}

func reasonClosed(lang simulator.Lang, o simulator.Outcome) string {
	if o == simulator.OutcomeResolved {
		return reasonText(lang, "The customer is satisfied and the problem is settled.", "客户满意，问题已解决。")
	}
	return reasonText(lang, "The customer accepts what can be done and will stay with us.", "客户接受了可行的方案，愿意继续留下。")
}

func reasonLost(lang simulator.Lang, why string) string {
	switch why {
	case "mood":
		return reasonText(lang, "The customer lost patience and left.", "客户忍无可忍，离开了。")
	case "patience":
		return reasonText(lang, "Too many replies without real help: the customer gave up.", "太多回复没有实质帮助，客户放弃了。")
	}
	return reasonText(lang, "The conversation ended with the customer still unhappy.", "对话结束时客户仍然不满意。")
}

// draw picks the next line of a pool: a seeded rotation, so a pool repeats
// only after every line in it has been used.
func (st *state) draw(seed int64, key string, pool []simulator.Text) simulator.Text {
	if len(pool) == 0 {
		return nil
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s", seed, key)
	start := int(h.Sum64() % uint64(len(pool)))
	k := st.Used[key]
	st.Used[key] = k + 1
	return pool[(start+k)%len(pool)]
}

// lines returns the pool for stage in band, falling back to "any" and then
// to the nearest band.
func lines(p *simulator.Persona, stage string, band simulator.Band) ([]simulator.Text, simulator.Band) {
	bands := p.Lines.Stages[stage]
	if l := bands[band]; len(l) > 0 {
		return l, band
	}
	if l := bands[simulator.BandAny]; len(l) > 0 {
		return l, simulator.BandAny
	}
	for _, b := range []simulator.Band{simulator.BandTense, simulator.BandCalm, simulator.BandHot} {
		if l := bands[b]; len(l) > 0 {
			return l, b
		}
	}
	return nil, band
}

func (tc *turnCtx) render(st *state, p *simulator.Persona, sc *simulator.Scenario, lang simulator.Lang, seed int64) string {
	var parts []string
	fill := func(s string) string { return tc.fill(s, st, p, sc, lang) }
	if tc.reaction != "" && !tc.reveal {
		if pool := p.Lines.React[tc.reaction]; len(pool) > 0 {
			parts = append(parts, fill(st.draw(seed, "react/"+tc.reaction, pool).In(lang)))
		}
	}
	if tc.reveal {
		pool, band := lines(p, simulator.StageReveal, simulator.BandOf(st.Mood.Anger))
		parts = append(parts, fill(st.draw(seed, "reveal/"+string(band), pool).In(lang)))
	}
	if tc.fact != nil {
		parts = append(parts, tc.fact.Text.In(lang))
	}
	mood := simulator.BandOf(st.Mood.Anger)
	if tc.pleased && tc.stage == simulator.StageAccept {
		mood = simulator.BandCalm
	}
	pool, band := lines(p, tc.stage, mood)
	key := tc.stage + "/" + string(band)
	k := st.Used[key]
	line := fill(st.draw(seed, key, pool).In(lang))
	// A lead-in when nothing else opens the line. It advances once per full
	// turn of the main pool, so (lead, line) pairs repeat only after
	// len(leads)+1 rounds of the pool.
	if len(parts) == 0 && tc.stage != simulator.StageReveal && line != "" {
		if leads, _ := lines(p, simulator.StageLead, simulator.BandOf(st.Mood.Anger)); len(leads) > 0 && len(pool) > 0 {
			h := fnv.New64a()
			fmt.Fprintf(h, "%d/lead/%s", seed, key)
			// Lead and line both change every turn; the pair repeats only
			// after lcm(lines, leads+1) turns, then shifts to new pairs.
			n := len(leads) + 1
			period := len(pool) * n / gcd(len(pool), n)
			i := (int(h.Sum64()%uint64(n)) + k + k/period) % n
			if i < len(leads) {
				// Never a lead the line already starts with ("OK. OK, …"):
				// take the next one instead.
				lead := leads[i].In(lang)
				if strings.HasPrefix(line, strings.TrimRight(lead, ".。…！")) {
					lead = leads[(i+1)%len(leads)].In(lang)
				}
				if !strings.HasPrefix(line, strings.TrimRight(lead, ".。…！")) {
					parts = append(parts, lead)
				}
			}
		}
	}
	if line != "" {
		parts = append(parts, line)
	}
	sep := " "
	if lang == simulator.LangZH {
		sep = ""
	}
	return strings.Join(parts, sep)
}

func (tc *turnCtx) fill(s string, st *state, p *simulator.Persona, sc *simulator.Scenario, lang simulator.Lang) string {
	if !strings.Contains(s, "{") {
		return s
	}
	demand := ""
	if d := openDemand(sc, st); d != nil {
		demand = d.Text.In(lang)
	} else if ds := demandsOf(sc); len(ds) > 0 {
		demand = ds[0].Text.In(lang)
	} else {
		demand = sc.Customer.Issue.In(lang)
	}
	question := ""
	if q := sc.Customer.Questions; len(q) > 0 {
		question = q[st.Question.Next%len(q)].In(lang)
		if strings.Contains(s, "{question}") {
			st.Question.Next++
		}
	}
	reveal := sc.Customer.Reveal.In(lang)
	if reveal == "" && len(p.Reveals) > 0 {
		reveal = p.Reveals[0].Text.In(lang)
	}
	alt := tc.alt.In(lang)
	if alt == "" {
		alt = reasonText(lang, "that", "这个")
	}
	out := fillPlaceholders(s, [...][2]string{{"{issue}", sc.Customer.Issue.In(lang)}, {"{demand}", demand},
		{"{question}", question}, {"{alternative}", alt}, {"{reveal}", reveal}})
	if lang == simulator.LangEN {
		out = sentenceCase(out)
	}
	return out
}

// fillPlaceholders replaces each placeholder in one left-to-right pass, as
// strings.NewReplacer would (none is a prefix of another, so at most one
// matches at a position, and replacements are not rescanned), without
// building a replacer per line (issue 9, allocations per turn).
func fillPlaceholders(s string, subs [5][2]string) string {
	var b strings.Builder
	b.Grow(len(s) + 32)
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i:]
		matched := false
		for _, sub := range subs {
			if strings.HasPrefix(s, sub[0]) {
				b.WriteString(sub[1])
				s = s[len(sub[0]):]
				matched = true
				break
			}
		}
		if !matched {
			b.WriteByte('{')
			s = s[1:]
		}
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// sentenceCase capitalises a letter that starts a sentence, so a
// placeholder filled at the start of one ("a full refund is…") reads right.
func sentenceCase(s string) string {
	b := []byte(s)
	start := true
	for i, c := range b {
		switch {
		case c == '.' && i >= 2 && b[i-2] == '.': // "a.m." is not a sentence end
			start = false
		case c == '.' || c == '?' || c == '!':
			start = true
		case c == ' ' || c == '"' || c == '\'':
		case start && c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
			start = false
		default:
			start = false
		}
	}
	return string(b)
}

func moodWords(p *simulator.Persona, m simulator.Mood) string {
	feel := map[simulator.Band]string{simulator.BandCalm: "calm", simulator.BandTense: "tense", simulator.BandHot: "angry"}[simulator.BandOf(m.Anger)]
	if p.Silent && feel != "calm" {
		feel = "quietly unhappy but polite"
	}
	return fmt.Sprintf("%s (anger %d, trust %d)", feel, m.Anger, m.Trust)
}

// stageIntent says in plain words what a stage's line is for; %s is the demand.
func stageIntent(stage string) (string, bool) {
	switch stage {
	case simulator.StagePress:
		return "presses again for %s", true
	case simulator.StageRepeat:
		return "asks the same question again in new words", true
	case simulator.StageSettle:
		return "waits for a concrete plan", true
	case simulator.StageRejectOffer:
		return "turns down the offered alternative and restates %s", true
	case simulator.StageAccept:
		return "accepts the alternative", true
	case simulator.StageThanks:
		return "closes the conversation satisfied and thanks the agent", true
	case simulator.StageLeave:
		return "gives up and leaves", true
	case simulator.StageEscalate:
		return "accepts the handover to a supervisor", true
	}
	return "", false
}

func (tc *turnCtx) intent(st *state, p *simulator.Persona, sc *simulator.Scenario) string {
	var b strings.Builder
	b.WriteString("Customer is ")
	b.WriteString(moodWords(p, st.Mood))
	if tc.reaction != "" {
		fmt.Fprintf(&b, "; reacts to the agent's %s", strings.ReplaceAll(tc.reaction, "_", " "))
	}
	for _, n := range tc.notes {
		b.WriteString("; ")
		b.WriteString(n)
	}
	demand := sc.Customer.Issue.In(simulator.LangEN)
	if d := openDemand(sc, st); d != nil {
		demand = d.Text.In(simulator.LangEN)
	}
	if f, ok := stageIntent(tc.stage); ok {
		b.WriteString("; ")
		if strings.Contains(f, "%s") {
			fmt.Fprintf(&b, f, demand)
		} else {
			b.WriteString(f)
		}
	}
	b.WriteString(".")
	return b.String()
}

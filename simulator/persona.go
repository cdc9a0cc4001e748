package simulator

// Persona is a reusable difficult customer. The persona engine (scripted, or
// the LLM wording layer on top of it) plays it; its fields are data from
// personas/*.yaml (see personas/README.md for every field).
type Persona struct {
	ID     string   `json:"id"`
	Name   Text     `json:"name"`
	Traits []string `json:"traits,omitempty"`

	// Summary describes the persona for trainers choosing a scenario.
	Summary Text `json:"summary,omitempty"`
	// Style is the interpersonal style (GUIDE §6.1): driver, analytical,
	// amiable or expressive.
	Style string `json:"style,omitempty"`

	// The engine-facing definition below is hidden from trainees: knowing the
	// numbers would turn practice into gaming the meter.

	// Mood is the starting anger and trust.
	Mood Mood `json:"-"`
	// Patience is how many replies in a row without any helpful signal the
	// customer tolerates before leaving.
	Patience int `json:"-"`
	// Expectation is what the customer thinks they are owed (GUIDE §3.2).
	Expectation Expectation `json:"-"`
	// Clarity (0–100) is how well the customer can state the problem. Below
	// 50 they only answer one question at a time: a reply that fires several
	// questions draws no hidden fact.
	Clarity int `json:"-"`
	// NeedsAcknowledgement means facts (inform, options, plans) do not land
	// until the trainee has acknowledged the customer's feelings once.
	NeedsAcknowledgement bool `json:"-"`
	// RepeatsQuestion means the customer keeps coming back to the scenario's
	// question, reworded, until the trainee restates or checks it.
	RepeatsQuestion bool `json:"-"`
	// Silent means the customer stays polite whatever happens: a lost outcome
	// comes without a scene (GUIDE P12).
	Silent bool `json:"-"`
	// PolicyClose means the agent may end the chat by policy after one calm
	// boundary (GUIDE P14): a trainee who ends it without retaliating while
	// the customer is still hostile gets escalated, not lost.
	PolicyClose bool `json:"-"`
	// Effects are the mood moves per RUBRIC signal code, already merged over
	// DefaultEffects.
	Effects map[string]Effect `json:"-"`
	// Thresholds turn the mood into an outcome.
	Thresholds Thresholds `json:"-"`
	// Demands are what the customer presses for and what they will accept
	// instead. A scenario may replace them with its own.
	Demands []Demand `json:"-"`
	// Lines are the customer's words per conversation stage and mood band, in
	// both languages; React are short reactions to a signal in the reply.
	Lines Lines `json:"-"`
	// Reveals are reality events: an over-promise found out later.
	Reveals []Reveal `json:"-"`
}

// Expectation is the service level the customer expects and where that
// expectation comes from.
type Expectation struct {
	Level  int    `json:"level"`  // 0–100
	Origin string `json:"origin"` // experience, word_of_mouth or personal_need
	Text   Text   `json:"text,omitempty"`
}

// Expectation origins (GUIDE §3.2).
const (
	OriginExperience   = "experience"
	OriginWordOfMouth  = "word_of_mouth"
	OriginPersonalNeed = "personal_need"
)

// Effect is how one signal moves the mood (deltas). The engine divides a
// positive effect by how often the signal has occurred (diminishing returns).
type Effect struct {
	Anger int `json:"anger"`
	Trust int `json:"trust"`
}

// Thresholds decide the outcome from the mood.
type Thresholds struct {
	// Resolved: anger below ResolvedAnger and trust at least ResolvedTrust,
	// with every demand settled.
	ResolvedAnger int `json:"resolved_anger"`
	ResolvedTrust int `json:"resolved_trust"`
	// Retained: anger below RetainedAnger and trust at least RetainedTrust.
	RetainedAnger int `json:"retained_anger"`
	RetainedTrust int `json:"retained_trust"`
	// Lost: the customer leaves mid-conversation when anger reaches LostAnger
	// or trust falls to LostTrust.
	LostAnger int `json:"lost_anger"`
	LostTrust int `json:"lost_trust"`
}

// Demand is something the customer presses for. It is settled when a reply
// carries one of AcceptedBy and, if Alternatives are given, names one of
// them; Insist is how many such offers the customer turns down first.
type Demand struct {
	ID           string        `json:"id"`
	Text         Text          `json:"text"`
	AcceptedBy   []string      `json:"accepted_by"`
	Alternatives []Alternative `json:"alternatives,omitempty"`
	Insist       int           `json:"insist,omitempty"`
}

// Alternative is something the customer can come to accept instead of the
// demand, recognised by its keywords in a reply.
type Alternative struct {
	ID       string            `json:"id"`
	Text     Text              `json:"text"`
	Keywords map[Lang][]string `json:"keywords"`
}

// Band is a mood band, chosen by anger.
type Band string

const (
	BandCalm  Band = "calm"  // anger below 35
	BandTense Band = "tense" // anger 35–69
	BandHot   Band = "hot"   // anger 70 and above
	BandAny   Band = "any"   // lines that fit every band
)

// Bands lists the specific bands, coolest first.
var Bands = []Band{BandCalm, BandTense, BandHot}

// BandOf returns the band an anger value falls in.
func BandOf(anger int) Band {
	switch {
	case anger < 35:
		return BandCalm
	case anger < 70:
		return BandTense
	default:
		return BandHot
	}
}

// Conversation stages a persona has lines for.
const (
	StagePress       = "press"        // a demand is still open: pushes for it
	StageRepeat      = "repeat"       // the question is still open: asks it again, reworded
	StageSettle      = "settle"       // nothing open: waits for the plan, comments
	StageRejectOffer = "reject_offer" // turns down an offered alternative (Insist)
	StageAccept      = "accept"       // accepts an alternative or plan
	StageThanks      = "thanks"       // closes satisfied
	StageLeave       = "leave"        // walks away
	StageEscalate    = "escalate"     // accepts a handover to a supervisor
	StageReveal      = "reveal"       // an over-promise found out
	// StageLead holds short lead-ins ("Look.", "嗯。") put before a line
	// that has no reaction; combined with the main lines they multiply the
	// variety, so a long session rarely repeats itself verbatim.
	StageLead = "lead"
)

// Stages lists every stage name the loader accepts.
var Stages = []string{StagePress, StageRepeat, StageSettle, StageRejectOffer, StageAccept,
	StageThanks, StageLeave, StageEscalate, StageReveal, StageLead}

// Lines holds what a persona says.
type Lines struct {
	// Stages maps a stage to its lines per band; placeholders {issue},
	// {demand}, {question} and {alternative} are filled from the scenario.
	Stages map[string]map[Band][]Text `json:"-"`
	// React maps a signal code (or "unheard": a fact before acknowledgement)
	// to short reactions that open the customer's line.
	React map[string][]Text `json:"-"`
}

// Reveal is a reality event: an over-promise comes to light AfterTurns turns
// after it was made, costing Anger and Trust then.
type Reveal struct {
	ID         string `json:"id"`
	AfterTurns int    `json:"after_turns"`
	Anger      int    `json:"anger"`
	Trust      int    `json:"trust"`
	Text       Text   `json:"text"`
}

// DefaultEffects returns the mood moves of GUIDE §2.5 per RUBRIC signal code,
// as a fresh map the caller may change. Signals the guide does not list get
// small moves in the same spirit. over_promise moves nothing at once: its
// cost comes with the reveal.
func DefaultEffects() map[string]Effect {
	return map[string]Effect{
		"greet":                   {0, 2},
		"identify":                {0, 2},
		"offer_help":              {0, 2},
		"use_context":             {-2, 5},
		"apologize":               {-10, 5},
		"acknowledge_feeling":     {-10, 5},
		"ask":                     {0, 5},
		"restate_fact":            {-5, 10},
		"restate_feeling":         {-10, 5},
		"inform":                  {-3, 5},
		"options":                 {-5, 10},
		"recommend":               {-3, 5},
		"set_expectation":         {0, 10},
		"own":                     {-5, 10},
		"propose_plan":            {-5, 5},
		"check_agreement":         {-3, 3},
		"refuse_with_alternative": {-3, 5},
		"escalate_cleanly":        {-5, 5},
		"confirm_satisfaction":    {-3, 3},
		"offer_more":              {0, 3},
		"future_contact":          {-2, 5},
		"appreciate":              {-2, 3},

		"command":      {10, -5},
		"blame":        {15, -15},
		"over_promise": {0, 0},
		"flat_unknown": {15, -10},
		"flat_refusal": {15, -10},
		"show_off":     {10, -10},
		"minimize":     {10, -5},
		"calm_down":    {10, -5},
		"argue":        {10, -10},
		"irritation":   {15, -10},
		"insult":       {25, -20},
	}
}

// Engine-only pseudo-signals: moves the engine records that are caused by a
// signal's absence or timing rather than by one RUBRIC code. Their Effect
// entries may be overridden like any other.
const (
	// EffectUnheard is a fact offered before the customer felt heard.
	EffectUnheard = "unheard"
	// EffectInterrogation is the fourth question in a row without acknowledgement.
	EffectInterrogation = "interrogation"
	// EffectAccept is the customer accepting an alternative or plan.
	EffectAccept = "accept"
	// EffectReveal is the default cost of an over-promise found out.
	EffectReveal = "reveal"
)

// PositiveSignals and NegativeSignals are the RUBRIC codes by polarity.
var (
	PositiveSignals = []string{"greet", "identify", "offer_help", "use_context", "apologize",
		"acknowledge_feeling", "ask", "restate_fact", "restate_feeling", "inform", "options",
		"recommend", "set_expectation", "own", "propose_plan", "check_agreement",
		"refuse_with_alternative", "escalate_cleanly", "confirm_satisfaction", "offer_more",
		"future_contact", "appreciate"}
	NegativeSignals = []string{"command", "blame", "over_promise", "flat_unknown", "flat_refusal",
		"show_off", "minimize", "calm_down", "argue", "irritation", "insult"}
)

// KnownSignal reports whether code is a RUBRIC signal code.
func KnownSignal(code string) bool {
	for _, c := range PositiveSignals {
		if c == code {
			return true
		}
	}
	for _, c := range NegativeSignals {
		if c == code {
			return true
		}
	}
	return false
}

package simulator

import "context"

// Scenario is one practice situation: who the customer is, what the trainee
// is told, what policy allows, and how long it may run. Scenarios are data
// (scenarios/*.yaml); the scenarios package loads and validates them.
type Scenario struct {
	ID         string   `json:"id"`
	Version    int      `json:"version"`
	Title      Text     `json:"title"`
	Lang       Lang     `json:"lang"`  // the language it starts in when start names none
	Langs      []Lang   `json:"langs"` // every language it can be played in
	PersonaID  string   `json:"persona"`
	Difficulty int      `json:"difficulty"`     // 1 (gentle) to 5 (hardest)
	Tags       []string `json:"tags,omitempty"` // e.g. complaint, refusal, abuse, service_failure, drill
	Brief      Brief    `json:"brief"`
	// HiddenFacts are known to the customer (and the engine) but never shown
	// to the trainee; the customer reveals them when asked.
	HiddenFacts []Fact `json:"-"`
	Policy      Policy `json:"policy"`
	Success     Text   `json:"success,omitempty"` // success criteria, for the trainer and the report
	TimeLimitS  int    `json:"time_limit_s"`      // 0 = untimed
	MaxTurns    int    `json:"max_turns"`
	// Weights overrides the rubric's step weights for this scenario (sum 1).
	Weights map[Step]float64 `json:"-"`
	Drill   bool             `json:"drill,omitempty"`
	// Draft marks a trainer's unpublished scenario: playable in test play,
	// absent from the public list.
	Draft bool `json:"-"`

	// Persona is resolved by the loader; never nil for a loaded scenario.
	Persona *Persona `json:"-"`

	// Customer is what this particular customer says and wants; the persona
	// gives the temperament, the scenario the words of the case.
	Customer CustomerScript `json:"-"`
	// Playbook holds model replies for the case, for trainers after a session
	// and for the fidelity bots.
	Playbook Playbook `json:"-"`
}

// CustomerScript is the scenario-specific part of the customer.
type CustomerScript struct {
	// Opening lists variants of the first line; the seed picks one.
	Opening []Text `json:"opening"`
	// Issue names the problem in the customer's words ({issue} in lines).
	Issue Text `json:"issue"`
	// Questions are rewordings of the question a repeat asker keeps asking
	// ({question} in lines), used in order.
	Questions []Text `json:"questions,omitempty"`
	// Demands replace the persona's demands when not empty.
	Demands []Demand `json:"demands,omitempty"`
	// Reveal replaces the persona's reality-event text when not empty.
	Reveal Text `json:"reveal,omitempty"`
	// Mood, when set, replaces the persona's starting mood.
	Mood *Mood `json:"mood,omitempty"`
}

// Playbook is a set of model replies, one per move of the ideal path. Cave
// and OverPromise are the two classic mistakes, written out so the fidelity
// suite can prove they are caught.
type Playbook struct {
	Open        Text `json:"open"`         // greet, identify, use the briefing, acknowledge
	Ask         Text `json:"ask"`          // a question that draws out a hidden fact
	Restate     Text `json:"restate"`      // restate fact and feeling, check
	Inform      Text `json:"inform"`       // explain, with the reason
	Options     Text `json:"options"`      // options, a recommendation, or a refusal with alternative
	Plan        Text `json:"plan"`         // who does what by when, checked
	Close       Text `json:"close"`        // satisfaction, contact, thanks
	Cave        Text `json:"cave"`         // grants what policy forbids
	OverPromise Text `json:"over_promise"` // guarantees what nobody can know
}

// Supports reports whether the scenario can be played in lang.
func (s *Scenario) Supports(lang Lang) bool {
	for _, l := range s.Langs {
		if l == lang {
			return true
		}
	}
	return false
}

// Brief is what the trainee may see and rely on before and during the chat.
type Brief struct {
	CustomerName Text `json:"customer_name"`
	Order        Text `json:"order,omitempty"`
	History      Text `json:"history,omitempty"`
	Situation    Text `json:"situation"`
	PolicySheet  Text `json:"policy_sheet,omitempty"`
	// Context lists briefing facts (order number, product, dates) a good
	// reply uses without asking; the rubric credits use_context for them.
	Context []string `json:"context,omitempty"`
}

// Fact is a hidden fact the customer reveals when the trainee asks about it.
type Fact struct {
	ID string `json:"id"`
	// Text is what the customer says when it comes out.
	Text Text `json:"text"`
	// AskedBy are words in a trainee question that draw it out (any language).
	AskedBy []string `json:"asked_by"`
}

// Policy is what the trainee may commit to. A commitment beyond it is an
// over-promise however kind it sounds.
type Policy struct {
	RefundWindowDays int `json:"refund_window_days,omitempty"`
	VoucherCap       int `json:"voucher_cap,omitempty"`
	// NeedsSupervisor lists actions the agent may not grant alone.
	NeedsSupervisor []string `json:"needs_supervisor,omitempty"`
	// Forbidden lists commitments the policy does not allow, each with the
	// words that make a reply commit to it.
	Forbidden []Commitment `json:"-"`
}

// Commitment is a promise the policy forbids, recognised by its keywords.
type Commitment struct {
	ID       string            `json:"id"`
	Describe Text              `json:"describe"`
	Keywords map[Lang][]string `json:"keywords"`
}

// Library finds scenarios and personas: the built-in ones and, when trainer
// authoring is on, those stored by trainers.
type Library interface {
	Scenario(ctx context.Context, id string) (*Scenario, error) // ErrScenarioNotFound when absent
	Scenarios(ctx context.Context) ([]*Scenario, error)
	Personas(ctx context.Context) ([]*Persona, error)
}

// VersionedLibrary is a Library that keeps every version of a scenario, so
// a session goes on with — and is reported against — the version it started
// with, even after a trainer edits the scenario.
type VersionedLibrary interface {
	Library
	ScenarioVersion(ctx context.Context, id string, version int) (*Scenario, error)
}

package simulator

// Persona is a reusable difficult customer. The persona engine (scripted, or
// the LLM wording layer on top of it) plays it; its fields are data from
// personas/*.yaml.
type Persona struct {
	ID     string   `json:"id"`
	Name   Text     `json:"name"`
	Traits []string `json:"traits,omitempty"`
	// The engine-facing definition (initial mood, patience, expectation,
	// signal effects, thresholds, demands, lines, reveals) is added here by
	// the personas work; see personas/README.md.
}

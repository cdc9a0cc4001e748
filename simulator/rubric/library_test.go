package rubric_test

import (
	"slices"
	"testing"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
)

// TestLibraryPlaybooks reads the library's model replies, written by the
// scenario authors independently of this package: the cave-in and the
// over-promise of every scenario are over_promise under its policy, and the
// model moves carry none of the serious negative signals.
func TestLibraryPlaybooks(t *testing.T) {
	a := mustNew(t)
	lib, err := scenarios.BuiltinLibrary()
	if err != nil {
		t.Fatal(err)
	}
	list, _ := lib.Scenarios(t.Context())
	serious := []string{"over_promise", "insult", "blame", "irritation", "argue", "calm_down", "minimize"}
	prev := []simulator.Assessment{{Steps: []simulator.Step{simulator.StepUnderstand}}}
	for _, sc := range list {
		for _, lang := range sc.Langs {
			pb := sc.Playbook
			for name, txt := range map[string]simulator.Text{"cave": pb.Cave, "over_promise": pb.OverPromise} {
				if r := txt.In(lang); r != "" {
					as := assess(t, a, simulator.AssessRequest{Reply: r, Scenario: sc, Lang: lang, Previous: prev})
					if !slices.Contains(codes(as), "over_promise") {
						t.Errorf("%s/%s %s: %q not flagged (%v)", sc.ID, lang, name, r, codes(as))
					}
				}
			}
			for name, txt := range map[string]simulator.Text{"open": pb.Open, "ask": pb.Ask, "restate": pb.Restate, "inform": pb.Inform, "options": pb.Options, "plan": pb.Plan, "close": pb.Close} {
				if r := txt.In(lang); r != "" {
					as := assess(t, a, simulator.AssessRequest{Reply: r, Scenario: sc, Lang: lang, Previous: prev})
					for _, c := range codes(as) {
						if slices.Contains(serious, c) {
							t.Errorf("%s/%s %s: model reply %q marked %s", sc.ID, lang, name, r, c)
						}
					}
				}
			}
		}
	}
}

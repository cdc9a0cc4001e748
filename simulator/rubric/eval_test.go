package rubric_test

import (
	"bytes"
	"testing"

	"github.com/sparring-gym/sparring/simulator/rubric"
)

// TestDevSetTargets holds the scorer to the acceptance targets on
// the labelled development set: step macro-F1 ≥ 0.85 in each language and
// negative-signal recall ≥ 0.85.
func TestDevSetTargets(t *testing.T) {
	a := mustNew(t)
	items, scenarios, err := rubric.DevSet()
	if err != nil {
		t.Fatal(err)
	}
	langs := map[string]int{}
	for _, it := range items {
		langs[string(it.Lang)]++
	}
	if len(items) < 200 || langs["zh"] < 100 || langs["en"] < 100 {
		t.Fatalf("dev set too small: %d items %v", len(items), langs)
	}
	evals, err := rubric.Evaluate(t.Context(), a, items, scenarios)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rubric.WriteEval(&buf, evals, testing.Verbose()); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + buf.String())
	for _, le := range evals {
		if f := le.StepMacroF1(); f < 0.85 {
			t.Errorf("%s: step macro-F1 %.3f < 0.85", le.Lang, f)
		}
		if r := le.NegativeRecall(); r < 0.85 {
			t.Errorf("%s: negative-signal recall %.3f < 0.85", le.Lang, r)
		}
	}
}

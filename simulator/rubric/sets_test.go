package rubric_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sparring-gym/sparring/simulator/rubric"
)

// labelledSets are the tuning sets beside the dev set, each with floors a
// little under its current figures, so a lexicon edit that helps one set
// cannot quietly break another. testdata/blind3.jsonl and blind8.jsonl are
// held out: they are scored only to report first-contact figures and are
// not listed here.
var labelledSets = []struct {
	file             string
	step, negR, negP float64 // floors per language; 0 = not checked
}{
	{file: "devset.jsonl", step: 0.94, negR: 0.95, negP: 0.85},
	{file: "holdout.jsonl", step: 0.95, negR: 0.95, negP: 0.80},
	{file: "blind.jsonl", step: 0.90, negR: 0.85, negP: 0.70},
	{file: "negatives.jsonl", negR: 0.88, negP: 0.80},
	{file: "final.jsonl", step: 0.88, negR: 0.82, negP: 0.90},
	{file: "sixth.jsonl", step: 0.94, negR: 0.95, negP: 0.80},
	{file: "closing.jsonl", step: 0.95},
	{file: "blind2.jsonl", step: 0.79, negR: 0.95, negP: 0.85},
	{file: "blind4.jsonl", step: 0.87, negR: 0.83, negP: 0.82},
	{file: "blind5.jsonl", step: 0.82, negR: 0.87, negP: 0.82},
	{file: "blind6.jsonl", step: 0.87, negR: 0.95, negP: 0.84},
	// Coverage probes (2026-11-22): the common phrasings of every code, polite
	// look-alikes, negation and quotation; today zh 0.949/0.984/0.974, en 0.962/0.982/0.979.
	{file: "coverage.jsonl", step: 0.94, negR: 0.97, negP: 0.96},
	// Below: the sets tuned on in the generalisation round (2026-11-22):
	// blind7 (held out until then), probe9 (85 fresh replies written for the
	// round; first contact after its first three commits: negative recall
	// 0.452 zh / 0.500 en) and probe10 (80 more, written after probe9 was
	// tuned; first contact 0.593 zh / 0.250 en, precision 0.696 / 0.583) and
	// probe11 (60 more, written after probe10 was tuned; first contact 0.667 zh
	// / 0.435 en, precision 0.778 / 0.833) and probe12 (50 look-alikes and
	// negatives buried in polite replies; first contact 0.429 / 0.286 recall,
	// 0.500 / 0.400 precision: the hardest kind for a lexicon) and probe13 (60
	// curt and indirect replies; first contact 0.286 zh / 0.095 en recall).
	// Floors sit a little under the figures reached.
	// testdata/blind8.jsonl is held out and deliberately not listed: written
	// before any rule changed and scored twice, at the start and at the end of
	// the round — negative recall 0.717 → 0.717 zh, 0.755 → 0.774 en;
	// precision 0.977 → 0.977, 0.889 → 0.891; step macro-F1 0.919 → 0.919,
	// 0.915 → 0.920. The gains above are mostly gains on what was tuned.
	{file: "blind7.jsonl", step: 0.88, negR: 0.85, negP: 0.85},
	{file: "probe9.jsonl", step: 0.70, negR: 0.80, negP: 0.85},
	{file: "probe10.jsonl", step: 0.88, negR: 0.90, negP: 0.80},
	{file: "probe11.jsonl", step: 0.88, negR: 0.80, negP: 0.80},
	{file: "probe12.jsonl", step: 0.75, negR: 0.50, negP: 0.65},
	{file: "probe13.jsonl", step: 0.80, negR: 0.80, negP: 0.70},
}

func TestLabelledSetFloors(t *testing.T) {
	a := mustNew(t)
	_, scenarios, err := rubric.DevSet()
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range labelledSets {
		t.Run(set.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", set.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			items, err := rubric.ReadDevSet(f)
			if err != nil {
				t.Fatal(err)
			}
			evals, err := rubric.Evaluate(t.Context(), a, items, scenarios)
			if err != nil {
				t.Fatal(err)
			}
			for _, le := range evals {
				if f := le.StepMacroF1(); set.step > 0 && f < set.step {
					t.Errorf("%s: step macro-F1 %.3f < %.2f", le.Lang, f, set.step)
				}
				if r := le.NegativeRecall(); set.negR > 0 && r < set.negR {
					t.Errorf("%s: negative-signal recall %.3f < %.2f", le.Lang, r, set.negR)
				}
				if p := le.NegativePrecision(); set.negP > 0 && p < set.negP {
					t.Errorf("%s: negative-signal precision %.3f < %.2f", le.Lang, p, set.negP)
				}
			}
		})
	}
}

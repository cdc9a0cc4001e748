package rubric_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/rubric"
)

// tuningSets are the sets tuned on in the generalisation round (2026-11-22):
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
var tuningSets = []struct {
	file             string
	step, negR, negP float64
}{
	{file: "blind7.jsonl", step: 0.88, negR: 0.85, negP: 0.85},
	{file: "probe9.jsonl", step: 0.70, negR: 0.80, negP: 0.85},
	{file: "probe10.jsonl", step: 0.88, negR: 0.90, negP: 0.80},
	{file: "probe11.jsonl", step: 0.88, negR: 0.80, negP: 0.80},
	{file: "probe12.jsonl", step: 0.75, negR: 0.50, negP: 0.65},
	{file: "probe13.jsonl", step: 0.80, negR: 0.80, negP: 0.70},
}

func TestTuningSetFloors(t *testing.T) {
	a := mustNew(t)
	_, scenarios, err := rubric.DevSet()
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range tuningSets {
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
				if f := le.StepMacroF1(); f < set.step {
					t.Errorf("%s: step macro-F1 %.3f < %.2f", le.Lang, f, set.step)
				}
				if r := le.NegativeRecall(); r < set.negR {
					t.Errorf("%s: negative-signal recall %.3f < %.2f", le.Lang, r, set.negR)
				}
				if p := le.NegativePrecision(); p < set.negP {
					t.Errorf("%s: negative-signal precision %.3f < %.2f", le.Lang, p, set.negP)
				}
			}
		})
	}
}

// TestShapes checks the general mechanisms of the round on wording that is
// in no labelled set: each mechanism once where it fires and once where it
// must not.
func TestShapes(t *testing.T) {
	a := mustNew(t)
	cases := []struct {
		name, text   string
		want, forbid []string
	}{
		// Potential complement V不了 closing a short clause, any verb.
		{"potential refusal", "寄不了。", []string{"flat_refusal"}, nil},
		{"potential refusal with particle", "这个颜色换不了啦", []string{"flat_refusal"}, nil},
		{"helplessness is no refusal", "系统是自动的,我们也调不了。", nil, []string{"flat_refusal"}},
		{"unbearable is no refusal", "等了这么久,谁都受不了。", nil, []string{"flat_refusal"}},
		{"potential refusal with an alternative", "加急办不了,不过我可以帮您改发顺丰。", nil, []string{"flat_refusal"}},
		// The company declining a service.
		{"company does not (zh)", "我们不安装。", []string{"flat_refusal"}, nil},
		{"company does not (en)", "We don't assemble furniture.", []string{"flat_refusal"}, nil},
		{"company does not, with a reason", "We don't refund opened items because of hygiene rules.", nil, []string{"flat_refusal"}},
		// Mock repetition.
		{"repeated character", "问问问,一天到晚问。", []string{"irritation"}, nil},
		{"repeated word", "Sure, sure, sure.", []string{"irritation"}, nil},
		{"doubled thanks are no mockery", "谢谢谢谢,祝您周末愉快!", nil, []string{"irritation"}},
		// Concession turned to the customer's side.
		{"concession", "虽然只是个小划痕,但给您添麻烦了,我马上补发。", nil, []string{"minimize"}},
		{"concession (en)", "It's only a small dent, but I know it matters to you.", nil, []string{"minimize"}},
		{"no concession", "就一点划痕而已。", []string{"minimize"}, nil},
		// A lexicon entry may close on its sentence's terminator.
		{"entry ending on ?", "我哪里敷衍了?", []string{"argue"}, nil},
		// 特别/区别 hold 别 but negate nothing.
		{"特别 is no negator", "遇到这种事确实特别闹心。", []string{"acknowledge_feeling"}, nil},
		// A negative question at the customer.
		{"negative question", "Have you not read the confirmation?", []string{"irritation"}, nil},
		{"plain question", "Have you received the confirmation email?", nil, []string{"irritation"}},
		// The agent's own follow-up clause is not a command.
		{"order aimed at the temper", "Lower your voice and we can sort this.", []string{"calm_down"}, []string{"command"}},
		// An apology turned by "but" excuses nothing after it.
		{"apology then dispute", "Sorry about that, but our records never lose payments.", []string{"argue"}, nil},
		{"apology alone", "Sorry, our records show one payment; let me check the bank side too.", nil, []string{"argue"}},
		// A negator does not reach past a copula into a new predicate.
		{"negation stops at a copula", "What you call a crash is technically a watchdog reset.", []string{"show_off"}, nil},
		{"negation within reach", "I'm not technically an engineer, but I'll find out.", nil, []string{"show_off"}},
		// The customer's charge thrown back as a question.
		{"charge thrown back (zh)", "我怎么敷衍您了?", []string{"argue"}, nil},
		{"charge thrown back (en)", "Since when are we slow?", []string{"argue"}, nil},
		{"plain how question", "How are we doing on the refund? Let me look.", nil, []string{"argue"}},
		// Disowned and emphatic negation.
		{"disowned", "I won't ask you to calm down; this is maddening.", nil, []string{"calm_down"}},
		{"counterfactual fault", "你要是早点备份就不会这样了。", []string{"blame"}, nil},
		{"cleared of fault", "您没有做错什么,是我们的流程有问题。", nil, []string{"blame"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			as, err := a.Assess(t.Context(), simulator.AssessRequest{Reply: c.text})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range as.Signals {
				got = append(got, s.Code)
			}
			for _, w := range c.want {
				if !slices.Contains(got, w) {
					t.Errorf("%q: want %s, got %v", c.text, w, got)
				}
			}
			for _, f := range c.forbid {
				if slices.Contains(got, f) {
					t.Errorf("%q: must not show %s, got %v", c.text, f, got)
				}
			}
		})
	}
}

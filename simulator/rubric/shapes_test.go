package rubric_test

import (
	"slices"
	"testing"

	"github.com/sparring-gym/sparring/simulator"
)

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

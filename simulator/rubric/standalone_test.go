package rubric_test

import (
	"slices"
	"testing"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/rubric"
)

// TestOrderRulesNeedAConversation: the order rules judge a reply's place in
// a conversation; a reply scored on its own (batch scoring, Turn 0) gets
// every step it shows, while the same words as a session's first reply do not.
func TestOrderRulesNeedAConversation(t *testing.T) {
	a, err := rubric.New()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text string
		step simulator.Step
	}{
		{"Thank you so much for your patience today.", simulator.StepRetain},
		{"Does that sound okay to you?", simulator.StepAgree},
		{"感谢您的耐心等待。", simulator.StepRetain},
		{"这样安排您看可以吗?", simulator.StepAgree},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			alone, err := a.Assess(t.Context(), simulator.AssessRequest{Reply: tt.text})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(alone.Steps, tt.step) {
				t.Errorf("scored alone: steps %v, want %s", alone.Steps, tt.step)
			}
			first, err := a.Assess(t.Context(), simulator.AssessRequest{Reply: tt.text, Turn: 1})
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(first.Steps, tt.step) {
				t.Errorf("as a session's first reply: steps %v, want no %s before its prerequisite", first.Steps, tt.step)
			}
		})
	}
}

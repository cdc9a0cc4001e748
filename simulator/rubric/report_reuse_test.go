package rubric_test

import (
	"reflect"
	"testing"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/rubric"
)

// TestReportReusesStoredAssessments: the report built from the assessments
// stored with each reply equals the one built by reading every reply again,
// including the facts it cannot see in the signals (a policy breach, its
// correction, a pasted reply).
func TestReportReusesStoredAssessments(t *testing.T) {
	a, err := rubric.New()
	if err != nil {
		t.Fatal(err)
	}
	lib, err := scenarios.BuiltinLibrary()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := lib.Scenario(t.Context(), "p03-day-five-return-en")
	if err != nil {
		t.Fatal(err)
	}
	conversations := map[string][]string{
		"breach left standing": {
			"Hello Mr Chen, I'm Lin. I'm sorry the phone isn't what you hoped for.",
			"No problem, I'll process a full refund for you today.",
			"Thank you for your patience. Anything else?",
		},
		"breach corrected, boilerplate": {
			"I understand how you feel.",
			"I'll give you a full refund right away.",
			"Sorry, I have to correct myself: a refund isn't possible after day three, but I can run a free battery test instead. Would that help?",
			"I understand how you feel.",
		},
	}
	for name, replies := range conversations {
		t.Run(name, func(t *testing.T) {
			var stored, bare []simulator.TurnRecord
			var prev []simulator.Assessment
			var transcript []simulator.Line
			for i, reply := range replies {
				customer := "I want my money back."
				as, err := a.Assess(t.Context(), simulator.AssessRequest{
					Reply: reply, Lang: simulator.LangEN, Customer: customer, Transcript: transcript,
					Previous: prev, Scenario: sc, Turn: i + 1,
				})
				if err != nil {
					t.Fatal(err)
				}
				stored = append(stored, simulator.TurnRecord{Turn: i + 1, Customer: customer, Reply: reply, Assessment: as})
				bare = append(bare, simulator.TurnRecord{Turn: i + 1, Customer: customer, Reply: reply})
				prev = append(prev, as)
				transcript = append(transcript,
					simulator.Line{Turn: i + 1, Speaker: simulator.SpeakerCustomer, Text: customer},
					simulator.Line{Turn: i + 1, Speaker: simulator.SpeakerTrainee, Text: reply})
			}
			req := simulator.ReportRequest{Scenario: sc, Lang: simulator.LangEN, Mode: simulator.ModeExam, Outcome: simulator.OutcomeLost, Mood: simulator.Mood{Anger: 60, Trust: 20}}
			req.Turns = stored
			fromStored, err := a.Report(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			req.Turns = bare
			fromText, err := a.Report(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			if name == "breach left standing" && len(fromStored.HardFails) == 0 {
				t.Fatalf("an uncorrected out-of-policy refund should be a hard fail: %+v", fromStored)
			}
			if !reflect.DeepEqual(fromStored, fromText) {
				t.Fatalf("stored:\n%+v\nre-read:\n%+v", fromStored, fromText)
			}
		})
	}
}

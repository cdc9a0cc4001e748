package llm_test

import (
	"regexp"
	"testing"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/llm/llmtest"
	"github.com/sparring-gym/sparring/simulator/scripted"
)

var scriptedLine = regexp.MustCompile(`(?m)^(?:A line with that meaning: |表达这个意思的台词:)(.+)$`)

// Over the real scripted engine, the llm engine reaches exactly the same
// states, moods, moves and outcomes as the scripted engine alone: only the
// wording differs, so scores and outcomes mean the same in both.
func TestSameStatesAsScriptedEngine(t *testing.T) {
	lib, err := scenarios.BuiltinLibrary()
	if err != nil {
		t.Fatal(err)
	}
	srv := llmtest.New(t, llmtest.WithHandler(func(r llmtest.Request) llmtest.Reply {
		m := scriptedLine.FindStringSubmatch(r.User())
		if m == nil {
			return llmtest.Reply{Text: "What?"}
		}
		return llmtest.Reply{Text: "Honestly... " + m[1]}
	}))
	replies := []struct {
		text    string
		signals []string
	}{
		{"I'm so sorry the document arrived late. Can you tell me what it was for?", []string{"apologize", "ask"}},
		{"That's the courier's problem, not ours.", []string{"blame"}},
		{"I'll refund the delivery fee now and send the investigation result within 48 hours. Would that work?", []string{"own", "propose_plan", "check_agreement"}},
		{"Thank you for your patience; here is your case number.", []string{"appreciate", "future_contact"}},
	}
	for _, id := range []string{"p02-noon-delivery-en", "p02-noon-delivery-zh", "p01-lost-manuscript-en"} {
		t.Run(id, func(t *testing.T) {
			sc, err := lib.Scenario(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			plain := scripted.New()
			worded := mustCustomer(t, testConfig(srv), scripted.New(), nil)
			ctx := t.Context()
			open := simulator.OpenRequest{Scenario: sc, Lang: sc.Lang, Seed: 7}
			a, err := plain.Open(ctx, open)
			if err != nil {
				t.Fatal(err)
			}
			b, err := worded.Open(ctx, open)
			if err != nil {
				t.Fatal(err)
			}
			same(t, 0, a, b)
			sa, sb := a.State, b.State
			for i, r := range replies {
				as := simulator.Assessment{}
				for _, c := range r.signals {
					pol := simulator.Positive
					if c == "blame" {
						pol = simulator.Negative
					}
					as.Signals = append(as.Signals, simulator.Signal{Code: c, Polarity: pol, Evidence: r.text})
				}
				req := func(state []byte) simulator.RespondRequest {
					return simulator.RespondRequest{Scenario: sc, Lang: sc.Lang, Seed: 7, Turn: i + 1, State: state, Reply: r.text, Assessment: as}
				}
				a, err = plain.Respond(ctx, req(sa))
				if err != nil {
					t.Fatal(err)
				}
				b, err = worded.Respond(ctx, req(sb))
				if err != nil {
					t.Fatal(err)
				}
				same(t, i+1, a, b)
				sa, sb = a.State, b.State
				if a.Outcome != "" {
					break
				}
			}
			oa, ra, err1 := plain.Conclude(ctx, simulator.ConcludeRequest{Scenario: sc, Lang: sc.Lang, State: sa})
			ob, rb, err2 := worded.Conclude(ctx, simulator.ConcludeRequest{Scenario: sc, Lang: sc.Lang, State: sb})
			if err1 != nil || err2 != nil || oa != ob || ra != rb {
				t.Errorf("Conclude: scripted %q %q %v, llm %q %q %v", oa, ra, err1, ob, rb, err2)
			}
		})
	}
}

func same(t *testing.T, turn int, a, b simulator.CustomerTurn) {
	t.Helper()
	if string(a.State) != string(b.State) || a.Mood != b.Mood || a.Outcome != b.Outcome || a.Reason != b.Reason || a.Intent != b.Intent || len(a.Moves) != len(b.Moves) {
		t.Errorf("turn %d: the llm engine diverged from the scripted one:\n scripted %+v\n llm      %+v", turn, a, b)
	}
	if b.Fallback {
		t.Errorf("turn %d: fell back (%q)", turn, b.Text)
	} else if b.Text == a.Text {
		t.Errorf("turn %d: the line was not worded by the model: %q", turn, b.Text)
	}
	t.Logf("turn %d scripted: %s\n          llm:      %s", turn, a.Text, b.Text)
}

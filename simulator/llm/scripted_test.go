package llm_test

import (
	"regexp"
	"strings"
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

// An abusive trainee gets an in-role reaction: the state machine raises the
// anger, the insult reaches the model only as quoted data, and a model that
// caves in and talks like an agent is replaced by the scripted reaction.
func TestAbusiveTraineeGetsInRoleReaction(t *testing.T) {
	lib, err := scenarios.BuiltinLibrary()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := lib.Scenario(t.Context(), "p02-noon-delivery-en")
	if err != nil {
		t.Fatal(err)
	}
	insult := "Are you stupid? Stop whining and read the terms."
	tests := []struct {
		name     string
		model    string
		fallback bool
	}{
		{"in role", "Excuse me? Don't you dare talk to me like that. I want the refund and a name.", false},
		{"caves in like an agent", "I'm so sorry, how can I help you today?", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.New(t, llmtest.WithDefault(llmtest.Reply{Text: tt.model}))
			inner := scripted.New()
			c := mustCustomer(t, testConfig(srv), inner, nil)
			open, err := inner.Open(t.Context(), simulator.OpenRequest{Scenario: sc, Lang: simulator.LangEN, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			req := simulator.RespondRequest{Scenario: sc, Lang: simulator.LangEN, Seed: 1, Turn: 1, State: open.State, Reply: insult,
				Assessment: simulator.Assessment{Signals: []simulator.Signal{{Code: "insult", Polarity: simulator.Negative, Evidence: "Are you stupid?"}}}}
			want, err := scripted.New().Respond(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Respond(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			if got.Mood.Anger <= open.Mood.Anger || got.Mood != want.Mood || string(got.State) != string(want.State) {
				t.Errorf("mood %+v (opening %+v), scripted %+v: the engine decides the reaction", got.Mood, open.Mood, want.Mood)
			}
			wantText := tt.model
			if tt.fallback {
				wantText = want.Text
			}
			if got.Text != wantText || got.Fallback != tt.fallback {
				t.Errorf("Text %q Fallback %v, want %q %v", got.Text, got.Fallback, wantText, tt.fallback)
			}
			r, _ := srv.Last()
			if !strings.Contains(r.User(), "<agent_message>\n"+insult+"\n</agent_message>") || strings.Contains(r.System(), "stupid") {
				t.Errorf("the insult is not quoted as data:\n%s", r.User())
			}
		})
	}
}

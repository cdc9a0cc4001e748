package scripted_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/scripted"
)

func hasMove(ct simulator.CustomerTurn, signal, note string) bool {
	for _, m := range ct.Moves {
		if m.Signal == signal && strings.Contains(m.Note, note) {
			return true
		}
	}
	return false
}

// TestBehaviour checks the persona rules of issue 3 one by one.
func TestBehaviour(t *testing.T) {
	lib := mustLibrary(t)
	tests := []struct {
		name     string
		scenario string
		turns    []turn
		check    func(t *testing.T, cts []simulator.CustomerTurn)
	}{
		{
			name: "angry complainer: facts before acknowledgement do not land", scenario: "p01-lost-manuscript-en",
			turns: []turn{{"The engineer can run a diagnosis tomorrow.", sig("inform", "options")}},
			check: func(t *testing.T, cts []simulator.CustomerTurn) {
				if !hasMove(cts[1], "inform", "not heard yet") || !hasMove(cts[1], "options", "not heard yet") {
					t.Errorf("moves = %+v, want unheard moves", cts[1].Moves)
				}
				if cts[1].Mood.Anger <= cts[0].Mood.Anger {
					t.Errorf("anger %d → %d, want it to rise", cts[0].Mood.Anger, cts[1].Mood.Anger)
				}
			},
		},
		{
			name: "angry complainer: acknowledgement in the same reply lets facts land", scenario: "p01-lost-manuscript-en",
			turns: []turn{{"I'm so sorry. An engineer can run a diagnosis tomorrow.", sig("apologize", "inform")}},
			check: func(t *testing.T, cts []simulator.CustomerTurn) {
				if hasMove(cts[1], "inform", "not heard") || !hasMove(cts[1], "inform", "") {
					t.Errorf("moves = %+v, want inform to land", cts[1].Moves)
				}
			},
		},
		{
			name: "refund seeker turns the first real alternative down, accepts the second", scenario: "p03-day-five-return-en",
			turns: []turn{
				{"I'm sorry, I can't refund it, but I can run a battery test.", sig("apologize", "refuse_with_alternative")},
				{"I can also give you the accessory voucher.", sig("options")},
			},
			check: func(t *testing.T, cts []simulator.CustomerTurn) {
				if !strings.Contains(cts[1].Intent, "turns down") {
					t.Errorf("turn 1 intent = %q, want a refusal of the offer", cts[1].Intent)
				}
				if !hasMove(cts[2], "options", "accepts the accessory voucher") {
					t.Errorf("turn 2 moves = %+v, want the voucher accepted", cts[2].Moves)
				}
			},
		},
		{
			name: "refund seeker does not accept a refusal without a real alternative", scenario: "p03-day-five-return-en",
			turns: []turn{
				{"I can't refund it, sorry, but let me see.", sig("refuse_with_alternative")},
				{"I can't refund it, sorry, but let me see.", sig("refuse_with_alternative")},
			},
			check: func(t *testing.T, cts []simulator.CustomerTurn) {
				for _, ct := range cts[1:] {
					if hasMove(ct, "refuse_with_alternative", "accepts") {
						t.Errorf("accepted without an alternative: %+v", ct.Moves)
					}
				}
			},
		},
		{
			name: "repeat asker repeats, reworded, until restated; irritation does not settle it", scenario: "p05-broadband-date-en",
			turns: []turn{
				{"It's waiting for a capacity check.", sig("inform")},
				{"As I said, a capacity check. So you want the date, right?", sig("irritation", "restate_fact")},
				{"So you need the date because of Monday's classes, is that right?", sig("restate_fact", "check_agreement")},
				{"I'll call you tomorrow by 4.", sig("propose_plan")},
			},
			check: func(t *testing.T, cts []simulator.CustomerTurn) {
				sc := mustScenario(t, lib, "p05-broadband-date-en")
				asked := func(ct simulator.CustomerTurn) string {
					for _, q := range sc.Customer.Questions {
						if strings.Contains(ct.Text, q.In(simulator.LangEN)) {
							return q.In(simulator.LangEN)
						}
					}
					return ""
				}
				q1, q2 := asked(cts[1]), asked(cts[2])
				if q1 == "" || q2 == "" || q1 == q2 {
					t.Errorf("turns 1–2 should ask again in new words: %q / %q", cts[1].Text, cts[2].Text)
				}
				if asked(cts[3]) != "" || asked(cts[4]) != "" {
					t.Errorf("asked again after the restatement: %q / %q", cts[3].Text, cts[4].Text)
				}
			},
		},
		{
			name: "hidden fact comes out only when asked about", scenario: "p05-broadband-date-en",
			turns: []turn{
				{"Is it needed for anything important on Monday?", nil},
				{"Is it needed for anything important on Monday?", sig("ask")},
			},
			check: func(t *testing.T, cts []simulator.CustomerTurn) {
				if strings.Contains(cts[1].Text, "grandson") {
					t.Error("fact revealed without an ask signal")
				}
				if !strings.Contains(cts[2].Text, "grandson") {
					t.Errorf("fact not revealed: %q", cts[2].Text)
				}
			},
		},
		{
			name: "confused customer answers one question at a time", scenario: "p06-card-stopped-en",
			turns: []turn{
				{"What did the screen say? Where were you? When?", sig("ask")},
				{"What did the screen say?", sig("ask")},
			},
			check: func(t *testing.T, cts []simulator.CustomerTurn) {
				if strings.Contains(cts[1].Text, "expired") || !strings.Contains(cts[1].Intent, "too many questions") {
					t.Errorf("answered a volley of questions: %q / %q", cts[1].Text, cts[1].Intent)
				}
				if !strings.Contains(cts[2].Text, "expired") {
					t.Errorf("single question not answered: %q", cts[2].Text)
				}
			},
		},
		{
			name: "over-promise pleases now and is found out later", scenario: "p10-print-shop-rush-en",
			turns: []turn{
				{"Yes, all 1,000 by 8, no problem.", sig("over_promise")},
				{"Anything else?", sig("offer_more")},
				{"Thanks.", sig("appreciate")},
			},
			check: func(t *testing.T, cts []simulator.CustomerTurn) {
				if cts[1].Mood.Anger > cts[0].Mood.Anger {
					t.Errorf("over-promise angered at once: %d → %d", cts[0].Mood.Anger, cts[1].Mood.Anger)
				}
				if !hasMove(cts[1], "over_promise", "found out on turn 3") {
					t.Errorf("turn 1 moves = %+v", cts[1].Moves)
				}
				if !hasMove(cts[3], "over_promise", "reveal") || !strings.Contains(cts[3].Text, "two hundred") {
					t.Errorf("no reveal on turn 3: %q %+v", cts[3].Text, cts[3].Moves)
				}
				for _, m := range cts[3].Moves {
					if m.Signal == "over_promise" && (m.Anger != 30 || m.Trust != -35) {
						t.Errorf("reveal move %+v, want the persona's +30/-35", m)
					}
				}
			},
		},
		{
			name: "patience runs out on unhelpful replies", scenario: "p02-noon-delivery-en",
			turns: []turn{{"OK.", nil}, {"Noted.", nil}, {"Fine.", nil}, {"OK.", nil}, {"OK.", nil}},
			check: func(t *testing.T, cts []simulator.CustomerTurn) {
				last := cts[len(cts)-1]
				if last.Outcome != simulator.OutcomeLost || len(cts) != 5 {
					t.Errorf("after %d turns outcome %q, want lost after patience (3) is exceeded", len(cts)-1, last.Outcome)
				}
			},
		},
		{
			name: "a clean handover on its own ends escalated", scenario: "p07-put-me-through-en",
			turns: []turn{{"I'll pass everything to my supervisor, who will call you within 2 hours.", sig("apologize", "escalate_cleanly")}},
			check: func(t *testing.T, cts []simulator.CustomerTurn) {
				if cts[1].Outcome != simulator.OutcomeEscalated {
					t.Errorf("outcome %q, want escalated", cts[1].Outcome)
				}
			},
		},
		{
			name: "every move names its turn and signal", scenario: "p09-three-star-en",
			turns: []turn{{"Sorry.", sig("apologize")}, {"It's a rated hotel, actually.", sig("argue")}},
			check: func(t *testing.T, cts []simulator.CustomerTurn) {
				for i, ct := range cts[1:] {
					for _, m := range ct.Moves {
						if m.Turn != i+1 || !simulator.KnownSignal(m.Signal) {
							t.Errorf("move %+v on turn %d", m, i+1)
						}
					}
					if ct.Intent == "" {
						t.Errorf("turn %d has no intent", i+1)
					}
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := mustScenario(t, lib, tt.scenario)
			_, cts := play(t, sc, sc.Lang, 1, tt.turns, false)
			tt.check(t, cts)
		})
	}
}

func TestEngineErrors(t *testing.T) {
	lib := mustLibrary(t)
	sc := mustScenario(t, lib, "p07-put-me-through-en")
	e := scripted.New()
	ctx := context.Background()
	if _, err := e.Respond(ctx, simulator.RespondRequest{Scenario: sc, Turn: 1, State: []byte(`{"v":99}`)}); err == nil {
		t.Error("accepted a state of another version")
	}
	if _, err := e.Open(ctx, simulator.OpenRequest{Scenario: &simulator.Scenario{ID: "x"}}); simulator.ErrorCode(err) != simulator.CodeInvalid {
		t.Errorf("open without persona: %v", err)
	}
	_, cts := play(t, sc, sc.Lang, 1, []turn{{"I'll hand you to my supervisor.", sig("escalate_cleanly")}}, false)
	_, err := e.Respond(ctx, simulator.RespondRequest{Scenario: sc, Turn: 2, State: cts[1].State, Assessment: assessment(sig("apologize"), "")})
	if simulator.ErrorCode(err) != simulator.CodeSessionEnded {
		t.Errorf("respond after the customer left: %v", err)
	}
	o, _, err := e.Conclude(ctx, simulator.ConcludeRequest{Scenario: sc, State: cts[1].State})
	if err != nil || o != simulator.OutcomeEscalated {
		t.Errorf("conclude after the customer ended = %s, %v", o, err)
	}
}

func TestConcludeCountsAPendingOverPromise(t *testing.T) {
	lib := mustLibrary(t)
	sc := mustScenario(t, lib, "p03-day-five-return-en")
	_, cts := play(t, sc, sc.Lang, 1, []turn{
		{"Hello Mr Chen, I'm Lin, sorry about this.", sig("greet", "identify", "apologize")},
		{"I'll process the full refund today.", sig("over_promise")},
	}, false)
	o, reason, err := scripted.New().Conclude(context.Background(), simulator.ConcludeRequest{Scenario: sc, Lang: simulator.LangEN, State: cts[2].State})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reason, "over-promise") {
		t.Errorf("outcome %s, reason %q: want the pending over-promise counted", o, reason)
	}
}

// TestConcludeBeforeAnythingAgreed: a calmer customer is not a kept one when
// the trainee closes the chat before putting anything to them.
func TestConcludeBeforeAnythingAgreed(t *testing.T) {
	lib := mustLibrary(t)
	sc := mustScenario(t, lib, "p03-day-five-return-en")
	_, cts := play(t, sc, sc.Lang, 1, []turn{
		{"Hello Mr Chen, I'm sorry the phone isn't what you hoped for. What made you change your mind?", sig("greet", "apologize", "ask")},
	}, false)
	o, reason, err := scripted.New().Conclude(context.Background(), simulator.ConcludeRequest{Scenario: sc, Lang: simulator.LangEN, State: cts[1].State})
	if err != nil {
		t.Fatal(err)
	}
	if o != simulator.OutcomeLost || !strings.Contains(reason, "before anything was agreed") {
		t.Errorf("outcome %s (%q), want lost: nothing was agreed", o, reason)
	}
}

package llm_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/llm"
	"github.com/sparring-gym/sparring/simulator/llm/llmtest"
)

// scriptedCustomer is a deterministic stand-in for scripted.New(): it keeps
// its state in State (the turn count and anger) and ends the conversation
// at turn 3, like a persona state machine would.
type scriptedCustomer struct {
	mu        sync.Mutex
	gotDelta  bool
	responded int
}

func (c *scriptedCustomer) Open(_ context.Context, req simulator.OpenRequest) (simulator.CustomerTurn, error) {
	return simulator.CustomerTurn{
		Text:   line(req.Lang, 0),
		Mood:   simulator.Mood{Anger: 70, Trust: 20},
		State:  []byte("turn=0 anger=70"),
		Intent: "furious, demands to know where the parcel is",
	}, nil
}

func (c *scriptedCustomer) Respond(_ context.Context, req simulator.RespondRequest) (simulator.CustomerTurn, error) {
	c.mu.Lock()
	c.responded++
	if req.Delta != nil {
		c.gotDelta = true
	}
	c.mu.Unlock()
	var turn, anger int
	if _, err := fmt.Sscanf(string(req.State), "turn=%d anger=%d", &turn, &anger); err != nil {
		return simulator.CustomerTurn{}, fmt.Errorf("bad state %q: %w", req.State, err)
	}
	turn++
	move := simulator.MoodMove{Turn: req.Turn, Signal: "none"}
	if req.Assessment.Has("apologize") {
		anger -= 10
		move = simulator.MoodMove{Turn: req.Turn, Signal: "apologize", Anger: -10, Trust: 5}
	}
	t := simulator.CustomerTurn{
		Text:   line(req.Lang, turn),
		Mood:   simulator.Mood{Anger: anger, Trust: 20 + 5*turn}.Clamp(),
		Moves:  []simulator.MoodMove{move},
		State:  fmt.Appendf(nil, "turn=%d anger=%d", turn, anger),
		Intent: "still angry, presses for the refund again",
	}
	if turn >= 3 {
		t.Outcome, t.Reason, t.Intent = simulator.OutcomeResolved, "plan accepted", "accepts the plan, ends the chat"
	}
	return t, nil
}

func (c *scriptedCustomer) Conclude(_ context.Context, req simulator.ConcludeRequest) (simulator.Outcome, string, error) {
	if len(req.State) == 0 {
		return "", "", fmt.Errorf("no state")
	}
	return simulator.OutcomeRetained, "the customer stays, still disappointed", nil
}

func line(lang simulator.Lang, turn int) string {
	zh := []string{"我的快递呢?说好九点前送到!", "我要退款,现在就要。", "那你们到底怎么赔?", "好吧,就这样。"}
	en := []string{"Where is my parcel? It was due before nine!", "I want my refund, now.", "So how will you make this right?", "Fine, let's do that."}
	if lang == simulator.LangZH {
		return zh[min(turn, 3)]
	}
	return en[min(turn, 3)]
}

func testScenario() *simulator.Scenario {
	return &simulator.Scenario{
		ID: "noon-delivery", Version: 1, Lang: simulator.LangEN, Langs: []simulator.Lang{simulator.LangEN, simulator.LangZH},
		Title:     simulator.Text{simulator.LangEN: "The noon delivery", simulator.LangZH: "中午才到的快件"},
		PersonaID: "cold-fury",
		Brief: simulator.Brief{
			CustomerName: simulator.Text{simulator.LangEN: "Ms Zhao", simulator.LangZH: "赵女士"},
			Situation:    simulator.Text{simulator.LangEN: "A document booked for 9 a.m. arrived at 12:10.", simulator.LangZH: "预约九点前送达的文件十二点十分才到。"},
			Order:        simulator.Text{simulator.LangEN: "SF1234567", simulator.LangZH: "SF1234567"},
		},
		HiddenFacts: []simulator.Fact{{ID: "tender", Text: simulator.Text{simulator.LangEN: "The document was for a 9 o'clock tender.", simulator.LangZH: "文件是九点投标用的。"}, AskedBy: []string{"what", "为什么"}}},
		Persona: &simulator.Persona{
			ID: "cold-fury", Name: simulator.Text{simulator.LangEN: "Ms Zhao", simulator.LangZH: "赵女士"},
			Traits: []string{"cold", "precise", "short sentences"},
		},
	}
}

// testConfig is fast: short timeout and cool-down, no rate limit.
func testConfig(srv *llmtest.Server) llm.Config {
	return llm.Config{
		BaseURL: srv.URL(), APIKey: "sk-test-secret", Model: "fake-model",
		Timeout: 3 * time.Second, MaxTokens: 200, Temperature: 0.7, Retries: 2,
		BreakerFailures: 5, BreakerCooldown: time.Minute, MaxRunes: 400,
	}
}

func mustCustomer(tb testing.TB, cfg llm.Config, inner simulator.Customer, reg prometheus.Registerer) *llm.Customer {
	tb.Helper()
	c, err := llm.NewCustomer(cfg, inner, slog.New(slog.DiscardHandler), reg)
	if err != nil {
		tb.Fatalf("NewCustomer: %v", err)
	}
	return c
}

// respond runs one Respond at turn 1 from the opening state, collecting deltas.
func respond(tb testing.TB, c *llm.Customer, reply string) (simulator.CustomerTurn, []string) {
	tb.Helper()
	var mu sync.Mutex
	var deltas []string
	turn, err := c.Respond(tb.Context(), simulator.RespondRequest{
		Scenario: testScenario(), Lang: simulator.LangEN, Turn: 1, State: []byte("turn=0 anger=70"),
		Reply: reply,
		Transcript: []simulator.Line{
			{Turn: 0, Speaker: simulator.SpeakerCustomer, Text: line(simulator.LangEN, 0)},
		},
		Delta: func(s string) { mu.Lock(); deltas = append(deltas, s); mu.Unlock() },
	})
	if err != nil {
		tb.Fatalf("Respond: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	return turn, deltas
}

// metric reads one sample from reg; 0 when absent.
func metric(tb testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	tb.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		tb.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}

func countSubstr(s, sub string) int { return strings.Count(s, sub) }

package simulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sparring-gym/sparring/simulator"
)

// The doubles below stand in for the real persona engine, scorer and Redis
// store so the turn loop's own rules can be tested in isolation; the web
// package's end-to-end tests use the real ones.

type memStore struct {
	mu       sync.Mutex
	sessions map[string]*simulator.Session
	replies  map[string]map[string]bool
	appends  int
}

func newMemStore() *memStore {
	return &memStore{sessions: map[string]*simulator.Session{}, replies: map[string]map[string]bool{}}
}

func (m *memStore) Create(_ context.Context, s *simulator.Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sessions[s.ID]; ok {
		return errors.New("exists")
	}
	m.sessions[s.ID] = clone(s)
	m.replies[s.ID] = map[string]bool{}
	return nil
}

func (m *memStore) Load(_ context.Context, id string) (*simulator.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok {
		return nil, simulator.ErrSessionNotFound
	}
	return clone(s), nil
}

func (m *memStore) Append(_ context.Context, id string, c simulator.Commit) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.appends++
	s := m.sessions[id]
	if c.ReplyID != "" && m.replies[id][c.ReplyID] {
		return simulator.ErrDuplicateReply
	}
	if len(s.Events) != c.After {
		return simulator.ErrConflict
	}
	for i, e := range c.Events {
		if e.Seq != c.After+i+1 {
			return fmt.Errorf("bad seq %d at %d", e.Seq, i)
		}
	}
	s.Events = append(s.Events, c.Events...)
	s.State, s.CustomerState = c.State, c.CustomerState
	if c.ReplyID != "" {
		m.replies[id][c.ReplyID] = true
	}
	return nil
}

func clone(s *simulator.Session) *simulator.Session {
	b, _ := json.Marshal(s)
	var c simulator.Session
	_ = json.Unmarshal(b, &c)
	return &c
}

type lib struct{ sc *simulator.Scenario }

func (l lib) Scenario(_ context.Context, id string) (*simulator.Scenario, error) {
	if id != l.sc.ID {
		return nil, simulator.Errorf(simulator.CodeScenarioNotFound, "no such scenario", "没有该场景")
	}
	return l.sc, nil
}
func (l lib) Scenarios(context.Context) ([]*simulator.Scenario, error) {
	return []*simulator.Scenario{l.sc}, nil
}
func (l lib) Personas(context.Context) ([]*simulator.Persona, error) { return nil, nil }

// countingCustomer gets angrier on "blame" and leaves when anger hits 100;
// its state is the anger as text.
type countingCustomer struct{}

func (countingCustomer) Open(context.Context, simulator.OpenRequest) (simulator.CustomerTurn, error) {
	return simulator.CustomerTurn{Text: "Where is my order?", Mood: simulator.Mood{Anger: 60, Trust: 30}, State: []byte("60")}, nil
}

func (countingCustomer) Respond(_ context.Context, r simulator.RespondRequest) (simulator.CustomerTurn, error) {
	var anger int
	fmt.Sscan(string(r.State), &anger)
	if r.Assessment.Has("blame") {
		anger += 40
	} else {
		anger -= 10
	}
	ct := simulator.CustomerTurn{Text: fmt.Sprintf("turn %d", r.Turn), Mood: simulator.Mood{Anger: anger, Trust: 30}, State: []byte(fmt.Sprint(anger))}
	if anger >= 100 {
		ct.Outcome, ct.Reason = simulator.OutcomeLost, "customer left"
	}
	return ct, nil
}

func (countingCustomer) Conclude(_ context.Context, r simulator.ConcludeRequest) (simulator.Outcome, string, error) {
	return simulator.OutcomeResolved, "trainee closed", nil
}

type keywordAssessor struct{}

func (keywordAssessor) Assess(_ context.Context, r simulator.AssessRequest) (simulator.Assessment, error) {
	a := simulator.Assessment{Steps: []simulator.Step{}, Signals: []simulator.Signal{}, Score: 50}
	if strings.Contains(r.Reply, "warehouse") {
		a.Signals = append(a.Signals, simulator.Signal{Code: "blame", Polarity: simulator.Negative, Evidence: "warehouse"})
	}
	return a, nil
}

func (keywordAssessor) Report(_ context.Context, r simulator.ReportRequest) (simulator.Report, error) {
	return simulator.Report{Total: 10 * len(r.Turns), Outcome: r.Outcome, Turns: len(r.Turns)}, nil
}

type fixture struct {
	sim   *simulator.Simulator
	store *memStore
	now   time.Time
}

func newFixture(t *testing.T, sc *simulator.Scenario) *fixture {
	t.Helper()
	f := &fixture{store: newMemStore(), now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	var n byte
	f.sim = simulator.New(simulator.Deps{
		Library:   lib{sc},
		Customers: map[simulator.Engine]simulator.Customer{simulator.EngineScripted: countingCustomer{}},
		Assessor:  keywordAssessor{},
		Store:     f.store,
		Now:       func() time.Time { return f.now },
		Random: func(b []byte) {
			n++
			for i := range b {
				b[i] = n
			}
		},
	})
	return f
}

func testScenario() *simulator.Scenario {
	return &simulator.Scenario{ID: "s1", Lang: simulator.LangEN, Langs: []simulator.Lang{simulator.LangEN}, MaxTurns: 4, TimeLimitS: 60}
}

func types(evs []simulator.Event) string {
	var b []string
	for _, e := range evs {
		b = append(b, fmt.Sprintf("%d:%s", e.Seq, e.Type))
	}
	return strings.Join(b, " ")
}

func TestStartValidates(t *testing.T) {
	f := newFixture(t, testScenario())
	tests := []struct {
		name string
		req  simulator.StartRequest
		code simulator.Code
	}{
		{"no trainee", simulator.StartRequest{Scenario: "s1"}, simulator.CodeInvalid},
		{"long trainee", simulator.StartRequest{Scenario: "s1", Trainee: strings.Repeat("x", 65)}, simulator.CodeInvalid},
		{"bad mode", simulator.StartRequest{Scenario: "s1", Trainee: "a", Mode: "drill"}, simulator.CodeInvalid},
		{"bad engine", simulator.StartRequest{Scenario: "s1", Trainee: "a", Engine: "gpt"}, simulator.CodeInvalid},
		{"bad lang", simulator.StartRequest{Scenario: "s1", Trainee: "a", Lang: "fr"}, simulator.CodeInvalid},
		{"unsupported lang", simulator.StartRequest{Scenario: "s1", Trainee: "a", Lang: "zh"}, simulator.CodeInvalid},
		{"unknown scenario", simulator.StartRequest{Scenario: "nope", Trainee: "a"}, simulator.CodeScenarioNotFound},
		{"llm not configured", simulator.StartRequest{Scenario: "s1", Trainee: "a", Engine: "llm"}, simulator.CodeUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := f.sim.Start(t.Context(), tt.req)
			if got := simulator.ErrorCode(err); got != tt.code {
				t.Fatalf("code = %s (%v), want %s", got, err, tt.code)
			}
		})
	}
	if len(f.store.sessions) != 0 {
		t.Fatalf("invalid starts stored %d sessions", len(f.store.sessions))
	}
}

func TestTurnLoop(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, testScenario())
	sess, token, err := f.sim.Start(ctx, simulator.StartRequest{Scenario: "s1", Trainee: "Lin"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := types(sess.Events), "1:customer"; got != want {
		t.Fatalf("start events = %s, want %s", got, want)
	}
	if !sess.Deadline.Equal(f.now.Add(time.Minute)) {
		t.Fatalf("deadline = %v", sess.Deadline)
	}

	evs, err := f.sim.Reply(ctx, sess, "r1", "Sorry about that", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := types(evs), "2:ack 3:feedback 4:customer"; got != want {
		t.Fatalf("reply events = %s, want %s", got, want)
	}

	// A resend is answered with the same events and stores nothing.
	appends := f.store.appends
	again, err := f.sim.Reply(ctx, sess, "r1", "Sorry about that", nil)
	if err != nil || types(again) != "2:ack 3:feedback 4:customer" || f.store.appends != appends {
		t.Fatalf("resend = %s, %v, appends %d→%d", types(again), err, appends, f.store.appends)
	}

	// Resume with the token sees the same log; a wrong token is refused.
	if _, err := f.sim.Resume(ctx, sess.ID, "wrong"); simulator.ErrorCode(err) != simulator.CodeBadToken {
		t.Fatalf("wrong token: %v", err)
	}
	if _, err := f.sim.Resume(ctx, "nope", token); simulator.ErrorCode(err) != simulator.CodeBadToken {
		t.Fatalf("unknown session: %v", err)
	}
	other, err := f.sim.Resume(ctx, sess.ID, token)
	if err != nil || other.LastSeq() != 4 {
		t.Fatalf("resume: %v, last seq %d", err, other.LastSeq())
	}

	// A second connection replying on a stale copy catches up, never reuses a seq.
	if _, err := f.sim.Reply(ctx, sess, "r2", "Let me check", nil); err != nil {
		t.Fatal(err)
	}
	evs, err = f.sim.Reply(ctx, other, "r3", "Here it is", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := types(evs), "5:ack 6:feedback 7:customer 8:ack 9:feedback 10:customer"; got != want {
		t.Fatalf("stale writer saw %s, want %s", got, want)
	}

	evs, err = f.sim.End(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := types(evs), "11:end 12:report"; got != want || evs[0].Outcome != simulator.OutcomeResolved {
		t.Fatalf("end = %s (%s), want %s", got, evs[0].Outcome, want)
	}
	if _, err := f.sim.Reply(ctx, other, "r4", "hello?", nil); simulator.ErrorCode(err) != simulator.CodeSessionEnded {
		t.Fatalf("reply after end: %v", err)
	}
	if _, err := f.sim.End(ctx, other); simulator.ErrorCode(err) != simulator.CodeSessionEnded {
		t.Fatalf("end after end: %v", err)
	}
}

func TestReplyRules(t *testing.T) {
	ctx := t.Context()
	tests := []struct {
		name    string
		mode    simulator.Mode
		replies []string
		advance time.Duration
		want    string
		code    simulator.Code
	}{
		{"exam hides feedback", simulator.ModeExam, []string{"hi"}, 0, "2:ack 3:customer", ""},
		{"customer leaves", simulator.ModeExam, []string{"the warehouse did it"}, 0, "2:ack 3:customer 4:end 5:report", ""},
		{"turn limit", simulator.ModeExam, []string{"a", "b", "c", "d"}, 0, "8:ack 9:customer 10:end 11:report", ""},
		{"after deadline", simulator.ModeCoach, []string{"late"}, time.Minute, "2:end 3:report", simulator.CodeSessionEnded},
		{"empty text", simulator.ModeCoach, []string{""}, 0, "", simulator.CodeInvalid},
		{"too long", simulator.ModeCoach, []string{strings.Repeat("好", 2001)}, 0, "", simulator.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, testScenario())
			sess, _, err := f.sim.Start(ctx, simulator.StartRequest{Scenario: "s1", Trainee: "Lin", Mode: tt.mode})
			if err != nil {
				t.Fatal(err)
			}
			f.now = f.now.Add(tt.advance)
			var evs []simulator.Event
			for i, r := range tt.replies {
				evs, err = f.sim.Reply(ctx, sess, fmt.Sprint("r", i), r, nil)
			}
			if got := types(evs); got != tt.want {
				t.Errorf("events = %q, want %q", got, tt.want)
			}
			if tt.code != "" && simulator.ErrorCode(err) != tt.code {
				t.Errorf("error = %v, want %s", err, tt.code)
			}
			if tt.code == "" && err != nil {
				t.Errorf("error = %v", err)
			}
			if tt.code == simulator.CodeInvalid && len(f.store.sessions[sess.ID].Events) != 1 {
				t.Errorf("invalid reply changed the log")
			}
		})
	}
}

func TestAbandon(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, testScenario())
	sess, _, err := f.sim.Start(ctx, simulator.StartRequest{Scenario: "s1", Trainee: "Lin", Mode: simulator.ModeExam})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := f.sim.Abandon(ctx, sess, "started another scenario")
	if err != nil || types(evs) != "2:end 3:report" || evs[0].Outcome != simulator.OutcomeAbandoned {
		t.Fatalf("abandon = %s %v", types(evs), err)
	}
	if _, err := f.sim.Abandon(ctx, sess, "again"); simulator.ErrorCode(err) != simulator.CodeSessionEnded {
		t.Fatalf("second abandon: %v", err)
	}
}

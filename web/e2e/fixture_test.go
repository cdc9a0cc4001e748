package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/web"
	"github.com/sparring-gym/sparring/web/static"
)

// The browser tests run the real transport (web.NewServer) and the real turn
// loop (simulator.New) over an in-memory store. The customer and the scorer
// are small deterministic doubles so the tests can predict every line and
// every mood move; the real engines have their own tests.

// memStore is a simulator.Store kept in memory, with the same optimistic
// append rules as the Redis store. It outlives a server restart.
type memStore struct {
	mu       sync.Mutex
	sessions map[string][]byte // JSON of the session
}

func newMemStore() *memStore { return &memStore{sessions: map[string][]byte{}} }

func (m *memStore) Create(_ context.Context, s *simulator.Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sessions[s.ID]; ok {
		return errors.New("memstore: session exists")
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	m.sessions[s.ID] = b
	return nil
}

func (m *memStore) Load(_ context.Context, id string) (*simulator.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.sessions[id]
	if !ok {
		return nil, simulator.ErrSessionNotFound
	}
	var s simulator.Session
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

func (m *memStore) Append(_ context.Context, id string, c simulator.Commit) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.sessions[id]
	if !ok {
		return simulator.ErrSessionNotFound
	}
	var s simulator.Session
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s.LastSeq() != c.After {
		return simulator.ErrConflict
	}
	if c.ReplyID != "" {
		if _, dup := s.ReplyEvents(c.ReplyID); dup {
			return simulator.ErrDuplicateReply
		}
	}
	s.Events = append(s.Events, c.Events...)
	s.State = c.State
	s.CustomerState = c.CustomerState
	nb, err := json.Marshal(&s)
	if err != nil {
		return err
	}
	m.sessions[id] = nb
	return nil
}

// library holds two scenarios: an English one with a time limit and a
// Chinese/English one without.
type library struct {
	scenarios []*simulator.Scenario
	personas  []*simulator.Persona
}

func newLibrary() *library {
	angry := &simulator.Persona{ID: "angry", Name: simulator.Text{"en": "Angry customer", "zh": "愤怒的客户"}}
	vague := &simulator.Persona{ID: "vague", Name: simulator.Text{"en": "Vague customer", "zh": "说不清的客户"}}
	late := &simulator.Scenario{
		ID: "late-parcel", Version: 1, Lang: "en", Langs: []simulator.Lang{"en"},
		Title: simulator.Text{"en": "The parcel that never came"}, PersonaID: "angry", Persona: angry,
		Difficulty: 3, TimeLimitS: 600, MaxTurns: 8, Tags: []string{"complaint", "service_failure"},
		Brief: simulator.Brief{
			CustomerName: simulator.Text{"en": "Dana Reyes"},
			Order:        simulator.Text{"en": "Order #4471, a coffee grinder, promised for Monday"},
			Situation:    simulator.Text{"en": "The parcel is three days late and Dana has called twice."},
			PolicySheet:  simulator.Text{"en": "You may offer a 10% voucher; refunds need a supervisor."},
		},
	}
	router := &simulator.Scenario{
		ID: "router", Version: 1, Lang: "zh", Langs: []simulator.Lang{"zh", "en"},
		Title: simulator.Text{"zh": "路由器又断网了", "en": "The router drops again"}, PersonaID: "vague", Persona: vague,
		Difficulty: 2, MaxTurns: 10, Tags: []string{"drill"},
		Brief: simulator.Brief{
			CustomerName: simulator.Text{"zh": "王先生", "en": "Mr Wang"},
			Situation:    simulator.Text{"zh": "客户的路由器每天晚上断网。", "en": "The customer's router drops every evening."},
		},
	}
	return &library{scenarios: []*simulator.Scenario{late, router}, personas: []*simulator.Persona{angry, vague}}
}

func (l *library) Scenario(_ context.Context, id string) (*simulator.Scenario, error) {
	for _, s := range l.scenarios {
		if s.ID == id {
			return s, nil
		}
	}
	return nil, simulator.Errorf(simulator.CodeScenarioNotFound, "no such scenario", "没有这个场景")
}

func (l *library) Scenarios(context.Context) ([]*simulator.Scenario, error) { return l.scenarios, nil }
func (l *library) Personas(context.Context) ([]*simulator.Persona, error)   { return l.personas, nil }

// customerState is the double's whole state: the mood.
type customerState struct {
	Mood simulator.Mood `json:"mood"`
}

// customer answers by the signals the assessor found: each positive signal
// lowers anger by 10 and raises trust by 8, each negative one the opposite.
type customer struct{}

func (customer) Open(_ context.Context, req simulator.OpenRequest) (simulator.CustomerTurn, error) {
	st := customerState{Mood: simulator.Mood{Anger: 70, Trust: 30}}
	b, _ := json.Marshal(st)
	text := "Where is my coffee grinder? It is three days late!"
	if req.Lang == simulator.LangZH {
		text = "我的路由器又断网了,你们到底管不管?"
	}
	return simulator.CustomerTurn{Text: text, Mood: st.Mood, State: b}, nil
}

func (customer) Respond(_ context.Context, req simulator.RespondRequest) (simulator.CustomerTurn, error) {
	var st customerState
	if err := json.Unmarshal(req.State, &st); err != nil {
		return simulator.CustomerTurn{}, err
	}
	var moves []simulator.MoodMove
	for _, sg := range req.Assessment.Signals {
		mv := simulator.MoodMove{Turn: req.Turn, Signal: sg.Code, Anger: -10, Trust: 8, Note: "felt heard"}
		if sg.Polarity == simulator.Negative {
			mv = simulator.MoodMove{Turn: req.Turn, Signal: sg.Code, Anger: 15, Trust: -10, Note: "felt dismissed"}
		}
		st.Mood.Anger += mv.Anger
		st.Mood.Trust += mv.Trust
		moves = append(moves, mv)
	}
	st.Mood = st.Mood.Clamp()
	b, _ := json.Marshal(st)
	text := "Fine. So what happens now?"
	if len(moves) == 0 {
		text = "That doesn't answer my question."
	}
	if req.Lang == simulator.LangZH {
		text = "那现在怎么办?"
	}
	ct := simulator.CustomerTurn{Text: text, Mood: st.Mood, Moves: moves, State: b}
	if strings.Contains(strings.ToLower(req.Reply), "goodbye") {
		ct.Outcome, ct.Reason = simulator.OutcomeResolved, "the customer is satisfied"
	}
	return ct, nil
}

func (customer) Conclude(_ context.Context, req simulator.ConcludeRequest) (simulator.Outcome, string, error) {
	var st customerState
	_ = json.Unmarshal(req.State, &st)
	if st.Mood.Anger < 50 {
		return simulator.OutcomeResolved, "the customer calmed down", nil
	}
	return simulator.OutcomeLost, "the customer is still angry", nil
}

// assessor finds a handful of keywords; enough to light every part of the UI.
type assessor struct{}

var keywords = []struct {
	word string
	sig  simulator.Signal
	step simulator.Step
}{
	{"hello", simulator.Signal{Code: "greet", Polarity: "+"}, simulator.StepReceive},
	{"sorry", simulator.Signal{Code: "apologize", Polarity: "+"}, simulator.StepUnderstand},
	{"will", simulator.Signal{Code: "own", Polarity: "+"}, simulator.StepHelp},
	{"does that work", simulator.Signal{Code: "check_agreement", Polarity: "+"}, simulator.StepAgree},
	{"anything else", simulator.Signal{Code: "offer_more", Polarity: "+"}, simulator.StepRetain},
	{"calm down", simulator.Signal{Code: "calm_down", Polarity: "-"}, ""},
}

func (assessor) Assess(_ context.Context, req simulator.AssessRequest) (simulator.Assessment, error) {
	low := strings.ToLower(req.Reply)
	var a simulator.Assessment
	for _, k := range keywords {
		if !strings.Contains(low, k.word) {
			continue
		}
		sg := k.sig
		sg.Evidence = k.word
		a.Signals = append(a.Signals, sg)
		if k.step != "" {
			a.Steps = append(a.Steps, k.step)
		}
	}
	a.Score = min(100, 20*len(a.Steps))
	a.Verdict = simulator.VerdictOK
	a.Hint = "Name the next step and when it will happen."
	if len(a.Steps) >= 2 {
		a.Verdict = simulator.VerdictGood
	}
	return a, nil
}

func (assessor) Report(_ context.Context, req simulator.ReportRequest) (simulator.Report, error) {
	r := simulator.Report{
		Steps: map[simulator.Step]simulator.StepScore{}, Dimensions: map[simulator.Dimension]int{},
		Outcome: req.Outcome, Turns: len(req.Turns), DurationS: int(req.Duration.Seconds()), HardFails: []string{},
	}
	for _, st := range simulator.Steps {
		r.Steps[st] = simulator.StepScore{Evidence: []string{}, Advice: "Show this step in a reply of its own."}
	}
	total := 0
	for _, t := range req.Turns {
		for _, st := range t.Assessment.Steps {
			ss := r.Steps[st]
			ss.Score = min(100, ss.Score+50)
			ss.Evidence = append(ss.Evidence, t.Reply)
			r.Steps[st] = ss
		}
		r.Feedback = append(r.Feedback, simulator.TurnFeedback{
			Turn: t.Turn, Steps: t.Assessment.Steps, Signals: t.Assessment.Signals,
			Hint: t.Assessment.Hint, Score: t.Assessment.Score, Verdict: t.Assessment.Verdict,
		})
	}
	for _, st := range simulator.Steps {
		total += r.Steps[st].Score
	}
	r.Total = total / len(simulator.Steps)
	for i, d := range simulator.Dimensions {
		r.Dimensions[d] = min(100, r.Total+10*i)
	}
	return r, nil
}

// testServer is the real HTTP server on 127.0.0.1, restartable on the same
// port with the same store so a test can take it away mid-session.
type testServer struct {
	t     *testing.T
	addr  string
	store *memStore
	lib   *library
	srv   *http.Server
	web   *web.Server
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	ts := &testServer{t: t, store: newMemStore(), lib: newLibrary()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	ts.serve(ln)
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) URL() string { return "http://" + ts.addr }

func (ts *testServer) serve(ln net.Listener) {
	sim := simulator.New(simulator.Deps{
		Library:   ts.lib,
		Customers: map[simulator.Engine]simulator.Customer{simulator.EngineScripted: customer{}},
		Assessor:  assessor{},
		Store:     ts.store,
	})
	ts.web = web.NewServer(web.Config{}, web.Deps{Simulator: sim, Library: ts.lib, Static: static.FS()})
	ts.srv = &http.Server{Handler: ts.web, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = ts.srv.Serve(ln) }()
}

// stop shuts the server down the way `sparring serve` does: WebSocket
// clients get a 1001 close, in-flight turns are stored first.
func (ts *testServer) stop() {
	if ts.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = ts.srv.Shutdown(ctx)
	_ = ts.web.Shutdown(ctx)
	ts.srv = nil
}

// start brings a stopped server back on the same address, with every
// stored session. Retries cover the moment the kernel still holds the port.
func (ts *testServer) start() {
	ts.t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", ts.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		ts.t.Fatalf("relisten on %s: %v", ts.addr, err)
	}
	ts.serve(ln)
}

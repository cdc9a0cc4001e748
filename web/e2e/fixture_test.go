package e2e_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/llm"
	"github.com/sparring-gym/sparring/simulator/redisstore"
	"github.com/sparring-gym/sparring/simulator/redisstore/redistest"
	"github.com/sparring-gym/sparring/simulator/rubric"
	"github.com/sparring-gym/sparring/simulator/scripted"
	"github.com/sparring-gym/sparring/web"
	"github.com/sparring-gym/sparring/web/static"
)

// testServer is the real server (built-in scenarios, scripted persona
// engine, rule-based scorer, Redis store, web transport, embedded UI) on a
// fixed 127.0.0.1 port. Unlike webtest.Start it can be stopped and started
// again on the same address over the same Redis, which is what a browser
// sees when the server restarts mid-session. No LLM engine is configured,
// so choosing it in the UI gets the server's `unavailable` answer.
type testServer struct {
	t *testing.T
	// llmURL, when set, adds the "llm" engine talking to that
	// OpenAI-compatible endpoint (an llmtest fake in these tests).
	llmURL  string
	addr    string
	backend redistest.Backend
	lib     simulator.Library
	store   *redisstore.Store // the first instance's, for checking what was stored
	srv     *http.Server
	web     *web.Server
}

func startServer(t *testing.T, opts ...func(*testServer)) *testServer {
	t.Helper()
	lib, err := scenarios.BuiltinLibrary()
	if err != nil {
		t.Fatalf("library: %v", err)
	}
	// The real Redis when make test provides one, else an in-process one.
	backend, ok := redistest.Real(t)
	if !ok {
		backend = redistest.Mini(t)
	}
	ts := &testServer{t: t, backend: backend, lib: lib}
	for _, o := range opts {
		o(ts)
	}
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

// serve builds a fresh server (new Redis client, new simulator) on ln, as a
// restarted process would.
func (ts *testServer) serve(ln net.Listener) {
	ts.t.Helper()
	rules, err := rubric.New()
	if err != nil {
		ts.t.Fatalf("rubric: %v", err)
	}
	client := ts.backend.Client(ts.t)
	store := redisstore.New(client, time.Hour, ts.backend.Prefix)
	if ts.store == nil {
		ts.store = store
	}
	engine := scripted.New()
	customers := map[simulator.Engine]simulator.Customer{simulator.EngineScripted: engine}
	if ts.llmURL != "" {
		cfg := llm.DefaultConfig()
		cfg.BaseURL, cfg.Model, cfg.APIKey = ts.llmURL, "fake-model", "sk-e2e"
		cfg.Timeout, cfg.RatePerSecond = 5*time.Second, 0
		c, err := llm.NewCustomer(cfg, engine, slog.New(slog.DiscardHandler), nil)
		if err != nil {
			ts.t.Fatalf("llm.NewCustomer: %v", err)
		}
		customers[simulator.EngineLLM] = c
	}
	sim := simulator.New(simulator.Deps{
		Library:   ts.lib,
		Customers: customers,
		Assessor:  rules,
		Store:     store,
	})
	ts.web = web.NewServer(web.Config{}, web.Deps{
		Simulator: sim, Library: ts.lib, Static: static.FS(),
		Ready: func(ctx context.Context) error { return client.Ping(ctx).Err() },
	})
	ts.srv = &http.Server{Handler: ts.web, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = ts.srv.Serve(ln) }()
}

// stop shuts the server down the way `sparring serve` does on SIGTERM:
// WebSocket clients get a 1001 close after in-flight turns are stored.
func (ts *testServer) stop() {
	if ts.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = ts.web.Shutdown(ctx)
	_ = ts.srv.Shutdown(ctx)
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

// scenarioCount counts the published scenarios a filter keeps, the way the
// picker should.
func (ts *testServer) scenarioCount(keep func(*simulator.Scenario) bool) int {
	ts.t.Helper()
	list, err := ts.lib.Scenarios(context.Background())
	if err != nil {
		ts.t.Fatal(err)
	}
	n := 0
	for _, s := range list {
		if !s.Draft && keep(s) {
			n++
		}
	}
	return n
}

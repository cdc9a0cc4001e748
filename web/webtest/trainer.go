package webtest

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/redisstore"
	"github.com/sparring-gym/sparring/simulator/rubric"
	"github.com/sparring-gym/sparring/simulator/scripted"
	"github.com/sparring-gym/sparring/web"
)

// TrainerInstance is a running server with the trainer tools on: the
// composite library (built-in + scenarios stored in the backend) and the
// authoring store, wired as cmd/sparring wires them.
type TrainerInstance struct {
	*Instance
	Composite *scenarios.Composite
	Authoring *redisstore.Authoring
}

// StartTrainer starts a server like Start and also returns its trainer
// stores. Two instances on the same Backend share scenarios, sessions,
// reviews and contests, as two production servers on one Redis do.
// o.Web.TrainerTokens names the trainer tokens.
func StartTrainer(tb testing.TB, o Options) *TrainerInstance {
	tb.Helper()
	client := o.Backend.Client(tb)
	auth := redisstore.NewAuthoring(client, o.Backend.Prefix)
	lib, err := scenarios.NewComposite(auth, nil)
	if err != nil {
		tb.Fatalf("library: %v", err)
	}
	rules, err := rubric.New()
	if err != nil {
		tb.Fatalf("rubric: %v", err)
	}
	var assessor simulator.Assessor = rules
	if o.Assessor != nil {
		assessor = o.Assessor(rules)
	}
	engine := scripted.New()
	customers := map[simulator.Engine]simulator.Customer{simulator.EngineScripted: engine}
	if o.Customers != nil {
		for k, v := range o.Customers(engine) {
			customers[k] = v
		}
	}
	ttl := o.TTL
	if ttl == 0 {
		ttl = time.Hour
	}
	sim := simulator.New(simulator.Deps{
		Library: lib, Customers: customers, Assessor: assessor,
		Store: auth.Indexed(redisstore.New(client, ttl, o.Backend.Prefix)), Now: o.Now,
	})
	reg := prometheus.NewRegistry()
	srv := web.NewServer(o.Web, web.Deps{
		Simulator: sim, Library: lib, Static: o.Static, Registry: reg,
		Ready:     func(ctx context.Context) error { return client.Ping(ctx).Err() },
		Authoring: lib, TrainerStore: auth, Calibrator: rules,
		Contests: redisstore.NewContests(client, o.Backend.Prefix, 0),
	})
	hs := httptest.NewServer(srv)
	in := &Instance{
		URL: hs.URL, WSURL: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws",
		Server: srv, Sim: sim, Library: lib, Registry: reg, Redis: client, http: hs,
	}
	tb.Cleanup(in.Stop)
	return &TrainerInstance{Instance: in, Composite: lib, Authoring: auth}
}

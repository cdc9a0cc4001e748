package fidelity_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/redisstore"
	"github.com/sparring-gym/sparring/simulator/rubric"
	"github.com/sparring-gym/sparring/simulator/scripted"
	"github.com/sparring-gym/sparring/simulator/scripted/fidelity"
)

// TestFidelity plays every scenario, in every language it supports, with
// every bot, through the real turn loop, rubric and store, and asserts the
// per-scenario expectations.
func TestFidelity(t *testing.T) {
	if testing.Short() {
		t.Skip("plays every scenario; skipped with -short")
	}
	ctx := context.Background()
	lib, err := scenarios.BuiltinLibrary()
	if err != nil {
		t.Fatal(err)
	}
	assessor, err := rubric.New()
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	backend, err := redisstore.Open(ctx, redisstore.Options{}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = backend.Close() })
	sim := simulator.New(simulator.Deps{
		Library:   lib,
		Customers: map[simulator.Engine]simulator.Customer{simulator.EngineScripted: scripted.New()},
		Assessor:  assessor,
		Store:     backend.Store(),
		Logger:    logger,
		Now:       fidelity.SteppingClock(15 * time.Second),
	})
	results, err := fidelity.Runner{Sim: sim, Lib: lib}.Run(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	list, _ := lib.Scenarios(ctx)
	byID := map[string]*simulator.Scenario{}
	for _, s := range list {
		byID[s.ID] = s
	}
	var table bytes.Buffer
	failures, err := fidelity.WriteTable(&table, results, byID)
	if err != nil {
		t.Fatal(err)
	}
	if failures > 0 || testing.Verbose() {
		t.Log("\n" + table.String())
	}
	for _, r := range results {
		if len(fidelity.Check(r, byID[r.Scenario])) > 0 {
			var b bytes.Buffer
			_ = fidelity.WriteTranscript(&b, r)
			t.Log(b.String())
		}
	}
	if failures > 0 {
		t.Errorf("%d runs fail their expectations (table above)", failures)
	}
	// The score must rank the bots the way a trainer would.
	excellent := map[string]int{}
	for _, r := range results {
		if r.Bot == fidelity.Excellent {
			excellent[r.Scenario+"/"+string(r.Lang)] = r.Score
		}
	}
	for _, r := range results {
		if r.Bot != fidelity.Excellent && r.Score >= excellent[r.Scenario+"/"+string(r.Lang)] {
			t.Errorf("%s %s: %s scores %d, not below excellent's %d", r.Scenario, r.Lang, r.Bot, r.Score, excellent[r.Scenario+"/"+string(r.Lang)])
		}
	}
	if want := 5 * 38; len(results) < want {
		t.Errorf("got %d runs, want at least %d (5 bots × every scenario language)", len(results), want)
	}
}

package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/redisstore"
	"github.com/sparring-gym/sparring/simulator/rubric"
	"github.com/sparring-gym/sparring/simulator/scripted"
)

// localSimulator wires what the terminal tools (play, fidelity) run on: the
// server's scripted engine and rule scorer over the embedded Redis store.
// now may be nil (the wall clock). close releases the store.
func localSimulator(ctx context.Context, lib simulator.Library, logger *slog.Logger, now func() time.Time) (sim *simulator.Simulator, close func(), err error) {
	assessor, err := rubric.New()
	if err != nil {
		return nil, nil, fmt.Errorf("rubric: %w", err)
	}
	backend, err := redisstore.Open(ctx, redisstore.Options{}, logger)
	if err != nil {
		return nil, nil, err
	}
	sim = simulator.New(simulator.Deps{
		Library:   lib,
		Customers: map[simulator.Engine]simulator.Customer{simulator.EngineScripted: scripted.New()},
		Assessor:  assessor,
		Store:     backend.Store(),
		Logger:    logger,
		Now:       now,
	})
	return sim, func() { _ = backend.Close() }, nil
}

package main

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/scripted/fidelity"
)

// newFidelityCmd is `sparring fidelity`: every scenario × language × bot
// through the real turn loop, printed as a table.
func newFidelityCmd(env *cliEnv) *cobra.Command {
	var (
		only    string
		seed    int64
		verbose bool
	)
	cmd := &cobra.Command{
		Use:   "fidelity",
		Short: "Play every scenario with scripted trainee bots and print outcome, final mood and score",
		Long: `Fidelity plays every built-in scenario, in every language it supports, with five scripted
trainees (excellent, mediocre, rude, caves-in, over-promiser) through the same turn loop, rubric
and storage as the server (storage: an embedded in-memory Redis). It prints one row per run and
checks each persona's expectations: excellent ends resolved or retained with anger falling; rude
ends lost or escalated with anger rising; caving in and over-promising are flagged by the score;
the repeat asker repeats until the question is restated. It exits non-zero if any check fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			lib, err := scenarios.BuiltinLibrary()
			if err != nil {
				return err
			}
			sim, closeStore, err := localSimulator(ctx, lib, logger, fidelity.SteppingClock(15*time.Second))
			if err != nil {
				return err
			}
			defer closeStore()
			runner := fidelity.Runner{Sim: sim, Lib: lib}
			list, err := lib.Scenarios(ctx)
			if err != nil {
				return err
			}
			byID := map[string]*simulator.Scenario{}
			for _, s := range list {
				byID[s.ID] = s
			}
			var results []fidelity.Result
			if only == "" {
				if results, err = runner.Run(ctx, seed); err != nil {
					return err
				}
			} else {
				sc := byID[only]
				if sc == nil {
					return fmt.Errorf("no scenario %q; see `sparring scenarios list`", only)
				}
				for _, lang := range sc.Langs {
					for _, bot := range fidelity.Bots() {
						r, err := runner.Play(ctx, sc, lang, bot, seed)
						if err != nil {
							return err
						}
						results = append(results, r)
					}
				}
			}
			failures, err := fidelity.WriteTable(out, results, byID)
			if err != nil {
				return err
			}
			for _, r := range results {
				if verbose || len(fidelity.Check(r, byID[r.Scenario])) > 0 {
					fmt.Fprintln(out)
					if err := fidelity.WriteTranscript(out, r); err != nil {
						return err
					}
				}
			}
			if failures > 0 {
				return fmt.Errorf("%d runs fail their expectations", failures)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&only, "scenario", "", "play only this scenario id")
	cmd.Flags().Int64Var(&seed, "seed", 1, "persona seed (the same seed gives the same table)")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "print every transcript with the signals read in each reply")
	return cmd
}

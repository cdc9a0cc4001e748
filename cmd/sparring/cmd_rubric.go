package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sparring-gym/sparring/simulator/rubric"
)

func newRubricCmd(env *cliEnv) *cobra.Command {
	root := &cobra.Command{
		Use:   "rubric",
		Short: "Check and evaluate the scoring rubric",
		Args:  cobra.NoArgs,
	}
	var rubricFile, devFile string
	var verbose bool
	eval := &cobra.Command{
		Use:   "eval",
		Short: "Score the labelled development set and print precision, recall and F1 per step and signal",
		Long: `Scores every reply of the development set (the embedded
simulator/rubric/testdata/devset.jsonl unless --devset names another file
of the same shape) and prints, per language, precision, recall and F1 for
each step and each signal, step and signal macro-F1, and negative-signal
recall and precision.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := loadRubric(rubricFile)
			if err != nil {
				return err
			}
			items, scenarios, err := rubric.DevSet()
			if err != nil {
				return err
			}
			if devFile != "" {
				f, err := os.Open(devFile)
				if err != nil {
					return fmt.Errorf("rubric eval: %w", err)
				}
				defer f.Close()
				if items, err = rubric.ReadDevSet(f); err != nil {
					return fmt.Errorf("rubric eval: %s: %w", devFile, err)
				}
			}
			evals, err := rubric.Evaluate(cmd.Context(), a, items, scenarios)
			if err != nil {
				return err
			}
			return rubric.WriteEval(env.stdout, evals, verbose)
		},
	}
	eval.Flags().StringVar(&rubricFile, "rubric", "", "a rubric YAML file to evaluate instead of the embedded one")
	eval.Flags().StringVar(&devFile, "devset", "", "a JSON Lines dev set instead of the embedded one")
	eval.Flags().BoolVarP(&verbose, "verbose", "v", false, "also list every reply where the signals differ from gold")

	validate := &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a rubric YAML file; errors name the file, line, field and fix",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := loadRubric(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "%s: ok\n", args[0])
			return nil
		},
	}
	root.AddCommand(eval, validate)
	return root
}

func loadRubric(file string) (*rubric.Assessor, error) {
	if file == "" {
		return rubric.New()
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("rubric: %w", err)
	}
	return rubric.Parse(file, data)
}

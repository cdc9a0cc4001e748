package main

import (
	"github.com/spf13/cobra"
)

func newRubricCmd(env *cliEnv) *cobra.Command {
	return &cobra.Command{Use: "rubric", Short: "Inspect and evaluate the scoring rubric"}
}

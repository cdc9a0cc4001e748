package main

import (
	"io"

	"github.com/spf13/cobra"
)

// cliEnv is what every subcommand gets from run instead of globals.
type cliEnv struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func newRootCmd(env *cliEnv) *cobra.Command {
	root := &cobra.Command{
		Use:           "sparring",
		Short:         "Sparring: a practice gym for customer-service staff",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	serveCmd := newServeCmd(env)
	// `sparring` alone serves, so `go run ./cmd/sparring` starts the server.
	root.RunE = serveCmd.RunE
	root.Flags().AddFlagSet(serveCmd.Flags())
	root.AddCommand(serveCmd)
	addCommands(root, env)
	return root
}

// addCommands registers every subcommand; each lives in its own cmd_*.go file.
func addCommands(root *cobra.Command, env *cliEnv) {
	root.AddCommand(newScoreCmd(env), newRubricCmd(env))
	root.AddCommand(newScenariosCmd(env), newFidelityCmd(env), newPlayCmd(env))
	root.AddCommand(newLoadgenCmd(env))
}

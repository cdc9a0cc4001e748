package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sparring-gym/sparring/personas"
	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
)

// newScenariosCmd is `sparring scenarios list|validate`.
func newScenariosCmd(env *cliEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "List the scenario library or validate scenario and persona files",
	}
	cmd.AddCommand(newScenariosListCmd(env), newScenariosValidateCmd(env))
	return cmd
}

func newScenariosListCmd(env *cliEnv) *cobra.Command {
	var lang string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Show every built-in scenario: id, language(s), persona, difficulty, limits, title",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if lang != "" && !simulator.Lang(lang).Valid() {
				return fmt.Errorf("--lang %q: use zh or en", lang)
			}
			lib, err := scenarios.BuiltinLibrary()
			if err != nil {
				return err
			}
			list, err := lib.Scenarios(cmd.Context())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tLANG\tLANGS\tPERSONA\tDIFF\tTURNS\tTIME\tTAGS\tTITLE")
			drills := 0
			for _, s := range list {
				if s.Drill {
					drills++
				}
				langs := make([]string, len(s.Langs))
				for i, l := range s.Langs {
					langs[i] = string(l)
				}
				show := s.Lang
				if lang != "" {
					show = simulator.Lang(lang)
				}
				limit := "untimed"
				if s.TimeLimitS > 0 {
					limit = fmt.Sprintf("%ds", s.TimeLimitS)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", s.ID, s.Lang, strings.Join(langs, ","), s.PersonaID,
					s.Difficulty, s.MaxTurns, limit, strings.Join(s.Tags, ","), s.Title.In(show))
			}
			if err := w.Flush(); err != nil {
				return err
			}
			people, _ := lib.Personas(cmd.Context())
			fmt.Fprintf(cmd.OutOrStdout(), "\n%d scenarios (%d drills), %d personas\n", len(list), drills, len(people))
			return nil
		},
	}
	cmd.Flags().StringVar(&lang, "lang", "", "show titles in this language (zh or en); default each scenario's own")
	return cmd
}

func newScenariosValidateCmd(env *cliEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Validate scenario (or persona) YAML files against the built-in personas",
		Long: `Validate checks each file and prints every problem as FILE:LINE: FIELD: MESSAGE.
A file under a "personas" directory, or one with "extends:" or "lines:" at the top level, is
checked as a persona; anything else as a scenario. Persona files given on the command line are
also available to the scenario files that follow.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// known resolves `extends` (abstract bases included); concrete is
			// what a scenario may name.
			known, err := personas.LoadAll(personas.Builtin())
			if err != nil {
				return err
			}
			concrete, err := personas.Load(personas.Builtin())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			bad := 0
			for _, file := range args {
				data, err := os.ReadFile(file)
				if err != nil {
					fmt.Fprintf(out, "%s: %v\n", file, err)
					bad++
					continue
				}
				var verr error
				kind := "scenario"
				if isPersonaFile(file, data) {
					kind = "persona"
					p, err := personas.Validate(file, data, known)
					if err == nil {
						known[p.ID], concrete[p.ID] = p, p
					}
					verr = err
				} else {
					_, verr = scenarios.Validate(file, data, concrete)
				}
				if verr == nil {
					fmt.Fprintf(out, "%s: ok (%s)\n", file, kind)
					continue
				}
				bad++
				var ve personas.ValidationErrors
				if errors.As(verr, &ve) {
					for _, fe := range ve {
						fmt.Fprintln(out, fe.Error())
					}
				} else {
					fmt.Fprintf(out, "%s: %v\n", file, verr)
				}
			}
			if bad > 0 {
				return fmt.Errorf("%d of %d files invalid", bad, len(args))
			}
			return nil
		},
	}
}

func isPersonaFile(file string, data []byte) bool {
	if filepath.Base(filepath.Dir(file)) == "personas" || strings.Contains(filepath.ToSlash(file), "personas/") {
		return true
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "extends:") || strings.HasPrefix(line, "lines:") || strings.HasPrefix(line, "react:") {
			return true
		}
	}
	return false
}

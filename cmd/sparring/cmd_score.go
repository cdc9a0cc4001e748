package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/rubric"
)

// maxScoreLine bounds one input line; longer lines are answered with an
// error and skipped, so one huge line cannot exhaust memory.
const maxScoreLine = 1 << 20

// scoreInput is one line of `sparring score` input (PROTOCOL.md §3).
type scoreInput struct {
	ID       string         `json:"id"`
	Text     *string        `json:"text"`
	Lang     simulator.Lang `json:"lang"`
	Customer string         `json:"customer"`
	Scenario string         `json:"scenario"`
}

type scoreOutput struct {
	ID      string             `json:"id"`
	Steps   []simulator.Step   `json:"steps"`
	Signals []simulator.Signal `json:"signals"`
	Score   int                `json:"score"`
}

type scoreError struct {
	ID    string `json:"id"`
	Error string `json:"error"`
}

// scenarioFinder looks a scenario up by id for policy-aware scoring.
type scenarioFinder func(ctx context.Context, id string) (*simulator.Scenario, error)

func newScoreCmd(env *cliEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "score",
		Short: "Score trainee replies: JSON Lines in on stdin, one JSON line out per input line",
		Long: `Reads JSON Lines on standard input, each {"id", "text", "lang" (optional),
"customer" (optional), "scenario" (optional)}, and writes one line per input
line, in order: {"id", "steps", "signals", "score"}, or {"id", "error"} for a
line that cannot be read. Bad lines never stop the run; the exit status is 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := rubric.New()
			if err != nil {
				return fmt.Errorf("score: load rubric: %w", err)
			}
			return runScore(cmd.Context(), a, libraryFinder(), env.stdin, env.stdout, env.stderr)
		},
	}
}

var idPattern = regexp.MustCompile(`"id"\s*:\s*"((?:[^"\\]|\\.)*)"`)

// runScore answers every input line, in order.
func runScore(ctx context.Context, a simulator.Assessor, find scenarioFinder, in io.Reader, out, errOut io.Writer) error {
	br := bufio.NewReaderSize(in, 64<<10)
	w := bufio.NewWriter(out)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	warned := map[string]bool{}
	// Editors and PowerShell on Windows start UTF-8 files with a BOM; it is
	// not part of the first line's JSON.
	if b, err := br.Peek(3); err == nil && string(b) == "\uFEFF" {
		_, _ = br.Discard(3)
	}
	for {
		line, tooLong, err := readLine(br)
		if errors.Is(err, io.EOF) && line == nil {
			break
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("score: read input: %w", err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var res any
		if tooLong {
			res = scoreError{ID: guessID(line), Error: fmt.Sprintf("line longer than %d bytes", maxScoreLine)}
		} else {
			res = scoreLine(ctx, a, find, line, errOut, warned)
		}
		if err := enc.Encode(res); err != nil {
			return fmt.Errorf("score: write: %w", err)
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("score: write: %w", err)
		}
	}
	return nil
}

// readLine returns the next line without its newline; tooLong is set (and
// the rest of the line discarded) when it exceeds maxScoreLine. line is nil
// only at the end of input.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err != nil {
			if line != nil || tooLong {
				return nonNilBytes(line), tooLong, nil
			}
			return nil, false, err
		}
		if !tooLong {
			if len(line)+len(chunk) > maxScoreLine {
				tooLong = true
				line = append(nonNilBytes(line), chunk[:min(len(chunk), 256)]...)
			} else {
				line = append(nonNilBytes(line), chunk...)
			}
		}
		if !isPrefix {
			return line, tooLong, nil
		}
	}
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func guessID(line []byte) string {
	if m := idPattern.FindSubmatch(line); m != nil {
		var s string
		if json.Unmarshal(append(append([]byte{'"'}, m[1]...), '"'), &s) == nil {
			return s
		}
	}
	return ""
}

func scoreLine(ctx context.Context, a simulator.Assessor, find scenarioFinder, line []byte, errOut io.Writer, warned map[string]bool) any {
	if len(strings.TrimSpace(string(line))) == 0 {
		return scoreError{Error: "empty line"}
	}
	var in scoreInput
	dec := json.NewDecoder(strings.NewReader(string(line)))
	if err := dec.Decode(&in); err != nil {
		return scoreError{ID: guessID(line), Error: "bad JSON: " + err.Error()}
	}
	if dec.More() {
		return scoreError{ID: in.ID, Error: "bad JSON: more than one value on the line"}
	}
	switch {
	case in.ID == "":
		// An answer without an id cannot be matched to its input by a
		// caller that reorders or filters lines.
		return scoreError{Error: "id is missing"}
	case in.Text == nil:
		return scoreError{ID: in.ID, Error: "text is missing"}
	case strings.TrimSpace(*in.Text) == "":
		return scoreError{ID: in.ID, Error: "text is empty"}
	case in.Lang != "" && !in.Lang.Valid():
		return scoreError{ID: in.ID, Error: fmt.Sprintf("lang %q is not zh or en", in.Lang)}
	}
	// Turn 0: a line scored on its own, outside any conversation, so the
	// order rules (no agree before understand, …) do not apply.
	req := simulator.AssessRequest{Reply: *in.Text, Lang: in.Lang, Customer: in.Customer}
	if in.Scenario != "" && find != nil {
		sc, err := find(ctx, in.Scenario)
		switch {
		case err == nil:
			req.Scenario = sc
		case !warned[in.Scenario]:
			// Score without the policy rather than drop the line.
			warned[in.Scenario] = true
			fmt.Fprintf(errOut, "sparring score: scenario %q: %v; scoring without its policy\n", in.Scenario, err)
		}
	}
	as, err := a.Assess(ctx, req)
	if err != nil {
		return scoreError{ID: in.ID, Error: err.Error()}
	}
	return scoreOutput{ID: in.ID, Steps: as.Steps, Signals: as.Signals, Score: as.Score}
}

// libraryFinder resolves scenario ids against the built-in library, loaded
// on first use so runs without scenario ids never pay for it.
func libraryFinder() scenarioFinder {
	var (
		once sync.Once
		lib  *scenarios.Library
		err  error
	)
	return func(ctx context.Context, id string) (*simulator.Scenario, error) {
		once.Do(func() { lib, err = scenarios.BuiltinLibrary() })
		if err != nil {
			return nil, err
		}
		return lib.Scenario(ctx, id)
	}
}

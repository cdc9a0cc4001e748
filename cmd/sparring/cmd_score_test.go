package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sparring-gym/sparring/simulator/rubric"
)

// TestScoreLines: every input line gets one output line, in order; broken
// JSON, empty text and bad fields are answered with {"id","error"} and the
// run goes on (PROTOCOL.md §3).
func TestScoreLines(t *testing.T) {
	a, err := rubric.New()
	if err != nil {
		t.Fatal(err)
	}
	in := strings.Join([]string{
		`{"id":"a","text":"您好,我是客服小林,非常抱歉让您久等了。请问您的订单号是多少?","lang":"zh"}`,
		`{"id":"b","text":"I guarantee it'll be there by nine.","customer":"Will it be there by 9?"}`,
		`{"id":"c","text":`,
		`{"id":"d","text":""}`,
		``,
		`not json at all`,
		`{"id":"g","text":"   "}`,
		`{"id":"h"}`,
		`{"id":"i","text":"ok","lang":"fr"}`,
		`{"id":"j","text":"好吧,那我给您破个例,今天就帮您办理全额退款。","scenario":"p03-day-five-return-zh"}`,
		`{"id":"k","text":"Thanks!","scenario":"no-such-scenario"}`,
		`{"id":"l","text":"ok"} {"x":1}`,
		`["id","m"]`,
	}, "\n") + "\n"
	var out, errOut bytes.Buffer
	if err := runScore(t.Context(), a, libraryFinder(), strings.NewReader(in), &out, &errOut); err != nil {
		t.Fatalf("run: %v", err)
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	wantIDs := []string{"a", "b", "c", "d", "", "", "g", "h", "i", "j", "k", "l", ""}
	wantErr := []bool{false, false, true, true, true, true, true, true, true, false, false, true, true}
	if len(lines) != len(wantIDs) {
		t.Fatalf("%d output lines for %d input lines:\n%s", len(lines), len(wantIDs), out.String())
	}
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not JSON: %q", i+1, line)
		}
		if m["id"] != wantIDs[i] {
			t.Errorf("line %d: id %v, want %q", i+1, m["id"], wantIDs[i])
		}
		_, isErr := m["error"]
		if isErr != wantErr[i] {
			t.Errorf("line %d: %s (want error=%v)", i+1, line, wantErr[i])
		}
		if !isErr {
			for _, k := range []string{"steps", "signals", "score"} {
				if _, ok := m[k]; !ok {
					t.Errorf("line %d lacks %s: %s", i+1, k, line)
				}
			}
			if len(m) != 4 {
				t.Errorf("line %d has extra fields: %s", i+1, line)
			}
		}
	}
	if !strings.Contains(lines[1], `"over_promise"`) {
		t.Errorf("b: %s", lines[1])
	}
	if !strings.Contains(lines[9], `"over_promise"`) {
		t.Errorf("j: the scenario's policy was not applied: %s", lines[9])
	}
	if !strings.Contains(errOut.String(), "no-such-scenario") {
		t.Errorf("unknown scenario not reported on stderr: %q", errOut.String())
	}
}

// TestScoreCommand runs the real subcommand through run(): exit status 0
// with bad lines in the input.
func TestScoreCommand(t *testing.T) {
	in := "{\"id\":\"1\",\"text\":\"Hello, how can I help?\"}\n{broken\n{\"id\":\"3\",\"text\":\"\"}\n"
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"score"}, func(string) string { return "" }, strings.NewReader(in), &out, &errOut); err != nil {
		t.Fatalf("score exited with %v (stderr %s)", err, errOut.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 3 {
		t.Fatalf("%d lines out:\n%s", n, out.String())
	}
	if !strings.Contains(out.String(), `"offer_help"`) {
		t.Errorf("no offer_help: %s", out.String())
	}
}

func TestRubricEvalCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"rubric", "eval"}, func(string) string { return "" }, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("rubric eval: %v (stderr %s)", err, errOut.String())
	}
	for _, want := range []string{"== zh", "== en", "step macro-F1", "negative-signal recall", "restate_fact"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

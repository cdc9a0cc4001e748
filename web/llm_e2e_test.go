package web_test

import (
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/llm"
	"github.com/sparring-gym/sparring/simulator/llm/llmtest"
	"github.com/sparring-gym/sparring/simulator/redisstore/redistest"
	"github.com/sparring-gym/sparring/web/webtest"
)

// llmLine finds the scripted line in the customer prompt, so the fake model
// can answer with a recognisable rewording of it.
var llmLine = regexp.MustCompile(`(?m)^(?:A line with that meaning: |表达这个意思的台词:)(.+)$`)

func rewording(r llmtest.Request) llmtest.Reply {
	if strings.Contains(r.System(), "You review one reply") { // the judge
		return llmtest.Reply{Text: `{"score": 60, "verdict": "ok", "signals": [], "injection": false, "note": "fine"}`}
	}
	m := llmLine.FindStringSubmatch(r.User())
	if m == nil {
		return llmtest.Reply{Text: "Well?"}
	}
	return llmtest.Reply{Text: "Look. " + m[1], ChunkRunes: 7}
}

// llmInstance starts a server whose "llm" engine (and, with judge, assessor)
// talks to the fake provider at baseURL.
func llmInstance(t *testing.T, b redistest.Backend, baseURL string, judge bool) *webtest.Instance {
	t.Helper()
	cfg := llm.DefaultConfig()
	cfg.BaseURL, cfg.Model, cfg.APIKey = baseURL, "fake-model", "sk-e2e"
	cfg.Timeout, cfg.RatePerSecond = 2*time.Second, 0
	opts := webtest.Options{
		Backend: b,
		Customers: func(engine simulator.Customer) map[simulator.Engine]simulator.Customer {
			c, err := llm.NewCustomer(cfg, engine, slog.New(slog.DiscardHandler), nil)
			if err != nil {
				t.Fatalf("llm.NewCustomer: %v", err)
			}
			return map[simulator.Engine]simulator.Customer{simulator.EngineLLM: c}
		},
	}
	if judge {
		opts.Assessor = func(rules simulator.Assessor) simulator.Assessor {
			j, err := llm.NewJudge(cfg, rules, slog.New(slog.DiscardHandler), nil)
			if err != nil {
				t.Fatalf("llm.NewJudge: %v", err)
			}
			return j
		}
	}
	return webtest.Start(t, opts)
}

// playSession runs goodReplies over a WebSocket and returns every frame
// after the opening line, the opening and the report object.
func playSession(t *testing.T, in *webtest.Instance, engine string) (opening webtest.Frame, frames []webtest.Frame, report webtest.Frame) {
	t.Helper()
	c := webtest.Dial(t, in.WSURL, nil)
	_, opening = c.Start(scenarioEN, map[string]any{"mode": "coach", "engine": engine, "lang": "en"})
	ended := false
	for i, text := range goodReplies {
		got := c.Reply(fmt.Sprint("r", i), text)
		frames = append(frames, got...)
		if last := got[len(got)-1]; last.Type() != "customer" {
			t.Fatalf("turn %d ended with %v", i+1, last)
		}
		if slices.ContainsFunc(got, func(f webtest.Frame) bool { return f.Type() == "customer" && f.Str("outcome") != "" }) {
			ended = true
		}
		if slices.ContainsFunc(got, func(f webtest.Frame) bool { return f.Type() == "end" }) {
			ended = true
			break
		}
	}
	if !ended {
		c.Send(map[string]any{"type": "end"})
	}
	tail := c.Until("report")
	frames = append(frames, tail...)
	return opening, frames, tail[len(tail)-1].Obj("report")
}

// shape describes a JSON value's structure: object keys (recursively) and
// value kinds, list elements by their first item.
func shape(v any) string {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var b strings.Builder
		b.WriteString("{")
		for _, k := range keys {
			if k == "judge" {
				continue // the judge's extension, only with an LLM judge
			}
			fmt.Fprintf(&b, "%s:%s,", k, shape(x[k]))
		}
		return b.String() + "}"
	case []any:
		if len(x) == 0 {
			return "[]"
		}
		return "[" + shape(x[0]) + "]"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func TestLLMSessionOverWebSocket(t *testing.T) {
	b := redistest.Mini(t)
	srv := llmtest.New(t, llmtest.WithHandler(rewording))
	in := llmInstance(t, b, srv.URL(), false)

	_, scriptedFrames, scriptedReport := playSession(t, in, "scripted")
	opening, frames, report := playSession(t, in, "llm")

	if !strings.HasPrefix(opening.Str("text"), "Look. ") || opening["fallback"] == true {
		t.Errorf("opening = %v, want the model's wording", opening)
	}
	var deltas strings.Builder
	customers := 0
	for _, f := range frames {
		switch f.Type() {
		case "delta":
			deltas.WriteString(f.Str("text"))
		case "customer":
			customers++
			if !strings.HasPrefix(f.Str("text"), "Look. ") || f["fallback"] == true {
				t.Errorf("customer frame %v, want the model's wording", f)
			}
			if deltas.String() != f.Str("text") {
				t.Errorf("deltas %q do not spell the stored line %q", deltas.String(), f.Str("text"))
			}
			deltas.Reset()
		}
	}
	if customers == 0 {
		t.Fatal("no customer frames")
	}
	if got, want := shape(report), shape(scriptedReport); got != want {
		t.Errorf("report shape differs from the scripted one:\n llm      %s\n scripted %s", got, want)
	}
	// Same replies, same state machine: the same outcome and turn count.
	if report.Str("outcome") != scriptedReport.Str("outcome") || report.Int("turns") != scriptedReport.Int("turns") {
		t.Errorf("llm outcome %q/%d turns, scripted %q/%d", report.Str("outcome"), report.Int("turns"),
			scriptedReport.Str("outcome"), scriptedReport.Int("turns"))
	}
	t.Logf("scripted total %d, llm total %d, outcome %s, %d frames vs %d",
		scriptedReport.Int("total"), report.Int("total"), report.Str("outcome"), len(scriptedFrames), len(frames))
	if req, ok := srv.Last(); !ok || req.Header.Get("Authorization") != "Bearer sk-e2e" {
		t.Errorf("the provider was not called with the key")
	}
}

// With the provider down, the llm session still completes on scripted lines,
// each marked fallback, with a report of the usual shape.
func TestLLMSessionFallsBackWhenProviderDown(t *testing.T) {
	b := redistest.Mini(t)
	down := llmtest.New(t)
	base := down.URL()
	down.Close()
	in := llmInstance(t, b, base, true)

	_, _, scriptedReport := playSession(t, in, "scripted")
	opening, frames, report := playSession(t, in, "llm")
	if opening["fallback"] != true {
		t.Errorf("opening %v, want fallback", opening)
	}
	for _, f := range frames {
		if f.Type() == "customer" && f["fallback"] != true {
			t.Errorf("customer frame %v, want fallback", f)
		}
		if f.Type() == "delta" {
			t.Errorf("delta %v from a provider that is down", f)
		}
	}
	if got, want := shape(report), shape(scriptedReport); got != want {
		t.Errorf("report shape differs:\n llm      %s\n scripted %s", got, want)
	}
	// The judge was down too: the rules' scores stand.
	if report.Int("total") != scriptedReport.Int("total") || report.Str("outcome") != scriptedReport.Str("outcome") {
		t.Errorf("fallback report total %d/%s, scripted %d/%s", report.Int("total"), report.Str("outcome"),
			scriptedReport.Int("total"), scriptedReport.Str("outcome"))
	}
}

// With an LLM judge the report keeps its shape; disagreements go to "judge".
func TestLLMJudgeOverWebSocket(t *testing.T) {
	b := redistest.Mini(t)
	srv := llmtest.New(t, llmtest.WithHandler(rewording))
	in := llmInstance(t, b, srv.URL(), true)
	_, _, report := playSession(t, in, "llm")
	ref := llmInstance(t, b, srv.URL(), false)
	_, _, plain := playSession(t, ref, "llm")
	if got, want := shape(report), shape(plain); got != want {
		t.Errorf("judge report shape differs:\n judge %s\n rules %s", got, want)
	}
	if _, ok := report["judge"].([]any); !ok {
		t.Errorf("report has no judge notes: %v", report)
	}
}

package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sparring-gym/sparring/simulator/redisstore/redistest"
	"github.com/sparring-gym/sparring/web"
	"github.com/sparring-gym/sparring/web/webtest"
)

func runLoadgenCmd(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	err := run(t.Context(), append([]string{"loadgen"}, args...), func(string) string { return "" }, strings.NewReader(""), &out, &out)
	if err != nil {
		t.Fatalf("loadgen %v: %v\n%s", args, err, out.String())
	}
	return out.String()
}

var turnsRE = regexp.MustCompile(`\[sparring\] mode \w+: (\d+)/(\d+) sessions connected, (\d+) turns`)

// TestLoadgenModes drives a real in-process server (real persona engine,
// scorer and store) in every mode and checks what loadgen reports.
func TestLoadgenModes(t *testing.T) {
	in := webtest.Start(t, webtest.Options{Backend: redistest.Mini(t), Web: web.Config{MessagesPerSecond: 1000, Burst: 1000}})
	cases := []struct {
		name      string
		args      []string
		wantTurns bool
		want      []string
	}{
		{"closed, mixed trainees and languages", []string{"--mode", "closed", "--sessions", "4", "--duration", "1s"}, true,
			[]string{"turn latency ms: p50", "errors: none"}},
		{"paced, poor Chinese trainee", []string{"--mode", "paced", "--sessions", "3", "--think", "100ms", "--duration", "1s", "--lang", "zh", "--trainee", "poor"}, true,
			[]string{"errors: none"}},
		{"burst", []string{"--mode", "burst", "--sessions", "5", "--turns", "2", "--think", "200ms", "--markdown", "--label", "b"}, true,
			[]string{"errors: none", "| b | sparring | 5/5 | 10 |"}},
		{"idle with RSS", []string{"--mode", "idle", "--sessions", "5", "--hold", "200ms", "--server-pid", strconv.Itoa(os.Getpid())}, false,
			[]string{"server RSS:", "KiB per connected session"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := runLoadgenCmd(t, append([]string{"--url", in.URL}, c.args...)...)
			m := turnsRE.FindStringSubmatch(out)
			if m == nil || m[1] != m[2] {
				t.Fatalf("not every session connected:\n%s", out)
			}
			if n, _ := strconv.Atoi(m[3]); (n > 0) != c.wantTurns {
				t.Fatalf("%s turns, want turns: %v\n%s", m[3], c.wantTurns, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestLoadgenEcho measures the echo + Redis ceiling and the server in one
// run against a real Redis, and reads the commandstats deltas.
func TestLoadgenEcho(t *testing.T) {
	b, ok := redistest.Real(t)
	if !ok {
		t.Skipf("needs a real Redis: set %s (make test does)", redistest.EnvAddr)
	}
	in := webtest.Start(t, webtest.Options{Backend: b, Web: web.Config{MessagesPerSecond: 1000, Burst: 1000}})
	out := runLoadgenCmd(t, "--url", in.URL, "--mode", "closed", "--sessions", "4", "--duration", "1s", "--echo", "--redis", b.Addr)
	for _, w := range []string{"[echo+redis] mode closed: 4/4", "ratio: sparring", "script calls per reply"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	// Each reply is one script call; other writers may share the Redis,
	// so only a gross excess fails.
	m := regexp.MustCompile(`\[sparring\] redis \(INFO commandstats\): (-?\d+\.\d+) script calls per reply`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no script count:\n%s", out)
	}
	if v, _ := strconv.ParseFloat(m[1], 64); v < 0.9 || v > 1.5 {
		t.Errorf("%s script calls per reply, want about 1:\n%s", m[1], out)
	}
}

func TestLoadgenRejectsBadOptions(t *testing.T) {
	for _, c := range []struct{ args, want string }{
		{"--url http://x --mode fast", "--mode"},
		{"--mode closed", "--url"},
		{"--url http://x --echo", "--redis"},
		{"--url http://x --trainee average", "--trainee"},
		{"--url ftp://x", "scheme"},
	} {
		var out bytes.Buffer
		err := run(t.Context(), append([]string{"loadgen"}, strings.Fields(c.args)...), func(string) string { return "" }, strings.NewReader(""), &out, &out)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("loadgen %s: err = %v, want one naming %s", c.args, err, c.want)
		}
	}
}

func TestTargetURLs(t *testing.T) {
	for _, c := range []struct{ in, ws, metrics string }{
		{"http://127.0.0.1:8080", "ws://127.0.0.1:8080/ws", "http://127.0.0.1:8080/metrics"},
		{"ws://h:1/ws", "ws://h:1/ws", "http://h:1/metrics"},
		{"https://h", "wss://h/ws", "https://h/metrics"},
	} {
		ws, m, err := targetURLs(c.in)
		if err != nil || ws != c.ws || m != c.metrics {
			t.Errorf("targetURLs(%q) = %q, %q, %v; want %q, %q", c.in, ws, m, err, c.ws, c.metrics)
		}
	}
}

func TestTrainerLinesCoverBothLanguages(t *testing.T) {
	for _, lang := range []string{"en", "zh"} {
		for _, good := range []bool{true, false} {
			for turn := range 20 {
				if trainerLine(lang, good, turn) == "" {
					t.Fatal(fmt.Sprint("empty line ", lang, good, turn))
				}
			}
		}
	}
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sparring-gym/sparring/simulator/redisstore/redistest"
	"github.com/sparring-gym/sparring/web/webtest"
)

func TestLoadConfigLayers(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "sparring.yaml")
	secret := filepath.Join(dir, "key")
	os.WriteFile(file, []byte("http:\n  addr: 127.0.0.1:9000\nredis:\n  addrs: [10.0.0.1:6379]\nlog:\n  level: debug\n"), 0o600)
	os.WriteFile(secret, []byte("sk-from-file\n"), 0o600)

	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c Config)
		err   string
	}{
		{name: "defaults", check: func(t *testing.T, c Config) {
			if c.HTTP.Addr != "127.0.0.1:8080" || len(c.Redis.Addrs) != 0 || c.Redis.SessionTTL != 7*24*time.Hour {
				t.Errorf("defaults = %+v", c)
			}
		}},
		{name: "file", args: []string{"--config", file}, check: func(t *testing.T, c Config) {
			if c.HTTP.Addr != "127.0.0.1:9000" || strings.Join(c.Redis.Addrs, ",") != "10.0.0.1:6379" || c.Log.Level != "debug" {
				t.Errorf("from file = %+v", c)
			}
		}},
		{name: "env over file, env-only keys", args: []string{"--config", file},
			env: map[string]string{"SPARRING_HTTP_ADDR": "127.0.0.1:9001", "SPARRING_REDIS_ADDRS": "a:1,b:2", "SPARRING_TRAINER_TOKENS": "t1, t2", "SPARRING_LLM_API_KEY_FILE": secret, "SPARRING_LLM_BASE_URL": "http://x/v1", "SPARRING_LLM_MODEL": "m"},
			check: func(t *testing.T, c Config) {
				if c.HTTP.Addr != "127.0.0.1:9001" || strings.Join(c.Redis.Addrs, ",") != "a:1,b:2" ||
					strings.Join(c.Trainer.Tokens, ",") != "t1,t2" || c.LLM.APIKey != "sk-from-file" || c.LLM.Model != "m" {
					t.Errorf("env = %+v", c)
				}
			}},
		{name: "flag over env", args: []string{"--http.addr", "127.0.0.1:9002"}, env: map[string]string{"SPARRING_HTTP_ADDR": "127.0.0.1:9001"},
			check: func(t *testing.T, c Config) {
				if c.HTTP.Addr != "127.0.0.1:9002" {
					t.Errorf("addr = %s", c.HTTP.Addr)
				}
			}},
		{name: "bad addr names key", env: map[string]string{"SPARRING_HTTP_ADDR": "nope"}, err: "http.addr (SPARRING_HTTP_ADDR)"},
		{name: "half llm config", env: map[string]string{"SPARRING_LLM_MODEL": "m"}, err: "llm.model"},
		{name: "bad duration", env: map[string]string{"SPARRING_WS_PONG_WAIT": "soon"}, err: "pong_wait"},
		{name: "unknown file key", args: []string{"--config", writeFile(t, "htp:\n  addr: x\n")}, err: "unknown key(s) htp.addr"},
		{name: "missing file", args: []string{"--config", filepath.Join(dir, "none.yaml")}, err: "none.yaml"},
		{name: "missing secret file", env: map[string]string{"SPARRING_REDIS_PASSWORD_FILE": filepath.Join(dir, "nope")}, err: "redis.password_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := newServeCmd(&cliEnv{getenv: func(k string) string { return tt.env[k] }})
			if err := cmd.ParseFlags(tt.args); err != nil {
				t.Fatal(err)
			}
			c, err := loadConfig(cmd.Flags(), func(k string) string { return tt.env[k] })
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func writeFile(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte(content), 0o600)
	return p
}

func TestServeHelpListsEverySetting(t *testing.T) {
	var out bytes.Buffer
	err := run(t.Context(), []string{"serve", "--help"}, func(string) string { return "" }, strings.NewReader(""), &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		if !strings.Contains(out.String(), "--"+s.key) || !strings.Contains(out.String(), envName(s.key)) {
			t.Errorf("--help lacks %s", s.key)
		}
	}
}

// server runs `sparring serve` through run() until stop is called.
type server struct {
	url    string
	stop   func() error
	stdout *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func startServer(t *testing.T, env map[string]string) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env["SPARRING_HTTP_ADDR"] = addr
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, func(k string) string { return env[k] }, strings.NewReader(""), out, out)
	}()
	url := "http://" + addr
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("server exited: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready in 15s:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	s := &server{url: url, stdout: out}
	var once sync.Once
	var stopErr error
	s.stop = func() error {
		once.Do(func() { cancel(); stopErr = <-done })
		return stopErr
	}
	t.Cleanup(func() { s.stop() })
	return s
}

func TestRunServesEmbedded(t *testing.T) {
	s := startServer(t, map[string]string{})
	if !strings.Contains(s.stdout.String(), "open http://") || !strings.Contains(s.stdout.String(), "embedded") {
		t.Errorf("startup output = %q, want the URL and the storage mode", s.stdout.String())
	}
	if err := s.stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

func TestRunFailsFastOnBadRedis(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	var out bytes.Buffer
	err := run(t.Context(), nil, func(k string) string {
		return map[string]string{"SPARRING_REDIS_ADDRS": dead, "SPARRING_HTTP_ADDR": "127.0.0.1:0"}[k]
	}, strings.NewReader(""), &out, &out)
	if err == nil || !strings.Contains(err.Error(), dead) {
		t.Fatalf("err = %v, want a clear error naming %s", err, dead)
	}
}

// TestRestartLosesNothing plays three turns, stops the server, starts a new
// one on the same real Redis and resumes: every event is still there.
func TestRestartLosesNothing(t *testing.T) {
	b, ok := redistest.Real(t)
	if !ok {
		t.Skipf("needs a real Redis: set %s (make test does)", redistest.EnvAddr)
	}
	env := map[string]string{"SPARRING_REDIS_ADDRS": b.Addr, "SPARRING_REDIS_PREFIX": b.Prefix}
	first := startServer(t, env)
	c := webtest.Dial(t, "ws"+strings.TrimPrefix(first.url, "http")+"/ws", nil)
	session, _ := c.Start("p01-lost-manuscript-en", nil)
	var last int
	for i, text := range []string{
		"Hello, I'm Lin from support. I'm so sorry about your manuscript.",
		"Can you tell me when you last saw the file?",
		"I will check the repair log myself and call you back by 5 pm today. Does that work?",
	} {
		frames := c.Reply(fmt.Sprint("r", i), text)
		last = frames[len(frames)-1].Seq()
	}
	if err := first.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	second := startServer(t, env)
	c2 := webtest.Dial(t, "ws"+strings.TrimPrefix(second.url, "http")+"/ws", nil)
	c2.Send(map[string]any{"type": "resume", "session": session.Str("session"), "token": session.Str("token"), "after": 0})
	c2.Expect("session")
	var got []webtest.Frame
	for len(got) == 0 || got[len(got)-1].Seq() < last {
		got = append(got, c2.Next())
	}
	acks := 0
	for i, f := range got {
		if f.Seq() != i+1 {
			t.Fatalf("replayed frame %d has seq %d", i, f.Seq())
		}
		if f.Type() == "ack" {
			acks++
		}
	}
	if acks != 3 {
		t.Fatalf("replayed %d acks, want 3", acks)
	}
	// And the conversation goes on after the restart.
	if frames := c2.Reply("r3", "Is there anything else I can help with?"); frames[0].Seq() != last+1 {
		t.Fatalf("next reply got seq %d, want %d", frames[0].Seq(), last+1)
	}
}

// TestDebugAddrServesProfiles: debug.addr serves pprof on its own listener,
// the public address does not, and a malformed value is refused by name.
func TestDebugAddrServesProfiles(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	debugAddr := ln.Addr().String()
	ln.Close()
	s := startServer(t, map[string]string{"SPARRING_DEBUG_ADDR": debugAddr})
	get := func(url string) int {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("http://" + debugAddr + "/debug/pprof/goroutine?debug=1"); code != http.StatusOK {
		t.Errorf("debug listener: status %d, want 200", code)
	}
	if code := get(s.url + "/debug/pprof/"); code == http.StatusOK {
		t.Errorf("public listener serves /debug/pprof/")
	}

	var out bytes.Buffer
	err = run(t.Context(), []string{"serve"}, func(k string) string {
		return map[string]string{"SPARRING_DEBUG_ADDR": "6060"}[k]
	}, strings.NewReader(""), &out, &out)
	if err == nil || !strings.Contains(err.Error(), "debug.addr") || !strings.Contains(err.Error(), "SPARRING_DEBUG_ADDR") {
		t.Fatalf("err = %v, want one naming debug.addr and its variable", err)
	}
}

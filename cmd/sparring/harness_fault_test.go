package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sparring-gym/sparring/simulator/redisstore/redistest"
)

// The fault and cluster tests run the real binary and real redis-server
// processes, so they can be killed with SIGKILL like in production.

// needRedisServer skips without redis-server, unless SPARRING_REQUIRE_REDIS=1
// (make test) turns that into a failure.
func needRedisServer(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range append([]string{"redis-server"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv(redistest.EnvRequire) == "1" {
				t.Fatalf("%s is not on PATH and %s=1", tool, redistest.EnvRequire)
			}
			t.Skipf("%s is not on PATH", tool)
		}
	}
}

// TestMain removes the binary the fault and cluster tests build.
func TestMain(m *testing.M) {
	code := m.Run()
	if builtDir != "" {
		_ = os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

// builtDir holds the binary built once per test process (see buildSparring).
var builtDir string

var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "sparring-bin-")
	if err != nil {
		return "", err
	}
	builtDir = dir
	bin := filepath.Join(dir, "sparring")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
})

// buildSparring builds this command once per test process; the tests run
// the real binary so they can kill it with SIGKILL.
func buildSparring(t *testing.T) string {
	t.Helper()
	began := time.Now()
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d > time.Second {
		t.Logf("go build took %s", d.Round(time.Millisecond))
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// redisProc is a redis-server child with the production durability setting:
// AOF with appendfsync always, no RDB snapshots.
type redisProc struct {
	t     *testing.T
	port  int
	dir   string
	extra []string
	cmd   *exec.Cmd
	wait  chan struct{}
}

func startRedisProc(t *testing.T, extra ...string) *redisProc {
	t.Helper()
	r := &redisProc{t: t, port: freePort(t), dir: t.TempDir(), extra: extra}
	r.start()
	t.Cleanup(r.kill)
	return r
}

func (r *redisProc) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// start runs redis-server and returns once it answers PING.
func (r *redisProc) start() time.Time {
	r.t.Helper()
	args := append([]string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no",
		"--logfile", "redis.log"}, r.extra...)
	r.cmd = exec.Command("redis-server", args...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("redis-server: %v", err)
	}
	r.wait = make(chan struct{})
	go func() { _ = r.cmd.Wait(); close(r.wait) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if redisPing(r.addr()) {
			return time.Now()
		}
		select {
		case <-r.wait:
			log, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
			r.t.Fatalf("redis-server on %s exited:\n%s", r.addr(), log)
		case <-time.After(5 * time.Millisecond):
		}
	}
	r.t.Fatalf("redis-server on %s did not answer PING in 10s", r.addr())
	return time.Time{}
}

func (r *redisProc) kill() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.wait
}

// redisPing reports whether a Redis at addr answers PING with PONG (not
// LOADING, which Redis answers while it replays its AOF).
func redisPing(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// serverProc is the sparring binary as a child process.
type serverProc struct {
	t    *testing.T
	bin  string
	addr string
	env  map[string]string
	cmd  *exec.Cmd
	out  *syncBuffer
	wait chan struct{}
}

func startServerProc(t *testing.T, bin string, env map[string]string) *serverProc {
	t.Helper()
	s := &serverProc{t: t, bin: bin, addr: "127.0.0.1:" + strconv.Itoa(freePort(t)), env: env}
	s.start()
	t.Cleanup(s.kill)
	return s
}

func (s *serverProc) wsURL() string { return "ws://" + s.addr + "/ws" }

func (s *serverProc) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "serve")
	s.cmd.Env = append(os.Environ(), "SPARRING_HTTP_ADDR="+s.addr)
	for k, v := range s.env {
		s.cmd.Env = append(s.cmd.Env, k+"="+v)
	}
	s.out = &syncBuffer{}
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", s.bin, err)
	}
	s.wait = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.wait) }()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + s.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-s.wait:
			s.t.Fatalf("sparring serve exited:\n%s", s.out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	s.t.Fatalf("sparring serve not ready in 15s:\n%s", s.out.String())
}

func (s *serverProc) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.wait
}

// trainee is a client that behaves like the browser app: it resumes after
// any disconnect and resends its unacknowledged reply with the same id, so
// the server can answer it without processing it twice.
type trainee struct {
	url      func() string
	name     string
	scenario string
	lines    []string

	ws       *websocket.Conn
	sess     *playedSession
	sessions []*playedSession
	nextID   int
	lastSeq  int
	ended    bool

	// Counters for the test's report.
	unavailable int
	reconnects  int
	stats       *faultStats
}

// faultStats is shared by all trainees of a test.
type faultStats struct {
	turns       atomic.Int64
	unavailable atomic.Int64
	mu          sync.Mutex
	successes   []time.Time // when each turn was answered
}

func (s *faultStats) success() {
	s.turns.Add(1)
	s.mu.Lock()
	s.successes = append(s.successes, time.Now())
	s.mu.Unlock()
}

// firstAfter is the first answered turn after t.
func (s *faultStats) firstAfter(t time.Time) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, at := range s.successes {
		if at.After(t) {
			return at, true
		}
	}
	return time.Time{}, false
}

// waitTurns waits until n more turns than now have been answered.
func (s *faultStats) waitTurns(t *testing.T, n int64, within time.Duration) {
	t.Helper()
	target := s.turns.Load() + n
	deadline := time.Now().Add(within)
	for s.turns.Load() < target {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d turns answered in %s", s.turns.Load(), target, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// playedSession is what the client knows: every reply the server acknowledged.
type playedSession struct {
	id, token string
	acked     map[string]bool
}

type wireFrame map[string]any

func (f wireFrame) str(k string) string { s, _ := f[k].(string); return s }
func (f wireFrame) num(k string) int    { n, _ := f[k].(float64); return int(n) }

var errGap = errors.New("seq gap")

func (c *trainee) dial(ctx context.Context) error {
	for {
		ws, _, err := websocket.DefaultDialer.DialContext(ctx, c.url(), nil)
		if err == nil {
			c.ws = ws
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("dial %s: %w (last: %v)", c.url(), ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c *trainee) read() (wireFrame, error) {
	_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := c.ws.ReadMessage()
	if err != nil {
		return nil, err
	}
	var f wireFrame
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	// Session events must arrive in order with no gap; a resent reply's
	// events may come again (seq ≤ lastSeq) and are ignored.
	if seq := f.num("seq"); seq > 0 {
		if seq > c.lastSeq+1 {
			return nil, fmt.Errorf("%w: got seq %d after %d", errGap, seq, c.lastSeq)
		}
		if seq <= c.lastSeq {
			return f, nil
		}
		c.lastSeq = seq
		switch f.str("type") {
		case "ack":
			c.sess.acked[f.str("id")] = true
		case "end":
			c.ended = true
		}
	}
	return f, nil
}

func (c *trainee) send(v any) error {
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(v)
}

// connect dials and starts a session, or resumes the current one and reads
// its replay up to the newest stored event.
func (c *trainee) connect(ctx context.Context) error {
	if c.ws != nil {
		_ = c.ws.Close()
		c.reconnects++
	}
	if err := c.dial(ctx); err != nil {
		return err
	}
	if c.sess == nil {
		return c.start(ctx)
	}
	if err := c.send(map[string]any{"type": "resume", "session": c.sess.id, "token": c.sess.token, "after": c.lastSeq}); err != nil {
		return c.connect(ctx)
	}
	stored := -1 // the newest stored seq, from the session frame
	for {
		f, err := c.read()
		if errors.Is(err, errGap) {
			return err
		}
		if err != nil {
			return c.connect(ctx)
		}
		switch f.str("type") {
		case "error":
			if f.str("code") == "unavailable" {
				c.unavailable++
				c.stats.unavailable.Add(1)
				time.Sleep(20 * time.Millisecond)
				return c.connect(ctx)
			}
			return fmt.Errorf("resume: %v", f)
		case "session":
			stored = f.num("last_seq")
		}
		if stored >= 0 && c.lastSeq >= stored {
			return nil
		}
	}
}

func (c *trainee) start(ctx context.Context) error {
	for ctx.Err() == nil {
		if err := c.send(map[string]any{"type": "start", "scenario": c.scenario, "trainee": c.name}); err != nil {
			return c.connect(ctx)
		}
		for {
			f, err := c.read()
			if err != nil {
				c.sess = nil
				return c.connect(ctx)
			}
			switch f.str("type") {
			case "session":
				c.sess = &playedSession{id: f.str("session"), token: f.str("token"), acked: map[string]bool{}}
				c.sessions = append(c.sessions, c.sess)
				c.lastSeq, c.ended = 0, false
				continue
			case "customer":
				return nil
			case "error":
				if f.str("code") != "unavailable" {
					return fmt.Errorf("start: %v", f)
				}
				c.unavailable++
				c.stats.unavailable.Add(1)
				time.Sleep(25 * time.Millisecond)
			default:
				continue
			}
			break
		}
	}
	return ctx.Err()
}

// turn sends one reply and returns once the server has acknowledged it and
// answered, whatever fails in between.
func (c *trainee) turn(ctx context.Context) error {
	if c.ended {
		c.sess = nil
		if err := c.start(ctx); err != nil {
			return err
		}
	}
	c.nextID++
	id := "r" + strconv.Itoa(c.nextID)
	text := c.lines[(c.nextID-1)%len(c.lines)]
	for ctx.Err() == nil {
		if c.sess.acked[id] {
			c.stats.success()
			return nil // stored before the connection dropped; the replay had it
		}
		if err := c.send(map[string]any{"type": "reply", "id": id, "text": text}); err != nil {
			if err := c.connect(ctx); err != nil {
				return err
			}
			continue
		}
	frames:
		for {
			f, err := c.read()
			if errors.Is(err, errGap) {
				return err
			}
			if err != nil {
				if err := c.connect(ctx); err != nil {
					return err
				}
				break frames
			}
			switch f.str("type") {
			case "customer":
				if c.sess.acked[id] {
					c.stats.success()
					return nil
				}
			case "error":
				if f.str("ref") != id {
					continue
				}
				switch f.str("code") {
				case "unavailable":
					c.unavailable++
					c.stats.unavailable.Add(1)
					time.Sleep(25 * time.Millisecond)
					break frames
				case "session_ended":
					c.ended = true
					return nil
				default:
					return fmt.Errorf("reply %s: %v", id, f)
				}
			}
		}
	}
	return ctx.Err()
}

// verify resumes every session the client played from seq 0 and checks the
// stored log: each acknowledged reply is there exactly once, seqs have no gap.
func (c *trainee) verify(t *testing.T, url string) (acked, stored int) {
	t.Helper()
	for _, s := range c.sessions {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatalf("verify dial: %v", err)
		}
		if err := ws.WriteJSON(map[string]any{"type": "resume", "session": s.id, "token": s.token, "after": 0}); err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		last, want := 0, -1
		for want < 0 || last < want {
			_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
			var f wireFrame
			if err := ws.ReadJSON(&f); err != nil {
				t.Fatalf("verify %s: %v", s.id, err)
			}
			switch f.str("type") {
			case "session":
				want = f.num("last_seq")
				continue
			case "error":
				t.Fatalf("verify %s: %v", s.id, f)
			}
			if f.num("seq") != last+1 {
				t.Fatalf("session %s: seq %d after %d", s.id, f.num("seq"), last)
			}
			last++
			if f.str("type") == "ack" {
				seen[f.str("id")]++
			}
		}
		ws.Close()
		for id, n := range seen {
			if n != 1 {
				t.Errorf("session %s: reply %s stored %d times", s.id, id, n)
			}
		}
		for id := range s.acked {
			if seen[id] == 0 {
				t.Errorf("session %s: acknowledged reply %s is lost", s.id, id)
			}
		}
		acked += len(s.acked)
		stored += len(seen)
	}
	return acked, stored
}

// playUntil runs n trainees until stop is closed; each finishes the turn in
// flight (riding out whatever fault is under way) and reports its error.
func playUntil(ctx context.Context, n int, url func() string, lines []string, stats *faultStats, stop <-chan struct{}) ([]*trainee, <-chan error) {
	clients := make([]*trainee, n)
	errc := make(chan error, n)
	var wg sync.WaitGroup
	for i := range clients {
		c := &trainee{url: url, name: fmt.Sprint("fault-", i), scenario: "p01-lost-manuscript-en", lines: lines, stats: stats}
		clients[i] = c
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.connect(ctx); err != nil {
				errc <- err
				return
			}
			for {
				select {
				case <-stop:
					_ = c.ws.Close()
					return
				default:
				}
				if err := c.turn(ctx); err != nil {
					errc <- fmt.Errorf("%s: %w", c.name, err)
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(errc) }()
	return clients, errc
}

package main_test

// Black-box acceptance tests of the v1 wire contract (shared/PROTOCOL.md):
// the binary is built once, started as a subprocess configured only through
// SPARRING_* variables, and driven only over /ws, the HTTP API and
// `sparring score`, the way an outside client would.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"go.yaml.in/yaml/v3"

	"github.com/sparring-gym/sparring/simulator/llm/llmtest"
)

const trainerToken = "acceptance-trainer-token"

// The contract's vocabularies (PROTOCOL.md, RUBRIC.md).
var (
	rubricSteps = set("receive", "understand", "help", "agree", "retain")
	rubricCodes = set(
		// positive
		"greet", "identify", "offer_help", "use_context", "apologize", "acknowledge_feeling", "ask",
		"restate_fact", "restate_feeling", "inform", "options", "recommend", "set_expectation", "own",
		"propose_plan", "check_agreement", "refuse_with_alternative", "escalate_cleanly",
		"confirm_satisfaction", "offer_more", "future_contact", "appreciate",
		// negative
		"command", "blame", "over_promise", "flat_unknown", "flat_refusal", "show_off", "minimize",
		"calm_down", "argue", "irritation", "insult")
	negativeCodes = set("command", "blame", "over_promise", "flat_unknown", "flat_refusal", "show_off",
		"minimize", "calm_down", "argue", "irritation", "insult")
	raterDims  = set("reliability", "assurance", "tangibles", "empathy", "responsiveness")
	outcomes   = set("resolved", "retained", "escalated", "lost", "timeout", "abandoned")
	errorCodes = set("bad_json", "unknown_type", "invalid", "too_large", "rate_limited",
		"scenario_not_found", "no_session", "bad_token", "session_ended", "unavailable", "internal")
)

func set(xs ...string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// ---------------------------------------------------------------------------
// The server under test.

type server struct {
	bin    string
	base   string // http://host:port
	ws     string // ws://host:port/ws
	cmd    *exec.Cmd
	output *syncBuffer
	done   chan error
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

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sparring")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServer runs `sparring serve` with only SPARRING_* configuration, on
// Redis when SPARRING_TEST_REDIS_ADDR names one, embedded storage otherwise.
func startServer(t *testing.T, bin string, extra map[string]string) *server {
	t.Helper()
	return startServerArgs(t, bin, extra, "serve")
}

// startServerArgs starts the binary with the given arguments (none = the
// `go run ./cmd/sparring` form of PROTOCOL.md §4).
func startServerArgs(t *testing.T, bin string, extra map[string]string, args ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"SPARRING_HTTP_ADDR=" + addr,
		"SPARRING_TRAINER_TOKENS=" + trainerToken + ",second-token",
		"SPARRING_LOG_LEVEL=warn"}
	if r := os.Getenv("SPARRING_TEST_REDIS_ADDR"); r != "" && extra["SPARRING_REDIS_PREFIX"] == "" {
		env = append(env, "SPARRING_REDIS_ADDRS="+r,
			fmt.Sprintf("SPARRING_REDIS_PREFIX=acceptance-%d-%d:", os.Getpid(), time.Now().UnixNano()))
	}
	for k, v := range extra {
		if k == "SPARRING_REDIS_PREFIX" {
			env = append(env, "SPARRING_REDIS_ADDRS="+os.Getenv("SPARRING_TEST_REDIS_ADDR"))
		}
		env = append(env, k+"="+v)
	}
	s := &server{bin: bin, base: "http://" + addr, ws: "ws://" + addr + "/ws", output: &syncBuffer{}, done: make(chan error, 1)}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = env
	s.cmd.Stdout = s.output
	s.cmd.Stderr = s.output
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		select {
		case err := <-s.done:
			t.Fatalf("server exited before ready: %v\n%s", err, s.output.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready within 30s\n%s", s.output.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and requires a clean exit (status 0) within a few seconds.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("server exited with %v after SIGTERM, want status 0\n%s", err, s.output.String())
		}
	case <-time.After(8 * time.Second):
		t.Errorf("server still running 8s after SIGTERM")
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// ---------------------------------------------------------------------------
// A WebSocket client that checks every frame it reads against the contract.

type frame map[string]any

func (f frame) str(k string) string  { s, _ := f[k].(string); return s }
func (f frame) obj(k string) frame   { m, _ := f[k].(map[string]any); return frame(m) }
func (f frame) arr(k string) []any   { a, _ := f[k].([]any); return a }
func (f frame) num(k string) float64 { n, _ := f[k].(json.Number); v, _ := n.Float64(); return v }
func (f frame) int(k string) int     { return int(f.num(k)) }
func (f frame) has(k string) bool    { _, ok := f[k]; return ok }
func (f frame) String() string       { b, _ := json.Marshal(f); return string(b) }
func (f frame) typ() string          { return f.str("type") }

type client struct {
	t        *testing.T
	c        *websocket.Conn
	lang     string            // the session's language, for error messages
	sent     map[string]string // reply id → text, for evidence checks
	turnText map[int]string    // turn → reply text, from the acks
	seqs     []int             // every seq read on this connection, in order
	valid    bool              // validate frames as they are read
	in       chan wsRead       // frames from the reader goroutine
	err      error             // the read error that ended the connection
}

type wsRead struct {
	mt   int
	data []byte
	err  error
}

// errQuiet is what a read returns when no frame came in time.
var errQuiet = errors.New("no frame in time")

func (s *server) dial(t *testing.T) *client {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(s.ws, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", s.ws, err)
	}
	resp.Body.Close()
	t.Cleanup(func() { c.Close() })
	cl := &client{t: t, c: c, sent: map[string]string{}, turnText: map[int]string{}, valid: true, in: make(chan wsRead, 4096)}
	// One reader goroutine, so a read can time out without breaking the
	// connection (a gorilla read deadline that fires is fatal to it).
	go func() {
		for {
			mt, data, err := c.ReadMessage()
			cl.in <- wsRead{mt, data, err}
			if err != nil {
				return
			}
		}
	}()
	return cl
}

func (c *client) send(v any) {
	c.t.Helper()
	if m, ok := v.(map[string]any); ok && m["type"] == "reply" {
		id, _ := m["id"].(string)
		text, _ := m["text"].(string)
		c.sent[id] = text
	}
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(string(b))
}

func (c *client) sendRaw(s string) {
	c.t.Helper()
	if err := c.c.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) readTimeout(d time.Duration) (frame, error) {
	c.t.Helper()
	if c.err != nil {
		return nil, c.err
	}
	var mt int
	var data []byte
	select {
	case r := <-c.in:
		if r.err != nil {
			c.err = r.err
			return nil, r.err
		}
		mt, data = r.mt, r.data
	case <-time.After(d):
		return nil, errQuiet
	}
	if mt != websocket.TextMessage {
		c.t.Errorf("frame of message type %d, want text", mt)
	}
	if !utf8.Valid(data) {
		c.t.Errorf("frame is not UTF-8: %q", data)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var f frame
	if err := dec.Decode(&f); err != nil {
		c.t.Fatalf("frame is not one JSON object: %v: %s", err, data)
	}
	if dec.More() {
		c.t.Errorf("frame holds more than one JSON value: %s", data)
	}
	if c.valid {
		c.check(f)
	}
	return f, nil
}

func (c *client) read() frame {
	c.t.Helper()
	f, err := c.readTimeout(15 * time.Second)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return f
}

// expect reads one frame and requires its type.
func (c *client) expect(typ string) frame {
	c.t.Helper()
	f := c.read()
	if f.typ() != typ {
		c.t.Fatalf("got %s frame, want %s: %v", f.typ(), typ, f)
	}
	return f
}

// expectError reads an error frame with the given code.
func (c *client) expectError(code string) frame {
	c.t.Helper()
	f := c.read()
	if f.typ() != "error" || f.str("code") != code {
		c.t.Fatalf("got %v, want error %s", f, code)
	}
	return f
}

// quiet requires no frame within d.
func (c *client) quiet(d time.Duration) {
	c.t.Helper()
	f, err := c.readTimeout(d)
	if err == nil {
		c.t.Fatalf("unexpected frame: %v", f)
	}
	if !errors.Is(err, errQuiet) {
		c.t.Fatalf("connection failed instead of staying quiet: %v", err)
	}
}

// start begins a session and returns the session frame and the opening customer frame.
func (c *client) start(req map[string]any) (frame, frame) {
	c.t.Helper()
	req["type"] = "start"
	if _, ok := req["trainee"]; !ok {
		req["trainee"] = "Acceptance Tester"
	}
	c.send(req)
	s := c.expect("session")
	c.lang = s.str("lang")
	cust := c.expect("customer")
	if cust.int("turn") != 0 {
		c.t.Errorf("opening customer turn = %d, want 0", cust.int("turn"))
	}
	if cust.int("seq") != 1 {
		c.t.Errorf("opening customer seq = %d, want 1", cust.int("seq"))
	}
	return s, cust
}

// turnResult is what one reply produced.
type turnResult struct {
	ack, feedback, customer, end, report frame
	frames                               []frame
}

// reply sends a reply and reads until the customer answers or the session ends.
func (c *client) reply(id, text string, coach bool) turnResult {
	c.t.Helper()
	c.send(map[string]any{"type": "reply", "id": id, "text": text})
	var r turnResult
	r.ack = c.expect("ack")
	r.frames = append(r.frames, r.ack)
	if r.ack.str("id") != id {
		c.t.Errorf("ack id = %q, want %q", r.ack.str("id"), id)
	}
	for {
		f := c.read()
		r.frames = append(r.frames, f)
		switch f.typ() {
		case "feedback":
			if !coach {
				c.t.Errorf("feedback sent in exam mode: %v", f)
			}
			if r.customer != nil || r.end != nil {
				c.t.Errorf("feedback after the customer/end: %v", f)
			}
			if f.int("turn") != r.ack.int("turn") {
				c.t.Errorf("feedback turn %d, ack turn %d", f.int("turn"), r.ack.int("turn"))
			}
			r.feedback = f
		case "customer":
			r.customer = f
			if coach && r.feedback == nil {
				c.t.Errorf("coach mode: customer answered before any feedback")
			}
			// The customer's last words may be followed by end and report.
			nf, err := c.readTimeout(300 * time.Millisecond)
			if errors.Is(err, errQuiet) {
				return r
			}
			if err != nil {
				c.t.Fatalf("read: %v", err)
			}
			if nf.typ() != "end" {
				c.t.Fatalf("unexpected frame after the customer's answer: %v", nf)
			}
			r.frames = append(r.frames, nf)
			r.end = nf
		case "end":
			r.end = f
		case "report":
			r.report = f
			return r
		case "delta", "note":
		default:
			c.t.Fatalf("unexpected frame after a reply: %v", f)
		}
	}
}

// end sends end and reads the end and report frames.
func (c *client) end() (frame, frame) {
	c.t.Helper()
	c.send(map[string]any{"type": "end"})
	e := c.expect("end")
	r := c.expect("report")
	if r.int("seq") != e.int("seq")+1 {
		c.t.Errorf("report seq %d does not follow end seq %d", r.int("seq"), e.int("seq"))
	}
	return e, r
}

// ---------------------------------------------------------------------------
// Frame validation: every field of every server message with its JSON type.

var rfc3339 = func(s string) bool { _, err := time.Parse(time.RFC3339, s); return err == nil }

func isInt(v any) bool {
	n, ok := v.(json.Number)
	if !ok {
		return false
	}
	_, err := n.Int64()
	return err == nil
}

func isNum(v any) bool { _, ok := v.(json.Number); return ok }

func intIn(v any, lo, hi int64) bool {
	if !isInt(v) {
		return false
	}
	n, _ := v.(json.Number).Int64()
	return n >= lo && n <= hi
}

func numIn(v any, lo, hi float64) bool {
	if !isNum(v) {
		return false
	}
	f, _ := v.(json.Number).Float64()
	return f >= lo && f <= hi
}

func isStr(v any) bool { _, ok := v.(string); return ok }

func (c *client) check(f frame) {
	t := c.t
	t.Helper()
	bad := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s frame: %s: %v", f.typ(), fmt.Sprintf(format, args...), f)
	}
	if !isStr(f["type"]) {
		bad("type is not a string")
		return
	}
	seqd := map[string]bool{"customer": true, "ack": true, "feedback": true, "end": true, "report": true, "note": true}
	if seqd[f.typ()] {
		if !intIn(f["seq"], 1, 1<<53) {
			bad("seq %v is not an integer >= 1", f["seq"])
		} else {
			c.seqs = append(c.seqs, f.int("seq"))
		}
	} else if f.has("seq") {
		bad("carries a seq")
	}
	switch f.typ() {
	case "session":
		for _, k := range []string{"session", "token"} {
			if s, ok := f[k].(string); !ok || s == "" {
				bad("%s is not a non-empty string", k)
			}
		}
		if !map[string]bool{"active": true, "ended": true}[f.str("state")] {
			bad("state %v", f["state"])
		}
		if !map[string]bool{"coach": true, "exam": true}[f.str("mode")] {
			bad("mode %v", f["mode"])
		}
		if !map[string]bool{"scripted": true, "llm": true}[f.str("engine")] {
			bad("engine %v", f["engine"])
		}
		if !map[string]bool{"zh": true, "en": true}[f.str("lang")] {
			bad("lang %v", f["lang"])
		}
		sc := f.obj("scenario")
		if sc == nil {
			bad("scenario is not an object")
		} else {
			if sc.str("id") == "" || sc.str("title") == "" {
				bad("scenario id/title not non-empty strings")
			}
			if !sc.has("brief") || sc["brief"] == nil {
				bad("scenario.brief missing")
			}
			if !intIn(sc["time_limit_s"], 0, 1<<31) || !intIn(sc["max_turns"], 0, 1<<31) {
				bad("scenario time_limit_s/max_turns not non-negative integers")
			}
		}
		p := f.obj("persona")
		if p == nil || p.str("id") == "" || p.str("name") == "" {
			bad("persona {id, name} not non-empty strings")
		}
		if f.has("deadline") {
			if s, ok := f["deadline"].(string); !ok || !rfc3339(s) {
				bad("deadline %v is not RFC 3339 (absent when untimed)", f["deadline"])
			}
		} else if sc != nil && sc.int("time_limit_s") > 0 && f.str("state") == "active" {
			bad("timed scenario (time_limit_s %d) but no deadline", sc.int("time_limit_s"))
		}
	case "customer":
		if !intIn(f["turn"], 0, 1<<31) {
			bad("turn not an integer >= 0")
		}
		if s, ok := f["text"].(string); !ok || strings.TrimSpace(s) == "" {
			bad("text not a non-empty string")
		}
		m := f.obj("mood")
		if m == nil || !intIn(m["anger"], 0, 100) || !intIn(m["trust"], 0, 100) {
			bad("mood {anger, trust} not integers 0-100")
		}
	case "delta":
		if !intIn(f["turn"], 0, 1<<31) || !isStr(f["text"]) {
			bad("turn/text")
		}
	case "ack":
		if s, ok := f["id"].(string); !ok || s == "" {
			bad("id not a non-empty string")
		}
		if !intIn(f["turn"], 1, 1<<31) {
			bad("turn not an integer >= 1")
		}
		if text, ok := c.sent[f.str("id")]; ok {
			c.turnText[f.int("turn")] = text
		}
	case "feedback":
		c.checkFeedback(f, true)
	case "end":
		if !outcomes[f.str("outcome")] {
			bad("outcome %v not one of the six", f["outcome"])
		}
		if !isStr(f["reason"]) {
			bad("reason not a string")
		}
	case "report":
		c.checkReport(f.obj("report"), f)
	case "leaderboard":
		checkLeaderboard(t, f)
	case "error":
		if !errorCodes[f.str("code")] {
			bad("code %v not in the contract", f["code"])
		}
		if s, ok := f["message"].(string); !ok || strings.TrimSpace(s) == "" {
			bad("message not a non-empty string")
		}
		if f.has("ref") && !isStr(f["ref"]) {
			bad("ref not a string")
		}
	case "note":
	default:
		bad("unknown server frame type")
	}
}

func (c *client) checkFeedback(f frame, framed bool) {
	t := c.t
	t.Helper()
	bad := func(format string, args ...any) {
		t.Helper()
		t.Errorf("feedback: %s: %v", fmt.Sprintf(format, args...), f)
	}
	if !intIn(f["turn"], 1, 1<<31) {
		bad("turn not an integer >= 1")
	}
	steps, ok := f["steps"].([]any)
	if !ok {
		bad("steps not an array")
	}
	for _, s := range steps {
		if !rubricSteps[fmt.Sprint(s)] || !isStr(s) {
			bad("step %v not a RUBRIC step", s)
		}
	}
	sigs, ok := f["signals"].([]any)
	if !ok {
		bad("signals not an array")
	}
	for _, s := range sigs {
		sig, _ := s.(map[string]any)
		if sig == nil {
			bad("signal %v not an object", s)
			continue
		}
		code, _ := sig["code"].(string)
		if !rubricCodes[code] {
			bad("signal code %q not in RUBRIC", code)
		}
		pol, _ := sig["polarity"].(string)
		if pol != "+" && pol != "-" {
			bad("polarity %v not + or -", sig["polarity"])
		} else if rubricCodes[code] && (pol == "-") != negativeCodes[code] {
			bad("code %s with polarity %s", code, pol)
		}
		ev, ok := sig["evidence"].(string)
		if !ok {
			bad("evidence not a string")
		}
		if text, ok := c.textOfTurn(f.int("turn")); ok && !strings.Contains(text, ev) {
			bad("evidence %q is not a substring of the reply %q", ev, text)
		}
	}
	if !isStr(f["hint"]) {
		bad("hint not a string")
	}
}

// textOfTurn is the reply stored as turn (learnt from the acks read).
func (c *client) textOfTurn(turn int) (string, bool) {
	s, ok := c.turnText[turn]
	return s, ok
}

func (c *client) checkReport(r frame, f frame) {
	t := c.t
	t.Helper()
	bad := func(format string, args ...any) {
		t.Helper()
		t.Errorf("report: %s: %v", fmt.Sprintf(format, args...), f)
	}
	if r == nil {
		bad("report not an object")
		return
	}
	if !numIn(r["total"], 0, 100) {
		bad("total %v not 0-100", r["total"])
	}
	steps := r.obj("steps")
	if len(steps) != 5 {
		bad("steps has %d entries, want the five", len(steps))
	}
	for name, v := range steps {
		st, _ := v.(map[string]any)
		if !rubricSteps[name] || st == nil {
			bad("step %q", name)
			continue
		}
		if !numIn(st["score"], 0, 100) {
			bad("step %s score %v", name, st["score"])
		}
		ev, ok := st["evidence"].([]any)
		if !ok {
			bad("step %s evidence not an array", name)
		}
		for _, e := range ev {
			if !isStr(e) {
				bad("step %s evidence %v not a string", name, e)
			}
		}
		if !isStr(st["advice"]) {
			bad("step %s advice not a string", name)
		}
	}
	dims := r.obj("dimensions")
	if len(dims) != 5 {
		bad("dimensions has %d entries, want the five RATER dimensions", len(dims))
	}
	for name, v := range dims {
		if !raterDims[name] || !numIn(v, 0, 100) {
			bad("dimension %q = %v", name, v)
		}
	}
	if !outcomes[r.str("outcome")] {
		bad("outcome %v", r["outcome"])
	}
	if !intIn(r["turns"], 0, 1<<31) {
		bad("turns not an integer >= 0")
	}
	if !numIn(r["duration_s"], 0, 1e9) {
		bad("duration_s not a number >= 0")
	}
	fb, ok := r["feedback"].([]any)
	if !ok {
		bad("feedback not an array")
	}
	for _, x := range fb {
		m, _ := x.(map[string]any)
		if m == nil {
			bad("feedback item not an object")
			continue
		}
		c.checkFeedback(frame(m), false)
	}
	if ok && len(fb) != r.int("turns") {
		bad("feedback has %d items for %d turns", len(fb), r.int("turns"))
	}
}

func checkLeaderboard(t *testing.T, f frame) {
	t.Helper()
	if !isStr(f["contest"]) || !rfc3339(f.str("ends_at")) {
		t.Errorf("leaderboard contest/ends_at: %v", f)
	}
	es, ok := f["entries"].([]any)
	if !ok {
		t.Errorf("leaderboard entries not an array: %v", f)
	}
	for _, e := range es {
		m := frame(e.(map[string]any))
		if !intIn(m["rank"], 1, 1<<31) || !isStr(m["name"]) || !isStr(m["team"]) || !isNum(m["score"]) || !intIn(m["sessions"], 0, 1<<31) {
			t.Errorf("leaderboard entry %v", m)
		}
	}
}

// ---------------------------------------------------------------------------
// HTTP helpers.

func httpDo(t *testing.T, method, url, auth, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
}

func getScenarios(t *testing.T, s *server) []frame {
	t.Helper()
	code, b := httpDo(t, "GET", s.base+"/api/scenarios", "", "")
	if code != 200 {
		t.Fatalf("GET /api/scenarios = %d: %s", code, b)
	}
	var list []frame
	decode(t, b, &list)
	return list
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// checkSeqs requires the seqs read on a fresh session to run 1, 2, 3… with no gap.
func checkSeqs(t *testing.T, c *client) {
	t.Helper()
	for i, s := range c.seqs {
		if s != i+1 {
			t.Errorf("seqs %v: position %d is %d, want %d (from 1, +1, no gaps)", c.seqs, i, s, i+1)
			return
		}
	}
}

// ---------------------------------------------------------------------------
// The suite.

func TestAcceptance(t *testing.T) {
	if testing.Short() {
		t.Skip("acceptance: builds and runs the server")
	}
	bin := buildBinary(t)
	s := startServer(t, bin, nil)
	scens := getScenarios(t, s)
	byID := map[string]frame{}
	for _, sc := range scens {
		byID[sc.str("id")] = sc
	}

	t.Run("http/health", func(t *testing.T) { testHealth(t, s) })
	t.Run("http/scenarios", func(t *testing.T) { testScenarios(t, s, scens) })
	t.Run("http/personas", func(t *testing.T) { testPersonas(t, s) })
	t.Run("http/trainer-auth", func(t *testing.T) { testTrainerAuth(t, s) })
	t.Run("ws/start-defaults", func(t *testing.T) { testStartDefaults(t, s, scens) })
	t.Run("ws/start-other-lang", func(t *testing.T) { testStartOtherLang(t, s, scens) })
	t.Run("ws/coach-turns", func(t *testing.T) { testCoachTurns(t, s) })
	t.Run("ws/exam", func(t *testing.T) { testExam(t, s) })
	t.Run("ws/errors", func(t *testing.T) { testErrors(t, s, byID) })
	t.Run("ws/invalid", func(t *testing.T) { testInvalid(t, s) })
	t.Run("ws/limits", func(t *testing.T) { testLimits(t, s) })
	t.Run("ws/zh-errors", func(t *testing.T) { testZhErrors(t, s) })
	t.Run("ws/resume", func(t *testing.T) { testResume(t, s) })
	t.Run("http/session", func(t *testing.T) { testSessionHTTP(t, s) })
	t.Run("contest", func(t *testing.T) { testContest(t, s) })
	t.Run("play", func(t *testing.T) { testPlay(t, s) })
	t.Run("library", func(t *testing.T) { testLibrary(t, s, scens) })
	t.Run("score-cli", func(t *testing.T) { testScoreCLI(t, bin) })
	t.Run("score-vocabulary", func(t *testing.T) { testScoreVocabulary(t, bin) })
	t.Run("ws/pipelined", func(t *testing.T) { testPipelined(t, s) })
	t.Run("ws/max-turns", func(t *testing.T) { testMaxTurns(t, s, byID) })
	t.Run("ws/resume-ended", func(t *testing.T) { testResumeEnded(t, s) })
	t.Run("ws/violations-close", func(t *testing.T) { testViolationsClose(t, s) })
	t.Run("ws/parallel", func(t *testing.T) { testParallel(t, s) })
	t.Run("ws/garbage", func(t *testing.T) { testGarbage(t, s) })
	t.Run("ws/drop-mid-turn", func(t *testing.T) { testDropMidTurn(t, s) })
	t.Run("ws/two-attached", func(t *testing.T) { testTwoAttached(t, s) })
	t.Run("authored", func(t *testing.T) { testAuthored(t, s) })
	t.Run("llm", func(t *testing.T) { testLLM(t, bin) })
	t.Run("restart", func(t *testing.T) { testRestart(t, bin) })
	t.Run("storage-down", func(t *testing.T) { testStorageDown(t, bin) })
	t.Run("no-args-serves", func(t *testing.T) {
		// `go run ./cmd/sparring` with no arguments is the server too, with
		// a space after a comma in the token list.
		n := startServerArgs(t, bin, map[string]string{"SPARRING_TRAINER_TOKENS": "one-token, " + trainerToken})
		if code, _ := httpDo(t, "GET", n.base+"/api/sessions", "Bearer "+trainerToken, ""); code != 200 {
			t.Errorf("second token after \", \": %d, want 200", code)
		}
		c := n.dial(t)
		c.start(map[string]any{"scenario": "p01-lost-manuscript-zh"})
		n.stop(t)
	})
	t.Run("shutdown", func(t *testing.T) {
		c := s.dial(t)
		c.start(map[string]any{"scenario": "p01-lost-manuscript-en"})
		s.stop(t)
	})
}

var metricLine = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? ([-+]?[0-9.eE+-]+|NaN|[+-]Inf)( -?[0-9]+)?$`)

func testHealth(t *testing.T, s *server) {
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, b := httpDo(t, "GET", s.base+p, "", ""); code != 200 {
			t.Errorf("GET %s = %d: %s", p, code, b)
		}
	}
	resp, err := http.Get(s.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("GET /metrics = %d %q, want 200 text/plain", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	types, samples := 0, 0
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
		case strings.HasPrefix(line, "# TYPE "):
			types++
		case strings.HasPrefix(line, "#"):
		case metricLine.MatchString(line):
			samples++
		default:
			t.Errorf("/metrics line is not Prometheus text format: %q", line)
		}
	}
	if types == 0 || samples == 0 {
		t.Errorf("/metrics: %d TYPE lines, %d samples", types, samples)
	}
}

// hiddenFacts reads every hidden fact text of the library's scenario files.
func hiddenFacts(t *testing.T) map[string][]string {
	t.Helper()
	files, _ := filepath.Glob("../../scenarios/data/*.yaml")
	out := map[string][]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			ID          string `yaml:"id"`
			HiddenFacts []struct {
				Text any `yaml:"text"`
			} `yaml:"hidden_facts"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, h := range doc.HiddenFacts {
			switch v := h.Text.(type) {
			case string:
				out[doc.ID] = append(out[doc.ID], v)
			case map[string]any:
				for _, x := range v {
					out[doc.ID] = append(out[doc.ID], fmt.Sprint(x))
				}
			}
		}
	}
	return out
}

func testScenarios(t *testing.T, s *server, scens []frame) {
	if len(scens) == 0 {
		t.Fatal("no published scenarios")
	}
	facts := hiddenFacts(t)
	if len(facts) == 0 {
		t.Error("read no hidden facts from scenarios/data (test cannot check leaks)")
	}
	for _, sc := range scens {
		id := sc.str("id")
		if id == "" || sc.str("title") == "" || sc.str("persona") == "" {
			t.Errorf("scenario summary id/title/persona: %v", sc)
		}
		lang := sc.str("lang")
		if lang != "zh" && lang != "en" {
			t.Errorf("%s: lang %v is not one code", id, sc["lang"])
		}
		langs := sc.arr("langs")
		found := false
		for _, l := range langs {
			if l != "zh" && l != "en" {
				t.Errorf("%s: langs has %v", id, l)
			}
			found = found || l == lang
		}
		if !found {
			t.Errorf("%s: lang %q not in langs %v", id, lang, langs)
		}
		if !intIn(sc["difficulty"], 1, 5) || !intIn(sc["time_limit_s"], 0, 1<<31) {
			t.Errorf("%s: difficulty/time_limit_s: %v", id, sc)
		}
		code, b := httpDo(t, "GET", s.base+"/api/scenarios/"+id, "", "")
		if code != 200 {
			t.Errorf("GET /api/scenarios/%s = %d", id, code)
			continue
		}
		var one frame
		decode(t, b, &one)
		if one.str("id") != id {
			t.Errorf("GET /api/scenarios/%s answered id %q", id, one.str("id"))
		}
		for _, q := range []string{"", "?lang=zh", "?lang=en"} {
			_, b := httpDo(t, "GET", s.base+"/api/scenarios/"+id+q, "", "")
			var raw any
			decode(t, b, &raw)
			plain, _ := json.Marshal(raw) // undo \u escapes
			for _, f := range facts[id] {
				if bytes.Contains(plain, []byte(f)) || bytes.Contains(b, []byte(f)) {
					t.Errorf("GET /api/scenarios/%s%s leaks hidden fact %q", id, q, f)
				}
			}
			if bytes.Contains(b, []byte("hidden_facts")) || bytes.Contains(b, []byte("asked_by")) {
				t.Errorf("GET /api/scenarios/%s%s shows hidden facts: %s", id, q, b)
			}
		}
	}
	if code, _ := httpDo(t, "GET", s.base+"/api/scenarios/no-such-scenario", "", ""); code != 404 {
		t.Errorf("GET unknown scenario = %d, want 404", code)
	}
}

func testPersonas(t *testing.T, s *server) {
	code, b := httpDo(t, "GET", s.base+"/api/personas", "", "")
	if code != 200 {
		t.Fatalf("GET /api/personas = %d", code)
	}
	var list []frame
	decode(t, b, &list)
	if len(list) == 0 {
		t.Fatal("empty persona library")
	}
	for _, p := range list {
		if p.str("id") == "" {
			t.Errorf("persona without id: %v", p)
		}
	}
}

func testTrainerAuth(t *testing.T, s *server) {
	routes := []struct{ method, path, body string }{
		{"POST", "/api/scenarios", `{"id":"x"}`},
		{"PUT", "/api/scenarios/p01-lost-manuscript-en", `{"id":"x"}`},
		{"DELETE", "/api/scenarios/p01-lost-manuscript-en", ""},
		{"GET", "/api/sessions", ""},
		{"POST", "/api/contests", `{"scenarios":["p01-lost-manuscript-en"],"duration_s":60}`},
	}
	for _, r := range routes {
		t.Run(r.method+r.path, func(t *testing.T) {
			if code, b := httpDo(t, r.method, s.base+r.path, "", r.body); code != 401 {
				t.Errorf("without a token: %d, want 401: %s", code, b)
			}
			if code, b := httpDo(t, r.method, s.base+r.path, "Bearer wrong-token", r.body); code != 403 {
				t.Errorf("with a wrong token: %d, want 403: %s", code, b)
			}
		})
	}
	auth := "Bearer " + trainerToken
	code, b := httpDo(t, "GET", s.base+"/api/sessions", auth, "")
	if code != 200 {
		t.Errorf("GET /api/sessions as trainer = %d: %s", code, b)
	} else {
		var list []any
		decode(t, b, &list)
	}
	// The second configured token works too (comma-separated list).
	if code, _ := httpDo(t, "GET", s.base+"/api/sessions", "Bearer second-token", ""); code != 200 {
		t.Errorf("second trainer token: %d, want 200", code)
	}
	// Invalid authoring input is 422 {"errors":[{path,message}]}.
	code, b = httpDo(t, "POST", s.base+"/api/scenarios", auth, `{"id":"acceptance-broken","title":""}`)
	if code != 422 {
		t.Errorf("POST invalid scenario = %d, want 422: %s", code, b)
	} else {
		var v struct {
			Errors []frame `json:"errors"`
		}
		decode(t, b, &v)
		if len(v.Errors) == 0 {
			t.Errorf("422 without errors: %s", b)
		}
		for _, e := range v.Errors {
			if !isStr(e["path"]) || e.str("message") == "" {
				t.Errorf("422 error item %v lacks path/message", e)
			}
		}
	}
}

func testStartDefaults(t *testing.T, s *server, scens []frame) {
	seen := map[string]bool{}
	for _, sc := range scens {
		lang := sc.str("lang")
		key := lang + fmt.Sprint(len(sc.arr("langs")))
		if seen[key] {
			continue
		}
		seen[key] = true
		t.Run(sc.str("id"), func(t *testing.T) {
			c := s.dial(t)
			sess, cust := c.start(map[string]any{"scenario": sc.str("id")})
			if sess.str("mode") != "coach" || sess.str("engine") != "scripted" || sess.str("lang") != lang || sess.str("state") != "active" {
				t.Errorf("defaults: mode %q engine %q lang %q state %q, want coach scripted %s active",
					sess.str("mode"), sess.str("engine"), sess.str("lang"), sess.str("state"), lang)
			}
			if sess.obj("scenario").str("id") != sc.str("id") || sess.obj("persona").str("id") != sc.str("persona") {
				t.Errorf("session scenario/persona: %v", sess)
			}
			if sess.obj("scenario").int("time_limit_s") != sc.int("time_limit_s") {
				t.Errorf("session time_limit_s %d, list says %d", sess.obj("scenario").int("time_limit_s"), sc.int("time_limit_s"))
			}
			if d := sess.str("deadline"); d != "" {
				dt, _ := time.Parse(time.RFC3339, d)
				want := time.Now().Add(time.Duration(sc.int("time_limit_s")) * time.Second)
				if dt.Sub(want) > 5*time.Second || want.Sub(dt) > 5*time.Second {
					t.Errorf("deadline %s, want about %s", d, want.Format(time.RFC3339))
				}
			}
			if (lang == "zh") != hasHan(cust.str("text")) {
				t.Errorf("lang %s opening line %q", lang, cust.str("text"))
			}
		})
	}
}

func testStartOtherLang(t *testing.T, s *server, scens []frame) {
	n := 0
	for _, sc := range scens {
		if len(sc.arr("langs")) < 2 {
			continue
		}
		other := "en"
		if sc.str("lang") == "en" {
			other = "zh"
		}
		if n++; n > 3 {
			break
		}
		t.Run(sc.str("id")+"/"+other, func(t *testing.T) {
			c := s.dial(t)
			sess, cust := c.start(map[string]any{"scenario": sc.str("id"), "lang": other})
			if sess.str("lang") != other {
				t.Errorf("session lang %q, want %q", sess.str("lang"), other)
			}
			if (other == "zh") != hasHan(cust.str("text")) {
				t.Errorf("opening line %q is not in %s", cust.str("text"), other)
			}
			if (other == "zh") != hasHan(sess.obj("scenario").str("title")) {
				t.Errorf("scenario title %q is not in %s", sess.obj("scenario").str("title"), other)
			}
			// Errors follow the session's language.
			c.send(map[string]any{"type": "reply", "id": "x", "text": ""})
			e := c.expectError("invalid")
			if (other == "zh") != hasHan(e.str("message")) {
				t.Errorf("%s session: error message %q", other, e.str("message"))
			}
		})
	}
	if n == 0 {
		t.Fatal("no scenario with two langs")
	}
}

func testCoachTurns(t *testing.T, s *server) {
	c := s.dial(t)
	sess, _ := c.start(map[string]any{"scenario": "p03-day-five-return-en", "mode": "coach", "engine": "scripted", "lang": "en"})
	if sess.str("mode") != "coach" {
		t.Fatalf("mode %q", sess.str("mode"))
	}
	r1 := c.reply("r1", "Hello Mr Chen, I'm Lin from support. I'm sorry the Nova 12 has disappointed you. What made you want to return it?", true)
	if r1.ack.int("turn") != 1 || r1.ack.int("seq") != 2 {
		t.Errorf("first ack turn %d seq %d, want 1 and 2", r1.ack.int("turn"), r1.ack.int("seq"))
	}
	if r1.feedback == nil || r1.feedback.int("seq") != 3 {
		t.Fatalf("coach mode: feedback must follow the ack at seq 3: %v", r1.frames)
	}
	codes := map[string]bool{}
	for _, x := range r1.feedback.arr("signals") {
		codes[fmt.Sprint(x.(map[string]any)["code"])] = true
	}
	for _, want := range []string{"greet", "identify", "apologize"} {
		if !codes[want] {
			t.Errorf("reply 1 signals %v lack %s", codes, want)
		}
	}
	if r1.customer == nil || r1.customer.int("turn") != 1 {
		t.Errorf("customer answer turn: %v", r1.customer)
	}
	// Idempotent by id: the same events again, nothing new.
	c.send(map[string]any{"type": "reply", "id": "r1", "text": c.sent["r1"]})
	for i, want := range r1.frames {
		got := c.read()
		if got.String() != want.String() {
			t.Errorf("resent reply, frame %d:\n got %v\nwant %v", i, got, want)
		}
	}
	c.seqs = c.seqs[:len(c.seqs)-len(r1.frames)] // the replayed ones are not new
	r2 := c.reply("r2", "So you've seen it cheaper elsewhere. Is anything wrong with the phone itself, like the battery?", true)
	if r2.ack.int("turn") != 2 || r2.ack.int("seq") != r1.customer.int("seq")+1 {
		t.Errorf("second ack turn %d seq %d, want 2 and %d", r2.ack.int("turn"), r2.ack.int("seq"), r1.customer.int("seq")+1)
	}
	e, rep := c.end()
	if e.str("outcome") == "" {
		t.Error("end without outcome")
	}
	r := rep.obj("report")
	if r.int("turns") != 2 || len(r.arr("feedback")) != 2 {
		t.Errorf("report turns %d feedback %d, want 2 and 2", r.int("turns"), len(r.arr("feedback")))
	}
	if r.str("outcome") != e.str("outcome") {
		t.Errorf("report outcome %q, end outcome %q", r.str("outcome"), e.str("outcome"))
	}
	checkSeqs(t, c)
	// After the end: session_ended, for reply and end alike, connection open.
	c.send(map[string]any{"type": "reply", "id": "r3", "text": "Anything else?"})
	c.expectError("session_ended")
	c.send(map[string]any{"type": "end"})
	c.expectError("session_ended")
	// A resent reply of an ended session still gets its old events.
	c.send(map[string]any{"type": "reply", "id": "r2", "text": c.sent["r2"]})
	if f := c.read(); f.typ() != "ack" || f.int("seq") != r2.ack.int("seq") {
		t.Errorf("resent reply after end: got %v, want the old ack", f)
	}
}

func testExam(t *testing.T, s *server) {
	c := s.dial(t)
	sess, _ := c.start(map[string]any{"scenario": "p01-lost-manuscript-en", "mode": "exam"})
	if sess.str("mode") != "exam" {
		t.Fatalf("mode %q, want exam", sess.str("mode"))
	}
	lines := []string{
		"Ms Zhao, I'm so sorry. Losing a year of your novel is devastating. I'm Lin and I'll take this on myself.",
		"When did you first notice it, and was there any message on the screen just before?",
	}
	for i, l := range lines {
		r := c.reply(fmt.Sprintf("e%d", i+1), l, false)
		if r.feedback != nil {
			t.Errorf("exam mode sent feedback")
		}
		if r.end != nil {
			break
		}
	}
	_, rep := c.end()
	r := rep.obj("report")
	fb := r.arr("feedback")
	if len(fb) != len(lines) {
		t.Fatalf("exam report feedback has %d items, want %d", len(fb), len(lines))
	}
	for i, x := range fb {
		if frame(x.(map[string]any)).int("turn") != i+1 {
			t.Errorf("report feedback %d has turn %v", i, x)
		}
	}
	checkSeqs(t, c)
}

// testErrors reaches every error code a client can cause, and checks the
// connection stays open and the session unchanged afterwards.
func testErrors(t *testing.T, s *server, byID map[string]frame) {
	t.Run("before-session", func(t *testing.T) {
		c := s.dial(t)
		cases := []struct{ frame, code string }{
			{`{`, "bad_json"},
			{`not json`, "bad_json"},
			{`[1,2]`, "bad_json"},
			{`"start"`, "bad_json"},
			{`{"type":"start"}{"type":"end"}`, "bad_json"},
			{`{"type":"dance"}`, "unknown_type"},
			{"\xff\xfe{}", "bad_json"},
			{``, "bad_json"},
			{`{"type":"reply","id":"a","text":"hello"}`, "no_session"},
			{`{"type":"end"}`, "no_session"},
			{`{"type":"start","scenario":"no-such-scenario","trainee":"Ann"}`, "scenario_not_found"},
		}
		for i, tc := range cases {
			if i == 8 { // stay inside the per-connection burst of 10
				c.start(map[string]any{"scenario": "p01-lost-manuscript-en"})
				c = s.dial(t)
			}
			c.sendRaw(tc.frame)
			c.expectError(tc.code)
		}
		c.start(map[string]any{"scenario": "p01-lost-manuscript-en"})
	})
	t.Run("unavailable-llm", func(t *testing.T) {
		c := s.dial(t)
		c.send(map[string]any{"type": "start", "scenario": "p01-lost-manuscript-en", "trainee": "Ann", "engine": "llm"})
		e := c.expectError("unavailable")
		msg := e.str("message")
		if !strings.Contains(msg, "SPARRING_LLM_MODEL") && !strings.Contains(msg, "llm.model") {
			t.Errorf("unavailable message %q does not say how to configure a model (SPARRING_LLM_MODEL / llm.model)", msg)
		}
		c.start(map[string]any{"scenario": "p01-lost-manuscript-en"})
		// In a zh session the message is Chinese and still says how.
		z := s.dial(t)
		z.start(map[string]any{"scenario": "p01-lost-manuscript-zh"})
		z.send(map[string]any{"type": "start", "scenario": "p01-lost-manuscript-zh", "trainee": "林", "engine": "llm"})
		e = z.expectError("unavailable")
		if msg := e.str("message"); !hasHan(msg) || (!strings.Contains(msg, "SPARRING_LLM_MODEL") && !strings.Contains(msg, "llm.model")) {
			t.Errorf("zh unavailable message %q: want Chinese naming SPARRING_LLM_MODEL / llm.model", msg)
		}
	})
	t.Run("bad_token", func(t *testing.T) {
		c := s.dial(t)
		sess, _ := c.start(map[string]any{"scenario": "p01-lost-manuscript-en"})
		d := s.dial(t)
		d.send(map[string]any{"type": "resume", "session": sess.str("session"), "token": "wrong", "after": 0})
		d.expectError("bad_token")
		d.send(map[string]any{"type": "reply", "id": "a", "text": "hello"})
		d.expectError("no_session")
		// The owner's session is unchanged.
		r := c.reply("a", "Hello Ms Zhao, I'm Lin from support.", true)
		if r.ack.int("turn") != 1 || r.ack.int("seq") != 2 {
			t.Errorf("after a stranger's bad resume: ack %v", r.ack)
		}
	})
	t.Run("in-session", func(t *testing.T) {
		c := s.dial(t)
		c.start(map[string]any{"scenario": "p01-lost-manuscript-en"})
		cases := []struct{ frame, code string }{
			{`{"type":"reply","id":"a","text":"hel`, "bad_json"},
			{`{"type":"shout"}`, "unknown_type"},
			{`{"type":"reply","id":"a","text":""}`, "invalid"},
			{`{"type":"reply","id":"","text":"hello"}`, "invalid"},
			{`{"type":"start","scenario":"no-such-scenario","trainee":"Ann"}`, "scenario_not_found"},
			{`{"type":"resume","session":"nope","token":"nope","after":0}`, "bad_token"},
		}
		for _, tc := range cases {
			c.sendRaw(tc.frame)
			c.expectError(tc.code)
		}
		r := c.reply("a", "Hello Ms Zhao, I'm Lin from support. I'm so sorry.", true)
		if r.ack.int("turn") != 1 || r.ack.int("seq") != 2 {
			t.Errorf("after errors the session moved: ack %v", r.ack)
		}
		checkSeqs(t, c)
	})
}

func testInvalid(t *testing.T, s *server) {
	long := func(n int, r string) string { return strings.Repeat(r, n) }
	type tc struct {
		name, field string
		msg         map[string]any
	}
	starts := []tc{
		{"no scenario", "scenario", map[string]any{"trainee": "Ann"}},
		{"no trainee", "trainee", map[string]any{"scenario": "p01-lost-manuscript-en"}},
		{"empty trainee", "trainee", map[string]any{"scenario": "p01-lost-manuscript-en", "trainee": ""}},
		{"long trainee", "trainee", map[string]any{"scenario": "p01-lost-manuscript-en", "trainee": long(65, "a")}},
		{"bad mode", "mode", map[string]any{"scenario": "p01-lost-manuscript-en", "trainee": "Ann", "mode": "hard"}},
		{"bad engine", "engine", map[string]any{"scenario": "p01-lost-manuscript-en", "trainee": "Ann", "engine": "gpt"}},
		{"bad lang", "lang", map[string]any{"scenario": "p01-lost-manuscript-en", "trainee": "Ann", "lang": "fr"}},
		{"lang not offered", "lang", map[string]any{"scenario": "p01-lost-manuscript-en", "trainee": "Ann", "lang": "zh"}},
		{"scenario not a string", "scenario", map[string]any{"scenario": 5, "trainee": "Ann"}},
		{"scenario null", "scenario", map[string]any{"scenario": nil, "trainee": "Ann"}},
		{"blank trainee", "trainee", map[string]any{"scenario": "p01-lost-manuscript-en", "trainee": "   "}},
	}
	for _, x := range starts {
		t.Run("start/"+x.name, func(t *testing.T) {
			c := s.dial(t)
			x.msg["type"] = "start"
			c.send(x.msg)
			e := c.expectError("invalid")
			if !strings.Contains(e.str("message"), x.field) {
				t.Errorf("message %q does not name %s", e.str("message"), x.field)
			}
			c.start(map[string]any{"scenario": "p01-lost-manuscript-en"})
		})
	}
	t.Run("start/limits-in-chars", func(t *testing.T) {
		c := s.dial(t)
		sess, _ := c.start(map[string]any{"scenario": "p01-lost-manuscript-zh", "trainee": long(64, "林")})
		if sess.str("state") != "active" {
			t.Error(sess)
		}
		// Both limits at once: a 64-character id and 2000 characters (6000
		// bytes) of text. (A second such reply may find the customer gone.)
		r := c.reply(long(64, "号"), long(1999, "好")+"。", true)
		if r.ack.int("turn") != 1 {
			t.Errorf("2000-char reply with a 64-char id: %v", r.ack)
		}
	})
	replies := []tc{
		{"no id", "id", map[string]any{"text": "hello"}},
		{"empty id", "id", map[string]any{"id": "", "text": "hello"}},
		{"long id", "id", map[string]any{"id": long(65, "i"), "text": "hello"}},
		{"no text", "text", map[string]any{"id": "a"}},
		{"empty text", "text", map[string]any{"id": "a", "text": ""}},
		{"long text", "text", map[string]any{"id": "a", "text": long(2001, "a")}},
		{"text not a string", "text", map[string]any{"id": "a", "text": 7}},
		{"blank text", "text", map[string]any{"id": "a", "text": " \n\t "}},
		{"id not a string", "id", map[string]any{"id": 5, "text": "hello"}},
	}
	c := s.dial(t)
	c.start(map[string]any{"scenario": "p01-lost-manuscript-en"})
	for _, x := range replies {
		t.Run("reply/"+x.name, func(t *testing.T) {
			c.t = t
			x.msg["type"] = "reply"
			c.send(x.msg)
			e := c.expectError("invalid")
			if !strings.Contains(e.str("message"), x.field) {
				t.Errorf("message %q does not name %s", e.str("message"), x.field)
			}
			if e.has("ref") && e.str("ref") != fmt.Sprint(x.msg["id"]) {
				t.Errorf("ref %q, reply id %v", e.str("ref"), x.msg["id"])
			}
		})
	}
	c.t = t
	time.Sleep(time.Second) // let the per-connection burst (10) refill
	// None of that changed the session.
	r := c.reply("a", "Hello Ms Zhao, I'm Lin.", true)
	if r.ack.int("turn") != 1 || r.ack.int("seq") != 2 {
		t.Errorf("after invalid replies: ack %v", r.ack)
	}
	resumes := []tc{
		{"no session", "session", map[string]any{"token": "x", "after": 0}},
		{"no token", "token", map[string]any{"session": "x", "after": 0}},
		{"negative after", "after", map[string]any{"session": "x", "token": "x", "after": -1}},
		{"after not a number", "after", map[string]any{"session": "x", "token": "x", "after": "3"}},
		{"no after", "after", map[string]any{"session": "x", "token": "x"}},
	}
	for _, x := range resumes {
		t.Run("resume/"+x.name, func(t *testing.T) {
			d := s.dial(t)
			x.msg["type"] = "resume"
			d.send(x.msg)
			e := d.expectError("invalid")
			if !strings.Contains(e.str("message"), x.field) {
				t.Errorf("message %q does not name %s", e.str("message"), x.field)
			}
		})
	}
	t.Run("subscribe/no contest", func(t *testing.T) {
		d := s.dial(t)
		d.send(map[string]any{"type": "subscribe"})
		e := d.expectError("invalid")
		if !strings.Contains(e.str("message"), "contest") {
			t.Errorf("message %q does not name contest", e.str("message"))
		}
	})
}

func testLimits(t *testing.T, s *server) {
	t.Run("too_large", func(t *testing.T) {
		c := s.dial(t)
		c.start(map[string]any{"scenario": "p01-lost-manuscript-en"})
		c.send(map[string]any{"type": "reply", "id": "big", "text": strings.Repeat("a", 20<<10)})
		c.expectError("too_large")
		r := c.reply("ok", "Hello Ms Zhao, I'm Lin.", true)
		if r.ack.int("turn") != 1 || r.ack.int("seq") != 2 {
			t.Errorf("after too_large: ack %v", r.ack)
		}
	})
	t.Run("huge closes 1009", func(t *testing.T) {
		c := s.dial(t)
		// The server may close while the frame is still being written, so a
		// failed write is fine; the close code is what counts.
		_ = c.c.WriteMessage(websocket.TextMessage, []byte(`{"type":"reply","id":"x","text":"`+strings.Repeat("a", 80<<10)+`"}`))
		for i := 0; i < 3; i++ {
			f, err := c.readTimeout(10 * time.Second)
			if err != nil {
				if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
					t.Errorf("closed with %v, want 1009", err)
				}
				return
			}
			if f.typ() != "error" {
				t.Errorf("frame before close: %v", f)
			}
		}
		t.Error("connection not closed after an 80 KiB frame")
	})
	t.Run("rate_limited", func(t *testing.T) {
		c := s.dial(t)
		for i := 0; i < 14; i++ {
			c.send(map[string]any{"type": "end"})
		}
		limited := 0
		for i := 0; i < 14; i++ {
			e := c.expect("error")
			switch e.str("code") {
			case "rate_limited":
				limited++
			case "no_session":
			default:
				t.Errorf("unexpected %v", e)
			}
		}
		if limited == 0 {
			t.Fatal("14 frames at once were never rate_limited")
		}
		time.Sleep(1500 * time.Millisecond)
		c.start(map[string]any{"scenario": "p01-lost-manuscript-en"})
	})
}

func testZhErrors(t *testing.T, s *server) {
	c := s.dial(t)
	sess, _ := c.start(map[string]any{"scenario": "p01-lost-manuscript-zh"})
	if sess.str("lang") != "zh" {
		t.Fatalf("lang %q", sess.str("lang"))
	}
	for _, raw := range []string{`{`, `{"type":"dance"}`, `{"type":"reply","id":"a","text":""}`,
		`{"type":"start","scenario":"no-such","trainee":"林"}`} {
		c.sendRaw(raw)
		e := c.expect("error")
		if !hasHan(e.str("message")) {
			t.Errorf("zh session: %s answered with a message not in Chinese: %v", raw, e)
		}
	}
	c.end()
	c.send(map[string]any{"type": "reply", "id": "late", "text": "还有别的吗?"})
	if e := c.expectError("session_ended"); !hasHan(e.str("message")) {
		t.Errorf("zh session_ended message %q", e.str("message"))
	}
}

func testResume(t *testing.T, s *server) {
	c := s.dial(t)
	sess, open := c.start(map[string]any{"scenario": "p03-day-five-return-en"})
	all := []frame{open}
	r1 := c.reply("a", "Hello Mr Chen, I'm Lin from support. I'm sorry the phone has let you down. What's prompted the return?", true)
	all = append(all, r1.frames...)
	r2 := c.reply("b", "I see, so it's about the price you saw online. Is anything wrong with the phone itself?", true)
	all = append(all, r2.frames...)
	last := all[len(all)-1].int("seq")
	c.c.Close()

	for _, after := range []int{0, 2, last - 1, last} {
		t.Run(fmt.Sprintf("after=%d", after), func(t *testing.T) {
			d := s.dial(t)
			d.send(map[string]any{"type": "resume", "session": sess.str("session"), "token": sess.str("token"), "after": after})
			rs := d.expect("session")
			if rs.str("session") != sess.str("session") || rs.str("state") != "active" || rs.str("lang") != sess.str("lang") ||
				rs.str("deadline") != sess.str("deadline") || rs.str("mode") != sess.str("mode") || rs.obj("scenario").str("id") != sess.obj("scenario").str("id") {
				t.Errorf("resume session frame %v\nstarted as %v", rs, sess)
			}
			for _, want := range all {
				if want.int("seq") <= after {
					continue
				}
				got := d.read()
				if got.String() != want.String() {
					t.Errorf("replay:\n got %v\nwant %v", got, want)
				}
			}
			if after == last {
				// Carries on: the next reply continues the seq.
				r := d.reply("c", "I'm afraid a refund isn't possible after day three, but I can run a free battery test today. Would that help?", true)
				if r.ack.int("seq") != last+1 || r.ack.int("turn") != 3 {
					t.Errorf("after resume: ack %v, want seq %d turn 3", r.ack, last+1)
				}
				// A reply resent on the new connection is idempotent too.
				d.send(map[string]any{"type": "reply", "id": "a", "text": c.sent["a"]})
				if f := d.read(); f.String() != r1.ack.String() {
					t.Errorf("resent reply after resume: %v, want %v", f, r1.ack)
				}
			}
		})
	}
}

func testSessionHTTP(t *testing.T, s *server) {
	c := s.dial(t)
	sess, _ := c.start(map[string]any{"scenario": "p01-lost-manuscript-en"})
	c.reply("a", "Hello Ms Zhao, I'm Lin from support.", true)
	c.end()
	url := s.base + "/api/sessions/" + sess.str("session")
	for _, tc := range []struct {
		auth string
		want int
	}{
		{"Bearer " + sess.str("token"), 200},
		{"Bearer " + trainerToken, 200},
		{"", 401},
		{"Bearer wrong", 403},
	} {
		code, b := httpDo(t, "GET", url, tc.auth, "")
		if code != tc.want {
			t.Errorf("GET session with %q = %d, want %d: %s", tc.auth, code, tc.want, b)
			continue
		}
		if code == 200 {
			var view frame
			decode(t, b, &view)
			for _, k := range []string{"transcript", "feedback", "report"} {
				if !view.has(k) {
					t.Errorf("session view lacks %s: %s", k, b)
				}
			}
			if view.obj("report") == nil || !numIn(view.obj("report")["total"], 0, 100) {
				t.Errorf("ended session's view has no report with a total: %v", view["report"])
			}
			if bytes.Contains(b, []byte(sess.str("token"))) {
				t.Errorf("session view contains the session token")
			}
			if !bytes.Contains(b, []byte("Hello Ms Zhao")) {
				t.Errorf("session view lacks the transcript: %s", b)
			}
		}
	}
	// The trainer's list filters by scenario and trainee.
	trainee := fmt.Sprintf("Filter Probe %d", time.Now().UnixNano())
	f := s.dial(t)
	fs, _ := f.start(map[string]any{"scenario": "p03-day-five-return-en", "trainee": trainee})
	for _, q := range []string{"?trainee=" + strings.ReplaceAll(trainee, " ", "+"), "?scenario=p03-day-five-return-en&trainee=" + strings.ReplaceAll(trainee, " ", "+")} {
		code, b := httpDo(t, "GET", s.base+"/api/sessions"+q, "Bearer "+trainerToken, "")
		if code != 200 {
			t.Errorf("GET /api/sessions%s = %d: %s", q, code, b)
			continue
		}
		var list []frame
		decode(t, b, &list)
		if len(list) != 1 || list[0].str("id") != fs.str("session") {
			t.Errorf("GET /api/sessions%s = %s, want only session %s", q, b, fs.str("session"))
		}
	}
	code, b := httpDo(t, "GET", s.base+"/api/sessions?scenario=p01-lost-manuscript-en&trainee="+strings.ReplaceAll(trainee, " ", "+"), "Bearer "+trainerToken, "")
	if code != 200 || strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("filter that matches nothing: %d %s, want 200 []", code, b)
	}
	// Another session's token does not open this one.
	d := s.dial(t)
	other, _ := d.start(map[string]any{"scenario": "p01-lost-manuscript-en"})
	if code, _ := httpDo(t, "GET", url, "Bearer "+other.str("token"), ""); code != 403 {
		t.Errorf("another session's token: %d, want 403", code)
	}
}

func testContest(t *testing.T, s *server) {
	auth := "Bearer " + trainerToken
	code, b := httpDo(t, "POST", s.base+"/api/contests", auth,
		`{"title":"Acceptance","scenarios":["p01-lost-manuscript-en"],"duration_s":600}`)
	if code != 201 {
		t.Fatalf("POST /api/contests = %d: %s", code, b)
	}
	var created frame
	decode(t, b, &created)
	cc := created.str("code")
	if cc == "" {
		t.Fatalf("no join code: %s", b)
	}
	code, b = httpDo(t, "GET", s.base+"/api/contests/"+cc, "", "")
	if code != 200 {
		t.Fatalf("GET /api/contests/%s = %d", cc, code)
	}
	var view frame
	decode(t, b, &view)
	if view.str("code") != cc || view.obj("leaderboard") == nil || view.str("status") == "" {
		t.Errorf("contest view lacks code/status/leaderboard: %s", b)
	}
	if code, _ := httpDo(t, "GET", s.base+"/api/contests/NOSUCH", "", ""); code != 404 {
		t.Errorf("unknown contest = %d, want 404", code)
	}
	sub := s.dial(t)
	sub.send(map[string]any{"type": "subscribe", "contest": cc})
	lb := sub.expect("leaderboard")
	if lb.str("contest") != cc {
		t.Errorf("leaderboard contest %q", lb.str("contest"))
	}
	c := s.dial(t)
	sess, _ := c.start(map[string]any{"scenario": "p01-lost-manuscript-en", "contest": cc, "team": "Blue", "trainee": "Ann Lee"})
	if sess.str("mode") != "exam" {
		t.Errorf("contest session mode %q, want exam", sess.str("mode"))
	}
	c.reply("a", "Ms Zhao, I'm so sorry. I'm Lin and I'll take this on myself.", false)
	c.end()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		lb := sub.expect("leaderboard")
		for _, e := range lb.arr("entries") {
			if frame(e.(map[string]any)).str("name") == "Ann Lee" && frame(e.(map[string]any)).int("sessions") >= 1 {
				return
			}
		}
	}
	t.Error("the finished contest session never reached the leaderboard")
}

// Play scripts: a trainee who follows the guide and one who does not.
var playScripts = []struct {
	scenario   string
	good, rude []string
}{
	{"p01-lost-manuscript-en",
		[]string{
			"Ms Zhao, I'm so sorry. Losing a year of your novel is devastating. I'm Lin and I'll take this on myself.",
			"When did you first notice it, and was there any message on the screen just before?",
			"So the PC we repaired crashed last night and a year's work is gone. Is that right?",
			"Have you kept any copies anywhere, say chapters emailed to your editor or a USB stick?",
			"I'd suggest an engineer visit tomorrow for a free diagnosis and a recovery assessment; I can't promise recovery but it often works.",
			"I'll book the engineer for 9 to 12 tomorrow and call you by 6 p.m. Would that work for you?",
			"Your case number is AS-20417-R. Is there anything else I can do? Thank you for bearing with us.",
		},
		[]string{
			"The log shows we never touched the disk. It was probably a virus.",
			"You should have backed up your files.",
			"Calm down, it's not a big deal.",
			"There is nothing I can do about it, that's the policy.",
			"I already told you, we didn't touch the disk.",
		}},
	{"p01-lost-manuscript-zh",
		[]string{
			"赵女士您好,我是客服小林。一整年的书稿没了,换谁都会特别着急,真的很抱歉让您遇到这种事,这件事我来跟进。",
			"想跟您了解一下,您是什么时候发现的?崩溃之前屏幕上有没有出现什么提示?",
			"我确认一下:电脑昨晚崩溃,一年的书稿都找不到了,是这样吗?",
			"您之前有没有把章节发邮件给编辑,或者存在 U 盘、云盘这些其他地方?",
			"我建议明天安排工程师上门免费检测,再评估能不能恢复;我不能保证一定能恢复,但很多情况是可以找回的。",
			"我帮您预约明天上午 9 点到 12 点上门,今天下午 6 点前给您回电确认,您看可以吗?",
			"您的工单号是 AS-20417-R。还有其他需要我帮忙的吗?谢谢您的耐心。",
		},
		[]string{
			"记录显示我们维修时根本没动硬盘,应该是中病毒了。",
			"你自己不备份怪谁。",
			"你别激动,这不是什么大事。",
			"不行,规定就是这样。",
			"我已经说过三遍了,我们没动硬盘。",
		}},
	{"p03-day-five-return-en",
		[]string{
			"Hello Mr Chen, I'm Lin from support. I'm sorry the Nova 12 has disappointed you. What made you want to return it?",
			"I understand, finding it cheaper a few days later is really annoying. Is anything wrong with the phone itself, like the battery?",
			"I'm sorry, I can't offer a refund after day three because the phone has no fault, but I can run a free battery test today and give you a screen protector and a ¥50 accessory voucher. Would that work for you?",
			"I'll run the battery test now and it takes about twenty minutes; if it shows a fault you can exchange it under warranty. Does that sound fair?",
			"Your case number is PH-88213-B. Is there anything else I can help with? Thank you for your patience.",
		},
		[]string{
			"No refunds. That's the policy.",
			"You signed for the rules, that's your problem.",
			"Calm down, it's only ¥300, not a big deal.",
			"I already told you, no.",
			"Are you stupid? Read the receipt.",
		}},
}

// play runs one scripted trainee to the end and returns the report. A reply
// with a negative signal must raise the customer's anger (RUBRIC: negative
// signals "raise the customer's anger") until it is at 100.
func play(t *testing.T, s *server, scenario string, lines []string, rude bool) frame {
	t.Helper()
	c := s.dial(t)
	_, open := c.start(map[string]any{"scenario": scenario})
	var rep frame
	anger := open.obj("mood").int("anger")
	for i, l := range lines {
		r := c.reply(fmt.Sprintf("t%d", i+1), l, true)
		negative := false
		for _, sg := range r.feedback.arr("signals") {
			negative = negative || sg.(map[string]any)["polarity"] == "-"
		}
		if rude && !negative {
			t.Logf("rude reply %q drew no negative signal: %v", l, r.feedback)
		}
		if negative && r.customer != nil {
			if a := r.customer.obj("mood").int("anger"); a <= anger && anger < 100 {
				t.Errorf("rude reply %q: anger %d -> %d, want a rise (feedback %v, customer %v)", l, anger, a, r.feedback, r.customer)
			}
			anger = r.customer.obj("mood").int("anger")
		}
		if r.report != nil {
			rep = r.report
			break
		}
	}
	if rep == nil {
		_, rep = c.end()
	}
	checkSeqs(t, c)
	// Every evidence quote of the report comes from the trainee's replies.
	for name, v := range rep.obj("report").obj("steps") {
		for _, q := range frame(v.(map[string]any)).arr("evidence") {
			found := false
			for _, l := range lines {
				found = found || strings.Contains(l, fmt.Sprint(q))
			}
			if !found {
				t.Errorf("report step %s quotes %q, which no reply says", name, q)
			}
		}
	}
	return rep.obj("report")
}

func testPlay(t *testing.T, s *server) {
	for _, ps := range playScripts {
		t.Run(ps.scenario, func(t *testing.T) {
			good := play(t, s, ps.scenario, ps.good, false)
			rude := play(t, s, ps.scenario, ps.rude, true)
			gt, rt := good.num("total"), rude.num("total")
			t.Logf("%s: excellent %v (%s), rude %v (%s)", ps.scenario, gt, good.str("outcome"), rt, rude.str("outcome"))
			if gt < rt+25 {
				t.Errorf("excellent trainee %v is not clearly above the rude one %v", gt, rt)
			}
			if gt < 50 {
				t.Errorf("excellent trainee scored %v", gt)
			}
			if rt > 40 {
				t.Errorf("rude trainee scored %v", rt)
			}
			if good.str("outcome") == "lost" {
				t.Errorf("excellent trainee lost the customer")
			}
			neg := 0
			for _, x := range rude.arr("feedback") {
				for _, sg := range frame(x.(map[string]any)).arr("signals") {
					if sg.(map[string]any)["polarity"] == "-" {
						neg++
					}
				}
			}
			if neg < len(ps.rude)/2 {
				t.Errorf("rude trainee got only %d negative signals", neg)
			}
		})
	}
}

func testScoreCLI(t *testing.T, bin string) {
	lines := []struct {
		in        string
		err       bool
		wantCodes []string
	}{
		{`{"id":"a","text":"Hello, I'm Lin from support. How can I help?","lang":"en"}`, false, []string{"greet", "identify", "offer_help"}},
		{`{"id":"b","text":"您好,我是客服小林,非常抱歉给您添麻烦了。"}`, false, []string{"greet", "identify", "apologize"}},
		{`{"id":"c","text":`, true, nil},
		{`{"id":"d","text":""}`, true, nil},
		{`{"text":"Hello there"}`, true, nil},
		{`{"id":"f","text":"Calm down, it's not a big deal.","customer":"My parcel is three days late!"}`, false, []string{"calm_down", "minimize"}},
		{`{"id":"g","text":"我确认一下,您是中午才收到文件的,对吗?","lang":"zh","scenario":"p02-noon-delivery-zh"}`, false, []string{"restate_fact"}},
		{`not json at all`, true, nil},
		{`{"id":"i","text":"You need to send the receipt. That's the warehouse, not us.","lang":"en","customer":"Where is my refund?","scenario":"p03-day-five-return-en"}`, false, []string{"command", "blame"}},
		{`{"id":"j","text":"您看这样可以吗?还有其他需要吗?谢谢您的耐心。","lang":"zh","customer":"那好吧。"}`, false, []string{"check_agreement", "offer_more", "appreciate"}},
		{`{"id":"k","text":42}`, true, nil},
	}
	var in strings.Builder
	in.WriteString("\uFEFF") // a UTF-8 BOM, as Windows tools write it
	for i, l := range lines {
		in.WriteString(l.in)
		switch {
		case i == len(lines)-1: // the last line without a newline
		case i%2 == 1:
			in.WriteString("\r\n")
		default:
			in.WriteString("\n")
		}
	}
	cmd := exec.Command(bin, "score")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	cmd.Stdin = strings.NewReader(in.String())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	go func() { <-ctx.Done(); _ = cmd.Process.Kill() }()
	if err := cmd.Run(); err != nil {
		t.Fatalf("sparring score: %v (want exit 0)\n%s", err, stderr.String())
	}
	outs := strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n")
	if len(outs) != len(lines) {
		t.Fatalf("%d output lines for %d input lines:\n%s", len(outs), len(lines), stdout.String())
	}
	for i, l := range lines {
		var in, out frame
		_ = json.Unmarshal([]byte(l.in), &in)
		dec := json.NewDecoder(strings.NewReader(outs[i]))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			t.Errorf("line %d: output not JSON: %q", i+1, outs[i])
			continue
		}
		keys := make([]string, 0, len(out))
		for k := range out {
			keys = append(keys, k)
		}
		if !isStr(out["id"]) {
			t.Errorf("line %d: id %v not a string", i+1, out["id"])
		}
		if wantID, ok := in["id"].(string); ok && out.str("id") != wantID {
			t.Errorf("line %d: id %q, want %q (order)", i+1, out.str("id"), wantID)
		}
		if l.err {
			if len(out) != 2 || out.str("error") == "" {
				t.Errorf("line %d (%s): want exactly {id, error}, got %s", i+1, l.in, outs[i])
			}
			continue
		}
		if len(out) != 4 || !out.has("steps") || !out.has("signals") || !out.has("score") {
			t.Errorf("line %d: want exactly {id, steps, signals, score}, got keys %v: %s", i+1, keys, outs[i])
			continue
		}
		if !intIn(out["score"], 0, 100) {
			t.Errorf("line %d: score %v not an integer 0-100", i+1, out["score"])
		}
		c := &client{t: t, turnText: map[int]string{1: in.str("text")}}
		fb := frame{"turn": json.Number("1"), "steps": out["steps"], "signals": out["signals"], "hint": ""}
		if _, ok := out["steps"].([]any); !ok {
			t.Errorf("line %d: steps not an array (null?): %s", i+1, outs[i])
		}
		if _, ok := out["signals"].([]any); !ok {
			t.Errorf("line %d: signals not an array (null?): %s", i+1, outs[i])
		}
		c.checkFeedback(fb, false)
		got := map[string]bool{}
		for _, sg := range out.arr("signals") {
			got[fmt.Sprint(sg.(map[string]any)["code"])] = true
		}
		for _, w := range l.wantCodes {
			if !got[w] {
				t.Errorf("line %d (%s): signals %v lack %s", i+1, in.str("text"), got, w)
			}
		}
	}
}

// testPipelined sends two replies without waiting: both are processed, in
// order, with contiguous seqs.
func testPipelined(t *testing.T, s *server) {
	c := s.dial(t)
	c.start(map[string]any{"scenario": "p03-day-five-return-en"})
	c.send(map[string]any{"type": "reply", "id": "p1", "text": "Hello Mr Chen, I'm Lin from support."})
	c.send(map[string]any{"type": "reply", "id": "p2", "text": "What made you want to return the phone?"})
	var acks []frame
	for len(acks) < 2 || c.seqs[len(c.seqs)-1] < acks[1].int("seq")+2 {
		f := c.read()
		switch f.typ() {
		case "ack":
			acks = append(acks, f)
		case "feedback", "customer":
		default:
			t.Fatalf("unexpected %v", f)
		}
	}
	if acks[0].str("id") != "p1" || acks[1].str("id") != "p2" || acks[0].int("turn") != 1 || acks[1].int("turn") != 2 {
		t.Errorf("acks %v %v", acks[0], acks[1])
	}
	checkSeqs(t, c)
}

// testMaxTurns: a scenario never takes more replies than its max_turns.
func testMaxTurns(t *testing.T, s *server, byID map[string]frame) {
	c := s.dial(t)
	sess, _ := c.start(map[string]any{"scenario": "d03-welcome-opener"})
	max := sess.obj("scenario").int("max_turns")
	if max < 1 || max > 5 {
		t.Skipf("max_turns %d", max)
	}
	ended := false
	for i := 1; i <= max && !ended; i++ {
		r := c.reply(fmt.Sprintf("m%d", i), "Hello, I'm Lin from online support. How can I help you today?", true)
		ended = r.report != nil
	}
	if !ended {
		c.send(map[string]any{"type": "reply", "id": "over", "text": "Anything else I can help with?"})
		f := c.read()
		switch {
		case f.typ() == "end":
			c.expect("report")
		case f.typ() == "error" && f.str("code") == "session_ended":
		default:
			t.Errorf("reply %d of a %d-turn scenario answered %v", max+1, max, f)
		}
	}
	checkSeqs(t, c)
}

func testResumeEnded(t *testing.T, s *server) {
	c := s.dial(t)
	sess, open := c.start(map[string]any{"scenario": "p01-lost-manuscript-en"})
	r := c.reply("a", "Hello Ms Zhao, I'm Lin from support.", true)
	e, rep := c.end()
	all := append(append([]frame{open}, r.frames...), e, rep)
	d := s.dial(t)
	d.send(map[string]any{"type": "resume", "session": sess.str("session"), "token": sess.str("token"), "after": 0})
	if rs := d.expect("session"); rs.str("state") != "ended" {
		t.Errorf("resumed ended session: state %q", rs.str("state"))
	}
	for _, want := range all {
		if got := d.read(); got.String() != want.String() {
			t.Errorf("replay:\n got %v\nwant %v", got, want)
		}
	}
	d.send(map[string]any{"type": "reply", "id": "b", "text": "Anything else?"})
	d.expectError("session_ended")
}

// testViolationsClose: a client that keeps sending oversize frames is cut off
// with 1008 or 1009.
func testViolationsClose(t *testing.T, s *server) {
	c := s.dial(t)
	big := `{"type":"reply","id":"x","text":"` + strings.Repeat("a", 20<<10) + `"}`
	for i := 0; i < 14; i++ {
		if err := c.c.WriteMessage(websocket.TextMessage, []byte(big)); err != nil {
			break // already closed
		}
	}
	for i := 0; i < 20; i++ {
		f, err := c.readTimeout(10 * time.Second)
		if err != nil {
			if !websocket.IsCloseError(err, websocket.ClosePolicyViolation, websocket.CloseMessageTooBig) {
				t.Errorf("closed with %v, want 1008 or 1009", err)
			}
			return
		}
		if f.typ() != "error" || (f.str("code") != "too_large" && f.str("code") != "rate_limited") {
			t.Errorf("unexpected %v", f)
		}
	}
	t.Error("14 oversize frames in a row did not close the connection")
}

// testParallel: concurrent sessions do not see each other's events.
func testParallel(t *testing.T, s *server) {
	for i := 0; i < 4; i++ {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			c := s.dial(t)
			scen := []string{"p01-lost-manuscript-en", "p01-lost-manuscript-zh", "p05-broadband-date-en", "p06-card-stopped-zh"}[i]
			sess, _ := c.start(map[string]any{"scenario": scen, "trainee": fmt.Sprintf("Parallel %d", i)})
			for j := 1; j <= 3; j++ {
				text := fmt.Sprintf("Session %d reply %d: could you tell me a little more about what happened?", i, j)
				r := c.reply(fmt.Sprintf("p%d", j), text, true)
				if r.ack.int("turn") != j {
					t.Errorf("ack %v", r.ack)
				}
				if r.report != nil {
					break
				}
			}
			checkSeqs(t, c)
			code, b := httpDo(t, "GET", s.base+"/api/sessions/"+sess.str("session"), "Bearer "+sess.str("token"), "")
			if code != 200 {
				t.Fatalf("GET session %d", code)
			}
			for k := 0; k < 4; k++ {
				if k != i && bytes.Contains(b, []byte(fmt.Sprintf("Session %d reply", k))) {
					t.Errorf("session %d holds session %d's replies", i, k)
				}
			}
		})
	}
}

// authoredScenario is d03 under a new id with the given clock.
func authoredScenario(t *testing.T, id string, limit int) string {
	t.Helper()
	b, err := os.ReadFile("../../scenarios/data/d03-welcome-opener.yaml")
	if err != nil {
		t.Fatal(err)
	}
	y := string(b)
	for old, new := range map[string]string{
		"id: d03-welcome-opener": "id: " + id,
		"time_limit_s: 60":       fmt.Sprintf("time_limit_s: %d", limit),
		"max_turns: 1":           "max_turns: 6",
	} {
		if !strings.Contains(y, old) {
			t.Fatalf("d03 no longer has %q", old)
		}
		y = strings.Replace(y, old, new, 1)
	}
	return y
}

func postYAML(t *testing.T, url, body string) (int, []byte) {
	t.Helper()
	return sendYAML(t, "POST", url, body)
}

func sendYAML(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+trainerToken)
	req.Header.Set("Content-Type", "application/yaml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// testAuthored covers an untimed scenario (no deadline) and one whose clock
// runs out (outcome timeout), both authored through the trainer API.
func testAuthored(t *testing.T, s *server) {
	nonce := fmt.Sprint(time.Now().UnixNano() % 1e9)
	untimed, timed := "acc-untimed-"+nonce, "acc-timed-"+nonce
	for id, limit := range map[string]int{untimed: 0, timed: 2} {
		if code, b := postYAML(t, s.base+"/api/scenarios", authoredScenario(t, id, limit)); code != 201 {
			t.Fatalf("POST %s = %d: %s", id, code, b)
		}
		defer func(id string) {
			if code, b := httpDo(t, "DELETE", s.base+"/api/scenarios/"+id, "Bearer "+trainerToken, ""); code/100 != 2 {
				t.Errorf("DELETE %s = %d: %s", id, code, b)
			}
		}(id)
	}
	// Edit: PUT replaces the authored scenario; GET shows the change.
	edited := strings.Replace(authoredScenario(t, untimed, 0), `en: "Hello, how may I help you?"`, `en: "Edited opener drill"`, 1)
	if code, b := sendYAML(t, "PUT", s.base+"/api/scenarios/"+untimed, edited); code != 200 {
		t.Errorf("PUT %s = %d: %s", untimed, code, b)
	} else if _, b := httpDo(t, "GET", s.base+"/api/scenarios/"+untimed+"?lang=en", "", ""); !bytes.Contains(b, []byte("Edited opener drill")) {
		t.Errorf("GET after PUT: %s", b)
	}
	if code, _ := postYAML(t, s.base+"/api/scenarios", authoredScenario(t, untimed, 0)); code == 201 {
		t.Errorf("POST of an existing id = 201")
	}
	if code, _ := sendYAML(t, "PUT", s.base+"/api/scenarios/d03-welcome-opener", authoredScenario(t, "d03-welcome-opener", 0)); code/100 == 2 {
		t.Errorf("PUT over a built-in scenario = %d", code)
	}
	listed := 0
	for _, sc := range getScenarios(t, s) {
		if sc.str("id") == untimed || sc.str("id") == timed {
			listed++
		}
	}
	if listed != 2 {
		t.Errorf("%d of the 2 authored scenarios listed", listed)
	}
	t.Run("untimed", func(t *testing.T) {
		c := s.dial(t)
		sess, _ := c.start(map[string]any{"scenario": untimed})
		if sess.has("deadline") {
			t.Errorf("untimed session has deadline %v, want it absent", sess["deadline"])
		}
	})
	t.Run("timeout", func(t *testing.T) {
		c := s.dial(t)
		sess, _ := c.start(map[string]any{"scenario": timed})
		dl, err := time.Parse(time.RFC3339, sess.str("deadline"))
		if err != nil {
			t.Fatalf("deadline %v", sess["deadline"])
		}
		if d := time.Until(dl); d > 4*time.Second || d < -2*time.Second {
			t.Errorf("deadline %s is %v away, want about 2s", dl, d)
		}
		// The clock ends the session: end (timeout) and report arrive
		// without the trainee typing anything.
		f, err := c.readTimeout(time.Until(dl) + 3*time.Second)
		if err != nil {
			t.Fatalf("nothing came by the deadline: %v", err)
		}
		if f.typ() != "end" || f.str("outcome") != "timeout" {
			t.Fatalf("at the deadline: %v, want end with outcome timeout", f)
		}
		rep := c.expect("report")
		if rep.obj("report").str("outcome") != "timeout" {
			t.Errorf("report outcome %q", rep.obj("report").str("outcome"))
		}
		checkSeqs(t, c)
		c.send(map[string]any{"type": "reply", "id": "late", "text": "Hello, I'm Lin. How can I help?"})
		c.expectError("session_ended")
	})
	t.Run("timeout-while-away", func(t *testing.T) {
		c := s.dial(t)
		sess, _ := c.start(map[string]any{"scenario": timed})
		c.c.Close()
		time.Sleep(3 * time.Second)
		d := s.dial(t)
		d.send(map[string]any{"type": "resume", "session": sess.str("session"), "token": sess.str("token"), "after": 1})
		d.expect("session")
		e := d.expect("end")
		if e.str("outcome") != "timeout" {
			t.Errorf("resumed after the deadline: %v, want outcome timeout", e)
		}
		d.expect("report")
	})
}

// testRestart: with Redis, a session survives a server restart and resumes.
func testRestart(t *testing.T, bin string) {
	if os.Getenv("SPARRING_TEST_REDIS_ADDR") == "" {
		t.Skip("SPARRING_TEST_REDIS_ADDR not set: embedded storage does not outlive the process")
	}
	prefix := fmt.Sprintf("acceptance-restart-%d:", time.Now().UnixNano())
	a := startServer(t, bin, map[string]string{"SPARRING_REDIS_PREFIX": prefix})
	c := a.dial(t)
	sess, open := c.start(map[string]any{"scenario": "p01-lost-manuscript-zh"})
	r := c.reply("a", "赵女士您好,我是客服小林。真的很抱歉让您遇到这种事。", true)
	all := append([]frame{open}, r.frames...)
	a.stop(t)
	b := startServer(t, bin, map[string]string{"SPARRING_REDIS_PREFIX": prefix})
	d := b.dial(t)
	d.send(map[string]any{"type": "resume", "session": sess.str("session"), "token": sess.str("token"), "after": 0})
	if rs := d.expect("session"); rs.str("state") != "active" {
		t.Errorf("after restart: %v", rs)
	}
	for _, want := range all {
		if got := d.read(); got.String() != want.String() {
			t.Errorf("replay after restart:\n got %v\nwant %v", got, want)
		}
	}
	r2 := d.reply("b", "您是什么时候发现的?", true)
	if r2.ack.int("turn") != 2 || r2.ack.int("seq") != all[len(all)-1].int("seq")+1 {
		t.Errorf("after restart: ack %v", r2.ack)
	}
	b.stop(t)
}

// startRedis runs a private redis-server (so the test may kill it).
func startRedis(t *testing.T, addr string) *exec.Cmd {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return cmd
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("redis-server did not start")
	return nil
}

// testStorageDown: with its Redis gone the server stays alive, is not
// ready, and answers unavailable without dropping the connection.
func testStorageDown(t *testing.T, bin string) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("no redis-server on PATH")
	}
	raddr := freeAddr(t)
	redis := startRedis(t, raddr)
	s := startServer(t, bin, map[string]string{"SPARRING_REDIS_ADDRS": raddr})
	if code, _ := httpDo(t, "GET", s.base+"/readyz", "", ""); code != 200 {
		t.Fatalf("readyz with Redis up = %d", code)
	}
	c := s.dial(t)
	c.start(map[string]any{"scenario": "p01-lost-manuscript-en"})
	_ = redis.Process.Kill()
	_ = redis.Wait()
	if code, _ := httpDo(t, "GET", s.base+"/healthz", "", ""); code != 200 {
		t.Errorf("healthz with Redis down = %d, want 200 (liveness)", code)
	}
	if code, _ := httpDo(t, "GET", s.base+"/readyz", "", ""); code == 200 {
		t.Errorf("readyz with Redis down = 200")
	}
	c.send(map[string]any{"type": "reply", "id": "a", "text": "Hello Ms Zhao, I'm Lin."})
	f, err := c.readTimeout(30 * time.Second)
	if err != nil {
		t.Fatalf("reply with Redis down: %v", err)
	}
	if f.typ() != "error" || f.str("code") != "unavailable" {
		t.Errorf("reply with Redis down: %v, want error unavailable", f)
	}
	d := s.dial(t)
	d.send(map[string]any{"type": "start", "scenario": "p01-lost-manuscript-en", "trainee": "Ann"})
	f, err = d.readTimeout(30 * time.Second)
	if err != nil {
		t.Fatalf("start with Redis down: %v", err)
	}
	if f.typ() != "error" || f.str("code") != "unavailable" {
		t.Errorf("start with Redis down: %v, want error unavailable", f)
	}
	// Back up (empty): new sessions work again on the same connection.
	startRedis(t, raddr)
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, _ := httpDo(t, "GET", s.base+"/readyz", "", "")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz still %d after Redis came back", code)
		}
		time.Sleep(200 * time.Millisecond)
	}
	d.start(map[string]any{"scenario": "p01-lost-manuscript-en"})
	s.stop(t)
}

// scoreCase is one fresh reply (not from RUBRIC, GUIDE or the labelled sets)
// and the codes the RUBRIC says it shows. known names a deviation already
// reported for the scorer (simulator/rubric): the case is skipped while it
// still fails, and logs when it starts passing.
type scoreCase struct {
	id, lang, text string
	want, forbid   []string
	steps          []string // steps that must be shown
	known          string
}

var scoreCases = []scoreCase{
	{id: "en-greet", lang: "en", text: "Good morning! Thanks for reaching out.", want: []string{"greet"}},
	{id: "en-identify", lang: "en", text: "My name is Priya and I'll be looking after you today.", want: []string{"identify"}},
	{id: "en-offer", lang: "en", text: "What can I do for you today?", want: []string{"offer_help"}},
	{id: "en-apologize", lang: "en", text: "I apologise for the trouble this has caused you.", want: []string{"apologize"}},
	{id: "en-ack", lang: "en", text: "I completely understand how annoying that must be.", want: []string{"acknowledge_feeling"}},
	{id: "en-ask", lang: "en", text: "Could you tell me when the package was supposed to arrive?", want: []string{"ask"}},
	{id: "en-restate", lang: "en", text: "Just to check I've got this right: the heater stopped on Tuesday and you've already reset it twice?", want: []string{"restate_fact"}},
	{id: "en-feeling", lang: "en", text: "It sounds like you feel really let down by us.", want: []string{"restate_feeling"}},
	{id: "en-options", lang: "en", text: "There are two ways we can go: a replacement next week, or a full repair by Friday.", want: []string{"options"}},
	{id: "en-recommend", lang: "en", text: "I'd recommend the replacement, because it gets you a working unit sooner.", want: []string{"recommend"}},
	{id: "en-expect", lang: "en", text: "It usually takes three to five working days, though I can't promise the exact day.", want: []string{"set_expectation"}, forbid: []string{"over_promise"}},
	{id: "en-own", lang: "en", text: "I'll personally follow this up until it's sorted.", want: []string{"own"}},
	{id: "en-plan", lang: "en", text: "Here's the plan: I'll order the part today, the technician will call you on Thursday, and I'll check in with you on Friday.", want: []string{"propose_plan"}},
	{id: "en-check", lang: "en", text: "Does that sound okay to you?", want: []string{"check_agreement"}},
	{id: "en-refuse-alt", lang: "en", text: "I'm afraid I can't refund it because it's past 30 days, but I can offer a free repair instead.", want: []string{"refuse_with_alternative"}, forbid: []string{"flat_refusal"}},
	{id: "en-escalate", lang: "en", text: "I'm passing this to my supervisor with all the details, so you won't have to explain it again.", want: []string{"escalate_cleanly"}},
	{id: "en-confirm", lang: "en", text: "Is everything working properly now?", want: []string{"confirm_satisfaction"}},
	{id: "en-more", lang: "en", text: "Is there anything else I can help you with?", want: []string{"offer_more"}},
	{id: "en-future", lang: "en", text: "Your reference number is 55821; you can call me directly on extension 204.", want: []string{"future_contact"}},
	{id: "en-thanks", lang: "en", text: "Thank you so much for your patience today.", want: []string{"appreciate"}},
	{id: "en-command", lang: "en", text: "Send me a photo of the receipt now.", want: []string{"command"}, forbid: []string{"ask"}},
	{id: "en-blame", lang: "en", text: "That's the courier's fault, not ours.", want: []string{"blame"}},
	{id: "en-overpromise", lang: "en", text: "Don't worry, I promise it will definitely arrive tomorrow morning.", want: []string{"over_promise"}},
	{id: "en-unknown", lang: "en", text: "I have no idea.", want: []string{"flat_unknown"}},
	{id: "en-refusal", lang: "en", text: "No. We don't do that.", want: []string{"flat_refusal"}},
	{id: "en-showoff", lang: "en", text: "Technically that's not a modem, it's an ONT, as anyone in networking knows.", want: []string{"show_off"}},
	{id: "en-minimize", lang: "en", text: "It's only a small scratch, hardly worth worrying about.", want: []string{"minimize"}},
	{id: "en-calm", lang: "en", text: "Please just relax and stop shouting.", want: []string{"calm_down"}},
	{id: "en-argue", lang: "en", text: "That's impossible, our drivers never leave parcels outside.", want: []string{"argue"}},
	{id: "en-irritation", lang: "en", text: "Like I said before, you need to restart it.", want: []string{"irritation"}},
	{id: "en-insult", lang: "en", text: "Are you an idiot or something?", want: []string{"insult"}},
	{id: "en-blame-customer", lang: "en", text: "You signed for the rules, that's your problem.", want: []string{"blame"}},
	{id: "zh-argue-virus", lang: "zh", text: "记录显示我们维修时根本没动硬盘,应该是中病毒了。", want: []string{"argue"}},
	{id: "en-argue-virus", lang: "en", text: "The log shows we never touched the disk. It was probably a virus.", want: []string{"argue"}},
	{id: "en-not-blame", lang: "en", text: "I'm not blaming you at all, these things happen.", forbid: []string{"blame"}},
	{id: "zh-greet", lang: "zh", text: "上午好,欢迎联系我们。", want: []string{"greet"}, forbid: []string{"future_contact"}},
	{id: "zh-identify", lang: "zh", text: "我是今天为您服务的客服小王。", want: []string{"identify"}},
	{id: "zh-offer", lang: "zh", text: "请问有什么需要我帮忙的?", want: []string{"offer_help"}},
	{id: "zh-apologize", lang: "zh", text: "实在对不起,给您带来不便了。", want: []string{"apologize"}},
	{id: "zh-ack", lang: "zh", text: "我能理解您现在一定很着急。", want: []string{"acknowledge_feeling"}},
	{id: "zh-ask", lang: "zh", text: "请问您是哪天下的单?", want: []string{"ask"}},
	{id: "zh-restate", lang: "zh", text: "跟您确认一下,您是周二收到货,当天就发现屏幕有裂痕,对吗?", want: []string{"restate_fact"}, forbid: []string{"future_contact"}},
	{id: "zh-options", lang: "zh", text: "现在有两个办法:一是给您换新,二是全额退款。", want: []string{"options"}},
	{id: "zh-recommend", lang: "zh", text: "我建议您选换新,因为今天就能发货。", want: []string{"recommend"}},
	{id: "zh-expect", lang: "zh", text: "一般三到五个工作日能到,具体时间我没法保证。", want: []string{"set_expectation"}, forbid: []string{"over_promise"}},
	{id: "zh-own", lang: "zh", text: "这个问题我会负责跟到底。", want: []string{"own"}},
	{id: "zh-check", lang: "zh", text: "您觉得这样行吗?", want: []string{"check_agreement"}},
	{id: "zh-refuse-alt", lang: "zh", text: "很抱歉,超过七天不能退货,不过我可以帮您申请免费维修。", want: []string{"refuse_with_alternative"}, forbid: []string{"flat_refusal"}},
	{id: "zh-escalate", lang: "zh", text: "我把情况整理好转给我们主管,您不用再重复说一遍。", want: []string{"escalate_cleanly"}},
	{id: "zh-confirm", lang: "zh", text: "现在能正常用了吗?", want: []string{"confirm_satisfaction"}},
	{id: "zh-more", lang: "zh", text: "请问还有什么可以帮您的吗?", want: []string{"offer_more"}},
	{id: "zh-future", lang: "zh", text: "您的服务单号是 88231,有问题随时打这个电话找我。", want: []string{"future_contact"}},
	{id: "zh-thanks", lang: "zh", text: "非常感谢您的理解和配合。", want: []string{"appreciate"}},
	{id: "zh-command", lang: "zh", text: "你把订单号发过来。", want: []string{"command"}},
	{id: "zh-blame", lang: "zh", text: "这是快递公司的问题,跟我们没关系。", want: []string{"blame"}},
	{id: "zh-overpromise", lang: "zh", text: "放心,我保证明天一定给您送到。", want: []string{"over_promise"}},
	{id: "zh-unknown", lang: "zh", text: "这个我不清楚。", want: []string{"flat_unknown"}},
	{id: "zh-refusal", lang: "zh", text: "不可以,公司规定。", want: []string{"flat_refusal"}},
	{id: "zh-minimize", lang: "zh", text: "这点小事不用这么在意。", want: []string{"minimize"}},
	{id: "zh-calm", lang: "zh", text: "您先冷静一下,别嚷嚷。", want: []string{"calm_down"}},
	{id: "zh-argue", lang: "zh", text: "不可能,我们的产品从来没出过这种问题。", want: []string{"argue"}},
	{id: "zh-irritation", lang: "zh", text: "刚才不是跟你说过了吗?", want: []string{"irritation"}, forbid: []string{"ask", "restate_fact"}},
	{id: "zh-insult", lang: "zh", text: "你脑子有问题吧?", want: []string{"insult"}},
	{id: "zh-no-guarantee", lang: "zh", text: "我不能保证明天一定修好,但我会尽力。", want: []string{"set_expectation"}, forbid: []string{"over_promise"}},
	{id: "zh-quote", lang: "zh", text: "您刚才说\"你们就是骗子\",我理解您现在很生气。", forbid: []string{"insult", "blame", "argue"}},
	// RUBRIC: "Negations and quotations are not signals of their own words".
	{id: "en-negated-minimize", lang: "en", text: "There's no way I'd call that a small problem.", forbid: []string{"minimize", "flat_refusal", "argue"}},
	{id: "en-negated-calm", lang: "en", text: "I'd never tell you to calm down; you have every right to be upset.", want: []string{"acknowledge_feeling"}, forbid: []string{"calm_down"}},
	{id: "en-quoted-insult", lang: "en", text: "You said 'your staff are useless' and I hear you.", want: []string{"restate_fact"}, forbid: []string{"insult"}},
	{id: "zh-not-blame", lang: "zh", text: "我不是说您的问题,这件事是我们没做好。", forbid: []string{"blame"}},
	{id: "zh-honest-unknown", lang: "zh", text: "我也不知道,我帮您问一下仓库,十分钟内回复您。", forbid: []string{"flat_unknown"}},
	{id: "en-absolute", lang: "en", text: "This is definitely going to be sorted today, 100%.", want: []string{"over_promise"}},
	{id: "zh-absolute", lang: "zh", text: "这个肯定没问题,今天百分之百给您办好。", want: []string{"over_promise"}},
	{id: "en-system-blame", lang: "en", text: "The IT department messed it up, not me.", want: []string{"blame"}},
	{id: "zh-system-blame", lang: "zh", text: "这是系统的问题,不是我们的问题。", want: []string{"blame"}},
	{id: "zh-manual-blame", lang: "zh", text: "您要是看了说明书就知道了。", want: []string{"blame"}},
	{id: "mixed-detect", lang: "", text: "Hello 您好, I'm Lin from support.", want: []string{"greet", "identify"}},
	{id: "zh-emoji", lang: "zh", text: "您好!😊 我是小林,请问有什么可以帮您?", want: []string{"greet", "identify", "offer_help"}},
	// RUBRIC: a step is "what a reply shows"; a standalone line that thanks
	// the customer shows retain, one that checks a plan shows agree.
	{id: "en-thanks-step", lang: "en", text: "Thank you so much for your patience today.", steps: []string{"retain"}},
	{id: "zh-more-step", lang: "zh", text: "请问还有什么可以帮您的吗?", steps: []string{"retain"}},
	{id: "en-check-step", lang: "en", text: "Does that sound okay to you?", steps: []string{"agree"}},
}

// testScoreVocabulary runs fresh replies through `sparring score`, with and
// without lang (detection), and checks the RUBRIC codes they show.
func testScoreVocabulary(t *testing.T, bin string) {
	var in strings.Builder
	for _, c := range scoreCases {
		in1 := map[string]string{"id": c.id, "text": c.text}
		if c.lang != "" {
			in1["lang"] = c.lang
		}
		line, _ := json.Marshal(in1)
		in.Write(append(line, '\n'))
		line, _ = json.Marshal(map[string]string{"id": c.id + "/detect", "text": c.text})
		in.Write(append(line, '\n'))
	}
	cmd := exec.Command(bin, "score")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sparring score: %v", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != 2*len(scoreCases) {
		t.Fatalf("%d lines out for %d in", len(lines), 2*len(scoreCases))
	}
	for i, c := range scoreCases {
		t.Run(c.id, func(t *testing.T) {
			var problems []string
			for k, line := range lines[2*i : 2*i+2] {
				var o struct {
					ID      string   `json:"id"`
					Steps   []string `json:"steps"`
					Signals []struct {
						Code, Polarity, Evidence string
					} `json:"signals"`
					Score int `json:"score"`
				}
				if err := json.Unmarshal([]byte(line), &o); err != nil {
					t.Fatalf("%q: %v", line, err)
				}
				if want := []string{c.id, c.id + "/detect"}[k]; o.ID != want {
					t.Fatalf("id %q, want %q", o.ID, want)
				}
				got, steps := map[string]bool{}, map[string]bool{}
				for _, s := range o.Signals {
					got[s.Code] = true
				}
				for _, s := range o.Steps {
					steps[s] = true
				}
				for _, w := range c.want {
					if !got[w] {
						problems = append(problems, fmt.Sprintf("%s: lacks %s: %s", o.ID, w, line))
					}
				}
				for _, f := range c.forbid {
					if got[f] {
						problems = append(problems, fmt.Sprintf("%s: shows %s: %s", o.ID, f, line))
					}
				}
				for _, st := range c.steps {
					if !steps[st] {
						problems = append(problems, fmt.Sprintf("%s: step %s missing: %s", o.ID, st, line))
					}
				}
			}
			switch {
			case len(problems) > 0 && c.known != "":
				t.Skipf("known deviation (%s): %s", c.known, strings.Join(problems, "; "))
			case len(problems) > 0:
				t.Error(strings.Join(problems, "\n"))
			case c.known != "":
				t.Logf("known deviation %q no longer reproduces", c.known)
			}
		})
	}
}

// llmLine finds the scripted line in the customer prompt, so the fake model
// answers with a recognisable rewording of it.
var llmLine = regexp.MustCompile(`(?m)^(?:A line with that meaning: |表达这个意思的台词:)(.+)$`)

// testLLM: with a model configured (a fake OpenAI-compatible provider), the
// llm engine plays; delta frames carry no seq and are never replayed.
func testLLM(t *testing.T, bin string) {
	fake := llmtest.New(t, llmtest.WithHandler(func(r llmtest.Request) llmtest.Reply {
		if m := llmLine.FindStringSubmatch(r.User()); m != nil {
			return llmtest.Reply{Text: "Look. " + m[1], ChunkRunes: 7}
		}
		return llmtest.Reply{Text: "Well? What are you going to do about it?", ChunkRunes: 7}
	}))
	s := startServer(t, bin, map[string]string{
		"SPARRING_LLM_BASE_URL": fake.URL(),
		"SPARRING_LLM_API_KEY":  "sk-acceptance",
		"SPARRING_LLM_MODEL":    "fake-model",
	})
	defer s.stop(t)
	c := s.dial(t)
	sess, open := c.start(map[string]any{"scenario": "p01-lost-manuscript-en", "engine": "llm"})
	if sess.str("engine") != "llm" {
		t.Fatalf("engine %q, want llm", sess.str("engine"))
	}
	all := []frame{open}
	for i, text := range []string{
		"Ms Zhao, I'm so sorry. Losing a year of your novel is devastating. I'm Lin and I'll take this on myself.",
		"When did you first notice it, and was there any message on the screen just before?",
	} {
		c.send(map[string]any{"type": "reply", "id": fmt.Sprint("l", i), "text": text})
		for {
			f := c.read()
			if f.typ() == "delta" {
				if f.has("seq") || f.int("turn") != i+1 {
					t.Errorf("delta %v: want turn %d, no seq", f, i+1)
				}
				continue
			}
			all = append(all, f)
			if f.typ() == "customer" || f.typ() == "report" {
				break
			}
		}
	}
	if len(fake.Requests()) == 0 {
		t.Error("the llm engine never called the model")
	}
	checkSeqs(t, c)
	d := s.dial(t)
	d.send(map[string]any{"type": "resume", "session": sess.str("session"), "token": sess.str("token"), "after": 0})
	d.expect("session")
	for _, want := range all {
		if got := d.read(); got.String() != want.String() {
			t.Errorf("replay:\n got %v\nwant %v", got, want)
		}
	}
}

// genericLines are a courteous and a rude trainee that fit any scenario.
var genericLines = map[string]map[bool][]string{
	"en": {
		true: {
			"Hello, I'm Lin from customer support. I'm sorry about this; I can see why it's frustrating.",
			"Could you tell me a bit more about what happened, so I get it right?",
			"So, if I understand correctly, this has caused you real trouble. Is that right?",
			"Here's what I can do: I'll look into it myself today and call you back by 5 p.m. with an answer. Would that work for you?",
			"Your case number is CS-1001. Is there anything else I can help with? Thank you for your patience.",
		},
		false: {"Calm down.", "That's not our problem.", "No. That's the policy.", "I already told you that.", "Are you stupid?"},
	},
	"zh": {
		true: {
			"您好,我是客服小林。给您添麻烦了,真的很抱歉,换成我也会着急。",
			"能跟我具体说说发生了什么吗?我想把情况弄清楚。",
			"我确认一下,这件事给您带来了不少麻烦,是这样吗?",
			"我这边今天亲自跟进,下午5点前给您回电话答复,您看可以吗?",
			"您的工单号是 CS-1001。还有其他需要我帮忙的吗?谢谢您的耐心。",
		},
		false: {"你别激动。", "这不是我们的问题。", "不行,规定就是这样。", "我已经说过了。", "你是不是不识字?"},
	},
}

// testLibrary plays every published scenario in every language it offers,
// once courteously and once rudely: every frame is checked, seqs have no
// gaps, and the courteous trainee scores clearly higher.
func testLibrary(t *testing.T, s *server, scens []frame) {
	for _, sc := range scens {
		for _, lang := range sc.arr("langs") {
			l := lang.(string)
			t.Run(sc.str("id")+"/"+l, func(t *testing.T) {
				t.Parallel()
				var tot [2]float64
				for k, good := range []bool{true, false} {
					c := s.dial(t)
					sess, _ := c.start(map[string]any{"scenario": sc.str("id"), "lang": l})
					if sess.str("lang") != l {
						t.Errorf("lang %q, want %q", sess.str("lang"), l)
					}
					var rep frame
					for i, line := range genericLines[l][good] {
						if r := c.reply(fmt.Sprint(i), line, true); r.report != nil {
							rep = r.report
							break
						}
					}
					if rep == nil {
						_, rep = c.end()
					}
					checkSeqs(t, c)
					tot[k] = rep.obj("report").num("total")
				}
				if tot[0] < tot[1]+15 {
					t.Errorf("courteous %v vs rude %v", tot[0], tot[1])
				}
			})
		}
	}
}

// testGarbage: hostile frames get errors (never a crash), and another
// session carries on untouched.
func testGarbage(t *testing.T, s *server) {
	owner := s.dial(t)
	sess, _ := owner.start(map[string]any{"scenario": "p02-noon-delivery-en"})
	frames := []string{
		strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
		`{"type":"resume","session":"x","token":"y","after":1e309}`,
		`{"type":"resume","session":"x","token":"y","after":99999999999999999999999}`,
		`{"type":"resume","session":"x","token":"y","after":1.5}`,
		`{"type":"reply","id":"\ud800","text":"\u0000\u0000"}`,
		"{\"type\":\"start\",\"scenario\":\"p01\u0000\",\"trainee\":\"A\"}",
		`{"type":"resume","session":"` + sess.str("session") + `","token":"` + sess.str("token") + `x","after":0}`,
		`{"type":"resume","session":"` + sess.str("session") + `","token":"","after":0}`,
		`{"type":"start","scenario":"../../etc/passwd","trainee":"A"}`,
		`{"type":"start","scenario":"p01-lost-manuscript-en","trainee":"A","type":"end"}`,
	}
	for i, f := range frames {
		c := s.dial(t)
		c.sendRaw(f)
		got, err := c.readTimeout(10 * time.Second)
		if err != nil {
			t.Errorf("frame %d: %v", i, err)
			continue
		}
		if got.typ() != "error" && got.typ() != "session" {
			t.Errorf("frame %d answered %v", i, got)
		}
	}
	if code, _ := httpDo(t, "GET", s.base+"/healthz", "", ""); code != 200 {
		t.Fatalf("healthz %d after garbage", code)
	}
	r := owner.reply("a", "Hello, I'm Lin from support. I'm sorry the documents came late.", true)
	if r.ack.int("turn") != 1 || r.ack.int("seq") != 2 {
		t.Errorf("the owner's session moved: %v", r.ack)
	}
}

// testDropMidTurn: the connection drops right after a reply is sent; after
// resume the client resends it (it never saw the ack) and the turn exists
// exactly once.
func testDropMidTurn(t *testing.T, s *server) {
	c := s.dial(t)
	sess, _ := c.start(map[string]any{"scenario": "p02-noon-delivery-en"})
	text := "Hello, I'm Lin from support. I'm sorry the documents only arrived at noon."
	c.send(map[string]any{"type": "reply", "id": "drop", "text": text})
	c.c.Close()
	time.Sleep(500 * time.Millisecond)
	d := s.dial(t)
	d.send(map[string]any{"type": "resume", "session": sess.str("session"), "token": sess.str("token"), "after": 1})
	d.expect("session")
	d.sent["drop"] = text
	d.send(map[string]any{"type": "reply", "id": "drop", "text": text})
	// Either the turn was stored before the drop (replayed, then answered
	// again for the resend) or it is processed now: one turn 1 either way.
	acks := 0
	for {
		f, err := d.readTimeout(1500 * time.Millisecond)
		if errors.Is(err, errQuiet) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.typ() == "ack" {
			acks++
			if f.int("turn") != 1 || f.int("seq") != 2 {
				t.Errorf("ack %v, want turn 1 seq 2", f)
			}
		}
	}
	if acks == 0 {
		t.Fatal("the reply was neither replayed nor processed")
	}
	r := d.reply("next", "What time had you been promised?", true)
	if r.ack.int("turn") != 2 || r.ack.int("seq") != 5 {
		t.Errorf("next reply: %v, want turn 2 seq 5", r.ack)
	}
}

// testTwoAttached: two connections on one session reply at once; the
// session stays consistent (turns 1 and 2, seqs without gaps).
func testTwoAttached(t *testing.T, s *server) {
	a := s.dial(t)
	sess, _ := a.start(map[string]any{"scenario": "p05-broadband-date-en"})
	b := s.dial(t)
	b.send(map[string]any{"type": "resume", "session": sess.str("session"), "token": sess.str("token"), "after": 1})
	b.expect("session")
	var wg sync.WaitGroup
	for i, c := range []*client{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, _ := json.Marshal(map[string]any{"type": "reply", "id": fmt.Sprint("two", i), "text": fmt.Sprintf("Hello, I'm Lin; reply %d. When was the line promised?", i)})
			_ = c.c.WriteMessage(websocket.TextMessage, b)
		}()
	}
	wg.Wait()
	time.Sleep(2 * time.Second)
	d := s.dial(t)
	d.valid = false
	d.send(map[string]any{"type": "resume", "session": sess.str("session"), "token": sess.str("token"), "after": 0})
	d.expect("session")
	turns := map[int]string{}
	seq := 0
	for {
		f, err := d.readTimeout(time.Second)
		if err != nil {
			break
		}
		seq++
		if f.int("seq") != seq {
			t.Errorf("replay seq %d, want %d: %v", f.int("seq"), seq, f)
		}
		if f.typ() == "ack" {
			if prev, ok := turns[f.int("turn")]; ok {
				t.Errorf("turn %d stored twice (%s, %s)", f.int("turn"), prev, f.str("id"))
			}
			turns[f.int("turn")] = f.str("id")
		}
	}
	if len(turns) != 2 || turns[1] == "" || turns[2] == "" {
		t.Errorf("turns %v, want 1 and 2", turns)
	}
}

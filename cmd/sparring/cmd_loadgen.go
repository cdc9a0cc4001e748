package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/sparring-gym/sparring/web/protocol"
)

// loadOptions is one loadgen run. Modes:
//
//	closed  every session replies as soon as the customer answers (saturation)
//	paced   every session replies every --think (± --jitter), like people typing
//	burst   every session replies at the same instant, --turns rounds --think apart (contest start)
//	idle    open --sessions sessions, start each, hold them --hold (memory per connection)
type loadOptions struct {
	URL        string
	Mode       string
	Sessions   int
	Turns      int
	Duration   time.Duration
	Think      time.Duration
	Jitter     float64
	Trainee    string // good | poor | mix
	Lang       string // en | zh | mix
	ScenarioEN string
	ScenarioZH string
	Hold       time.Duration
	Dials      int // handshakes in flight at once
	LocalIPs   int // spread clients over 127.0.0.1..127.0.0.N (per-IP caps)
	Timeout    time.Duration
	ServerPID  int
	Echo       bool
	RedisAddr  string
	Label      string
	Markdown   bool
}

func newLoadgenCmd(env *cliEnv) *cobra.Command {
	o := loadOptions{}
	cmd := &cobra.Command{
		Use:   "loadgen",
		Short: "Drive a running server with real WebSocket clients and report turn latency, throughput, errors and RSS",
		Long: `Drive a running Sparring server with real WebSocket clients (PROTOCOL.md §1)
and report turn latency (reply sent → customer line received: p50/p95/p99/p99.9),
turns per second, errors by code and the server's resident memory.

Modes: closed (reply as soon as answered), paced (every --think ± --jitter),
burst (every session at the same instant, --turns rounds --think apart),
idle (open and hold --sessions sessions; reports RSS per connection).

--echo also runs, in this process and in the same run, a bare gorilla echo
server that does one pipelined Redis write (RPUSH+HSET+EXPIRE) per message
against --redis, driven by the same clients: the ceiling to compare with.
With --redis the Redis INFO commandstats deltas of the run are reported
(script calls per turn). The load client, the server and Redis share the
machine's cores: say so when publishing figures.

Example:
  sparring loadgen --url http://127.0.0.1:8080 --mode paced --sessions 10000 \
    --think 2s --duration 30s --local-ips 64 --server-pid $(pgrep -n sparring)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLoadgen(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.URL, "url", "", "server base URL (http://host:port) or WebSocket URL (ws://host:port/ws); empty with --echo runs only the ceiling")
	f.StringVar(&o.Mode, "mode", "closed", "closed | paced | burst | idle")
	f.IntVar(&o.Sessions, "sessions", 100, "concurrent sessions (one connection each)")
	f.IntVar(&o.Turns, "turns", 0, "replies per session (burst: rounds); 0 = until --duration")
	f.DurationVar(&o.Duration, "duration", 20*time.Second, "how long to send replies (closed, paced)")
	f.DurationVar(&o.Think, "think", 2*time.Second, "time between a session's replies (paced), or between burst rounds")
	f.Float64Var(&o.Jitter, "jitter", 0.5, "think time varies uniformly by ± this fraction")
	f.StringVar(&o.Trainee, "trainee", "mix", "scripted trainee: good | poor | mix")
	f.StringVar(&o.Lang, "lang", "mix", "en | zh | mix")
	f.StringVar(&o.ScenarioEN, "scenario-en", "p01-lost-manuscript-en", "scenario played in English")
	f.StringVar(&o.ScenarioZH, "scenario-zh", "p01-lost-manuscript-zh", "scenario played in Chinese")
	f.DurationVar(&o.Hold, "hold", 10*time.Second, "idle: how long to hold the sessions before measuring")
	f.IntVar(&o.Dials, "dials", 64, "WebSocket handshakes in flight at once")
	f.IntVar(&o.LocalIPs, "local-ips", 1, "spread clients over 127.0.0.1..127.0.0.N (loopback servers only), so the per-IP connection cap holds")
	f.DurationVar(&o.Timeout, "timeout", 30*time.Second, "a reply not answered in this time counts as error \"timeout\"")
	f.IntVar(&o.ServerPID, "server-pid", 0, "read the server's RSS from /proc/<pid>/status (else scrape /metrics)")
	f.BoolVar(&o.Echo, "echo", false, "also measure the bare echo + one pipelined Redis write ceiling in this run (needs --redis)")
	f.StringVar(&o.RedisAddr, "redis", "", "Redis address for --echo and for INFO commandstats deltas")
	f.StringVar(&o.Label, "label", "", "scenario label for --markdown")
	f.BoolVar(&o.Markdown, "markdown", false, "also print each result as a markdown table row")
	return cmd
}

// loadResult is what one phase measured.
type loadResult struct {
	Target    string
	Mode      string
	Sessions  int
	Connected int
	Turns     int64
	Elapsed   time.Duration
	Latencies []time.Duration
	Errors    map[string]int64
	RSSBefore int64 // bytes, -1 unknown
	RSSAfter  int64
	CPU       time.Duration // server CPU time used during the phase (--server-pid), -1 unknown
	Restarts  int64         // sessions that ended and were started again
	Starts    int64
	Scripts   float64 // script calls per reply, session starts' calls taken out
	Commands  float64
}

func (r *loadResult) perSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Turns) / r.Elapsed.Seconds()
}

func (r *loadResult) quantile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(q * float64(len(r.Latencies)))
	return r.Latencies[min(i, len(r.Latencies)-1)]
}

func (r *loadResult) errorCount() int64 {
	var n int64
	for _, v := range r.Errors {
		n += v
	}
	return n
}

func runLoadgen(ctx context.Context, o loadOptions, stdout, stderr io.Writer) error {
	if err := o.validate(); err != nil {
		return err
	}
	if n, err := raiseFileLimit(); err != nil {
		fmt.Fprintf(stderr, "loadgen: cannot raise the open-file limit: %v\n", err)
	} else if n < uint64(o.Sessions)+256 {
		fmt.Fprintf(stderr, "loadgen: open-file limit is %d, below %d sessions; raise the hard limit (ulimit -Hn)\n", n, o.Sessions)
	}
	var rdb *redis.Client
	if o.RedisAddr != "" {
		rdb = redis.NewClient(&redis.Options{Addr: o.RedisAddr, PoolSize: 4 * runtime.GOMAXPROCS(0) * 10})
		defer rdb.Close()
		if err := rdb.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("--redis %s: %w", o.RedisAddr, err)
		}
	}
	fmt.Fprintf(stdout, "loadgen: mode %s, %d sessions, %d GOMAXPROCS; client, server and Redis share this machine's %d cores\n",
		o.Mode, o.Sessions, runtime.GOMAXPROCS(0), runtime.NumCPU())
	var results []*loadResult
	if o.Echo {
		es, err := startEchoServer(rdb)
		if err != nil {
			return err
		}
		r, err := runPhase(ctx, o, es.wsURL, "echo+redis", nil, rdb)
		es.close()
		if err != nil {
			return err
		}
		results = append(results, r)
		printResult(stdout, r)
	}
	if o.URL != "" {
		wsURL, metricsURL, err := targetURLs(o.URL)
		if err != nil {
			return err
		}
		rss := func() int64 { return serverRSS(ctx, o.ServerPID, metricsURL) }
		r, err := runPhase(ctx, o, wsURL, "sparring", rss, rdb)
		if err != nil {
			return err
		}
		results = append(results, r)
		printResult(stdout, r)
	}
	if len(results) == 2 && results[0].perSecond() > 0 {
		fmt.Fprintf(stdout, "ratio: sparring %.0f turns/s = %.1f%% of the echo+redis ceiling %.0f turns/s\n",
			results[1].perSecond(), 100*results[1].perSecond()/results[0].perSecond(), results[0].perSecond())
	}
	if o.Markdown {
		for _, r := range results {
			fmt.Fprintln(stdout, markdownRow(o.Label, r))
		}
	}
	return nil
}

func (o *loadOptions) validate() error {
	switch o.Mode {
	case "closed", "paced", "burst", "idle":
	default:
		return fmt.Errorf("--mode %q: use closed, paced, burst or idle", o.Mode)
	}
	switch o.Trainee {
	case "good", "poor", "mix":
	default:
		return fmt.Errorf("--trainee %q: use good, poor or mix", o.Trainee)
	}
	switch o.Lang {
	case "en", "zh", "mix":
	default:
		return fmt.Errorf("--lang %q: use en, zh or mix", o.Lang)
	}
	if o.Sessions < 1 {
		return errors.New("--sessions: at least 1")
	}
	if o.URL == "" && !o.Echo {
		return errors.New("--url: give the server's address (e.g. http://127.0.0.1:8080), or --echo for the ceiling only")
	}
	if o.Echo && o.RedisAddr == "" {
		return errors.New("--echo needs --redis host:port (the ceiling includes one Redis write per message)")
	}
	if o.Mode == "burst" && o.Turns == 0 {
		o.Turns = 5
	}
	if o.Jitter < 0 || o.Jitter > 1 {
		return errors.New("--jitter: a fraction between 0 and 1")
	}
	if o.Dials < 1 {
		o.Dials = 1
	}
	if o.LocalIPs < 1 || o.LocalIPs > 250 {
		return errors.New("--local-ips: 1 to 250")
	}
	return nil
}

// targetURLs turns --url into the WebSocket URL and the metrics URL.
func targetURLs(raw string) (wsURL, metricsURL string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", "", fmt.Errorf("--url %q: give http://host:port or ws://host:port/ws", raw)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", "", fmt.Errorf("--url %q: scheme must be http, https, ws or wss", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/ws"
	}
	m := *u
	m.Scheme = strings.Replace(strings.Replace(u.Scheme, "wss", "https", 1), "ws", "http", 1)
	m.Path = "/metrics"
	return u.String(), m.String(), nil
}

// phase is the shared state of one run against one target.
type phase struct {
	o        loadOptions
	wsURL    string
	dialer   *websocket.Dialer
	dialSem  chan struct{}
	turns    atomic.Int64
	starts   atomic.Int64
	restarts atomic.Int64
	mu       sync.Mutex
	errors   map[string]int64
	lat      [][]time.Duration
}

func (p *phase) fail(code string) {
	p.mu.Lock()
	p.errors[code]++
	p.mu.Unlock()
}

func runPhase(ctx context.Context, o loadOptions, wsURL, target string, rss func() int64, rdb *redis.Client) (*loadResult, error) {
	p := &phase{
		o: o, wsURL: wsURL, errors: map[string]int64{}, lat: make([][]time.Duration, o.Sessions),
		dialSem: make(chan struct{}, o.Dials),
		dialer: &websocket.Dialer{
			HandshakeTimeout: 20 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024,
		},
	}
	res := &loadResult{Target: target, Mode: o.Mode, Sessions: o.Sessions, RSSBefore: -1, RSSAfter: -1, CPU: -1}
	if rss != nil {
		res.RSSBefore = rss()
	}

	before := commandStats(ctx, rdb)

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Every session first connects and starts; the measured part begins
	// when all have (or failed to), so handshakes do not blur the figures.
	var ready, connected sync.WaitGroup
	ready.Add(o.Sessions)
	connected.Add(1)
	var ok atomic.Int64
	var startAt time.Time
	var done sync.WaitGroup
	for i := range o.Sessions {
		done.Add(1)
		go func() {
			defer done.Done()
			c := p.newClient(i)
			err := c.connect(runCtx)
			if err == nil {
				ok.Add(1)
			}
			ready.Done()
			connected.Wait()
			if err != nil {
				return
			}
			defer c.close()
			c.drive(runCtx, startAt)
		}()
	}
	ready.Wait()
	res.Connected = int(ok.Load())
	cpuBefore := processCPU(o.ServerPID)
	if target != "sparring" {
		cpuBefore = -1 // the echo server runs in this process
	}
	startAt = time.Now()
	connected.Done()

	switch o.Mode {
	case "idle":
		select {
		case <-time.After(o.Hold):
		case <-ctx.Done():
		}
		if rss != nil {
			res.RSSAfter = rss()
		}
		cancel()
	case "closed", "paced":
		if o.Turns == 0 {
			t := time.AfterFunc(o.Duration, cancel)
			defer t.Stop()
		}
	}
	done.Wait()
	res.Elapsed = time.Since(startAt)
	if o.Mode != "idle" && rss != nil {
		res.RSSAfter = rss()
	}
	after := commandStats(ctx, rdb)
	res.Turns = p.turns.Load()
	res.Restarts = p.restarts.Load()
	res.Starts = p.starts.Load()
	res.Errors = p.errors
	if res.Turns > 0 && before != nil && after != nil {
		// One script call creates each session; the rest are the replies'.
		scripts := after["evalsha"] + after["eval"] + after["fcall"] - before["evalsha"] - before["eval"] - before["fcall"]
		res.Scripts = float64(scripts-res.Starts) / float64(res.Turns)
		res.Commands = float64(after["*"]-before["*"]) / float64(res.Turns)
	}
	for _, l := range p.lat {
		res.Latencies = append(res.Latencies, l...)
	}
	slices.Sort(res.Latencies)
	if cpuBefore >= 0 {
		if after := processCPU(o.ServerPID); after >= 0 {
			res.CPU = after - cpuBefore
		}
	}
	return res, nil
}

// processCPU is the user+system CPU time of pid from /proc/<pid>/stat, or -1.
func processCPU(pid int) time.Duration {
	if pid <= 0 {
		return -1
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	_, rest, ok := strings.Cut(string(b), ") ")
	if !ok {
		return -1
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}

// frame is what the client needs of a server frame.
type frame struct {
	Type string `json:"type"`
	Seq  int    `json:"seq"`
	Turn int    `json:"turn"`
	Code string `json:"code"`
	Ref  string `json:"ref"`
	at   time.Time
	err  error
}

// client is one simulated trainee: a reader goroutine timestamps frames as
// they arrive, the driver (the session's goroutine) sends and waits.
type client struct {
	p        *phase
	i        int
	ws       *websocket.Conn
	frames   chan frame
	rng      *rand.Rand
	lang     string
	good     bool
	turn     int  // replies sent in the current session
	nReply   int  // replies sent in total, for ids
	ended    bool // the conversation's end frame arrived
	reported bool // and its report
}

func (c *client) observe(f frame) {
	switch f.Type {
	case "end":
		c.ended = true
	case "report":
		c.reported = true
	}
}

func (p *phase) newClient(i int) *client {
	c := &client{p: p, i: i, rng: rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))}
	switch p.o.Lang {
	case "mix":
		c.lang = []string{"en", "zh"}[i%2]
	default:
		c.lang = p.o.Lang
	}
	switch p.o.Trainee {
	case "mix":
		c.good = (i/2)%2 == 0
	default:
		c.good = p.o.Trainee == "good"
	}
	return c
}

func (c *client) connect(ctx context.Context) error {
	d := *c.p.dialer
	if n := c.p.o.LocalIPs; n > 1 {
		local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+c.i%n))}
		d.NetDialContext = (&net.Dialer{LocalAddr: local, Timeout: 20 * time.Second}).DialContext
	}
	var err error
	for attempt := range 5 {
		select {
		case c.p.dialSem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		var resp *http.Response
		c.ws, resp, err = d.DialContext(ctx, c.p.wsURL, nil)
		<-c.p.dialSem
		if err == nil {
			break
		}
		if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
			c.p.fail("http_429")
			return err
		}
		time.Sleep(time.Duration(50*(attempt+1)) * time.Millisecond)
	}
	if err != nil {
		c.p.fail("dial")
		return err
	}
	c.frames = make(chan frame, 32)
	go c.read()
	return c.startSession(ctx)
}

func (c *client) read() {
	defer close(c.frames)
	for {
		_, data, err := c.ws.ReadMessage()
		at := time.Now()
		if err != nil {
			c.frames <- frame{err: err, at: at}
			return
		}
		var f frame
		if json.Unmarshal(data, &f) != nil {
			f.Type = "?"
		}
		f.at = at
		c.frames <- f
	}
}

func (c *client) close() {
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	_ = c.ws.Close()
	for range c.frames {
	}
}

func (c *client) send(v any) error {
	data, _ := json.Marshal(v)
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, data)
}

// next waits for a frame; a closed connection or a timeout is an error.
func (c *client) next(ctx context.Context) (frame, error) {
	t := time.NewTimer(c.p.o.Timeout)
	defer t.Stop()
	select {
	case f, ok := <-c.frames:
		if !ok {
			return frame{}, io.EOF
		}
		if f.err != nil {
			return f, f.err
		}
		c.observe(f)
		return f, nil
	case <-t.C:
		return frame{}, errTimeout
	case <-ctx.Done():
		return frame{}, ctx.Err()
	}
}

var errTimeout = errors.New("no answer in time")

func (c *client) startSession(ctx context.Context) error {
	sc := c.p.o.ScenarioEN
	if c.lang == "zh" {
		sc = c.p.o.ScenarioZH
	}
	if err := c.send(protocol.Request{Type: protocol.TypeStart, Scenario: sc, Trainee: fmt.Sprintf("load-%d", c.i), Lang: c.lang}); err != nil {
		c.p.fail("write")
		return err
	}
	c.turn, c.ended, c.reported = 0, false, false
	for {
		f, err := c.next(ctx)
		if err != nil {
			c.connError(err)
			return err
		}
		switch f.Type {
		case "customer":
			c.p.starts.Add(1)
			return nil
		case "error":
			c.p.fail(f.Code)
			return fmt.Errorf("start: %s", f.Code)
		}
	}
}

func (c *client) connError(err error) {
	switch {
	case errors.Is(err, context.Canceled):
	case errors.Is(err, errTimeout):
		c.p.fail("timeout")
	case websocket.IsCloseError(err, websocket.ClosePolicyViolation):
		c.p.fail("close_1008")
	case websocket.IsCloseError(err, websocket.CloseGoingAway):
		c.p.fail("close_1001")
	default:
		c.p.fail("conn_lost")
	}
}

// drive plays turns until the phase ends.
func (c *client) drive(ctx context.Context, start time.Time) {
	o := c.p.o
	switch o.Mode {
	case "idle":
		// Keep reading (pings, nothing else) until the phase is over.
		for {
			if _, err := c.next(ctx); err != nil && !errors.Is(err, errTimeout) {
				if ctx.Err() == nil {
					c.connError(err)
				}
				return
			}
		}
	case "paced":
		// Spread the first replies over one think time so sessions are not in step.
		if !c.sleep(ctx, time.Duration(c.rng.Int64N(int64(o.Think)+1))) {
			return
		}
	}
	for n := 0; o.Turns == 0 || n < o.Turns; n++ {
		switch o.Mode {
		case "paced":
			if n > 0 && !c.sleep(ctx, c.think()) {
				return
			}
		case "burst":
			// Every session sends at the same wall-clock instant.
			if !c.sleep(ctx, time.Until(start.Add(time.Duration(n+1)*o.Think))) {
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		if !c.oneTurn(ctx) {
			return
		}
	}
}

func (c *client) think() time.Duration {
	t := float64(c.p.o.Think)
	j := c.p.o.Jitter
	return time.Duration(t * (1 - j + 2*j*c.rng.Float64()))
}

func (c *client) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// oneTurn sends a reply and waits for the customer's line; false ends the
// client. A conversation that has ended is replaced by a new one first.
func (c *client) oneTurn(ctx context.Context) bool {
	for c.drainPending() {
	}
	if c.ended {
		if !c.restart(ctx) {
			return false
		}
	}
	c.nReply++
	id := "r" + strconv.Itoa(c.nReply)
	text := trainerLine(c.lang, c.good, c.turn)
	c.turn++
	sent := time.Now()
	if err := c.send(protocol.Request{Type: protocol.TypeReply, ID: id, Text: text}); err != nil {
		if ctx.Err() == nil {
			c.p.fail("write")
		}
		return false
	}
	for {
		// The reply in flight is measured to the end even after the phase's
		// clock ran out, so no answered turn is dropped from the figures.
		f, err := c.next(context.WithoutCancel(ctx))
		if err != nil {
			c.connError(err)
			return false
		}
		switch f.Type {
		case "customer":
			c.p.turns.Add(1)
			c.p.lat[c.i] = append(c.p.lat[c.i], f.at.Sub(sent))
			return true
		case "error":
			if f.Ref != id && f.Ref != "" {
				continue
			}
			if f.Code == "session_ended" && c.ended {
				// The conversation ended on the previous turn (end and report
				// came after its customer line); start over.
				return c.restart(ctx)
			}
			c.p.fail(f.Code)
			return true
		}
	}
}

// drainPending consumes frames already received (end and report that
// follow a final customer line); it reports whether it took one.
func (c *client) drainPending() bool {
	select {
	case f, ok := <-c.frames:
		if !ok {
			return false
		}
		if f.err != nil {
			return false
		}
		c.observe(f)
		return true
	default:
		return false
	}
}

func (c *client) restart(ctx context.Context) bool {
	c.p.restarts.Add(1)
	// Read up to the report so its frames are not taken for the new session's.
	for !c.reported {
		if _, err := c.next(ctx); err != nil {
			c.connError(err)
			return false
		}
	}
	return c.startSession(ctx) == nil
}

// serverRSS reads the server's resident memory: /proc/<pid>/status when the
// pid is known, else the process collector's gauge on /metrics; -1 if neither.
func serverRSS(ctx context.Context, pid int, metricsURL string) int64 {
	if pid > 0 {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
			for line := range strings.Lines(string(b)) {
				if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
					f := strings.Fields(rest)
					if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
						return kb << 10
					}
				}
			}
		}
		return -1
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return -1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "process_resident_memory_bytes "); ok {
			if v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64); err == nil {
				return int64(v)
			}
		}
	}
	return -1
}

// commandStats returns Redis's per-command call counts ("*" is the sum);
// nil without Redis. Commands run inside a script count too, which is why
// script calls per turn are reported apart.
func commandStats(ctx context.Context, rdb *redis.Client) map[string]int64 {
	if rdb == nil {
		return nil
	}
	s, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil
	}
	out := map[string]int64{}
	for line := range strings.Lines(s) {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok {
			continue
		}
		name = strings.TrimPrefix(name, "cmdstat_")
		calls, _, _ := strings.Cut(rest, ",")
		n, _ := strconv.ParseInt(calls, 10, 64)
		out[name] += n
		out["*"] += n
	}
	return out
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }

func mib(b int64) string {
	if b < 0 {
		return "?"
	}
	return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64)
}

func (r *loadResult) errorsText() string {
	if len(r.Errors) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(r.Errors))
	for k := range r.Errors {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, r.Errors[k])
	}
	return b.String()
}

// perConn is the RSS growth per connected session, in KiB.
func (r *loadResult) perConn() string {
	if r.RSSBefore < 0 || r.RSSAfter < 0 || r.Connected == 0 {
		return "?"
	}
	return strconv.FormatFloat(float64(r.RSSAfter-r.RSSBefore)/1024/float64(r.Connected), 'f', 1, 64)
}

func printResult(w io.Writer, r *loadResult) {
	fmt.Fprintf(w, "[%s] mode %s: %d/%d sessions connected, %d turns in %.1fs = %.0f turns/s, %d sessions restarted\n",
		r.Target, r.Mode, r.Connected, r.Sessions, r.Turns, r.Elapsed.Seconds(), r.perSecond(), r.Restarts)
	if len(r.Latencies) > 0 {
		fmt.Fprintf(w, "[%s] turn latency ms: p50 %s  p95 %s  p99 %s  p99.9 %s  max %s\n", r.Target,
			ms(r.quantile(.5)), ms(r.quantile(.95)), ms(r.quantile(.99)), ms(r.quantile(.999)), ms(r.Latencies[len(r.Latencies)-1]))
	}
	fmt.Fprintf(w, "[%s] errors: %s\n", r.Target, r.errorsText())
	if r.RSSAfter >= 0 {
		fmt.Fprintf(w, "[%s] server RSS: %s MiB before, %s MiB after; %s KiB per connected session\n",
			r.Target, mib(r.RSSBefore), mib(r.RSSAfter), r.perConn())
	}
	if r.CPU >= 0 && r.Turns > 0 {
		fmt.Fprintf(w, "[%s] server CPU: %.1f s in %.1f s (%.2f cores), %.0f µs per turn (restarted sessions included, first connections not)\n",
			r.Target, r.CPU.Seconds(), r.Elapsed.Seconds(), r.CPU.Seconds()/r.Elapsed.Seconds(), float64(r.CPU.Microseconds())/float64(r.Turns))
	}
	if r.Commands > 0 && r.Target != "sparring" {
		fmt.Fprintf(w, "[%s] redis (INFO commandstats): %.1f commands per reply (one pipeline)\n", r.Target, r.Commands)
	} else if r.Commands > 0 {
		fmt.Fprintf(w, "[%s] redis (INFO commandstats): %.3f script calls per reply after taking out %d session creations; %.1f commands per reply, commands inside scripts included\n",
			r.Target, r.Scripts, r.Starts, r.Commands)
	}
}

// markdownRow matches the table header written by scripts/bench.sh.
func markdownRow(label string, r *loadResult) string {
	if label == "" {
		label = r.Mode
	}
	lat := func(q float64) string {
		if len(r.Latencies) == 0 {
			return "–"
		}
		return ms(r.quantile(q))
	}
	return fmt.Sprintf("| %s | %s | %d/%d | %d | %.0f | %s | %s | %s | %s | %s | %s MiB | %s |",
		label, r.Target, r.Connected, r.Sessions, r.Turns, r.perSecond(), lat(.5), lat(.95), lat(.99), lat(.999),
		r.errorsText(), mib(r.RSSAfter), r.perConn())
}

package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/web/protocol"
)

// conn is one WebSocket client. The reader goroutine reads requests and has
// them handled one at a time on a pooled worker (a session's turns are
// sequential anyway); the writer, started only while frames are queued, is
// the only one that writes frames to the socket. Everything else reaches the
// client through send.
type conn struct {
	srv  *Server
	ws   *websocket.Conn
	cork *corkConn // ws's connection: lets the writer batch frames
	ip   string
	log  *slog.Logger
	send chan *outbound // pointers: 8 bytes a slot instead of 48 (issue 9, memory per connection)

	// busy is held while a request is handled, so shutdown can wait for an
	// in-flight turn to be stored before closing.
	busy    sync.Mutex
	closing bool // guarded by busy

	closeOnce sync.Once
	done      chan struct{} // closed when the connection must stop

	// The writer runs only while frames are queued (issue 9, memory per
	// idle connection: a parked writer goroutine cost about 4 KiB of stack
	// per session). queued counts outbounds put in send and not yet written:
	// each producer adds one after its send, and the one that makes it 1
	// starts the writer; the writer subtracts what it wrote and ends when it
	// reaches 0. Atomics, not a look at len(send), so no wake-up is lost
	// under any memory model.
	queued atomic.Int64
	pinger *time.Timer // queues a ping every PingPeriod

	// Owned by the reader goroutine.
	sess       *simulator.Session
	token      string
	lang       simulator.Lang
	limiter    *rate.Limiter
	violations int
	unsub      func()
	clock      *time.Timer // ends the attached session at its deadline; guarded by busy
}

// outbound is frames for the writer (a turn's frames travel together, so
// they leave in one write), a ping, or a close request.
type outbound struct {
	frames    [][]byte
	ping      bool
	closeCode int
	closeText string
}

func (s *Server) handleWS() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientIP(r)
		s.mu.Lock()
		if s.draining {
			s.mu.Unlock()
			http.Error(w, "server is shutting down", http.StatusServiceUnavailable)
			return
		}
		if s.perIP[ip] >= s.cfg.MaxConnsPerIP {
			s.mu.Unlock()
			s.metrics.errors.WithLabelValues(string(simulator.CodeRateLimited)).Inc()
			http.Error(w, "too many connections from this address", http.StatusTooManyRequests)
			return
		}
		s.perIP[ip]++
		s.wg.Add(1)
		s.mu.Unlock()
		release := func() {
			s.mu.Lock()
			if s.perIP[ip]--; s.perIP[ip] <= 0 {
				delete(s.perIP, ip)
			}
			s.mu.Unlock()
			s.wg.Done()
		}

		cw := &corkingWriter{ResponseWriter: w, bufs: s.corkBufs}
		ws, err := s.upgrader.Upgrade(cw, r, nil)
		if err != nil {
			release() // the upgrader already answered the client
			return
		}
		c := &conn{
			srv: s, ws: ws, cork: cw.conn, ip: ip, log: s.log.With("remote", ip),
			send:    make(chan *outbound, s.cfg.SendBuffer),
			done:    make(chan struct{}),
			lang:    simulator.LangEN,
			limiter: rate.NewLimiter(rate.Limit(s.cfg.MessagesPerSecond), s.cfg.Burst),
		}
		// Armed only once stored: ping and stop read c.pinger, and a timer
		// started by AfterFunc could fire before the assignment (data race).
		// Stored before the conn is published, so Shutdown's stop sees it.
		c.pinger = time.AfterFunc(time.Duration(math.MaxInt64), c.ping)
		c.pinger.Reset(s.cfg.PingPeriod)
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.metrics.connections.Inc()

		// issue 9 (memory per connection): the reader gets its own goroutine
		// and the HTTP handler returns at once. While a handler runs, net/http
		// keeps its request and its bufio reader and writer (about 8 KiB per
		// connection) reachable, and a hijacked connection needs none of them.
		go func() {
			c.readPump()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			s.metrics.connections.Dec()
			c.detach()
			release()
		}()
	})
}

func (c *conn) readPump() {
	cfg := c.srv.cfg
	defer c.stop()
	c.ws.SetReadLimit(cfg.HardLimitBytes)
	_ = c.ws.SetReadDeadline(time.Now().Add(cfg.PongWait))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(cfg.PongWait))
	})
	for {
		kind, data, err := c.ws.ReadMessage()
		if err != nil {
			if websocket.IsUnexpectedCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived, websocket.CloseAbnormalClosure) && !errors.Is(err, websocket.ErrReadLimit) {
				c.log.Debug("websocket read", slog.Any("error", err))
			}
			if errors.Is(err, websocket.ErrReadLimit) {
				c.srv.metrics.errors.WithLabelValues(string(simulator.CodeTooLarge)).Inc()
			}
			// A close gorilla wrote here (the echo of the client's close,
			// 1009, 1002) went into the writer's batch if it was corked;
			// send it before stop closes the socket.
			_ = c.cork.flush()
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(cfg.PongWait))
		c.busy.Lock()
		if c.closing {
			c.busy.Unlock()
			return
		}
		keep := c.handleOnWorker(kind, data)
		c.busy.Unlock()
		if !keep {
			c.discardUntilClosed()
			return
		}
	}
}

// handleOnWorker runs handleFrame on a pooled worker and waits for it, so
// the reader's own stack stays small while it idles (see workerPool).
func (c *conn) handleOnWorker(kind int, data []byte) bool {
	keep := make(chan bool, 1)
	c.srv.workers.run(func() { keep <- c.handleFrame(kind, data) })
	return <-keep
}

// discardUntilClosed keeps reading (and ignoring) after the server asked
// to close, so the client's close reply is read and the close completes
// cleanly; the writer's timer ends it if the client never answers.
func (c *conn) discardUntilClosed() {
	for {
		if _, _, err := c.ws.ReadMessage(); err != nil {
			return
		}
	}
}

// handleFrame answers one client frame; false closes the connection.
func (c *conn) handleFrame(kind int, data []byte) bool {
	cfg := c.srv.cfg
	if !c.limiter.Allow() {
		return c.violation(simulator.CodeRateLimited, "", websocket.ClosePolicyViolation,
			"too many messages; slow down", "消息过于频繁,请放慢速度")
	}
	if int64(len(data)) > cfg.MaxMessageBytes {
		return c.violation(simulator.CodeTooLarge, "", websocket.CloseMessageTooBig,
			"frame too large; a reply may hold at most 2000 characters", "消息过大;每条回复最多 2000 个字符")
	}
	if kind != websocket.TextMessage {
		c.sendError(protocolError(simulator.CodeBadJSON, "frames must be text holding one JSON object", "消息必须是包含一个 JSON 对象的文本帧"), "")
		return true
	}
	req, err := protocol.Decode(data)
	if err != nil {
		c.sendError(err, "")
		return true
	}
	c.violations = 0
	ctx := context.Background() // a turn in flight finishes even if the client leaves
	switch req.Type {
	case protocol.TypeStart:
		c.start(ctx, req)
	case protocol.TypeResume:
		c.resume(ctx, req)
	case protocol.TypeReply:
		c.reply(ctx, req)
	case protocol.TypeEnd:
		c.end(ctx)
	case protocol.TypeNote:
		c.note(ctx, req)
	case protocol.TypeSubscribe:
		c.subscribe(ctx, req)
	}
	return true
}

// violation answers a limit breach; repeated breaches close the connection.
func (c *conn) violation(code simulator.Code, ref string, closeCode int, en, zh string) bool {
	c.violations++
	if c.violations > c.srv.cfg.MaxViolations {
		c.srv.metrics.errors.WithLabelValues(string(code)).Inc()
		c.closeWith(closeCode, string(code))
		return false
	}
	c.sendError(protocolError(code, en, zh), ref)
	return true
}

func (c *conn) start(ctx context.Context, req protocol.Request) {
	if req.Lang == string(simulator.LangZH) {
		c.lang = simulator.LangZH
	}
	sreq := simulator.StartRequest{
		Scenario: req.Scenario, Trainee: req.Trainee, Mode: simulator.Mode(req.Mode),
		Engine: simulator.Engine(req.Engine), Lang: simulator.Lang(req.Lang),
		Contest: req.Contest, Team: req.Team,
	}
	// Contest join (issue 8, web/contest.go): the contest decides scenario,
	// seed, deadline and mode, and claims the attempt before the start.
	var res simulator.Reservation
	if req.Contest != "" {
		var err error
		if sreq, res, err = c.srv.contests.prepareStart(ctx, req); err != nil {
			c.sendError(err, "")
			return
		}
	}
	sess, token, err := c.srv.sim.Start(ctx, sreq)
	if req.Contest != "" {
		c.srv.contests.started(ctx, res, sess, err)
	}
	if err != nil {
		c.sendError(err, "")
		return
	}
	c.abandonCurrent(ctx)
	c.attach(sess, token)
	c.sendSession(ctx)
	c.sendEvents(sess.Events)
}

// abandonCurrent ends the active session this connection leaves for a new
// one: the trainee walked away from it (outcome abandoned).
func (c *conn) abandonCurrent(ctx context.Context) {
	if c.sess == nil || c.sess.State != simulator.StateActive {
		return
	}
	if _, err := c.srv.sim.Abandon(ctx, c.sess, "the trainee started another session"); err != nil {
		c.log.Warn("abandon session", slog.Any("error", err))
		return
	}
	c.settled(ctx, true)
}

// settled does the bookkeeping of a session that just ended on this connection.
func (c *conn) settled(ctx context.Context, wasActive bool) {
	if wasActive && c.sess.State == simulator.StateEnded {
		c.srv.metrics.activeSessions.Dec()
		c.srv.contests.finished(ctx, c.sess) // issue 8: contest result → standings
	}
}

func (c *conn) resume(ctx context.Context, req protocol.Request) {
	sess, err := c.srv.sim.Resume(ctx, req.Session, req.Token)
	if err != nil {
		c.sendError(err, "")
		return
	}
	c.attach(sess, req.Token)
	c.sendSession(ctx)
	c.sendEvents(sess.After(*req.After))
	if sess.State == simulator.StateEnded {
		c.srv.contests.finished(ctx, sess) // issue 8: once per session, so a record lost to a crash is made now
	}
}

func (c *conn) reply(ctx context.Context, req protocol.Request) {
	if c.sess == nil {
		c.sendError(protocolError(simulator.CodeNoSession, "reply: start or resume a session first", "reply:请先开始或恢复会话"), req.ID)
		return
	}
	began := time.Now()
	wasActive := c.sess.State == simulator.StateActive
	turn := c.sess.Turns() + 1
	var delta func(string)
	if c.sess.Engine == simulator.EngineLLM { // only a model's line streams
		delta = func(text string) {
			c.sendFrame(protocol.Delta{Type: protocol.TypeDelta, Turn: turn, Text: text})
		}
	}
	evs, err := c.srv.sim.Reply(ctx, c.sess, req.ID, req.Text, delta)
	c.sendEvents(evs)
	if err != nil {
		c.sendError(err, req.ID)
	} else {
		c.srv.metrics.turns.WithLabelValues(string(c.sess.Engine)).Inc()
		c.srv.metrics.turnLatency.Observe(time.Since(began).Seconds())
	}
	c.settled(ctx, wasActive)
}

func (c *conn) end(ctx context.Context) {
	if c.sess == nil {
		c.sendError(protocolError(simulator.CodeNoSession, "end: start or resume a session first", "end:请先开始或恢复会话"), "")
		return
	}
	wasActive := c.sess.State == simulator.StateActive
	evs, err := c.srv.sim.End(ctx, c.sess)
	c.sendEvents(evs)
	if err != nil {
		c.sendError(err, "")
	}
	c.settled(ctx, wasActive)
}

func (c *conn) note(ctx context.Context, req protocol.Request) {
	if c.sess == nil {
		c.sendError(protocolError(simulator.CodeNoSession, "note: start or resume a session first", "note:请先开始或恢复会话"), "")
		return
	}
	switch req.Kind {
	case "paste", "blur":
	default:
		c.sendError(protocolError(simulator.CodeInvalid, `kind: use "paste" or "blur"`, `kind:请使用 "paste" 或 "blur"`), "")
		return
	}
	evs, err := c.srv.sim.Note(ctx, c.sess, req.Kind, truncateRunes(req.Text, 200))
	c.sendEvents(evs)
	if err != nil {
		c.sendError(err, "")
	}
}

// subscribe attaches the live leaderboard of a contest (issue 8,
// web/contest.go); a second subscribe replaces the first. The hub pushes
// through sendFrame, and detach cancels it via c.unsub.
func (c *conn) subscribe(ctx context.Context, req protocol.Request) {
	if c.unsub != nil {
		c.unsub()
		c.unsub = nil
	}
	if req.Lang == string(simulator.LangZH) {
		c.lang = simulator.LangZH
	}
	unsub, err := c.srv.contests.subscribe(ctx, req.Contest, c.sendFrame)
	if err != nil {
		c.sendError(err, "")
		return
	}
	c.unsub = unsub
}

func (c *conn) attach(sess *simulator.Session, token string) {
	if c.sess != nil && c.sess.State == simulator.StateActive {
		c.srv.metrics.activeSessions.Dec()
	}
	c.sess, c.token, c.lang = sess, token, sess.Lang
	if sess.State == simulator.StateActive {
		c.srv.metrics.activeSessions.Inc()
	}
	c.log = c.srv.log.With("remote", c.ip, "session", sess.ID)
	c.armClock()
}

// armClock ends the attached session when its deadline passes, so a trainee
// who stops typing still gets end (outcome timeout) and the report: the
// clock ends the session, not the next reply. Runs under busy.
func (c *conn) armClock() {
	if c.clock != nil {
		c.clock.Stop()
		c.clock = nil
	}
	sess := c.sess
	if sess == nil || sess.State != simulator.StateActive || sess.Deadline.IsZero() {
		return
	}
	c.clock = time.AfterFunc(time.Until(sess.Deadline), func() {
		c.busy.Lock()
		defer c.busy.Unlock()
		if c.closing || c.sess != sess || sess.State != simulator.StateActive {
			return // gone, moved on, or already ended by a reply
		}
		ctx := context.Background()
		evs, err := c.srv.sim.End(ctx, sess)
		c.sendEvents(evs)
		if err != nil {
			// Another connection may have ended it first; nothing was asked.
			c.log.Debug("deadline end", slog.Any("error", err))
			return
		}
		c.settled(ctx, true)
	})
}

func (c *conn) detach() {
	c.busy.Lock()
	c.closing = true // a pending clock must not touch this connection any more
	if c.clock != nil {
		c.clock.Stop()
	}
	c.busy.Unlock()
	if c.sess != nil && c.sess.State == simulator.StateActive {
		c.srv.metrics.activeSessions.Dec()
	}
	c.sess = nil
	if c.unsub != nil {
		c.unsub()
	}
}

func (c *conn) sendSession(ctx context.Context) {
	sc, err := c.srv.sim.ScenarioOf(ctx, c.sess)
	if err != nil {
		sc = nil // a scenario withdrawn since: the session still resumes
	}
	c.sendFrame(protocol.NewSessionInfo(c.sess, c.token, sc))
}

func (c *conn) sendEvents(evs []simulator.Event) {
	if len(evs) == 0 {
		return
	}
	frames := make([][]byte, 0, len(evs))
	for _, e := range evs {
		data, err := json.Marshal(protocol.EventFrame(e))
		if err != nil {
			c.log.Error("encode frame", slog.Any("error", err))
			return
		}
		frames = append(frames, data)
	}
	c.enqueue(&outbound{frames: frames})
}

func (c *conn) sendError(err error, ref string) {
	code, msg := simulator.ErrorCode(err), simulator.ErrorMessage(err, c.lang)
	if de, ok := errors.AsType[*protocol.DecodeError](err); ok {
		code, msg = de.Code, de.Message.In(c.lang)
	}
	if code == simulator.CodeInternal || code == simulator.CodeUnavailable {
		c.log.Error("request failed", slog.String("code", string(code)), slog.Any("error", err))
	}
	c.srv.metrics.errors.WithLabelValues(string(code)).Inc()
	c.sendFrame(protocol.Error{Type: protocol.TypeError, Code: string(code), Message: msg, Ref: ref})
}

// sendFrame queues a frame for the writer. A replay can be longer than the
// buffer, so it waits up to the write deadline for room; a client that does
// not drain its frames by then is disconnected (everything it missed is
// stored and comes back on resume).
func (c *conn) sendFrame(v any) {
	data, err := json.Marshal(v)
	if err != nil {
		c.log.Error("encode frame", slog.Any("error", err))
		return
	}
	c.enqueue(&outbound{frames: [][]byte{data}})
}

func (c *conn) enqueue(m *outbound) {
	select {
	case <-c.done:
		return
	case c.send <- m:
		c.queuedOne()
		return
	default:
	}
	// The queue is full, so a writer is draining it (or has failed and
	// the connection is going).
	timer := time.NewTimer(c.srv.cfg.WriteWait)
	defer timer.Stop()
	select {
	case <-c.done:
	case c.send <- m:
		c.queuedOne()
	case <-timer.C:
		c.srv.metrics.dropped.Inc()
		c.log.Warn("slow client disconnected")
		c.stop()
	}
}

// closeWith asks the writer to send a close frame, then stop.
func (c *conn) closeWith(code int, text string) {
	select {
	case c.send <- &outbound{closeCode: code, closeText: text}:
		c.queuedOne()
	default:
		c.stop()
	}
}

// goAway is the shutdown path: wait for the in-flight turn, refuse new ones,
// then say 1001.
func (c *conn) goAway() {
	c.busy.Lock()
	c.closing = true
	c.busy.Unlock()
	c.closeWith(websocket.CloseGoingAway, "server shutting down")
}

func (c *conn) stop() {
	c.closeOnce.Do(func() {
		close(c.done)
		if c.pinger != nil {
			c.pinger.Stop()
		}
		_ = c.ws.Close()
	})
}

// queuedOne counts an outbound just put in send, and starts the writer on
// a pooled worker if none is running.
func (c *conn) queuedOne() {
	if c.queued.Add(1) == 1 {
		c.srv.workers.run(c.writeQueued)
	}
}

// writeQueued writes until everything counted in queued is written. It
// takes exactly as many outbounds as are counted: each was sent before it
// was counted, so those receives never wait, and an outbound sent but not
// yet counted is left for the next round (its producer sees the count above
// zero and starts no second writer).
func (c *conn) writeQueued() {
	for {
		n := c.queued.Load()
		if !c.writeBatch(n) {
			c.stop() // queued stays above 0: no writer after this one
			return
		}
		if c.queued.Add(-n) == 0 {
			return
		}
	}
}

// ping queues a ping and arms the next one; a peer that stops answering is
// dropped by the reader's pong deadline.
func (c *conn) ping() {
	select {
	case <-c.done:
		return
	case c.send <- &outbound{ping: true}:
		c.queuedOne()
	default: // the queue is full: the writer is busy, the client is alive or about to be dropped
	}
	c.pinger.Reset(c.srv.cfg.PingPeriod)
}

// writeBatch writes the next n queued outbounds with one write(2); false
// ends the writer (a write failed, or a close was sent).
func (c *conn) writeBatch(n int64) bool {
	c.cork.cork(c.srv.cfg.WriteWait)
	for range n {
		m := <-c.send
		if m.closeCode != 0 {
			if c.cork.uncork() != nil {
				return false
			}
			_ = c.ws.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteWait))
			_ = c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(m.closeCode, m.closeText))
			// Give the client a moment to answer the close before the socket goes.
			time.AfterFunc(time.Second, c.stop)
			c.drainUntilDone()
			return false
		}
		if m.ping {
			if err := c.ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				_ = c.cork.uncork()
				return false
			}
		}
		for _, f := range m.frames {
			if err := c.ws.WriteMessage(websocket.TextMessage, f); err != nil {
				_ = c.cork.uncork()
				return false
			}
		}
	}
	return c.cork.uncork() == nil
}

// drainUntilDone discards frames queued after a close until the reader stops.
func (c *conn) drainUntilDone() {
	for {
		select {
		case <-c.done:
			return
		case <-c.send:
		}
	}
}

func protocolError(code simulator.Code, en, zh string) error {
	return simulator.Errorf(code, en, zh)
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return u.Host == host
}

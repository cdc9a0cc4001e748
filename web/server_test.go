package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/redisstore/redistest"
	"github.com/sparring-gym/sparring/web"
	"github.com/sparring-gym/sparring/web/webtest"
)

const (
	scenarioEN = "p01-lost-manuscript-en"
	scenarioZH = "p03-day-five-return-zh"
)

var goodReplies = []string{
	"Hello Ms Chen, I'm Lin from customer support. I'm so sorry your manuscript went missing, I can see how upsetting this is.",
	"Just to confirm: the file was on the laptop you left for repair on Monday, and you need it for Friday, is that right?",
	"Here is what I'll do: I will ask our technician to check the backup drive today and call you by 5 pm with what we find. Would that work for you?",
	"Thank you for your patience. Your case number is 4471; is there anything else I can help you with?",
}

// seqs checks that session-scoped frames carry consecutive seq values from
// first on, and returns the last one.
func seqs(t *testing.T, frames []webtest.Frame, first int) int {
	t.Helper()
	want := first
	for _, f := range frames {
		switch f.Type() {
		case "session", "delta", "error", "leaderboard":
			continue
		}
		if f.Seq() != want {
			t.Fatalf("frame %v has seq %d, want %d", f, f.Seq(), want)
		}
		want++
	}
	return want - 1
}

func TestFullSession(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		in := webtest.Start(t, webtest.Options{Backend: b})
		c := webtest.Dial(t, in.WSURL, nil)
		session, opening := c.Start(scenarioEN, map[string]any{"mode": "coach"})
		if session.Str("session") == "" || session.Str("token") == "" || session.Str("state") != "active" ||
			session.Str("lang") != "en" || session.Obj("scenario").Str("id") != scenarioEN || session.Obj("persona").Str("name") == "" {
			t.Fatalf("session frame = %v", session)
		}
		if opening.Seq() != 1 || opening.Int("turn") != 0 || opening.Str("text") == "" {
			t.Fatalf("opening = %v", opening)
		}
		mood := opening.Obj("mood")
		if _, ok := mood["anger"]; !ok {
			t.Fatalf("opening has no mood: %v", opening)
		}
		var all []webtest.Frame
		ended := false
		for i, text := range goodReplies {
			frames := c.Reply(fmt.Sprint("r", i), text)
			all = append(all, frames...)
			if frames[0].Type() != "ack" || frames[0].Str("id") != fmt.Sprint("r", i) || frames[0].Int("turn") != i+1 {
				t.Fatalf("turn %d: first frame %v, want the ack", i+1, frames[0])
			}
			if frames[1].Type() != "feedback" {
				t.Fatalf("coach mode: want feedback after ack, got %v", frames[1])
			}
			if _, ok := frames[1]["steps"].([]any); !ok {
				t.Fatalf("feedback without a steps list: %v", frames[1])
			}
			if last := frames[len(frames)-1]; last.Type() != "customer" {
				t.Fatalf("turn %d ended with %v", i+1, last)
			}
			if st, _ := in.Sim.Load(t.Context(), session.Str("session")); st.State == simulator.StateEnded {
				ended = true
				break
			}
		}
		var tail []webtest.Frame
		if !ended {
			c.Send(map[string]any{"type": "end"})
		}
		tail = c.Until("report")
		all = append(all, tail...)
		seqs(t, all, 2)
		end, report := tail[len(tail)-2], tail[len(tail)-1]
		if end.Type() != "end" || end.Str("outcome") == "" {
			t.Fatalf("end frame = %v", end)
		}
		rep := report.Obj("report")
		for _, k := range []string{"total", "steps", "dimensions", "outcome", "turns", "duration_s", "feedback"} {
			if _, ok := rep[k]; !ok {
				t.Errorf("report lacks %q: %v", k, rep)
			}
		}
		if got := len(rep.Obj("steps")); got != 5 {
			t.Errorf("report has %d steps, want 5", got)
		}
		if got := len(rep.Obj("dimensions")); got != 5 {
			t.Errorf("report has %d dimensions, want 5", got)
		}

		// The HTTP view needs the session token.
		id, token := session.Str("session"), session.Str("token")
		if code := getStatus(t, in.URL+"/api/sessions/"+id, ""); code != http.StatusUnauthorized {
			t.Errorf("no token: %d, want 401", code)
		}
		if code := getStatus(t, in.URL+"/api/sessions/"+id, "nope"); code != http.StatusForbidden {
			t.Errorf("wrong token: %d, want 403", code)
		}
		var view web.SessionView
		getJSON(t, in.URL+"/api/sessions/"+id, token, &view)
		if view.Report == nil || view.Session.State != simulator.StateEnded || len(view.Transcript) < 3 {
			t.Errorf("session view = %+v", view.Session)
		}
	})
}

func TestExamModeWithholdsFeedback(t *testing.T) {
	in := webtest.Start(t, webtest.Options{Backend: redistest.Mini(t)})
	c := webtest.Dial(t, in.WSURL, nil)
	c.Start(scenarioZH, map[string]any{"mode": "exam"})
	frames := c.Reply("a", "您好,我是客服小林,很抱歉让您久等了。请问您的订单号是多少?")
	for _, f := range frames {
		if f.Type() == "feedback" {
			t.Fatalf("exam mode sent feedback: %v", f)
		}
	}
	if got := frames[0].Seq(); got != 2 || frames[1].Seq() != 3 {
		t.Fatalf("exam seqs %d,%d, want 2,3 (no gap)", got, frames[1].Seq())
	}
	c.Send(map[string]any{"type": "end"})
	tail := c.Until("report")
	fb, _ := tail[len(tail)-1].Obj("report")["feedback"].([]any)
	if len(fb) != 1 {
		t.Fatalf("report feedback has %d turns, want 1", len(fb))
	}
}

func TestReplyIsIdempotent(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		in := webtest.Start(t, webtest.Options{Backend: b})
		c := webtest.Dial(t, in.WSURL, nil)
		session, _ := c.Start(scenarioEN, nil)
		first := c.Reply("same", goodReplies[0])
		again := c.Reply("same", goodReplies[0])
		if len(first) != len(again) {
			t.Fatalf("resend answered %d frames, first time %d", len(again), len(first))
		}
		for i := range first {
			a, _ := json.Marshal(first[i])
			b, _ := json.Marshal(again[i])
			if string(a) != string(b) {
				t.Fatalf("resend frame %d = %s, want %s", i, b, a)
			}
		}
		sess, err := in.Sim.Load(t.Context(), session.Str("session"))
		if err != nil {
			t.Fatal(err)
		}
		if sess.Turns() != 1 || sess.LastSeq() != first[len(first)-1].Seq() {
			t.Fatalf("stored %d turns, last seq %d; want 1 turn", sess.Turns(), sess.LastSeq())
		}
	})
}

func TestResumeAfterDisconnect(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		in := webtest.Start(t, webtest.Options{Backend: b})
		c := webtest.Dial(t, in.WSURL, nil)
		session, _ := c.Start(scenarioEN, nil)
		seen := c.Reply("r1", goodReplies[0])
		lastSeen := seen[len(seen)-1].Seq()
		// Send the next reply and drop the connection without reading the answer.
		c.Send(map[string]any{"type": "reply", "id": "r2", "text": goodReplies[1]})
		waitFor(t, func() bool {
			s, _ := in.Sim.Load(t.Context(), session.Str("session"))
			return s != nil && s.Turns() == 2
		})
		_ = c.Conn.UnderlyingConn().Close() // abrupt: no close frame

		c2 := webtest.Dial(t, in.WSURL, nil)
		c2.Send(map[string]any{"type": "resume", "session": session.Str("session"), "token": session.Str("token"), "after": lastSeen})
		if f := c2.Expect("session"); f.Str("state") != "active" {
			t.Fatalf("resumed session = %v", f)
		}
		replayed := c2.Until("customer")
		seqs(t, replayed, lastSeen+1)
		if replayed[0].Type() != "ack" || replayed[0].Str("id") != "r2" || replayed[0].Str("text") != goodReplies[1] {
			t.Fatalf("replay starts with %v, want the ack of r2 with its text", replayed[0])
		}
		// Resending the reply the client never saw answered stores nothing new.
		again := c2.Reply("r2", goodReplies[1])
		if again[0].Seq() != replayed[0].Seq() {
			t.Fatalf("resend of r2 got seq %d, want %d", again[0].Seq(), replayed[0].Seq())
		}
		// The conversation carries on.
		next := c2.Reply("r3", goodReplies[2])
		seqs(t, next, replayed[len(replayed)-1].Seq()+1)

		// A full replay from 0 gives every event exactly once.
		c3 := webtest.Dial(t, in.WSURL, nil)
		c3.Send(map[string]any{"type": "resume", "session": session.Str("session"), "token": session.Str("token"), "after": 0})
		c3.Expect("session")
		all := c3.Until("customer")
		for all[len(all)-1].Seq() < next[len(next)-1].Seq() {
			all = append(all, c3.Until("customer")...)
		}
		seqs(t, all, 1)
	})
}

func TestConcurrentRepliesKeepSeqOrder(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		in := webtest.Start(t, webtest.Options{Backend: b, Web: web.Config{Burst: 100, MessagesPerSecond: 100}})
		c := webtest.Dial(t, in.WSURL, nil)
		session, _ := c.Start(scenarioEN, nil)
		const writers, each = 3, 3
		var wg sync.WaitGroup
		for w := range writers {
			cw := webtest.Dial(t, in.WSURL, nil)
			cw.Send(map[string]any{"type": "resume", "session": session.Str("session"), "token": session.Str("token"), "after": 1})
			cw.Expect("session")
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					cw.Send(map[string]any{"type": "reply", "id": fmt.Sprintf("w%d-%d", w, i), "text": "Could you tell me more about what happened?"})
				}
			}()
		}
		wg.Wait()
		var sess *simulator.Session
		waitFor(t, func() bool {
			s, _ := in.Sim.Load(t.Context(), session.Str("session"))
			sess = s
			return s != nil && (s.Turns() == writers*each || s.State == simulator.StateEnded)
		})
		ids := map[string]bool{}
		for i, e := range sess.Events {
			if e.Seq != i+1 {
				t.Fatalf("event %d has seq %d", i, e.Seq)
			}
			if e.Type == simulator.EventAck {
				if ids[e.ReplyID] {
					t.Fatalf("reply %s stored twice", e.ReplyID)
				}
				ids[e.ReplyID] = true
			}
		}
	})
}

// roundTrips counts Redis round trips: a command or a pipeline is one.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { r.n.Add(1); return next(ctx, cmd) }
}
func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { r.n.Add(1); return next(ctx, cmds) }
}

func TestOneRoundTripPerReply(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		in := webtest.Start(t, webtest.Options{Backend: b})
		counter := &roundTrips{}
		in.Redis.AddHook(counter)
		c := webtest.Dial(t, in.WSURL, nil)
		c.Start(scenarioEN, nil)
		c.Reply("warm", goodReplies[0]) // loads the append script once
		for i := 1; i < 3; i++ {
			before := counter.n.Load()
			frames := c.Reply(fmt.Sprint("r", i), goodReplies[i])
			if frames[len(frames)-1].Type() != "customer" {
				t.Fatalf("turn ended with %v", frames[len(frames)-1])
			}
			if got := counter.n.Load() - before; got != 1 {
				t.Fatalf("reply %d took %d Redis round trips, want 1", i, got)
			}
		}
	})
}

// TestErrorCodes produces every error code of PROTOCOL.md over a real socket
// and checks that none of them changes the stored session.
func TestErrorCodes(t *testing.T) {
	b := redistest.Mini(t)
	failing := failingAssessor{}
	in := webtest.Start(t, webtest.Options{
		Backend:  b,
		Web:      web.Config{MessagesPerSecond: 1, Burst: 40, MaxMessageBytes: 8 << 10},
		Assessor: func(rules simulator.Assessor) simulator.Assessor { failing.Assessor = rules; return failing },
	})
	c := webtest.Dial(t, in.WSURL, nil)
	expectErr := func(code string, frame any) webtest.Frame {
		t.Helper()
		if s, ok := frame.(string); ok {
			c.SendRaw(websocket.TextMessage, []byte(s))
		} else {
			c.Send(frame)
		}
		f := c.Expect("error")
		if f.Str("code") != code || f.Str("message") == "" {
			t.Fatalf("got %v, want error %s with a message", f, code)
		}
		return f
	}
	expectErr("bad_json", `{"type":`)
	expectErr("unknown_type", map[string]any{"type": "dance"})
	expectErr("invalid", map[string]any{"type": "start", "scenario": scenarioEN})
	expectErr("no_session", map[string]any{"type": "reply", "id": "x", "text": "hi"})
	expectErr("no_session", map[string]any{"type": "end"})
	expectErr("scenario_not_found", map[string]any{"type": "start", "scenario": "no-such", "trainee": "a"})
	expectErr("bad_token", map[string]any{"type": "resume", "session": "nope", "token": "nope", "after": 0})
	expectErr("unavailable", map[string]any{"type": "start", "scenario": scenarioEN, "trainee": "a", "engine": "llm"})
	expectErr("too_large", map[string]any{"type": "reply", "id": "x", "text": strings.Repeat("a", 9<<10)})

	session, _ := c.Start(scenarioEN, nil)
	id := session.Str("session")
	before := loadSeq(t, in, id)
	if f := expectErr("invalid", map[string]any{"type": "reply", "id": "x", "text": strings.Repeat("长", 2001)}); !strings.Contains(f.Str("message"), "text") {
		t.Fatalf("invalid message should name the field: %v", f)
	}
	if f := expectErr("internal", map[string]any{"type": "reply", "id": "boom", "text": "trigger-internal"}); f.Str("ref") != "boom" {
		t.Fatalf("error should reference the reply id: %v", f)
	}
	if got := loadSeq(t, in, id); got != before {
		t.Fatalf("failed replies changed the log: seq %d → %d", before, got)
	}
	c.Send(map[string]any{"type": "end"})
	c.Until("report")
	expectErr("session_ended", map[string]any{"type": "reply", "id": "late", "text": "hello?"})

	// Rate limit: the burst is spent quickly at one message per second.
	for {
		c.Send(map[string]any{"type": "end"})
		f := c.Expect("error")
		if f.Str("code") == "rate_limited" {
			break
		}
	}

	// Storage down: the server answers unavailable and keeps the connection.
	c2 := webtest.Dial(t, in.WSURL, nil)
	c2.Start(scenarioEN, nil)
	b.Mini.SetError("LOADING Redis is loading the dataset in memory")
	c2.Send(map[string]any{"type": "reply", "id": "r", "text": goodReplies[0]})
	if f := c2.Expect("error"); f.Str("code") != "unavailable" {
		t.Fatalf("storage down: %v", f)
	}
	b.Mini.SetError("")
	if frames := c2.Reply("r", goodReplies[0]); frames[0].Type() != "ack" {
		t.Fatalf("after storage recovered: %v", frames[0])
	}
}

type failingAssessor struct{ simulator.Assessor }

func (f failingAssessor) Assess(ctx context.Context, r simulator.AssessRequest) (simulator.Assessment, error) {
	if r.Reply == "trigger-internal" {
		return simulator.Assessment{}, errors.New("assessor exploded")
	}
	return f.Assessor.Assess(ctx, r)
}

func TestLimitsCloseConnection(t *testing.T) {
	in := webtest.Start(t, webtest.Options{Backend: redistest.Mini(t), Web: web.Config{MaxMessageBytes: 4 << 10, HardLimitBytes: 8 << 10, MaxViolations: 2, MessagesPerSecond: 100, Burst: 100}})

	t.Run("oversized frame closes with 1009", func(t *testing.T) {
		c := webtest.Dial(t, in.WSURL, nil)
		c.SendRaw(websocket.TextMessage, []byte(`{"type":"reply","id":"x","text":"`+strings.Repeat("a", 9<<10)+`"}`))
		assertClose(t, c, websocket.CloseMessageTooBig)
	})
	t.Run("repeated too_large closes with 1009", func(t *testing.T) {
		c := webtest.Dial(t, in.WSURL, nil)
		big := `{"type":"reply","id":"x","text":"` + strings.Repeat("a", 5<<10) + `"}`
		for range 2 {
			c.SendRaw(websocket.TextMessage, []byte(big))
			if f := c.Expect("error"); f.Str("code") != "too_large" {
				t.Fatalf("got %v", f)
			}
		}
		c.SendRaw(websocket.TextMessage, []byte(big))
		assertClose(t, c, websocket.CloseMessageTooBig)
	})
	t.Run("foreign origin refused", func(t *testing.T) {
		_, resp, err := websocket.DefaultDialer.Dial(in.WSURL, http.Header{"Origin": {"https://evil.example"}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("foreign origin: err %v, resp %v", err, resp)
		}
		c := webtest.Dial(t, in.WSURL, http.Header{"Origin": {in.URL}})
		c.Send(map[string]any{"type": "end"})
		c.Expect("error")
	})
}

func TestRateLimitCloses(t *testing.T) {
	in := webtest.Start(t, webtest.Options{Backend: redistest.Mini(t), Web: web.Config{MessagesPerSecond: 0.1, Burst: 2, MaxViolations: 3}})
	c := webtest.Dial(t, in.WSURL, nil)
	codes := []string{}
	for range 5 {
		c.Send(map[string]any{"type": "end"})
		f, err := c.TryNext()
		if err != nil {
			break
		}
		codes = append(codes, f.Str("code"))
	}
	if want := "no_session no_session rate_limited rate_limited rate_limited"; strings.Join(codes, " ") != want {
		t.Fatalf("codes = %v, want %s", codes, want)
	}
	c.Send(map[string]any{"type": "end"})
	assertClose(t, c, websocket.ClosePolicyViolation)
}

func TestSlowConsumerIsDisconnected(t *testing.T) {
	in := webtest.Start(t, webtest.Options{Backend: redistest.Mini(t), Web: web.Config{SendBuffer: 4, MessagesPerSecond: 1e9, Burst: 1 << 30, WriteWait: 200 * time.Millisecond}})
	c := webtest.Dial(t, in.WSURL, nil)
	_ = c.Conn.UnderlyingConn().(*net.TCPConn).SetReadBuffer(1024)
	// Ask for errors far faster than we read them; never read.
	stop := time.Now().Add(10 * time.Second)
	for time.Now().Before(stop) {
		if err := c.Conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"bogus-`+strings.Repeat("x", 30)+`"}`)); err != nil {
			return // the server closed us
		}
	}
	t.Fatal("a client that never reads was not disconnected")
}

func TestGracefulShutdownSays1001(t *testing.T) {
	slow := &slowAssessor{started: make(chan struct{})}
	in := webtest.Start(t, webtest.Options{Backend: redistest.Mini(t),
		Assessor: func(rules simulator.Assessor) simulator.Assessor { slow.Assessor = rules; return slow }})
	c := webtest.Dial(t, in.WSURL, nil)
	session, _ := c.Start(scenarioEN, nil)
	c.Send(map[string]any{"type": "reply", "id": "r1", "text": goodReplies[0]})
	<-slow.started // the turn is in flight
	go in.Stop()
	var types []string
	for {
		f, err := c.TryNext()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
				t.Fatalf("closed with %v after %v, want 1001", err, types)
			}
			break
		}
		types = append(types, f.Type())
	}
	if len(types) < 2 || types[0] != "ack" || types[len(types)-1] != "customer" {
		t.Fatalf("before the close the client got %v, want the in-flight turn's frames", types)
	}
	s, err := in.Sim.Load(context.Background(), session.Str("session"))
	if err != nil || s.Turns() != 1 {
		t.Fatalf("in-flight reply not stored: %v", err)
	}
}

// slowAssessor holds a turn in flight long enough to shut down under it.
type slowAssessor struct {
	simulator.Assessor
	once    sync.Once
	started chan struct{}
}

func (s *slowAssessor) Assess(ctx context.Context, r simulator.AssessRequest) (simulator.Assessment, error) {
	s.once.Do(func() { close(s.started) })
	time.Sleep(300 * time.Millisecond)
	return s.Assessor.Assess(ctx, r)
}

func TestHTTPAPI(t *testing.T) {
	in := webtest.Start(t, webtest.Options{Backend: redistest.Mini(t)})
	var list []web.ScenarioSummary
	getJSON(t, in.URL+"/api/scenarios", "", &list)
	if len(list) < 2 {
		t.Fatalf("got %d scenarios", len(list))
	}
	for _, s := range list {
		if s.ID == "" || s.Title == "" || !s.Lang.Valid() || len(s.Langs) == 0 || s.Persona == "" {
			t.Errorf("incomplete scenario summary %+v", s)
		}
	}
	raw := getBody(t, in.URL+"/api/scenarios/"+scenarioEN)
	sc, err := in.Library.Scenario(t.Context(), scenarioEN)
	if err != nil || len(sc.HiddenFacts) == 0 {
		t.Fatalf("scenario %s should have hidden facts: %v", scenarioEN, err)
	}
	for _, f := range sc.HiddenFacts {
		for _, text := range f.Text {
			if strings.Contains(raw, text) {
				t.Errorf("scenario view leaks hidden fact %q", f.ID)
			}
		}
	}
	var view web.ScenarioView
	getJSON(t, in.URL+"/api/scenarios/"+scenarioEN, "", &view)
	if view.Brief.Situation == "" || view.Brief.CustomerName == "" {
		t.Errorf("scenario view without brief: %+v", view)
	}
	if code := getStatus(t, in.URL+"/api/scenarios/nope", ""); code != http.StatusNotFound {
		t.Errorf("unknown scenario: %d", code)
	}
	var personas []web.PersonaView
	getJSON(t, in.URL+"/api/personas", "", &personas)
	if len(personas) < 3 {
		t.Errorf("got %d personas", len(personas))
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if code := getStatus(t, in.URL+p, ""); code != http.StatusOK {
			t.Errorf("%s: %d", p, code)
		}
	}
	resp, err := http.Get(in.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
	metrics := getBody(t, in.URL+"/metrics")
	for _, m := range []string{"sparring_ws_connections", "sparring_turn_latency_seconds", "sparring_sessions_active"} {
		if !strings.Contains(metrics, m) {
			t.Errorf("metrics lack %s", m)
		}
	}
}

func TestReadyzReportsStorage(t *testing.T) {
	b := redistest.Mini(t)
	in := webtest.Start(t, webtest.Options{Backend: b})
	b.Mini.Close()
	if code := getStatus(t, in.URL+"/readyz", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("readyz with storage down = %d, want 503", code)
	}
}

func assertClose(t *testing.T, c *webtest.Client, code int) {
	t.Helper()
	for {
		_, err := c.TryNext()
		if err == nil {
			continue
		}
		if !websocket.IsCloseError(err, code) {
			t.Fatalf("closed with %v, want close code %d", err, code)
		}
		return
	}
}

func loadSeq(t *testing.T, in *webtest.Instance, id string) int {
	t.Helper()
	s, err := in.Sim.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s.LastSeq()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func getStatus(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func getJSON(t *testing.T, url, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// TestReplayLongerThanSendBuffer: a resume replays every event even when the
// log is far longer than the connection's send buffer.
func TestReplayLongerThanSendBuffer(t *testing.T) {
	in := webtest.Start(t, webtest.Options{Backend: redistest.Mini(t), Web: web.Config{SendBuffer: 2, MessagesPerSecond: 100, Burst: 100}})
	c := webtest.Dial(t, in.WSURL, nil)
	session, _ := c.Start(scenarioEN, nil)
	last := 0
	for i := range 3 {
		frames := c.Reply(fmt.Sprint("r", i), goodReplies[i])
		last = frames[len(frames)-1].Seq()
	}
	c2 := webtest.Dial(t, in.WSURL, nil)
	c2.Send(map[string]any{"type": "resume", "session": session.Str("session"), "token": session.Str("token"), "after": 0})
	c2.Expect("session")
	var got []webtest.Frame
	for len(got) < last {
		got = append(got, c2.Next())
	}
	seqs(t, got, 1)
}

func TestStartingAnotherSessionAbandonsTheFirst(t *testing.T) {
	in := webtest.Start(t, webtest.Options{Backend: redistest.Mini(t)})
	c := webtest.Dial(t, in.WSURL, nil)
	first, _ := c.Start(scenarioEN, nil)
	c.Reply("r1", goodReplies[0])
	second, _ := c.Start(scenarioZH, nil)
	if first.Str("session") == second.Str("session") {
		t.Fatal("second start reused the session")
	}
	s, err := in.Sim.Load(t.Context(), first.Str("session"))
	if err != nil {
		t.Fatal(err)
	}
	last := s.Events[len(s.Events)-2]
	if s.State != simulator.StateEnded || last.Type != simulator.EventEnd || last.Outcome != simulator.OutcomeAbandoned {
		t.Fatalf("first session: state %s, last events %+v", s.State, s.Events[len(s.Events)-2:])
	}
}

package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/redisstore"
	"github.com/sparring-gym/sparring/simulator/redisstore/redistest"
)

var t0 = time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)

// newSession is a fresh session whose log holds the customer's opening line.
func newSession(id string) *simulator.Session {
	return &simulator.Session{
		ID:              id,
		TokenHash:       "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		ScenarioID:      "late-delivery",
		ScenarioVersion: 3,
		PersonaID:       "angry-regular",
		Trainee:         "李雷",
		Mode:            simulator.ModeCoach,
		Engine:          simulator.EngineScripted,
		Lang:            simulator.LangZH,
		Seed:            42,
		Created:         t0,
		State:           simulator.StateActive,
		CustomerState:   []byte(`{"anger":70}`),
		Events: []simulator.Event{{
			Seq: 1, Type: simulator.EventCustomer, Turn: 0, At: t0,
			Text: "我的快递又晚了三天!", Mood: &simulator.Mood{Anger: 70, Trust: 20},
		}},
	}
}

// replyCommit is what a trainee reply produces: its ack and the customer's answer.
func replyCommit(after int, replyID, text string) simulator.Commit {
	at := t0.Add(time.Duration(after) * time.Second)
	return simulator.Commit{
		After:   after,
		ReplyID: replyID,
		Events: []simulator.Event{
			{Seq: after + 1, Type: simulator.EventAck, Turn: after/2 + 1, At: at, Text: text, ReplyID: replyID,
				Assessment: &simulator.Assessment{Steps: []simulator.Step{simulator.StepReceive}, Score: 60, Verdict: simulator.VerdictOK}},
			{Seq: after + 2, Type: simulator.EventCustomer, Turn: after/2 + 1, At: at, Text: "reply to " + text,
				Mood: &simulator.Mood{Anger: 60, Trust: 30}},
		},
		State:         simulator.StateActive,
		CustomerState: []byte(fmt.Sprintf(`{"after":%d}`, after)),
	}
}

func mustCreate(t *testing.T, s *redisstore.Store, sess *simulator.Session) {
	t.Helper()
	if err := s.Create(t.Context(), sess); err != nil {
		t.Fatalf("Create(%s): %v", sess.ID, err)
	}
}

func mustLoad(t *testing.T, s *redisstore.Store, id string) *simulator.Session {
	t.Helper()
	sess, err := s.Load(t.Context(), id)
	if err != nil {
		t.Fatalf("Load(%s): %v", id, err)
	}
	return sess
}

func seqs(events []simulator.Event) []int {
	out := make([]int, len(events))
	for i, e := range events {
		out[i] = e.Seq
	}
	return out
}

func TestCreateLoadRoundTrip(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		s := b.Store(t, time.Hour)
		want := newSession("s-roundtrip")
		want.Deadline = t0.Add(10 * time.Minute)
		want.Contest = "c1"
		mustCreate(t, s, want)

		got := mustLoad(t, s, want.ID)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Load after Create (-want +got):\n%s", diff)
		}

		err := s.Create(t.Context(), newSession(want.ID))
		if !errors.Is(err, redisstore.ErrSessionExists) {
			t.Errorf("second Create with the same id: err = %v, want ErrSessionExists", err)
		}
		if got := mustLoad(t, s, want.ID); !cmp.Equal(want, got) {
			t.Errorf("a refused Create changed the stored session")
		}
	})
}

func TestCreateValidates(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		s := b.Store(t, time.Hour)
		badSeq := newSession("s-badseq")
		badSeq.Events[0].Seq = 2
		braces := newSession("s-{x}")
		for name, sess := range map[string]*simulator.Session{
			"nil": nil, "empty id": newSession(""), "seq not 1": badSeq, "brace in id": braces,
		} {
			if err := s.Create(t.Context(), sess); !errors.Is(err, redisstore.ErrInvalidCommit) {
				t.Errorf("%s: err = %v, want ErrInvalidCommit", name, err)
			}
		}
		if _, err := s.Load(t.Context(), "s-badseq"); !errors.Is(err, simulator.ErrSessionNotFound) {
			t.Errorf("an invalid Create stored something: Load err = %v", err)
		}
	})
}

func TestAppendOrdering(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		s := b.Store(t, time.Hour)
		sess := newSession("s-order")
		mustCreate(t, s, sess)
		want := slices.Clone(sess.Events)
		after := 1
		for i := range 5 {
			c := replyCommit(after, fmt.Sprintf("r%d", i), fmt.Sprintf("reply %d", i))
			if i == 4 {
				c.State = simulator.StateEnded
				c.Events = append(c.Events, simulator.Event{Seq: after + 3, Type: simulator.EventEnd, Turn: 3, At: t0, Outcome: simulator.OutcomeResolved})
			}
			if err := s.Append(t.Context(), sess.ID, c); err != nil {
				t.Fatalf("Append %d: %v", i, err)
			}
			want = append(want, c.Events...)
			after += len(c.Events)
		}
		got := mustLoad(t, s, sess.ID)
		if diff := cmp.Diff(want, got.Events); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		if got.State != simulator.StateEnded {
			t.Errorf("State = %q, want %q", got.State, simulator.StateEnded)
		}
		if string(got.CustomerState) != `{"after":9}` {
			t.Errorf("CustomerState = %s, want the last commit's", got.CustomerState)
		}
		if got.LastSeq() != 12 || got.Turns() != 5 {
			t.Errorf("LastSeq, Turns = %d, %d; want 12, 5", got.LastSeq(), got.Turns())
		}
	})
}

func TestAppendKeepsStateWhenUnset(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		s := b.Store(t, time.Hour)
		sess := newSession("s-keep")
		mustCreate(t, s, sess)
		c := simulator.Commit{After: 1, Events: []simulator.Event{{Seq: 2, Type: simulator.EventNote, At: t0, Kind: "paste", Text: "pasted"}}}
		if err := s.Append(t.Context(), sess.ID, c); err != nil {
			t.Fatal(err)
		}
		got := mustLoad(t, s, sess.ID)
		if got.State != simulator.StateActive || string(got.CustomerState) != string(sess.CustomerState) {
			t.Errorf("state, customer state = %q, %s; want them unchanged (%q, %s)", got.State, got.CustomerState, sess.State, sess.CustomerState)
		}
	})
}

func TestAppendDuplicateReply(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		s := b.Store(t, time.Hour)
		sess := newSession("s-dup")
		mustCreate(t, s, sess)
		first := replyCommit(1, "reply-1", "sorry for the delay")
		if err := s.Append(t.Context(), sess.ID, first); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			c    simulator.Commit
		}{
			{"resent with the same after", replyCommit(1, "reply-1", "sorry for the delay")},
			{"resent after the log moved on", replyCommit(3, "reply-1", "sorry for the delay")},
		} {
			err := s.Append(t.Context(), sess.ID, tc.c)
			if !errors.Is(err, simulator.ErrDuplicateReply) {
				t.Errorf("%s: err = %v, want ErrDuplicateReply", tc.name, err)
			}
			if errors.Is(err, simulator.ErrConflict) {
				t.Errorf("%s: a duplicate is also reported as a conflict", tc.name)
			}
		}
		got := mustLoad(t, s, sess.ID)
		if diff := cmp.Diff([]int{1, 2, 3}, seqs(got.Events)); diff != "" {
			t.Errorf("seqs after resends (-want +got):\n%s", diff)
		}
		evs, ok := got.ReplyEvents("reply-1")
		if !ok || len(evs) != 2 || evs[0].Seq != 2 {
			t.Errorf("ReplyEvents(reply-1) = %v, %v; want the ack at seq 2 and its answer", evs, ok)
		}
		_, _, repliesKey := s.Keys(sess.ID)
		seq, err := b.Client(t).HGet(t.Context(), repliesKey, "reply-1").Int()
		if err != nil || seq != 2 {
			t.Errorf("replies[reply-1] = %d, %v; want the ack's seq 2", seq, err)
		}
	})
}

func TestAppendConflict(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		s := b.Store(t, time.Hour)
		sess := newSession("s-conflict")
		mustCreate(t, s, sess)
		if err := s.Append(t.Context(), sess.ID, replyCommit(1, "a", "first")); err != nil {
			t.Fatal(err)
		}
		for _, after := range []int{0, 1, 2, 4, 100} {
			err := s.Append(t.Context(), sess.ID, replyCommit(after, fmt.Sprintf("b%d", after), "stale"))
			if !errors.Is(err, simulator.ErrConflict) {
				t.Errorf("After=%d with the log at 3: err = %v, want ErrConflict", after, err)
			}
		}
		got := mustLoad(t, s, sess.ID)
		if diff := cmp.Diff([]int{1, 2, 3}, seqs(got.Events)); diff != "" {
			t.Errorf("a refused Append changed the log (-want +got):\n%s", diff)
		}
		// A refused reply id was not recorded: it can be stored once the writer catches up.
		if err := s.Append(t.Context(), sess.ID, replyCommit(3, "b1", "retried")); err != nil {
			t.Errorf("retry of a refused reply id: %v", err)
		}
	})
}

func TestAppendRejectsBadCommits(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		s := b.Store(t, time.Hour)
		sess := newSession("s-bad")
		mustCreate(t, s, sess)
		gap := replyCommit(1, "g", "gap")
		gap.Events[1].Seq = 4
		wrongStart := replyCommit(1, "w", "wrong start")
		wrongStart.Events[0].Seq, wrongStart.Events[1].Seq = 1, 2
		negative := replyCommit(1, "n", "negative")
		negative.After = -1
		for name, c := range map[string]simulator.Commit{"gap": gap, "wrong start": wrongStart, "negative after": negative} {
			if err := s.Append(t.Context(), sess.ID, c); !errors.Is(err, redisstore.ErrInvalidCommit) {
				t.Errorf("%s: err = %v, want ErrInvalidCommit", name, err)
			}
		}
		if got := mustLoad(t, s, sess.ID); got.LastSeq() != 1 {
			t.Errorf("bad commits changed the log: LastSeq = %d", got.LastSeq())
		}
	})
}

func TestMissingSession(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		s := b.Store(t, time.Hour)
		if _, err := s.Load(t.Context(), "nobody"); !errors.Is(err, simulator.ErrSessionNotFound) {
			t.Errorf("Load: err = %v, want ErrSessionNotFound", err)
		}
		err := s.Append(t.Context(), "nobody", replyCommit(1, "r", "hello?"))
		if !errors.Is(err, redisstore.ErrSessionMissing) || !errors.Is(err, simulator.ErrSessionNotFound) {
			t.Errorf("Append: err = %v, want ErrSessionMissing matching ErrSessionNotFound", err)
		}
		meta, log, replies := s.Keys("nobody")
		n, err := b.Client(t).Exists(t.Context(), meta, log, replies).Result()
		if err != nil || n != 0 {
			t.Errorf("Append to a missing session created %d keys (%v)", n, err)
		}
	})
}

// TestConcurrentAppends races writers on one session, each retrying on
// conflict as the turn loop does: the log must come out gapless, each reply
// exactly once, and a reply id sent by two writers stored once.
func TestConcurrentAppends(t *testing.T) {
	const writers = 8
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		s := b.Store(t, time.Hour)
		sess := newSession("s-race")
		mustCreate(t, s, sess)
		ctx := t.Context()
		var wg sync.WaitGroup
		results := make([]error, writers+1)
		conflicts := make([]int, writers+1)
		start := make(chan struct{})
		for w := range writers + 1 {
			// The extra writer resends writer 0's reply id.
			id := fmt.Sprintf("reply-%d", w%writers)
			wg.Go(func() {
				<-start
				for {
					cur, err := s.Load(ctx, sess.ID)
					if err != nil {
						results[w] = err
						return
					}
					err = s.Append(ctx, sess.ID, replyCommit(cur.LastSeq(), id, fmt.Sprintf("writer %d", w)))
					if errors.Is(err, simulator.ErrConflict) {
						conflicts[w]++
						continue
					}
					results[w] = err
					return
				}
			})
		}
		close(start)
		wg.Wait()

		dups := 0
		for w, err := range results {
			switch {
			case err == nil:
			case errors.Is(err, simulator.ErrDuplicateReply) && (w == 0 || w == writers):
				dups++
			default:
				t.Errorf("writer %d: %v", w, err)
			}
		}
		if dups != 1 {
			t.Errorf("%d writers of reply-0 saw ErrDuplicateReply, want exactly 1", dups)
		}
		got := mustLoad(t, s, sess.ID)
		wantSeqs := make([]int, 1+2*writers)
		for i := range wantSeqs {
			wantSeqs[i] = i + 1
		}
		if diff := cmp.Diff(wantSeqs, seqs(got.Events)); diff != "" {
			t.Errorf("seqs (-want +got):\n%s", diff)
		}
		seen := map[string]int{}
		for _, e := range got.Events {
			if e.Type == simulator.EventAck {
				seen[e.ReplyID]++
			}
		}
		for w := range writers {
			if id := fmt.Sprintf("reply-%d", w); seen[id] != 1 {
				t.Errorf("%s stored %d times, want 1", id, seen[id])
			}
		}
		t.Logf("conflicts retried per writer: %v", conflicts)
	})
}

func TestTTLSlides(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		ctx := t.Context()
		rdb := b.Client(t)
		if b.Mini != nil {
			const ttl = 10 * time.Second
			s := redisstore.New(rdb, ttl, b.Prefix)
			mustCreate(t, s, newSession("s-ttl"))
			b.Mini.FastForward(7 * time.Second)
			if err := s.Append(ctx, "s-ttl", replyCommit(1, "r1", "still here")); err != nil {
				t.Fatal(err)
			}
			b.Mini.FastForward(7 * time.Second) // 14 s after Create, 7 s after the last write
			if got := mustLoad(t, s, "s-ttl"); got.LastSeq() != 3 {
				t.Fatalf("after a write the session should live on: LastSeq = %d", got.LastSeq())
			}
			b.Mini.FastForward(4 * time.Second) // 11 s after the last write
			if _, err := s.Load(ctx, "s-ttl"); !errors.Is(err, simulator.ErrSessionNotFound) {
				t.Errorf("Load after the TTL: err = %v, want ErrSessionNotFound", err)
			}
			if err := s.Append(ctx, "s-ttl", replyCommit(3, "r2", "late")); !errors.Is(err, redisstore.ErrSessionMissing) {
				t.Errorf("Append after the TTL: err = %v, want ErrSessionMissing", err)
			}
			return
		}

		// Real Redis keeps time itself: check the TTL values a write leaves.
		const ttl = time.Minute
		s := redisstore.New(rdb, ttl, b.Prefix)
		mustCreate(t, s, newSession("s-ttl"))
		meta, log, replies := s.Keys("s-ttl")
		for _, k := range []string{meta, log} {
			if d := rdb.PTTL(ctx, k).Val(); d <= ttl-5*time.Second || d > ttl {
				t.Errorf("after Create, PTTL(%s) = %s, want about %s", k, d, ttl)
			}
			rdb.PExpire(ctx, k, 2*time.Second)
		}
		if err := s.Append(ctx, "s-ttl", replyCommit(1, "r1", "refresh")); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{meta, log, replies} {
			if d := rdb.PTTL(ctx, k).Val(); d <= ttl-5*time.Second || d > ttl {
				t.Errorf("after Append, PTTL(%s) = %s, want it refreshed to about %s", k, d, ttl)
			}
		}

		// And a session really expires.
		short := redisstore.New(rdb, 300*time.Millisecond, b.Prefix)
		mustCreate(t, short, newSession("s-short"))
		time.Sleep(600 * time.Millisecond)
		if _, err := short.Load(ctx, "s-short"); !errors.Is(err, simulator.ErrSessionNotFound) {
			t.Errorf("Load after the TTL: err = %v, want ErrSessionNotFound", err)
		}
	})
}

func TestNoTTLKeepsSessions(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		rdb := b.Client(t)
		s := redisstore.New(rdb, 0, b.Prefix)
		mustCreate(t, s, newSession("s-forever"))
		if err := s.Append(t.Context(), "s-forever", replyCommit(1, "r", "x")); err != nil {
			t.Fatal(err)
		}
		meta, log, replies := s.Keys("s-forever")
		for _, k := range []string{meta, log, replies} {
			if d := rdb.TTL(t.Context(), k).Val(); d != -1 {
				t.Errorf("TTL(%s) = %v, want none (-1)", k, d)
			}
		}
	})
}

// tripCounter is a go-redis hook counting round trips: each command sent on
// its own is one, each pipeline (MULTI/EXEC included) is one.
type tripCounter struct {
	mu    sync.Mutex
	trips []string
}

func (h *tripCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *tripCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.record(cmd.Name())
		return next(ctx, cmd)
	}
}

func (h *tripCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, len(cmds))
		for i, c := range cmds {
			names[i] = c.Name()
		}
		h.record("pipeline[" + strings.Join(names, " ") + "]")
		return next(ctx, cmds)
	}
}

func (h *tripCounter) record(s string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.trips = append(h.trips, s)
}

// take returns and clears the round trips seen so far.
func (h *tripCounter) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.trips
	h.trips = nil
	return t
}

func TestRoundTrips(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		ctx := t.Context()
		rdb := b.Client(t)
		// On miniredis, start with no cached scripts so the cold path is seen.
		// Never on the shared real Redis: other packages' tests counting round
		// trips at the same moment would see a NOSCRIPT fallback.
		if b.Mini != nil {
			if err := rdb.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		}
		// Open both pools' connections (go-redis keeps a separate one for
		// pipelines) outside the count: HELLO and CLIENT SETINFO are paid once
		// per connection, not per request.
		if err := rdb.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error { return p.Ping(ctx).Err() }); err != nil {
			t.Fatal(err)
		}
		h := &tripCounter{}
		rdb.AddHook(h)
		s := redisstore.New(rdb, time.Hour, b.Prefix)

		mustCreate(t, s, newSession("s-trips"))
		cold := h.take()
		if len(cold) > 2 {
			t.Errorf("cold Create took %d round trips %v, want at most 2 (EVALSHA, then EVAL on NOSCRIPT)", len(cold), cold)
		}
		if err := s.Append(ctx, "s-trips", replyCommit(1, "r1", "one")); err != nil {
			t.Fatal(err)
		}
		if trips := h.take(); len(trips) > 2 {
			t.Errorf("cold Append took %d round trips %v, want at most 2", len(trips), trips)
		}

		// Steady state: every reply is exactly one round trip.
		after := 3
		for i := range 5 {
			if err := s.Append(ctx, "s-trips", replyCommit(after, fmt.Sprintf("r%d", i+2), "steady")); err != nil {
				t.Fatal(err)
			}
			after += 2
			if trips := h.take(); !slices.Equal(trips, []string{"evalsha"}) {
				t.Errorf("steady Append %d: round trips %v, want exactly [evalsha]", i, trips)
			}
		}
		// Refusals are one round trip too.
		for name, c := range map[string]simulator.Commit{
			"duplicate": replyCommit(after, "r2", "again"),
			"conflict":  replyCommit(1, "r-new", "stale"),
		} {
			_ = s.Append(ctx, "s-trips", c)
			if trips := h.take(); len(trips) != 1 {
				t.Errorf("%s Append: round trips %v, want 1", name, trips)
			}
		}
		if _, err := s.Load(ctx, "s-trips"); err != nil {
			t.Fatal(err)
		}
		if trips := h.take(); len(trips) != 1 {
			t.Errorf("Load: round trips %v, want 1", trips)
		}
		mustCreate(t, s, newSession("s-trips-2"))
		if trips := h.take(); len(trips) != 1 {
			t.Errorf("warm Create: round trips %v, want 1", trips)
		}
	})
}

func TestPreloadMakesFirstAppendOneTrip(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		ctx := t.Context()
		rdb := b.Client(t)
		if b.Mini != nil { // never on the shared real Redis (see TestRoundTrips)
			if err := rdb.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		}
		s := redisstore.New(rdb, time.Hour, b.Prefix)
		if err := s.Preload(ctx); err != nil {
			t.Fatal(err)
		}
		h := &tripCounter{}
		rdb.AddHook(h)
		mustCreate(t, s, newSession("s-preload"))
		if err := s.Append(ctx, "s-preload", replyCommit(1, "r1", "first")); err != nil {
			t.Fatal(err)
		}
		if trips := h.take(); !slices.Equal(trips, []string{"evalsha", "evalsha"}) {
			t.Errorf("Create + Append after Preload: round trips %v, want [evalsha evalsha]", trips)
		}
	})
}

// cutProxy forwards TCP to a backend until cut, so a test can take "Redis"
// away from a client without stopping a server other tests share.
type cutProxy struct {
	ln      net.Listener
	stalled atomic.Bool
	mu      sync.Mutex
	conns   []net.Conn
	cut     bool
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln}
	t.Cleanup(p.Cut)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			if p.cut {
				p.mu.Unlock()
				c.Close()
				up.Close()
				return
			}
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go p.pipe(c, up)
			go p.pipe(up, c)
		}
	}()
	return p
}

func (p *cutProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.stalled.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

func (p *cutProxy) Addr() string { return p.ln.Addr().String() }

// Stall keeps connections open but drops everything sent on them, like a
// server that stopped answering.
func (p *cutProxy) Stall() { p.stalled.Store(true) }

// Cut closes the listener and every forwarded connection.
func (p *cutProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
}

// blackhole accepts connections and never answers, like a host that went
// away without resetting them.
func blackhole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return ln.Addr().String()
}

func shortClient(t *testing.T, addr string) redis.UniversalClient {
	t.Helper()
	c := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:        []string{addr},
		DialTimeout:  300 * time.Millisecond,
		ReadTimeout:  300 * time.Millisecond,
		WriteTimeout: 300 * time.Millisecond,
		MaxRetries:   -1,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestRedisDown(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		isDomain := func(err error) bool {
			return errors.Is(err, simulator.ErrConflict) || errors.Is(err, simulator.ErrDuplicateReply) ||
				errors.Is(err, simulator.ErrSessionNotFound) || errors.Is(err, redisstore.ErrInvalidCommit)
		}
		check := func(t *testing.T, s *redisstore.Store, after int) {
			t.Helper()
			begin := time.Now()
			err := s.Append(t.Context(), "s-down", replyCommit(after, "r-down", "anyone there?"))
			if err == nil || isDomain(err) {
				t.Errorf("Append with Redis gone: err = %v, want a storage error", err)
			}
			if _, err := s.Load(t.Context(), "s-down"); err == nil || isDomain(err) {
				t.Errorf("Load with Redis gone: err = %v, want a storage error", err)
			}
			if d := time.Since(begin); d > 3*time.Second {
				t.Errorf("failing took %s; the client timeouts should bound it", d)
			}
		}

		t.Run("connection cut", func(t *testing.T) {
			p := newCutProxy(t, b.Addr)
			s := redisstore.New(shortClient(t, p.Addr()), time.Hour, b.Prefix)
			mustCreate(t, s, newSession("s-down"))
			p.Cut()
			check(t, s, 1)
		})
		t.Run("no answer", func(t *testing.T) {
			s := redisstore.New(shortClient(t, blackhole(t)), time.Hour, b.Prefix)
			check(t, s, 1)
		})
		t.Run("stalled, request context deadline", func(t *testing.T) {
			// The client Open builds must give up when the turn's context
			// does, not after go-redis's own multi-second read timeout.
			p := newCutProxy(t, b.Addr)
			o := b.Options()
			o.Addrs, o.TTL = []string{p.Addr()}, time.Hour
			be, err := redisstore.Open(t.Context(), o, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = be.Close() })
			s := be.Store()
			mustCreate(t, s, newSession("s-stall"))
			p.Stall()
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel()
			begin := time.Now()
			err = s.Append(ctx, "s-stall", replyCommit(1, "r", "x"))
			if d := time.Since(begin); err == nil || isDomain(err) || d > time.Second {
				t.Errorf("Append past its deadline: err = %v after %s, want a storage error within about 200ms", err, d)
			}
		})
	})
}

func TestCorruptLog(t *testing.T) {
	redistest.Run(t, func(t *testing.T, b redistest.Backend) {
		rdb := b.Client(t)
		s := redisstore.New(rdb, time.Hour, b.Prefix)
		mustCreate(t, s, newSession("s-corrupt"))
		_, log, _ := s.Keys("s-corrupt")
		rdb.RPush(t.Context(), log, `{"seq":7,"type":"note"}`)
		if _, err := s.Load(t.Context(), "s-corrupt"); !errors.Is(err, redisstore.ErrCorrupt) {
			t.Errorf("Load with a misplaced seq: err = %v, want ErrCorrupt", err)
		}
	})
}

func TestKeysShareOneHashTag(t *testing.T) {
	s := redisstore.New(nil, 0, "sparring:")
	meta, log, replies := s.Keys("abc123")
	for _, k := range []string{meta, log, replies} {
		if !strings.HasPrefix(k, "sparring:sess:{abc123}:") {
			t.Errorf("key %q is not under the session's hash tag", k)
		}
	}
}

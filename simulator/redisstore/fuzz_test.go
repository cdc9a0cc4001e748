package redisstore_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/redisstore"
	"github.com/sparring-gym/sparring/simulator/redisstore/redistest"
)

// FuzzAppendRoundTrip feeds arbitrary session ids, reply ids, texts and
// persona state through Create, Append and Load: whatever goes in comes back
// as JSON would carry it, a resend is refused, and a refused or invalid
// write leaves storage as it was.
func FuzzAppendRoundTrip(f *testing.F) {
	f.Add("s1", "r1", "sorry about that", []byte(`{"anger":50}`))
	f.Add("会话-一", "回复-1", "非常抱歉给您带来不便", []byte{})
	f.Add("a}b", "", "", []byte(nil))
	f.Add("{x}", "r", "brace", []byte("\x00\xff"))
	f.Add("s2", "r\x00\r\n*1\r\n$4\r\nPING", "'; return {'ok',1} --", []byte("\xed\xa0\x80"))
	f.Add("s3", strings.Repeat("r", 300), strings.Repeat("长", 2000), []byte("x"))
	backends := redistest.Backends(f)
	clients := make([]redis.UniversalClient, len(backends))
	for i, b := range backends {
		clients[i] = b.Client(f)
	}
	n := 0
	f.Fuzz(func(t *testing.T, id, replyID, text string, customerState []byte) {
		n++
		for i, b := range backends {
			// A fresh namespace each run, so repeated ids do not collide.
			s := redisstore.New(clients[i], time.Hour, fmt.Sprintf("%sf%d:", b.Prefix, n))
			fuzzOne(t, b.Name, s, id, replyID, text, customerState)
			meta, log, replies := s.Keys(id)
			if err := clients[i].Del(t.Context(), meta, log, replies).Err(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func fuzzOne(t *testing.T, backend string, s *redisstore.Store, id, replyID, text string, customerState []byte) {
	ctx := t.Context()
	sess := newSession(id)
	sess.Trainee = text
	sess.CustomerState = customerState
	err := s.Create(ctx, sess)
	if id == "" || strings.ContainsAny(id, "{}") {
		if !errors.Is(err, redisstore.ErrInvalidCommit) {
			t.Fatalf("%s: Create(%q): err = %v, want ErrInvalidCommit", backend, id, err)
		}
		if _, err := s.Load(ctx, id); !errors.Is(err, simulator.ErrSessionNotFound) {
			t.Fatalf("%s: Load(%q) after a refused Create: err = %v, want ErrSessionNotFound", backend, id, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: Create(%q): %v", backend, id, err)
	}
	c := replyCommit(1, replyID, text)
	c.CustomerState = customerState
	if err := s.Append(ctx, id, c); err != nil {
		t.Fatalf("%s: Append: %v", backend, err)
	}
	got, err := s.Load(ctx, id)
	if err != nil {
		t.Fatalf("%s: Load: %v", backend, err)
	}
	want := jsonRoundTrip(t, append(sess.Events, c.Events...))
	if diff := cmp.Diff(want, got.Events); diff != "" {
		t.Fatalf("%s: events (-want +got):\n%s", backend, diff)
	}
	if got.Trainee != jsonRoundTrip(t, text) {
		t.Fatalf("%s: Trainee = %q, want %q", backend, got.Trainee, text)
	}
	// Persona state is opaque bytes: it must come back exactly, not as JSON would.
	if customerState != nil && string(got.CustomerState) != string(customerState) {
		t.Fatalf("%s: CustomerState = %q, want %q", backend, got.CustomerState, customerState)
	}

	// Resend: a duplicate when it has an id, otherwise a stale After.
	err = s.Append(ctx, id, replyCommit(1, replyID, text+" again"))
	switch {
	case replyID != "" && !errors.Is(err, simulator.ErrDuplicateReply):
		t.Fatalf("%s: resend of %q: err = %v, want ErrDuplicateReply", backend, replyID, err)
	case replyID == "" && !errors.Is(err, simulator.ErrConflict):
		t.Fatalf("%s: stale append: err = %v, want ErrConflict", backend, err)
	}
	again, err := s.Load(ctx, id)
	if err != nil {
		t.Fatalf("%s: Load: %v", backend, err)
	}
	if again.LastSeq() != 3 {
		t.Fatalf("%s: a refused Append changed the log: LastSeq = %d, want 3", backend, again.LastSeq())
	}
}

// jsonRoundTrip returns v as it comes back from JSON (invalid UTF-8 becomes
// U+FFFD), which is how the store keeps texts.
func jsonRoundTrip[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

package redisstore_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/redisstore"
	"github.com/sparring-gym/sparring/simulator/redisstore/redistest"
)

func TestOpenEmbedded(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	b, err := redisstore.Open(t.Context(), redisstore.Options{TTL: 300 * time.Millisecond, Prefix: "sparring:"}, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !b.Embedded {
		t.Error("Embedded = false without addrs")
	}
	if out := logs.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "LOST when it exits") {
		t.Errorf("no loud warning that data is in memory only; logs:\n%s", out)
	}
	addr := b.Addrs()[0]
	if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
		t.Errorf("embedded server listens on %s, want loopback only", addr)
	}

	s := b.Store()
	mustCreate(t, s, newSession("s-embedded"))
	if err := s.Append(t.Context(), "s-embedded", replyCommit(1, "r", "hi")); err != nil {
		t.Fatal(err)
	}
	if got := mustLoad(t, s, "s-embedded"); got.LastSeq() != 3 {
		t.Errorf("LastSeq = %d, want 3", got.LastSeq())
	}
	meta, _, _ := s.Keys("s-embedded")
	if !strings.HasPrefix(meta, "sparring:") {
		t.Errorf("key %q lacks the configured prefix", meta)
	}
	// ClockTTL is on: the embedded server expires sessions by the wall clock.
	time.Sleep(600 * time.Millisecond)
	if _, err := s.Load(t.Context(), "s-embedded"); !errors.Is(err, simulator.ErrSessionNotFound) {
		t.Errorf("Load after the TTL on the embedded server: err = %v, want ErrSessionNotFound", err)
	}

	if err := b.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Errorf("embedded server still accepts connections at %s after Close", addr)
	}
}

func TestOpenAddrs(t *testing.T) {
	redistest.Run(t, func(t *testing.T, rb redistest.Backend) {
		o := rb.Options()
		o.TTL = time.Hour
		var logs bytes.Buffer
		b, err := redisstore.Open(t.Context(), o, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if b.Embedded {
			t.Error("Embedded = true with addrs")
		}
		if err := b.Ping(t.Context()); err != nil {
			t.Errorf("Ping: %v", err)
		}
		s := b.Store()
		if err := s.Preload(t.Context()); err != nil {
			t.Fatal(err)
		}
		mustCreate(t, s, newSession("s-open"))
		if got := mustLoad(t, s, "s-open"); got.ID != "s-open" {
			t.Errorf("Load ID = %q", got.ID)
		}
		// Open really used the backend: its keys are there under the prefix.
		meta, _, _ := s.Keys("s-open")
		if n := rb.Client(t).Exists(t.Context(), meta).Val(); n != 1 {
			t.Errorf("meta key %s not found on the backend", meta)
		}
		// make test runs Redis as production should (AOF, fsync always): no
		// durability warning. miniredis has no CONFIG: nothing to warn about.
		if strings.Contains(logs.String(), "lose acknowledged turns") {
			if cfg := rb.Client(t).ConfigGet(t.Context(), "appendfsync").Val(); rb.Real() && cfg["appendfsync"] != "always" {
				t.Skipf("this redis-server runs appendfsync %q; the warning is right", cfg["appendfsync"])
			}
			t.Errorf("unexpected durability warning:\n%s", logs.String())
		}
	})
}

func TestOpenUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	begin := time.Now()
	_, err = redisstore.Open(t.Context(), redisstore.Options{Addrs: []string{addr}}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("Open(%s) err = %v, want an error naming the address", addr, err)
	}
	if d := time.Since(begin); d > 6*time.Second {
		t.Errorf("Open took %s to fail", d)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    redisstore.Options
		want string // in the error; "" = valid
	}{
		{"embedded", redisstore.Options{}, ""},
		{"single", redisstore.Options{Addrs: []string{"r:6379"}, DB: 2}, ""},
		{"sentinel", redisstore.Options{Addrs: []string{"s1:26379", "s2:26379"}, MasterName: "mymaster", DB: 1}, ""},
		{"cluster", redisstore.Options{Addrs: []string{"c1:6379", "c2:6379"}}, ""},
		{"sentinel without addrs", redisstore.Options{MasterName: "m"}, "sentinel addresses"},
		{"cluster without addrs", redisstore.Options{ClusterMode: true}, "at least one cluster node"},
		{"both", redisstore.Options{Addrs: []string{"a:1"}, MasterName: "m", ClusterMode: true}, "choose one"},
		{"cluster db", redisstore.Options{Addrs: []string{"a:1", "b:1"}, DB: 3}, "db 0"},
		{"empty addr", redisstore.Options{Addrs: []string{" "}}, "addrs[0] is empty"},
		{"negative ttl", redisstore.Options{TTL: -time.Second}, "ttl"},
		{"brace prefix", redisstore.Options{Prefix: "a{b}:"}, "brace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate: %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate: %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

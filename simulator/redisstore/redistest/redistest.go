// Package redistest gives tests the two storage backends every storage-facing
// test runs against: an in-process miniredis and the real redis-server whose
// address is in SPARRING_TEST_REDIS_ADDR (`make test` starts one and sets
// SPARRING_REQUIRE_REDIS=1, which turns a missing address into a failure
// instead of a skip).
//
// Each Backend gets a key prefix unique to the test, so tests can share one
// real Redis, run in parallel, and clean up after themselves without
// FLUSHDB.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/sparring-gym/sparring/simulator/redisstore"
)

// Environment variables read by this package.
const (
	EnvAddr    = "SPARRING_TEST_REDIS_ADDR"
	EnvRequire = "SPARRING_REQUIRE_REDIS"
)

// Backend names a Redis a test can use.
type Backend struct {
	Name   string // "miniredis" or "redis"
	Addr   string // host:port
	Prefix string // key prefix unique to this test; pass it to the store
	// Mini is the embedded server (for FastForward, Close, SetError); nil
	// for real Redis.
	Mini *miniredis.Miniredis
}

// Real reports whether b is a real redis-server.
func (b Backend) Real() bool { return b.Mini == nil }

// Options returns redisstore options pointing at b with its prefix; add a
// TTL as needed.
func (b Backend) Options() redisstore.Options {
	return redisstore.Options{Addrs: []string{b.Addr}, Prefix: b.Prefix}
}

// Client returns a go-redis client for b, closed when the test ends. Short
// timeouts keep a broken backend from hanging a test.
func (b Backend) Client(tb testing.TB) redis.UniversalClient {
	tb.Helper()
	c := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:        []string{b.Addr},
		DialTimeout:  2 * time.Second,
		ReadTimeout:  2 * time.Second,
		WriteTimeout: 2 * time.Second,
	})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Store returns a session store on a fresh client for b, with b's prefix.
func (b Backend) Store(tb testing.TB, ttl time.Duration) *redisstore.Store {
	tb.Helper()
	return redisstore.New(b.Client(tb), ttl, b.Prefix)
}

// Run runs fn as one subtest per backend: "miniredis" always, "redis" when
// SPARRING_TEST_REDIS_ADDR is set. Without it the "redis" subtest is
// skipped, or fails when SPARRING_REQUIRE_REDIS=1.
func Run(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	t.Run("miniredis", func(t *testing.T) { fn(t, Mini(t)) })
	t.Run("redis", func(t *testing.T) {
		b, ok := Real(t)
		if !ok {
			t.Skipf("real Redis not configured: set %s=host:port to run this against redis-server (make test does)", EnvAddr)
		}
		fn(t, b)
	})
}

// Backends returns the miniredis backend and, when configured, the real one.
// Without SPARRING_TEST_REDIS_ADDR the real one is left out with a log line,
// or the test fails when SPARRING_REQUIRE_REDIS=1.
func Backends(tb testing.TB) []Backend {
	tb.Helper()
	bs := []Backend{Mini(tb)}
	if b, ok := Real(tb); ok {
		bs = append(bs, b)
	} else {
		tb.Logf("real Redis not configured: set %s=host:port to also test against redis-server", EnvAddr)
	}
	return bs
}

// Mini starts a miniredis for this test, stopped when it ends. Its clock
// stands still: use Mini.FastForward to expire keys.
func Mini(tb testing.TB) Backend {
	tb.Helper()
	m := miniredis.RunT(tb)
	return Backend{Name: "miniredis", Addr: m.Addr(), Prefix: prefix(tb), Mini: m}
}

// Real returns the real Redis backend when SPARRING_TEST_REDIS_ADDR is set;
// it fails the test when the address is set but does not answer, or is
// unset while SPARRING_REQUIRE_REDIS=1. Keys under the backend's prefix are
// deleted when the test ends.
func Real(tb testing.TB) (Backend, bool) {
	tb.Helper()
	addr := os.Getenv(EnvAddr)
	if addr == "" {
		if os.Getenv(EnvRequire) == "1" {
			tb.Fatalf("%s=1 but %s is empty: start a redis-server and export its address (make test does both)", EnvRequire, EnvAddr)
		}
		return Backend{}, false
	}
	b := Backend{Name: "redis", Addr: addr, Prefix: prefix(tb)}
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		tb.Fatalf("%s=%s does not answer PING: %v", EnvAddr, addr, err)
	}
	tb.Cleanup(func() {
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := deletePrefix(ctx, c, b.Prefix); err != nil {
			tb.Logf("redistest: cleaning keys %s*: %v", b.Prefix, err)
		}
	})
	return b, true
}

func deletePrefix(ctx context.Context, c *redis.Client, prefix string) error {
	it := c.Scan(ctx, 0, escapeGlob(prefix)+"*", 500).Iterator()
	var batch []string
	for it.Next(ctx) {
		batch = append(batch, it.Val())
		if len(batch) == 500 {
			if err := c.Unlink(ctx, batch...).Err(); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return c.Unlink(ctx, batch...).Err()
	}
	return nil
}

// prefix is "t:<test name>:<random>:"; the name helps when reading a
// leftover key, the random part keeps -count=N runs apart.
func prefix(tb testing.TB) string {
	var r [6]byte
	_, _ = rand.Read(r[:])
	name := strings.Map(func(c rune) rune {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '/':
			return c
		}
		return '_'
	}, tb.Name())
	return "t:" + name + ":" + hex.EncodeToString(r[:]) + ":"
}

func escapeGlob(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[]\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

package main

import (
	"context"
	"testing"
	"time"
)

// faultLines are good replies for p01 in English; a session ends after
// about seven of them and the trainee starts another.
var faultLines = trainerLines["en"][true]

// faultEnv runs the server on the given Redis with limits that let
// closed-loop clients through (the defaults allow 2 replies/s per connection).
func faultEnv(redisAddrs string) map[string]string {
	return map[string]string{
		"SPARRING_REDIS_ADDRS":            redisAddrs,
		"SPARRING_WS_MESSAGES_PER_SECOND": "1000",
		"SPARRING_WS_BURST":               "1000",
		"SPARRING_LOG_LEVEL":              "error",
		"SPARRING_SHUTDOWN_TIMEOUT":       "2s",
	}
}

func collect(t *testing.T, errc <-chan error) {
	t.Helper()
	for err := range errc {
		t.Error(err)
	}
}

// TestKillServerMidTurn kills the server with SIGKILL while 16 clients are
// mid-turn, starts it again on the same Redis, and checks that every reply
// any client saw acknowledged is stored exactly once.
func TestKillServerMidTurn(t *testing.T) {
	needRedisServer(t)
	rp := startRedisProc(t)
	srv := startServerProc(t, buildSparring(t), faultEnv(rp.addr()))
	ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
	defer cancel()
	stats := &faultStats{}
	stop := make(chan struct{})
	clients, errc := playUntil(ctx, 16, srv.wsURL, faultLines, stats, stop)

	stats.waitTurns(t, 64, 20*time.Second)
	srv.kill() // closed-loop clients always have replies in flight
	killedAt := stats.turns.Load()
	time.Sleep(200 * time.Millisecond)
	srv.start()
	restarted := time.Now()
	stats.waitTurns(t, 64, 20*time.Second)
	first, _ := stats.firstAfter(restarted)
	close(stop)
	collect(t, errc)

	acked, stored, reconnects := 0, 0, 0
	for _, c := range clients {
		a, s := c.verify(t, srv.wsURL())
		acked, stored, reconnects = acked+a, stored+s, reconnects+c.reconnects
	}
	if reconnects < len(clients) {
		t.Errorf("%d reconnects for %d clients: the kill did not cut every connection", reconnects, len(clients))
	}
	t.Logf("server kill -9: %d turns before the kill, %d acknowledged replies in all, %d stored (each once), 0 lost; %d reconnects; first turn answered %s after the restart",
		killedAt, acked, stored, reconnects, first.Sub(restarted).Round(time.Millisecond))
}

// TestKillRedisUnderLoad kills redis-server (AOF, appendfsync always) with
// SIGKILL under load: the server answers `unavailable` while it is down,
// recovers by itself within a second of Redis answering again, and no
// acknowledged reply is lost.
func TestKillRedisUnderLoad(t *testing.T) {
	needRedisServer(t)
	rp := startRedisProc(t)
	srv := startServerProc(t, buildSparring(t), faultEnv(rp.addr()))
	ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
	defer cancel()
	stats := &faultStats{}
	stop := make(chan struct{})
	clients, errc := playUntil(ctx, 16, srv.wsURL, faultLines, stats, stop)

	stats.waitTurns(t, 64, 20*time.Second)
	rp.kill()
	before := stats.unavailable.Load()
	// go-redis retries a failed command with backoff up to 1 s (its default
	// MaxRetryBackoff), so a request only comes back `unavailable` after
	// about a second; an outage of 2 s shows both sides.
	time.Sleep(2 * time.Second)
	back := rp.start() // same port and dir: Redis replays its AOF
	stats.waitTurns(t, 64, 20*time.Second)
	first, ok := stats.firstAfter(back)
	close(stop)
	collect(t, errc)
	if !ok {
		t.Fatal("no turn answered after Redis came back")
	}
	recovery := first.Sub(back)
	unavailable := stats.unavailable.Load() - before
	if unavailable == 0 {
		t.Error("no client was answered `unavailable` while Redis was down")
	}
	// go-redis probes a Redis it cannot dial once a second
	// (internal/pool/pool.go, tryDial), so recovery is that probe's phase
	// (0–1 s) plus one turn; 1.5 s keeps the test from flaking on it.
	if recovery > 1500*time.Millisecond {
		t.Errorf("first turn answered %s after Redis answered PING again, want ≤ 1s (+0.5 s slack)", recovery)
	}
	acked, stored := 0, 0
	for _, c := range clients {
		a, s := c.verify(t, srv.wsURL())
		acked, stored = acked+a, stored+s
	}
	t.Logf("redis kill -9 (AOF always): %d `unavailable` answers while down; recovered %s after Redis answered PING; %d acknowledged replies, %d stored (each once), 0 lost",
		unavailable, recovery.Round(time.Millisecond), acked, stored)
}

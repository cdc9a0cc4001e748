package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/redisstore"
	"github.com/sparring-gym/sparring/simulator/redisstore/redistest"
)

// ownRedis is a redis-server this test starts and may kill: the shared test
// server cannot be killed under other packages' tests.
type ownRedis struct {
	t    *testing.T
	bin  string
	dir  string
	port string
	cmd  *exec.Cmd
	done chan struct{}
}

func startOwnRedis(t *testing.T) *ownRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(redistest.EnvRequire) == "1" {
			t.Fatalf("%s=1 but redis-server is not on PATH", redistest.EnvRequire)
		}
		t.Skip("redis-server not on PATH; make test installs it")
	}
	r := &ownRedis{t: t, bin: bin, dir: t.TempDir()}
	for range 5 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		_, r.port, _ = net.SplitHostPort(ln.Addr().String())
		ln.Close()
		if r.start() == nil {
			t.Cleanup(r.kill)
			return r
		}
	}
	t.Fatal("could not start redis-server")
	return nil
}

func (r *ownRedis) addr() string { return "127.0.0.1:" + r.port }

// start runs redis-server on r.port in r.dir with production durability
// (AOF, fsync always) and waits for PING.
func (r *ownRedis) start() error {
	r.cmd = exec.Command(r.bin, "--port", r.port, "--bind", "127.0.0.1", "--dir", r.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no",
		"--logfile", "redis.log")
	if err := r.cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	r.done = done
	go func() { _ = r.cmd.Wait(); close(done) }()
	c := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		select {
		case <-done:
			return errors.New("redis-server exited")
		default:
		}
		if c.Ping(context.Background()).Err() == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.kill()
	return errors.New("redis-server did not answer PING")
}

// kill sends SIGKILL: no shutdown, no final fsync, like a crash.
func (r *ownRedis) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

// TestKillRedisLosesNoAcknowledgedTurn is PERFORMANCE-NOTES.md's G7 at the
// storage level: writers append turns, Redis is killed with SIGKILL
// mid-stream and restarted on the same AOF, and every Append that returned
// nil must be there, once, in order. Then the same Store carries on (its
// script cache is gone, so this also proves the NOSCRIPT fallback).
func TestKillRedisLosesNoAcknowledgedTurn(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills its own redis-server")
	}
	r := startOwnRedis(t)
	client := redis.NewClient(&redis.Options{
		Addr: r.addr(), DialTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond,
		WriteTimeout: 300 * time.Millisecond, MaxRetries: -1,
	})
	t.Cleanup(func() { _ = client.Close() })
	s := redisstore.New(client, time.Hour, "t:kill:")
	ctx := t.Context()

	const writers = 4
	acked := make([][]string, writers) // reply ids whose Append returned nil
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range writers {
		id := "s-kill-" + strconv.Itoa(w)
		mustCreate(t, s, newSession(id))
		wg.Go(func() {
			after := 1
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				rid := fmt.Sprintf("w%d-r%d", w, i)
				if err := s.Append(ctx, id, replyCommit(after, rid, "turn")); err != nil {
					return // Redis is gone; the turn was not acknowledged
				}
				acked[w] = append(acked[w], rid)
				after += 2
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	r.kill()
	close(stop)
	wg.Wait()

	if err := r.start(); err != nil {
		t.Fatalf("restart on the same AOF: %v", err)
	}
	total := 0
	for w := range writers {
		id := "s-kill-" + strconv.Itoa(w)
		var sess *simulator.Session
		var err error
		// The client reconnects on its own; give it the G9 budget.
		for deadline := time.Now().Add(time.Second); ; {
			if sess, err = s.Load(ctx, id); err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("%s: Load after restart: %v", id, err)
		}
		for i, e := range sess.Events {
			if e.Seq != i+1 {
				t.Fatalf("%s: event %d has seq %d", id, i, e.Seq)
			}
		}
		for _, rid := range acked[w] {
			if evs, ok := sess.ReplyEvents(rid); !ok || len(evs) != 2 {
				t.Errorf("%s: acknowledged reply %s lost (events %v, found %v)", id, rid, evs, ok)
			}
		}
		if sess.Turns() < len(acked[w]) || sess.Turns() > len(acked[w])+1 {
			t.Errorf("%s: %d turns stored, %d acknowledged: at most the one in flight may be extra", id, sess.Turns(), len(acked[w]))
		}
		total += len(acked[w])

		// Carry on after the restart (cold script cache: NOSCRIPT, then EVAL).
		if err := s.Append(ctx, id, replyCommit(sess.LastSeq(), "after-restart", "back")); err != nil {
			t.Errorf("%s: Append after restart: %v", id, err)
		}
	}
	if total == 0 {
		t.Fatal("no turn was acknowledged before the kill; the test proved nothing")
	}
	t.Logf("%d acknowledged turns across %d sessions survived SIGKILL", total, writers)
}

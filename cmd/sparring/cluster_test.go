package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sparring-gym/sparring/web/webtest"
)

// TestRedisClusterTwoInstances runs two servers on a real three-master Redis
// Cluster on loopback: sessions started on one instance are resumed and
// finished on the other (each session's keys share a hash tag, so its Lua
// append stays one round trip in one slot), and a contest joined through
// both instances ranks everyone on one leaderboard.
func TestRedisClusterTwoInstances(t *testing.T) {
	needRedisServer(t, "redis-cli")
	var addrs []string
	for range 3 {
		n := startRedisProc(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000")
		addrs = append(addrs, n.addr())
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	waitClusterOK(t, addrs)

	const trainerToken = "cluster-test-trainer-token-0123456789"
	env := map[string]string{
		"SPARRING_REDIS_ADDRS":            strings.Join(addrs, ","),
		"SPARRING_REDIS_PREFIX":           "ct:",
		"SPARRING_TRAINER_TOKENS":         trainerToken,
		"SPARRING_WS_MESSAGES_PER_SECOND": "100",
		"SPARRING_WS_BURST":               "100",
		"SPARRING_LOG_LEVEL":              "warn",
	}
	a := startServer(t, maps.Clone(env))
	b := startServer(t, maps.Clone(env))
	ws := func(s *server) string { return "ws" + strings.TrimPrefix(s.url, "http") + "/ws" }
	lines := trainerLines["en"][true]

	// Sessions hop from one instance to the other after two turns.
	for i := range 8 {
		first, second := a, b
		if i%2 == 1 {
			first, second = b, a
		}
		c := webtest.Dial(t, ws(first), nil)
		session, _ := c.Start("p01-lost-manuscript-en", map[string]any{"trainee": fmt.Sprint("cluster-", i)})
		c.Reply("r0", lines[0])
		frames := c.Reply("r1", lines[1])
		last := frames[len(frames)-1].Seq()
		_ = c.Conn.Close()

		c2 := webtest.Dial(t, ws(second), nil)
		c2.Send(map[string]any{"type": "resume", "session": session.Str("session"), "token": session.Str("token"), "after": last})
		if f := c2.Expect("session"); f.Int("last_seq") != last {
			t.Fatalf("resumed on the other instance at last_seq %d, want %d", f.Int("last_seq"), last)
		}
		// A resent reply is answered from storage, not played again.
		if again := c2.Reply("r1", lines[1]); again[len(again)-1].Seq() != last {
			t.Fatalf("resent reply answered with seq %d, want the stored %d", again[len(again)-1].Seq(), last)
		}
		// Play on; a conversation that ends sends end and report after its
		// customer line, and the next reply is refused with session_ended.
		var report webtest.Frame
		for n := 2; n < len(lines) && report == nil; n++ {
			for _, f := range c2.Reply(fmt.Sprint("r", n), lines[n]) {
				if f.Type() == "report" {
					report = f
				}
			}
		}
		if report == nil {
			c2.Send(map[string]any{"type": "end"})
			frames := c2.Until("report")
			report = frames[len(frames)-1]
		}
		if r := report.Obj("report"); r == nil || r["total"] == nil {
			t.Fatalf("session %d: report frame without a total: %v", i, report)
		}
	}
	spread := 0
	for _, addr := range addrs {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		n, err := rdb.DBSize(t.Context()).Result()
		rdb.Close()
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			spread++
		}
	}
	if spread < 2 {
		t.Errorf("keys on %d of 3 masters: sessions were not spread over the cluster", spread)
	}

	// A contest created on one instance and played through both.
	var created struct {
		Code string `json:"code"`
	}
	spec := map[string]any{"title": "cluster", "scenarios": []string{"p01-lost-manuscript-en"}, "duration_s": 600}
	if code := postJSON(t, a.url+"/api/contests", trainerToken, spec, &created); code != http.StatusCreated || created.Code == "" {
		t.Fatalf("create contest: HTTP %d, %+v", code, created)
	}
	for i, s := range []*server{a, b, b} {
		c := webtest.Dial(t, ws(s), nil)
		c.Send(map[string]any{"type": "start", "contest": created.Code, "trainee": fmt.Sprint("contestant-", i)})
		c.Expect("session")
		c.Expect("customer")
		c.Reply("c0", lines[0])
		c.Reply("c1", lines[1])
		c.Send(map[string]any{"type": "end"})
		c.Until("report")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var view struct {
			Leaderboard struct {
				Entries []struct {
					Name string `json:"name"`
				} `json:"entries"`
			} `json:"leaderboard"`
		}
		getJSONURL(t, a.url+"/api/contests/"+created.Code, &view)
		var viewB = view
		getJSONURL(t, b.url+"/api/contests/"+created.Code, &viewB)
		if len(view.Leaderboard.Entries) == 3 && len(viewB.Leaderboard.Entries) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("leaderboards: %d entries on A, %d on B, want 3 on both", len(view.Leaderboard.Entries), len(viewB.Leaderboard.Entries))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitClusterOK(t *testing.T, addrs []string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for _, addr := range addrs {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		for {
			info, err := rdb.ClusterInfo(context.Background()).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cluster node %s not ok in 20s: %v\n%s", addr, err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		rdb.Close()
	}
}

func postJSON(t *testing.T, url, token string, body, out any) int {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(out)
	return resp.StatusCode
}

func getJSONURL(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

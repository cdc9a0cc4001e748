package web_test

import (
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sparring-gym/sparring/simulator/redisstore/redistest"
	"github.com/sparring-gym/sparring/web"
	"github.com/sparring-gym/sparring/web/webtest"
)

// TestPerIPConnectionCap: connections over MaxConnsPerIP from one address
// are refused at the handshake with 429, and a closed one frees its place.
func TestPerIPConnectionCap(t *testing.T) {
	in := webtest.Start(t, webtest.Options{Backend: redistest.Mini(t), Web: web.Config{MaxConnsPerIP: 3}})
	var open []*webtest.Client
	for range 3 {
		open = append(open, webtest.Dial(t, in.WSURL, nil))
	}
	_, resp, err := websocket.DefaultDialer.Dial(in.WSURL, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th connection from one address: err %v, resp %v; want HTTP 429", err, resp)
	}
	// The server releases the place when it sees the close; retry until it has.
	_ = open[0].Conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, resp, err := websocket.DefaultDialer.Dial(in.WSURL, nil)
		if err == nil {
			c.Close()
			break
		}
		if resp == nil || resp.StatusCode != http.StatusTooManyRequests || time.Now().After(deadline) {
			t.Fatalf("after closing one connection: err %v, resp %v", err, resp)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNoGoroutineLeakOnClose: many connections that start a session and go
// away (cleanly, abruptly, or mid-session) leave no goroutine behind.
func TestNoGoroutineLeakOnClose(t *testing.T) {
	in := webtest.Start(t, webtest.Options{Backend: redistest.Mini(t), Web: web.Config{MaxConnsPerIP: 1000}})
	// One full cycle first, so lazily started goroutines (pools, timers) exist
	// before the baseline is taken.
	cycle := func(i int) {
		c, _, err := websocket.DefaultDialer.Dial(in.WSURL, nil)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		switch i % 3 {
		case 0: // start a session, then close cleanly
			if err := c.WriteJSON(map[string]any{"type": "start", "scenario": scenarioEN, "trainee": "leak"}); err != nil {
				t.Fatal(err)
			}
			for range 2 { // session, customer
				if _, _, err := c.ReadMessage(); err != nil {
					t.Fatal(err)
				}
			}
			_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		case 1: // a reply in flight, then the TCP connection just drops
			_ = c.WriteJSON(map[string]any{"type": "start", "scenario": scenarioEN, "trainee": "leak"})
			_ = c.WriteJSON(map[string]any{"type": "reply", "id": "x", "text": goodReplies[0]})
		case 2: // connect and vanish
		}
		_ = c.Close()
	}
	cycle(0)
	if !settle(t, func() bool { return openConns(t, in) == 0 }, 5*time.Second) {
		t.Fatal("the first connection never closed")
	}
	before, _ := connGoroutines()
	for i := range 150 {
		cycle(i)
	}
	// Connections finish asynchronously; wait for the count to come back.
	// Only the server's and gorilla's goroutines are counted: the Redis
	// client's pool may keep more connections open after a busy spell.
	var now int
	var stacks string
	if !settle(t, func() bool { now, stacks = connGoroutines(); return now <= before && openConns(t, in) == 0 }, 10*time.Second) {
		t.Fatalf("connection goroutines: %d before 150 connect/close cycles, %d after 10 s:\n%s", before, now, stacks)
	}
}

// connGoroutines counts goroutines running the web package's or gorilla's
// code (a connection's reader, writer or timers) and returns their stacks.
func connGoroutines() (int, string) {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	var out strings.Builder
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "sparring-gym/sparring/web.") || strings.Contains(g, "gorilla/websocket") {
			n++
			out.WriteString(g + "\n\n")
		}
	}
	return n, out.String()
}

// settle polls cond until it holds or within passes.
func settle(t *testing.T, cond func() bool, within time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// openConns reads the server's sparring_ws_connections gauge.
func openConns(t *testing.T, in *webtest.Instance) float64 {
	t.Helper()
	mfs, err := in.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "sparring_ws_connections" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("no sparring_ws_connections gauge")
	return 0
}

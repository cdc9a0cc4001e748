// Package webtest starts a real Sparring server (real persona engine, scorer
// and Redis-backed store) inside a test and drives it with real WebSocket
// clients. The web, browser and LLM end-to-end tests share it.
package webtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/redisstore/redistest"
	"github.com/sparring-gym/sparring/web"
)

// Options configures a test server. Backend is required.
type Options struct {
	Backend redistest.Backend
	Web     web.Config
	// Customers adds or replaces persona engines; the scripted one is always there.
	Customers func(scripted simulator.Customer) map[simulator.Engine]simulator.Customer
	// Assessor replaces the rule-based scorer (e.g. with an LLM judge around it).
	Assessor func(rules simulator.Assessor) simulator.Assessor
	Static   fs.FS
	Now      func() time.Time
	TTL      time.Duration
}

// Instance is a running test server.
type Instance struct {
	URL      string // http://127.0.0.1:port
	WSURL    string // ws://127.0.0.1:port/ws
	Server   *web.Server
	Sim      *simulator.Simulator
	Library  simulator.Library
	Registry *prometheus.Registry
	// Redis is the client the store uses (add hooks to observe the turn path).
	Redis redis.UniversalClient
	http  *httptest.Server
	stop  sync.Once
}

// Start builds and starts a server wired as cmd/sparring wires it: the
// built-in and trainer-authored scenarios, the scripted engine, the rule
// scorer, the Redis session store, trainer tools and contests. It is shut
// down when the test ends.
func Start(tb testing.TB, o Options) *Instance {
	return StartTrainer(tb, o).Instance
}

// Stop shuts the server down gracefully (close 1001 to every client).
func (in *Instance) Stop() { in.stop.Do(in.shutdown) }

func (in *Instance) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = in.Server.Shutdown(ctx)
	in.http.CloseClientConnections()
	in.http.Close()
}

// Frame is one server frame, decoded loosely.
type Frame map[string]any

// Type returns the frame's type.
func (f Frame) Type() string { s, _ := f["type"].(string); return s }

// Seq returns the frame's seq (0 when absent).
func (f Frame) Seq() int { n, _ := f["seq"].(float64); return int(n) }

// Str returns a string field.
func (f Frame) Str(k string) string { s, _ := f[k].(string); return s }

// Int returns a numeric field.
func (f Frame) Int(k string) int { n, _ := f[k].(float64); return int(n) }

// Obj returns an object field.
func (f Frame) Obj(k string) Frame { m, _ := f[k].(map[string]any); return m }

// Client is a real WebSocket client of the server.
type Client struct {
	tb   testing.TB
	Conn *websocket.Conn
	// Timeout bounds each wait for a frame.
	Timeout time.Duration
}

// Dial connects to wsURL; header may carry an Origin.
func Dial(tb testing.TB, wsURL string, header http.Header) *Client {
	tb.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(wsURL, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		tb.Fatalf("dial %s: %v (HTTP %d)", wsURL, err, status)
	}
	cl := &Client{tb: tb, Conn: c, Timeout: 10 * time.Second}
	tb.Cleanup(func() { _ = c.Close() })
	return cl
}

// Send writes v as one JSON text frame.
func (c *Client) Send(v any) {
	c.tb.Helper()
	if err := c.Conn.WriteJSON(v); err != nil {
		c.tb.Fatalf("send: %v", err)
	}
}

// SendRaw writes a frame as given.
func (c *Client) SendRaw(kind int, data []byte) {
	c.tb.Helper()
	if err := c.Conn.WriteMessage(kind, data); err != nil {
		c.tb.Fatalf("send raw: %v", err)
	}
}

// Next returns the next frame, failing the test on timeout or close.
func (c *Client) Next() Frame {
	c.tb.Helper()
	f, err := c.TryNext()
	if err != nil {
		c.tb.Fatalf("read: %v", err)
	}
	return f
}

// TryNext returns the next frame or the read error (a close, a timeout).
func (c *Client) TryNext() (Frame, error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(c.Timeout))
	_, data, err := c.Conn.ReadMessage()
	if err != nil {
		return nil, err
	}
	var f Frame
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("frame is not JSON: %q", data)
	}
	return f, nil
}

// Until reads frames up to and including the first one of type typ.
func (c *Client) Until(typ string) []Frame {
	c.tb.Helper()
	var out []Frame
	for {
		f := c.Next()
		out = append(out, f)
		if f.Type() == typ {
			return out
		}
		if len(out) > 1000 {
			c.tb.Fatalf("no %q frame in 1000 frames", typ)
		}
	}
}

// Expect reads one frame and fails unless it has type typ.
func (c *Client) Expect(typ string) Frame {
	c.tb.Helper()
	f := c.Next()
	if f.Type() != typ {
		c.tb.Fatalf("got %v, want a %q frame", f, typ)
	}
	return f
}

// Start begins a session and returns the session frame and the opening line.
func (c *Client) Start(scenario string, extra map[string]any) (session, opening Frame) {
	c.tb.Helper()
	m := map[string]any{"type": "start", "scenario": scenario, "trainee": "Test Trainee"}
	for k, v := range extra {
		m[k] = v
	}
	c.Send(m)
	session = c.Expect("session")
	opening = c.Expect("customer")
	return session, opening
}

// Reply sends a reply and returns every frame up to the customer's answer,
// or up to an error. When the conversation ends on this turn, end and
// report follow the customer frame: read them with Until("report").
func (c *Client) Reply(id, text string) []Frame {
	c.tb.Helper()
	c.Send(map[string]any{"type": "reply", "id": id, "text": text})
	var out []Frame
	for {
		f := c.Next()
		out = append(out, f)
		switch f.Type() {
		case "customer", "error":
			return out
		}
	}
}

package web

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// wsPair is a server-side conn and the client talking to it, for tests that
// drive the writer directly (enqueue, closeWith) without a simulator.
type wsPair struct {
	srv    *Server
	conn   *conn
	client *websocket.Conn
}

// newWSPair starts a Server without a simulator and dials /ws. rcvbuf > 0
// caps the client's kernel receive buffer (set before connect) so a client
// that stops reading fills the path quickly.
func newWSPair(t *testing.T, cfg Config, rcvbuf int) *wsPair {
	t.Helper()
	s := NewServer(cfg, Deps{})
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	d := websocket.Dialer{NetDialContext: (&net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		if rcvbuf <= 0 {
			return nil
		}
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
		}); err != nil {
			return err
		}
		return serr
	}}).DialContext}
	client, _, err := d.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	var c *conn
	for deadline := time.Now().Add(5 * time.Second); c == nil; {
		s.mu.Lock()
		for k := range s.conns {
			c = k
		}
		s.mu.Unlock()
		if c == nil {
			if time.Now().After(deadline) {
				t.Fatal("the server never registered the connection")
			}
			time.Sleep(time.Millisecond)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return &wsPair{srv: s, conn: c, client: client}
}

// frames returns n text frames of size bytes each, numbered in their first bytes.
func testFrames(n, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		f := bytes.Repeat([]byte{'x'}, size)
		copy(f, []byte{byte('A' + i%26)})
		out[i] = f
	}
	return out
}

// TestPongDoesNotShortenTheWritersDeadline: the reader answers a client's
// ping with WriteControl, which sets a 1 s deadline on the net.Conn. The
// writer's batch is flushed by uncork outside gorilla's write lock, so that
// deadline must not govern it: a client that pauses reading for less than
// WriteWait, and pings meanwhile, keeps its connection and gets every frame.
func TestPongDoesNotShortenTheWritersDeadline(t *testing.T) {
	p := newWSPair(t, Config{WriteWait: 5 * time.Second}, 4096)
	const perBatch, size = 15, 4000 // 60 KB a batch: under maxCork, one flush each
	// Two batches, apart, so the second (or the first) blocks in uncork's
	// flush once the kernel buffers are full.
	p.conn.enqueue(&outbound{frames: testFrames(perBatch, size)})
	time.Sleep(200 * time.Millisecond)
	p.conn.enqueue(&outbound{frames: testFrames(perBatch, size)})
	time.Sleep(300 * time.Millisecond)
	if err := p.client.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // past the pong's 1 s, well within WriteWait
	_ = p.client.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i := range 2 * perBatch {
		kind, data, err := p.client.ReadMessage()
		if err != nil {
			t.Fatalf("frame %d of %d: %v (the writer gave up before WriteWait)", i+1, 2*perBatch, err)
		}
		if kind != websocket.TextMessage || len(data) != size {
			t.Fatalf("frame %d: kind %d, %d bytes", i+1, kind, len(data))
		}
	}
}

// TestPingerRace: the ping timer may fire before handleWS has stored it in
// c.pinger; ping reads c.pinger (Reset) and stop reads it too.
func TestPingerRace(t *testing.T) {
	p := newWSPair(t, Config{PingPeriod: time.Millisecond, PongWait: time.Minute}, 0)
	pings := 0
	p.client.SetPingHandler(func(string) error { pings++; return nil })
	_ = p.client.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	for {
		if _, _, err := p.client.ReadMessage(); err != nil {
			break
		}
	}
	if pings == 0 {
		t.Fatal("no ping in 200 ms with a 1 ms ping period")
	}
}

// TestCloseEchoWhileTheWriterIsBusy: a client that closes while frames are
// being written must get its close echoed (a clean close), not an EOF.
// Gorilla's close handler echoes with WriteControl on the reader; while the
// writer is corked that echo only lands in the batch buffer, and the reader
// then returns and closes the socket.
func TestCloseEchoWhileTheWriterIsBusy(t *testing.T) {
	for i := range 5 {
		p := newWSPair(t, Config{}, 0)
		stopFeed := make(chan struct{})
		fed := make(chan struct{})
		go func() { // keep the writer busy (corked most of the time)
			defer close(fed)
			for {
				select {
				case <-stopFeed:
					return
				case <-p.conn.done:
					return
				default:
				}
				p.conn.enqueue(&outbound{frames: testFrames(8, 1000)})
			}
		}()
		read := make(chan error, 1)
		go func() {
			_ = p.client.SetReadDeadline(time.Now().Add(10 * time.Second))
			for {
				if _, _, err := p.client.ReadMessage(); err != nil {
					read <- err
					return
				}
			}
		}()
		time.Sleep(50 * time.Millisecond)
		if err := p.client.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		err := <-read
		close(stopFeed)
		<-fed
		if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			t.Fatalf("attempt %d: the client's read ended with %v, want its close echoed (1000)", i, err)
		}
	}
}

// TestWriterUnderConcurrentProducers: producers enqueue concurrently with
// the reader's pongs (and the ping timer); every frame arrives, each
// producer's in order, and no two writers run at once (with queuedOne
// starting a writer on every enqueue this fails: gorilla panics "concurrent
// write"). A lost wake-up would leave a producer's last frame unread here;
// the counting argument is in writeQueued's comment.
func TestWriterUnderConcurrentProducers(t *testing.T) {
	for _, tc := range []struct {
		name string
		ping time.Duration
	}{
		{"no server pings", 0},
		{"server pings every ms", time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const producers, each = 4, 300
			p := newWSPair(t, Config{PingPeriod: tc.ping, PongWait: time.Minute, SendBuffer: 4}, 0)
			var wg sync.WaitGroup
			for id := range producers {
				wg.Go(func() {
					for n := range each {
						if n%3 != 0 { // let the writer go idle now and then
							time.Sleep(time.Duration(n%5) * 10 * time.Microsecond)
						}
						p.conn.enqueue(&outbound{frames: [][]byte{fmt.Appendf(nil, "%d %d", id, n)}})
					}
				})
			}
			pinger := make(chan struct{})
			go func() { // the client pings too, so the reader writes pongs meanwhile
				defer close(pinger)
				for range 200 {
					if p.client.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second)) != nil {
						return
					}
					time.Sleep(500 * time.Microsecond)
				}
			}()
			next := make([]int, producers)
			_ = p.client.SetReadDeadline(time.Now().Add(5 * time.Second))
			for got := 0; got < producers*each; got++ {
				_, data, err := p.client.ReadMessage()
				if err != nil {
					t.Fatalf("after %d of %d frames: %v (next per producer %v)", got, producers*each, err, next)
				}
				var id, n int
				if _, err := fmt.Sscanf(string(data), "%d %d", &id, &n); err != nil {
					t.Fatalf("frame %q: %v", data, err)
				}
				if n != next[id] {
					t.Fatalf("producer %d: frame %d arrived when %d was due", id, n, next[id])
				}
				next[id]++
			}
			wg.Wait()
			<-pinger
			select {
			case <-p.conn.done:
				t.Fatal("the connection was stopped")
			default:
			}
		})
	}
}

// TestSteadyReaderOfALongBatchStays: WriteWait bounds each write, not a
// whole batch. A replay goes out as one batch (sendEvents); a client that
// reads it steadily, each flush draining well within WriteWait, keeps its
// connection even when the whole replay takes longer than WriteWait.
func TestSteadyReaderOfALongBatchStays(t *testing.T) {
	const n, size = 64, 8000 // 512 KB: eight early flushes of maxCork
	p := newWSPair(t, Config{WriteWait: 500 * time.Millisecond}, 4096)
	p.conn.enqueue(&outbound{frames: testFrames(n, size)})
	for i := range n {
		_ = p.client.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := p.client.ReadMessage(); err != nil {
			t.Fatalf("frame %d of %d: %v", i+1, n, err)
		}
		time.Sleep(15 * time.Millisecond) // about 1 s in all, twice WriteWait
	}
}

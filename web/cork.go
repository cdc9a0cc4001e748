package web

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// corkConn lets the writer put several WebSocket frames on the wire with one
// write(2) (issue 9, CPU per turn). A turn answers with three frames (ack,
// feedback, customer); gorilla writes each frame with its own system call,
// and on loopback each one also wakes the client separately. While corked,
// writes collect in a pooled buffer; uncork sends them at once. Uncorked,
// it is the plain connection, so pings, pongs and close frames written
// outside a batch go straight out.
type corkConn struct {
	net.Conn
	bufs *sync.Pool // of *[]byte, shared by the server's connections

	mu     sync.Mutex
	corked bool
	buf    *[]byte       // only while corked: idle connections hold no buffer
	wait   time.Duration // the writer's WriteWait: each flush gets that long
	err    error         // a failed flush, reported by uncork
}

// sendBufferBytes is each connection's kernel send buffer (Linux doubles
// it): room for several turns and a report, not for megabytes nobody reads.
const sendBufferBytes = 32 << 10

// maxCork is the most a batch buffers before it is flushed early: a long
// replay or a report must not pin a large buffer.
const maxCork = 64 << 10

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		return c.Conn.Write(p)
	}
	if len(*c.buf)+len(p) > maxCork {
		c.flushLocked()
	}
	if c.err != nil {
		return 0, c.err
	}
	*c.buf = append(*c.buf, p...)
	return len(p), nil
}

// cork starts a batch. Each of its flushes may take up to wait: the
// deadline bounds one write, as gorilla's does one frame, not a whole batch
// (a replay is one batch, and a batch takes in whatever is queued meanwhile).
func (c *corkConn) cork(wait time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		c.corked = true
		c.buf = c.bufs.Get().(*[]byte)
	}
	c.wait = wait
}

// SetWriteDeadline ignores deadlines set while corked. Gorilla sets one
// before each frame, and WriteControl (the reader's pongs and close echo,
// 1 s) sets its own outside the writer; a batch's flush runs outside
// gorilla's write lock, so without this a pong could cut the writer's
// deadline to 1 s, even for a flush already blocked in write(2).
func (c *corkConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked {
		return nil
	}
	return c.Conn.SetWriteDeadline(t)
}

// uncork writes everything buffered since cork and reports the first write
// error of the batch.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		return c.err
	}
	c.flushLocked()
	c.corked = false
	if cap(*c.buf) <= maxCork {
		*c.buf = (*c.buf)[:0]
		c.bufs.Put(c.buf)
	}
	c.buf = nil
	return c.err
}

// flush sends what the batch holds so far, without ending it. Safe from any
// goroutine: bytes keep their order, and gorilla holds its write lock
// across the writes of one frame.
func (c *corkConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked {
		c.flushLocked()
	}
	return c.err
}

func (c *corkConn) flushLocked() {
	if len(*c.buf) > 0 && c.err == nil {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.wait))
		_, c.err = c.Conn.Write(*c.buf)
	}
	*c.buf = (*c.buf)[:0]
}

func newCorkBuffers() *sync.Pool {
	return &sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}
}

// corkingWriter hands gorilla's Upgrader a corkConn in place of the
// hijacked connection.
type corkingWriter struct {
	http.ResponseWriter
	bufs *sync.Pool
	conn *corkConn // set once hijacked
}

func (w *corkingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("web: the response writer cannot be hijacked")
	}
	nc, brw, err := h.Hijack()
	if err != nil {
		return nil, nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		// A client that stops reading must make the writer block, so the
		// write deadline can find it (slow consumer). Left to autotuning,
		// the kernel buffers megabytes per socket first, and a reply-less
		// client stays connected until the pong deadline.
		_ = tc.SetWriteBuffer(sendBufferBytes)
	}
	w.conn = &corkConn{Conn: nc, bufs: w.bufs}
	return w.conn, brw, nil
}

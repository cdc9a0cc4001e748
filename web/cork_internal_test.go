package web

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"
)

// countingConn records each Write the connection receives.
type countingConn struct {
	net.Conn
	writes [][]byte
	fail   error
	dl     time.Time   // the write deadline in force
	dls    []time.Time // the deadline each write ran under
}

func (c *countingConn) SetWriteDeadline(t time.Time) error { c.dl = t; return nil }

func (c *countingConn) Write(p []byte) (int, error) {
	if c.fail != nil {
		return 0, c.fail
	}
	c.writes = append(c.writes, bytes.Clone(p))
	c.dls = append(c.dls, c.dl)
	return len(p), nil
}

func TestCorkConn(t *testing.T) {
	t.Run("a corked batch is one write", func(t *testing.T) {
		under := &countingConn{}
		c := &corkConn{Conn: under, bufs: newCorkBuffers()}
		c.cork(time.Second)
		for _, f := range []string{"ack", "feedback", "customer"} {
			if n, err := c.Write([]byte(f)); err != nil || n != len(f) {
				t.Fatalf("Write(%q) = %d, %v", f, n, err)
			}
		}
		if len(under.writes) != 0 {
			t.Fatalf("%d writes before uncork, want 0", len(under.writes))
		}
		if err := c.uncork(); err != nil {
			t.Fatal(err)
		}
		if len(under.writes) != 1 || string(under.writes[0]) != "ackfeedbackcustomer" {
			t.Fatalf("writes = %q, want one holding all three frames in order", under.writes)
		}
		if c.buf != nil {
			t.Fatal("an uncorked connection still holds its batch buffer")
		}
	})
	t.Run("uncorked writes go straight out", func(t *testing.T) {
		under := &countingConn{}
		c := &corkConn{Conn: under, bufs: newCorkBuffers()}
		_, _ = c.Write([]byte("ping"))
		_, _ = c.Write([]byte("pong"))
		if len(under.writes) != 2 {
			t.Fatalf("writes = %q, want two", under.writes)
		}
	})
	t.Run("a batch over maxCork flushes early", func(t *testing.T) {
		under := &countingConn{}
		c := &corkConn{Conn: under, bufs: newCorkBuffers()}
		c.cork(time.Second)
		big := bytes.Repeat([]byte("x"), maxCork/2+1)
		for range 3 {
			_, _ = c.Write(big)
		}
		if err := c.uncork(); err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, w := range under.writes {
			if len(w) > maxCork {
				t.Fatalf("a write of %d bytes, over maxCork", len(w))
			}
			total += len(w)
		}
		if total != 3*len(big) || len(under.writes) != 3 {
			t.Fatalf("%d writes, %d bytes; want 3 writes, %d bytes", len(under.writes), total, 3*len(big))
		}
	})
	t.Run("each flush gets the writer's wait, whatever was set meanwhile", func(t *testing.T) {
		under := &countingConn{}
		c := &corkConn{Conn: under, bufs: newCorkBuffers()}
		const wait = 10 * time.Second
		c.cork(wait)
		pong := time.Now().Add(time.Second)
		_ = c.SetWriteDeadline(pong) // WriteControl on the reader, mid-batch
		_, _ = c.Write([]byte("pong"))
		before := time.Now()
		if err := c.uncork(); err != nil {
			t.Fatal(err)
		}
		if len(under.dls) != 1 || under.dls[0].Before(before.Add(wait)) || under.dls[0].After(time.Now().Add(wait)) {
			t.Fatalf("flushed under %v, want now + %v", under.dls, wait)
		}
		_ = c.SetWriteDeadline(pong) // uncorked: passes straight through
		_, _ = c.Write([]byte("pong"))
		if len(under.dls) != 2 || !under.dls[1].Equal(pong) {
			t.Fatalf("uncorked write under %v, want %v", under.dls, pong)
		}
	})
	t.Run("a failed flush is reported", func(t *testing.T) {
		broken := errors.New("broken pipe")
		c := &corkConn{Conn: &countingConn{fail: broken}, bufs: newCorkBuffers()}
		c.cork(time.Second)
		_, _ = c.Write([]byte("frame"))
		if err := c.uncork(); !errors.Is(err, broken) {
			t.Fatalf("uncork = %v, want %v", err, broken)
		}
		if _, err := c.Write([]byte("more")); err == nil {
			t.Fatal("a write after a failed flush succeeded")
		}
	})
}

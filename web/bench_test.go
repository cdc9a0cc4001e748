package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/redisstore/redistest"
	"github.com/sparring-gym/sparring/simulator/scripted/fidelity"
	"github.com/sparring-gym/sparring/web"
	"github.com/sparring-gym/sparring/web/webtest"
)

// BenchmarkTurn measures one whole server-side turn as a client sees it:
// reply frame written → ack, feedback and customer frames read, through the
// real server (decode, scorer, scripted persona, one Redis script, frame
// encoding, socket writes) on one connection. One op is one turn. When a
// conversation ends, a new one is started with the timer stopped, so the
// figures are turns only. The client runs in this process too, so
// allocs/op include its ReadMessage buffers (it decodes nothing).
//
//	go test -run='^$' -bench=Turn -benchmem ./web/
//	SPARRING_TEST_REDIS_ADDR=127.0.0.1:6379 go test -run='^$' -bench=Turn -benchmem ./web/
func BenchmarkTurn(b *testing.B) {
	backends := []redistest.Backend{redistest.Mini(b)}
	if rb, ok := redistest.Real(b); ok {
		backends = append(backends, rb)
	}
	for _, be := range backends {
		b.Run(be.Name, func(b *testing.B) { benchTurn(b, be) })
	}
}

func benchTurn(b *testing.B, be redistest.Backend) {
	in := webtest.Start(b, webtest.Options{Backend: be, Web: web.Config{MessagesPerSecond: 1e9, Burst: 1 << 30}})
	// A good trainee's side: the scenario's own playbook, as the fidelity
	// bots play it, so the scorer and the persona do their real work.
	lib, err := scenarios.BuiltinLibrary()
	if err != nil {
		b.Fatal(err)
	}
	sc, err := lib.Scenario(b.Context(), scenarioEN)
	if err != nil {
		b.Fatal(err)
	}
	benchLines := fidelity.Script(fidelity.Excellent, sc, simulator.LangEN)
	ws, _, err := websocket.DefaultDialer.Dial(in.WSURL, nil)
	if err != nil {
		b.Fatalf("dial: %v", err)
	}
	defer ws.Close()
	start, _ := json.Marshal(map[string]string{"type": "start", "scenario": scenarioEN, "trainee": "Bench"})
	// until reads frames up to the first whose type is one of want.
	until := func(want ...string) string {
		for {
			_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, data, err := ws.ReadMessage()
			if err != nil {
				b.Fatalf("read: %v", err)
			}
			if bytes.HasPrefix(data, []byte(`{"type":"error"`)) {
				if bytes.Contains(data, []byte(`"code":"session_ended"`)) {
					return "error"
				}
				b.Fatalf("server error: %s", data)
			}
			for _, w := range want {
				if bytes.HasPrefix(data, []byte(`{"type":"`+w+`"`)) {
					return w
				}
			}
		}
	}
	begin := func() {
		if err := ws.WriteMessage(websocket.TextMessage, start); err != nil {
			b.Fatalf("start: %v", err)
		}
		until("customer")
	}
	begin()
	turn := 0
	var buf bytes.Buffer
	send := func(i int) {
		buf.Reset()
		fmt.Fprintf(&buf, `{"type":"reply","id":"r%d","text":%q}`, i, benchLines[turn%len(benchLines)])
		turn++
		if err := ws.WriteMessage(websocket.TextMessage, buf.Bytes()); err != nil {
			b.Fatalf("reply: %v", err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU(b)
	for i := range b.N {
		send(i)
		if until("customer", "end") == "customer" {
			continue
		}
		// The previous turn ended the conversation (end and report follow
		// its customer frame) and this reply was refused: start a new
		// session with the timer stopped and send the reply again.
		b.StopTimer()
		until("report")
		until("error")
		begin()
		turn = 0
		b.StartTimer()
		send(i)
		until("customer")
	}
	b.StopTimer()
	// Wall time per turn with real Redis is mostly its fsync (appendfsync
	// always); the process's CPU per turn (server and client, plus
	// miniredis's Lua when that is the backend) is the figure to compare.
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// processCPU is this process's user+system CPU time so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

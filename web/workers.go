package web

import (
	"sync/atomic"
	"time"
)

// workerPool runs frame handlers on goroutines that outlive one frame.
//
// Why (issue 9): a turn (scoring, persona, JSON, Redis) grows a goroutine's
// stack to tens of KiB. On the connection's reader, which then idles in
// ReadMessage for seconds, that stack would stay allocated (memory per idle
// session); on a goroutine started per frame it had to be grown again on
// every frame (runtime.newstack and copystack took 6 % of the server's CPU
// in a profile of the closed loop). A pooled worker keeps its grown stack
// between frames and gives it back only after idle without work.
//
// There is no cap: at most one frame per connection is in flight, so the
// workers never outnumber the connections, exactly as with a goroutine per
// frame.
type workerPool struct {
	tasks chan func() // unbuffered: a send succeeds only if a worker waits
	idle  time.Duration
	live  atomic.Int64 // workers started and not yet retired
}

func newWorkerPool(idle time.Duration) *workerPool {
	return &workerPool{tasks: make(chan func()), idle: idle}
}

// run hands f to an idle worker, or starts one.
func (p *workerPool) run(f func()) {
	select {
	case p.tasks <- f:
	default:
		p.live.Add(1)
		go p.work(f)
	}
}

func (p *workerPool) work(f func()) {
	defer p.live.Add(-1)
	f()
	idle := time.NewTimer(p.idle)
	defer idle.Stop()
	for {
		select {
		case f := <-p.tasks:
			f()
			idle.Reset(p.idle)
		case <-idle.C:
			return
		}
	}
}

// workerIdle is how long a worker waits for the next frame before it exits:
// longer than people take between replies under load (the paced benchmark
// replies every 1–3 s), short enough that a burst's workers are gone soon
// after it.
const workerIdle = 5 * time.Second

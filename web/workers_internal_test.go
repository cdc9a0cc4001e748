package web

import (
	"sync"
	"testing"
	"time"
)

// TestWorkerPoolReusesAndRetires: sequential frames reuse one worker,
// concurrent frames each get one, and idle workers exit.
func TestWorkerPoolReusesAndRetires(t *testing.T) {
	p := newWorkerPool(200 * time.Millisecond)
	poolWorkers := func() int { return int(p.live.Load()) }
	for range 50 {
		done := make(chan struct{})
		p.run(func() { close(done) })
		<-done
		// Let the worker get back to waiting, as it would between a
		// person's replies.
		time.Sleep(2 * time.Millisecond)
	}
	// A goroutine per frame would leave 50 alive (they idle 200 ms); a
	// worker that was still finishing when the next frame came may add one
	// or two on a loaded machine.
	if n := poolWorkers(); n < 1 || n > 5 {
		t.Fatalf("%d workers after 50 sequential frames, want 1 (at most 5)", n)
	}

	var wg sync.WaitGroup
	release := make(chan struct{})
	for range 20 {
		wg.Add(1)
		p.run(func() { defer wg.Done(); <-release })
	}
	if n := poolWorkers(); n < 20 {
		t.Fatalf("%d workers for 20 concurrent frames, want at least 20", n)
	}
	close(release)
	wg.Wait()

	deadline := time.Now().Add(5 * time.Second)
	for poolWorkers() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers still alive after idling", poolWorkers())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

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
	}
	// The first worker may still be between finishing f and waiting again
	// when the next frame comes, so allow a second one.
	if n := poolWorkers(); n < 1 || n > 2 {
		t.Fatalf("%d workers after 50 sequential frames, want 1 or 2", n)
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

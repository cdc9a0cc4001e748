package llm

import (
	"sync"
	"time"
)

type breakerState int

const (
	breakerClosed   breakerState = 0
	breakerHalfOpen breakerState = 1
	breakerOpen     breakerState = 2
)

func (s breakerState) String() string {
	switch s {
	case breakerHalfOpen:
		return "half-open"
	case breakerOpen:
		return "open"
	}
	return "closed"
}

// breaker stops calling a provider that keeps failing, so trainees get the
// scripted line at once instead of waiting out a timeout on every turn.
// After cooldown one probe call goes through; its result closes or reopens.
type breaker struct {
	threshold int
	cooldown  time.Duration
	now       func() time.Time
	onChange  func(breakerState)

	mu       sync.Mutex
	state    breakerState
	failures int
	openedAt time.Time
	probing  bool
}

func newBreaker(threshold int, cooldown time.Duration, now func() time.Time, onChange func(breakerState)) *breaker {
	b := &breaker{threshold: threshold, cooldown: cooldown, now: now, onChange: onChange}
	onChange(breakerClosed)
	return b
}

// allow reports whether a call may go out. In half-open state only one
// probe is in flight at a time.
func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case breakerOpen:
		if b.now().Sub(b.openedAt) < b.cooldown {
			return false
		}
		b.set(breakerHalfOpen)
		b.probing = true
		return true
	case breakerHalfOpen:
		if b.probing {
			return false
		}
		b.probing = true
		return true
	}
	return true
}

// done records the result of a call that allow let through. neutral calls
// (cancelled by the trainee leaving) count neither way.
func (b *breaker) done(success, neutral bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == breakerHalfOpen {
		b.probing = false
	}
	switch {
	case neutral:
	case success:
		b.failures = 0
		b.set(breakerClosed)
	default:
		b.failures++
		if b.state == breakerHalfOpen || b.failures >= b.threshold {
			b.openedAt = b.now()
			b.set(breakerOpen)
		}
	}
}

func (b *breaker) current() breakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

func (b *breaker) set(s breakerState) {
	if b.state != s {
		b.state = s
		b.onChange(s)
	}
}

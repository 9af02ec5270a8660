package module

import (
	"sync"
	"time"
)

// The circuit breaker of a backend: after breakerThreshold calls in a row
// got no usable answer (no connection, a timeout, or a 5xx after the
// retries), psgate stops calling the backend for breakerCooldown and
// fails its cmdlets at once, so that a backend that is down costs its
// callers no timeouts and gets no storm of calls when it comes back.
// Then one trial call goes through: its success closes the breaker, its
// failure opens it again.
const (
	breakerThreshold = 5
	breakerCooldown  = 30 * time.Second
)

type breaker struct {
	mu        sync.Mutex
	failures  int
	openUntil time.Time
	trial     bool // the half-open trial call is in flight
}

// allow reports whether a call may go to the backend now, and if not for
// how long calls are paused.
func (b *breaker) allow(now time.Time) (time.Duration, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures < breakerThreshold {
		return 0, true
	}
	if now.Before(b.openUntil) {
		return b.openUntil.Sub(now), false
	}
	if b.trial {
		return breakerCooldown, false
	}
	b.trial = true
	return 0, true
}

// done records the outcome of an allowed call.
func (b *breaker) done(now time.Time, failed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.trial = false
	if !failed {
		b.failures = 0
		return
	}
	b.failures++
	if b.failures >= breakerThreshold {
		b.openUntil = now.Add(breakerCooldown)
	}
}

// release ends an allowed call that says nothing of the backend (the
// caller stopped it).
func (b *breaker) release() {
	b.mu.Lock()
	b.trial = false
	b.mu.Unlock()
}

package admission

import (
	"time"

	"github.com/psgate/psgate"
)

// Observer is told of admission's decisions and lease renewals as they
// happen, for metrics. Its methods must be cheap, must not block and must
// be safe for concurrent use. The metrics package implements it.
type Observer interface {
	// Admission is called once per Admit: code is empty when the shell
	// was admitted, else the catalog code of the refusal; d is how long
	// the decision took.
	Admission(kind psgate.ShellKind, code psgate.Code, d time.Duration)
	// Renewal is called after each renewal of the node's leases, with
	// its duration and its error (nil when it succeeded).
	Renewal(d time.Duration, err error)
}

// noObserver observes nothing.
type noObserver struct{}

func (noObserver) Admission(psgate.ShellKind, psgate.Code, time.Duration) {}
func (noObserver) Renewal(time.Duration, error)                           {}

// Status is the lease keeper's state, for readiness checks and metrics.
type Status struct {
	// Registered is true while the node has a record in the store.
	Registered bool
	// Draining is true while an operator drains the node (psgate node
	// drain); Closed once Close ran. Either way Admit refuses.
	Draining, Closed bool
	// Deadline is when the node stops trusting its leases unless a
	// renewal succeeds before; zero before registration.
	Deadline time.Time
}

// Status returns the lease keeper's state now.
func (a *Admitter) Status() Status {
	a.mu.Lock()
	k := a.keep
	a.mu.Unlock()
	st := Status{Registered: k.registered, Draining: k.draining, Closed: k.closed}
	if k.registered {
		st.Deadline = k.deadline
	}
	return st
}

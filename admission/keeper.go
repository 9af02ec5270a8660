package admission

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/logkey"
	"github.com/psgate/psgate/store"
)

// keeperState is the lease keeper's view of this node. Guarded by
// Admitter.mu.
type keeperState struct {
	registered bool
	closed     bool
	// deadline is the last successful renewal's send time plus the lease
	// TTL less the margin: past it the store may hand this node's slots
	// to someone else, so the node refuses Admit and drops its shells.
	deadline  time.Time
	nextRenew time.Time
	nextSweep time.Time
	draining  bool
}

// ready refuses admissions the node cannot back with a live lease: before
// registration, after Close, past the renewal deadline, or while the node
// drains.
func (a *Admitter) ready(now time.Time) error {
	a.mu.Lock()
	k := a.keep
	a.mu.Unlock()
	switch {
	case k.closed, k.draining:
		return psgate.E(psgate.CodeShuttingDown, nil)
	case !k.registered:
		return storeDown("admit", errors.New("node not registered with the store"))
	case !now.Before(k.deadline):
		return storeDown("admit", fmt.Errorf("leases not renewed since %s", k.deadline.Add(-a.cfg.LeaseTTL+a.cfg.Margin).Format(time.RFC3339)))
	}
	return nil
}

// Register records this node incarnation in the store. It deletes the
// leases of an earlier incarnation with the same NodeName (a process that
// was killed and restarted), auditing each, and starts the renewal
// deadline. Run registers by itself; calling Register first surfaces a
// store problem at startup.
func (a *Admitter) Register(ctx context.Context) error {
	return a.register(ctx, a.now())
}

func (a *Admitter) register(ctx context.Context, now time.Time) error {
	a.gate.Lock()
	defer a.gate.Unlock()
	reclaimed, err := a.st.RegisterNode(ctx, store.Node{
		ID: a.cfg.NodeID, Name: a.cfg.NodeName, InternalURL: a.cfg.InternalURL, StartedAt: now,
	}, a.cfg.LeaseTTL)
	if err != nil {
		return fmt.Errorf("admission: register node %s: %w", a.cfg.NodeName, err)
	}
	a.mu.Lock()
	a.keep.registered, a.keep.closed, a.keep.draining = true, false, false
	a.keep.deadline = now.Add(a.cfg.LeaseTTL - a.cfg.Margin)
	a.keep.nextRenew = now.Add(a.cfg.RenewEvery)
	a.mu.Unlock()
	for _, l := range reclaimed {
		a.auditLeaseGone(ctx, l, now, "reclaimed: node "+l.NodeID+" of the same name restarted")
	}
	a.log.Info("node registered", "name", a.cfg.NodeName, "reclaimed", len(reclaimed))
	return nil
}

// Tick does the keeper's work that is due at now and returns the IDs of
// the shells whose leases are lost: not renewed by the store (expired or
// removed by an administrator), every live shell when the node's record is
// gone, and every live shell once the renewal deadline has passed. live
// is every shell the gateway holds, with its state and last request time:
// their leases are renewed and changed activity is written to them, so
// quota refusals and Get-CsOnlineSession show it. The server's loop calls
// Tick every second and closes the lost shells; tests call it with a fake
// clock.
func (a *Admitter) Tick(ctx context.Context, now time.Time, live []psgate.ShellActivity) []string {
	a.mu.Lock()
	k := a.keep
	a.mu.Unlock()
	if k.closed {
		return nil
	}
	live = a.notMoving(live)
	ids := make([]string, len(live))
	for i, sa := range live {
		ids[i] = sa.ShellID
	}
	var lost []string
	if !k.registered {
		if err := a.register(ctx, now); err != nil {
			a.log.Warn("register node failed", logkey.Err, err)
		}
	} else if !now.Before(k.nextRenew) {
		began := time.Now()
		lost = a.renew(ctx, now, ids, live, k.deadline)
		// The renewal may have waited on an unreachable store: judge the
		// deadline after it, not before (now may be a test's fake clock,
		// so it moves by the real time the renewal took).
		now = now.Add(time.Since(began))
	}
	a.mu.Lock()
	k = a.keep
	a.mu.Unlock()
	if k.registered && !now.Before(k.deadline) {
		if len(ids) > 0 {
			a.log.Error("lease renewal deadline passed; closing every shell of this node",
				"deadline", k.deadline, logkey.Shells, len(ids))
		}
		lost = append(lost, ids...)
	}
	if !now.Before(k.nextSweep) {
		a.sweep(ctx, now)
	}
	// A shell whose hand-over began during this Tick may have lost its
	// lease to the peer: that is no loss to act on.
	return a.dropMoving(dedupe(lost))
}

// renew extends the node and the live shells' leases. It gives up at the
// renewal deadline at the latest, so that a store that does not answer
// cannot keep the node past it: the shells must close before the store
// may hand their slots to another node.
func (a *Admitter) renew(ctx context.Context, now time.Time, live []string, acts []psgate.ShellActivity, deadline time.Time) []string {
	timeout := a.cfg.RenewTimeout
	if left := deadline.Sub(now); left > 0 && left < timeout {
		timeout = left
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	began := time.Now() // the real clock: now may be a test's fake one
	res, err := a.st.RenewNode(rctx, a.cfg.NodeID, live, a.cfg.LeaseTTL, now)
	a.cfg.Observer.Renewal(time.Since(began), err)
	cancel()
	if err != nil {
		// Retry sooner than the period: several attempts fit before the
		// deadline.
		a.mu.Lock()
		a.keep.nextRenew = now.Add(a.cfg.RenewEvery / 4)
		a.mu.Unlock()
		a.log.Warn("lease renewal failed", logkey.Shells, len(live), logkey.Err, err)
		return nil
	}
	a.mu.Lock()
	a.keep.deadline = now.Add(a.cfg.LeaseTTL - a.cfg.Margin)
	a.keep.nextRenew = now.Add(a.cfg.RenewEvery)
	a.keep.draining = res.Draining
	if !res.NodeFound {
		a.keep.registered = false
	}
	a.mu.Unlock()
	if len(res.Lost) > 0 {
		a.log.Warn("leases lost; closing their shells", logkey.Shells, res.Lost)
	}
	a.reportActivity(ctx, acts)
	if !res.NodeFound {
		a.log.Error("this node's record is gone from the store; closing every shell and registering again")
		lost := append(res.Lost, live...)
		if err := a.register(ctx, now); err != nil {
			a.log.Warn("register node failed", logkey.Err, err)
		}
		return lost
	}
	return res.Lost
}

// reportActivity writes changed shell states and last-active times to
// their leases. Failures are logged: the next renewal tries again.
func (a *Admitter) reportActivity(ctx context.Context, current []psgate.ShellActivity) {
	a.mu.Lock()
	if a.reported == nil {
		a.reported = make(map[string]psgate.ShellActivity)
	}
	var changed []psgate.ShellActivity
	seen := make(map[string]bool, len(current))
	for _, sa := range current {
		seen[sa.ShellID] = true
		if prev, ok := a.reported[sa.ShellID]; !ok || prev.State != sa.State || !prev.LastActive.Equal(sa.LastActive) {
			changed = append(changed, sa)
		}
	}
	for id := range a.reported {
		if !seen[id] {
			delete(a.reported, id)
		}
	}
	a.mu.Unlock()
	if len(changed) == 0 {
		return
	}
	// One write for all of them: a node with thousands of busy shells
	// would otherwise spend its renewal period committing one by one.
	acts := make([]store.LeaseActivity, len(changed))
	for i, sa := range changed {
		acts[i] = store.LeaseActivity{ShellID: sa.ShellID, State: string(sa.State), LastActive: sa.LastActive}
	}
	if _, err := a.st.UpdateLeases(ctx, acts); err != nil {
		a.log.Warn("update lease activity", logkey.Shells, len(acts), logkey.Err, err)
		return
	}
	a.mu.Lock()
	for _, sa := range changed {
		a.reported[sa.ShellID] = sa
	}
	a.mu.Unlock()
}

// sweep deletes expired leases of every node and audits each.
func (a *Admitter) sweep(ctx context.Context, now time.Time) {
	a.mu.Lock()
	a.keep.nextSweep = now.Add(a.cfg.SweepEvery)
	a.mu.Unlock()
	expired, err := a.st.SweepExpired(ctx, now, 0)
	if err != nil {
		a.log.Warn("sweeping expired leases failed", logkey.Err, err)
		return
	}
	for _, l := range expired {
		a.auditLeaseGone(ctx, l, now, "lease expired: node "+l.NodeID+" stopped renewing it")
	}
}

// auditLeaseGone records a lease that ended without a Release.
func (a *Admitter) auditLeaseGone(ctx context.Context, l store.Lease, now time.Time, detail string) {
	a.audit(context.WithoutCancel(ctx), store.AuditRecord{
		Time: now, TenantID: l.TenantID, UserID: l.UserID, UPN: l.UPN,
		Action: store.ActionSessionClose, ShellID: l.ShellID, Outcome: store.OutcomeOK,
		ClientAddr: l.ClientAddr, Detail: detail,
	})
}

// Close deregisters the node at a clean shutdown, after the gateway closed
// its shells: any lease left is deleted and audited, and Admit refuses from
// now on.
func (a *Admitter) Close(ctx context.Context) error {
	a.gate.Lock()
	defer a.gate.Unlock()
	a.mu.Lock()
	wasRegistered := a.keep.registered
	a.keep.closed, a.keep.registered = true, false
	a.mu.Unlock()
	if !wasRegistered {
		return nil
	}
	left, err := a.st.DeregisterNode(ctx, a.cfg.NodeID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("admission: deregister node %s: %w", a.cfg.NodeID, err)
	}
	now := a.now()
	for _, l := range left {
		a.auditLeaseGone(ctx, l, now, "reason: shutdown")
	}
	return nil
}

// dedupe removes repeated IDs, keeping the first occurrence.
func dedupe(ids []string) []string {
	if len(ids) < 2 {
		return ids
	}
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

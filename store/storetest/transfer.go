package storetest

import (
	"testing"
	"time"

	"github.com/psgate/psgate/store"
)

// testLeaseTransfer: a draining node hands a shell over to a peer. The
// slot moves with it: the quota count never drops, no creation is logged,
// the shell keeps its opening time, and from then on only the new owner
// renews or releases it.
func testLeaseTransfer(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	u := e.user(t, tn.ID, "alice@contoso.test")
	e.register(t, "id-1", "gw1:5986", time.Hour)
	e.register(t, "id-2", "gw2:5986", time.Hour)
	for i := range 3 {
		r := e.req(i, u)
		r.NodeID, r.Name, r.ClientAddr, r.UserAgent = "id-1", "s", "192.0.2.7", "pypsrp"
		e.acquire(t, r)
	}
	wantErr(t, "UpdateLease", e.s.UpdateLease(e.ctx, shellID(0), store.StateDisconnected, e.clock.Now()), nil)
	first, err := e.s.Lease(e.ctx, shellID(0))
	wantErr(t, "Lease", err, nil)

	e.clock.Advance(10 * time.Second)
	moved, err := e.s.TransferLease(e.ctx, shellID(0), "id-1", "id-2", ttl, e.clock.Now())
	wantErr(t, "TransferLease", err, nil)
	want := first
	want.NodeID, want.ExpiresAt = "id-2", moved.ExpiresAt
	if diff := diff(moved, want); diff != "" {
		t.Errorf("TransferLease() (-got +want):\n%s", diff)
	}
	if d := moved.ExpiresAt.Sub(first.ExpiresAt); d < 9*time.Second || d > 11*time.Second {
		t.Errorf("transferred lease expires %v after the original, want about 10s (now+ttl)", d)
	}
	got, err := e.s.Lease(e.ctx, shellID(0))
	wantErr(t, "Lease(transferred)", err, nil)
	if got.NodeID != "id-2" {
		t.Errorf("Lease() node = %s, want id-2", got.NodeID)
	}

	// The user still holds three slots: nobody could take one in between.
	_, err = e.s.AcquireLease(e.ctx, e.req(3, u))
	quotaErr(t, err)
	n, err := e.s.CountCreations(e.ctx, tn.ID, u.ID, time.Hour, e.clock.Now())
	wantErr(t, "CountCreations", err, nil)
	if n != 3 {
		t.Errorf("CountCreations() after transfer = %d, want 3 (a hand-over is no creation)", n)
	}

	// A retry of the same transfer (its answer was lost) succeeds.
	again, err := e.s.TransferLease(e.ctx, shellID(0), "id-1", "id-2", ttl, e.clock.Now())
	wantErr(t, "TransferLease(retry)", err, nil)
	if again.NodeID != "id-2" {
		t.Errorf("retried TransferLease() node = %s, want id-2", again.NodeID)
	}

	// The giver no longer renews or releases it; the taker does.
	res, err := e.s.RenewNode(e.ctx, "id-1", []string{shellID(0), shellID(1)}, ttl, e.clock.Now())
	wantErr(t, "RenewNode(giver)", err, nil)
	if diff := diff(res, store.RenewResult{Lost: []string{shellID(0)}, NodeFound: true}); diff != "" {
		t.Errorf("RenewNode(giver) (-got +want):\n%s", diff)
	}
	res, err = e.s.RenewNode(e.ctx, "id-2", []string{shellID(0)}, ttl, e.clock.Now())
	wantErr(t, "RenewNode(taker)", err, nil)
	if len(res.Lost) != 0 {
		t.Errorf("RenewNode(taker) lost %v, want nothing", res.Lost)
	}
	wantErr(t, "ReleaseLease(giver)", e.s.ReleaseLease(e.ctx, shellID(0), "id-1"), store.ErrNotFound)

	// Refusals: not the owner, unknown or dead target, expired lease.
	_, err = e.s.TransferLease(e.ctx, shellID(1), "id-9", "id-2", ttl, e.clock.Now())
	wantErr(t, "TransferLease(not the owner)", err, store.ErrNotFound)
	_, err = e.s.TransferLease(e.ctx, shellID(1), "id-1", "id-9", ttl, e.clock.Now())
	wantErr(t, "TransferLease(unknown node)", err, store.ErrNotFound)
	_, err = e.s.TransferLease(e.ctx, shellID(77), "id-1", "id-2", ttl, e.clock.Now())
	wantErr(t, "TransferLease(unknown shell)", err, store.ErrNotFound)
	e.register(t, "id-3", "gw3:5986", 20*time.Second)
	e.clock.Advance(30 * time.Second) // id-3 is dead; shells 1 and 2 still live (renewed or 45s)
	_, err = e.s.TransferLease(e.ctx, shellID(1), "id-1", "id-3", ttl, e.clock.Now())
	wantErr(t, "TransferLease(dead node)", err, store.ErrNotFound)
	e.clock.Advance(ttl)
	_, err = e.s.TransferLease(e.ctx, shellID(2), "id-1", "id-2", ttl, e.clock.Now())
	wantErr(t, "TransferLease(expired lease)", err, store.ErrNotFound)
	_, err = e.s.TransferLease(e.ctx, "", "id-1", "id-2", ttl, e.clock.Now())
	wantErr(t, "TransferLease(no shell)", err, store.ErrInvalid)
	if n := e.liveCount(t, store.LeaseFilter{NodeID: "id-2"}); n != 0 {
		t.Errorf("live leases on id-2 after expiry = %d, want 0", n)
	}
}

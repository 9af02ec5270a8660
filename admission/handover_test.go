package admission

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// TestAdoptMovesTheSlotNotTheQuota: a shell handed over from a draining
// node keeps its slot (nobody can take it in between), the taker renews
// and releases it from then on, the giver neither renews nor releases it,
// and the move is audited once.
func TestAdoptMovesTheSlotNotTheQuota(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	giver, taker, alice := e.handOverPair(t)
	p := e.principal(e.tenant, alice)
	limit := e.tenant.Policy.MaxShellsPerUser
	for i := range limit {
		if _, _, err := giver.Admit(ctx, e.request(e.tenant, alice, shellID(i))); err != nil {
			t.Fatalf("Admit(%d) error = %v", i, err)
		}
	}
	for range 6 {
		e.tick(ctx, 10*time.Second, giver, taker)
	}

	giver.BeginHandOver(shellID(0))
	grant, auth, err := taker.Adopt(ctx, shellID(0), p, giver.NodeID())
	if err != nil {
		t.Fatalf("Adopt() error = %v", err)
	}
	giver.EndHandOver(shellID(0), true)
	if auth == nil || len(grant.Roles) == 0 {
		t.Errorf("Adopt() grant = %+v, authorizer %v; want the owner's roles and an authorizer", grant, auth)
	}
	if want := e.tenant.Policy.SessionLifetime; grant.Lifetime != want {
		t.Errorf("Adopt() lifetime = %v, want the policy's %v counted from the original opening", grant.Lifetime, want)
	}
	l, err := e.db.Lease(ctx, shellID(0))
	if err != nil || l.NodeID != taker.NodeID() {
		t.Fatalf("lease after Adopt = %+v, %v; want it on the taker", l, err)
	}
	if n := e.liveCount(t, e.tenant.ID, alice.ID); n != limit {
		t.Errorf("live leases after the move = %d, want %d", n, limit)
	}
	if _, _, err := taker.Admit(ctx, e.request(e.tenant, alice, "ANOTHER")); codeOf(err) != psgate.CodeUserQuotaExceeded {
		t.Errorf("Admit() past the quota after a move: code = %q, want %q", codeOf(err), psgate.CodeUserQuotaExceeded)
	}

	// Two minutes of renewals: the giver no longer holds the shell, the
	// taker keeps its lease alive.
	for range 12 {
		for i, lost := range e.tick(ctx, 10*time.Second, giver, taker) {
			if len(lost) > 0 {
				t.Fatalf("Tick() of admitter %d lost %v", i, lost)
			}
		}
	}
	if _, err := e.db.Lease(ctx, shellID(0)); err != nil {
		t.Errorf("Lease() two minutes after the move error = %v, want it renewed by the taker", err)
	}
	if slices.ContainsFunc(held(giver, e.clock.Now()), func(sa psgate.ShellActivity) bool { return sa.ShellID == shellID(0) }) {
		t.Error("the giver still holds the moved shell")
	}

	hand := e.audits(t, e.tenant.ID, ActionSessionHandOver)
	if len(hand) != 1 || hand[0].ShellID != shellID(0) || !strings.Contains(hand[0].Detail, giver.NodeID()) ||
		!strings.Contains(hand[0].Detail, taker.NodeID()) || hand[0].ClientAddr != "192.0.2.10" {
		t.Errorf("hand-over audit = %+v, want one record naming both nodes and the client", hand)
	}
	if closes := e.audits(t, e.tenant.ID, store.ActionSessionClose); len(closes) != 0 {
		t.Errorf("session.close records after a move = %d, want none", len(closes))
	}

	// The taker's Release frees the slot, as for its own shells.
	taker.Release(ctx, shellID(0), psgate.CloseReason{Cause: psgate.CloseClient})
	if n := e.liveCount(t, e.tenant.ID, alice.ID); n != limit-1 {
		t.Errorf("live leases after the taker released the shell = %d, want %d", n, limit-1)
	}
	closes := e.audits(t, e.tenant.ID, store.ActionSessionClose)
	if len(closes) != 1 || closes[0].UPN != alice.UPN || strings.Contains(closes[0].Detail, "already expired") {
		t.Errorf("close audit after the taker's Release = %+v", closes)
	}
}

// TestAdoptRereadsRights: a user disabled or stripped of every role since
// the shell opened does not get it handed over; the shell and its lease
// stay on the giver.
func TestAdoptRereadsRights(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	giver, taker, alice := e.handOverPair(t)
	e.admitS1(ctx, t, giver, alice)
	alice.Enabled = false
	if _, err := e.db.UpdateUser(ctx, alice); err != nil {
		t.Fatal(err)
	}
	giver.BeginHandOver("S1")
	_, _, err := taker.Adopt(ctx, "S1", e.principal(e.tenant, alice), giver.NodeID())
	giver.EndHandOver("S1", false)
	if codeOf(err) != psgate.CodeLogonFailed {
		t.Errorf("Adopt() for a disabled user: code = %q, want %q", codeOf(err), psgate.CodeLogonFailed)
	}
	if l, err := e.db.Lease(ctx, "S1"); err != nil || l.NodeID != giver.NodeID() {
		t.Errorf("lease after a refused hand-over = %+v, %v; want it still on the giver", l, err)
	}
	refused := e.audits(t, e.tenant.ID, store.ActionSessionRefused)
	if len(refused) != 1 || !strings.Contains(refused[0].Detail, "hand-over") {
		t.Errorf("refusal audit = %+v, want one hand-over refusal", refused)
	}
	// The refused shell is renewed by the giver as before.
	for range 6 {
		if lost := e.tick(ctx, 10*time.Second, giver)[0]; len(lost) > 0 {
			t.Fatalf("giver lost %v after a refused hand-over", lost)
		}
	}
}

// TestAdoptRefusesWhatThePeerDoesNotHold: a lease of another node, of
// another user, or none at all is not taken.
func TestAdoptRefusesWhatThePeerDoesNotHold(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	giver, taker, alice := e.handOverPair(t)
	bob := e.addUser(t, e.tenant, "bob", store.RoleTenantAdministrator)
	e.admitS1(ctx, t, giver, alice)
	for name, try := range map[string]func() error{
		"wrong node": func() error { _, _, err := taker.Adopt(ctx, "S1", e.principal(e.tenant, alice), "node-x"); return err },
		"no lease": func() error {
			_, _, err := taker.Adopt(ctx, "S9", e.principal(e.tenant, alice), giver.NodeID())
			return err
		},
		"other owner": func() error {
			_, _, err := taker.Adopt(ctx, "S1", e.principal(e.tenant, bob), giver.NodeID())
			return err
		},
	} {
		if err := try(); codeOf(err) != psgate.CodeShellNotFound {
			t.Errorf("Adopt(%s): code = %q, want %q", name, codeOf(err), psgate.CodeShellNotFound)
		}
	}
	if l, err := e.db.Lease(ctx, "S1"); err != nil || l.NodeID != giver.NodeID() {
		t.Errorf("lease after refused adoptions = %+v, %v; want it still on the giver", l, err)
	}
	// An adoption the taker's gateway could not install goes back.
	if _, _, err := taker.Adopt(ctx, "S1", e.principal(e.tenant, alice), giver.NodeID()); err != nil {
		t.Fatal(err)
	}
	taker.ReturnLease(ctx, "S1", giver.NodeID())
	if l, err := e.db.Lease(ctx, "S1"); err != nil || l.NodeID != giver.NodeID() {
		t.Errorf("lease after ReturnLease = %+v, %v; want it back on the giver", l, err)
	}
	if got := held(taker, e.clock.Now()); len(got) != 0 {
		t.Errorf("the taker still holds %v after ReturnLease", got)
	}
}

// TestHandOverIsNoLoss: a renewal that runs while a shell is moving does
// not report it lost although the peer already holds its lease.
func TestHandOverIsNoLoss(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	giver, taker, alice := e.handOverPair(t)
	e.admitS1(ctx, t, giver, alice)
	still := held(giver, e.clock.Now()) // the gateway lists it until the move ends
	giver.BeginHandOver("S1")
	if _, _, err := taker.Adopt(ctx, "S1", e.principal(e.tenant, alice), giver.NodeID()); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(11 * time.Second)
	if lost := giver.Tick(ctx, e.clock.Now(), still); len(lost) > 0 {
		t.Errorf("Tick() during the move lost %v, want nothing", lost)
	}
	giver.EndHandOver("S1", true)
}

// handOverPair is two nodes on the environment's store, a giver and a
// taker, and a tenant administrator alice.
func (e *testEnv) handOverPair(t *testing.T) (giver, taker *Admitter, alice store.User) {
	t.Helper()
	giver = e.admitter(t)
	taker = e.admitter(t, func(c *Config) { c.NodeName = "node-b:5986" })
	return giver, taker, e.addUser(t, e.tenant, "alice", store.RoleTenantAdministrator)
}

// admitS1 opens alice's shell S1 on a.
func (e *testEnv) admitS1(ctx context.Context, t *testing.T, a *Admitter, alice store.User) {
	t.Helper()
	if _, _, err := a.Admit(ctx, e.request(e.tenant, alice, "S1")); err != nil {
		t.Fatal(err)
	}
}

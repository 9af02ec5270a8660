package admission

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// fakeGateway holds shells the way the gateway does: it lists them for
// renewal and closes (releases) the ones reported lost.
type fakeGateway struct {
	mu     sync.Mutex
	a      *Admitter
	shells map[string]bool
}

func newFakeGateway(e *testEnv, tb testing.TB, change ...func(*Config)) *fakeGateway {
	g := &fakeGateway{shells: map[string]bool{}}
	g.a = e.admitter(tb, change...)
	return g
}

// tick is the server's loop step: the admitter renews the shells this
// gateway holds.
func (g *fakeGateway) tick(ctx context.Context, now time.Time) []string {
	ids := g.live()
	acts := make([]psgate.ShellActivity, len(ids))
	for i, id := range ids {
		acts[i] = psgate.ShellActivity{ShellID: id, State: psgate.ShellConnected, LastActive: now}
	}
	return g.a.Tick(ctx, now, acts)
}

func (g *fakeGateway) live() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	ids := make([]string, 0, len(g.shells))
	for id := range g.shells {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (g *fakeGateway) open(ctx context.Context, req psgate.ShellRequest) error {
	if _, _, err := g.a.Admit(ctx, req); err != nil {
		return err
	}
	g.mu.Lock()
	g.shells[req.ShellID] = true
	g.mu.Unlock()
	return nil
}

func (g *fakeGateway) close(ctx context.Context, id, reason string) {
	g.mu.Lock()
	held := g.shells[id]
	delete(g.shells, id)
	g.mu.Unlock()
	if held {
		g.a.Release(ctx, id, psgate.CloseReason{Cause: psgate.CloseCause(reason)})
	}
}

// onLost closes the lost shells, as the server's wiring will.
func (g *fakeGateway) onLost(ctx context.Context, ids []string) {
	for _, id := range ids {
		g.close(ctx, id, "lost")
	}
}

func TestKeeperRenewalKeepsLeasesAlive(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	g := newFakeGateway(e, t)
	u := e.addUser(t, e.tenant, "u", store.RoleTenantAdministrator)
	for i := range 2 {
		if err := g.open(ctx, e.request(e.tenant, u, shellID(i))); err != nil {
			t.Fatal(err)
		}
	}
	for range 60 { // 5 minutes in 5 s steps
		if lost := e.tick(ctx, 5*time.Second, g.a)[0]; len(lost) > 0 {
			t.Fatalf("Tick() lost %v at %v", lost, e.clock.Offset())
		}
	}
	if n := e.liveCount(t, e.tenant.ID, 0); n != 2 {
		t.Errorf("live leases after 5 minutes of renewal = %d, want 2", n)
	}
	if _, _, err := g.a.Admit(ctx, e.request(e.tenant, u, "LATE")); err != nil {
		t.Errorf("Admit() after 5 minutes error = %v", err)
	}
}

// A node that stops renewing (a crash) loses its slots within the lease TTL.
func TestKeeperCrashedNodeSlotsExpire(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	crashed := newFakeGateway(e, t)
	other := newFakeGateway(e, t, func(c *Config) { c.NodeName = "node-b:5986" })
	u := e.addUser(t, e.tenant, "alice", store.RoleTenantAdministrator)
	for i := range 3 {
		if err := crashed.open(ctx, e.request(e.tenant, u, shellID(i))); err != nil {
			t.Fatal(err)
		}
	}
	// From here on only the other node ticks.
	for e.clock.Offset() < 40*time.Second {
		e.tick(ctx, 5*time.Second, other.a)
		if err := other.open(ctx, e.request(e.tenant, u, "B-EARLY")); codeOf(err) != psgate.CodeUserQuotaExceeded {
			t.Fatalf("at %v: Admit on the other node = %v, want %s", e.clock.Offset(), err, psgate.CodeUserQuotaExceeded)
		}
	}
	e.tick(ctx, 5*time.Second, other.a) // 45 s: the leases expire now
	if err := other.open(ctx, e.request(e.tenant, u, "B-1")); err != nil {
		t.Fatalf("at %v: Admit after the crashed node's TTL error = %v", e.clock.Offset(), err)
	}
	e.tick(ctx, 15*time.Second, other.a) // sweep
	var expired []string
	for _, r := range e.audits(t, e.tenant.ID, store.ActionSessionClose) {
		if strings.HasPrefix(r.Detail, "lease expired") {
			expired = append(expired, r.ShellID)
		}
	}
	sort.Strings(expired)
	if diff := cmp.Diff(expired, []string{shellID(0), shellID(1), shellID(2)}); diff != "" {
		t.Errorf("lease-expired audit records mismatch (-got +want):\n%s", diff)
	}
	// Were the crashed node only frozen, it now drops every shell.
	lost := crashed.tick(ctx, e.clock.Now())
	sort.Strings(lost)
	if diff := cmp.Diff(lost, []string{shellID(0), shellID(1), shellID(2)}); diff != "" {
		t.Errorf("frozen node's Tick() lost mismatch (-got +want):\n%s", diff)
	}
}

func TestKeeperReportsLeasesRemovedByAnAdministrator(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	g := newFakeGateway(e, t)
	u := e.addUser(t, e.tenant, "u", store.RoleTenantAdministrator)
	for i := range 3 {
		if err := g.open(ctx, e.request(e.tenant, u, shellID(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.db.ReleaseLease(ctx, shellID(1), ""); err != nil {
		t.Fatal(err)
	}
	if lost := e.tick(ctx, 5*time.Second, g.a)[0]; len(lost) != 0 {
		t.Errorf("Tick() before the renewal is due lost %v", lost)
	}
	lost := e.tick(ctx, 5*time.Second, g.a)[0]
	if diff := cmp.Diff(lost, []string{shellID(1)}); diff != "" {
		t.Errorf("Tick() lost mismatch (-got +want):\n%s", diff)
	}
	g.onLost(ctx, lost)
	if got := g.live(); !slices.Equal(got, []string{shellID(0), shellID(2)}) {
		t.Errorf("live shells = %v", got)
	}
}

func TestKeeperFailsClosedPastTheDeadline(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	fs := &failingStore{Store: e.db, fail: map[string]bool{}}
	g := newFakeGateway(e, t, func(c *Config) { c.Store = fs })
	u := e.addUser(t, e.tenant, "u", store.RoleTenantAdministrator)
	for i := range 2 {
		if err := g.open(ctx, e.request(e.tenant, u, shellID(i))); err != nil {
			t.Fatal(err)
		}
	}
	fs.fail["RenewNode"] = true
	// Registered at 0 s: the deadline is 45 s − 5 s = 40 s.
	for e.clock.Offset() < 39*time.Second {
		if lost := e.tick(ctx, time.Second, g.a)[0]; len(lost) != 0 {
			t.Fatalf("at %v: lost %v before the deadline", e.clock.Offset(), lost)
		}
	}
	if err := g.open(ctx, e.request(e.tenant, u, "BEFORE")); err != nil {
		t.Fatalf("at 39 s: Admit() error = %v, want admitted before the deadline", err)
	}
	lost := e.tick(ctx, time.Second, g.a)[0]
	if diff := cmp.Diff(lost, []string{"BEFORE", shellID(0), shellID(1)}); diff != "" {
		t.Errorf("at 40 s: lost mismatch (-got +want):\n%s", diff)
	}
	_, _, err := g.a.Admit(ctx, e.request(e.tenant, u, "AFTER"))
	if got := codeOf(err); got != psgate.CodeStoreDown {
		t.Errorf("at 40 s: Admit() code = %q, want %q", got, psgate.CodeStoreDown)
	}
	g.onLost(ctx, lost)

	// The store comes back: the node renews and admits again.
	fs.fail["RenewNode"] = false
	e.tick(ctx, 3*time.Second, g.a)
	if err := g.open(ctx, e.request(e.tenant, u, "HEALED")); err != nil {
		t.Errorf("after recovery: Admit() error = %v", err)
	}
	if n := e.liveCount(t, e.tenant.ID, 0); n != 1 {
		t.Errorf("live leases after recovery = %d, want 1 (HEALED)", n)
	}
}

func TestKeeperNodeRecordGone(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	g := newFakeGateway(e, t)
	u := e.addUser(t, e.tenant, "u", store.RoleTenantAdministrator)
	if err := g.open(ctx, e.request(e.tenant, u, "S1")); err != nil {
		t.Fatal(err)
	}
	// Another node's operator declared this incarnation dead.
	if _, err := e.db.DeregisterNode(ctx, g.a.NodeID()); err != nil {
		t.Fatal(err)
	}
	lost := e.tick(ctx, 10*time.Second, g.a)[0]
	if diff := cmp.Diff(lost, []string{"S1"}); diff != "" {
		t.Errorf("lost mismatch (-got +want):\n%s", diff)
	}
	g.onLost(ctx, lost)
	if err := g.open(ctx, e.request(e.tenant, u, "S2")); err != nil {
		t.Errorf("Admit() after re-registration error = %v", err)
	}
	if lost := e.tick(ctx, 10*time.Second, g.a)[0]; len(lost) != 0 {
		t.Errorf("lost %v after re-registration", lost)
	}
}

// A process killed and restarted under the same name gets its slots back
// at once.
func TestKeeperRestartReclaimsSlots(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	first := e.admitter(t)
	u := e.addUser(t, e.tenant, "u", store.RoleTenantAdministrator)
	for i := range 3 {
		if _, _, err := first.Admit(ctx, e.request(e.tenant, u, shellID(i))); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(time.Second)
	second := e.admitter(t) // same NodeName, new NodeID
	if _, _, err := second.Admit(ctx, e.request(e.tenant, u, "AFTER-RESTART")); err != nil {
		t.Errorf("Admit() after restart error = %v", err)
	}
	var reclaimed int
	for _, r := range e.audits(t, e.tenant.ID, store.ActionSessionClose) {
		if strings.HasPrefix(r.Detail, "reclaimed") {
			reclaimed++
		}
	}
	if reclaimed != 3 {
		t.Errorf("%d reclaimed audit records, want 3", reclaimed)
	}
}

package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

const ttl = 45 * time.Second

var leaseTests = []test{
	{"AcquireFields", testLeaseAcquireFields},
	{"UserQuota", testLeaseUserQuota},
	{"TenantQuota", testLeaseTenantQuota},
	{"UserQuotaConcurrent", testLeaseUserQuotaConcurrent},
	{"TenantQuotaConcurrent", testLeaseTenantQuotaConcurrent},
	{"NoLimit", testLeaseNoLimit},
	{"ReleaseFreesAtOnce", testLeaseRelease},
	{"ExpiryFrees", testLeaseExpiry},
	{"IdempotentRetry", testLeaseIdempotent},
	{"UpdateAndList", testLeaseUpdateAndList},
	{"UpdateMany", testLeaseUpdateMany},
	{"Sweep", testLeaseSweep},
	{"SweepConcurrent", testLeaseSweepConcurrent},
	{"CountCreations", testLeaseCountCreations},
	{"Invalid", testLeaseInvalid},
	{"RandomOperations", testLeaseRandomOperations},
	{"Transfer", testLeaseTransfer},
}

// req returns a lease request with the suite's defaults: node "node-a",
// WinRS, TTL 45 s, limits 3/20.
func (e *env) req(n int, u store.User) store.LeaseRequest {
	return store.LeaseRequest{
		ShellID: shellID(n), TenantID: u.TenantID, UserID: u.ID, NodeID: "node-a", Kind: store.KindWinRS,
		MaxPerUser: 3, MaxPerTenant: 20, TTL: ttl, Now: e.clock.Now(),
	}
}

func (e *env) acquire(t *testing.T, r store.LeaseRequest) store.Lease {
	t.Helper()
	r.Now = e.clock.Now()
	l, err := e.s.AcquireLease(e.ctx, r)
	if err != nil {
		t.Fatalf("AcquireLease(%s) error = %v", r.ShellID, err)
	}
	return l
}

func (e *env) liveCount(t *testing.T, f store.LeaseFilter) int {
	t.Helper()
	f.Now = e.clock.Now()
	ls, err := e.s.Leases(e.ctx, f)
	if err != nil {
		t.Fatalf("Leases() error = %v", err)
	}
	return len(ls)
}

func shellIDs(ls []store.Lease) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.ShellID)
	}
	return out
}

func testLeaseAcquireFields(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	u := e.user(t, tn.ID, "Alice@contoso.test")
	r := e.req(1, u)
	r.Kind, r.Name, r.ClientAddr, r.UserAgent = store.KindPSRP, "Session1", "192.0.2.7", "Microsoft WinRM Client"
	got := e.acquire(t, r)
	want := store.Lease{
		ShellID: shellID(1), TenantID: tn.ID, UserID: u.ID, UPN: "alice@contoso.test", NodeID: "node-a",
		Kind: store.KindPSRP, State: store.StateConnected, Name: "Session1", ClientAddr: "192.0.2.7",
		UserAgent: "Microsoft WinRM Client", OpenedAt: got.OpenedAt, LastActiveAt: got.OpenedAt, ExpiresAt: got.ExpiresAt,
	}
	if diff := diff(got, want); diff != "" {
		t.Errorf("AcquireLease() (-got +want):\n%s", diff)
	}
	if d := got.ExpiresAt.Sub(got.OpenedAt); d != ttl {
		t.Errorf("ExpiresAt - OpenedAt = %v, want the TTL %v", d, ttl)
	}
	read, err := e.s.Lease(e.ctx, shellID(1))
	wantErr(t, "Lease", err, nil)
	if diff := diff(read, want); diff != "" {
		t.Errorf("Lease() (-got +want):\n%s", diff)
	}
}

func testLeaseUserQuota(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	alice, bob := e.user(t, tn.ID, "alice@contoso.test"), e.user(t, tn.ID, "bob@contoso.test")
	for i := range 3 {
		e.acquire(t, e.req(i, alice))
	}
	e.acquire(t, e.req(10, bob))
	_, err := e.s.AcquireLease(e.ctx, e.req(3, alice))
	qe := quotaErr(t, err)
	if qe.Scope != store.QuotaScopeUser || qe.Limit != 3 || qe.Count != 3 {
		t.Errorf("QuotaError = %s/%d/%d, want user/3/3", qe.Scope, qe.Limit, qe.Count)
	}
	if diff := diff(shellIDs(qe.Holders), []string{shellID(0), shellID(1), shellID(2)}); diff != "" {
		t.Errorf("QuotaError.Holders (-got +want):\n%s", diff)
	}
	for _, h := range qe.Holders {
		if h.UPN != "alice@contoso.test" || h.UserID != alice.ID {
			t.Errorf("holder %s belongs to %s, want alice", h.ShellID, h.UPN)
		}
	}
	if n := e.liveCount(t, store.LeaseFilter{UserID: alice.ID}); n != 3 {
		t.Errorf("alice's leases after refusal = %d, want 3", n)
	}
	// A per-user override above the tenant default admits more.
	r := e.req(3, alice)
	r.MaxPerUser = 4
	e.acquire(t, r)
}

func testLeaseTenantQuota(t *testing.T, e *env) {
	tn, other := e.tenant(t, "contoso"), e.tenant(t, "fabrikam")
	var users []store.User
	for i := range 3 {
		users = append(users, e.user(t, tn.ID, fmt.Sprintf("u%d@contoso.test", i)))
	}
	for i := range 5 {
		r := e.req(i, users[i%3])
		r.MaxPerTenant = 5
		e.acquire(t, r)
	}
	r := e.req(5, users[2])
	r.MaxPerTenant = 5
	_, err := e.s.AcquireLease(e.ctx, r)
	qe := quotaErr(t, err)
	if qe.Scope != store.QuotaScopeTenant || qe.Limit != 5 || qe.Count != 5 || len(qe.Holders) != 5 {
		t.Errorf("QuotaError = %s/%d/%d with %d holders, want tenant/5/5 with 5", qe.Scope, qe.Limit, qe.Count, len(qe.Holders))
	}
	// Another tenant is not affected.
	x := e.user(t, other.ID, "x@fabrikam.test")
	r = e.req(100, x)
	r.MaxPerTenant = 5
	e.acquire(t, r)
}

// admitConcurrently runs one AcquireLease per request at once and returns
// how many were admitted; every refusal must be a *store.QuotaError.
func (e *env) admitConcurrently(t *testing.T, reqs []store.LeaseRequest) (admitted int, scopes map[string]int) {
	t.Helper()
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, r := range reqs {
		wg.Go(func() {
			<-start
			_, errs[i] = e.s.AcquireLease(e.ctx, r)
		})
	}
	close(start)
	wg.Wait()
	scopes = map[string]int{}
	for _, err := range errs {
		var qe *store.QuotaError
		switch {
		case err == nil:
			admitted++
		case errors.As(err, &qe):
			scopes[qe.Scope]++
		default:
			t.Errorf("AcquireLease() error = %v, want nil or *store.QuotaError", err)
		}
	}
	return admitted, scopes
}

func testLeaseUserQuotaConcurrent(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	u := e.user(t, tn.ID, "alice@contoso.test")
	reqs := make([]store.LeaseRequest, 200)
	for i := range reqs {
		reqs[i] = e.req(i, u)
	}
	admitted, scopes := e.admitConcurrently(t, reqs)
	if admitted != 3 || scopes[store.QuotaScopeUser] != 197 {
		t.Errorf("200 concurrent acquires by one user: %d admitted, refusals %v; want 3 and 197 user refusals", admitted, scopes)
	}
	if n := e.liveCount(t, store.LeaseFilter{TenantID: tn.ID}); n != 3 {
		t.Errorf("live leases = %d, want 3", n)
	}
}

func testLeaseTenantQuotaConcurrent(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	users := make([]store.User, 100)
	for i := range users {
		users[i] = e.user(t, tn.ID, fmt.Sprintf("user%03d@contoso.test", i))
	}
	reqs := make([]store.LeaseRequest, 500)
	for i := range reqs {
		reqs[i] = e.req(i, users[i%len(users)])
	}
	admitted, scopes := e.admitConcurrently(t, reqs)
	if admitted != 20 || scopes[store.QuotaScopeUser]+scopes[store.QuotaScopeTenant] != 480 {
		t.Errorf("500 concurrent acquires by 100 users: %d admitted, refusals %v; want 20 and 480", admitted, scopes)
	}
	ls, err := e.s.Leases(e.ctx, store.LeaseFilter{TenantID: tn.ID, Now: e.clock.Now()})
	wantErr(t, "Leases", err, nil)
	perUser := map[psgate.UserID]int{}
	for _, l := range ls {
		perUser[l.UserID]++
		if perUser[l.UserID] > 3 {
			t.Errorf("user %d holds %d leases, over the limit of 3", l.UserID, perUser[l.UserID])
		}
	}
	if len(ls) != 20 {
		t.Errorf("live leases = %d, want 20", len(ls))
	}
}

func testLeaseNoLimit(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	u := e.user(t, tn.ID, "alice@contoso.test")
	for i := range 25 {
		r := e.req(i, u)
		r.MaxPerUser, r.MaxPerTenant = 0, 0
		e.acquire(t, r)
	}
	if n := e.liveCount(t, store.LeaseFilter{UserID: u.ID}); n != 25 {
		t.Errorf("live leases without limits = %d, want 25", n)
	}
}

func testLeaseRelease(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	u := e.user(t, tn.ID, "alice@contoso.test")
	for i := range 3 {
		e.acquire(t, e.req(i, u))
	}
	wantErr(t, "ReleaseLease(by another node)", e.s.ReleaseLease(e.ctx, shellID(0), "node-b"), store.ErrNotFound)
	wantErr(t, "ReleaseLease(owner)", e.s.ReleaseLease(e.ctx, shellID(0), "node-a"), nil)
	_, err := e.s.Lease(e.ctx, shellID(0))
	wantErr(t, "Lease(released)", err, store.ErrNotFound)
	e.acquire(t, e.req(3, u)) // the slot is free at once, without moving the clock
	wantErr(t, "ReleaseLease(admin)", e.s.ReleaseLease(e.ctx, shellID(1), ""), nil)
	e.acquire(t, e.req(4, u))
	wantErr(t, "ReleaseLease(again)", e.s.ReleaseLease(e.ctx, shellID(1), ""), store.ErrNotFound)
}

func testLeaseExpiry(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	u := e.user(t, tn.ID, "alice@contoso.test")
	for i := range 3 {
		e.acquire(t, e.req(i, u))
	}
	e.clock.Advance(ttl - time.Second)
	_, err := e.s.AcquireLease(e.ctx, e.req(3, u))
	quotaErr(t, err)
	e.clock.Advance(2 * time.Second)
	e.acquire(t, e.req(3, u))
	if n := e.liveCount(t, store.LeaseFilter{UserID: u.ID}); n != 1 {
		t.Errorf("live leases after expiry = %d, want 1", n)
	}
	_, err = e.s.Lease(e.ctx, shellID(0))
	wantErr(t, "Lease(expired)", err, store.ErrNotFound)
}

func testLeaseIdempotent(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	u := e.user(t, tn.ID, "alice@contoso.test")
	first := e.acquire(t, e.req(1, u))
	again := e.acquire(t, e.req(1, u))
	if diff := diff(again, first); diff != "" {
		t.Errorf("retried AcquireLease() (-got +want):\n%s", diff)
	}
	if n := e.liveCount(t, store.LeaseFilter{UserID: u.ID}); n != 1 {
		t.Errorf("live leases after retry = %d, want 1", n)
	}
	n, err := e.s.CountCreations(e.ctx, tn.ID, u.ID, time.Minute, e.clock.Now())
	wantErr(t, "CountCreations", err, nil)
	if n != 1 {
		t.Errorf("CountCreations() after retry = %d, want 1", n)
	}
	r := e.req(1, u)
	r.NodeID = "node-b"
	_, err = e.s.AcquireLease(e.ctx, r)
	wantErr(t, "AcquireLease(same shell, other node)", err, store.ErrConflict)

	e.clock.Advance(ttl + time.Second)
	reused := e.acquire(t, r) // the expired row no longer blocks the ID
	if reused.NodeID != "node-b" {
		t.Errorf("lease after expiry owned by %s, want node-b", reused.NodeID)
	}
}

// testLeaseUpdateMany: a node reports the activity of all its shells in
// one call; shells closed meanwhile are skipped, a bad state writes
// nothing.
func testLeaseUpdateMany(t *testing.T, e *env) {
	a := e.tenant(t, "contoso")
	alice, bob := e.user(t, a.ID, "alice@contoso.test"), e.user(t, a.ID, "bob@contoso.test")
	e.acquire(t, e.req(1, alice))
	e.acquire(t, e.req(2, bob))
	t1, t2 := e.clock.Now().Add(3*time.Second), e.clock.Now().Add(7*time.Second)
	n, err := e.s.UpdateLeases(e.ctx, []store.LeaseActivity{
		{ShellID: shellID(1), State: store.StateDisconnected, LastActive: t1},
		{ShellID: shellID(99), State: store.StateConnected, LastActive: t1},
		{ShellID: shellID(2), State: store.StateConnected, LastActive: t2},
	})
	wantErr(t, "UpdateLeases", err, nil)
	if n != 2 {
		t.Errorf("UpdateLeases found %d leases, want 2 (the unknown shell skipped)", n)
	}
	for id, want := range map[int]struct {
		state string
		at    time.Time
	}{1: {store.StateDisconnected, t1}, 2: {store.StateConnected, t2}} {
		l, err := e.s.Lease(e.ctx, shellID(id))
		wantErr(t, "Lease", err, nil)
		if l.State != want.state || !l.LastActiveAt.Equal(want.at) {
			t.Errorf("lease %d: state %s last active %v, want %s %v", id, l.State, l.LastActiveAt, want.state, want.at)
		}
	}
	_, err = e.s.UpdateLeases(e.ctx, []store.LeaseActivity{
		{ShellID: shellID(2), State: store.StateDisconnected, LastActive: t1},
		{ShellID: shellID(1), State: "gone", LastActive: t1},
	})
	wantErr(t, "UpdateLeases(bad state)", err, store.ErrInvalid)
	if l, err := e.s.Lease(e.ctx, shellID(2)); err != nil || l.State != store.StateConnected {
		t.Errorf("after a refused batch, lease 2 state %s (%v), want it unchanged", l.State, err)
	}
	if n, err := e.s.UpdateLeases(e.ctx, nil); err != nil || n != 0 {
		t.Errorf("UpdateLeases(nil) = %d, %v", n, err)
	}
}

func testLeaseUpdateAndList(t *testing.T, e *env) {
	a, b := e.tenant(t, "contoso"), e.tenant(t, "fabrikam")
	alice, bob, carol := e.user(t, a.ID, "alice@contoso.test"), e.user(t, a.ID, "bob@contoso.test"), e.user(t, b.ID, "carol@fabrikam.test")
	e.acquire(t, e.req(1, alice))
	e.clock.Advance(time.Second)
	r := e.req(2, bob)
	r.NodeID = "node-b"
	e.acquire(t, r)
	e.acquire(t, e.req(3, carol))

	active := e.clock.Now().Add(5 * time.Second)
	wantErr(t, "UpdateLease", e.s.UpdateLease(e.ctx, shellID(1), store.StateDisconnected, active), nil)
	l, err := e.s.Lease(e.ctx, shellID(1))
	wantErr(t, "Lease", err, nil)
	if l.State != store.StateDisconnected || !l.LastActiveAt.Equal(active) {
		t.Errorf("after UpdateLease: state %s last active %v, want disconnected %v", l.State, l.LastActiveAt, active)
	}
	wantErr(t, "UpdateLease(bad state)", e.s.UpdateLease(e.ctx, shellID(1), "gone", active), store.ErrInvalid)
	wantErr(t, "UpdateLease(unknown)", e.s.UpdateLease(e.ctx, shellID(99), store.StateConnected, active), store.ErrNotFound)

	tests := []struct {
		name string
		f    store.LeaseFilter
		want []string
	}{
		{"all", store.LeaseFilter{}, []string{shellID(1), shellID(2), shellID(3)}},
		{"tenant", store.LeaseFilter{TenantID: a.ID}, []string{shellID(1), shellID(2)}},
		{"user", store.LeaseFilter{UserID: bob.ID}, []string{shellID(2)}},
		{"node", store.LeaseFilter{NodeID: "node-a"}, []string{shellID(1), shellID(3)}},
		{"tenant and node", store.LeaseFilter{TenantID: b.ID, NodeID: "node-b"}, nil},
	}
	for _, tt := range tests {
		tt.f.Now = e.clock.Now()
		got, err := e.s.Leases(e.ctx, tt.f)
		wantErr(t, "Leases("+tt.name+")", err, nil)
		if diff := diff(shellIDs(got), tt.want); diff != "" {
			t.Errorf("Leases(%s) (-got +want):\n%s", tt.name, diff)
		}
	}
}

func testLeaseSweep(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	u := e.user(t, tn.ID, "alice@contoso.test")
	short := e.req(1, u)
	short.TTL = 10 * time.Second
	e.acquire(t, short)
	e.acquire(t, e.req(2, u))
	e.clock.Advance(11 * time.Second)
	swept, err := e.s.SweepExpired(e.ctx, e.clock.Now(), 0)
	wantErr(t, "SweepExpired", err, nil)
	if diff := diff(shellIDs(swept), []string{shellID(1)}); diff != "" {
		t.Errorf("SweepExpired() (-got +want):\n%s", diff)
	}
	if len(swept) == 1 && (swept[0].UPN != "alice@contoso.test" || swept[0].TenantID != tn.ID) {
		t.Errorf("swept lease = %+v, want alice's lease with tenant and UPN", swept[0])
	}
	swept, err = e.s.SweepExpired(e.ctx, e.clock.Now(), 0)
	wantErr(t, "SweepExpired(again)", err, nil)
	if len(swept) != 0 {
		t.Errorf("second SweepExpired() = %v, want nothing", shellIDs(swept))
	}
	if n := e.liveCount(t, store.LeaseFilter{}); n != 1 {
		t.Errorf("live leases after sweep = %d, want 1", n)
	}
}

func testLeaseSweepConcurrent(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	u := e.user(t, tn.ID, "alice@contoso.test")
	const n = 60
	for i := range n {
		r := e.req(i, u)
		r.MaxPerUser, r.MaxPerTenant, r.TTL = 0, 0, 5*time.Second
		e.acquire(t, r)
	}
	e.clock.Advance(6 * time.Second)
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				swept, err := e.s.SweepExpired(e.ctx, e.clock.Now(), 7)
				if err != nil {
					t.Errorf("SweepExpired() error = %v", err)
					return
				}
				if len(swept) == 0 {
					return
				}
				mu.Lock()
				for _, l := range swept {
					seen[l.ShellID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("concurrent sweepers reported %d distinct leases, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("lease %s reported %d times, want once", id, c)
		}
	}
}

func testLeaseCountCreations(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	alice, bob := e.user(t, tn.ID, "alice@contoso.test"), e.user(t, tn.ID, "bob@contoso.test")
	e.acquire(t, e.req(1, alice))
	e.acquire(t, e.req(2, alice))
	wantErr(t, "ReleaseLease", e.s.ReleaseLease(e.ctx, shellID(1), ""), nil)
	e.clock.Advance(30 * time.Second)
	e.acquire(t, e.req(3, alice))
	e.acquire(t, e.req(4, bob))
	_, err := e.s.AcquireLease(e.ctx, func() store.LeaseRequest { r := e.req(5, bob); r.MaxPerUser = 1; return r }())
	quotaErr(t, err) // refusals are not creations

	count := func(userID psgate.UserID) int {
		t.Helper()
		n, err := e.s.CountCreations(e.ctx, tn.ID, userID, time.Minute, e.clock.Now())
		wantErr(t, "CountCreations", err, nil)
		return n
	}
	if got := count(alice.ID); got != 3 {
		t.Errorf("CountCreations(alice) = %d, want 3 (released shells count)", got)
	}
	if got := count(0); got != 4 {
		t.Errorf("CountCreations(tenant) = %d, want 4", got)
	}
	e.clock.Advance(31 * time.Second)
	if got := count(alice.ID); got != 1 {
		t.Errorf("CountCreations(alice) a minute later = %d, want 1", got)
	}
}

func testLeaseInvalid(t *testing.T, e *env) {
	a, b := e.tenant(t, "contoso"), e.tenant(t, "fabrikam")
	u := e.user(t, a.ID, "alice@contoso.test")
	tests := []struct {
		name string
		edit func(r *store.LeaseRequest)
		want error
	}{
		{"unknown user", func(r *store.LeaseRequest) { r.UserID += 100 }, store.ErrNotFound},
		{"user of other tenant", func(r *store.LeaseRequest) { r.TenantID = b.ID }, store.ErrNotFound},
		{"no shell ID", func(r *store.LeaseRequest) { r.ShellID = "" }, store.ErrInvalid},
		{"no node", func(r *store.LeaseRequest) { r.NodeID = "" }, store.ErrInvalid},
		{"bad kind", func(r *store.LeaseRequest) { r.Kind = "ssh" }, store.ErrInvalid},
		{"no TTL", func(r *store.LeaseRequest) { r.TTL = 0 }, store.ErrInvalid},
	}
	for _, tt := range tests {
		r := e.req(1, u)
		tt.edit(&r)
		_, err := e.s.AcquireLease(e.ctx, r)
		wantErr(t, "AcquireLease("+tt.name+")", err, tt.want)
	}
}

// testLeaseRandomOperations interleaves admissions, releases, clock moves,
// sweeps and node restarts, and checks after every step that no limit is
// exceeded.
func testLeaseRandomOperations(t *testing.T, e *env) {
	const maxUser, maxTenant = 2, 5
	tn := e.tenant(t, "contoso")
	users := make([]store.User, 4)
	for i := range users {
		users[i] = e.user(t, tn.ID, fmt.Sprintf("u%d@contoso.test", i))
	}
	rng := rand.New(rand.NewPCG(7, 11))
	nodes := []string{"id-1", "id-2"}
	for _, n := range nodes {
		e.register(t, n, "gw-"+n, time.Hour)
	}
	next := 0
	for step := range 300 {
		switch rng.IntN(6) {
		case 0, 1:
			r := e.req(next, users[rng.IntN(len(users))])
			r.NodeID, r.MaxPerUser, r.MaxPerTenant = nodes[rng.IntN(len(nodes))], maxUser, maxTenant
			r.TTL = time.Duration(5+rng.IntN(25)) * time.Second
			next++
			var qe *store.QuotaError
			if _, err := e.s.AcquireLease(e.ctx, r); err != nil && !errors.As(err, &qe) {
				t.Fatalf("step %d: AcquireLease() error = %v", step, err)
			}
		case 2:
			if next > 0 {
				err := e.s.ReleaseLease(e.ctx, shellID(rng.IntN(next)), "")
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("step %d: ReleaseLease() error = %v", step, err)
				}
			}
		case 3:
			e.clock.Advance(time.Duration(rng.IntN(10)) * time.Second)
		case 4:
			if _, err := e.s.SweepExpired(e.ctx, e.clock.Now(), 0); err != nil {
				t.Fatalf("step %d: SweepExpired() error = %v", step, err)
			}
		case 5:
			if rng.IntN(4) == 0 { // node id-1 restarts under a new ID
				nodes[0] = fmt.Sprintf("id-1.%d", step)
				e.register(t, nodes[0], "gw-id-1", time.Hour)
			}
		}
		ls, err := e.s.Leases(e.ctx, store.LeaseFilter{TenantID: tn.ID, Now: e.clock.Now()})
		if err != nil {
			t.Fatalf("step %d: Leases() error = %v", step, err)
		}
		perUser := map[psgate.UserID]int{}
		for _, l := range ls {
			perUser[l.UserID]++
			if perUser[l.UserID] > maxUser {
				t.Fatalf("step %d: user %d holds %d leases, over %d", step, l.UserID, perUser[l.UserID], maxUser)
			}
		}
		if len(ls) > maxTenant {
			t.Fatalf("step %d: tenant holds %d leases, over %d", step, len(ls), maxTenant)
		}
	}
}

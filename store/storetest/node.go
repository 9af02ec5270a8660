package storetest

import (
	"testing"
	"time"

	"github.com/psgate/psgate/store"
)

var nodeTests = []test{
	{"Register", testNodeRegister},
	{"ReregistrationReclaims", testNodeReregistrationReclaims},
	{"RenewReportsLost", testNodeRenewReportsLost},
	{"RenewAfterDeath", testNodeRenewAfterDeath},
	{"DrainingAndList", testNodeDrainingAndList},
}

func (e *env) register(t *testing.T, id, name string, ttl time.Duration) []store.Lease {
	t.Helper()
	reclaimed, err := e.s.RegisterNode(e.ctx, store.Node{ID: id, Name: name, InternalURL: "https://" + name + "/internal",
		StartedAt: e.clock.Now()}, ttl)
	if err != nil {
		t.Fatalf("RegisterNode(%s) error = %v", id, err)
	}
	return reclaimed
}

func testNodeRegister(t *testing.T, e *env) {
	if got := e.register(t, "id-1", "gw1:5986", ttl); len(got) != 0 {
		t.Errorf("RegisterNode() reclaimed %v, want nothing", shellIDs(got))
	}
	n, err := e.s.Node(e.ctx, "id-1")
	wantErr(t, "Node", err, nil)
	want := store.Node{ID: "id-1", Name: "gw1:5986", InternalURL: "https://gw1:5986/internal", StartedAt: n.StartedAt,
		ExpiresAt: n.StartedAt.Add(ttl)}
	if diff := diff(n, want); diff != "" {
		t.Errorf("Node() (-got +want):\n%s", diff)
	}
	_, err = e.s.Node(e.ctx, "id-2")
	wantErr(t, "Node(unknown)", err, store.ErrNotFound)
	_, err = e.s.RegisterNode(e.ctx, store.Node{Name: "gw2:5986"}, ttl)
	wantErr(t, "RegisterNode(no ID)", err, store.ErrInvalid)
}

func testNodeReregistrationReclaims(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	u := e.user(t, tn.ID, "alice@contoso.test")
	e.register(t, "id-1", "gw1:5986", ttl)
	e.register(t, "id-9", "gw9:5986", ttl)
	for i := range 2 {
		r := e.req(i, u)
		r.NodeID = "id-1"
		e.acquire(t, r)
	}
	r := e.req(2, u)
	r.NodeID = "id-9"
	e.acquire(t, r)

	// gw1 is killed and restarts as a new incarnation: its slots come back
	// at once, without waiting for the TTL.
	reclaimed := e.register(t, "id-2", "gw1:5986", ttl)
	if diff := diff(shellIDs(reclaimed), []string{shellID(0), shellID(1)}); diff != "" {
		t.Errorf("RegisterNode() reclaimed (-got +want):\n%s", diff)
	}
	_, err := e.s.Node(e.ctx, "id-1")
	wantErr(t, "Node(old incarnation)", err, store.ErrNotFound)
	if n := e.liveCount(t, store.LeaseFilter{NodeID: "id-9"}); n != 1 {
		t.Errorf("other node's leases = %d, want 1", n)
	}
	for i := 3; i < 5; i++ {
		r := e.req(i, u)
		r.NodeID = "id-2"
		e.acquire(t, r)
	}
	res, err := e.s.RenewNode(e.ctx, "id-1", []string{shellID(0)}, ttl, e.clock.Now())
	wantErr(t, "RenewNode(old incarnation)", err, nil)
	if res.NodeFound {
		t.Errorf("RenewNode(old incarnation).NodeFound = true, want false")
	}
}

func testNodeRenewReportsLost(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	u := e.user(t, tn.ID, "alice@contoso.test")
	e.register(t, "id-1", "gw1:5986", ttl)
	for i, d := range []time.Duration{ttl, ttl, 5 * time.Second} { // shells 0, 1, 2
		r := e.req(i, u)
		r.NodeID, r.TTL = "id-1", d
		e.acquire(t, r)
	}
	other := e.req(3, u)
	other.NodeID, other.MaxPerUser = "id-2", 0
	e.acquire(t, other)

	wantErr(t, "ReleaseLease(admin)", e.s.ReleaseLease(e.ctx, shellID(0), ""), nil) // removed by an administrator
	e.clock.Advance(10 * time.Second)                                               // shell 2 expired
	live := []string{shellID(0), shellID(1), shellID(2), shellID(3), shellID(77)}
	res, err := e.s.RenewNode(e.ctx, "id-1", live, ttl, e.clock.Now())
	wantErr(t, "RenewNode", err, nil)
	want := store.RenewResult{Lost: []string{shellID(0), shellID(2), shellID(3), shellID(77)}, NodeFound: true}
	if diff := diff(res, want); diff != "" {
		t.Errorf("RenewNode() (-got +want):\n%s", diff)
	}
	// Shell 1 was renewed: it outlives its original expiry.
	e.clock.Advance(ttl - 5*time.Second)
	if _, err := e.s.Lease(e.ctx, shellID(1)); err != nil {
		t.Errorf("Lease(renewed) error = %v, want it live past its first expiry", err)
	}
	n, err := e.s.Node(e.ctx, "id-1")
	wantErr(t, "Node", err, nil)
	if n.ExpiresAt.Sub(n.StartedAt) < ttl+10*time.Second-time.Second {
		t.Errorf("node expiry %v after start, want renewed to about %v", n.ExpiresAt.Sub(n.StartedAt), ttl+10*time.Second)
	}
}

func testNodeRenewAfterDeath(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	u := e.user(t, tn.ID, "alice@contoso.test")
	e.register(t, "id-1", "gw1:5986", 10*time.Second)
	r := e.req(1, u)
	r.NodeID, r.TTL = "id-1", 10*time.Second
	e.acquire(t, r)

	// Partitioned for longer than the TTL: the sweeper expires the lease
	// and then removes the dead node.
	e.clock.Advance(11 * time.Second)
	swept, err := e.s.SweepExpired(e.ctx, e.clock.Now(), 0)
	wantErr(t, "SweepExpired", err, nil)
	if len(swept) != 1 {
		t.Errorf("SweepExpired() = %v, want the node's lease", shellIDs(swept))
	}
	_, err = e.s.Node(e.ctx, "id-1")
	wantErr(t, "Node(dead, swept)", err, store.ErrNotFound)
	res, err := e.s.RenewNode(e.ctx, "id-1", []string{shellID(1)}, ttl, e.clock.Now())
	wantErr(t, "RenewNode", err, nil)
	want := store.RenewResult{Lost: []string{shellID(1)}, NodeFound: false}
	if diff := diff(res, want); diff != "" {
		t.Errorf("RenewNode(dead node) (-got +want):\n%s", diff)
	}

	// A clean shutdown removes the node and its leases together.
	e.register(t, "id-2", "gw1:5986", ttl)
	r = e.req(2, u)
	r.NodeID = "id-2"
	e.acquire(t, r)
	gone, err := e.s.DeregisterNode(e.ctx, "id-2")
	wantErr(t, "DeregisterNode", err, nil)
	if diff := diff(shellIDs(gone), []string{shellID(2)}); diff != "" {
		t.Errorf("DeregisterNode() (-got +want):\n%s", diff)
	}
	if n := e.liveCount(t, store.LeaseFilter{}); n != 0 {
		t.Errorf("live leases after DeregisterNode = %d, want 0", n)
	}
	_, err = e.s.DeregisterNode(e.ctx, "id-2")
	wantErr(t, "DeregisterNode(again)", err, store.ErrNotFound)
}

func testNodeDrainingAndList(t *testing.T, e *env) {
	e.register(t, "id-1", "gw1:5986", 10*time.Second)
	e.register(t, "id-2", "gw2:5986", time.Minute)
	wantErr(t, "SetDraining", e.s.SetDraining(e.ctx, "id-2", true), nil)
	wantErr(t, "SetDraining(unknown)", e.s.SetDraining(e.ctx, "id-3", true), store.ErrNotFound)
	res, err := e.s.RenewNode(e.ctx, "id-2", nil, time.Minute, e.clock.Now())
	wantErr(t, "RenewNode", err, nil)
	if !res.Draining || !res.NodeFound || len(res.Lost) != 0 {
		t.Errorf("RenewNode() = %+v, want found and draining, nothing lost", res)
	}
	list := func() []string {
		t.Helper()
		ns, err := e.s.ListNodes(e.ctx, e.clock.Now())
		wantErr(t, "ListNodes", err, nil)
		var out []string
		for _, n := range ns {
			out = append(out, n.ID)
		}
		return out
	}
	if diff := diff(list(), []string{"id-1", "id-2"}); diff != "" {
		t.Errorf("ListNodes() (-got +want):\n%s", diff)
	}
	e.clock.Advance(20 * time.Second)
	if diff := diff(list(), []string{"id-2"}); diff != "" {
		t.Errorf("ListNodes() after id-1 expired (-got +want):\n%s", diff)
	}
	n, err := e.s.Node(e.ctx, "id-2")
	wantErr(t, "Node", err, nil)
	if !n.Draining {
		t.Errorf("Node().Draining = false, want true")
	}
}

package interop

import (
	"context"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/server"
)

// TestDrainedNodeRefusesNewShells: a node an operator drains (psgate node
// drain sets the flag in the store) refuses new shells from its next lease
// renewal, while the shells it holds go on; undrained, it admits again.
func TestDrainedNodeRefusesNewShells(t *testing.T) {
	clock := &fakeClock{}
	ts := startServerWith(t, func(c *server.Config) { c.Now = clock.now })
	ctx := context.Background()
	renew := func() {
		clock.advance(10 * time.Second)
		ts.Tick(ctx)
	}
	open, f := create(t, ts.httpURL, server.DemoAdmin, adminPassword, "DRAIN-1")
	if f != nil {
		t.Fatal(f)
	}
	nodes, err := ts.Store().ListNodes(ctx, clock.now())
	if err != nil || len(nodes) != 1 {
		t.Fatalf("ListNodes() = %+v, %v; want this node", nodes, err)
	}
	if nodes[0].InternalURL != "" || nodes[0].Name != ts.Info().Node {
		// A node without an internal listener is reached by no peer.
		t.Errorf("node %q with URL %q, want %q without an internal URL", nodes[0].Name, nodes[0].InternalURL, ts.Info().Node)
	}
	if err := ts.Store().SetDraining(ctx, nodes[0].ID, true); err != nil {
		t.Fatal(err)
	}
	renew()
	_, f = create(t, ts.httpURL, server.DemoAdmin, adminPassword, "DRAIN-2")
	if f == nil || f.Reason != psgate.E(psgate.CodeShuttingDown, nil).Message {
		t.Fatalf("Create on a draining node: %+v, want %s", f, psgate.CodeShuttingDown)
	}
	if status, _, body := soapPost(t, ts.httpURL, server.DemoAdmin, adminPassword, envelope("DRAIN-CMD", actCommand, open,
		`<rsp:CommandLine><rsp:Command>Get-CsTenant</rsp:Command></rsp:CommandLine>`)); status != 200 {
		t.Fatalf("a command in a shell opened before the drain: HTTP %d\n%s", status, body)
	}
	if err := ts.Store().SetDraining(ctx, nodes[0].ID, false); err != nil {
		t.Fatal(err)
	}
	renew()
	if _, f := create(t, ts.httpURL, server.DemoAdmin, adminPassword, "DRAIN-3"); f != nil {
		t.Fatalf("Create after undrain: %+v", f)
	}
}

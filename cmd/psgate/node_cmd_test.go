//go:build !connector

package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/store"
)

func TestNodeListDrainUndrain(t *testing.T) {
	c := newCLI(t)
	c.seed()
	db := c.store()
	ctx := context.Background()
	for _, n := range []store.Node{
		{ID: "id-b", Name: "gw2:5986", InternalURL: "https://gw2:5986/wsman"},
		{ID: "id-a", Name: "gw1:5986", InternalURL: "https://gw1:5986/wsman"},
	} {
		if _, err := db.RegisterNode(ctx, n, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	admin := userByUPN(t, db, "admin@contoso.test")
	if _, err := db.AcquireLease(ctx, store.LeaseRequest{
		ShellID: "shell-1", TenantID: admin.TenantID, UserID: admin.ID, NodeID: "id-a", Kind: store.KindWinRS,
		MaxPerUser: 10, MaxPerTenant: 20, TTL: time.Minute,
	}); err != nil {
		t.Fatal(err)
	}

	var nodes []nodeJSON
	c.json(&nodes, "node", "list")
	if len(nodes) != 2 || nodes[0].Name != "gw1:5986" || nodes[0].Sessions != 1 || nodes[1].Sessions != 0 ||
		nodes[0].URL != "https://gw1:5986/wsman" || nodes[0].Draining {
		t.Fatalf("node list = %+v", nodes)
	}
	out := c.ok("", "node", "drain", "gw1:5986")
	if !strings.Contains(out, "Node gw1:5986 is draining") {
		t.Errorf("node drain said %q", out)
	}
	if n, err := db.Node(ctx, "id-a"); err != nil || !n.Draining {
		t.Errorf("after drain the store holds %+v, %v", n, err)
	}
	table := squeeze(c.ok("", "node", "list"))
	if !strings.Contains(table, "gw1:5986 draining 1 ") || !strings.Contains(table, "gw2:5986 serving 0 ") {
		t.Errorf("node list table:\n%s", table)
	}
	c.ok("", "node", "undrain", "id-a") // by ID too
	if n, err := db.Node(ctx, "id-a"); err != nil || n.Draining {
		t.Errorf("after undrain the store holds %+v, %v", n, err)
	}
	c.fails("no live gateway node is named gw9:5986", "node", "drain", "gw9:5986")
}

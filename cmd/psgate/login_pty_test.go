//go:build linux

package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/server"
)

// On a terminal without $PSGATE_PASSWORD, login signs in with a device
// code by default.
func TestLoginOnTerminalDefaultsToDeviceCode(t *testing.T) {
	gw := startGateway(t)
	t.Setenv("PSGATE_PASSWORD", "")
	ptmx, pts := openPTY(t)
	defer ptmx.Close()
	var screen syncBuffer
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := ptmx.Read(b)
			screen.Write(b[:n])
			if err != nil {
				return
			}
		}
	}()
	root := newRootCmd()
	root.SetIn(pts)
	root.SetOut(pts)
	root.SetErr(pts)
	root.SetArgs([]string{"login"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	var m []string
	for m == nil {
		select {
		case err := <-done:
			t.Fatalf("login ended before the code was approved: %v\n%s", err, screen.String())
		case <-time.After(20 * time.Millisecond):
		}
		m = userCodeRE.FindStringSubmatch(screen.String())
	}
	if strings.Contains(screen.String(), "Password") {
		t.Errorf("login asked for a password on the terminal:\n%s", screen.String())
	}
	if m[1] != gw.base()+"/device" {
		t.Errorf("verification page %s", m[1])
	}
	if page := approvePage(t, m[1], m[2], server.DemoAdmin, gatewayPassword); !strings.Contains(page, "You are signed in") {
		t.Fatalf("verification page:\n%s", page)
	}
	if err := <-done; err != nil {
		t.Fatalf("login: %v\n%s", err, screen.String())
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(screen.String(), "Signed in as "+server.DemoAdmin) {
		if time.Now().After(deadline) {
			t.Fatalf("screen:\n%s", screen.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// On a terminal, a password the tenant refuses is the same error as
// without one (TestSignInWithoutTerminal): the cause is the policy.
func TestPasswordRefusedOnTerminal(t *testing.T) {
	gw := startGateway(t)
	ctx := context.Background()
	tn, err := gw.Store().TenantByName(ctx, server.DemoTenant)
	if err != nil {
		t.Fatal(err)
	}
	pol := tn.Policy
	pol.AllowPasswordAuthentication = false
	if err := gw.Store().UpdatePolicy(ctx, tn.ID, pol); err != nil {
		t.Fatal(err)
	}
	ptmx, pts := openPTY(t)
	defer ptmx.Close()
	go func() { _, _ = io.Copy(io.Discard, ptmx) }()
	root := newRootCmd()
	root.SetIn(pts)
	root.SetOut(pts)
	root.SetErr(pts)
	root.SetArgs([]string{"login"}) // $PSGATE_PASSWORD is set by startGateway
	err = root.ExecuteContext(ctx)
	e, ok := psgate.AsError(err)
	if !ok || e.Code != psgate.CodePasswordAuthDisabled || exitCode(err) != exitAuth {
		t.Fatalf("login on a terminal where passwords are off: %v, want identity.password-auth-disabled", err)
	}
	if !strings.Contains(e.Resolution, "psgate tenant set-policy contoso.test --allow-password-auth") {
		t.Errorf("fix %q does not name the tenant's set-policy command", e.Resolution)
	}
}

//go:build !connector

package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/store"
)

func TestTenantCreateListShow(t *testing.T) {
	c := newCLI(t)
	out := c.ok("Contoso-Pass-1\n", "tenant", "create", "Contoso", "--domain", "contoso.test", "--display-name", "Contoso Ltd.",
		"--admin", "admin@contoso.test", "--password-stdin")
	want := "Created tenant contoso (ID 1, domain contoso.test).\nCreated administrator admin@contoso.test with the role Tenant Administrator.\n"
	if out != want {
		t.Errorf("tenant create printed %q, want %q", out, want)
	}
	db := c.store()
	admin := userByUPN(t, db, "admin@contoso.test")
	if ok, err := password.Verify("Contoso-Pass-1", admin.PasswordHash); !ok || err != nil {
		t.Errorf("the administrator's password does not verify: %v", err)
	}
	roles, _ := db.RolesOf(context.Background(), admin.TenantID, admin.ID)
	if len(roles) != 1 || roles[0].Name != store.RoleTenantAdministrator {
		t.Errorf("administrator roles = %v", roles)
	}
	c.ok("", "tenant", "create", "fabrikam", "--domain", "fabrikam.test")

	out = c.ok("", "tenant", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID  NAME      DOMAIN         DISPLAY NAME  REMOTE PS  SHELLS/USER  SHELLS/TENANT  CREATED") ||
		!strings.HasPrefix(lines[1], "1   contoso   contoso.test   Contoso Ltd.  yes        3            20             20") {
		t.Errorf("tenant list table:\n%s", out)
	}
	var list []tenantJSON
	c.json(&list, "tenant", "list")
	if len(list) != 2 || list[1].Name != "fabrikam" || list[1].Policy.SessionLifetime != "1h0m0s" {
		t.Errorf("tenant list JSON = %+v", list)
	}

	var show tenantJSON
	c.json(&show, "tenant", "show", "contoso.test")
	if show.Users == nil || *show.Users != 1 || show.Sessions == nil || *show.Sessions != 0 {
		t.Errorf("tenant show counts: users %v sessions %v, want 1 and 0", show.Users, show.Sessions)
	}
	out = c.ok("", "tenant", "show", "1")
	for _, want := range []string{"Name: contoso", "Live sessions: 0 of 20", "MaxShellsPerUser: 3"} {
		if !strings.Contains(squeeze(out), want) {
			t.Errorf("tenant show lacks %q:\n%s", want, out)
		}
	}
}

func TestTenantRefusals(t *testing.T) {
	c := newCLI(t)
	c.fails("no psgate store in", "tenant", "list")
	c.seed()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"duplicate", []string{"tenant", "create", "contoso", "--domain", "other.test"}, `a tenant named "contoso" or with the domain "other.test" exists already`},
		{"bad name", []string{"tenant", "create", "con toso", "--domain", "x.test"}, "use lower-case letters, digits and hyphens"},
		{"bad domain", []string{"tenant", "create", "x", "--domain", "localhost"}, "want a DNS domain"},
		{"no domain", []string{"tenant", "create", "x"}, `required flag(s) "domain" not set`},
		{"admin outside the domain", []string{"tenant", "create", "x", "--domain", "x.test", "--admin", "a@y.test"}, "must end with @x.test"},
		{"nothing to set", []string{"tenant", "set-policy", "contoso"}, "nothing to change"},
		{"zero shells", []string{"tenant", "set-policy", "contoso", "--max-shells-per-user", "0"}, "use 1 or more"},
		{"user above tenant", []string{"tenant", "set-policy", "contoso", "--max-shells-per-user", "30"}, "MaxShellsPerUser 30 is above MaxShellsPerTenant 20"},
		{"idle above lifetime", []string{"tenant", "set-policy", "contoso", "--idle-timeout", "2h"}, "IdleTimeout 2h0m0s is longer than SessionLifetime 1h0m0s"},
		{"delete without --yes", []string{"tenant", "delete", "fabrikam"}, "removes its 1 users, their roles and sessions; pass --yes"},
		{"bad output", []string{"tenant", "list", "--output", "xml"}, `--output "xml": use table or json`},
		{"bad store URL", []string{"tenant", "list", "--store", "mysql://x"}, "want a PostgreSQL URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.fails(tt.want, tt.args...)
		})
	}
	err := c.fails("does not exist", "tenant", "show", "nowhere")
	catalogErr(t, err, psgate.CodeTenantNotFound, "The tenant 'nowhere' does not exist on this service.")
}

func TestTenantSetPolicyAndDelete(t *testing.T) {
	c := newCLI(t)
	c.seed()
	out := c.ok("", "tenant", "set-policy", "contoso", "--max-shells-per-user", "5", "--remote-powershell=false", "--idle-timeout", "30m")
	if want := "Updated the policy of tenant contoso: remote-powershell=false, max-shells-per-user=5, idle-timeout=30m0s.\n"; out != want {
		t.Errorf("set-policy printed %q, want %q", out, want)
	}
	db := c.store()
	tn, _ := db.TenantByName(context.Background(), "contoso")
	want := store.DefaultPolicy()
	want.MaxShellsPerUser, want.EnableRemotePowerShellAccess, want.IdleTimeout = 5, false, 30*60e9
	if diff := cmp.Diff(want, tn.Policy); diff != "" {
		t.Errorf("stored policy mismatch (-want +got):\n%s", diff)
	}

	out = c.ok("", "tenant", "delete", "fabrikam", "--yes")
	if out != "Deleted tenant fabrikam and its 1 users.\n" {
		t.Errorf("tenant delete printed %q", out)
	}
	if _, err := db.TenantByName(context.Background(), "fabrikam"); err == nil {
		t.Error("fabrikam still exists")
	}
	// The operator's changes are on the record, kept after the deletion.
	var recs []auditJSON
	c.json(&recs, "audit", "search", "--action", "operator.tenant.*")
	var got []string
	for _, r := range recs {
		got = append(got, r.Action)
	}
	if diff := cmp.Diff([]string{"operator.tenant.delete", "operator.tenant.set-policy", "operator.tenant.create", "operator.tenant.create"}, got); diff != "" {
		t.Errorf("audit records mismatch (-want +got):\n%s", diff)
	}
}

// The operator commands work on the data directory of a running gateway.
func TestAdminCommandsBesideRunningServer(t *testing.T) {
	c := newCLI(t)
	t.Setenv("PSGATE_BOOTSTRAP_PASSWORD", "Bootstrap-Pass-1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := newRootCmd()
	out := &syncBuffer{}
	srv.SetOut(out)
	srv.SetErr(out)
	srv.SetArgs([]string{"serve", "--data", c.dir, "--http", freePort(t), "--https", "", "--log-level", "error"})
	done := make(chan error, 1)
	go func() { done <- srv.ExecuteContext(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "Connect:") {
		select {
		case err := <-done:
			t.Fatalf("serve exited early: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner after 20s:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := squeeze(c.ok("", "tenant", "list")); !strings.Contains(got, "\n1 contoso contoso.test") {
		t.Errorf("tenant list beside the server:\n%s", got)
	}
	t.Setenv("PSGATE_PASSWORD", "Reader-Pass-1")
	c.ok("", "user", "add", "reader@contoso.test", "--role", "Tenant Reader")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

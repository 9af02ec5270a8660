//go:build !connector

package main

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSessionListRemove(t *testing.T) {
	c := newCLI(t)
	c.seed()
	db := c.store()
	admin, boss := userByUPN(t, db, "admin@contoso.test"), userByUPN(t, db, "boss@fabrikam.test")
	acquire(t, db, "shell-a1", admin)
	acquire(t, db, "shell-a2", admin)
	acquire(t, db, "shell-b1", boss)

	ids := func(args ...string) []string {
		var ss []sessionJSON
		c.json(&ss, append([]string{"session", "list"}, args...)...)
		var out []string
		for _, s := range ss {
			out = append(out, s.Tenant+"/"+s.User+"/"+s.ShellID)
		}
		return out
	}
	if diff := cmp.Diff([]string{"contoso/admin@contoso.test/shell-a1", "contoso/admin@contoso.test/shell-a2", "fabrikam/boss@fabrikam.test/shell-b1"}, ids()); diff != "" {
		t.Errorf("all sessions mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"fabrikam/boss@fabrikam.test/shell-b1"}, ids("--tenant", "fabrikam")); diff != "" {
		t.Errorf("fabrikam sessions mismatch (-want +got):\n%s", diff)
	}
	// A user of another tenant than --tenant is not found.
	c.fails("Cannot find an object with identity 'boss@fabrikam.test' in tenant 'contoso'", "session", "list", "--tenant", "contoso", "--user", "boss@fabrikam.test")

	out := c.ok("", "session", "list", "--user", "admin@contoso.test")
	lines := strings.Split(squeeze(out), "\n")
	if !strings.HasPrefix(lines[0], "SHELL ID TENANT USER KIND STATE CLIENT OPENED LAST ACTIVE EXPIRES") ||
		!strings.HasPrefix(lines[1], "shell-a1 contoso admin@contoso.test winrs connected 198.51.100.4 ") {
		t.Errorf("session list table:\n%s", out)
	}

	out = c.ok("", "session", "remove", "shell-a1")
	if out != "Ended session shell-a1 of admin@contoso.test; its slot is free.\n" {
		t.Errorf("session remove printed %q", out)
	}
	if _, err := db.Lease(context.Background(), "shell-a1"); err == nil {
		t.Error("shell-a1 still holds its slot")
	}
	c.fails(`no live session "shell-a1"`, "session", "remove", "shell-a1")

	var recs []auditJSON
	c.json(&recs, "audit", "search", "--tenant", "contoso", "--action", "operator.session.remove")
	if len(recs) != 1 || recs[0].Detail != "ended session shell-a1 of admin@contoso.test" || recs[0].TenantID != admin.TenantID {
		t.Errorf("audit of the removal = %+v", recs)
	}
}

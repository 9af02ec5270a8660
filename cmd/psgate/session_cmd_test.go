//go:build !connector

package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/psgate/psgate/store"
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
	if !strings.HasPrefix(lines[0], "SHELL ID TENANT USER KIND STATE CLIENT OPENED LAST ACTIVE IDLE EXPIRES") ||
		!strings.HasPrefix(lines[1], "shell-a1 contoso admin@contoso.test winrs connected 198.51.100.4 ") {
		t.Errorf("session list table:\n%s", out)
	}

	// EXPIRES is the session's own end, not the lease's renewal deadline:
	// the default policy closes a shell after 15 idle minutes, before its
	// 60-minute lifetime.
	var ss []sessionJSON
	c.json(&ss, "session", "list", "--user", "admin@contoso.test")
	s := ss[0]
	if !s.ExpiresAt.Equal(s.LastActive.Add(15*time.Minute)) || s.EndsBy != "idle" || !s.LifetimeEndsAt.Equal(s.OpenedAt.Add(60*time.Minute)) {
		t.Errorf("session expiry: expires %v by %q, lifetime ends %v; opened %v, last active %v",
			s.ExpiresAt, s.EndsBy, s.LifetimeEndsAt, s.OpenedAt, s.LastActive)
	}
	if !strings.HasSuffix(lines[1], " "+tableTime(s.ExpiresAt)+" (idle)") {
		t.Errorf("EXPIRES cell of %q, want %s (idle)", lines[1], tableTime(s.ExpiresAt))
	}
	// A session active 10 minutes after it opened, with a 20-minute
	// lifetime, ends by its lifetime before its idle deadline (+25m).
	c.ok("", "tenant", "set-policy", "contoso", "--session-lifetime", "20m")
	if err := db.UpdateLease(context.Background(), "shell-a1", store.StateConnected, s.OpenedAt.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	c.json(&ss, "session", "list", "--user", "admin@contoso.test")
	if s := ss[0]; !s.ExpiresAt.Equal(s.OpenedAt.Add(20*time.Minute)) || s.EndsBy != "lifetime" || !s.IdleDeadline.Equal(s.OpenedAt.Add(25*time.Minute)) {
		t.Errorf("with a 20m lifetime: expires %v by %q, idle deadline %v, opened %v", s.ExpiresAt, s.EndsBy, s.IdleDeadline, s.OpenedAt)
	}

	// close is the verb, as in psgate sessions; remove still works.
	out = c.ok("", "session", "close", "shell-a2")
	if out != "Ended session shell-a2 of admin@contoso.test; its slot is free.\n" {
		t.Errorf("session close printed %q", out)
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
	if len(recs) != 2 || recs[0].Detail != "ended session shell-a1 of admin@contoso.test" || recs[0].TenantID != admin.TenantID ||
		recs[1].Detail != "ended session shell-a2 of admin@contoso.test" {
		t.Errorf("audit of the removals = %+v", recs)
	}
	if want := operatorName(); recs[0].User != want || !strings.HasPrefix(want, "operator:") || !strings.Contains(want, "@") {
		t.Errorf("audit actor %q, want operator:<OS user>@<host> (%q)", recs[0].User, want)
	}
}

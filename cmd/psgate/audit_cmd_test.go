//go:build !connector

package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/store"
)

func TestAuditSearch(t *testing.T) {
	c := newCLI(t)
	c.seed()
	var all []auditJSON
	c.json(&all, "audit", "search")
	var fab []auditJSON
	c.json(&fab, "audit", "search", "--tenant", "fabrikam")
	if len(all) != 4 || len(fab) != 2 {
		t.Fatalf("%d records in all, %d for fabrikam; want 4 and 2", len(all), len(fab))
	}
	if fab[0].Action != "operator.user.add" || fab[0].Detail != "created user boss@fabrikam.test with the role Tenant Administrator" {
		t.Errorf("newest fabrikam record = %+v", fab[0])
	}
	var limited []auditJSON
	c.json(&limited, "audit", "search", "--limit", "1", "--since", "1h", "--until", time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	if len(limited) != 1 {
		t.Errorf("--limit 1 returned %d records", len(limited))
	}
	out := c.ok("", "audit", "search", "--tenant", "contoso")
	if !strings.HasPrefix(squeeze(out), "TIME TENANT USER ACTION CMDLET OUTCOME CODE DETAIL\n") || !strings.Contains(out, "operator.tenant.create") {
		t.Errorf("audit search table:\n%s", out)
	}
	// The tenant is shown by name and the operator by OS user and host.
	row := strings.Fields(strings.Split(out, "\n")[1])
	if len(row) < 5 || row[2] != "contoso" || row[3] != operatorName() {
		t.Errorf("audit row %q: want tenant contoso and actor %s", row, operatorName())
	}
	if fab[0].Tenant != "fabrikam" {
		t.Errorf("JSON tenant = %q, want fabrikam", fab[0].Tenant)
	}
	c.fails(`--since "yesterday": want an RFC 3339 time`, "audit", "search", "--since", "yesterday")
	c.fails("is not after --since", "audit", "search", "--since", "2026-05-02", "--until", "2026-05-01")
	c.fails("--limit 0: use 1 or more", "audit", "search", "--limit", "0")
}

func TestAuditPurge(t *testing.T) {
	c := newCLI(t)
	c.seed()
	st := c.store()
	old := time.Now().Add(-100 * 24 * time.Hour)
	for i := 0; i < 3; i++ {
		if _, err := st.AppendAudit(context.Background(), store.AuditRecord{Time: old, TenantID: 1, UPN: "alice@contoso.test",
			Action: store.ActionCommand, Outcome: store.OutcomeOK}); err != nil {
			t.Fatal(err)
		}
	}

	c.fails("--before is required", "audit", "purge")
	c.fails(`--before "soon"`, "audit", "purge", "--before", "soon")
	if out := c.ok("", "audit", "purge", "--before", "90d"); !strings.Contains(out, "Deleted 3 audit records older than") {
		t.Errorf("purge said %q, want 3 records deleted", out)
	}
	var all []auditJSON
	c.json(&all, "audit", "search")
	if len(all) != 5 || all[0].Action != "operator.audit.purge" || !strings.Contains(all[0].Detail, "deleted 3 records") {
		t.Errorf("after the purge: %d records, newest %+v; want the 4 recent ones and the purge's own record", len(all), all[0])
	}
}

// Stored strings chosen by users reach the operator's terminal escaped.
func TestTablesEscapeControlCharacters(t *testing.T) {
	for in, want := range map[string]string{
		"Alice Wong":                "Alice Wong",
		"evil\x1b[2J\x1b]0;pwned\a": `evil\x1b[2J\x1b]0;pwned\x07`,
		"two\nlines\ttab":           `two\x0alines\x09tab`,
		"c1\u009bcsi":               `c1\u009bcsi`,
		"bad\xffbyte":               `bad\xffbyte`,
		"Zoë 日本":                    "Zoë 日本",
	} {
		if got := terminalSafe(in); got != want {
			t.Errorf("terminalSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

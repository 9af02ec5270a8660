package admission

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

func TestAuditCommandRedactsSecrets(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := e.admitter(t)
	u := e.addUser(t, e.tenant, "admin", store.RoleTenantAdministrator)
	p := e.principal(e.tenant, u)
	if _, _, err := a.Admit(ctx, e.request(e.tenant, u, "S1")); err != nil {
		t.Fatal(err)
	}
	params := map[string]any{
		"Identity":       "bob@contoso.test",
		"NewPassword":    "hunter2",
		"ClientSecret":   "s3cr3t",
		"AccessToken":    "eyJ...",
		"Credential":     "pscredential",
		"PIN":            "1234",
		"LineURI":        []string{"tel:+1"},
		"Enabled":        true,
		"At":             time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		"Unencodable":    make(chan int),
		"DisplayName":    "Bob",
		"SharedKeyValue": "visible",
	}
	sensitive := func(name string) bool { return name == "PIN" }
	if err := a.AuditCommand(ctx, p, "S1", "C1", "Set-CsUser", params, sensitive, store.OutcomeError,
		psgate.CodeParameterDenied, 1500*time.Microsecond); err != nil {
		t.Fatalf("AuditCommand() error = %v", err)
	}
	recs := e.audits(t, e.tenant.ID, store.ActionCommand)
	if len(recs) != 1 {
		t.Fatalf("%d command records, want 1", len(recs))
	}
	r := recs[0]
	for _, secret := range []string{"hunter2", "s3cr3t", "eyJ", "pscredential", "1234"} {
		if strings.Contains(r.Parameters, secret) {
			t.Errorf("parameters reveal %q: %s", secret, r.Parameters)
		}
	}
	for _, want := range []string{`"NewPassword":"[redacted]"`, `"PIN":"[redacted]"`, `"Identity":"bob@contoso.test"`,
		`"LineURI":["tel:+1"]`, `"Enabled":true`, `"At":"2026-01-02T03:04:05Z"`, `"SharedKeyValue":"visible"`, `"Unencodable":"0x`} {
		if !strings.Contains(r.Parameters, want) {
			t.Errorf("parameters lack %s: %s", want, r.Parameters)
		}
	}
	got := store.AuditRecord{UPN: r.UPN, ShellID: r.ShellID, CommandID: r.CommandID, Cmdlet: r.Cmdlet, Outcome: r.Outcome,
		Code: r.Code, Duration: r.Duration, ClientAddr: r.ClientAddr, UserID: r.UserID}
	want := store.AuditRecord{UPN: "admin@contoso.test", ShellID: "S1", CommandID: "C1", Cmdlet: "Set-CsUser",
		Outcome: store.OutcomeError, Code: string(psgate.CodeParameterDenied), Duration: 1500 * time.Microsecond,
		ClientAddr: "192.0.2.10", UserID: u.ID}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("record mismatch (-got +want):\n%s", diff)
	}
}

func TestAuditCompleteness(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.setPolicy(t, e.tenant, func(p *store.Policy) { p.MaxShellCreationsPerMinute = 0 })
	a := e.admitter(t)
	u := e.addUser(t, e.tenant, "busy", store.RoleTenantAdministrator)
	p := e.principal(e.tenant, u)
	const n = 50
	for i := range n {
		id := shellID(i)
		if _, _, err := a.Admit(ctx, e.request(e.tenant, u, id)); err != nil {
			t.Fatalf("Admit(%d) error = %v", i, err)
		}
		for c := range 3 {
			if err := a.AuditCommand(ctx, p, id, fmt.Sprint(c), "Get-CsTenant", nil, nil, store.OutcomeOK, "", time.Millisecond); err != nil {
				t.Fatalf("AuditCommand() error = %v", err)
			}
		}
		a.Release(ctx, id, psgate.CloseReason{Cause: psgate.CloseClient})
	}
	for action, want := range map[string]int{
		store.ActionSessionOpen:  n,
		store.ActionCommand:      3 * n,
		store.ActionSessionClose: n,
	} {
		if got := len(e.audits(t, e.tenant.ID, action)); got != want {
			t.Errorf("%d %s records, want %d", got, action, want)
		}
	}
	closes := e.audits(t, e.tenant.ID, store.ActionSessionClose)
	if got := closes[0].Detail; got != "reason: closed" {
		t.Errorf("close detail = %q, want %q", got, "reason: closed")
	}
}

func TestAuditCommandStoreFailureIsReported(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	fs := &failingStore{Store: e.db, fail: map[string]bool{"AppendAudit": true}}
	a := e.admitter(t, func(c *Config) { c.Store = fs })
	err := a.AuditCommand(ctx, psgate.Principal{TenantID: e.tenant.ID}, "S", "C", "Get-CsTenant", nil, nil, store.OutcomeOK, "", 0)
	if err == nil {
		t.Errorf("AuditCommand() with the store down error = nil, want an error")
	}
}

package admission

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// The seed document's sentences, verbatim: a compatibility contract.
const (
	seedUserQuota = "The WS-Management service cannot process the request. The maximum number of concurrent shells " +
		"for this user has been exceeded. Close existing shells or raise the quota for this user."
	seedTenantQuota = "The WS-Management service cannot process the request. The maximum number of concurrent shells " +
		"for this tenant has been exceeded. Close existing shells or raise the quota for this tenant."
	seedDisabled = "The ability to connect to this tenant by using a remote PowerShell session has been disabled. " +
		"Please contact your service provider to check the Tenant PowerShell Policy of this tenant."
)

func TestAdmitRefusalsCarryTheSeedText(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := e.admitter(t)
	admin := e.addUser(t, e.tenant, "admin", store.RoleTenantAdministrator)
	norole := e.addUser(t, e.tenant, "norole")

	_, _, err := a.Admit(ctx, e.request(e.tenant, norole, "S-NOROLE"))
	if got, want := messageOf(err), "The user 'norole@contoso.test' does not have permission to manage this tenant. "+
		"Permissions can be granted by assigning the user to the appropriate RBAC role."; got != want {
		t.Errorf("no role: message = %q, want %q", got, want)
	}
	if got := codeOf(err); got != psgate.CodeNoAdminRole {
		t.Errorf("no role: code = %q, want %q", got, psgate.CodeNoAdminRole)
	}

	e.setPolicy(t, e.tenant, func(p *store.Policy) { p.EnableRemotePowerShellAccess = false })
	_, _, err = a.Admit(ctx, e.request(e.tenant, admin, "S-DISABLED"))
	if got := messageOf(err); got != seedDisabled {
		t.Errorf("disabled: message = %q, want %q", got, seedDisabled)
	}
	if got := codeOf(err); got != psgate.CodeTenantAccessDisabled {
		t.Errorf("disabled: code = %q, want %q", got, psgate.CodeTenantAccessDisabled)
	}
	// Policy comes before roles: a user without roles of a disabled tenant
	// hears about the policy.
	_, _, err = a.Admit(ctx, e.request(e.tenant, norole, "S-DISABLED-2"))
	if got := codeOf(err); got != psgate.CodeTenantAccessDisabled {
		t.Errorf("disabled, no role: code = %q, want %q", got, psgate.CodeTenantAccessDisabled)
	}
}

func messageOf(err error) string {
	if e, ok := psgate.AsError(err); ok {
		return e.Message
	}
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func dataOf(err error) map[string]string {
	out := map[string]string{}
	if e, ok := psgate.AsError(err); ok {
		for _, kv := range e.Data {
			out[kv.Key] = kv.Value
		}
	}
	return out
}

func TestAdmitUserQuotaListsOwnShells(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := e.admitter(t)
	alice := e.addUser(t, e.tenant, "alice", store.RoleTenantReader)
	opened := e.clock.Now()
	for i := range 3 {
		if _, _, err := a.Admit(ctx, e.request(e.tenant, alice, shellID(i))); err != nil {
			t.Fatalf("Admit(%d) error = %v", i, err)
		}
	}
	_, _, err := a.Admit(ctx, e.request(e.tenant, alice, "ONE-TOO-MANY"))
	if got := codeOf(err); got != psgate.CodeUserQuotaExceeded {
		t.Fatalf("code = %q, want %q (err %v)", got, psgate.CodeUserQuotaExceeded, err)
	}
	msg := messageOf(err)
	if !strings.HasPrefix(msg, seedUserQuota+"\n") {
		t.Errorf("message does not start with the seed sentence and a new line:\n%s", msg)
	}
	stamp := opened.UTC().Format(time.RFC3339)
	expires := opened.Add(time.Hour).UTC().Format(time.RFC3339)
	for _, want := range []string{
		"Your open shells (3 of 3):",
		"1. Shell SHELL-00000: client 192.0.2.10, user agent \"Microsoft WinRM Client\", opened " + stamp +
			", last active " + stamp + ", expires " + expires,
		"3. Shell SHELL-00002",
		"Remove-CsOnlineSession -Identity SHELL-00000",
		"psgate sessions close <id>",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	wantData := map[string]string{
		"reason": "user-quota", "limit": "3", "count": "3", "reset": expires,
	}
	if diff := cmp.Diff(dataOf(err), wantData); diff != "" {
		t.Errorf("Data mismatch (-got +want):\n%s", diff)
	}
}

func TestAdmitUserOverrideOfShellLimit(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := e.admitter(t)
	u := e.addUser(t, e.tenant, "power", store.RoleTenantReader)
	u.MaxShells = 5
	if _, err := e.db.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := range 7 {
		if _, _, err := a.Admit(ctx, e.request(e.tenant, u, shellID(i))); err == nil {
			n++
		}
	}
	if n != 5 {
		t.Errorf("admitted %d shells, want the user's override of 5", n)
	}
}

func TestAdmitTenantQuotaHolders(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.setPolicy(t, e.tenant, func(p *store.Policy) { p.MaxShellsPerTenant = 6 })
	a := e.admitter(t)
	admin := e.addUser(t, e.tenant, "admin", store.RoleTenantAdministrator)
	reader := e.addUser(t, e.tenant, "reader", store.RoleTenantReader)
	other := e.addUser(t, e.tenant, "other", store.RoleHelpdesk)
	n := 0
	for _, u := range []store.User{other, other, other, reader, admin, admin} {
		if _, _, err := a.Admit(ctx, e.request(e.tenant, u, shellID(n))); err != nil {
			t.Fatalf("Admit(%d) error = %v", n, err)
		}
		n++
	}

	_, _, err := a.Admit(ctx, e.request(e.tenant, reader, "READER-2"))
	if got := codeOf(err); got != psgate.CodeTenantQuotaExceeded {
		t.Fatalf("reader: code = %q, want %q (%v)", got, psgate.CodeTenantQuotaExceeded, err)
	}
	msg := messageOf(err)
	if !strings.HasPrefix(msg, seedTenantQuota+"\n") {
		t.Errorf("reader: message does not start with the seed sentence:\n%s", msg)
	}
	for _, want := range []string{
		"The tenant holds 6 of 6 shells: 1 user holds 3 shells, 1 user holds 2 shells, 1 user holds 1 shell.",
		"Your open shells (1):",
		"Shell SHELL-00003",
		"Remove-CsOnlineSession -Identity SHELL-00003",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("reader: message lacks %q:\n%s", want, msg)
		}
	}
	for _, secret := range []string{"other@", "admin@", "SHELL-00000", "SHELL-00004"} {
		if strings.Contains(msg, secret) {
			t.Errorf("reader: message reveals %q of other users:\n%s", secret, msg)
		}
	}
	if got := dataOf(err)["reason"]; got != "tenant-quota" {
		t.Errorf("reader: Data reason = %q, want tenant-quota", got)
	}

	_, _, err = a.Admit(ctx, e.request(e.tenant, admin, "ADMIN-3"))
	msg = messageOf(err)
	for _, want := range []string{
		seedTenantQuota + "\nThe tenant's open shells (6 of 6):",
		"Shell SHELL-00000 of other@contoso.test",
		"Shell SHELL-00003 of reader@contoso.test",
		"Shell SHELL-00005 of admin@contoso.test",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("admin: message lacks %q:\n%s", want, msg)
		}
	}
}

func TestAdmitCreationRate(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.setPolicy(t, e.tenant, func(p *store.Policy) { p.MaxShellCreationsPerMinute = 2 })
	a := e.admitter(t)
	u := e.addUser(t, e.tenant, "fast", store.RoleTenantReader)
	for i := range 2 {
		if _, _, err := a.Admit(ctx, e.request(e.tenant, u, shellID(i))); err != nil {
			t.Fatalf("Admit(%d) error = %v", i, err)
		}
		a.Release(ctx, shellID(i), psgate.CloseReason{Cause: psgate.CloseClient})
		e.tick(ctx, 20*time.Second, a) // creations at 0 s and 20 s
	}
	// Now is 40 s: the first creation leaves the window at 60 s.
	_, _, err := a.Admit(ctx, e.request(e.tenant, u, "THIRD"))
	retry := e.clock.Now().Add(20 * time.Second)
	want := "The WS-Management service cannot process the request. 2 shells, the most allowed, were already created for this user " +
		"in the last minute. Retry after 20 seconds (at " + retry.UTC().Format(time.TimeOnly) + " UTC)."
	if got := messageOf(err); got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	wantData := map[string]string{"reason": "creation-rate", "limit": "2", "count": "2", "reset": retry.UTC().Format(time.RFC3339)}
	if diff := cmp.Diff(dataOf(err), wantData); diff != "" {
		t.Errorf("Data mismatch (-got +want):\n%s", diff)
	}
	e.tick(ctx, 20*time.Second, a)
	if _, _, err := a.Admit(ctx, e.request(e.tenant, u, "THIRD")); err != nil {
		t.Errorf("Admit after the retry time error = %v", err)
	}
}

func TestAdmitGrant(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.setPolicy(t, e.tenant, func(p *store.Policy) {
		p.SessionLifetime, p.IdleTimeout = 30*time.Minute, 7*time.Minute
	})
	a := e.admitter(t)
	u := e.addUser(t, e.tenant, "help", store.RoleHelpdesk, store.RoleTenantReader)
	req := e.request(e.tenant, u, "G1")
	g, auth, err := a.Admit(ctx, req)
	if err != nil {
		t.Fatalf("Admit() error = %v", err)
	}
	if g.Lifetime != 30*time.Minute || g.IdleTimeout != 7*time.Minute {
		t.Errorf("Lifetime, IdleTimeout = %v, %v, want 30m, 7m", g.Lifetime, g.IdleTimeout)
	}
	if diff := cmp.Diff(g.Roles, []string{"Tenant Reader", "Helpdesk"}); diff != "" {
		t.Errorf("Roles mismatch (-got +want):\n%s", diff)
	}
	az, ok := auth.(*liveAuthorizer)
	if !ok {
		t.Fatalf("Authorizer is %T, want *liveAuthorizer", auth)
	}
	if !az.Permissions().Visible("Set-CsUser") || az.Permissions().Visible("Grant-CsAdminRole") {
		t.Errorf("Authorizer does not follow the user's roles")
	}

	// A token that expires before the lifetime shortens it.
	req.ShellID = "G2"
	req.Principal.ExpiresAt = e.clock.Now().Add(10*time.Minute + 500*time.Millisecond)
	g, _, err = a.Admit(ctx, req)
	if err != nil {
		t.Fatalf("Admit() error = %v", err)
	}
	if g.Lifetime != 10*time.Minute {
		t.Errorf("Lifetime with a token expiring in 10m = %v, want 10m", g.Lifetime)
	}
}

func TestAdmitDisabledUserAndForeignUser(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := e.admitter(t)
	u := e.addUser(t, e.tenant, "gone", store.RoleTenantAdministrator)
	u.Enabled = false
	if _, err := e.db.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Admit(ctx, e.request(e.tenant, u, "X1")); codeOf(err) != psgate.CodeLogonFailed {
		t.Errorf("disabled user: code = %q, want %q", codeOf(err), psgate.CodeLogonFailed)
	}

	fabrikam := e.addTenant(t, "fabrikam", store.DefaultPolicy())
	stranger := e.addUser(t, fabrikam, "stranger", store.RoleTenantAdministrator)
	// A principal claiming contoso for a fabrikam user.
	req := e.request(e.tenant, stranger, "X2")
	if _, _, err := a.Admit(ctx, req); codeOf(err) != psgate.CodeNoAdminRole {
		t.Errorf("foreign user: code = %q, want %q", codeOf(err), psgate.CodeNoAdminRole)
	}
}

// failingStore fails chosen methods.
type failingStore struct {
	Store
	fail map[string]bool
}

var errDown = errors.New("test: database is locked")

func (f *failingStore) Tenant(ctx context.Context, id psgate.TenantID) (store.Tenant, error) {
	if f.fail["Tenant"] {
		return store.Tenant{}, errDown
	}
	return f.Store.Tenant(ctx, id)
}

func (f *failingStore) AcquireLease(ctx context.Context, r store.LeaseRequest) (store.Lease, error) {
	if f.fail["AcquireLease"] {
		return store.Lease{}, errDown
	}
	return f.Store.AcquireLease(ctx, r)
}

func (f *failingStore) AppendAudit(ctx context.Context, r store.AuditRecord) (int64, error) {
	if f.fail["AppendAudit"] {
		return 0, errDown
	}
	return f.Store.AppendAudit(ctx, r)
}

func (f *failingStore) RenewNode(ctx context.Context, nodeID string, live []string, ttl time.Duration, now time.Time) (store.RenewResult, error) {
	if f.fail["RenewNode"] {
		return store.RenewResult{}, errDown
	}
	return f.Store.RenewNode(ctx, nodeID, live, ttl, now)
}

func TestAdmitStoreFailuresFailClosed(t *testing.T) {
	for _, method := range []string{"Tenant", "AcquireLease", "AppendAudit"} {
		t.Run(method, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			fs := &failingStore{Store: e.db, fail: map[string]bool{}}
			a := e.admitter(t, func(c *Config) { c.Store = fs })
			u := e.addUser(t, e.tenant, "u", store.RoleTenantAdministrator)
			fs.fail[method] = true
			_, _, err := a.Admit(ctx, e.request(e.tenant, u, "S1"))
			if got := codeOf(err); got != psgate.CodeStoreDown {
				t.Errorf("code = %q, want %q", got, psgate.CodeStoreDown)
			}
			if n := e.liveCount(t, e.tenant.ID, 0); n != 0 {
				t.Errorf("%d leases held after a refused Admit, want 0", n)
			}
		})
	}
}

func TestAdmitBeforeRegisterAndAfterClose(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	u := e.addUser(t, e.tenant, "u", store.RoleTenantAdministrator)
	a, err := New(Config{Store: e.db, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Admit(ctx, e.request(e.tenant, u, "S1")); codeOf(err) != psgate.CodeStoreDown {
		t.Errorf("before Register: code = %q, want %q", codeOf(err), psgate.CodeStoreDown)
	}
	if err := a.Register(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Admit(ctx, e.request(e.tenant, u, "S2")); err != nil {
		t.Fatalf("Admit() error = %v", err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	if _, _, err := a.Admit(ctx, e.request(e.tenant, u, "S3")); codeOf(err) != psgate.CodeShuttingDown {
		t.Errorf("after Close: code = %q, want %q", codeOf(err), psgate.CodeShuttingDown)
	}
	if n := e.liveCount(t, e.tenant.ID, 0); n != 0 {
		t.Errorf("%d leases held after Close, want 0", n)
	}
	closes := e.audits(t, e.tenant.ID, store.ActionSessionClose)
	if len(closes) != 1 || closes[0].ShellID != "S2" || closes[0].Detail != "reason: shutdown" {
		t.Errorf("close records = %+v, want one for S2 with reason shutdown", closes)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no store", Config{}},
		{"renewal slower than the deadline", Config{Store: e.db, LeaseTTL: 10 * time.Second, RenewEvery: 6 * time.Second}},
		{"negative", Config{Store: e.db, Margin: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil {
				t.Errorf("New(%+v) error = nil, want an error", tt.cfg)
			}
		})
	}
}

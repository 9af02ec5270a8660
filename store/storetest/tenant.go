package storetest

import (
	"testing"
	"time"

	"github.com/psgate/psgate/store"
)

var tenantTests = []test{
	{"CreateAndRead", testTenantCreateAndRead},
	{"Uniqueness", testTenantUniqueness},
	{"UpdatePolicy", testTenantUpdatePolicy},
	{"DeleteCascades", testTenantDeleteCascades},
	{"CreateWithAdminIsAtomic", testTenantCreateWithAdmin},
}

func testTenantCreateAndRead(t *testing.T, e *env) {
	p := store.DefaultPolicy()
	p.AllowPasswordAuthentication = true
	got, err := e.s.CreateTenant(e.ctx, store.Tenant{Name: " Contoso ", Domain: "Contoso.TEST", DisplayName: "Contoso Ltd", Policy: p})
	wantErr(t, "CreateTenant", err, nil)
	want := store.Tenant{ID: got.ID, Name: "contoso", Domain: "contoso.test", DisplayName: "Contoso Ltd", Policy: p, CreatedAt: e.clock.Now()}
	if diff := diff(got, want); diff != "" || got.ID == 0 {
		t.Errorf("CreateTenant() (-got +want):\n%s", diff)
	}
	for _, key := range []string{"contoso", "CONTOSO", "contoso.test", "Contoso.Test"} {
		byName, err := e.s.TenantByName(e.ctx, key)
		wantErr(t, "TenantByName("+key+")", err, nil)
		if diff := diff(byName, want); diff != "" {
			t.Errorf("TenantByName(%s) (-got +want):\n%s", key, diff)
		}
	}
	byID, err := e.s.Tenant(e.ctx, got.ID)
	wantErr(t, "Tenant", err, nil)
	if diff := diff(byID, want); diff != "" {
		t.Errorf("Tenant() (-got +want):\n%s", diff)
	}
	_, err = e.s.TenantByName(e.ctx, "fabrikam")
	wantErr(t, "TenantByName(unknown)", err, store.ErrNotFound)
	_, err = e.s.Tenant(e.ctx, got.ID+100)
	wantErr(t, "Tenant(unknown)", err, store.ErrNotFound)

	second := e.tenant(t, "fabrikam")
	list, err := e.s.ListTenants(e.ctx)
	wantErr(t, "ListTenants", err, nil)
	if diff := diff(list, []store.Tenant{want, second}); diff != "" {
		t.Errorf("ListTenants() (-got +want):\n%s", diff)
	}
}

func testTenantUniqueness(t *testing.T, e *env) {
	e.tenant(t, "contoso")
	tests := []struct {
		name string
		in   store.Tenant
		want error
	}{
		{"same name other case", store.Tenant{Name: "CONTOSO", Domain: "other.test"}, store.ErrConflict},
		{"same domain", store.Tenant{Name: "other", Domain: "contoso.TEST"}, store.ErrConflict},
		{"name equals a domain", store.Tenant{Name: "contoso.test", Domain: "x.test"}, store.ErrConflict},
		{"domain equals a name", store.Tenant{Name: "x", Domain: "contoso"}, store.ErrConflict},
		{"no name", store.Tenant{Domain: "y.test"}, store.ErrInvalid},
		{"no domain", store.Tenant{Name: "y"}, store.ErrInvalid},
		{"distinct", store.Tenant{Name: "fabrikam", Domain: "fabrikam.test"}, nil},
	}
	for _, tt := range tests {
		_, err := e.s.CreateTenant(e.ctx, tt.in)
		wantErr(t, "CreateTenant("+tt.name+")", err, tt.want)
	}
}

func testTenantUpdatePolicy(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	p := store.Policy{
		EnableRemotePowerShellAccess: false, MaxShellsPerUser: 1, MaxShellsPerTenant: 7,
		SessionLifetime: 90 * time.Minute, IdleTimeout: 90 * time.Second, MaxShellCreationsPerMinute: 5,
		AllowPasswordAuthentication: true,
	}
	wantErr(t, "UpdatePolicy", e.s.UpdatePolicy(e.ctx, tn.ID, p), nil)
	got, err := e.s.Tenant(e.ctx, tn.ID)
	wantErr(t, "Tenant", err, nil)
	if diff := diff(got.Policy, p); diff != "" {
		t.Errorf("policy after UpdatePolicy (-got +want):\n%s", diff)
	}
	wantErr(t, "UpdatePolicy(unknown)", e.s.UpdatePolicy(e.ctx, tn.ID+100, p), store.ErrNotFound)
}

func testTenantDeleteCascades(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	other := e.tenant(t, "fabrikam")
	u := e.user(t, tn.ID, "admin@contoso.test")
	keep := e.user(t, other.ID, "admin@fabrikam.test")
	_, err := e.s.AcquireLease(e.ctx, store.LeaseRequest{ShellID: shellID(1), TenantID: tn.ID, UserID: u.ID,
		NodeID: "n1", Kind: store.KindWinRS, TTL: time.Minute, Now: e.clock.Now()})
	wantErr(t, "AcquireLease", err, nil)
	_, err = e.s.AppendAudit(e.ctx, store.AuditRecord{TenantID: tn.ID, UserID: u.ID, Action: store.ActionSessionOpen})
	wantErr(t, "AppendAudit", err, nil)

	wantErr(t, "DeleteTenant", e.s.DeleteTenant(e.ctx, tn.ID), nil)
	wantErr(t, "DeleteTenant(again)", e.s.DeleteTenant(e.ctx, tn.ID), store.ErrNotFound)
	_, err = e.s.User(e.ctx, u.ID)
	wantErr(t, "User(deleted tenant)", err, store.ErrNotFound)
	_, err = e.s.Lease(e.ctx, shellID(1))
	wantErr(t, "Lease(deleted tenant)", err, store.ErrNotFound)
	_, err = e.s.User(e.ctx, keep.ID)
	wantErr(t, "User(other tenant)", err, nil)
	recs, err := e.s.SearchAudit(e.ctx, store.AuditFilter{TenantID: tn.ID})
	wantErr(t, "SearchAudit", err, nil)
	if len(recs) != 1 {
		t.Errorf("audit records after DeleteTenant = %d, want 1 (audit is kept)", len(recs))
	}
}

// A tenant created with its first administrator has it, holding the
// Tenant Administrator role; when the administrator cannot be created (its
// UPN is taken), the tenant is not stored either.
func testTenantCreateWithAdmin(t *testing.T, e *env) {
	tn, err := e.s.CreateTenant(e.ctx, store.Tenant{Name: "contoso", Domain: "contoso.test", Policy: store.DefaultPolicy()},
		store.FirstAdmin{User: store.User{UPN: "Admin@Contoso.test", Enabled: true}, AssignedBy: "operator:test"})
	wantErr(t, "CreateTenant(with an administrator)", err, nil)
	admin, err := e.s.UserByUPN(e.ctx, "admin@contoso.test")
	wantErr(t, "UserByUPN(admin)", err, nil)
	if admin.TenantID != tn.ID {
		t.Errorf("the administrator is in tenant %d, want %d", admin.TenantID, tn.ID)
	}
	roles, err := e.s.RolesOf(e.ctx, tn.ID, admin.ID)
	wantErr(t, "RolesOf(admin)", err, nil)
	if len(roles) != 1 || roles[0].Name != store.RoleTenantAdministrator {
		t.Errorf("the administrator holds %+v, want %s", roles, store.RoleTenantAdministrator)
	}
	as, err := e.s.Assignments(e.ctx, tn.ID)
	wantErr(t, "Assignments", err, nil)
	if len(as) != 1 || as[0].AssignedBy != "operator:test" {
		t.Errorf("assignments %+v, want one by operator:test", as)
	}

	_, err = e.s.CreateTenant(e.ctx, store.Tenant{Name: "fabrikam", Domain: "fabrikam.test", Policy: store.DefaultPolicy()},
		store.FirstAdmin{User: store.User{UPN: "admin@contoso.test", Enabled: true}})
	wantErr(t, "CreateTenant(with a taken administrator UPN)", err, store.ErrConflict)
	_, err = e.s.TenantByName(e.ctx, "fabrikam")
	wantErr(t, "TenantByName(fabrikam) after the failed create", err, store.ErrNotFound)
	e.tenant(t, "fabrikam") // the name is free
}

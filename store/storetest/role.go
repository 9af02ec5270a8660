package storetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/psgate/psgate/store"
)

var roleTests = []test{
	{"BuiltIns", testRoleBuiltIns},
	{"TenantRoles", testRoleTenantRoles},
	{"AssignAndRevoke", testRoleAssignAndRevoke},
	{"LastAdmin", testRoleLastAdmin},
	{"LastAdminConcurrent", testRoleLastAdminConcurrent},
}

func testRoleBuiltIns(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	roles, err := e.s.ListRoles(e.ctx, tn.ID)
	wantErr(t, "ListRoles", err, nil)
	names := map[string]store.Role{}
	for _, r := range roles {
		names[r.Name] = r
		if !r.BuiltIn || r.TenantID != 0 {
			t.Errorf("role %q: BuiltIn %v TenantID %d, want built-in with tenant 0", r.Name, r.BuiltIn, r.TenantID)
		}
	}
	if len(roles) != 3 {
		t.Errorf("ListRoles() returned %d roles, want the 3 built-ins", len(roles))
	}
	if diff := diff(names[store.RoleTenantAdministrator].Entries, []store.RoleEntry{{Cmdlet: "*"}}); diff != "" {
		t.Errorf("Tenant Administrator entries (-got +want):\n%s", diff)
	}
	if diff := diff(names[store.RoleTenantReader].Entries, []store.RoleEntry{{Cmdlet: "Get-*"}, {Cmdlet: "Search-*"}}); diff != "" {
		t.Errorf("Tenant Reader entries (-got +want):\n%s", diff)
	}
	helpdesk := names[store.RoleHelpdesk]
	if len(helpdesk.Entries) == 0 {
		t.Errorf("Helpdesk has no entries")
	}
	byName, err := e.s.RoleByName(e.ctx, tn.ID, "tenant ADMINISTRATOR")
	wantErr(t, "RoleByName", err, nil)
	if byName.Name != store.RoleTenantAdministrator {
		t.Errorf("RoleByName() = %q, want %q", byName.Name, store.RoleTenantAdministrator)
	}
	_, err = e.s.RoleByName(e.ctx, tn.ID, "Nobody")
	wantErr(t, "RoleByName(unknown)", err, store.ErrNotFound)
	wantErr(t, "DeleteRole(built-in)", e.s.DeleteRole(e.ctx, tn.ID, byName.ID), store.ErrConflict)
}

func testRoleTenantRoles(t *testing.T, e *env) {
	a, b := e.tenant(t, "contoso"), e.tenant(t, "fabrikam")
	in := store.Role{TenantID: a.ID, Name: "Voice Admin", Description: "voice", Entries: []store.RoleEntry{
		{Cmdlet: "Set-CsUser", Parameters: []string{"Identity", "LineURI"}, AllowedValues: map[string][]string{"LineURI": {"tel:+1555*"}}},
		{Cmdlet: "Remove-*", Deny: true},
		{Cmdlet: "Get-CsOnlineUser", Parameters: []string{"*"}},
	}}
	got, err := e.s.CreateRole(e.ctx, in)
	wantErr(t, "CreateRole", err, nil)
	want := in
	want.ID = got.ID
	if diff := diff(got, want); diff != "" || got.ID == 0 {
		t.Errorf("CreateRole() (-got +want):\n%s", diff)
	}
	read, err := e.s.RoleByName(e.ctx, a.ID, "voice admin")
	wantErr(t, "RoleByName", err, nil)
	if diff := diff(read, want); diff != "" {
		t.Errorf("RoleByName() (-got +want):\n%s", diff)
	}
	_, err = e.s.RoleByName(e.ctx, b.ID, "Voice Admin")
	wantErr(t, "RoleByName(other tenant)", err, store.ErrNotFound)
	if roles, _ := e.s.ListRoles(e.ctx, b.ID); len(roles) != 3 {
		t.Errorf("ListRoles(other tenant) = %d roles, want 3 built-ins only", len(roles))
	}
	if roles, _ := e.s.ListRoles(e.ctx, a.ID); len(roles) != 4 {
		t.Errorf("ListRoles(owner) = %d roles, want 4", len(roles))
	}

	_, err = e.s.CreateRole(e.ctx, store.Role{TenantID: a.ID, Name: "VOICE ADMIN", Entries: []store.RoleEntry{{Cmdlet: "*"}}})
	wantErr(t, "CreateRole(duplicate)", err, store.ErrConflict)
	_, err = e.s.CreateRole(e.ctx, store.Role{TenantID: a.ID, Name: "helpdesk"})
	wantErr(t, "CreateRole(built-in name)", err, store.ErrConflict)
	_, err = e.s.CreateRole(e.ctx, store.Role{TenantID: b.ID, Name: "Voice Admin"})
	wantErr(t, "CreateRole(same name other tenant)", err, nil)
	_, err = e.s.CreateRole(e.ctx, store.Role{TenantID: a.ID, Name: "Empty entry", Entries: []store.RoleEntry{{}}})
	wantErr(t, "CreateRole(entry without cmdlet)", err, store.ErrInvalid)

	u := e.user(t, a.ID, "alice@contoso.test")
	wantErr(t, "Assign", e.s.Assign(e.ctx, store.Assignment{TenantID: a.ID, UserID: u.ID, RoleID: got.ID}), nil)
	wantErr(t, "DeleteRole(other tenant)", e.s.DeleteRole(e.ctx, b.ID, got.ID), store.ErrNotFound)
	wantErr(t, "DeleteRole", e.s.DeleteRole(e.ctx, a.ID, got.ID), nil)
	roles, err := e.s.RolesOf(e.ctx, a.ID, u.ID)
	wantErr(t, "RolesOf", err, nil)
	if len(roles) != 0 {
		t.Errorf("RolesOf() after DeleteRole = %v, want none", roles)
	}
	wantErr(t, "DeleteRole(again)", e.s.DeleteRole(e.ctx, a.ID, got.ID), store.ErrNotFound)
}

func testRoleAssignAndRevoke(t *testing.T, e *env) {
	a, b := e.tenant(t, "contoso"), e.tenant(t, "fabrikam")
	alice, mallory := e.user(t, a.ID, "alice@contoso.test"), e.user(t, b.ID, "mallory@fabrikam.test")
	reader, helpdesk := e.role(t, a.ID, store.RoleTenantReader), e.role(t, a.ID, store.RoleHelpdesk)
	foreign, err := e.s.CreateRole(e.ctx, store.Role{TenantID: b.ID, Name: "Foreign"})
	wantErr(t, "CreateRole", err, nil)

	at := e.clock.Now()
	wantErr(t, "Assign(reader)", e.s.Assign(e.ctx, store.Assignment{TenantID: a.ID, UserID: alice.ID, RoleID: reader.ID,
		AssignedAt: at, AssignedBy: "bootstrap"}), nil)
	wantErr(t, "Assign(helpdesk)", e.s.Assign(e.ctx, store.Assignment{TenantID: a.ID, UserID: alice.ID, RoleID: helpdesk.ID,
		AssignedBy: "admin@contoso.test"}), nil)
	wantErr(t, "Assign(duplicate)", e.s.Assign(e.ctx, store.Assignment{TenantID: a.ID, UserID: alice.ID, RoleID: reader.ID}),
		store.ErrConflict)
	wantErr(t, "Assign(user of other tenant)", e.s.Assign(e.ctx, store.Assignment{TenantID: a.ID, UserID: mallory.ID,
		RoleID: reader.ID}), store.ErrNotFound)
	wantErr(t, "Assign(role of other tenant)", e.s.Assign(e.ctx, store.Assignment{TenantID: a.ID, UserID: alice.ID,
		RoleID: foreign.ID}), store.ErrNotFound)

	roles, err := e.s.RolesOf(e.ctx, a.ID, alice.ID)
	wantErr(t, "RolesOf", err, nil)
	if diff := diff(roles, []store.Role{reader, helpdesk}); diff != "" {
		t.Errorf("RolesOf() (-got +want):\n%s", diff)
	}
	if roles, _ := e.s.RolesOf(e.ctx, b.ID, alice.ID); len(roles) != 0 {
		t.Errorf("RolesOf(other tenant) = %v, want none", roles)
	}
	as, err := e.s.Assignments(e.ctx, a.ID)
	wantErr(t, "Assignments", err, nil)
	wantAs := []store.Assignment{
		{TenantID: a.ID, UserID: alice.ID, RoleID: reader.ID, AssignedAt: at, AssignedBy: "bootstrap"},
		{TenantID: a.ID, UserID: alice.ID, RoleID: helpdesk.ID, AssignedAt: at, AssignedBy: "admin@contoso.test"},
	}
	if diff := diff(as, wantAs); diff != "" {
		t.Errorf("Assignments() (-got +want):\n%s", diff)
	}
	wantErr(t, "Revoke", e.s.Revoke(e.ctx, a.ID, alice.ID, reader.ID), nil)
	wantErr(t, "Revoke(again)", e.s.Revoke(e.ctx, a.ID, alice.ID, reader.ID), store.ErrNotFound)
	if as, _ := e.s.Assignments(e.ctx, a.ID); len(as) != 1 {
		t.Errorf("Assignments() after Revoke = %v, want 1", as)
	}
}

func testRoleLastAdmin(t *testing.T, e *env) {
	a, b := e.tenant(t, "contoso"), e.tenant(t, "fabrikam")
	admin := e.role(t, a.ID, store.RoleTenantAdministrator)
	alice, bob := e.user(t, a.ID, "alice@contoso.test"), e.user(t, a.ID, "bob@contoso.test")
	carol := e.user(t, b.ID, "carol@fabrikam.test")
	for _, as := range []store.Assignment{
		{TenantID: a.ID, UserID: alice.ID, RoleID: admin.ID},
		{TenantID: a.ID, UserID: bob.ID, RoleID: admin.ID},
		{TenantID: b.ID, UserID: carol.ID, RoleID: admin.ID},
	} {
		wantErr(t, "Assign", e.s.Assign(e.ctx, as), nil)
	}
	wantErr(t, "Revoke(alice, one admin left)", e.s.Revoke(e.ctx, a.ID, alice.ID, admin.ID), nil)
	wantErr(t, "Revoke(bob, last admin)", e.s.Revoke(e.ctx, a.ID, bob.ID, admin.ID), store.ErrLastAdmin)
	wantErr(t, "Revoke(carol, last admin of other tenant)", e.s.Revoke(e.ctx, b.ID, carol.ID, admin.ID), store.ErrLastAdmin)
	roles, err := e.s.RolesOf(e.ctx, a.ID, bob.ID)
	wantErr(t, "RolesOf", err, nil)
	if len(roles) != 1 || roles[0].ID != admin.ID {
		t.Errorf("RolesOf(bob) = %v, want still Tenant Administrator", roles)
	}
}

func testRoleLastAdminConcurrent(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	admin := e.role(t, tn.ID, store.RoleTenantAdministrator)
	const n = 8
	users := make([]store.User, n)
	for i := range users {
		users[i] = e.user(t, tn.ID, string(rune('a'+i))+"@contoso.test")
		wantErr(t, "Assign", e.s.Assign(e.ctx, store.Assignment{TenantID: tn.ID, UserID: users[i].ID, RoleID: admin.ID}), nil)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range users {
		wg.Go(func() {
			if i%2 == 0 {
				errs[i] = e.s.Revoke(e.ctx, tn.ID, users[i].ID, admin.ID)
			} else {
				errs[i] = e.s.DeleteUser(e.ctx, users[i].ID)
			}
		})
	}
	wg.Wait()
	var ok, last int
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrLastAdmin):
			last++
		default:
			t.Errorf("removal %d error = %v", i, err)
		}
	}
	if ok != n-1 || last != 1 {
		t.Errorf("concurrent removals: %d succeeded and %d refused, want %d and 1", ok, last, n-1)
	}
	as, err := e.s.Assignments(e.ctx, tn.ID)
	wantErr(t, "Assignments", err, nil)
	if len(as) != 1 {
		t.Errorf("administrators left = %d, want 1", len(as))
	}
}

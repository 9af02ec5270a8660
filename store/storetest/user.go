package storetest

import (
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

var userTests = []test{
	{"CreateAndRead", testUserCreateAndRead},
	{"UPNUniqueCaseInsensitive", testUserUPNUnique},
	{"List", testUserList},
	{"UpdateAndPassword", testUserUpdateAndPassword},
	{"Delete", testUserDelete},
	{"CreateWithRolesIsAtomic", testUserCreateWithRoles},
}

func testUserCreateAndRead(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	in := store.User{
		TenantID: tn.ID, UPN: "Alice@Contoso.test", DisplayName: "Alice", SipAddress: "sip:alice@contoso.test",
		Department: "IT", Title: "Engineer", UsageLocation: "US", LineURI: "tel:+15550100", EnterpriseVoiceEnabled: true,
		Enabled: true, PasswordHash: "$argon2id$v=19$m=65536,t=1,p=2$c2FsdA$aGFzaA", MaxShells: 5,
	}
	got, err := e.s.CreateUser(e.ctx, in)
	wantErr(t, "CreateUser", err, nil)
	if got.ID == 0 || len(got.ObjectID) != 36 {
		t.Errorf("CreateUser() ID = %d, ObjectID = %q; want an ID and a generated GUID", got.ID, got.ObjectID)
	}
	want := in
	want.ID, want.ObjectID, want.UPN = got.ID, got.ObjectID, "alice@contoso.test"
	now := e.clock.Now()
	want.CreatedAt, want.UpdatedAt, want.PasswordChangedAt = now, now, now
	if diff := diff(got, want); diff != "" {
		t.Errorf("CreateUser() (-got +want):\n%s", diff)
	}
	for _, upn := range []string{"alice@contoso.test", "ALICE@CONTOSO.TEST"} {
		byUPN, err := e.s.UserByUPN(e.ctx, upn)
		wantErr(t, "UserByUPN", err, nil)
		if diff := diff(byUPN, want); diff != "" {
			t.Errorf("UserByUPN(%s) (-got +want):\n%s", upn, diff)
		}
	}
	byID, err := e.s.User(e.ctx, got.ID)
	wantErr(t, "User", err, nil)
	if diff := diff(byID, want); diff != "" {
		t.Errorf("User() (-got +want):\n%s", diff)
	}
	_, err = e.s.UserByUPN(e.ctx, "bob@contoso.test")
	wantErr(t, "UserByUPN(unknown)", err, store.ErrNotFound)
	_, err = e.s.CreateUser(e.ctx, store.User{TenantID: tn.ID + 100, UPN: "x@nowhere.test"})
	wantErr(t, "CreateUser(unknown tenant)", err, store.ErrNotFound)
	_, err = e.s.CreateUser(e.ctx, store.User{TenantID: tn.ID})
	wantErr(t, "CreateUser(no UPN)", err, store.ErrInvalid)

	oid := "6F9619FF-8B86-D011-B42D-00C04FC964FF"
	withOID, err := e.s.CreateUser(e.ctx, store.User{TenantID: tn.ID, UPN: "bob@contoso.test", ObjectID: oid})
	wantErr(t, "CreateUser(object ID)", err, nil)
	if withOID.ObjectID != "6f9619ff-8b86-d011-b42d-00c04fc964ff" {
		t.Errorf("ObjectID = %q, want the given GUID lower-cased", withOID.ObjectID)
	}
	_, err = e.s.CreateUser(e.ctx, store.User{TenantID: tn.ID, UPN: "carol@contoso.test", ObjectID: oid})
	wantErr(t, "CreateUser(duplicate object ID)", err, store.ErrConflict)
}

func testUserUPNUnique(t *testing.T, e *env) {
	a, b := e.tenant(t, "contoso"), e.tenant(t, "fabrikam")
	e.user(t, a.ID, "alice@contoso.test")
	_, err := e.s.CreateUser(e.ctx, store.User{TenantID: a.ID, UPN: "ALICE@contoso.test"})
	wantErr(t, "CreateUser(same UPN other case)", err, store.ErrConflict)
	_, err = e.s.CreateUser(e.ctx, store.User{TenantID: b.ID, UPN: "Alice@Contoso.Test"})
	wantErr(t, "CreateUser(same UPN other tenant)", err, store.ErrConflict)
	bob := e.user(t, a.ID, "bob@contoso.test")
	bob.UPN = "ALICE@CONTOSO.TEST"
	_, err = e.s.UpdateUser(e.ctx, bob)
	wantErr(t, "UpdateUser(rename onto existing UPN)", err, store.ErrConflict)
}

func testUserList(t *testing.T, e *env) {
	a, b := e.tenant(t, "contoso"), e.tenant(t, "fabrikam")
	alice := e.user(t, a.ID, "alice@contoso.test")
	bob, err := e.s.CreateUser(e.ctx, store.User{TenantID: a.ID, UPN: "bob@contoso.test", DisplayName: "Bob 100%_Smith",
		SipAddress: "sip:Robert@contoso.test"})
	wantErr(t, "CreateUser", err, nil)
	carol := e.user(t, a.ID, "carol@contoso.test")
	e.user(t, b.ID, "alice@fabrikam.test")

	ids := func(us []store.User) []psgate.UserID {
		var out []psgate.UserID
		for _, u := range us {
			out = append(out, u.ID)
		}
		return out
	}
	tests := []struct {
		name string
		f    store.UserFilter
		want []psgate.UserID
	}{
		{"all of tenant", store.UserFilter{}, []psgate.UserID{alice.ID, bob.ID, carol.ID}},
		{"identity by UPN", store.UserFilter{Identity: "BOB@contoso.test"}, []psgate.UserID{bob.ID}},
		{"identity by object ID", store.UserFilter{Identity: carol.ObjectID}, []psgate.UserID{carol.ID}},
		{"identity by SIP", store.UserFilter{Identity: "sip:robert@contoso.test"}, []psgate.UserID{bob.ID}},
		{"identity by SIP without prefix", store.UserFilter{Identity: "robert@contoso.test"}, []psgate.UserID{bob.ID}},
		{"identity of other tenant", store.UserFilter{Identity: "alice@fabrikam.test"}, nil},
		{"contains in UPN", store.UserFilter{Contains: "AL"}, []psgate.UserID{alice.ID}},
		{"contains in display name", store.UserFilter{Contains: "smith"}, []psgate.UserID{bob.ID}},
		{"contains wildcard literally", store.UserFilter{Contains: "100%_s"}, []psgate.UserID{bob.ID}},
		{"percent matches nothing else", store.UserFilter{Contains: "%"}, []psgate.UserID{bob.ID}},
		{"limit", store.UserFilter{Limit: 2}, []psgate.UserID{alice.ID, bob.ID}},
		{"after", store.UserFilter{AfterID: alice.ID}, []psgate.UserID{bob.ID, carol.ID}},
	}
	for _, tt := range tests {
		got, err := e.s.ListUsers(e.ctx, a.ID, tt.f)
		wantErr(t, "ListUsers("+tt.name+")", err, nil)
		if diff := diff(ids(got), tt.want); diff != "" {
			t.Errorf("ListUsers(%s) IDs (-got +want):\n%s", tt.name, diff)
		}
	}
}

func testUserUpdateAndPassword(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	u, err := e.s.CreateUser(e.ctx, store.User{TenantID: tn.ID, UPN: "alice@contoso.test", PasswordHash: "old", Enabled: true})
	wantErr(t, "CreateUser", err, nil)

	e.clock.Advance(time.Minute)
	change := u
	change.UPN = "Alice.Smith@contoso.test"
	change.DisplayName, change.LineURI, change.EnterpriseVoiceEnabled = "Alice Smith", "tel:+1555", true
	change.Enabled, change.MaxShells = false, 1
	change.PasswordHash, change.TenantID, change.ObjectID = "ignored", tn.ID+100, "ignored" // kept by UpdateUser
	got, err := e.s.UpdateUser(e.ctx, change)
	wantErr(t, "UpdateUser", err, nil)
	want := u
	want.UPN, want.DisplayName, want.LineURI, want.EnterpriseVoiceEnabled = "alice.smith@contoso.test", "Alice Smith", "tel:+1555", true
	want.Enabled, want.MaxShells, want.UpdatedAt = false, 1, e.clock.Now()
	if diff := diff(got, want); diff != "" {
		t.Errorf("UpdateUser() (-got +want):\n%s", diff)
	}

	e.clock.Advance(time.Minute)
	changed := e.clock.Now()
	wantErr(t, "SetPassword", e.s.SetPassword(e.ctx, u.ID, "new", changed), nil)
	got, err = e.s.UserByUPN(e.ctx, "alice.smith@contoso.test")
	wantErr(t, "UserByUPN", err, nil)
	if got.PasswordHash != "new" || !got.PasswordChangedAt.Equal(changed) {
		t.Errorf("after SetPassword: hash %q changed %v, want %q %v", got.PasswordHash, got.PasswordChangedAt, "new", changed)
	}
	wantErr(t, "SetPassword(unknown)", e.s.SetPassword(e.ctx, u.ID+100, "x", changed), store.ErrNotFound)
	change.ID = u.ID + 100
	_, err = e.s.UpdateUser(e.ctx, change)
	wantErr(t, "UpdateUser(unknown)", err, store.ErrNotFound)
}

func testUserDelete(t *testing.T, e *env) {
	tn := e.tenant(t, "contoso")
	admin, other := e.user(t, tn.ID, "admin@contoso.test"), e.user(t, tn.ID, "other@contoso.test")
	wantErr(t, "Assign", e.s.Assign(e.ctx, store.Assignment{TenantID: tn.ID, UserID: admin.ID,
		RoleID: e.role(t, tn.ID, store.RoleTenantAdministrator).ID}), nil)
	wantErr(t, "DeleteUser(last admin)", e.s.DeleteUser(e.ctx, admin.ID), store.ErrLastAdmin)
	err := e.s.SaveRefreshToken(e.ctx, store.RefreshToken{ID: "h1", FamilyID: "f1", TenantID: tn.ID, UserID: other.ID,
		ExpiresAt: e.clock.Now().Add(time.Hour)})
	wantErr(t, "SaveRefreshToken", err, nil)
	wantErr(t, "DeleteUser", e.s.DeleteUser(e.ctx, other.ID), nil)
	_, err = e.s.User(e.ctx, other.ID)
	wantErr(t, "User(deleted)", err, store.ErrNotFound)
	_, err = e.s.UseRefreshToken(e.ctx, "h1", e.clock.Now())
	wantErr(t, "UseRefreshToken(deleted user)", err, store.ErrNotFound)
	wantErr(t, "DeleteUser(again)", e.s.DeleteUser(e.ctx, other.ID), store.ErrNotFound)
}

// A user created with roles holds them at once; when one of them cannot
// be assigned (another tenant's role), neither the user nor any role is
// stored.
func testUserCreateWithRoles(t *testing.T, e *env) {
	a, b := e.tenant(t, "contoso"), e.tenant(t, "fabrikam")
	reader, err := e.s.RoleByName(e.ctx, a.ID, store.RoleTenantReader)
	wantErr(t, "RoleByName(reader)", err, nil)
	foreign, err := e.s.CreateRole(e.ctx, store.Role{TenantID: b.ID, Name: "Fabrikam Desk",
		Entries: []store.RoleEntry{{Cmdlet: "Get-CsOnlineUser"}}})
	wantErr(t, "CreateRole(fabrikam)", err, nil)

	u, err := e.s.CreateUser(e.ctx, store.User{TenantID: a.ID, UPN: "alice@contoso.test", Enabled: true},
		store.Grant{RoleID: reader.ID, AssignedBy: "operator:test"})
	wantErr(t, "CreateUser(with a role)", err, nil)
	roles, err := e.s.RolesOf(e.ctx, a.ID, u.ID)
	wantErr(t, "RolesOf(alice)", err, nil)
	if len(roles) != 1 || roles[0].ID != reader.ID {
		t.Errorf("alice holds %+v, want the reader role", roles)
	}

	_, err = e.s.CreateUser(e.ctx, store.User{TenantID: a.ID, UPN: "bob@contoso.test", Enabled: true},
		store.Grant{RoleID: reader.ID, AssignedBy: "operator:test"}, store.Grant{RoleID: foreign.ID, AssignedBy: "operator:test"})
	wantErr(t, "CreateUser(with another tenant's role)", err, store.ErrNotFound)
	_, err = e.s.UserByUPN(e.ctx, "bob@contoso.test")
	wantErr(t, "UserByUPN(bob) after the failed create", err, store.ErrNotFound)
	// The UPN is free: nothing of the failed attempt was kept.
	e.user(t, a.ID, "bob@contoso.test")
}

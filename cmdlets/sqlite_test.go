package cmdlets

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/sqlite"
)

var _ Directory = (*sqlite.DB)(nil)

// The identity lookups agree with the real store, not only with the fake.
func TestGetCsOnlineUserOnSQLite(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(ctx, t.TempDir()+"/psgate.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var tenants [2]store.Tenant
	for i, name := range []string{"contoso", "fabrikam"} {
		tenants[i], err = db.CreateTenant(ctx, store.Tenant{Name: name, Domain: name + ".test", DisplayName: name, Policy: store.DefaultPolicy()})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []store.User{
		{TenantID: tenants[0].ID, UPN: "adele.vance@contoso.test", DisplayName: "Adele Vance", SipAddress: "sip:adele.vance@contoso.test", Enabled: true},
		{TenantID: tenants[0].ID, UPN: "alex.wilber@contoso.test", DisplayName: "Alex Wilber", SipAddress: "alex.wilber@contoso.test"},
		{TenantID: tenants[1].ID, UPN: "adele.vance@fabrikam.test", DisplayName: "Adele Vance"},
	} {
		if _, err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	caller := contoso
	caller.TenantID = tenants[0].ID
	tests := []struct {
		identity string
		want     []string
	}{
		{identity: "ADELE.VANCE@contoso.test", want: []string{"adele.vance@contoso.test"}},
		{identity: "sip:alex.wilber@contoso.test", want: []string{"alex.wilber@contoso.test"}},
		{identity: "adele.vance@contoso.test", want: []string{"adele.vance@contoso.test"}},
		{identity: "adele vance", want: []string{"adele.vance@contoso.test"}},
		{identity: "adele.vance@fabrikam.test"},
	}
	for _, tt := range tests {
		s, err := run(t, db, "Get-CsOnlineUser", caller, map[string]any{"Identity": tt.identity})
		if err != nil {
			t.Fatalf("%s: %v", tt.identity, err)
		}
		if diff := cmp.Diff(tt.want, upns(t, s.out)); diff != "" {
			t.Errorf("%s: users mismatch (-want +got):\n%s", tt.identity, diff)
		}
		if found := len(s.out) > 0; found == (len(s.errs) > 0) {
			t.Errorf("%s: %d objects and %d errors", tt.identity, len(s.out), len(s.errs))
		}
	}
	s, err := run(t, db, "Get-CsTenant", caller, nil)
	if err != nil || len(s.out) != 1 {
		t.Fatalf("Get-CsTenant: %d objects, %v", len(s.out), err)
	}
}

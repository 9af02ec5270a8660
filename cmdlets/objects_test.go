package cmdlets

import (
	"regexp"
	"testing"

	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/store"
)

func TestTenantGUID(t *testing.T) {
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	contoso := store.Tenant{ID: 1, Name: "contoso"}
	tests := []struct {
		name string
		a, b store.Tenant
		same bool
	}{
		{name: "same tenant", a: contoso, b: store.Tenant{ID: 1, Name: "Contoso", DisplayName: "renamed"}, same: true},
		{name: "other ID", a: contoso, b: store.Tenant{ID: 2, Name: "contoso"}},
		{name: "other name", a: contoso, b: store.Tenant{ID: 1, Name: "fabrikam"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := TenantGUID(tt.a), TenantGUID(tt.b)
			for _, g := range []psobject.GUID{a, b} {
				if !guid.MatchString(string(g)) {
					t.Errorf("TenantGUID = %q, not a version 5 GUID", g)
				}
			}
			if (a == b) != tt.same {
				t.Errorf("TenantGUID(%+v) = %s, TenantGUID(%+v) = %s, same = %v, want %v", tt.a, a, tt.b, b, a == b, tt.same)
			}
		})
	}
}

func TestOnlineUserObjectValues(t *testing.T) {
	tests := []struct {
		name string
		user store.User
		prop string
		want any
	}{
		{name: "SIP address gets its scheme", user: store.User{SipAddress: "a@contoso.test"}, prop: "SipAddress", want: "sip:a@contoso.test"},
		{name: "SIP scheme kept", user: store.User{SipAddress: "SIP:a@contoso.test"}, prop: "SipAddress", want: "SIP:a@contoso.test"},
		{name: "no SIP address", user: store.User{}, prop: "SipAddress", want: ""},
		{name: "unset change time is null", user: store.User{CreatedAt: t0}, prop: "WhenChanged", want: nil},
		{name: "creation time", user: store.User{CreatedAt: t0}, prop: "WhenCreated", want: t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := OnlineUserObject(tt.user).Get(tt.prop)
			if !ok || got != tt.want {
				t.Errorf("%s = %#v (present %v), want %#v", tt.prop, got, ok, tt.want)
			}
		})
	}
}

func TestTenantObjectWithoutDomain(t *testing.T) {
	got, _ := TenantObject(store.Tenant{ID: 1, Name: "x"}).Get("Domains")
	if got != nil && len(got.([]any)) != 0 {
		t.Errorf("Domains = %#v, want none", got)
	}
}

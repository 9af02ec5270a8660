package format

import (
	"time"

	"github.com/psgate/psgate/psobject"
)

// Objects shaped like the ones psgate's cmdlets write.

var created = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

func tenantObject() *psobject.Object {
	o := psobject.New([]string{"Psgate.Tenant", "Psgate.DirectoryObject", "System.Object"},
		psobject.P("Identity", "9f3c2a1e-5b7d-4c1e-8a2f-000000000001"),
		psobject.P("DisplayName", "Contoso Ltd."),
		psobject.P("Name", "contoso"),
		psobject.P("DomainName", "contoso.test"),
		psobject.P("Domains", []any{"contoso.test"}),
		psobject.P("CreatedOn", created),
		psobject.P("RemotePowerShellEnabled", true),
		psobject.P("MaxShellsPerUser", int32(3)),
		psobject.P("MaxShellsPerTenant", int32(20)),
		psobject.P("SessionLifetime", time.Hour),
	)
	return o
}

func userObject(name, upn, sip string, enabled bool) *psobject.Object {
	o := psobject.New([]string{"Psgate.OnlineUser", "Psgate.DirectoryObject", "System.Object"},
		psobject.P("Identity", "0b1e2c3d-0000-4000-8000-00000000000a"),
		psobject.P("UserPrincipalName", upn),
		psobject.P("DisplayName", name),
		psobject.P("SipAddress", sip),
		psobject.P("Enabled", enabled),
		psobject.P("Department", "Sales"),
		psobject.P("WhenCreated", created),
	)
	o.DisplayProps = []string{"DisplayName", "UserPrincipalName", "SipAddress", "Enabled"}
	return o
}

func users() []any {
	return []any{
		userObject("Adele Vance", "adele.vance@contoso.test", "sip:adele.vance@contoso.test", true),
		userObject("Alex Wilber", "alex.wilber@contoso.test", "sip:alex.wilber@contoso.test", true),
		userObject("Megan Bowen", "megan.bowen@contoso.test", "", false),
	}
}

// lf asks for "\n" line ends, so expected texts can be raw string literals.
var lf = Options{Newline: "\n"}

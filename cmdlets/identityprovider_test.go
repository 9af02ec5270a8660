package cmdlets

import (
	"errors"
	"strings"
	"testing"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/identity"
	"github.com/psgate/psgate/internal/oidctest"
	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/sqlite"

	"github.com/psgate/psgate/internal/freeport"
)

var _ federations = (*sqlite.DB)(nil)

// The identity provider cmdlets against the real store and a running
// oidc-provider.
func TestIdentityProviderCmdlets(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(ctx, t.TempDir()+"/psgate.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var callers [2]engine.Caller
	for i, c := range []engine.Caller{contoso, fabrikam} {
		tn, err := db.CreateTenant(ctx, store.Tenant{Name: c.Tenant, Domain: c.Tenant + ".test", DisplayName: c.Tenant, Policy: store.DefaultPolicy()})
		if err != nil {
			t.Fatal(err)
		}
		c.TenantID = tn.ID
		callers[i] = c
	}
	caller, other := callers[0], callers[1]
	idp := oidctest.Start(t, "psgate-contoso", map[string]map[string]any{"alice": {"preferred_username": "alice@contoso.test"}})

	// The provider runs on loopback, which the operator allows here
	// (identity.federation_private_networks); by default a tenant
	// administrator cannot make the gateway reach it.
	_, err = runLine(t, db, caller, "Set-CsTenantIdentityProvider -Issuer '"+idp.Issuer+"' -Audience psgate-contoso")
	var te *engine.TerminatingError
	if !errors.As(err, &te) || te.Record.Err.Code != psgate.CodeFederationMisconfig ||
		!strings.Contains(te.Record.Err.Message, "identity.federation_private_networks") {
		t.Fatalf("a provider on loopback by default: %v, want %s naming identity.federation_private_networks", err, psgate.CodeFederationMisconfig)
	}
	allow := WithProviderClient(identity.FederationClient(true))

	line := func(c engine.Caller, text string) *sink {
		t.Helper()
		s, err := runLine(t, db, c, text, allow)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		return s
	}
	refused := func(text string, code psgate.Code) {
		t.Helper()
		_, err := runLine(t, db, caller, text, allow)
		var te *engine.TerminatingError
		if !errors.As(err, &te) || te.Record.Err.Code != code {
			t.Errorf("%s: error %v, want a terminating error with code %s", text, err, code)
		}
	}
	stored := func() store.Federation {
		t.Helper()
		f, err := db.Federation(ctx, caller.TenantID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return f
	}
	prop := func(o any, name string) any {
		t.Helper()
		v, _ := o.(*psobject.Object).Get(name)
		return v
	}

	if s := line(caller, "Get-CsTenantIdentityProvider"); len(s.out) != 0 {
		t.Errorf("Get before Set wrote %d objects", len(s.out))
	}
	set := "Set-CsTenantIdentityProvider -Issuer '" + idp.Issuer + "' -Audience psgate-contoso"
	line(caller, set+" -WhatIf")
	if f := stored(); f.Enabled {
		t.Fatalf("Set -WhatIf saved %+v", f)
	}
	s := line(caller, set+" -PassThru")
	if len(s.out) != 1 || prop(s.out[0], "Issuer") != idp.Issuer || prop(s.out[0], "UserClaim") != "preferred_username" ||
		prop(s.out[0], "JwksUri") != idp.Issuer+"/jwks" || len(prop(s.out[0], "SigningKeys").([]any)) != 2 {
		t.Fatalf("Set -PassThru wrote %v", s.out)
	}
	if f := stored(); !f.Enabled || f.Issuer != idp.Issuer || f.Audience != "psgate-contoso" {
		t.Errorf("stored after Set: %+v", f)
	}
	s = line(caller, "Get-CsTenantIdentityProvider")
	if len(s.out) != 1 || prop(s.out[0], "Audience") != "psgate-contoso" || prop(s.out[0], "SigningKeys") != nil {
		t.Errorf("Get wrote %v", s.out)
	}
	s = line(caller, "Get-CsTenantIdentityProvider -Test")
	if len(s.out) != 1 || len(prop(s.out[0], "SigningKeys").([]any)) != 2 {
		t.Errorf("Get -Test wrote %v", s.out)
	}
	if s := line(other, "Get-CsTenantIdentityProvider"); len(s.out) != 0 {
		t.Errorf("another tenant's Get wrote %v", s.out)
	}

	// A provider that fails the check is not saved.
	dead := "http://" + freeport.Addr(t)
	refused("Set-CsTenantIdentityProvider -Issuer "+dead+" -Audience x", psgate.CodeProviderUnreachable)
	refused("Set-CsTenantIdentityProvider -Issuer http://idp.example -Audience x", psgate.CodeFederationMisconfig)
	refused("Set-CsTenantIdentityProvider -Issuer '"+idp.Issuer+"/other' -Audience x", psgate.CodeFederationMisconfig)
	if f := stored(); f.Issuer != idp.Issuer {
		t.Errorf("a refused Set replaced the provider: %+v", f)
	}
	s = line(other, "Set-CsTenantIdentityProvider -Issuer "+dead+" -Audience x -UserClaim email -Force")
	if len(s.warned) != 1 || !strings.Contains(s.warned[0], "check FAILED") || !strings.Contains(s.warned[0], "cannot reach") {
		t.Errorf("Set -Force warnings = %q", s.warned)
	}
	if f, err := db.Federation(ctx, other.TenantID); err != nil || !f.Enabled || f.UserClaim != "email" {
		t.Errorf("Set -Force stored %+v, %v", f, err)
	}

	line(caller, "Remove-CsTenantIdentityProvider -WhatIf")
	if f := stored(); !f.Enabled {
		t.Fatal("Remove -WhatIf removed the provider")
	}
	line(caller, "Remove-CsTenantIdentityProvider")
	if f := stored(); f.Enabled {
		t.Errorf("provider after Remove: %+v", f)
	}
	if s := line(caller, "Get-CsTenantIdentityProvider"); len(s.out) != 0 {
		t.Errorf("Get after Remove wrote %v", s.out)
	}
	if s := line(caller, "Remove-CsTenantIdentityProvider"); len(s.warned) != 1 || !strings.Contains(s.warned[0], "trusts no identity provider") {
		t.Errorf("second Remove warnings = %q", s.warned)
	}
}

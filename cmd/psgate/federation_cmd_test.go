//go:build !connector

package main

import (
	"context"
	"strings"
	"testing"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/oidctest"
	"github.com/psgate/psgate/store"

	"github.com/psgate/psgate/internal/freeport"
)

// TestTenantFederation configures a tenant's provider against a running
// oidc-provider.
func TestTenantFederation(t *testing.T) {
	c := newCLI(t)
	c.seed()
	idp := oidctest.Start(t, "psgate-contoso", map[string]map[string]any{"alice": {"preferred_username": "alice@contoso.test"}})

	out := c.ok("", "tenant", "federation", "show", "contoso")
	if want := "Tenant contoso trusts no identity provider (psgate tenant federation set).\n"; out != want {
		t.Errorf("show before set = %q, want %q", out, want)
	}

	out = squeeze(c.ok("", "tenant", "federation", "set", "contoso", "--issuer", idp.Issuer, "--audience", "psgate-contoso"))
	for _, want := range []string{
		"Issuer: " + idp.Issuer, "Key set: " + idp.Issuer + "/jwks", "Token endpoint: " + idp.Issuer + "/token",
		"Signing keys: rs256-", " RSA RS256", " EC ES256",
		"Tenant contoso now trusts " + idp.Issuer + " for the audience psgate-contoso; the user claim is preferred_username.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("federation set lacks %q:\n%s", want, out)
		}
	}
	ctx := context.Background()
	db := c.store()
	fed, err := db.Federation(ctx, 1)
	if err != nil || !fed.Enabled || fed.Issuer != idp.Issuer || fed.Audience != "psgate-contoso" || fed.UserClaim != "" {
		t.Errorf("stored federation = %+v, %v", fed, err)
	}

	var show federationJSON
	c.json(&show, "tenant", "federation", "show", "contoso", "--check")
	if !show.Enabled || show.Issuer != idp.Issuer || show.UserClaim != "preferred_username" || show.Provider == nil ||
		len(show.Provider.Keys) != 2 || show.CheckError != nil {
		t.Errorf("show --check JSON = %+v", show)
	}
	if out := squeeze(c.ok("", "tenant", "federation", "show", "contoso")); !strings.Contains(out, "Audience: psgate-contoso") ||
		strings.Contains(out, "Check:") {
		t.Errorf("show (no --check):\n%s", out)
	}
	out = squeeze(c.ok("", "tenant", "federation", "show", "contoso", "--check"))
	if strings.Count(out, "Issuer:") != 1 || !strings.Contains(out, "Check: passed") || !strings.Contains(out, " EC ES256") {
		t.Errorf("show --check:\n%s", out)
	}

	// A provider that fails the check is not saved: the previous one stays.
	err = c.fails("names issuer", "tenant", "federation", "set", "contoso", "--issuer", idp.Issuer+"/", "--audience", "x")
	if e, ok := psgate.AsError(err); !ok || e.Code != psgate.CodeFederationMisconfig {
		t.Errorf("issuer mismatch: %v, want %s", err, psgate.CodeFederationMisconfig)
	}
	dead := deadURL(t)
	err = c.fails("cannot reach the identity provider", "tenant", "federation", "set", "contoso", "--issuer", dead, "--audience", "x")
	if e, ok := psgate.AsError(err); !ok || e.Code != psgate.CodeProviderUnreachable || !strings.Contains(e.Resolution, "TCP connect to") {
		t.Errorf("unreachable provider: %v", err)
	}
	c.fails("is not an https URL", "tenant", "federation", "set", "contoso", "--issuer", "http://idp.example", "--audience", "x")
	c.fails("give the provider's issuer URL", "tenant", "federation", "set", "contoso", "--issuer", "idp.example", "--audience", "x")
	c.fails(`required flag(s) "audience" not set`, "tenant", "federation", "set", "contoso", "--issuer", idp.Issuer)
	if fed, _ := db.Federation(ctx, 1); fed.Issuer != idp.Issuer {
		t.Errorf("a refused set replaced the federation: %+v", fed)
	}

	// --force saves a provider that is not reachable yet, and says so.
	var forced federationJSON
	c.json(&forced, "tenant", "federation", "set", "fabrikam", "--issuer", dead, "--audience", "psgate", "--user-claim", "email", "--force")
	if !forced.Enabled || forced.UserClaim != "email" || forced.Provider != nil || forced.CheckError == nil ||
		forced.CheckError.Code != psgate.CodeProviderUnreachable {
		t.Errorf("set --force JSON = %+v", forced)
	}
	c.fails("cannot reach the identity provider", "tenant", "federation", "show", "fabrikam", "--check")

	out = c.ok("", "tenant", "federation", "remove", "contoso")
	if want := "Tenant contoso no longer trusts " + idp.Issuer + ".\n"; out != want {
		t.Errorf("remove = %q, want %q", out, want)
	}
	if fed, err := db.Federation(ctx, 1); err != nil || fed.Enabled {
		t.Errorf("federation after remove = %+v, %v", fed, err)
	}
	c.fails("tenant contoso trusts no identity provider; nothing was removed", "tenant", "federation", "remove", "contoso")
	c.fails("", "tenant", "federation", "show", "nosuch")

	recs, err := db.SearchAudit(ctx, store.AuditFilter{Action: "operator.tenant.federation-*"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Action+": "+r.Detail)
	}
	want := []string{
		"operator.tenant.federation-remove: stopped trusting issuer " + idp.Issuer,
		"operator.tenant.federation-set: trusted issuer " + dead + " for audience psgate, user claim email (--force: the provider check failed: ",
		"operator.tenant.federation-set: trusted issuer " + idp.Issuer + " for audience psgate-contoso, user claim preferred_username",
	}
	if len(got) != len(want) {
		t.Fatalf("audit = %q, want %q", got, want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("audit[%d] = %q, want it to start with %q", i, got[i], want[i])
		}
	}
}

// deadURL is an http loopback URL nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	return "http://" + freeport.Addr(t)
}

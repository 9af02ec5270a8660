package interop

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/internal/oidctest"
	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/store"
)

// fedResult is what federation_client.py reports.
type fedResult struct {
	Refused   string   `json:"refused"`
	Text      string   `json:"text"`
	Output    []any    `json:"output"`
	Errors    []string `json:"errors"`
	FQIDs     []string `json:"fqids"`
	Warnings  []string `json:"warnings"`
	HadErrors bool     `json:"had_errors"`
}

// fedRun runs script with pypsrp as user, signing in with password pw
// ("Bearer <token>" for a token).
func fedRun(t *testing.T, ts *testServer, user, pw, script string) fedResult {
	t.Helper()
	u, err := url.Parse(ts.httpURL)
	if err != nil {
		t.Fatal(err)
	}
	var r fedResult
	runPy(t, python(t, "pypsrp"), "federation_client.py", "run", map[string]string{
		"PSGATE_HOST": u.Hostname(), "PSGATE_PORT": u.Port(), "PSGATE_USER": user, "PSGATE_PASSWORD": pw,
		"PSGATE_SCRIPT": script,
	}, &r)
	return r
}

// TestFederationWithOIDCProvider: an operator trusts a real OpenID Connect
// provider (panva's oidc-provider) for the demo tenant with psgate tenant
// federation set; ID tokens it issues through its authorization code flow
// sign in to a running gateway with pypsrp; tenant administrators see and
// change the provider with the identity provider cmdlets, a Tenant Reader
// only sees it; after psgate tenant federation remove the same token is
// refused with identity.token-invalid.
func TestFederationWithOIDCProvider(t *testing.T) {
	const audience = "psgate-interop"
	// The provider runs on loopback: the operator allows providers on
	// private networks (by default the gateway refuses to fetch them).
	ts := startServerWith(t, func(c *server.Config) { c.FederationPrivateNetworks = true })
	ts.addUser(t, "ines.fed@contoso.test", "Ines-Pa55word!", store.RoleTenantAdministrator)
	ts.addUser(t, "rui.fed@contoso.test", "Rui-Pa55word!", store.RoleTenantReader)
	idp := oidctest.Start(t, audience, map[string]map[string]any{
		"ines": {"preferred_username": "ines.fed@contoso.test", "name": "Ines Fed"},
		"rui":  {"preferred_username": "rui.fed@contoso.test"},
	})
	bin := filepath.Join(t.TempDir(), "psgate")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/psgate").CombinedOutput(); err != nil {
		t.Fatalf("build psgate: %v\n%s", err, out)
	}
	cli := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append(args, "--data", ts.dataDir)...).CombinedOutput()
		if err != nil {
			t.Fatalf("psgate %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	out := cli("tenant", "federation", "set", server.DemoTenant, "--issuer", idp.Issuer, "--audience", audience)
	for _, want := range []string{"Key set: " + idp.Issuer + "/jwks", " RSA RS256", " EC ES256",
		"Tenant contoso now trusts " + idp.Issuer + " for the audience " + audience} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
			t.Errorf("federation set output lacks %q:\n%s", want, out)
		}
	}
	t.Logf("psgate tenant federation set:\n%s", out)

	ines := "Bearer " + idp.IDToken(t, "ines")
	rui := "Bearer " + idp.IDToken(t, "rui")

	// The provider's token signs in; the cmdlets show the provider.
	r := fedRun(t, ts, "ines.fed@contoso.test", ines, "Get-CsTenantIdentityProvider -Test")
	if r.Refused != "" || r.HadErrors || len(r.Output) != 1 {
		t.Fatalf("Get-CsTenantIdentityProvider -Test signed in with the provider's token: %+v", r)
	}
	if got, _ := r.Output[0].(map[string]any); got["Issuer"] != idp.Issuer || got["Audience"] != audience || got["UserClaim"] != "preferred_username" ||
		fmt.Sprint(got["SigningKeys"]) == "[]" || !strings.Contains(fmt.Sprint(got["SigningKeys"]), "RS256") {
		t.Errorf("Get-CsTenantIdentityProvider -Test wrote %v", got)
	}

	// A Tenant Reader, signed in with the provider's token, sees the
	// provider but cannot change or remove it.
	r = fedRun(t, ts, "rui.fed@contoso.test", rui, "Get-CsTenantIdentityProvider | Select-Object -ExpandProperty Issuer")
	if r.Refused != "" || r.HadErrors || len(r.Output) != 1 || r.Output[0] != idp.Issuer {
		t.Errorf("Tenant Reader's Get-CsTenantIdentityProvider: %+v", r)
	}
	for _, line := range []string{
		"Set-CsTenantIdentityProvider -Issuer '" + idp.Issuer + "' -Audience other",
		"Remove-CsTenantIdentityProvider",
	} {
		r = fedRun(t, ts, "rui.fed@contoso.test", rui, line)
		if r.Refused != "" || len(r.FQIDs) != 1 || !strings.HasPrefix(r.FQIDs[0], "CommandNotFoundException") {
			t.Errorf("Tenant Reader ran %q: %+v; want it refused as not recognized", line, r)
		}
	}

	// The administrator checks a change with -WhatIf, then makes it.
	setTo := func(issuer string) string {
		return "Set-CsTenantIdentityProvider -Issuer '" + issuer + "' -Audience " + audience + " -UserClaim preferred_username"
	}
	set := setTo(idp.Issuer)
	r = fedRun(t, ts, "ines.fed@contoso.test", ines, set+" -WhatIf; "+setTo("http://idp.example"))
	if r.Refused != "" || len(r.Errors) != 1 || !strings.Contains(r.Errors[0], "is not an https URL") {
		t.Errorf("Set -WhatIf then a non-https issuer: %+v", r)
	}
	if f := demoFederation(t, ts); f.UserClaim != "" || !f.Enabled {
		t.Errorf("federation after -WhatIf and a refused Set: %+v", f)
	}
	r = fedRun(t, ts, "ines.fed@contoso.test", ines, set+" -PassThru")
	if r.Refused != "" || r.HadErrors || len(r.Output) != 1 || r.Output[0].(map[string]any)["JwksUri"] != idp.Issuer+"/jwks" {
		t.Errorf("Set -PassThru: %+v", r)
	}
	if f := demoFederation(t, ts); f.UserClaim != "preferred_username" || !f.Enabled {
		t.Errorf("federation after Set: %+v", f)
	}
	audited := auditedRecords(t, ts.Store(), "Set-CsTenantIdentityProvider")
	if len(audited) == 0 {
		t.Error("Set-CsTenantIdentityProvider left no audit record")
	}

	// The operator removes the provider: the gateway rereads the tenants'
	// providers within a minute, then a token of the provider is refused.
	// Each probe signs in again at the provider for a new token: a token
	// the gateway verified already stays in its token cache until it
	// expires (identity.Service.VerifyAccessToken), whatever the store says.
	out = cli("tenant", "federation", "remove", server.DemoTenant)
	if want := "Tenant contoso no longer trusts " + idp.Issuer + "."; !strings.Contains(out, want) {
		t.Errorf("federation remove = %q, want %q", out, want)
	}
	probe := envelope("0A6A2D44-2D2A-4F07-8E5D-0A0A0A0AFED1", actCreate, "", createBody)
	deadline := time.Now().Add(90 * time.Second)
	var fresh string
	for {
		fresh = "Bearer " + idp.IDToken(t, "ines")
		status, _, body := soapPost(t, ts.httpURL, "ines.fed@contoso.test", fresh, probe)
		if status == http.StatusUnauthorized {
			if f := parseFault(t, body); f.PGCode != "identity.token-invalid" || !strings.Contains(f.Message+f.Reason, "neither this gateway nor any tenant trusts") {
				t.Errorf("after remove: HTTP 401 with %+v, want identity.token-invalid naming the untrusted issuer", f)
			}
			break
		}
		if status == http.StatusOK {
			if m := shellIDRE.FindStringSubmatch(body); m != nil {
				deleteShellAs(t, ts, "ines.fed@contoso.test", fresh, m[1])
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("new tokens of the provider still sign in 90s after federation remove (HTTP %d)", status)
		}
		time.Sleep(5 * time.Second)
	}
	r = fedRun(t, ts, "ines.fed@contoso.test", fresh, "Get-CsTenant")
	if r.Refused != "AuthenticationError" {
		t.Errorf("pypsrp with a new token after remove: %+v, want AuthenticationError", r)
	}

	// The administrator, now signed in with a password, sets the provider
	// again and removes it with the cmdlets.
	r = fedRun(t, ts, "ines.fed@contoso.test", "Ines-Pa55word!", set+"; Remove-CsTenantIdentityProvider -WhatIf; Get-CsTenantIdentityProvider | Select-Object -ExpandProperty Issuer; Remove-CsTenantIdentityProvider; Remove-CsTenantIdentityProvider")
	if r.Refused != "" || r.HadErrors || len(r.Output) != 1 || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "trusts no identity provider") {
		t.Errorf("Set, Remove -WhatIf, Get, Remove, Remove with a password: %+v", r)
	}
	if f := demoFederation(t, ts); f.Enabled {
		t.Errorf("federation after Remove-CsTenantIdentityProvider: %+v", f)
	}
}

func demoFederation(t *testing.T, ts *testServer) store.Federation {
	t.Helper()
	ctx := context.Background()
	tn, err := ts.Store().TenantByName(ctx, server.DemoTenant)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ts.Store().Federation(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// deleteShellAs deletes a shell a probe opened.
func deleteShellAs(t *testing.T, ts *testServer, user, pw, shellID string) {
	t.Helper()
	const actDelete = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
	if status, _, body := soapPost(t, ts.httpURL, user, pw, envelope("0A6A2D44-2D2A-4F07-8E5D-0A0A0A0AFED2", actDelete, shellID, "")); status != http.StatusOK {
		t.Fatalf("Delete %s: HTTP %d\n%s", shellID, status, body)
	}
}

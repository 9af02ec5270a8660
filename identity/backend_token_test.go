package identity

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/psgate/psgate"
)

// verifyAsBackend checks a backend token as an operator's service does:
// with the key set fetched from the JWKS endpoint.
func verifyAsBackend(t *testing.T, f *fixture, raw, audience string) (BackendClaims, error) {
	t.Helper()
	resp, err := f.client.Get(f.srv.URL + PathJWKS)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("the JWKS has no key %q", tok.Headers[0].KeyID)
	}
	var c BackendClaims
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		t.Fatal(err)
	}
	return c, c.ValidateWithLeeway(jwt.Expected{Issuer: f.svc.Issuer(), AnyAudience: jwt.Audience{audience}, Time: f.clock.Now()}, 0)
}

func TestBackendToken(t *testing.T) {
	f := newFixture(t)
	p := psgate.Principal{TenantID: f.contoso.ID, Tenant: "contoso", UserID: f.alice.ID, UPN: "alice@contoso.test",
		Method: psgate.AuthBearer, ExpiresAt: f.clock.Now().Add(time.Hour)}
	raw, err := f.svc.BackendToken(f.ctx, p, []string{"Tenant Administrator"}, "urn:contoso:widgets")
	if err != nil {
		t.Fatal(err)
	}
	c, err := verifyAsBackend(t, f, raw, "urn:contoso:widgets")
	if err != nil {
		t.Fatalf("the backend refuses its own token: %v", err)
	}
	if c.TenantID != f.contoso.ID || c.Tenant != "contoso" || c.UserID != f.alice.ID || c.Subject != "alice@contoso.test" ||
		strings.Join(c.Roles, ",") != "Tenant Administrator" || c.IdentityType != "user" || c.ID == "" {
		t.Errorf("claims = %+v", c)
	}
	if got := c.Expiry.Time().Sub(c.IssuedAt.Time()); got != BackendTokenTTL {
		t.Errorf("lifetime %v, want %v", got, BackendTokenTTL)
	}
	// Audience-bound: another backend refuses it...
	if _, err := verifyAsBackend(t, f, raw, "urn:contoso:other"); err == nil {
		t.Error("a token for urn:contoso:widgets verified for urn:contoso:other")
	}
	// ...and so does the gateway: a backend cannot replay it against psgate.
	if _, err := f.authenticate("Bearer "+raw, ""); codeOf(err) != psgate.CodeTokenInvalid {
		t.Errorf("the gateway on a backend token: %v, want %s", err, psgate.CodeTokenInvalid)
	}
	// It expires with the backend TTL.
	f.clock.Advance(BackendTokenTTL + time.Second)
	if _, err := verifyAsBackend(t, f, raw, "urn:contoso:widgets"); err == nil {
		t.Error("an expired backend token verified")
	}
}

func TestBackendTokenBounds(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	p := psgate.Principal{TenantID: f.contoso.ID, Tenant: "contoso", UserID: f.alice.ID, UPN: "alice@contoso.test", ExpiresAt: now.Add(time.Minute)}
	raw, err := f.svc.BackendToken(f.ctx, p, nil, "https://widgets.example")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := verifyAsBackend(t, f, raw, "https://widgets.example")
	if !c.Expiry.Time().Equal(now.Add(time.Minute)) {
		t.Errorf("exp %v: a backend token must not outlive the caller's own (%v)", c.Expiry.Time(), now.Add(time.Minute))
	}
	if c.Roles == nil {
		t.Error("roles must be an empty list, not absent")
	}
	for _, aud := range []string{"", DefaultAudience, f.svc.Issuer(), f.svc.Issuer() + "/"} {
		if _, err := f.svc.BackendToken(f.ctx, p, nil, aud); err == nil {
			t.Errorf("audience %q accepted", aud)
		}
	}
	if _, err := f.svc.BackendToken(f.ctx, psgate.Principal{}, nil, "urn:x"); err == nil {
		t.Error("a token for nobody")
	}
	f.clock.Advance(2 * time.Minute)
	if _, err := f.svc.BackendToken(f.ctx, p, nil, "urn:x"); codeOf(err) != psgate.CodeTokenExpired {
		t.Errorf("caller's credential expired: %v", err)
	}
}

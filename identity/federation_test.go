package identity

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// provider side of OpenID Connect, signed with go-jose: discovery, a key
// set, and ID tokens. It rotates keys as a real provider does: the new
// key is published and signs at once; the old one stays published.
type oidcProvider struct {
	t    *testing.T
	srv  *httptest.Server
	down atomic.Bool
	// issuerOverride makes discovery name another issuer.
	issuerOverride atomic.Value
	keyFetches     atomic.Int32
	// stalled, while set, holds every request until it is closed; each
	// held request is announced on arrived.
	stalled atomic.Pointer[chan struct{}]
	arrived chan string

	mu   sync.Mutex
	keys []jose.JSONWebKey // private; the last one signs
}

func newOIDCProvider(t *testing.T) *oidcProvider {
	p := &oidcProvider{t: t, arrived: make(chan string, 16)}
	p.srv = httptest.NewTLSServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	p.rotate()
	return p
}

func (p *oidcProvider) issuer() string { return p.srv.URL }

func (p *oidcProvider) serve(w http.ResponseWriter, r *http.Request) {
	if stall := p.stalled.Load(); stall != nil {
		select {
		case p.arrived <- r.URL.Path:
		default:
		}
		<-*stall
	}
	if p.down.Load() {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		iss := p.issuer()
		if o, ok := p.issuerOverride.Load().(string); ok && o != "" {
			iss = o
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                iss,
			"jwks_uri":                              p.issuer() + "/keys",
			"authorization_endpoint":                p.issuer() + "/authorize",
			"token_endpoint":                        p.issuer() + "/token",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	case "/keys":
		p.keyFetches.Add(1)
		p.mu.Lock()
		set := jose.JSONWebKeySet{}
		for _, k := range p.keys {
			set.Keys = append(set.Keys, k.Public())
		}
		p.mu.Unlock()
		_ = json.NewEncoder(w).Encode(set)
	default:
		http.NotFound(w, r)
	}
}

// stall makes the provider hold its answers until the returned function is
// called (more than once is fine).
func (p *oidcProvider) stall() (release func()) {
	ch := make(chan struct{})
	p.stalled.Store(&ch)
	var once sync.Once
	return func() {
		once.Do(func() {
			p.stalled.Store(nil)
			close(ch)
		})
	}
}

// rotate adds a new signing key and returns its kid.
func (p *oidcProvider) rotate() string {
	p.t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		p.t.Fatal(err)
	}
	kid := randomID(9)
	p.mu.Lock()
	p.keys = append(p.keys, jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"})
	p.mu.Unlock()
	return kid
}

// idToken signs claims with the current key.
func (p *oidcProvider) idToken(claims map[string]any) string {
	p.t.Helper()
	p.mu.Lock()
	k := p.keys[len(p.keys)-1]
	p.mu.Unlock()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		p.t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		p.t.Fatal(err)
	}
	return tok
}

const fabrikamAudience = "psgate-fabrikam"

// federate makes fabrikam trust idp.
func (f *fixture) federate(idp *oidcProvider, enabled bool) {
	f.t.Helper()
	err := f.db.SetFederation(f.ctx, store.Federation{TenantID: f.fabrikam.ID, Issuer: idp.issuer(),
		Audience: fabrikamAudience, UserClaim: "email", Enabled: enabled})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) bobClaims(idp *oidcProvider) map[string]any {
	now := f.clock.Now()
	return map[string]any{
		"iss": idp.issuer(), "sub": "00u1bob", "aud": []string{fabrikamAudience, "other"},
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nbf": now.Unix(),
		"email": "Bob@Fabrikam.test", "jti": randomID(8),
	}
}

func TestFederation(t *testing.T) {
	idp := newOIDCProvider(t)
	f := newFixture(t, func(c *ServiceConfig) {
		c.HTTPClient = idp.srv.Client()
	})
	f.federate(idp, true)
	with := func(edit func(map[string]any)) string {
		c := f.bobClaims(idp)
		edit(c)
		return idp.idToken(c)
	}

	tok := idp.idToken(f.bobClaims(idp))
	p, err := f.authenticate(basic("bob@fabrikam.test", "Bearer "+tok), "")
	if err != nil {
		t.Fatalf("federated token refused: %v", err)
	}
	if p.Method != psgate.AuthFederated || p.UPN != "bob@fabrikam.test" || p.TenantID != f.fabrikam.ID || p.UserID != f.bob.ID {
		t.Errorf("principal = %+v, want bob of fabrikam, federated", p)
	}

	t.Run("key rotation at the provider", func(t *testing.T) {
		before := idp.keyFetches.Load()
		newKID := idp.rotate()
		tok := idp.idToken(f.bobClaims(idp))
		if kidOf(t, tok) != newKID {
			t.Fatal("provider did not sign with its new key")
		}
		// The key set was fetched a moment ago: an unknown kid does not
		// refetch it until FederationRefresh (10 s) has passed, so junk
		// kids cannot make the gateway hammer the provider.
		if _, err := f.authenticate("Bearer "+tok, ""); codeOf(err) != psgate.CodeFederatedTokenInvalid {
			t.Fatalf("new kid right after a fetch: %v, want federated-token-invalid", err)
		}
		f.clock.Advance(10 * time.Second)
		if _, err := f.authenticate("Bearer "+tok, ""); err != nil {
			t.Fatalf("token signed with the provider's new key refused: %v", err)
		}
		if got := idp.keyFetches.Load() - before; got != 1 {
			t.Errorf("key set fetched %d times for the new kid, want 1", got)
		}
		// Tokens of known keys cost no fetch.
		if _, err := f.authenticate("Bearer "+idp.idToken(f.bobClaims(idp)), ""); err != nil {
			t.Fatal(err)
		}
		if got := idp.keyFetches.Load() - before; got != 1 {
			t.Errorf("key set fetched %d times, want still 1", got)
		}
	})

	tests := []struct {
		name  string
		token string
		code  psgate.Code
		text  string
	}{
		{"wrong audience", with(func(c map[string]any) { c["aud"] = "someone-else" }), psgate.CodeFederatedTokenInvalid, "audience"},
		{"no user claim", with(func(c map[string]any) { delete(c, "email") }), psgate.CodeFederatedTokenInvalid, `no "email" claim`},
		{"user of another tenant", with(func(c map[string]any) { c["email"] = "alice@contoso.test" }), psgate.CodeFederatedTokenInvalid,
			`"alice@contoso.test" is not a user of tenant 'fabrikam'`},
		{"unknown user", with(func(c map[string]any) { c["email"] = "nobody@fabrikam.test" }), psgate.CodeFederatedTokenInvalid, "not a user"},
		{"expired", with(func(c map[string]any) { c["exp"] = f.clock.Now().Add(-5 * time.Minute).Unix() }), psgate.CodeTokenExpired,
			"The access token for 'bob@fabrikam.test' expired"},
		{"not yet valid", with(func(c map[string]any) { c["nbf"] = f.clock.Now().Add(5 * time.Minute).Unix() }), psgate.CodeFederatedTokenInvalid, "not valid before"},
		{"HS256 keyed with the provider's public key", hs256WithProviderKey(t, idp, f.bobClaims(idp)), psgate.CodeTokenInvalid, `"HS256"`},
		{"unknown kid", signWithNewKey(t, f.bobClaims(idp)), psgate.CodeFederatedTokenInvalid, "did not publish"},
		{"wrong issuer", with(func(c map[string]any) { c["iss"] = "https://evil.example" }), psgate.CodeTokenInvalid, "trusts"},
		{"Basic user is someone else", "", psgate.CodeTokenUserMismatch, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			authz := "Bearer " + tt.token
			if tt.token == "" {
				authz = basic("carol@fabrikam.test", "Bearer "+idp.idToken(f.bobClaims(idp)))
			}
			_, err := f.authenticate(authz, "")
			if codeOf(err) != tt.code || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("Authenticate = %v, want %s saying %q", err, tt.code, tt.text)
			}
		})
	}

	t.Run("disabling the user", func(t *testing.T) {
		tok := idp.idToken(f.bobClaims(idp))
		if _, err := f.authenticate("Bearer "+tok, ""); err != nil {
			t.Fatal(err)
		}
		f.bob.Enabled = false
		if _, err := f.db.UpdateUser(f.ctx, f.bob); err != nil {
			t.Fatal(err)
		}
		defer func() {
			f.bob.Enabled = true
			if _, err := f.db.UpdateUser(f.ctx, f.bob); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(time.Minute)
		}()
		f.clock.Advance(time.Minute)
		if _, err := f.authenticate("Bearer "+tok, ""); codeOf(err) != psgate.CodeLogonFailed {
			t.Fatalf("disabled federated user: %v, want logon-failed", err)
		}
	})

	t.Run("provider down with cached keys", func(t *testing.T) {
		idp.down.Store(true)
		defer idp.down.Store(false)
		f.clock.Advance(2 * time.Hour) // past the key set's refresh time
		if _, err := f.authenticate("Bearer "+idp.idToken(f.bobClaims(idp)), ""); err != nil {
			t.Fatalf("known key while the provider is down: %v", err)
		}
		_, err := f.authenticate("Bearer "+signWithNewKey(t, f.bobClaims(idp)), "")
		if codeOf(err) != psgate.CodeProviderUnreachable {
			t.Fatalf("unknown key while the provider is down: %v, want provider-unreachable", err)
		}
	})
}

func TestFederationProviderUnreachable(t *testing.T) {
	idp := newOIDCProvider(t)
	tests := []struct {
		name   string
		setup  func()
		code   psgate.Code
		status int
		text   string
	}{
		{"HTTP 503", func() { idp.down.Store(true) }, psgate.CodeProviderUnreachable, 503,
			"The gateway cannot reach the identity provider " + idp.issuer() + ", so the token cannot be validated."},
		{"connection refused", func() { idp.srv.Listener.Close() }, psgate.CodeProviderUnreachable, 503, "This is not a problem with your credentials."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *ServiceConfig) { c.HTTPClient = idp.srv.Client() })
			f.federate(idp, true)
			tok := idp.idToken(f.bobClaims(idp))
			tt.setup()
			_, err := f.authenticate(basic("bob@fabrikam.test", "Bearer "+tok), "")
			e, ok := psgate.AsError(err)
			if !ok || e.Code != tt.code || e.Entry().HTTPStatus != tt.status || !strings.Contains(e.Message, tt.text) {
				t.Fatalf("Authenticate = %v, want %s (%d) saying %q", err, tt.code, tt.status, tt.text)
			}
			if !strings.Contains(e.Resolution, "/.well-known/openid-configuration") {
				t.Errorf("resolution %q does not name the failing URL", e.Resolution)
			}
			// Nothing verified the token yet: naming a tenant that trusts
			// the issuer would tell anyone who uses that provider.
			if strings.Contains(e.Message+e.Resolution, "fabrikam") {
				t.Errorf("the refusal names a tenant: %s %s", e.Message, e.Resolution)
			}
		})
	}
	t.Run("misconfigured", func(t *testing.T) {
		idp := newOIDCProvider(t)
		idp.issuerOverride.Store("https://someone-else.example")
		f := newFixture(t, func(c *ServiceConfig) { c.HTTPClient = idp.srv.Client() })
		f.federate(idp, true)
		_, err := f.authenticate("Bearer "+idp.idToken(f.bobClaims(idp)), "")
		if codeOf(err) != psgate.CodeFederationMisconfig || !strings.Contains(err.Error(), "someone-else") {
			t.Fatalf("discovery naming another issuer: %v, want federation-misconfigured", err)
		}
	})
	t.Run("federation disabled", func(t *testing.T) {
		idp := newOIDCProvider(t)
		f := newFixture(t, func(c *ServiceConfig) { c.HTTPClient = idp.srv.Client() })
		f.federate(idp, false)
		_, err := f.authenticate("Bearer "+idp.idToken(f.bobClaims(idp)), "")
		if codeOf(err) != psgate.CodeTokenInvalid {
			t.Fatalf("token of a disabled federation: %v, want token-invalid", err)
		}
	})
}

// A provider that hangs delays only the sign-ins that cannot go on without
// it: while a key set fetch from one tenant's provider hangs, sign-ins
// through another tenant's provider, and through the hanging provider with
// a key already known, go on at once. Real HTTP on loopback.
func TestFederationSlowProviderBlocksNoOtherSignIn(t *testing.T) {
	slow, other := newOIDCProvider(t), newOIDCProvider(t)
	// httptest's TLS servers share one certificate, so either client
	// trusts both.
	f := newFixture(t, func(c *ServiceConfig) { c.HTTPClient = slow.srv.Client() })
	f.federate(slow, true)
	err := f.db.SetFederation(f.ctx, store.Federation{TenantID: f.contoso.ID, Issuer: other.issuer(),
		Audience: "psgate-contoso", UserClaim: "email", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	aliceClaims := func() map[string]any {
		now := f.clock.Now()
		return map[string]any{
			"iss": other.issuer(), "sub": "00u1alice", "aud": "psgate-contoso",
			"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nbf": now.Unix(),
			"email": "alice@contoso.test", "jti": randomID(8),
		}
	}
	if _, err := f.authenticate("Bearer "+slow.idToken(f.bobClaims(slow)), ""); err != nil {
		t.Fatalf("first sign-in through the slow provider: %v", err)
	}

	release := slow.stall()
	defer release()
	f.clock.Advance(10 * time.Second) // an unknown kid may refetch the key set
	unknownKid := signWithNewKey(t, f.bobClaims(slow))
	stuck := make(chan error, 1)
	go func() {
		_, err := f.authenticate("Bearer "+unknownKid, "")
		stuck <- err
	}()
	select {
	case <-slow.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the key set fetch never reached the slow provider")
	}

	promptly := func(name string, token string) {
		t.Helper()
		done := make(chan error, 1)
		go func() {
			_, err := f.authenticate("Bearer "+token, "")
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		case <-time.After(3 * time.Second):
			t.Errorf("%s waited for the hanging provider", name)
		}
	}
	promptly("first sign-in through another provider", other.idToken(aliceClaims()))
	promptly("sign-in through another provider", other.idToken(aliceClaims()))
	promptly("sign-in through the hanging provider with a known key", slow.idToken(f.bobClaims(slow)))

	release()
	select {
	case err := <-stuck:
		if codeOf(err) != psgate.CodeFederatedTokenInvalid {
			t.Errorf("unknown kid once the provider answered: %v, want federated-token-invalid", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the sign-in that waited for the provider did not end once it answered")
	}
}

func hs256WithProviderKey(t *testing.T, idp *oidcProvider, claims map[string]any) string {
	t.Helper()
	idp.mu.Lock()
	pub := idp.keys[len(idp.keys)-1].Public()
	idp.mu.Unlock()
	b, err := pub.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return sign(t, jose.HS256, b, pub.KeyID, "JWT", claims)
}

func signWithNewKey(t *testing.T, claims map[string]any) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return sign(t, jose.RS256, k, "never-published", "JWT", claims)
}

// A tenant that stops trusting its provider (psgate tenant federation
// remove) refuses the tokens it already accepted, not only new ones: a
// cached token is checked against the federation index, which is re-read
// at least every minute.
func TestFederationRemovalEndsCachedTokens(t *testing.T) {
	idp := newOIDCProvider(t)
	f := newFixture(t, func(c *ServiceConfig) { c.HTTPClient = idp.srv.Client() })
	f.federate(idp, true)
	tok := idp.idToken(f.bobClaims(idp))
	if _, err := f.authenticate("Bearer "+tok, ""); err != nil {
		t.Fatalf("federated token refused: %v", err)
	}
	f.federate(idp, false) // removed
	f.clock.Advance(61 * time.Second)
	_, err := f.authenticate("Bearer "+tok, "")
	if codeOf(err) != psgate.CodeTokenInvalid || !strings.Contains(err.Error(), "no longer trusts") {
		t.Fatalf("a token accepted before the removal: %v, want token-invalid saying the tenant no longer trusts it", err)
	}
	f.federate(idp, true) // trusted again: a new token works
	f.clock.Advance(61 * time.Second)
	if _, err := f.authenticate("Bearer "+idp.idToken(f.bobClaims(idp)), ""); err != nil {
		t.Fatalf("a new token after federating again: %v", err)
	}
}

package identity

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/store"
)

func TestDiscoveryAndJWKS(t *testing.T) {
	f := newFixture(t)
	var md metadata
	getJSON(t, f, PathDiscovery, &md)
	iss := f.svc.Issuer()
	if md.Issuer != iss || md.TokenEndpoint != iss+PathToken || md.JWKSURI != iss+PathJWKS ||
		md.DeviceAuthorizationEndpoint != iss+PathDeviceCode || md.RevocationEndpoint != iss+PathRevoke {
		t.Errorf("discovery = %+v; endpoints do not derive from issuer %s", md, iss)
	}
	if md.Audience != DefaultAudience {
		t.Errorf("psgate_audience = %q, want %q", md.Audience, DefaultAudience)
	}
	for _, g := range []string{"password", "refresh_token", "client_credentials", grantDeviceCode} {
		if !strings.Contains(strings.Join(md.GrantTypesSupported, " "), g) {
			t.Errorf("grant_types_supported %v lacks %s", md.GrantTypesSupported, g)
		}
	}
	var md2 metadata
	getJSON(t, f, PathOAuthMetadata, &md2)
	if md2.Issuer != iss {
		t.Errorf("RFC 8414 metadata issuer = %q, want %q", md2.Issuer, iss)
	}

	tok := f.signIn("alice@contoso.test", alicePW)
	var set jose.JSONWebKeySet
	getJSON(t, f, PathJWKS, &set)
	parsed, err := jose.ParseSignedCompact(tok.AccessToken, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	kid := parsed.Signatures[0].Header.KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("JWKS has %d keys with the token's kid %q, want 1: %+v", len(keys), kid, set)
	}
	if !keys[0].IsPublic() || keys[0].Algorithm != "ES256" || keys[0].Use != "sig" {
		t.Errorf("JWKS key = %+v, want a public ES256 signing key", keys[0])
	}
	if _, err := parsed.Verify(keys[0].Key); err != nil {
		t.Errorf("the published key does not verify the access token: %v", err)
	}
}

func getJSON(t testing.TB, f *fixture, path string, v any) {
	t.Helper()
	resp, err := f.client.Get(f.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, b)
	}
}

func TestPasswordGrant(t *testing.T) {
	f := newFixture(t)
	dave := f.mustUser(f.contoso, "dave@contoso.test", "Dave-Pa55word!")
	dave.Enabled = false
	if _, err := f.db.UpdateUser(f.ctx, dave); err != nil {
		t.Fatal(err)
	}
	seed := "Please create a new PSCredential object, making sure that you have used the correct user name and password."
	tests := []struct {
		name, user, pw string
		status         int
		oauth          string
		code           psgate.Code
		text           string
	}{
		{"right password", "alice@contoso.test", alicePW, 200, "", "", ""},
		{"user name in another case", "Alice@Contoso.TEST", alicePW, 200, "", "", ""},
		{"TENANT\\user", `contoso\alice`, alicePW, 200, "", "", ""},
		{"wrong password", "alice@contoso.test", "nope", 400, "invalid_grant", psgate.CodeLogonFailed,
			"Logon failed for the user 'alice@contoso.test'. " + seed},
		{"unknown user", "mallory@contoso.test", "nope", 400, "invalid_grant", psgate.CodeLogonFailed,
			"Logon failed for the user 'mallory@contoso.test'. " + seed},
		{"disabled user with the right password", "dave@contoso.test", "Dave-Pa55word!", 400, "invalid_grant", psgate.CodeLogonFailed,
			"Logon failed for the user 'dave@contoso.test'. " + seed},
		{"tenant without password sign-in", "bob@fabrikam.test", bobPW, 400, "invalid_grant", psgate.CodePasswordAuthDisabled,
			"Tenant 'fabrikam' does not allow password authentication"},
		{"missing password", "alice@contoso.test", "", 400, "invalid_request", psgate.CodeInvalidRequest, "username and password are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.token(url.Values{"grant_type": {"password"}, "username": {tt.user}, "password": {tt.pw}})
			if r.Status != tt.status || r.Error != tt.oauth || psgate.Code(r.Code) != tt.code || !strings.Contains(r.Description, tt.text) {
				t.Fatalf("password grant = %d %s", r.Status, r.Raw)
			}
			if tt.status != 200 {
				return
			}
			if r.TokenType != "Bearer" || r.ExpiresIn != 3600 || r.RefreshToken == "" {
				t.Errorf("token response = %+v, want a Bearer token for 3600 s with a refresh token", r.tokenResponse)
			}
			if got := r.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			p, err := f.authenticate(basic("alice@contoso.test", "Bearer "+r.AccessToken), "")
			if err != nil {
				t.Fatalf("gateway refused the issued token: %v", err)
			}
			want := psgate.Principal{TenantID: f.contoso.ID, Tenant: "contoso", UserID: f.alice.ID, UPN: "alice@contoso.test",
				Method: psgate.AuthBearer, ExpiresAt: f.clock.Now().Add(time.Hour), TokenID: p.TokenID}
			if d := cmp.Diff(want, p); d != "" || p.TokenID == "" {
				t.Errorf("principal = %+v, want a jti and (-want +got):\n%s", p, d)
			}
		})
	}
}

func TestTokenEndpointRequests(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		form   url.Values
		status int
		oauth  string
	}{
		{"no grant type", url.Values{}, 400, "invalid_request"},
		{"unsupported grant", url.Values{"grant_type": {"authorization_code"}}, 400, "unsupported_grant_type"},
		{"repeated parameter", url.Values{"grant_type": {"password", "password"}}, 400, "invalid_request"},
		{"unknown client", url.Values{"grant_type": {"password"}, "client_id": {"nobody"}}, 401, "invalid_client"},
		{"public client with a secret", url.Values{"grant_type": {"password"}, "client_id": {DefaultClientID}, "client_secret": {"x"}}, 401, "invalid_client"},
		{"client credentials for the public client", url.Values{"grant_type": {"client_credentials"}}, 401, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.token(tt.form)
			if r.Status != tt.status || r.Error != tt.oauth {
				t.Fatalf("token request = %d %s, want %d %s", r.Status, r.Raw, tt.status, tt.oauth)
			}
		})
	}
	t.Run("query parameters are ignored", func(t *testing.T) {
		q := url.Values{"grant_type": {"password"}, "username": {"alice@contoso.test"}, "password": {alicePW}}
		r := f.post(PathToken+"?"+q.Encode(), url.Values{}, "", "")
		if r.Status != 400 || r.Error != "invalid_request" {
			t.Fatalf("credentials in the query = %d %s, want 400 invalid_request", r.Status, r.Raw)
		}
	})
	t.Run("GET is refused", func(t *testing.T) {
		resp, err := f.client.Get(f.srv.URL + PathToken)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("GET %s = %d, want 405", PathToken, resp.StatusCode)
		}
	})
}

func TestRefreshRotationAndReuse(t *testing.T) {
	f := newFixture(t)
	first := f.signIn("alice@contoso.test", alicePW)
	refresh := func(tok string) oauthReply {
		return f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}, "client_id": {DefaultClientID}})
	}

	f.clock.Advance(time.Minute)
	second := refresh(first.RefreshToken)
	if second.Status != 200 || second.RefreshToken == "" || second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatalf("refresh = %d %s, want a new access and refresh token", second.Status, second.Raw)
	}
	if _, err := f.authenticate("Bearer "+second.AccessToken, ""); err != nil {
		t.Fatalf("refreshed access token refused: %v", err)
	}

	reuse := refresh(first.RefreshToken)
	if reuse.Status != 400 || reuse.Error != "invalid_grant" || psgate.Code(reuse.Code) != psgate.CodeRefreshTokenReused ||
		!strings.Contains(reuse.Description, "already used") {
		t.Fatalf("reusing the first refresh token = %d %s, want refresh-token-reused", reuse.Status, reuse.Raw)
	}
	// Reuse revoked the whole family: the legitimate newer token is dead too.
	after := refresh(second.RefreshToken)
	if after.Status != 400 || after.Error != "invalid_grant" || !strings.Contains(after.Description, "revoked") {
		t.Fatalf("the rotated token after reuse = %d %s, want invalid_grant revoked", after.Status, after.Raw)
	}

	t.Run("other client", func(t *testing.T) {
		f := newFixture(t, func(c *ServiceConfig) { c.PublicClients = []string{DefaultClientID, "other"} })
		tok := f.signIn("alice@contoso.test", alicePW)
		r := f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {"other"}})
		if r.Status != 400 || r.Error != "invalid_grant" || !strings.Contains(r.Description, "another client") {
			t.Fatalf("refresh by another client = %d %s", r.Status, r.Raw)
		}
	})
	t.Run("expired", func(t *testing.T) {
		f := newFixture(t, func(c *ServiceConfig) { c.RefreshTokenTTL = time.Hour })
		tok := f.signIn("alice@contoso.test", alicePW)
		f.clock.Advance(time.Hour + time.Second)
		r := f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
		if r.Status != 400 || r.Error != "invalid_grant" || !strings.Contains(r.Description, "unknown or expired") {
			t.Fatalf("expired refresh token = %d %s", r.Status, r.Raw)
		}
	})
	t.Run("disabled user", func(t *testing.T) {
		f := newFixture(t)
		tok := f.signIn("alice@contoso.test", alicePW)
		f.alice.Enabled = false
		if _, err := f.db.UpdateUser(f.ctx, f.alice); err != nil {
			t.Fatal(err)
		}
		r := f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
		if r.Status != 400 || r.Error != "invalid_grant" || !strings.Contains(r.Description, "disabled") {
			t.Fatalf("refresh for a disabled user = %d %s", r.Status, r.Raw)
		}
	})
}

func TestRevoke(t *testing.T) {
	f := newFixture(t)
	tok := f.signIn("alice@contoso.test", alicePW)

	r := f.post(PathRevoke, url.Values{"token": {tok.AccessToken}, "client_id": {DefaultClientID}}, "", "")
	if r.Status != 400 || r.Error != "unsupported_token_type" {
		t.Errorf("revoking an access token = %d %s, want 400 unsupported_token_type", r.Status, r.Raw)
	}
	r = f.post(PathRevoke, url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}, "", "")
	if r.Status != 200 {
		t.Fatalf("revoking the refresh token = %d %s, want 200", r.Status, r.Raw)
	}
	r = f.post(PathRevoke, url.Values{"token": {"no-such-token"}}, "", "")
	if r.Status != 200 {
		t.Errorf("revoking an unknown token = %d %s, want 200 (RFC 7009)", r.Status, r.Raw)
	}
	got := f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	if got.Status != 400 || got.Error != "invalid_grant" || !strings.Contains(got.Description, "revoked") {
		t.Fatalf("refresh after revocation = %d %s, want invalid_grant revoked", got.Status, got.Raw)
	}
}

func TestClientCredentialsWithSecret(t *testing.T) {
	f := newFixture(t)
	sp := f.mustUser(f.contoso, "app-reporting@contoso.test", "")
	const secret = "s3cret-Value-0f-the-app"
	f.mustClient(store.OAuthClient{ClientID: "reporting", TenantID: f.contoso.ID, Name: "Reporting", UserID: sp.ID}, secret, nil)
	f.mustClient(store.OAuthClient{ClientID: "orphan", TenantID: f.contoso.ID, Name: "No principal"}, secret, nil)

	tests := []struct {
		name        string
		form        url.Values
		user, pass  string
		status      int
		oauth       string
		wantPrinUPN string
	}{
		{"client_secret_basic", url.Values{"grant_type": {"client_credentials"}}, "reporting", secret, 200, "", "app-reporting@contoso.test"},
		{"client_secret_post", url.Values{"grant_type": {"client_credentials"}, "client_id": {"reporting"}, "client_secret": {secret}}, "", "", 200, "", "app-reporting@contoso.test"},
		{"wrong secret", url.Values{"grant_type": {"client_credentials"}}, "reporting", "wrong", 401, "invalid_client", ""},
		{"no secret", url.Values{"grant_type": {"client_credentials"}, "client_id": {"reporting"}}, "", "", 401, "invalid_client", ""},
		{"no service principal", url.Values{"grant_type": {"client_credentials"}}, "orphan", secret, 400, "invalid_grant", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.post(PathToken, tt.form, tt.user, tt.pass)
			if r.Status != tt.status || r.Error != tt.oauth {
				t.Fatalf("client credentials = %d %s, want %d %q", r.Status, r.Raw, tt.status, tt.oauth)
			}
			if tt.status != 200 {
				if tt.status == 401 && r.Header.Get("WWW-Authenticate") == "" {
					t.Error("invalid_client without WWW-Authenticate")
				}
				return
			}
			if r.RefreshToken != "" {
				t.Error("client credentials returned a refresh token")
			}
			p, err := f.authenticate("Bearer "+r.AccessToken, "")
			if err != nil {
				t.Fatalf("gateway refused the app token: %v", err)
			}
			if p.Method != psgate.AuthApp || p.UPN != tt.wantPrinUPN || p.TenantID != f.contoso.ID {
				t.Errorf("principal = %+v, want app-only %s in contoso", p, tt.wantPrinUPN)
			}
			// Inside Basic, the user name is the service principal's.
			if _, err := f.authenticate(basic(tt.wantPrinUPN, "Bearer "+r.AccessToken), ""); err != nil {
				t.Errorf("Basic %s + app token refused: %v", tt.wantPrinUPN, err)
			}
		})
	}
}

// mustClient registers an application with a secret or certificates.
func (f *fixture) mustClient(c store.OAuthClient, secret string, certPEM []byte) {
	f.t.Helper()
	if secret != "" {
		h, err := password.Hash(secret, password.Fast())
		if err != nil {
			f.t.Fatal(err)
		}
		c.SecretHash = h
	}
	c.CertificatePEM = certPEM
	if _, err := f.db.CreateOAuthClient(f.ctx, c); err != nil {
		f.t.Fatal(err)
	}
}

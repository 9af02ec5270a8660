package identity

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/store"
)

// TestNoSecretInLogs drives every grant, failure and refusal with a
// logger at debug level and checks that no password, secret or token
// reaches it.
func TestNoSecretInLogs(t *testing.T) {
	idp := newOIDCProvider(t)
	f := newFixture(t, func(c *ServiceConfig) { c.HTTPClient = idp.srv.Client() })
	f.federate(idp, true)
	var secrets []string
	keep := func(s ...string) {
		for _, v := range s {
			if v != "" {
				secrets = append(secrets, v)
			}
		}
	}
	const wrongPW = "Typo-In-The-Pa55word"
	const appSecret = "app-secret-value-42"
	keep(alicePW, bobPW, wrongPW, appSecret)

	tok := f.signIn("alice@contoso.test", alicePW)
	keep(tok.AccessToken, tok.RefreshToken)
	f.token(url.Values{"grant_type": {"password"}, "username": {"alice@contoso.test"}, "password": {wrongPW}})
	f.token(url.Values{"grant_type": {"password"}, "username": {wrongPW}, "password": {wrongPW}})
	r := f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	keep(r.AccessToken, r.RefreshToken)
	f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}) // reuse

	dc := f.startDevice(url.Values{})
	keep(dc.DeviceCode)
	f.approveDevice(dc.UserCode, "alice@contoso.test", wrongPW)
	f.approveDevice(dc.UserCode, "alice@contoso.test", alicePW)
	r = f.pollDevice(dc.DeviceCode, DefaultClientID)
	keep(r.AccessToken, r.RefreshToken)
	f.post(PathRevoke, url.Values{"token": {r.RefreshToken}}, "", "")

	sp := f.mustUser(f.contoso, "app@contoso.test", "")
	f.mustClient(store.OAuthClient{ClientID: "app", TenantID: f.contoso.ID, UserID: sp.ID}, appSecret, nil)
	r = f.post(PathToken, url.Values{"grant_type": {"client_credentials"}}, "app", appSecret)
	keep(r.AccessToken)
	f.post(PathToken, url.Values{"grant_type": {"client_credentials"}}, "app", wrongPW)

	fed := idp.idToken(f.bobClaims(idp))
	keep(fed)
	_, _ = f.authenticate("Bearer "+fed, "")
	idp.down.Store(true)
	f.clock.Advance(2 * time.Hour)
	f.svc.tokens.sweep(f.clock.Now())
	_, _ = f.authenticate("Bearer "+signWithNewKey(t, f.bobClaims(idp)), "")
	_, _ = f.authenticate(basic("alice@contoso.test", wrongPW), "")
	_, _ = f.authenticate(basic("alice@contoso.test", "Bearer "+tok.AccessToken), "")

	logs := f.logs.String()
	if !strings.Contains(logs, "access token issued") || !strings.Contains(logs, "refresh token reused") {
		t.Fatalf("the log lacks the expected events:\n%s", logs)
	}
	for _, s := range secrets {
		// Tokens are long; any 12-character piece of one is a leak.
		probe := s
		if len(probe) > 24 {
			probe = s[len(s)/2 : len(s)/2+12]
		}
		if strings.Contains(logs, probe) {
			t.Errorf("the log contains a secret (%q...):\n%s", probe, logs)
		}
	}
}

// TestBearerPathHashesNoPassword checks that a cached bearer token is
// verified without argon2id, which allocates its whole memory cost (19
// MiB by default) per hash.
func TestBearerPathHashesNoPassword(t *testing.T) {
	f := newFixture(t)
	tok := f.signIn("alice@contoso.test", alicePW)
	authz := basic("alice@contoso.test", "Bearer "+tok.AccessToken)
	if _, err := f.authenticate(authz, ""); err != nil {
		t.Fatal(err)
	}
	auth, err := NewAuthenticator(Config{Dir: f.db, Tokens: f.svc, Now: f.clock.Now}) // production dummy cost
	if err != nil {
		t.Fatal(err)
	}
	req := newRequest(authz)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		if _, err := auth.Authenticate(f.ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if perReq := (after.TotalAlloc - before.TotalAlloc) / 100; perReq > 64<<10 {
		t.Errorf("a bearer request allocates %d bytes: something hashes a password", perReq)
	}
}

// A token request whose client left while it waited (its context
// cancelled) is no store failure: nothing is logged at ERROR for it.
func TestAbandonedTokenRequestIsNoError(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	form := url.Values{"grant_type": {"password"}, "username": {"alice@contoso.test"}, "password": {alicePW}}
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, PathToken, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	f.svc.Handler().ServeHTTP(rec, req)
	if rec.Code == http.StatusOK {
		t.Fatalf("a token request with its context cancelled got %d %s; want it refused", rec.Code, rec.Body)
	}
	logs := f.logs.String()
	if strings.Contains(logs, "level=ERROR") {
		t.Errorf("an abandoned token request logged an error:\n%s", logs)
	}
	if !strings.Contains(logs, "token request abandoned") {
		t.Errorf("an abandoned token request left no debug line:\n%s", logs)
	}
}

package client

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/identity"
	"github.com/psgate/psgate/server/servertest"
)

// base is the scheme and host of the server's plain HTTP listener, where
// the identity service answers too.
func (ts *testServer) base() string {
	return strings.TrimSuffix(ts.httpURL, "/wsman")
}

func TestDeviceCodeSignIn(t *testing.T) {
	tests := []struct {
		name string
		// user acts at the verification page before poll number n (from
		// 1); 0 never.
		approveAt int
		// step is how far wait number n (from 1) of interval d moves the
		// server's clock; less than the interval provokes slow_down.
		step         func(n int, d time.Duration) time.Duration
		wantCode     psgate.Code
		wantSlowDown bool
	}{
		{"approved while polling", 2, func(_ int, d time.Duration) time.Duration { return d }, "", false},
		{"approved before the first poll", 1, func(_ int, d time.Duration) time.Duration { return d }, "", false},
		{"polling too fast slows down", 3, func(n int, d time.Duration) time.Duration {
			if n == 1 {
				return d / 2
			}
			return d
		}, "", true},
		{"code expires", 0, func(int, time.Duration) time.Duration { return 6 * time.Minute }, psgate.CodeDeviceCodeExpired, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t)
			ctx := testCtx(t)
			oauth := &OAuth{TokenURL: ts.base() + identity.PathToken, Now: ts.clock.Now}
			da, err := oauth.StartDeviceCode(ctx)
			if err != nil {
				t.Fatalf("StartDeviceCode: %v", err)
			}
			if !strings.HasSuffix(da.VerificationURI, identity.PathDevice) || len(da.UserCode) != 9 || da.Interval <= 0 {
				t.Fatalf("device authorization = %+v", da)
			}
			var intervals []time.Duration
			waits := 0
			approve := func() {
				status, page := servertest.ApproveDevice(t, ts.base()+identity.PathDevice, strings.ToLower(da.UserCode), psgateAdmin, adminPassword)
				if status != http.StatusOK || !strings.Contains(page, "You are signed in as") {
					t.Fatalf("verification page answered %d:\n%s", status, page)
				}
			}
			if tt.approveAt == 1 {
				approve()
			}
			oauth.Sleep = func(_ context.Context, d time.Duration) error {
				waits++
				intervals = append(intervals, d)
				ts.clock.Advance(tt.step(waits, d))
				if waits+1 == tt.approveAt {
					approve()
				}
				return nil
			}
			tok, err := oauth.PollDeviceCode(ctx, da)
			if tt.wantCode != "" {
				if got := psgate.CodeOf(err); got != tt.wantCode {
					t.Fatalf("PollDeviceCode error %v (code %s), want %s", err, got, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("PollDeviceCode: %v", err)
			}
			if tok.User != psgateAdmin || tok.Tenant != "contoso.test" || tok.RefreshToken == "" {
				t.Errorf("token for %q in %q (refresh token %t), want %s in contoso.test with a refresh token", tok.User, tok.Tenant, tok.RefreshToken != "", psgateAdmin)
			}
			if tt.approveAt == 1 && waits != 0 {
				t.Errorf("%d waits for a code approved before the first poll", waits)
			}
			slowed := len(intervals) > 1 && intervals[len(intervals)-1] > intervals[0]
			if slowed != tt.wantSlowDown {
				t.Errorf("wait intervals %v: slowed down %t, want %t", intervals, slowed, tt.wantSlowDown)
			}
			s := dial(t, Config{Endpoint: ts.httpURL, User: tok.User, Tokens: staticToken(tok.AccessToken)})
			res, err := s.Run(ctx, Script("Write-Output device"), RunOptions{})
			if err != nil || len(res.Output) != 1 {
				t.Fatalf("run with the device-code token: %v %v", res, err)
			}
		})
	}
}

func TestAppOnlySignIn(t *testing.T) {
	ts := startServer(t)
	const secret = "App-S3cret-for-tests"
	certFile, keyFile, certPEM := servertest.AppCertificate(t, "reporting")
	_, otherKey, _ := servertest.AppCertificate(t, "intruder")
	secretUPN := servertest.RegisterApp(t, ts.Store(), "billing", secret, nil)
	certUPN := servertest.RegisterApp(t, ts.Store(), "reporting", "", certPEM)
	withCert, err := LoadAppCertificate("reporting", certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, err := LoadAppCertificate("reporting", certFile, otherKey)
	if err == nil {
		t.Fatalf("a certificate with another certificate's key loaded: %+v", wrongKey)
	}
	tests := []struct {
		name     string
		app      AppCredentials
		wantUser string
		wantCode psgate.Code
	}{
		{"client secret", AppCredentials{ClientID: "billing", Secret: secret}, secretUPN, ""},
		{"certificate", withCert, certUPN, ""},
		{"wrong secret", AppCredentials{ClientID: "billing", Secret: "wrong"}, "", psgate.CodeInvalidClient},
		{"certificate of another app", AppCredentials{ClientID: "billing", Key: withCert.Key}, "", psgate.CodeInvalidClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			cache := &TokenCache{Dir: t.TempDir()}
			src := &CachedTokenSource{OAuth: &OAuth{TokenURL: ts.base() + identity.PathToken, Now: ts.clock.Now}, Cache: cache, User: tt.wantUser, App: &tt.app}
			if tt.wantCode != "" {
				_, err := src.OAuth.ClientCredentials(ctx, tt.app)
				if got := psgate.CodeOf(err); got != tt.wantCode {
					t.Fatalf("ClientCredentials error %v (code %s), want %s", err, got, tt.wantCode)
				}
				return
			}
			tok, err := src.OAuth.ClientCredentials(ctx, tt.app)
			if err != nil {
				t.Fatalf("ClientCredentials: %v", err)
			}
			if tok.User != tt.wantUser || tok.ClientID != tt.app.ClientID || tok.RefreshToken != "" {
				t.Fatalf("token of %q for client %q (refresh %t), want %q for %q without refresh token", tok.User, tok.ClientID, tok.RefreshToken != "", tt.wantUser, tt.app.ClientID)
			}
			// With an empty cache, the source signs in as the
			// application by itself and caches the token.
			s := dial(t, Config{Endpoint: ts.httpURL, User: tt.wantUser, Tokens: src})
			res, err := s.Run(ctx, Script("Write-Output app"), RunOptions{})
			if err != nil || len(res.Output) != 1 {
				t.Fatalf("run as the application: %v %v", res, err)
			}
			cached, err := cache.Load(tt.wantUser, TenantOf(tt.wantUser))
			if err != nil || cached == nil || cached.ClientID != tt.app.ClientID {
				t.Fatalf("cached token %+v, %v", cached, err)
			}
		})
	}
}

func TestTokenCacheFailures(t *testing.T) {
	ts := startServer(t)
	oauth := &OAuth{TokenURL: ts.base() + identity.PathToken, Now: ts.clock.Now}
	tests := []struct {
		name     string
		content  string
		cached   *Token
		wantCode psgate.Code
		wantText string
	}{
		{"corrupt file", "{not json", nil, psgate.CodeTokenCacheUnreadable, "psgate logout"},
		{"no access token", `{"user":"admin@contoso.test"}`, nil, psgate.CodeTokenCacheUnreadable, "psgate logout"},
		{"expired without refresh token", "", &Token{User: psgateAdmin, Tenant: "contoso.test", AccessToken: "old", ExpiresAt: time.Now().Add(-time.Hour)},
			psgate.CodeTokenExpired, "psgate login"},
		{"expired with a revoked refresh token", "", &Token{User: psgateAdmin, Tenant: "contoso.test", AccessToken: "old", RefreshToken: "revoked", ExpiresAt: time.Now().Add(-time.Hour)},
			psgate.CodeInvalidGrant, "Sign in again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := &TokenCache{Dir: t.TempDir()}
			if tt.cached != nil {
				if err := cache.Save(tt.cached); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(cache.path(psgateAdmin, "contoso.test"), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			src := &CachedTokenSource{OAuth: oauth, Cache: cache, User: psgateAdmin}
			_, err := Dial(testCtx(t), Config{Endpoint: ts.httpURL, User: psgateAdmin, Tokens: src})
			e, ok := psgate.AsError(err)
			if !ok || e.Code != tt.wantCode {
				t.Fatalf("Dial error %v, want %s", err, tt.wantCode)
			}
			if !strings.Contains(e.Resolution, tt.wantText) {
				t.Errorf("resolution %q, want it to mention %q", e.Resolution, tt.wantText)
			}
			if n := ts.Gateway().ShellCount(); n != 0 {
				t.Errorf("%d shells opened", n)
			}
		})
	}
}

package client

import (
	"context"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/identity"
	"github.com/psgate/psgate/internal/password"

	"github.com/psgate/psgate/internal/freeport"
)

// startIdentity serves the real identity service on the test server's
// store.
func startIdentity(t *testing.T, ts *testServer) *OAuth {
	t.Helper()
	hs := httptest.NewUnstartedServer(nil)
	svc, err := identity.NewService(identity.ServiceConfig{
		Store:          ts.Store(),
		Issuer:         "http://" + hs.Listener.Addr().String(),
		PasswordParams: password.Fast(),
	})
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = svc.Handler()
	hs.Start()
	t.Cleanup(hs.Close)
	return &OAuth{TokenURL: hs.URL + identity.PathToken}
}

func TestCachedTokenSourceSignsInCachesAndRefreshes(t *testing.T) {
	ts := startServer(t)
	oauth := startIdentity(t, ts)
	cache := &TokenCache{Dir: t.TempDir() + "/psgate"}
	src := &CachedTokenSource{OAuth: oauth, Cache: cache, User: psgateAdmin, Password: adminPassword}
	ctx := testCtx(t)

	first, err := src.Token(ctx, false)
	if err != nil {
		t.Fatalf("password sign-in: %v", err)
	}
	cached, err := cache.Load(psgateAdmin, TenantOf(psgateAdmin))
	if err != nil || cached == nil || cached.AccessToken != first || cached.RefreshToken == "" {
		t.Fatalf("cache holds %+v, %v", cached, err)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(cache.path(psgateAdmin, TenantOf(psgateAdmin)))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("cache file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
		}
	}
	// A second process signs in from the cache, without the password.
	again := &CachedTokenSource{OAuth: oauth, Cache: cache, User: psgateAdmin}
	if tok, err := again.Token(ctx, false); err != nil || tok != first {
		t.Errorf("cached token = %q, %v", tok, err)
	}
	refreshed, err := again.Token(ctx, true)
	if err != nil || refreshed == first {
		t.Fatalf("refresh: %q, %v", refreshed, err)
	}
	if err := cache.Delete(psgateAdmin, TenantOf(psgateAdmin)); err != nil {
		t.Fatal(err)
	}
	if tok, err := cache.Load(psgateAdmin, TenantOf(psgateAdmin)); tok != nil || err != nil {
		t.Errorf("after logout: %v, %v", tok, err)
	}
}

func TestPasswordGrantWrongPassword(t *testing.T) {
	ts := startServer(t)
	oauth := startIdentity(t, ts)
	_, err := oauth.PasswordGrant(testCtx(t), psgateAdmin, "wrong")
	if psgate.CodeOf(err) != psgate.CodeLogonFailed {
		t.Fatalf("error = %v, want %s", err, psgate.CodeLogonFailed)
	}
}

func TestIdentityUnreachableNamesHostAndLayer(t *testing.T) {
	addr := freeport.Addr(t)
	oauth := &OAuth{TokenURL: "http://" + addr + "/oauth2/token"}
	_, err := oauth.PasswordGrant(context.Background(), "u@x", "p")
	e, ok := psgate.AsError(err)
	if !ok || e.Code != psgate.CodeIdentityUnreachable {
		t.Fatalf("error = %v", err)
	}
	want := "Make sure a proxy is configured or this machine has a network connection to 127.0.0.1."
	if !strings.Contains(e.Message, "Failed to connect to the identity service") || !strings.HasSuffix(e.Message, want) {
		t.Errorf("message = %q", e.Message)
	}
	if layer, _ := e.Value("layer"); layer != LayerTCP || !strings.Contains(e.Resolution, "The TCP step failed: nothing is listening on "+addr) {
		t.Errorf("layer %q, resolution %q", layer, e.Resolution)
	}
}

// Tokens from the server's own identity service open sessions, sent as
// the Basic password "Bearer <token>".
func TestTokenSignInOpensSession(t *testing.T) {
	ts := startServer(t)
	base := strings.TrimSuffix(ts.httpURL, "/wsman")
	src := &CachedTokenSource{OAuth: &OAuth{TokenURL: base + identity.PathToken}, Cache: &TokenCache{Dir: t.TempDir()},
		User: psgateAdmin, Password: adminPassword}
	cfg := Config{Endpoint: ts.httpURL, User: psgateAdmin, Tokens: src}
	s := dial(t, cfg)
	res, err := s.Run(testCtx(t), Script("Write-Output ok"), RunOptions{})
	if err != nil || len(res.Output) != 1 {
		t.Fatalf("run with a token: %v, %v", res, err)
	}
}

// expiringSource hands out an access token that has already expired, then
// a fresh one when asked to refresh.
type expiringSource struct {
	stale     string
	fresh     TokenSource
	refreshes int
}

func (s *expiringSource) Token(ctx context.Context, refresh bool) (string, error) {
	if !refresh {
		return s.stale, nil
	}
	s.refreshes++
	return s.fresh.Token(ctx, true)
}

// A token the gateway refuses as expired is refreshed and the request
// sent again, without the caller noticing.
func TestExpiredTokenIsRefreshed(t *testing.T) {
	// The server starts 62 minutes in the past and issues a token there,
	// then its clock catches up: the token expired two minutes ago.
	ts := startServerAt(t, time.Now().Add(-62*time.Minute))
	base := strings.TrimSuffix(ts.httpURL, "/wsman")
	oauth := &OAuth{TokenURL: base + identity.PathToken}
	old, err := oauth.PasswordGrant(testCtx(t), psgateAdmin, adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	ts.clock.Advance(62 * time.Minute)

	// The stale token alone is refused with the catalog code.
	_, err = Dial(testCtx(t), Config{Endpoint: ts.httpURL, User: psgateAdmin, Tokens: staticToken(old.AccessToken)})
	if psgate.CodeOf(err) != psgate.CodeTokenExpired {
		t.Fatalf("stale token: %v, want %s", err, psgate.CodeTokenExpired)
	}
	var (
		src *expiringSource
		s   *Session
	)
	// The admission keeper renews its leases at the new time within a
	// second; until then new sessions are refused with store.unavailable.
	for deadline := time.Now().Add(15 * time.Second); ; {
		src = &expiringSource{stale: old.AccessToken, fresh: &CachedTokenSource{OAuth: oauth, User: psgateAdmin, Password: adminPassword}}
		s, err = Dial(testCtx(t), Config{Endpoint: ts.httpURL, User: psgateAdmin, Tokens: src})
		if psgate.CodeOf(err) != psgate.CodeStoreDown || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if _, err := s.Run(testCtx(t), Script("Write-Output ok"), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if src.refreshes == 0 {
		t.Errorf("the expired token was never refreshed")
	}
}

// staticToken is a TokenSource that never refreshes.
type staticToken string

func (s staticToken) Token(context.Context, bool) (string, error) { return string(s), nil }

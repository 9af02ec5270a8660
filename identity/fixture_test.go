package identity

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/sqlite"
	"github.com/psgate/psgate/store/sqlite/sqlitetest"
)

var _ Store = (*sqlite.DB)(nil)

// clock is a settable test clock shared by the store and the service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a log sink safe for concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const (
	alicePW = "Alice-Pa55word!"
	bobPW   = "Bob-Pa55word!"
)

// fixture is a token service on a real store, served over HTTP, with the
// gateway's Authenticator in front of it.
type fixture struct {
	t      testing.TB
	clock  *clock
	db     *sqlite.DB
	svc    *Service
	srv    *httptest.Server
	auth   *Authenticator
	logs   *syncBuffer
	ctx    context.Context
	client *http.Client

	// contoso allows passwords; fabrikam does not.
	contoso, fabrikam store.Tenant
	alice, bob        store.User
}

func newFixture(t testing.TB, configure ...func(*ServiceConfig)) *fixture {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	db := sqlitetest.Open(t, sqlite.Options{Now: clk.Now})
	f := &fixture{t: t, clock: clk, db: db, logs: &syncBuffer{}, ctx: ctx}

	pol := store.DefaultPolicy()
	pol.AllowPasswordAuthentication = true
	f.contoso = f.mustTenant("contoso", "contoso.test", pol)
	f.fabrikam = f.mustTenant("fabrikam", "fabrikam.test", store.DefaultPolicy())
	f.alice = f.mustUser(f.contoso, "alice@contoso.test", alicePW)
	f.bob = f.mustUser(f.fabrikam, "bob@fabrikam.test", bobPW)

	f.srv = httptest.NewUnstartedServer(nil)
	cfg := ServiceConfig{
		Store:          db,
		Issuer:         "http://" + f.srv.Listener.Addr().String(),
		PasswordParams: password.Fast(),
		Logger:         slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:            clk.Now,
	}
	for _, c := range configure {
		c(&cfg)
	}
	var err error
	if f.svc, err = NewService(cfg); err != nil {
		t.Fatal(err)
	}
	f.srv.Config.Handler = f.svc.Handler()
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	f.client = f.srv.Client()
	f.auth, err = NewAuthenticator(Config{Dir: db, Tokens: f.svc, Passwords: f.svc, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) mustTenant(name, domain string, pol store.Policy) store.Tenant {
	f.t.Helper()
	tn, err := f.db.CreateTenant(f.ctx, store.Tenant{Name: name, Domain: domain, DisplayName: name, Policy: pol})
	if err != nil {
		f.t.Fatal(err)
	}
	return tn
}

func (f *fixture) mustUser(tn store.Tenant, upn, pw string) store.User {
	f.t.Helper()
	hash := ""
	if pw != "" {
		var err error
		if hash, err = password.Hash(pw, password.Fast()); err != nil {
			f.t.Fatal(err)
		}
	}
	u, err := f.db.CreateUser(f.ctx, store.User{TenantID: tn.ID, UPN: upn, DisplayName: upn, Enabled: true, PasswordHash: hash})
	if err != nil {
		f.t.Fatal(err)
	}
	return u
}

// oauthReply is a token endpoint answer, success or error.
type oauthReply struct {
	Status int
	Header http.Header
	tokenResponse
	oauthErrorBody
	Raw string
}

// post sends a form to path and decodes the JSON answer.
func (f *fixture) post(path string, form url.Values, basicUser, basicPass string) oauthReply {
	f.t.Helper()
	return f.send(path, form, func(req *http.Request) {
		if basicUser != "" {
			req.SetBasicAuth(url.QueryEscape(basicUser), url.QueryEscape(basicPass))
		}
	})
}

// postFrom sends a form to path through a proxy that forwards for the
// client address xff (X-Forwarded-For).
func (f *fixture) postFrom(xff, path string, form url.Values) oauthReply {
	f.t.Helper()
	return f.send(path, form, func(req *http.Request) { req.Header.Set("X-Forwarded-For", xff) })
}

// send posts a form to path, with edit applied to the request, and
// decodes the JSON answer. It may run on any goroutine: failures to
// reach the server are returned as status 0.
func (f *fixture) send(path string, form url.Values, edit func(*http.Request)) oauthReply {
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		return oauthReply{Raw: err.Error()}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	edit(req)
	resp, err := f.client.Do(req)
	if err != nil {
		return oauthReply{Raw: err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := oauthReply{Status: resp.StatusCode, Header: resp.Header, Raw: string(b)}
	if len(b) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if json.Unmarshal(b, &r.tokenResponse) != nil || json.Unmarshal(b, &r.oauthErrorBody) != nil {
			r.Status = 0
		}
	}
	return r
}

func (f *fixture) token(form url.Values) oauthReply {
	f.t.Helper()
	return f.post(PathToken, form, "", "")
}

// signIn runs the password grant and fails the test unless it succeeds.
func (f *fixture) signIn(user, pw string) tokenResponse {
	f.t.Helper()
	r := f.token(url.Values{"grant_type": {"password"}, "username": {user}, "password": {pw}, "client_id": {DefaultClientID}})
	if r.Status != http.StatusOK || r.AccessToken == "" || r.RefreshToken == "" {
		f.t.Fatalf("password grant for %s = %d %s, want 200 with tokens", user, r.Status, r.Raw)
	}
	return r.tokenResponse
}

// authenticate runs the gateway's Authenticator on a request with the
// given Authorization header.
func (f *fixture) authenticate(authz, target string) (psgate.Principal, error) {
	f.t.Helper()
	if target == "" {
		target = "/wsman"
	}
	req := httptest.NewRequest(http.MethodPost, target, nil)
	req.RemoteAddr = "192.0.2.10:50000"
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	return f.auth.Authenticate(f.ctx, req)
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// codeOf returns the catalog code of err, or "" for nil.
func codeOf(err error) psgate.Code {
	if err == nil {
		return ""
	}
	return psgate.CodeOf(err)
}

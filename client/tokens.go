package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/psgate/psgate"
)

// Token is a signed-in user's tokens, as cached.
type Token struct {
	User         string    `json:"user"`
	Tenant       string    `json:"tenant"`
	Endpoint     string    `json:"endpoint,omitempty"`
	TokenURL     string    `json:"token_url"`
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	ExpiresAt    time.Time `json:"expires_at"`
	// ClientID is the registered application of an app-only token
	// (client credentials); empty for a user's tokens.
	ClientID string `json:"client_id,omitempty"`
}

// valid reports whether the access token is good for at least margin.
func (t *Token) valid(now time.Time, margin time.Duration) bool {
	return t != nil && t.AccessToken != "" && now.Add(margin).Before(t.ExpiresAt)
}

// TokenCache stores tokens in one 0600 JSON file per user and tenant,
// under a 0700 directory.
type TokenCache struct {
	Dir string
}

// DefaultTokenCache is the cache under os.UserConfigDir()/psgate.
func DefaultTokenCache() (*TokenCache, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return nil, fmt.Errorf("client: token cache: %w", err)
	}
	return &TokenCache{Dir: filepath.Join(dir, "psgate")}, nil
}

// TenantOf returns the tenant key of a user: the domain of the UPN.
func TenantOf(user string) string {
	if _, domain, ok := strings.Cut(user, "@"); ok {
		return strings.ToLower(domain)
	}
	return "default"
}

func (c *TokenCache) path(user, tenant string) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' || r == '@' {
				return r
			}
			return '_'
		}, strings.ToLower(s))
	}
	return filepath.Join(c.Dir, "token-"+clean(tenant)+"-"+clean(user)+".json")
}

// Load returns the cached token of user in tenant, or nil when there is
// none.
func (c *TokenCache) Load(user, tenant string) (*Token, error) {
	data, err := os.ReadFile(c.path(user, tenant))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, psgate.Wrap(psgate.CodeTokenCacheUnreadable, psgate.Args{"path": c.path(user, tenant), "reason": err.Error()}, err)
	}
	var t Token
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, psgate.Wrap(psgate.CodeTokenCacheUnreadable, psgate.Args{"path": c.path(user, tenant), "reason": "it is not valid JSON"}, err)
	}
	if t.AccessToken == "" {
		return nil, psgate.E(psgate.CodeTokenCacheUnreadable, psgate.Args{"path": c.path(user, tenant), "reason": "it holds no access token"})
	}
	return &t, nil
}

// Save writes t, replacing the file atomically, readable by its owner only.
func (c *TokenCache) Save(t *Token) error {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("client: token cache: %w", err)
	}
	data, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return fmt.Errorf("client: token cache: %w", err)
	}
	f, err := os.CreateTemp(c.Dir, ".token-*")
	if err != nil {
		return fmt.Errorf("client: token cache: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("client: token cache: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("client: token cache: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("client: token cache: %w", err)
	}
	if err := os.Rename(f.Name(), c.path(t.User, t.Tenant)); err != nil {
		return fmt.Errorf("client: token cache: %w", err)
	}
	return nil
}

// Delete removes the cached token of user in tenant; a missing one is not
// an error.
func (c *TokenCache) Delete(user, tenant string) error {
	err := os.Remove(c.path(user, tenant))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("client: token cache: %w", err)
	}
	return nil
}

// OAuth talks to the identity service's token endpoint.
type OAuth struct {
	// TokenURL is the token endpoint, e.g. https://login.example.com/oauth2/token.
	TokenURL string
	// ClientID is sent as client_id; empty lets the service use its
	// default public client.
	ClientID   string
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Sleep waits between device-code polls; nil waits on a timer (tests
	// advance a fake clock instead).
	Sleep func(ctx context.Context, d time.Duration) error
}

// PasswordGrant signs in with the resource owner password grant.
func (o *OAuth) PasswordGrant(ctx context.Context, user, password string) (*Token, error) {
	t, err := o.grant(ctx, url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}})
	if err != nil {
		return nil, err
	}
	t.User, t.Tenant = user, TenantOf(user)
	return t, nil
}

// Refresh exchanges a refresh token for new tokens.
func (o *OAuth) Refresh(ctx context.Context, old *Token) (*Token, error) {
	t, err := o.grant(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old.RefreshToken}})
	if err != nil {
		return nil, err
	}
	t.User, t.Tenant, t.Endpoint, t.ClientID = old.User, old.Tenant, old.Endpoint, old.ClientID
	if t.RefreshToken == "" {
		t.RefreshToken = old.RefreshToken
	}
	return t, nil
}

func (o *OAuth) grant(ctx context.Context, form url.Values) (*Token, error) {
	if o.ClientID != "" && !form.Has("client_id") {
		form.Set("client_id", o.ClientID)
	}
	now := o.now()
	data, err := o.post(ctx, o.TokenURL, form)
	if err != nil {
		return nil, err
	}
	var tr struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(data, &tr); err != nil || tr.AccessToken == "" {
		return nil, IdentityUnreachable(o.TokenURL, errors.New("the token endpoint's answer holds no access token"))
	}
	return &Token{
		TokenURL:     o.TokenURL,
		AccessToken:  tr.AccessToken,
		RefreshToken: tr.RefreshToken,
		ExpiresAt:    now.Add(time.Duration(tr.ExpiresIn) * time.Second),
	}, nil
}

func (o *OAuth) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// post sends a form to an identity service endpoint and returns the body
// of its 200 answer, or the catalog error of its OAuth error answer.
func (o *OAuth) post(ctx context.Context, endpoint string, form url.Values) ([]byte, error) {
	hc := o.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("client: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, IdentityUnreachable(endpoint, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, IdentityUnreachable(endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		var body struct {
			Error       string            `json:"error"`
			Description string            `json:"error_description"`
			Code        string            `json:"psgate_code"`
			Resolution  string            `json:"psgate_resolution"`
			Data        map[string]string `json:"psgate_data"`
		}
		if json.Unmarshal(data, &body) != nil || (body.Error == "" && body.Code == "") {
			return nil, IdentityUnreachable(endpoint, fmt.Errorf("%s answered HTTP %s", endpoint, resp.Status))
		}
		code := psgate.Code(body.Code)
		if body.Code == "" || psgate.Lookup(code).Code != code {
			code = psgate.CodeInvalidGrant
		}
		e := &psgate.Error{Code: code, Message: body.Description, Resolution: body.Resolution}
		if v, ok := body.Data["interval"]; ok {
			e = e.With("interval", v)
		}
		return nil, e
	}
	return data, nil
}

// IdentityUnreachable is the original connector guide's "Failed to connect to the identity
// service ... Make sure a proxy is configured or this machine has a network
// connection to <host>" error for a transport failure reaching rawURL,
// naming the layer that failed (DNS, TCP, TLS, HTTP) in its resolution
// and its "layer" datum.
func IdentityUnreachable(rawURL string, err error) error {
	host := rawURL
	if u, perr := url.Parse(rawURL); perr == nil && u.Host != "" {
		host = u.Hostname()
	}
	c := networkLayer(err)
	return psgate.Wrap(psgate.CodeIdentityUnreachable, psgate.Args{"url": rawURL, "host": host, "layer": c.layer, "detail": c.detail}, err).
		With("layer", c.layer)
}

// CachedTokenSource is a TokenSource backed by a TokenCache: it returns
// the cached access token while it is valid, refreshes it with the
// refresh token, and falls back to the password grant when Password is
// set, or to the client credentials grant when App is set. New tokens are
// saved to the cache. A token that cannot be renewed is
// identity.token-expired.
type CachedTokenSource struct {
	OAuth    *OAuth
	Cache    *TokenCache
	User     string
	Tenant   string // empty means TenantOf(User)
	Password string
	// App signs in again as a registered application (app-only tokens
	// have no refresh token).
	App *AppCredentials
	// Loaded is the token the caller already loaded from Cache, saving
	// a second read; nil loads it on first use.
	Loaded *Token

	mu  sync.Mutex
	tok *Token
}

// expiryMargin refreshes tokens this long before they expire.
const expiryMargin = time.Minute

// Token implements TokenSource.
func (s *CachedTokenSource) Token(ctx context.Context, refresh bool) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tenant := s.Tenant
	if tenant == "" {
		tenant = TenantOf(s.User)
	}
	now := time.Now
	if s.OAuth != nil && s.OAuth.Now != nil {
		now = s.OAuth.Now
	}
	if s.tok == nil && s.Loaded != nil {
		s.tok = s.Loaded
	}
	if s.tok == nil && s.Cache != nil {
		t, err := s.Cache.Load(s.User, tenant)
		if err != nil {
			return "", err
		}
		s.tok = t
	}
	if !refresh && s.tok.valid(now(), expiryMargin) {
		return s.tok.AccessToken, nil
	}
	if s.OAuth == nil {
		return "", psgate.E(psgate.CodeTokenExpired, psgate.Args{"expired": "an unknown time", "upn": s.User})
	}
	var (
		t   *Token
		err error
	)
	if s.tok != nil && s.tok.RefreshToken != "" {
		t, err = s.OAuth.Refresh(ctx, s.tok)
	}
	if t == nil && s.App != nil {
		if t, err = s.OAuth.ClientCredentials(ctx, *s.App); err == nil {
			t.User = s.User
		}
	}
	if t == nil && s.Password != "" {
		t, err = s.OAuth.PasswordGrant(ctx, s.User, s.Password)
	}
	if t == nil {
		switch {
		case err != nil:
		case s.tok != nil:
			e := psgate.E(psgate.CodeTokenExpired, psgate.Args{"upn": s.User, "expired": s.tok.ExpiresAt.Local().Format(time.DateTime)})
			e.Resolution = "The cached token cannot be renewed (it has no refresh token and no credentials are available): sign in again with `psgate login`."
			err = e
		default:
			err = psgate.E(psgate.CodeAuthRequired, nil)
		}
		return "", err
	}
	t.Tenant = tenant
	s.tok = t
	if s.Cache != nil {
		if err := s.Cache.Save(t); err != nil {
			return "", err
		}
	}
	return t.AccessToken, nil
}

package identity

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/store"
)

// Directory is what authentication reads from the store.
type Directory interface {
	UserByUPN(ctx context.Context, upn string) (store.User, error)
	Tenant(ctx context.Context, id int64) (store.Tenant, error)
	TenantByName(ctx context.Context, nameOrDomain string) (store.Tenant, error)
}

// TokenVerifier validates an access token presented by user (the Basic
// user name, or "" for a plain Bearer header).
type TokenVerifier interface {
	VerifyAccessToken(ctx context.Context, token, user string) (psgate.Principal, error)
}

// Config configures an Authenticator.
type Config struct {
	Dir Directory
	// Tokens validates bearer tokens. Nil refuses them.
	Tokens TokenVerifier
	// CacheTTL is how long a verified password is remembered, so that
	// WinRM clients, which send Basic credentials on every request, do not
	// pay for argon2id each time. Disabling a user or changing a password
	// takes effect at the latest after this. Zero means 10s; negative
	// disables the cache.
	CacheTTL time.Duration
	// DummyParams are the argon2id parameters burnt for unknown users, so
	// that they cost as much as a wrong password. Zero means
	// password.Default().
	DummyParams password.Params
	Now         func() time.Time
}

// Authenticator authenticates HTTP requests.
type Authenticator struct {
	cfg    Config
	secret [32]byte

	mu    sync.Mutex
	cache map[[32]byte]cached
}

type cached struct {
	p       psgate.Principal
	expires time.Time
}

const maxCache = 10000

// NewAuthenticator returns an Authenticator for cfg.
func NewAuthenticator(cfg Config) (*Authenticator, error) {
	if cfg.Dir == nil {
		return nil, errors.New("identity: Config.Dir is required")
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 10 * time.Second
	}
	if cfg.DummyParams.Memory == 0 {
		cfg.DummyParams = password.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &Authenticator{cfg: cfg, cache: make(map[[32]byte]cached)}
	if _, err := rand.Read(a.secret[:]); err != nil {
		return nil, fmt.Errorf("identity: cache key: %w", err)
	}
	return a, nil
}

// Authenticate implements the gateway's Authenticator.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request) (psgate.Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return psgate.Principal{}, psgate.E(psgate.CodeAuthRequired, nil)
	}
	scheme, cred, _ := strings.Cut(h, " ")
	switch strings.ToLower(scheme) {
	case "basic":
	case "bearer":
		return a.bearer(ctx, strings.TrimSpace(cred), "")
	case "negotiate", "kerberos", "ntlm", "credssp":
		return psgate.Principal{}, psgate.E(psgate.CodeBasicRequired, psgate.Args{"scheme": scheme})
	default:
		return psgate.Principal{}, psgate.E(psgate.CodeBasicRequired, psgate.Args{"scheme": scheme})
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return psgate.Principal{}, psgate.E(psgate.CodeAuthRequired, nil)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok || user == "" {
		return psgate.Principal{}, psgate.E(psgate.CodeAuthRequired, nil)
	}
	if tok, ok := cutPrefixFold(pass, "Bearer "); ok {
		return a.bearer(ctx, strings.TrimSpace(tok), user)
	}
	key := a.cacheKey(h)
	if p, ok := a.lookup(key); ok {
		return p, nil
	}
	p, err := a.password(ctx, user, pass)
	if err != nil {
		return psgate.Principal{}, err
	}
	a.remember(key, p)
	return p, nil
}

func (a *Authenticator) bearer(ctx context.Context, tok, user string) (psgate.Principal, error) {
	if a.cfg.Tokens == nil {
		return psgate.Principal{}, psgate.E(psgate.CodeTokenInvalid, psgate.Args{"reason": "this server does not accept access tokens"})
	}
	if tok == "" {
		return psgate.Principal{}, psgate.E(psgate.CodeTokenInvalid, psgate.Args{"reason": "the token is empty"})
	}
	return a.cfg.Tokens.VerifyAccessToken(ctx, tok, user)
}

// NormalizeUser turns the user names WinRM clients send (user@domain or
// TENANT\user) into a UPN.
func NormalizeUser(ctx context.Context, dir Directory, user string) (string, error) {
	user = strings.TrimSpace(user)
	if domain, name, ok := strings.Cut(user, `\`); ok {
		t, err := dir.TenantByName(ctx, domain)
		if err != nil {
			return strings.ToLower(name), err
		}
		return strings.ToLower(name + "@" + t.Domain), nil
	}
	return strings.ToLower(user), nil
}

// password checks a directory password. Every refusal for a wrong user
// name, a wrong password or a disabled account is the same logon-failed
// error, and costs the same time.
func (a *Authenticator) password(ctx context.Context, user, pass string) (psgate.Principal, error) {
	upn, err := NormalizeUser(ctx, a.cfg.Dir, user)
	logonFailed := psgate.E(psgate.CodeLogonFailed, psgate.Args{"upn": user})
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			return psgate.Principal{}, storeError(err)
		}
		password.Dummy(pass, a.cfg.DummyParams)
		return psgate.Principal{}, logonFailed
	}
	u, err := a.cfg.Dir.UserByUPN(ctx, upn)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			return psgate.Principal{}, storeError(err)
		}
		password.Dummy(pass, a.cfg.DummyParams)
		return psgate.Principal{}, logonFailed
	}
	if u.PasswordHash == "" {
		password.Dummy(pass, a.cfg.DummyParams)
		return psgate.Principal{}, logonFailed
	}
	ok, err := password.Verify(pass, u.PasswordHash)
	if err != nil || !ok || !u.Enabled {
		return psgate.Principal{}, logonFailed
	}
	t, err := a.cfg.Dir.Tenant(ctx, u.TenantID)
	if err != nil {
		return psgate.Principal{}, storeError(err)
	}
	if !t.Policy.AllowPasswordAuthentication {
		return psgate.Principal{}, psgate.E(psgate.CodePasswordAuthDisabled, psgate.Args{"tenant": t.Name})
	}
	return psgate.Principal{
		TenantID: t.ID,
		Tenant:   t.Name,
		UserID:   u.ID,
		UPN:      u.UPN,
		Method:   psgate.AuthPassword,
	}, nil
}

func storeError(err error) error {
	return psgate.Wrap(psgate.CodeStoreDown, nil, err)
}

func (a *Authenticator) cacheKey(header string) [32]byte {
	m := hmac.New(sha256.New, a.secret[:])
	m.Write([]byte(header))
	var k [32]byte
	copy(k[:], m.Sum(nil))
	return k
}

func (a *Authenticator) lookup(k [32]byte) (psgate.Principal, bool) {
	if a.cfg.CacheTTL < 0 {
		return psgate.Principal{}, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.cache[k]
	if !ok || !a.cfg.Now().Before(c.expires) {
		return psgate.Principal{}, false
	}
	return c.p, true
}

func (a *Authenticator) remember(k [32]byte, p psgate.Principal) {
	if a.cfg.CacheTTL < 0 {
		return
	}
	now := a.cfg.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.cache) >= maxCache {
		for key, c := range a.cache {
			if !now.Before(c.expires) || len(a.cache) >= maxCache {
				delete(a.cache, key)
			}
		}
	}
	a.cache[k] = cached{p: p, expires: now.Add(a.cfg.CacheTTL)}
}

// Forget drops every cached credential, for example after a password
// change or when a user is disabled.
func (a *Authenticator) Forget() {
	a.mu.Lock()
	clear(a.cache)
	a.mu.Unlock()
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return "", false
}

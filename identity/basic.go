package identity

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/store"
)

// TokenVerifier validates an access token. *Service implements it.
type TokenVerifier interface {
	VerifyAccessToken(ctx context.Context, token string, h Hint) (psgate.Principal, error)
}

// Hint is what the request says about the caller besides the token; the
// verifier checks it against the token.
type Hint struct {
	// User is the Basic user name, or "" for a plain Bearer header. It
	// must name the token's subject.
	User string
	// Tenant is the tenant the request addresses (the AdminDomain query
	// parameter of the connection URI), or "". It must be the token's
	// tenant.
	Tenant string
}

// PasswordChecker verifies a directory password sent with a request, with
// throttling. *Service implements it. It returns the user and their
// tenant, or a *psgate.Error: identity.logon-failed (unknown user, wrong
// password, disabled account, all alike), identity.account-locked,
// identity.sign-in-throttled, identity.sign-in-busy,
// identity.too-many-pending or store.unavailable.
type PasswordChecker interface {
	CheckPassword(ctx context.Context, r *http.Request, user, pass string) (store.User, store.Tenant, error)
}

// Config configures an Authenticator.
type Config struct {
	Dir Directory
	// Tokens validates bearer tokens. Nil refuses them.
	Tokens TokenVerifier
	// Passwords checks Basic passwords. Set it to the token service (the
	// *Service that is also Tokens): the gateway's Basic path and the
	// token endpoint then share one bound on password hashing, one
	// smart-lockout state, the trusted proxies and the audit log. Nil
	// checks passwords here, with Lockouts, Lockout, DummyParams and
	// Audit, default hashing bounds and the peer address as the client.
	Passwords PasswordChecker
	// Lockouts counts failed password sign-ins when Passwords is nil;
	// nil disables throttling and lockout (tests only).
	Lockouts Lockouts
	// Lockout sets the thresholds when Passwords is nil; zero fields take
	// the defaults.
	Lockout LockoutPolicy
	// Audit receives auth.failed records when Passwords is nil; nil
	// writes none.
	Audit Auditor
	// CacheTTL is how long a verified password is remembered, so that
	// WinRM clients, which send Basic credentials on every request, do not
	// pay for argon2id each time. Disabling a user or changing a password
	// takes effect at the latest after this. Zero means 10s; negative
	// disables the cache.
	CacheTTL time.Duration
	// DummyParams are the argon2id parameters burnt for unknown users
	// when Passwords is nil, so that they cost as much as a wrong
	// password. Zero means password.Default().
	DummyParams password.Params
	// Logger receives failed sign-ins and lockouts (never a password);
	// nil discards.
	Logger *slog.Logger
	Now    func() time.Time
}

// Authenticator authenticates HTTP requests.
type Authenticator struct {
	cfg    Config
	secret [32]byte

	passwords PasswordChecker

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
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &Authenticator{cfg: cfg, cache: make(map[[32]byte]cached), passwords: cfg.Passwords}
	if a.passwords == nil {
		cred, err := newCredentials(credConfig{
			dir:    cfg.Dir,
			locks:  cfg.Lockouts,
			policy: cfg.Lockout,
			dummy:  cfg.DummyParams,
			audit:  cfg.Audit,
			now:    cfg.Now,
			log:    cfg.Logger,
		})
		if err != nil {
			return nil, err
		}
		a.passwords = localPasswords{cred}
	}
	if _, err := rand.Read(a.secret[:]); err != nil {
		return nil, fmt.Errorf("identity: cache key: %w", err)
	}
	return a, nil
}

// Authenticate implements the gateway's Authenticator. It accepts Basic
// with a user name and "Bearer <token>" as the password, a plain Bearer
// header, and Basic with a password where the user's tenant allows it.
// The bearer path never hashes a password.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request) (psgate.Principal, error) {
	h := r.Header.Get("Authorization")
	c, err := parseAuthorization(h)
	if err != nil {
		return psgate.Principal{}, err
	}
	if c.bearer {
		return a.bearer(ctx, c.token, Hint{User: c.user, Tenant: adminDomain(r)})
	}
	key := a.cacheKey(c.user, c.password)
	if p, ok := a.lookup(key); ok {
		return p, nil
	}
	p, err := a.password(ctx, r, c.user, c.password)
	if err != nil {
		return psgate.Principal{}, err
	}
	a.remember(key, p)
	return p, nil
}

// authorization is a decoded Authorization header.
type authorization struct {
	// bearer is set for a Bearer header or a Basic password of the form
	// "Bearer <token>"; token is then the token (possibly empty).
	bearer   bool
	token    string
	user     string
	password string
}

// parseAuthorization decodes an Authorization header. Schemes other than
// Basic and Bearer are refused with CodeBasicRequired, malformed headers
// with CodeAuthRequired.
func parseAuthorization(h string) (authorization, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return authorization{}, psgate.E(psgate.CodeAuthRequired, nil)
	}
	scheme, cred, _ := strings.Cut(h, " ")
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "basic":
	case "bearer":
		return authorization{bearer: true, token: cred}, nil
	default:
		// Negotiate, Kerberos, NTLM, CredSSP and anything else: the
		// client's Basic authentication is probably switched off.
		return authorization{}, psgate.E(psgate.CodeBasicRequired, psgate.Args{"scheme": scheme})
	}
	raw, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		return authorization{}, psgate.E(psgate.CodeAuthRequired, nil)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	user = strings.TrimSpace(user)
	if !ok || user == "" {
		return authorization{}, psgate.E(psgate.CodeAuthRequired, nil)
	}
	if tok, ok := cutPrefixFold(pass, "Bearer "); ok {
		return authorization{bearer: true, token: strings.TrimSpace(tok), user: user}, nil
	}
	return authorization{user: user, password: pass}, nil
}

// adminDomain is the tenant the connection URI addresses, as the Skype
// for Business Online connector did with ?AdminDomain=contoso.com.
func adminDomain(r *http.Request) string {
	if r.URL == nil || r.URL.RawQuery == "" {
		return ""
	}
	for k, v := range r.URL.Query() {
		if strings.EqualFold(k, "AdminDomain") && len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
	}
	return ""
}

func (a *Authenticator) bearer(ctx context.Context, tok string, h Hint) (psgate.Principal, error) {
	if a.cfg.Tokens == nil {
		return psgate.Principal{}, psgate.E(psgate.CodeTokenInvalid, psgate.Args{"reason": "this server does not accept access tokens"})
	}
	if tok == "" {
		return psgate.Principal{}, psgate.E(psgate.CodeTokenInvalid, psgate.Args{"reason": "the token is empty"})
	}
	return a.cfg.Tokens.VerifyAccessToken(ctx, tok, h)
}

// password checks a directory password with throttling. Every refusal for
// a wrong user name, a wrong password or a disabled account is the same
// logon-failed error, and costs the same time.
func (a *Authenticator) password(ctx context.Context, r *http.Request, user, pass string) (psgate.Principal, error) {
	u, t, err := a.passwords.CheckPassword(ctx, r, user, pass)
	if err != nil {
		return psgate.Principal{}, err
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

// localPasswords checks passwords for an Authenticator without a token
// service, the client being the connection's peer.
type localPasswords struct{ cred *credentials }

func (l localPasswords) CheckPassword(ctx context.Context, r *http.Request, user, pass string) (store.User, store.Tenant, error) {
	return l.cred.check(ctx, user, pass, remoteAddr(r), viaBasic)
}

// cacheKey identifies a verified password in the cache: every spelling
// of the user name that folds to one canonical name shares the entry.
func (a *Authenticator) cacheKey(user, pass string) [32]byte {
	m := hmac.New(sha256.New, a.secret[:])
	m.Write([]byte(canonicalName(user)))
	m.Write([]byte{0})
	m.Write([]byte(pass))
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

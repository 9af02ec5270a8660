package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/psgate/psgate/internal/logkey"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/store"
)

// DefaultAudience is the audience of the access tokens the gateway
// accepts from its own token service.
const DefaultAudience = "urn:psgate:gateway"

// DefaultClientID is the public client the psgate connector signs in as.
const DefaultClientID = "psgate"

// Token service routes, relative to the issuer URL's host.
const (
	PathDiscovery     = "/.well-known/openid-configuration"
	PathOAuthMetadata = "/.well-known/oauth-authorization-server"
	PathJWKS          = "/.well-known/jwks.json"
	PathToken         = "/oauth2/token"
	PathDeviceCode    = "/oauth2/devicecode"
	PathRevoke        = "/oauth2/revoke"
	PathDevice        = "/device"
)

// ServiceConfig configures the token service.
type ServiceConfig struct {
	// Store holds users, keys, refresh tokens, clients, lockouts and
	// federations. Required.
	Store Store
	// Issuer is the token service's URL, e.g. https://gw.example:5986,
	// without a trailing slash. It is the iss of every token, and the
	// discovery document's endpoints are built from it. Required.
	Issuer string
	// Audience of the access tokens; zero means DefaultAudience.
	Audience string
	// AccessTokenTTL is the access-token lifetime; zero means 60 minutes.
	AccessTokenTTL time.Duration
	// RefreshTokenTTL is how long an unused refresh token lives; every
	// rotation starts a new period. Zero means 14 days.
	RefreshTokenTTL time.Duration
	// DeviceCodeTTL is how long a device code waits for approval; zero
	// means 15 minutes.
	DeviceCodeTTL time.Duration
	// DevicePollInterval is the minimum polling interval of device-code
	// clients; zero means 5 seconds.
	DevicePollInterval time.Duration
	// KeyRotation is how long a signing key signs before the next takes
	// over; zero means 30 days. The next key is published a day (at most
	// a quarter of KeyRotation) before it signs; the old one verifies
	// until the tokens it signed have expired.
	KeyRotation time.Duration
	// ClockSkew is the tolerance on exp, nbf and iat; zero means 60
	// seconds, and more than 5 minutes is refused.
	ClockSkew time.Duration
	// UserRecheck is how long a verified token trusts that its user is
	// still enabled before reading the store again; zero means 30
	// seconds, and more than a minute is refused.
	UserRecheck time.Duration
	// PublicClients are client IDs that need no secret (the connector);
	// nil means []string{DefaultClientID}.
	PublicClients []string
	// Lockout sets password throttling (smart lockout); zero fields take
	// the defaults.
	Lockout LockoutPolicy
	// Hashes bounds the password hashing of sign-ins (concurrency, queue,
	// per address, per account); zero fields take the defaults. Set the
	// gateway Authenticator's Config.Passwords to this service so that
	// one bound covers every entry point.
	Hashes HashLimits
	// TrustedProxies are the reverse proxies and load balancers in front
	// of the gateway. Only when a request's peer is in one of them is the
	// client address taken from X-Forwarded-For: the rightmost address
	// there that is not itself a trusted proxy. Sign-in failures, locks,
	// familiar locations and device-code limits count per client address,
	// so without this behind a proxy every client shares the proxy's
	// address. Nil trusts no proxy: the peer is the client.
	TrustedProxies []netip.Prefix
	// Audit receives an auth.failed record for every failed sign-in
	// (password grant, Basic password, device page, application
	// secret); nil writes none. store.Audit satisfies it.
	Audit Auditor
	// DeviceCodes bounds pending device authorizations; zero fields take
	// the defaults.
	DeviceCodes DeviceCodeLimits
	// PasswordParams are the argon2id costs burnt for unknown users and
	// clients, to match the cost of a real hash. Zero means
	// password.Default().
	PasswordParams password.Params
	// HTTPClient fetches federated providers' discovery documents and
	// key sets; nil means FederationClient(false): public addresses only.
	HTTPClient *http.Client
	// FederationRefresh is the minimum time between two key set fetches
	// from one federated provider when a token names an unknown key; zero
	// means 10 seconds.
	FederationRefresh time.Duration
	// Logger receives events; secrets and tokens are never logged. Nil
	// discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Observer is told of tokens issued and locks started, for metrics.
	// Nil observes nothing.
	Observer Observer
}

func (c ServiceConfig) withDefaults() (ServiceConfig, error) {
	if c.Store == nil {
		return c, errors.New("identity: ServiceConfig.Store is required")
	}
	c.Issuer = strings.TrimRight(c.Issuer, "/")
	u, err := url.Parse(c.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return c, fmt.Errorf("identity: issuer %q is not an absolute http(s) URL without query", c.Issuer)
	}
	if c.Audience == "" {
		c.Audience = DefaultAudience
	}
	setDefault(&c.AccessTokenTTL, 60*time.Minute)
	setDefault(&c.RefreshTokenTTL, 14*24*time.Hour)
	setDefault(&c.DeviceCodeTTL, 15*time.Minute)
	setDefault(&c.DevicePollInterval, 5*time.Second)
	setDefault(&c.KeyRotation, 30*24*time.Hour)
	setDefault(&c.ClockSkew, 60*time.Second)
	setDefault(&c.UserRecheck, 30*time.Second)
	setDefault(&c.FederationRefresh, 10*time.Second)
	if c.ClockSkew > 5*time.Minute {
		return c, fmt.Errorf("identity: clock skew %v is more than 5 minutes", c.ClockSkew)
	}
	if c.UserRecheck > time.Minute {
		return c, fmt.Errorf("identity: user recheck %v is more than a minute: disabling a user must take effect within a minute", c.UserRecheck)
	}
	if c.PublicClients == nil {
		c.PublicClients = []string{DefaultClientID}
	}
	c.Lockout = c.Lockout.withDefaults()
	c.Hashes = c.Hashes.withDefaults()
	c.DeviceCodes = c.DeviceCodes.withDefaults()
	if c.PasswordParams.Memory == 0 {
		c.PasswordParams = password.Default()
	}
	if c.HTTPClient == nil {
		c.HTTPClient = FederationClient(false)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Observer == nil {
		c.Observer = noObserver{}
	}
	return c, nil
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// Service is psgate's token service: OAuth 2.0 token endpoint (password,
// refresh_token, device code and client_credentials grants), discovery
// and JWKS, revocation and the device verification page. It is also the
// TokenVerifier of the gateway's Authenticator: it verifies its own access
// tokens and those of the OIDC providers that tenants trust.
type Service struct {
	cfg     ServiceConfig
	log     *slog.Logger
	keys    *keyring
	cred    *credentials
	fed     *federation
	devices *devices
	replay  *replayCache
	tokens  *tokenCache
	users   *userCache
	public  map[string]bool
	mux     *http.ServeMux
}

// NewService returns a token service for cfg. It does no I/O: keys are
// loaded from the store (and the first one created) on first use or by
// Run.
func NewService(cfg ServiceConfig) (*Service, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Service{
		cfg: cfg,
		log: cfg.Logger,
		keys: &keyring{
			st:         cfg.Store,
			now:        cfg.Now,
			log:        cfg.Logger,
			rotate:     cfg.KeyRotation,
			prePublish: min(24*time.Hour, cfg.KeyRotation/4),
			verifyFor:  cfg.AccessTokenTTL + cfg.ClockSkew,
			reloadMin:  10 * time.Second,
		},
		fed:     newFederation(cfg.Store, cfg.HTTPClient, cfg.Now, cfg.FederationRefresh, cfg.Logger),
		devices: newDevices(cfg.DeviceCodes),
		replay:  newReplayCache(),
		tokens:  newTokenCache(),
		users:   newUserCache(),
		public:  make(map[string]bool),
	}
	s.cred, err = newCredentials(credConfig{
		dir:    cfg.Store,
		locks:  cfg.Store,
		policy: cfg.Lockout,
		dummy:  cfg.PasswordParams,
		limits: cfg.Hashes,
		audit:  cfg.Audit,
		now:    cfg.Now,
		log:    cfg.Logger,
		obs:    cfg.Observer,
	})
	if err != nil {
		return nil, err
	}
	for _, id := range cfg.PublicClients {
		s.public[id] = true
	}
	s.mux = s.routes()
	return s, nil
}

// Handler serves the token service's routes (the Path constants). Mount
// it on the gateway's listeners for "/.well-known/", "/oauth2/" and
// "/device".
func (s *Service) Handler() http.Handler { return s.mux }

func (s *Service) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathDiscovery, s.serveDiscovery)
	mux.HandleFunc("GET "+PathOAuthMetadata, s.serveDiscovery)
	mux.HandleFunc("GET "+PathJWKS, s.serveJWKS)
	mux.HandleFunc("POST "+PathToken, s.serveToken)
	mux.HandleFunc("POST "+PathDeviceCode, s.serveDeviceCode)
	mux.HandleFunc("POST "+PathRevoke, s.serveRevoke)
	mux.HandleFunc("GET "+PathDevice, s.serveDevicePage)
	mux.HandleFunc("POST "+PathDevice, s.serveDeviceSignIn)
	return mux
}

// Run does the background work until ctx ends: it creates and rotates
// signing keys, reloads keys other nodes created, forgets expired device
// codes and cache entries, and purges expired refresh tokens. It returns
// nil when ctx ends.
func (s *Service) Run(ctx context.Context) error {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	var lastPurge time.Time
	for {
		if err := s.keys.maintain(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("signing key maintenance failed", logkey.Err, err)
		}
		now := s.cfg.Now()
		s.devices.sweep(now)
		s.replay.sweep(now)
		s.tokens.sweep(now)
		s.users.sweep(now, s.cfg.UserRecheck)
		s.cred.checks.sweep(now)
		if now.Sub(lastPurge) >= time.Hour {
			lastPurge = now
			// Keep expired rows a day, so that a late reuse is still
			// recognised as one.
			if n, err := s.cfg.Store.PurgeRefreshTokens(ctx, now.Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
				s.log.Error("purging refresh tokens failed", logkey.Err, err)
			} else if n > 0 {
				s.log.Info("purged expired refresh tokens", "count", n)
			}
			// Failure counts of names nobody uses (an attacker's
			// guesses) would otherwise stay for ever.
			if n, err := s.cfg.Store.PurgeLoginFailures(ctx, now.Add(-s.cfg.Lockout.remembered())); err != nil && ctx.Err() == nil {
				s.log.Error("purging sign-in failure counts failed", logkey.Err, err)
			} else if n > 0 {
				s.log.Info("purged stale sign-in failure counts", "count", n)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Issuer returns the issuer URL.
func (s *Service) Issuer() string { return s.cfg.Issuer }

// CheckPassword verifies a directory password sent with r (the gateway's
// Basic path), with the service's smart lockout, hashing bounds, trusted
// proxies and audit. It returns the user and their tenant, or a
// *psgate.Error (see PasswordChecker).
func (s *Service) CheckPassword(ctx context.Context, r *http.Request, user, pass string) (store.User, store.Tenant, error) {
	return s.cred.check(ctx, user, pass, s.ClientAddr(r), viaBasic)
}

// ClientAddr is the address of the client that sent r, as sign-ins count
// it: the connection's peer, or behind a trusted proxy the client that
// proxy names in X-Forwarded-For. The gateway audits and logs the same
// address.
func (s *Service) ClientAddr(r *http.Request) string { return clientAddress(r, s.cfg.TrustedProxies) }

var _ PasswordChecker = (*Service)(nil)

var _ TokenVerifier = (*Service)(nil)

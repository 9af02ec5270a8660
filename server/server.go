package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/admission"
	"github.com/psgate/psgate/cluster"
	"github.com/psgate/psgate/cmdlets"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/engine/builtin"
	"github.com/psgate/psgate/gateway"
	"github.com/psgate/psgate/identity"
	"github.com/psgate/psgate/internal/logkey"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/metrics"
	"github.com/psgate/psgate/module"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/cache"
	"github.com/psgate/psgate/store/postgres"
	"github.com/psgate/psgate/store/sqlite"
)

// Config configures a Server.
type Config struct {
	// DataDir holds the SQLite store, the generated certificate and the
	// bootstrap credentials. Required.
	DataDir string
	// HTTPAddr is the plain-HTTP listener ("" disables it). It must be a
	// loopback address unless AllowUnencrypted is set.
	HTTPAddr         string
	AllowUnencrypted bool
	// HTTPSAddr is the HTTPS listener ("" disables it).
	HTTPSAddr string
	// TLSCert and TLSKey name PEM files; when both are empty a self-signed
	// certificate is generated into DataDir/tls on first start.
	TLSCert, TLSKey string
	// BootstrapPassword is the demo administrator's password on first
	// start; empty generates one into DataDir/bootstrap-admin.txt.
	BootstrapPassword string
	// PasswordParams are the argon2id costs for new password hashes. Zero
	// means password.Default().
	PasswordParams password.Params
	// PasswordHashes bounds the password hashing of sign-ins; zero fields
	// take identity's defaults.
	PasswordHashes identity.HashLimits
	// Issuer is the token service's issuer URL, as clients reach it; empty
	// derives it from the HTTPS listener (the host name when it listens on
	// all addresses).
	Issuer string
	// StoreDSN selects a PostgreSQL store shared by several gateway nodes
	// (postgres://...). Empty means the embedded SQLite store in DataDir.
	StoreDSN string
	// MaxEnvelopeSize is the largest WS-Man request accepted; 0 = 512000.
	MaxEnvelopeSize int
	// BodyTimeout is how long a client may take to send a request body;
	// 0 means DefaultBodyTimeout.
	BodyTimeout time.Duration
	// MaxConnections bounds the open client connections; 0 means
	// DefaultMaxConnections.
	MaxConnections int
	// PartialBudget bounds unfinished PowerShell remoting data per shell,
	// user, tenant and process; zero fields mean the gateway's defaults.
	PartialBudget gateway.PartialBudget
	// TrustedProxies are the load balancers and reverse proxies in front
	// of the gateway, whose X-Forwarded-For names the client (for sign-in
	// throttling, lockout and the audit's client address).
	TrustedProxies []netip.Prefix
	// AuditRetention is how long audit records are kept: older ones are
	// purged every hour. 0 means DefaultAuditRetention; negative keeps
	// them forever.
	AuditRetention time.Duration
	// AdminAddr is the admin listener (plain HTTP): Prometheus metrics at
	// /metrics, /healthz, /readyz and pprof under /debug/pprof/. Empty
	// disables it; psgate serve's default is DefaultAdminAddr. Keep it
	// on loopback or a management network: pprof shows the process's
	// internals.
	AdminAddr string
	// AdminOptional turns a busy AdminAddr into a warning and no admin
	// listener instead of an error: psgate serve sets it when AdminAddr
	// is its default, so that a second psgate on one machine (or a test)
	// still starts. An address the operator chose must be free.
	AdminOptional bool
	// HealthOnPublic also serves /healthz and /readyz on the public
	// listeners, as /psgate/healthz and /psgate/readyz, for load
	// balancers that reach only those.
	HealthOnPublic bool
	// MetricsTopTenants is how many tenants, those with the most shells,
	// get their own psgate_shells series; the others are summed as one.
	// 0 means metrics.DefaultTopTenants.
	MetricsTopTenants int
	Logger            *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// FederationPrivateNetworks lets the gateway fetch federated identity
	// providers (their discovery documents and keys) from private,
	// loopback and link-local addresses. Off, a tenant administrator who
	// sets a provider cannot make the gateway reach into the operator's
	// network; turn it on for an on-premises provider.
	FederationPrivateNetworks bool
	// Cluster links this node to the others sharing its PostgreSQL
	// store (internal listener, certificates, lease timings).
	Cluster ClusterConfig
	// ModuleDir holds module files (*.json, see package module): cmdlets
	// served by the operator's HTTP services. Every module is loaded at
	// start; a broken one fails New with its file, line and field. Empty
	// loads none.
	ModuleDir string
}

// DefaultAdminAddr is psgate serve's admin listener: loopback, on a port
// next to no other psgate or Prometheus default (5985/5986 WS-Man, 9090
// Prometheus, 9100 node exporter).
const DefaultAdminAddr = "127.0.0.1:9985"

// Server is a configured psgate service, ready to Run.
type Server struct {
	cfg      Config
	log      *slog.Logger
	store    store.Store
	lock     *dirLock
	gw       *gateway.Gateway
	adm      *admission.Admitter
	tokens   *identity.Service
	nodeName string
	handler  http.Handler
	cert     tls.Certificate
	certFile string
	boot     Bootstrap
	httpLn   net.Listener
	httpsLn  net.Listener
	adminLn  net.Listener
	metrics  *metrics.Metrics
	// The internal listener and its side of the links between nodes
	// (nil without Cluster.Listen); peers reaches the other nodes.
	// modules are the module cmdlets in the catalog (ReloadModules).
	modules     *module.Registered
	internalLn  net.Listener
	internalURL string
	clusterTLS  *cluster.TLS
	peers       *cluster.Peers
	closeOnce   sync.Once

	// serving counts the public listeners serving; stopping is set when
	// shutdown begins; notReady is the last readiness answer; ping
	// bounds the readiness checks' store pings.
	serving  atomic.Int32
	stopping atomic.Bool
	notReady atomic.Bool
	ping     storePing

	// handingOver is set while an operator's drain hands shells over.
	handingOver atomic.Bool
}

// New opens the data directory, bootstraps it on first start, and binds
// the listeners. Close releases everything if Run is never called.
func New(ctx context.Context, cfg Config) (_ *Server, err error) {
	if cfg.DataDir == "" {
		return nil, errors.New("server: a data directory is required (--data)")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = DefaultBodyTimeout
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	if cfg.PasswordParams.Memory == 0 {
		cfg.PasswordParams = password.Default()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPAddr != "" && !cfg.AllowUnencrypted {
		if err := requireLoopback(cfg.HTTPAddr); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("server: data directory: %w", err)
	}
	if err := secureDataDir(cfg.DataDir, log); err != nil {
		return nil, err
	}
	// Modules are read before anything opens, so that a broken one stops
	// the start at once, naming its line.
	var mods []*module.Module
	if cfg.ModuleDir != "" {
		if mods, err = module.LoadDir(cfg.ModuleDir); err != nil {
			return nil, fmt.Errorf("server: modules: %w", err)
		}
	}
	s := &Server{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.lock, err = lockDir(cfg.DataDir); err != nil {
		return nil, err
	}
	opened, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	// Everything reads the directory through one cache, validated
	// against the store's directory generation before it serves.
	db := cache.New(opened)
	s.store = db
	if s.boot, err = bootstrap(ctx, db, cfg.DataDir, cfg.BootstrapPassword, cfg.PasswordParams); err != nil {
		return nil, err
	}
	catalog := engine.NewCatalog()
	if err := builtin.Register(catalog); err != nil {
		return nil, fmt.Errorf("server: register built-in commands: %w", err)
	}
	if cfg.HTTPSAddr != "" {
		if s.cert, s.certFile, err = loadOrCreateCert(cfg.DataDir, cfg.TLSCert, cfg.TLSKey, cfg.Now()); err != nil {
			return nil, err
		}
		if s.httpsLn, err = listen(cfg.HTTPSAddr, "HTTPS", "--https"); err != nil {
			return nil, err
		}
	}
	if cfg.HTTPAddr != "" {
		if s.httpLn, err = listen(cfg.HTTPAddr, "HTTP", "--http"); err != nil {
			return nil, err
		}
	}
	if s.httpLn == nil && s.httpsLn == nil {
		return nil, errors.New("server: no listener: set an HTTP or HTTPS address")
	}
	if err := cfg.Cluster.validate(); err != nil {
		return nil, err
	}
	if err := s.openCluster(); err != nil {
		return nil, err
	}
	if cfg.AdminAddr != "" {
		s.adminLn, err = listen(cfg.AdminAddr, "admin", "--admin-listen")
		switch {
		case err != nil && cfg.AdminOptional:
			log.Warn("no admin listener (metrics, health): its address is in use",
				"admin", cfg.AdminAddr, logkey.Err, err)
			s.adminLn, err = nil, nil
		case err != nil:
			return nil, err
		}
		if s.adminLn != nil && !isLoopback(s.adminLn) {
			log.Warn("the admin listener accepts other machines: it serves pprof and metrics without authentication; firewall it",
				"admin", s.adminLn.Addr().String())
		}
	}
	if s.metrics, err = s.newMetrics(); err != nil {
		return nil, err
	}
	issuer := cfg.Issuer
	if issuer == "" {
		issuer = defaultIssuer(s.httpsLn, s.httpLn)
	}
	// One client fetches identity providers, for sign-ins and for the
	// tenant administrators' provider checks alike.
	fedClient := identity.FederationClient(cfg.FederationPrivateNetworks)
	s.tokens, err = identity.NewService(identity.ServiceConfig{
		HTTPClient:     fedClient,
		Store:          db,
		Issuer:         issuer,
		PasswordParams: cfg.PasswordParams,
		Hashes:         cfg.PasswordHashes,
		TrustedProxies: cfg.TrustedProxies,
		Audit:          db,
		Logger:         log.With("component", "identity"),
		Now:            cfg.Now,
		Observer:       s.metrics,
	})
	if err != nil {
		return nil, err
	}
	auth, err := identity.NewAuthenticator(identity.Config{
		Dir:    db,
		Tokens: s.tokens,
		// One bound on password hashing, one lockout state, the trusted
		// proxies and the audit for Basic passwords and the token endpoint.
		Passwords:   s.tokens,
		Lockouts:    db,
		DummyParams: cfg.PasswordParams,
		Logger:      log.With("component", "identity"),
		Now:         cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	// The node's name is its public listener: a restarted process reclaims
	// the quota slots its previous incarnation held at once.
	nodeName := ""
	if s.httpsLn != nil {
		nodeName = s.httpsLn.Addr().String()
	} else {
		nodeName = s.httpLn.Addr().String()
	}
	s.adm, err = admission.New(admission.Config{
		Store:    db,
		Pin:      db.Pin,
		NodeName: nodeName,
		// Where peers forward requests for this node's shells (empty
		// without an internal listener); psgate node list shows it.
		InternalURL: s.internalURL,
		LeaseTTL:    cfg.Cluster.LeaseTTL,
		RenewEvery:  cfg.Cluster.LeaseRenew,
		Margin:      cfg.Cluster.LeaseMargin,
		Now:         cfg.Now,
		Logger:      log.With("component", "admission"),
		Observer:    s.metrics,
	})
	if err != nil {
		return nil, err
	}
	if err := s.adm.Register(ctx); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.nodeName = nodeName
	var peers gateway.Peers
	if cfg.StoreDSN != "" {
		// Nodes share the store: requests for shells another node holds
		// are forwarded there (or, without an internal link, refused
		// with session.other-node).
		s.peers, err = cluster.New(cluster.Config{
			Store:  db,
			Self:   func() (string, string) { return s.adm.NodeID(), s.nodeName },
			TLS:    s.clusterTLS,
			Logger: log.With("component", "cluster"),
			Now:    cfg.Now,
		})
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		peers = s.peers
	}
	affinity := ""
	if cfg.Cluster.AffinityCookie {
		affinity = nodeName
	}
	s.gw, err = gateway.New(gateway.Config{
		Auth:            auth,
		Admit:           s.adm,
		Audit:           s.adm,
		Catalog:         catalog,
		Logger:          log.With("component", "gateway"),
		MaxEnvelopeSize: cfg.MaxEnvelopeSize,
		PartialBudget:   cfg.PartialBudget,
		Now:             cfg.Now,
		Peers:           peers,
		AffinityCookie:  affinity,
		Observer:        s.metrics,
		ClientAddr:      s.tokens.ClientAddr,
	})
	if err != nil {
		return nil, err
	}
	// The tenant cmdlets close sessions of this node through the gateway
	// (Remove-CsOnlineSession, Set-CsUser demoting a user), so they come
	// after it; nothing serves before New returns.
	if err := cmdlets.Register(catalog, db, cmdlets.WithSessionCloser(s.gw), cmdlets.WithProviderClient(fedClient)); err != nil {
		return nil, fmt.Errorf("server: register tenant cmdlets: %w", err)
	}
	// Module cmdlets come last: one that takes a built-in's or a tenant
	// cmdlet's name is refused with its file and line.
	if s.modules, err = module.Register(catalog, mods, module.Config{Tokens: s.tokens, Logger: log.With("component", "module")}); err != nil {
		return nil, fmt.Errorf("server: modules: %w", err)
	}
	for _, m := range mods {
		log.Info("module loaded", "module", m.Name, "file", m.File, "cmdlets", len(m.Cmdlets))
	}
	s.handler = s.routes()
	return s, nil
}

// openStore opens PostgreSQL when a DSN is configured, else SQLite in the
// data directory.
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (store.Store, error) {
	if cfg.StoreDSN != "" {
		db, err := postgres.Open(ctx, cfg.StoreDSN, postgres.Options{Now: cfg.Now})
		if err != nil {
			return nil, fmt.Errorf("server: open PostgreSQL store: %w", err)
		}
		return db, nil
	}
	db, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "psgate.db"), sqlite.Options{Now: cfg.Now, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("server: open store: %w", err)
	}
	return db, nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	th := s.tokens.Handler()
	mux.Handle("/.well-known/", th)
	mux.Handle("/oauth2/", th)
	mux.Handle(identity.PathDevice, th)
	if s.cfg.HealthOnPublic {
		// No error detail here: anyone reaching the public port reads it.
		mux.HandleFunc(PublicHealth+PathHealthz, s.serveHealthz)
		mux.HandleFunc(PublicHealth+PathReadyz, func(w http.ResponseWriter, r *http.Request) { s.serveReadyz(w, r, false) })
	}
	mux.Handle("/", s.gw)
	return mux
}

// listen opens a listener, saying which flag chooses the address when the
// port is taken (most often by another psgate serve).
func listen(addr, what, flag string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("server: listen on %s (%s): the address is in use, perhaps by another psgate serve; stop it, or choose another address with %s", addr, what, flag)
	}
	if err != nil {
		return nil, fmt.Errorf("server: listen on %s (%s): %w", addr, what, err)
	}
	return ln, nil
}

// defaultIssuer derives the token issuer URL from the listeners: the HTTPS
// one when there is one.
func defaultIssuer(httpsLn, httpLn net.Listener) string {
	scheme, ln := "https", httpsLn
	if ln == nil {
		scheme, ln = "http", httpLn
	}
	return scheme + "://" + reachable(ln.Addr())
}

// reachable is host:port of a listener as a client would write it: a
// wildcard address (every interface) becomes the machine's host name.
func reachable(a net.Addr) string {
	host, port, _ := net.SplitHostPort(a.String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
		if h, err := os.Hostname(); err == nil && h != "" {
			host = h
		}
	}
	return net.JoinHostPort(host, port)
}

// isLoopback reports whether a listener accepts loopback connections only.
func isLoopback(ln net.Listener) bool {
	host, _, _ := net.SplitHostPort(ln.Addr().String())
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// requireLoopback refuses plain HTTP on anything but a loopback address:
// Basic credentials would cross the network in clear text.
func requireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("server: HTTP address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("server: refusing plain HTTP on %s: credentials would travel unencrypted; use a loopback address, HTTPS, or --allow-unencrypted", addr)
	}
	return nil
}

// Info describes a running server for the start banner.
type Info struct {
	HTTPURL, HTTPSURL string
	// AdminURL is the admin listener's base URL (metrics, health,
	// pprof); empty when it is disabled.
	AdminURL string
	// Fingerprint is the SHA-256 fingerprint of the HTTPS certificate.
	Fingerprint string
	CertFile    string
	Bootstrap   Bootstrap
	DataDir     string
	// Issuer is the identity service's issuer URL.
	Issuer string
	// LoopbackOnly is true when no listener accepts other machines.
	LoopbackOnly bool
	// InternalURL is where peers reach this node (empty without an
	// internal listener); Node is this node's name.
	InternalURL, Node string
}

// Info returns the server's addresses and certificate.
func (s *Server) Info() Info {
	in := Info{Bootstrap: s.boot, DataDir: s.cfg.DataDir, CertFile: s.certFile, Issuer: s.tokens.Issuer(), LoopbackOnly: true,
		InternalURL: s.internalURL, Node: s.nodeName}
	if s.httpLn != nil {
		in.HTTPURL = "http://" + reachable(s.httpLn.Addr()) + "/wsman"
		in.LoopbackOnly = isLoopback(s.httpLn)
	}
	if s.adminLn != nil {
		in.AdminURL = "http://" + reachable(s.adminLn.Addr())
	}
	if s.httpsLn != nil {
		in.HTTPSURL = "https://" + reachable(s.httpsLn.Addr()) + "/wsman"
		in.LoopbackOnly = in.LoopbackOnly && isLoopback(s.httpsLn)
		if len(s.cert.Certificate) > 0 {
			in.Fingerprint = Fingerprint(s.cert.Certificate[0])
		}
	}
	return in
}

// CertPool returns a pool trusting the server's certificate, for tests and
// clients on the same machine.
func (s *Server) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	if len(s.cert.Certificate) > 0 {
		if c, err := x509.ParseCertificate(s.cert.Certificate[0]); err == nil {
			pool.AddCert(c)
		}
	}
	return pool
}

// Store returns the server's store (for tests and the operator CLI).
func (s *Server) Store() store.Store { return s.store }

// Gateway returns the WS-Management gateway.
func (s *Server) Gateway() *gateway.Gateway { return s.gw }

// Run serves until ctx ends, then shuts down gracefully: stop accepting,
// let running commands finish (up to grace), close every shell.
func (s *Server) Run(ctx context.Context, grace time.Duration) error {
	defer s.Close()
	var servers []*http.Server
	errc := make(chan error, 3) // one per listener
	limiter := &connLimiter{max: int64(s.cfg.MaxConnections), log: s.log}
	handler := bodyDeadline(s.handler, s.cfg.BodyTimeout)
	serve := func(ln net.Listener, useTLS bool) {
		ln = limiter.wrap(ln)
		hs := &http.Server{
			Handler:           handler,
			MaxHeaderBytes:    64 << 10,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       120 * time.Second,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		}
		if useTLS {
			hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{s.cert}, MinVersion: tls.VersionTLS12}
			ln = tls.NewListener(ln, hs.TLSConfig)
		}
		servers = append(servers, hs)
		s.serving.Add(1)
		go func() {
			defer s.serving.Add(-1)
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	// The admin listener serves first and stops last, so that /readyz
	// says "shutting down" for the whole grace period.
	var admin *http.Server
	if s.adminLn != nil {
		admin = &http.Server{
			Handler:           s.adminRoutes(),
			MaxHeaderBytes:    64 << 10,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       120 * time.Second,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		}
		go func() {
			if err := admin.Serve(s.adminLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("server: admin listener: %w", err)
			}
		}()
	}
	if s.httpsLn != nil {
		serve(s.httpsLn, true)
	}
	if s.httpLn != nil {
		serve(s.httpLn, false)
	}
	if s.internalLn != nil {
		// Peers forward to this node until its shells are handed over or
		// closed: it stops with the public listeners.
		hs := s.internalServer(s.log)
		servers = append(servers, hs)
		go func() {
			if err := hs.ServeTLS(s.internalLn, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("server: internal listener: %w", err)
			}
		}()
	}
	janitor, stopJanitor := context.WithCancel(ctx)
	defer stopJanitor()
	go s.keep(janitor)
	go func() {
		if err := s.tokens.Run(janitor); err != nil && janitor.Err() == nil {
			s.log.Error("identity service stopped", logkey.Err, err)
		}
	}()
	go s.retainAudit(janitor)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	s.stopping.Store(true)
	s.log.Info("shutting down", "grace", grace)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	// New shells go to the other nodes from now on.
	s.gw.BeginDrain()
	// Hand the shells over to the other nodes as they turn idle: their
	// clients notice nothing. What is left is closed below.
	s.handOver(sctx, always)
	// Drain: refuse new shells and commands (clients read
	// server.shutting-down and go to another node) while the listeners
	// still serve, so that the commands running now finish and reach their
	// clients; then close the shells. Only then stop the listeners (which
	// waits for requests in flight; the closed shells end the long polls).
	if err := s.gw.Shutdown(sctx); err != nil {
		s.log.Warn("shutdown", logkey.Err, err)
	}
	var wg sync.WaitGroup
	for _, hs := range servers {
		wg.Add(1)
		go func() { defer wg.Done(); _ = hs.Shutdown(sctx) }()
	}
	wg.Wait()
	if err := s.adm.Close(sctx); err != nil {
		s.log.Warn("shutdown", logkey.Err, err)
	}
	if admin != nil {
		_ = admin.Shutdown(sctx)
	}
	return runErr
}

// Close releases the store and the data directory lock.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		if s.httpLn != nil {
			s.httpLn.Close()
		}
		if s.httpsLn != nil {
			s.httpsLn.Close()
		}
		if s.adminLn != nil {
			s.adminLn.Close()
		}
		if s.internalLn != nil {
			s.internalLn.Close()
		}
		if s.peers != nil {
			s.peers.Close()
		}
		if s.store != nil {
			s.store.Close()
		}
		if s.lock != nil {
			s.lock.release()
		}
	})
}

// tickEvery is how often the keeper loop runs Tick: every second, or
// twice per lease margin when that is shorter, so that a node cut off from
// the store closes its shells within the margin, before their leases can
// expire.
func (s *Server) tickEvery() time.Duration {
	if m := s.cfg.Cluster.LeaseMargin; m > 0 && m/2 < time.Second {
		return m / 2
	}
	return time.Second
}

// keep runs Tick every second until ctx ends. It is the one loop that
// moves shell state between the gateway and admission, in one direction
// per step, so neither holds a callback into the other.
func (s *Server) keep(ctx context.Context) {
	t := time.NewTicker(s.tickEvery())
	defer t.Stop()
	for {
		// A tick that began finishes its closes even if ctx ends.
		s.Tick(context.WithoutCancel(ctx))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick runs the periodic work now, by the configured clock, in order:
// close the shells past their idle timeout or lifetime; renew the leases
// of the shells still open (writing their activity), sweep expired
// leases; close the shells whose lease is lost. keep does this every
// second; tests with a fake clock call Tick after moving it.
func (s *Server) Tick(ctx context.Context) {
	s.gw.Expire(ctx)
	if lost := s.adm.Tick(ctx, s.cfg.Now(), s.gw.Activity()); len(lost) > 0 {
		s.gw.CloseShells(ctx, lost, psgate.CloseReason{Cause: psgate.CloseLost})
	}
	// psgate node drain: new shells go to the other nodes.
	if st := s.adm.Status(); st.Draining || s.stopping.Load() {
		s.gw.BeginDrain()
	} else {
		s.gw.EndDrain()
	}
	s.followDrain(ctx)
}

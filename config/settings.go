package config

import (
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Kind is how a setting is written on the command line: most take a
// value, a Bool is a switch, a List may repeat.
type Kind int

const (
	KindText Kind = iota
	KindBool
	KindList
)

// Setting describes one configuration key: its TOML key, the flag and the
// environment variable that override it, its default and how it is read.
type Setting struct {
	// Key is the TOML key, a table and a name ("listen.https") or a name
	// at the top ("data_dir").
	Key string
	// Flag is the flag of psgate serve without its dashes; empty when the
	// setting has none (secrets never do: argv is visible to every user
	// of the machine).
	Flag string
	// Env is the environment variable: PSGATE_ and the key in capitals
	// with dots as underscores.
	Env  string
	Kind Kind
	// Type names the kind of value for people ("address", "duration").
	Type string
	// Default is the built-in value as written on the command line.
	Default string
	// Doc says what the setting does, in one line.
	Doc string
	// Secret marks a value that is masked when shown.
	Secret bool
	// SecretFor, on a *_file key, is the secret key the named file
	// supplies: store.dsn_file reads store.dsn from a file.
	SecretFor string

	set  func(c *Config, v value) error
	show func(c *Config) string
}

// envName is the environment variable of a key.
func envName(key string) string {
	return "PSGATE_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Defaults of psgate serve. The server and password packages have the same
// numbers; cmd/psgate's tests check that they agree.
const (
	DefaultDataDir = "./psgate-data"
	DefaultHTTP    = "127.0.0.1:5985"
	DefaultHTTPS   = "127.0.0.1:5986"
	// DefaultAdmin is the admin listener: metrics, health and pprof, on
	// loopback (server.DefaultAdminAddr).
	DefaultAdmin = "127.0.0.1:9985"
	// DefaultTopTenants is how many tenants get their own shell series
	// (metrics.DefaultTopTenants).
	DefaultTopTenants      = 20
	DefaultMaxEnvelopeSize = 512000
	DefaultBodyTimeout     = 30 * time.Second
	DefaultMaxConnections  = 8192
	DefaultShutdownGrace   = 30 * time.Second
	// DefaultPartialShell, DefaultPartialUser, DefaultPartialTenant and
	// DefaultPartialProcess are the gateway's budgets for unfinished
	// remoting data (gateway.DefaultPartial*).
	DefaultPartialShell   = 64 << 20
	DefaultPartialUser    = 128 << 20
	DefaultPartialTenant  = 512 << 20
	DefaultPartialProcess = 1 << 30
	DefaultAuditRetention = 180 * 24 * time.Hour
	// DefaultLeaseTTL, DefaultLeaseRenew and DefaultLeaseMargin time the
	// quota leases (the admission package's defaults).
	DefaultLeaseTTL    = 45 * time.Second
	DefaultLeaseRenew  = 10 * time.Second
	DefaultLeaseMargin = 5 * time.Second
	// DefaultPasswordMemoryKiB, DefaultPasswordIterations and
	// DefaultPasswordThreads are OWASP's recommended argon2id cost.
	DefaultPasswordMemoryKiB  = 19 * 1024
	DefaultPasswordIterations = 2
	DefaultPasswordThreads    = 1

	// minPartialBudget is the smallest budget for unfinished remoting
	// data: below it, ordinary pipelines with input would be refused.
	minPartialBudget = 1 << 20
	// minEnvelopeSize is the smallest MaxEnvelopeSize WS-Management allows.
	minEnvelopeSize = 8192
	// minPasswordMemoryKiB is OWASP's lowest recommended argon2id memory.
	minPasswordMemoryKiB = 7 * 1024
	// minBootstrapPassword is the shortest password psgate accepts.
	minBootstrapPassword = 8
)

// Settings returns every setting of psgate serve, in the order the
// documentation and psgate config show list them.
func Settings() []Setting {
	list := []Setting{
		{Key: "data_dir", Flag: "data", Type: "path", Default: DefaultDataDir,
			Doc: "data directory (SQLite store, certificate, bootstrap credentials)",
			set: setPath(func(c *Config) *string { return &c.DataDir }, false), show: showString(func(c *Config) string { return c.DataDir })},

		{Key: "listen.http", Flag: "http", Type: "address", Default: DefaultHTTP,
			Doc: "plain HTTP listen address (loopback only unless allow_unencrypted; empty disables)",
			set: setAddr(func(c *Config) *string { return &c.HTTP }), show: showString(func(c *Config) string { return c.HTTP })},
		{Key: "listen.https", Flag: "https", Type: "address", Default: DefaultHTTPS,
			Doc: "HTTPS listen address; \":5986\" accepts other machines (empty disables)",
			set: setAddr(func(c *Config) *string { return &c.HTTPS }), show: showString(func(c *Config) string { return c.HTTPS })},
		{Key: "listen.allow_unencrypted", Flag: "allow-unencrypted", Kind: KindBool, Type: "bool", Default: "false",
			Doc: "allow plain HTTP on a non-loopback address",
			set: setBool(func(c *Config) *bool { return &c.AllowUnencrypted }), show: func(c *Config) string { return strconv.FormatBool(c.AllowUnencrypted) }},
		{Key: "listen.trusted_proxies", Flag: "trusted-proxy", Kind: KindList, Type: "list of addresses or CIDR prefixes", Default: "",
			Doc: "load balancers and reverse proxies whose X-Forwarded-For names the client",
			set: setProxies, show: showProxies},

		{Key: "tls.cert", Flag: "tls-cert", Type: "path", Default: "",
			Doc: "TLS certificate PEM file (default: self-signed, generated into the data directory)",
			set: setPath(func(c *Config) *string { return &c.TLSCert }, true), show: showString(func(c *Config) string { return c.TLSCert })},
		{Key: "tls.key", Flag: "tls-key", Type: "path", Default: "",
			Doc: "TLS private key PEM file (not readable by others)",
			set: setPath(func(c *Config) *string { return &c.TLSKey }, true), show: showString(func(c *Config) string { return c.TLSKey })},

		{Key: "store.dsn", Flag: "store", Type: "PostgreSQL URL", Default: "", Secret: true,
			Doc: "PostgreSQL store shared by several gateway nodes (postgres://user@host/db; a password belongs in store.dsn_file); default: SQLite in the data directory",
			set: setDSN, show: func(c *Config) string { return MaskDSN(c.StoreDSN) }},
		{Key: "store.dsn_file", Flag: "store-file", Type: "path", Default: "", SecretFor: "store.dsn",
			Doc: "file holding store.dsn (mode 0600), so the password is not in argv"},

		{Key: "identity.issuer", Flag: "issuer", Type: "URL", Default: "",
			Doc: "token service issuer URL as clients reach it (default: https://<host name>:<HTTPS port>)",
			set: setIssuer, show: showString(func(c *Config) string { return c.Issuer })},
		{Key: "identity.federation_private_networks", Flag: "federation-private-networks", Kind: KindBool, Type: "bool", Default: "false",
			Doc: "fetch federated identity providers from private, loopback and link-local addresses too (an on-premises provider); off, a tenant administrator cannot make the gateway reach into your network",
			set: setBool(func(c *Config) *bool { return &c.FederationPrivateNetworks }), show: func(c *Config) string { return strconv.FormatBool(c.FederationPrivateNetworks) }},

		{Key: "bootstrap.password", Type: "string", Default: "", Secret: true,
			Doc: "the demo administrator's password on first start (8 characters or more; default: generated into <data>/bootstrap-admin.txt)",
			set: setBootstrapPassword, show: func(c *Config) string { return maskSecret(c.BootstrapPassword) }},
		{Key: "bootstrap.password_file", Type: "path", Default: "", SecretFor: "bootstrap.password",
			Doc: "file holding bootstrap.password (mode 0600)"},

		{Key: "limits.max_envelope_size", Flag: "max-envelope-size", Type: "integer (bytes)", Default: strconv.Itoa(DefaultMaxEnvelopeSize),
			Doc: "largest WS-Management request accepted, in bytes (8192 or more)",
			set: setInt(func(c *Config) *int { return &c.MaxEnvelopeSize }, minEnvelopeSize), show: func(c *Config) string { return strconv.Itoa(c.MaxEnvelopeSize) }},
		{Key: "limits.body_timeout", Flag: "body-timeout", Type: "duration", Default: DefaultBodyTimeout.String(),
			Doc: "longest time a client may take to send a request body",
			set: setDuration(func(c *Config) *time.Duration { return &c.BodyTimeout }), show: func(c *Config) string { return c.BodyTimeout.String() }},
		{Key: "limits.max_connections", Flag: "max-connections", Type: "integer", Default: strconv.Itoa(DefaultMaxConnections),
			Doc: "most client connections open at once; more are closed at once",
			set: setInt(func(c *Config) *int { return &c.MaxConnections }, 1), show: func(c *Config) string { return strconv.Itoa(c.MaxConnections) }},
		{Key: "limits.shutdown_grace", Flag: "shutdown-grace", Type: "duration", Default: DefaultShutdownGrace.String(),
			Doc: "how long shutdown waits for running commands",
			set: setDuration(func(c *Config) *time.Duration { return &c.ShutdownGrace }), show: func(c *Config) string { return c.ShutdownGrace.String() }},
		partialBudget("shell", "one shell (its runspace pool and pipelines)", DefaultPartialShell, func(c *Config) *int64 { return &c.PartialShell }),
		partialBudget("user", "all the shells of one user", DefaultPartialUser, func(c *Config) *int64 { return &c.PartialUser }),
		partialBudget("tenant", "all the shells of one tenant", DefaultPartialTenant, func(c *Config) *int64 { return &c.PartialTenant }),
		partialBudget("process", "the whole gateway", DefaultPartialProcess, func(c *Config) *int64 { return &c.PartialProcess }),

		{Key: "audit.retention", Flag: "audit-retention", Type: "duration or days (90d, 2w)", Default: "180d",
			Doc: "how long audit records are kept; 0 keeps them forever",
			set: setRetention, show: showRetention},

		{Key: "password_hash.memory_kib", Flag: "password-hash-memory-kib", Type: "integer (KiB)", Default: strconv.Itoa(DefaultPasswordMemoryKiB),
			Doc: "argon2id memory per password hash, in KiB (7168 or more)",
			set: setUint32(func(c *Config) *uint32 { return &c.PasswordMemoryKiB }, minPasswordMemoryKiB, 4<<20), show: func(c *Config) string { return strconv.FormatUint(uint64(c.PasswordMemoryKiB), 10) }},
		{Key: "password_hash.iterations", Flag: "password-hash-iterations", Type: "integer", Default: strconv.Itoa(DefaultPasswordIterations),
			Doc: "argon2id passes over the memory (1 to 100)",
			set: setUint32(func(c *Config) *uint32 { return &c.PasswordIterations }, 1, 100), show: func(c *Config) string { return strconv.FormatUint(uint64(c.PasswordIterations), 10) }},
		{Key: "password_hash.threads", Flag: "password-hash-threads", Type: "integer", Default: strconv.Itoa(DefaultPasswordThreads),
			Doc: "argon2id lanes (1 to 255)",
			set: setThreads, show: func(c *Config) string { return strconv.Itoa(int(c.PasswordThreads)) }},
		{Key: "password_hash.concurrent", Flag: "password-hash-concurrent", Type: "integer", Default: "0",
			Doc: "the most password hashes computed at once, each holding memory_kib while it runs (0: half the CPUs, rounded up)",
			set: setInt(func(c *Config) *int { return &c.PasswordConcurrent }, 0), show: func(c *Config) string { return strconv.Itoa(c.PasswordConcurrent) }},
		{Key: "password_hash.queue", Flag: "password-hash-queue", Type: "integer", Default: "0",
			Doc: "the most sign-ins waiting for a hash; past it, identity.sign-in-busy (0: 64 per concurrent hash, -1: none wait)",
			set: setInt(func(c *Config) *int { return &c.PasswordQueue }, -1), show: func(c *Config) string { return strconv.Itoa(c.PasswordQueue) }},
		{Key: "password_hash.per_address", Flag: "password-hash-per-address", Type: "integer", Default: "0",
			Doc: "the most password checks one client address (an IPv6 /64) may have running or waiting; past it, identity.too-many-pending (0: half of concurrent plus queue)",
			set: setInt(func(c *Config) *int { return &c.PasswordPerAddress }, 0), show: func(c *Config) string { return strconv.Itoa(c.PasswordPerAddress) }},

		{Key: "log.level", Flag: "log-level", Type: "debug, info, warn or error", Default: "info",
			Doc: "log level: debug, info, warn, error",
			set: setLogLevel, show: func(c *Config) string { return strings.ToLower(c.LogLevel.String()) }},
		{Key: "log.format", Flag: "log-format", Type: "text or json", Default: "text",
			Doc: "log format: text (logfmt) or json",
			set: setLogFormat, show: showString(func(c *Config) string { return c.LogFormat })},

		{Key: "listen.admin", Flag: "admin-listen", Type: "address", Default: DefaultAdmin,
			Doc: "admin listener (plain HTTP, no sign-in): /metrics, /healthz, /readyz and pprof; keep it on loopback or a management network (empty disables)",
			set: setAddr(func(c *Config) *string { return &c.AdminAddr }), show: showString(func(c *Config) string { return c.AdminAddr })},
		{Key: "listen.health_on_public", Flag: "health-on-public", Kind: KindBool, Type: "bool", Default: "false",
			Doc: "also answer /psgate/healthz and /psgate/readyz on the public listeners, for load balancers that reach only those",
			set: setBool(func(c *Config) *bool { return &c.HealthOnPublic }), show: func(c *Config) string { return strconv.FormatBool(c.HealthOnPublic) }},
		{Key: "metrics.top_tenants", Flag: "metrics-top-tenants", Type: "integer", Default: strconv.Itoa(DefaultTopTenants),
			Doc: "how many tenants, those with the most shells, get their own psgate_shells series; the others are summed as one",
			set: setInt(func(c *Config) *int { return &c.MetricsTopTenants }, 1), show: func(c *Config) string { return strconv.Itoa(c.MetricsTopTenants) }},
		{Key: "modules.dir", Flag: "modules", Type: "path", Default: "",
			Doc: "folder of module files (*.json): cmdlets served by your own HTTP services (docs/modules.md); a broken module stops the start",
			set: setPath(func(c *Config) *string { return &c.ModuleDir }, true), show: showString(func(c *Config) string { return c.ModuleDir })},

		{Key: "cluster.listen", Flag: "cluster-listen", Type: "address", Default: "",
			Doc: "internal listener (mutual TLS) other nodes sharing the PostgreSQL store forward requests for this node's shells to; empty: no forwarding (docs/cluster.md)",
			set: setAddr(func(c *Config) *string { return &c.Cluster.Listen }), show: showString(func(c *Config) string { return c.Cluster.Listen })},
		{Key: "cluster.url", Flag: "cluster-url", Type: "URL", Default: "",
			Doc: "how the other nodes reach the internal listener (default: https://<host name>:<port of cluster.listen>)",
			set: setClusterURL, show: showString(func(c *Config) string { return c.Cluster.URL })},
		{Key: "cluster.ca", Flag: "cluster-ca", Type: "path", Default: "",
			Doc: "the cluster authority's certificate (psgate cluster init)",
			set: setPath(func(c *Config) *string { return &c.Cluster.CA }, true), show: showString(func(c *Config) string { return c.Cluster.CA })},
		{Key: "cluster.cert", Flag: "cluster-cert", Type: "path", Default: "",
			Doc: "this node's certificate from the cluster authority (psgate cluster cert)",
			set: setPath(func(c *Config) *string { return &c.Cluster.Cert }, true), show: showString(func(c *Config) string { return c.Cluster.Cert })},
		{Key: "cluster.key", Flag: "cluster-key", Type: "path", Default: "",
			Doc: "this node's private key (not readable by others)",
			set: setPath(func(c *Config) *string { return &c.Cluster.Key }, true), show: showString(func(c *Config) string { return c.Cluster.Key })},
		{Key: "cluster.affinity_cookie", Flag: "cluster-affinity-cookie", Kind: KindBool, Type: "bool", Default: "false",
			Doc: "set a psgate_node cookie naming this node on every new shell, for load balancers that persist on it (saves a forwarding hop)",
			set: setBool(func(c *Config) *bool { return &c.Cluster.AffinityCookie }), show: func(c *Config) string { return strconv.FormatBool(c.Cluster.AffinityCookie) }},
		{Key: "cluster.lease_ttl", Flag: "lease-ttl", Type: "duration", Default: DefaultLeaseTTL.String(),
			Doc: "how long a shell's quota slot outlives its node's last renewal: a node that dies frees its slots within this time",
			set: setDuration(func(c *Config) *time.Duration { return &c.Cluster.LeaseTTL }), show: func(c *Config) string { return c.Cluster.LeaseTTL.String() }},
		{Key: "cluster.lease_renew", Flag: "lease-renew", Type: "duration", Default: DefaultLeaseRenew.String(),
			Doc: "how often a node renews its shells' quota slots",
			set: setDuration(func(c *Config) *time.Duration { return &c.Cluster.LeaseRenew }), show: func(c *Config) string { return c.Cluster.LeaseRenew.String() }},
		{Key: "cluster.lease_margin", Flag: "lease-margin", Type: "duration", Default: DefaultLeaseMargin.String(),
			Doc: "how long before its slots could expire a node cut off from the store closes its shells (renew + margin must be below the TTL)",
			set: setDuration(func(c *Config) *time.Duration { return &c.Cluster.LeaseMargin }), show: func(c *Config) string { return c.Cluster.LeaseMargin.String() }},
	}
	for i := range list {
		list[i].Env = envName(list[i].Key)
	}
	return list
}

func showString(get func(*Config) string) func(*Config) string {
	return func(c *Config) string { return get(c) }
}

func showProxies(c *Config) string {
	s := make([]string, len(c.TrustedProxies))
	for i, p := range c.TrustedProxies {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func showRetention(c *Config) string {
	if c.AuditRetention == 0 {
		return "0 (forever)"
	}
	if c.AuditRetention%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", c.AuditRetention/(24*time.Hour))
	}
	return c.AuditRetention.String()
}

func setPath(field func(*Config) *string, optional bool) func(*Config, value) error {
	return func(c *Config, v value) error {
		s, err := v.str("a path")
		if err != nil {
			return err
		}
		if s == "" && !optional {
			return fmt.Errorf("must not be empty")
		}
		*field(c) = v.resolve(s)
		return nil
	}
}

func setAddr(field func(*Config) *string) func(*Config, value) error {
	return func(c *Config, v value) error {
		s, err := v.str(`an address such as ":5986" or "127.0.0.1:5986"`)
		if err != nil {
			return err
		}
		if s != "" {
			if err := checkAddr(s); err != nil {
				return err
			}
		}
		*field(c) = s
		return nil
	}
}

func setBool(field func(*Config) *bool) func(*Config, value) error {
	return func(c *Config, v value) error {
		b, err := v.boolean()
		if err != nil {
			return err
		}
		*field(c) = b
		return nil
	}
}

func setInt(field func(*Config) *int, min int) func(*Config, value) error {
	return func(c *Config, v value) error {
		n, err := v.integer()
		if err != nil {
			return err
		}
		if n < int64(min) || n > 1<<31-1 {
			return fmt.Errorf("%d is out of range: use %d or more", n, min)
		}
		*field(c) = int(n)
		return nil
	}
}

func setUint32(field func(*Config) *uint32, min, max int64) func(*Config, value) error {
	return func(c *Config, v value) error {
		n, err := v.integer()
		if err != nil {
			return err
		}
		if n < min || n > max {
			return fmt.Errorf("%d is out of range: use %d to %d", n, min, max)
		}
		*field(c) = uint32(n)
		return nil
	}
}

func setThreads(c *Config, v value) error {
	n, err := v.integer()
	if err != nil {
		return err
	}
	if n < 1 || n > 255 {
		return fmt.Errorf("%d is out of range: use 1 to 255", n)
	}
	c.PasswordThreads = uint8(n)
	return nil
}

// partialBudget is the setting limits.partial_<scope>: the bytes of
// unfinished remoting data held for scope.
func partialBudget(scope, what string, def int64, field func(*Config) *int64) Setting {
	return Setting{Key: "limits.partial_" + scope, Flag: "partial-" + scope + "-budget", Type: "integer (bytes)", Default: strconv.FormatInt(def, 10),
		Doc: "most bytes of unfinished PowerShell remoting messages held for " + what + " (1048576 or more)",
		set: func(c *Config, v value) error {
			n, err := v.integer()
			if err != nil {
				return err
			}
			if n < minPartialBudget || n > 1<<40 {
				return fmt.Errorf("%d is out of range: use %d (1 MiB) to %d (1 TiB)", n, minPartialBudget, int64(1)<<40)
			}
			*field(c) = n
			return nil
		},
		show: func(c *Config) string { return strconv.FormatInt(*field(c), 10) }}
}

func setDuration(field func(*Config) *time.Duration) func(*Config, value) error {
	return func(c *Config, v value) error {
		s, err := v.str(`a duration such as "30s" or "2m"`)
		if err != nil {
			return err
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration: write a number and a unit, such as \"30s\" or \"2m\"", s)
		}
		if d <= 0 {
			return fmt.Errorf("%q: the duration must be more than 0", s)
		}
		*field(c) = d
		return nil
	}
}

func setRetention(c *Config, v value) error {
	s, err := v.str(`a duration such as "180d" or "2160h", or "0"`)
	if err != nil {
		return err
	}
	d, err := ParseAge(s)
	if err != nil {
		return err
	}
	c.AuditRetention = d
	return nil
}

// ParseAge reads a Go duration (36h, 90m), a whole number of days or
// weeks (90d, 2w), or 0. A negative age is refused.
func ParseAge(s string) (time.Duration, error) {
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.ParseUint(n, 10, 16)
			if err != nil {
				return 0, fmt.Errorf("%q: want a whole number of days or weeks (90d, 2w)", s)
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: write days (180d), weeks (26w) or hours (2160h)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q: the duration must not be negative (0 keeps records forever)", s)
	}
	return d, nil
}

func setProxies(c *Config, v value) error {
	list, err := v.list("addresses or CIDR prefixes")
	if err != nil {
		return err
	}
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		p, err := ParseProxy(s)
		if err != nil {
			return err
		}
		out = append(out, p)
	}
	c.TrustedProxies = out
	return nil
}

// ParseProxy reads a trusted proxy as an address or a CIDR prefix.
func ParseProxy(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	return netip.Prefix{}, fmt.Errorf("%q: want an address (10.0.0.5) or a CIDR prefix (10.0.0.0/24)", s)
}

func setDSN(c *Config, v value) error {
	s, err := v.str("a PostgreSQL URL such as \"postgres://psgate@db.example.com/psgate\"")
	if err != nil {
		return err
	}
	if s != "" {
		if err := checkDSN(s); err != nil {
			return err
		}
	}
	c.StoreDSN = s
	return nil
}

func setIssuer(c *Config, v value) error {
	s, err := v.str(`a URL such as "https://gw.example.com:5986"`)
	if err != nil {
		return err
	}
	if s != "" {
		if err := checkIssuer(s); err != nil {
			return err
		}
	}
	c.Issuer = s
	return nil
}

func setClusterURL(c *Config, v value) error {
	s, err := v.str(`a URL such as "https://gw1.internal:5987"`)
	if err != nil {
		return err
	}
	if s != "" {
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("%q: write https://host:port (the internal listener speaks TLS only)", s)
		}
	}
	c.Cluster.URL = s
	return nil
}

func setBootstrapPassword(c *Config, v value) error {
	s, err := v.str("a string")
	if err != nil {
		return err
	}
	if s != "" && len([]rune(s)) < minBootstrapPassword {
		return fmt.Errorf("the password is too short: use at least %d characters", minBootstrapPassword)
	}
	c.BootstrapPassword = s
	return nil
}

func setLogLevel(c *Config, v value) error {
	s, err := v.str(`"debug", "info", "warn" or "error"`)
	if err != nil {
		return err
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return fmt.Errorf("%q: use debug, info, warn or error", s)
	}
	c.LogLevel = l
	return nil
}

func setLogFormat(c *Config, v value) error {
	s, err := v.str(`"text" or "json"`)
	if err != nil {
		return err
	}
	switch s {
	case "text", "json":
		c.LogFormat = s
		return nil
	}
	return fmt.Errorf("%q: use text or json", s)
}

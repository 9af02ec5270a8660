// Package metrics is psgate's Prometheus instrumentation: the counters and
// histograms the gateway, admission and identity report to as things
// happen, and collectors that read the shells and the lease keeper's state
// when Prometheus scrapes.
//
// The package imports none of the parts it measures. Each part declares
// the small Observer it calls (gateway.Observer, admission.Observer,
// identity.Observer) and the plain-data snapshot it offers; *Metrics
// satisfies the observers, and the server hands the snapshots to Config.
// Everything lives on one explicit *prometheus.Registry: nothing is
// registered globally.
//
// Label values are bounded by construction: WS-Man actions, HTTP statuses,
// catalog codes, grant types and catalog cmdlet names are closed sets, and
// per-tenant shell gauges are limited to the TopTenants tenants holding
// the most shells plus one "(other)" series (see docs/operations.md).
package metrics

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/psgate/psgate"
)

// namespace prefixes every psgate metric name.
const namespace = "psgate"

// DefaultTopTenants is how many tenants get their own shell gauges when
// Config.TopTenants is zero.
const DefaultTopTenants = 20

// OtherTenants is the tenant label of the series that sums the shells of
// every tenant outside the top TopTenants. Tenant names are lower-case
// letters, digits and hyphens, so it never names a real tenant.
const OtherTenants = "(other)"

// Label values of commands that are not a catalog cmdlet.
const (
	CmdletScript  = "(script)"  // script text (a WinRS command line that did not parse)
	CmdletUnknown = "(unknown)" // a name the catalog does not hold
)

// ShellCount is how many shells of one tenant, protocol and state a node
// holds.
type ShellCount struct {
	Tenant       string
	Kind         psgate.ShellKind
	Disconnected bool
	Shells       int
}

// LeaseState is the lease keeper's view of this node.
type LeaseState struct {
	// Registered is true while the node has a record in the store.
	Registered bool
	// Draining is true while an operator drains the node (psgate node
	// drain) or it shuts down: it admits no new shell.
	Draining bool
	// Deadline is when the node stops trusting its leases unless a
	// renewal succeeds first; zero when not registered.
	Deadline time.Time
}

// Config configures Metrics. Zero values are documented per field.
type Config struct {
	// Registry receives every metric. Nil creates one (Registry returns
	// it).
	Registry *prometheus.Registry
	// Shells returns the node's shells by tenant, protocol and state when
	// Prometheus scrapes. Nil exports no shell gauges.
	Shells func() []ShellCount
	// Lease returns the lease keeper's state when Prometheus scrapes. Nil
	// exports no lease gauges.
	Lease func() LeaseState
	// TopTenants is how many tenants, those with the most shells, get
	// their own psgate_shells series; the others are summed under
	// OtherTenants. Zero means DefaultTopTenants; negative folds every
	// tenant into OtherTenants.
	TopTenants int
	// Version is psgate_build_info's version label; empty means
	// psgate.Version.
	Version string
	// Now is the clock for the lease deadline; nil means time.Now.
	Now func() time.Time
}

// Metrics holds psgate's metrics. Its methods are safe for concurrent use
// and cheap enough for the request path.
type Metrics struct {
	reg *prometheus.Registry

	requests   *prometheus.CounterVec
	forwarded  *prometheus.CounterVec
	handovers  *prometheus.CounterVec
	admissions *prometheus.CounterVec
	refusals   *prometheus.CounterVec
	admitDur   *prometheus.HistogramVec
	renewDur   *prometheus.HistogramVec
	pipeDur    *prometheus.HistogramVec
	commands   *prometheus.CounterVec
	tokens     *prometheus.CounterVec
	lockouts   *prometheus.CounterVec
}

// New creates psgate's metrics and registers them, the Go runtime's and
// the process's in cfg.Registry.
func New(cfg Config) (*Metrics, error) {
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.TopTenants == 0 {
		cfg.TopTenants = DefaultTopTenants
	}
	if cfg.Version == "" {
		cfg.Version = psgate.Version
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// storeBuckets suit operations that wait on the store: a millisecond
	// to seconds.
	storeBuckets := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
	m := &Metrics{
		reg: cfg.Registry,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "http_requests_total",
			Help: "WS-Management requests answered, by action (Create, Command, Receive ...; none: not decoded; other: not a WS-Man action psgate serves) and HTTP status (0: the client left before the answer).",
		}, []string{"action", "status"}),
		forwarded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "psgate_forwarded_requests_total",
			Help: "Requests for shells another node holds, by result: ok (forwarded and answered), misdirected (that node no longer held the shell), session.node-lost, cluster.owner-unreachable, session.other-node (no internal link configured), error.",
		}, []string{"result"}),
		handovers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "handovers_total",
			Help: "Shells of this draining node, by what became of them: moved (adopted by a peer), refused (by every peer tried), left (busy or without a taker at the deadline, then closed).",
		}, []string{"result"}),
		admissions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "admissions_total",
			Help: "Shells admitted, by protocol.",
		}, []string{"protocol"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "admission_refusals_total",
			Help: "Shell creations refused by admission, by error catalog code (psgate errors CODE explains one).",
		}, []string{"code"}),
		admitDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "admission_duration_seconds",
			Help:    "Time to decide a shell creation (policy, roles, rate, quota lease, audit), by result.",
			Buckets: storeBuckets,
		}, []string{"result"}),
		renewDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "lease_renewal_duration_seconds",
			Help:    "Time of one renewal of this node's quota leases in the store, by result (ok, failed).",
			Buckets: storeBuckets,
		}, []string{"result"}),
		pipeDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "pipeline_duration_seconds",
			Help:    "Time a command line (WinRS) or pipeline (PSRP) ran, by protocol.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"protocol"}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "commands_total",
			Help: "Commands run, by catalog cmdlet ((script), (unknown) otherwise) and outcome (ok, error, stopped).",
		}, []string{"cmdlet", "outcome"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "tokens_issued_total",
			Help: "Access tokens issued by the token service, by OAuth grant type.",
		}, []string{"grant_type"}),
		lockouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "lockouts_total",
			Help: "Sign-in locks started after repeated failures, by scope (account, address, device_code).",
		}, []string{"scope"}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info",
		Help: "Always 1; the version label is the running psgate's.",
	}, []string{"version"})
	build.WithLabelValues(cfg.Version).Set(1)
	cs := []prometheus.Collector{
		m.requests, m.forwarded, m.handovers, m.admissions, m.refusals, m.admitDur, m.renewDur, m.pipeDur, m.commands, m.tokens, m.lockouts, build,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}
	if cfg.Shells != nil {
		cs = append(cs, newShellCollector(cfg.Shells, cfg.TopTenants))
	}
	if cfg.Lease != nil {
		cs = append(cs, newLeaseCollector(cfg.Lease, cfg.Now))
	}
	for _, c := range cs {
		if err := cfg.Registry.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register: %w", err)
		}
	}
	// Series that exist from the start, so that rate() and alerts see a
	// zero before the first event.
	for _, k := range []psgate.ShellKind{psgate.KindWinRS, psgate.KindPSRP} {
		m.admissions.WithLabelValues(string(k))
		m.pipeDur.WithLabelValues(string(k))
	}
	for _, r := range []string{"admitted", "refused"} {
		m.admitDur.WithLabelValues(r)
	}
	for _, r := range []string{"ok", "failed"} {
		m.renewDur.WithLabelValues(r)
	}
	for _, r := range []string{"ok", "misdirected", "session.node-lost", "cluster.owner-unreachable"} {
		m.forwarded.WithLabelValues(r)
	}
	for _, r := range []string{"moved", "refused", "left"} {
		m.handovers.WithLabelValues(r)
	}
	for _, s := range []string{ScopeAccount, ScopeAddress, ScopeDeviceCode} {
		m.lockouts.WithLabelValues(s)
	}
	return m, nil
}

// Registry returns the registry the metrics are registered in.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in Prometheus' exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, MaxRequestsInFlight: 4})
}

// Request counts a WS-Management request answered with status (gateway
// Observer). action must come from a closed set: the gateway passes the
// short name of an action it serves, "none" or "other".
func (m *Metrics) Request(action string, status int) {
	m.requests.WithLabelValues(action, statusLabel(status)).Inc()
}

// Forwarded counts a request sent to (or refused for) the node owning its
// shell (gateway Observer); result comes from a closed set.
func (m *Metrics) Forwarded(result string) {
	m.forwarded.WithLabelValues(result).Inc()
}

// HandedOver counts n shells of a drain by result: moved, refused or
// left.
func (m *Metrics) HandedOver(result string, n int) {
	m.handovers.WithLabelValues(result).Add(float64(n))
}

// statusLabel avoids an allocation for the statuses the gateway answers.
func statusLabel(status int) string {
	switch status {
	case http.StatusOK:
		return "200"
	case http.StatusInternalServerError:
		return "500"
	case http.StatusUnauthorized:
		return "401"
	case http.StatusServiceUnavailable:
		return "503"
	}
	return strconv.Itoa(status)
}

// Pipeline records a finished command line or pipeline (gateway
// Observer): its duration, and one count per command with the line's
// outcome. cmdlets are catalog names, CmdletScript or CmdletUnknown; code
// is the catalog code it failed with, empty when it succeeded.
func (m *Metrics) Pipeline(kind psgate.ShellKind, cmdlets []string, code psgate.Code, d time.Duration) {
	m.pipeDur.WithLabelValues(string(kind)).Observe(d.Seconds())
	outcome := "ok"
	switch {
	case code == psgate.CodePipelineStopped:
		outcome = "stopped"
	case code != "":
		outcome = "error"
	}
	for _, c := range cmdlets {
		m.commands.WithLabelValues(c, outcome).Inc()
	}
}

// Admission records a shell creation decision (admission Observer): code
// is empty when the shell was admitted, else the refusal's catalog code.
func (m *Metrics) Admission(kind psgate.ShellKind, code psgate.Code, d time.Duration) {
	if code == "" {
		m.admissions.WithLabelValues(string(kind)).Inc()
		m.admitDur.WithLabelValues("admitted").Observe(d.Seconds())
		return
	}
	m.refusals.WithLabelValues(string(code)).Inc()
	m.admitDur.WithLabelValues("refused").Observe(d.Seconds())
}

// Renewal records one lease renewal (admission Observer).
func (m *Metrics) Renewal(d time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "failed"
	}
	m.renewDur.WithLabelValues(result).Observe(d.Seconds())
}

// TokenIssued counts an access token issued (identity Observer).
// grantType is one of the OAuth grant types the token service serves,
// with the device-code URN shortened to "device_code".
func (m *Metrics) TokenIssued(grantType string) {
	m.tokens.WithLabelValues(grantType).Inc()
}

// Lockout scopes.
const (
	ScopeAccount    = "account"     // an account locked after failed sign-ins
	ScopeAddress    = "address"     // a client address blocked after failures on several accounts
	ScopeDeviceCode = "device_code" // an address blocked from entering device codes
)

// Lockout counts a lock that a failed sign-in started (identity
// Observer); scope is ScopeAccount, ScopeAddress or ScopeDeviceCode.
func (m *Metrics) Lockout(scope string) {
	m.lockouts.WithLabelValues(scope).Inc()
}

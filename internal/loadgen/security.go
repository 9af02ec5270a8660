package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// SecurityConfig configures RunSecurity: legitimate clients measured for
// one phase alone and one phase under an unauthenticated attacker.
type SecurityConfig struct {
	// BaseURL is the gateway's plain-HTTP root on loopback, e.g.
	// http://127.0.0.1:15985 (WS-Man at /wsman and /powershell, the token
	// service at /oauth2/...).
	BaseURL string
	// Accounts are the legitimate users, one per client (see Provision).
	Accounts []Account
	// Duration is the length of each phase.
	Duration time.Duration
	// Think is the mean pause of a client between two operations (the
	// pause is uniform in [Think/2, 3*Think/2]); 0 means 1s.
	Think time.Duration
	// Attack sizes the attacker.
	Attack AttackConfig
	// SharedAddress sends every client and the attacker from the default
	// loopback address instead of one address per client (127.1.x.y) and
	// rotating attacker addresses (127.2.x.y); on Linux the whole of
	// 127.0.0.0/8 is local, elsewhere set it.
	SharedAddress bool
	// Sample reads the server's resources; nil reports none.
	Sample func() Usage
	// Logf reports progress; nil is silent.
	Logf func(format string, args ...any)
}

// AttackConfig sizes the attacker. Every part runs until the phase ends.
type AttackConfig struct {
	// SignIn and Basic are the workers posting wrong passwords to the
	// token endpoint (password grant) and to /wsman (Basic), each request
	// on a new connection from the next attacker address.
	SignIn, Basic int
	// SlowBodies are connections each sending a large Content-Length and
	// then one byte a second.
	SlowBodies int
	// Conns are idle connections held open (half send a partial request
	// line), re-opened as the server closes them.
	Conns int
	// DeviceCode are workers requesting device codes.
	DeviceCode int
	// Addresses is how many source addresses the attacker rotates over.
	Addresses int
	// Names are user names to try (in several spellings) besides unknown
	// ones; typically some legitimate users.
	Names []string
	// URL, when set, is where the attack goes instead of the BaseURL: a
	// second server on the same machine, for a control run that measures
	// what the attack's load on the machine alone costs the legitimate
	// clients (their server then sees none of it).
	URL string
	// BodyTimeout and HeaderTimeout are the server's limits; a slow body
	// or an idle connection held 5s beyond them is unexpected. Zero means
	// 30s and 10s, psgate serve's defaults.
	BodyTimeout, HeaderTimeout time.Duration
}

// DefaultAttack is the attacker of the long form.
func DefaultAttack() AttackConfig {
	return AttackConfig{SignIn: 32, Basic: 32, SlowBodies: 200, Conns: 2000, DeviceCode: 8, Addresses: 1000}
}

// Usage is a sample of the server's resources.
type Usage struct {
	// RSSKB is the resident set (or, in process, the Go runtime's Sys);
	// HWMKB the peak resident set so far (VmHWM), 0 when unknown.
	RSSKB, HWMKB int64
	// FDs is the number of open descriptors.
	FDs int64
}

// Op names a legitimate operation.
type Op int

// The legitimate operations.
const (
	OpWinRS Op = iota // Command → Receive → Signal on an open WinRS shell
	OpPSRP            // a pipeline on an open runspace pool
	OpToken           // refresh grant; every fifth a password grant
	numOps
)

func (o Op) String() string { return [...]string{"winrs", "psrp", "token"}[o] }

// OpReport summarises one operation in one phase.
type OpReport struct {
	Latency Percentiles
	// Refused counts designed refusals (identity.sign-in-busy,
	// identity.too-many-pending on a password grant); Unexpected every
	// other failure.
	Refused, Unexpected int64
}

// AttackReport counts one kind of attack.
type AttackReport struct {
	Sent int64
	// Refused counts the designed outcomes (a refusal, a cut connection),
	// Unexpected the rest (a success, a 5xx, a connection held too long),
	// ConnErrors the requests that never got an answer (dial or transport
	// errors, e.g. from the connection limit).
	Refused, Unexpected, ConnErrors int64
	// Issued counts the device codes issued (part of Refused: issuing
	// codes to anyone is the device flow's design).
	Issued int64
}

// PhaseReport is one phase's result.
type PhaseReport struct {
	Name     string
	Duration time.Duration
	Ops      [numOps]OpReport
	// All is the latency of every successful legitimate operation.
	All Percentiles
	// Requests counts the legitimate HTTP requests.
	Requests int64
	// Unexpected counts legitimate operations that failed unexpectedly
	// (SecurityReport.Errors samples the messages).
	Unexpected int64
	Attack     map[string]AttackReport
	// Peak is the most of each resource seen during the phase.
	Peak Usage
}

// SecurityReport is RunSecurity's result.
type SecurityReport struct {
	Clients int
	Setup   time.Duration
	// SetupErrors and TeardownErrors are unexpected failures opening and
	// closing the clients' sessions.
	SetupErrors, TeardownErrors int64
	Errors                      map[string]int
	Baseline, Attack            PhaseReport
}

// Ratio is the attack phase's p99 over the baseline's, all operations.
func (r *SecurityReport) Ratio() float64 {
	if r.Baseline.All.P99 <= 0 {
		return 0
	}
	return float64(r.Attack.All.P99) / float64(r.Baseline.All.P99)
}

// UnexpectedErrors is every unexpected failure: legitimate operations,
// setup, teardown and attack requests that were not refused as designed.
func (r *SecurityReport) UnexpectedErrors() int64 {
	n := r.SetupErrors + r.TeardownErrors + r.Baseline.Unexpected + r.Attack.Unexpected
	for _, p := range []PhaseReport{r.Baseline, r.Attack} {
		for _, a := range p.Attack {
			n += a.Unexpected
		}
	}
	return n
}

// Write prints the report as a table.
func (r *SecurityReport) Write(w io.Writer) {
	fmt.Fprintf(w, "clients %d, setup %v (setup errors %d, teardown errors %d)\n", r.Clients, r.Setup.Round(time.Millisecond), r.SetupErrors, r.TeardownErrors)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/1e6) }
	for _, p := range []PhaseReport{r.Baseline, r.Attack} {
		secs := p.Duration.Seconds()
		fmt.Fprintf(w, "\n== %s (%v)\n", p.Name, p.Duration.Round(time.Second))
		fmt.Fprintf(w, "%-8s %8s %9s %9s %9s %8s %10s\n", "op", "n", "p50", "p90", "p99", "refused", "unexpected")
		for o := range numOps {
			op := p.Ops[o]
			fmt.Fprintf(w, "%-8s %8d %9s %9s %9s %8d %10d\n", o, op.Latency.N, ms(op.Latency.P50), ms(op.Latency.P90), ms(op.Latency.P99), op.Refused, op.Unexpected)
		}
		fmt.Fprintf(w, "%-8s %8d %9s %9s %9s\n", "all", p.All.N, ms(p.All.P50), ms(p.All.P90), ms(p.All.P99))
		fmt.Fprintf(w, "legitimate: %.0f ops/s, %.0f requests/s, %d unexpected\n", float64(p.All.N)/secs, float64(p.Requests)/secs, p.Unexpected)
		if len(p.Attack) > 0 {
			var total int64
			names := make([]string, 0, len(p.Attack))
			for k := range p.Attack {
				names = append(names, k)
			}
			sort.Strings(names)
			fmt.Fprintf(w, "%-12s %9s %9s %10s %11s %7s\n", "attack", "sent", "designed", "unexpected", "conn-errors", "issued")
			for _, k := range names {
				a := p.Attack[k]
				total += a.Sent
				fmt.Fprintf(w, "%-12s %9d %9d %10d %11d %7d\n", k, a.Sent, a.Refused, a.Unexpected, a.ConnErrors, a.Issued)
			}
			fmt.Fprintf(w, "attacker: %.0f requests/s\n", float64(total)/secs)
		}
		hwm := "n/a"
		if p.Peak.HWMKB > 0 {
			hwm = fmt.Sprintf("%d MiB", p.Peak.HWMKB/1024)
		}
		fmt.Fprintf(w, "server peak: RSS %d MiB (VmHWM %s), %d descriptors\n", p.Peak.RSSKB/1024, hwm, p.Peak.FDs)
	}
	fmt.Fprintf(w, "\np99 under attack / p99 without: %.2f (target ≤ 3);", r.Ratio())
	for o := range numOps {
		if b := r.Baseline.Ops[o].Latency.P99; b > 0 {
			fmt.Fprintf(w, " %v %.2f", o, float64(r.Attack.Ops[o].Latency.P99)/float64(b))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "unexpected errors: %d (target 0)\n", r.UnexpectedErrors())
	for msg, n := range r.Errors {
		fmt.Fprintf(w, "  %d× %s\n", n, msg)
	}
}

// maxSamples bounds the latencies kept per operation and phase.
const maxSamples = 4 << 20

// phase collects one phase's measurements.
type phase struct {
	name     string
	mu       sync.Mutex
	lat      [numOps][]time.Duration
	refused  [numOps]atomic.Int64
	unexp    [numOps]atomic.Int64
	requests atomic.Int64
	attack   map[string]*attackCounter
	peak     Usage
}

type attackCounter struct{ sent, refused, unexpected, connErrors, issued atomic.Int64 }

func (p *phase) record(op Op, d time.Duration) {
	p.mu.Lock()
	if len(p.lat[op]) < maxSamples {
		p.lat[op] = append(p.lat[op], d)
	}
	p.mu.Unlock()
}

func (p *phase) counter(kind string) *attackCounter {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.attack == nil {
		p.attack = map[string]*attackCounter{}
	}
	c := p.attack[kind]
	if c == nil {
		c = &attackCounter{}
		p.attack[kind] = c
	}
	return c
}

func (p *phase) observe(u Usage) {
	p.mu.Lock()
	p.peak.RSSKB = max(p.peak.RSSKB, u.RSSKB)
	p.peak.HWMKB = max(p.peak.HWMKB, u.HWMKB)
	p.peak.FDs = max(p.peak.FDs, u.FDs)
	p.mu.Unlock()
}

func (p *phase) report(d time.Duration) PhaseReport {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := PhaseReport{Name: p.name, Duration: d, Requests: p.requests.Load(), Peak: p.peak}
	var all []time.Duration
	for o := range numOps {
		all = append(all, p.lat[o]...)
		if len(p.lat[o]) > 0 {
			r.Ops[o].Latency = Summarise(p.lat[o])
		}
		r.Ops[o].Refused, r.Ops[o].Unexpected = p.refused[o].Load(), p.unexp[o].Load()
		r.Unexpected += r.Ops[o].Unexpected
	}
	if len(all) > 0 {
		r.All = Summarise(all)
	}
	if p.attack != nil {
		r.Attack = map[string]AttackReport{}
		for k, c := range p.attack {
			r.Attack[k] = AttackReport{Sent: c.sent.Load(), Refused: c.refused.Load(), Unexpected: c.unexpected.Load(), ConnErrors: c.connErrors.Load(), Issued: c.issued.Load()}
		}
	}
	return r
}

// errorLog keeps up to maxErrorKinds distinct error messages with counts.
type errorLog struct {
	mu sync.Mutex
	m  map[string]int
}

const maxErrorKinds = 20

func (e *errorLog) add(what string, err error) {
	msg := what + ": " + err.Error()
	if len(msg) > 300 {
		msg = msg[:300]
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = map[string]int{}
	}
	if _, ok := e.m[msg]; ok || len(e.m) < maxErrorKinds {
		e.m[msg]++
	}
}

func (e *errorLog) snapshot() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int, len(e.m))
	for k, v := range e.m {
		out[k] = v
	}
	return out
}

// RunSecurity opens a session pair (WinRS shell, PSRP pool) and a token
// for every account, runs the baseline phase, then the same phase with the
// attacker, then closes every session. It returns an error only when it
// cannot run at all; failures are counted in the report.
func RunSecurity(ctx context.Context, cfg SecurityConfig) (*SecurityReport, error) {
	if len(cfg.Accounts) == 0 || cfg.Duration <= 0 || cfg.BaseURL == "" {
		return nil, errors.New("loadgen: security run needs accounts, a duration and a base URL")
	}
	if cfg.Think <= 0 {
		cfg.Think = time.Second
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	a := cfg.Attack
	if a.BodyTimeout <= 0 {
		a.BodyTimeout = 30 * time.Second
	}
	if a.HeaderTimeout <= 0 {
		a.HeaderTimeout = 10 * time.Second
	}
	a.Addresses = max(a.Addresses, 1)
	cfg.Attack = a

	var errs errorLog
	rep := &SecurityReport{Clients: len(cfg.Accounts)}
	setup := &phase{name: "setup"}
	clients := make([]*legit, len(cfg.Accounts))
	start := time.Now()
	cfg.Logf("setup: signing in %d clients and opening their shells", len(clients))
	var setupErrs atomic.Int64
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, acct := range cfg.Accounts {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c := newLegit(i, acct, cfg, setup)
			if err := c.open(ctx); err != nil {
				setupErrs.Add(1)
				errs.add("setup", err)
				c.close(ctx)
				return
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	rep.Setup, rep.SetupErrors = time.Since(start), setupErrs.Load()
	live := clients[:0]
	for _, c := range clients {
		if c != nil {
			live = append(live, c)
		}
	}
	cfg.Logf("setup: %d clients ready in %v", len(live), rep.Setup.Round(time.Millisecond))

	runPhase := func(name string, attack bool) PhaseReport {
		p := &phase{name: name}
		pctx, cancel := context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
		stopSampler := sampler(pctx, cfg.Sample, p)
		var wg sync.WaitGroup
		if attack {
			wg.Add(1)
			go func() { defer wg.Done(); runAttack(pctx, cfg, p, &errs) }()
		}
		began := time.Now()
		for _, c := range live {
			wg.Add(1)
			go func() { defer wg.Done(); c.loop(pctx, p, cfg.Think, &errs) }()
		}
		wg.Wait()
		stopSampler()
		cfg.Logf("%s: done", name)
		return p.report(time.Since(began))
	}
	cfg.Logf("baseline: %d clients for %v", len(live), cfg.Duration)
	rep.Baseline = runPhase("baseline (no attacker)", false)
	cfg.Logf("attack: %d clients with the attacker for %v", len(live), cfg.Duration)
	rep.Attack = runPhase("under attack", true)

	var tdErrs atomic.Int64
	for _, c := range live {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := c.close(context.WithoutCancel(ctx)); err != nil {
				tdErrs.Add(1)
				errs.add("teardown", err)
			}
		}()
	}
	wg.Wait()
	rep.TeardownErrors = tdErrs.Load()
	rep.Errors = errs.snapshot()
	return rep, nil
}

// sampler samples the server every half second into p until stopped.
func sampler(ctx context.Context, sample func() Usage, p *phase) (stop func()) {
	if sample == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			p.observe(sample())
			select {
			case <-ctx.Done():
				return
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); wg.Wait(); p.observe(sample()) }
}

// addr returns the loopback source address number n of block (1:
// legitimate clients, 2: the attacker), or nil when shared.
func addr(shared bool, block, n int) net.IP {
	if shared {
		return nil
	}
	return net.IPv4(127, byte(block), byte(n/250%250), byte(n%250+1))
}

// dialer dials from a source address chosen by pick (nil: any).
func dialer(pick func() net.IP) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		d := net.Dialer{Timeout: 10 * time.Second}
		if ip := pick(); ip != nil {
			d.LocalAddr = &net.TCPAddr{IP: ip}
		}
		return d.DialContext(ctx, network, address)
	}
}

// counting counts the requests sent through it into the current phase.
type counting struct {
	rt  http.RoundTripper
	cur *atomic.Pointer[phase]
}

func (c counting) RoundTrip(r *http.Request) (*http.Response, error) {
	if p := c.cur.Load(); p != nil {
		p.requests.Add(1)
	}
	return c.rt.RoundTrip(r)
}

// jitter returns a pause uniform in [d/2, 3d/2].
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d+1)
}

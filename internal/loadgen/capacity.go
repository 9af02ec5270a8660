package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// CapacityConfig configures RunCapacity: psgate against the echo floor,
// the same clients at the same concurrency, alternating.
type CapacityConfig struct {
	// BaseURL is the gateway's plain-HTTP root, e.g. http://127.0.0.1:15987.
	BaseURL string
	// EchoURL is the echo floor's root (a server running EchoHandler).
	EchoURL string
	// Accounts are the users, one per client: at least the largest of
	// Clients (see Provision).
	Accounts []Account
	// Clients are the concurrency levels, e.g. 1, 10, 100.
	Clients []int
	// Ops are the protocols measured: OpWinRS (Command → Receive → Signal
	// on an open shell) and OpPSRP (a pipeline on an open runspace pool).
	Ops []Op
	// Duration is the length of one measured run.
	Duration time.Duration
	// Rounds is how many times psgate and then the floor are measured at
	// each level; 0 means 3. The report gives medians.
	Rounds int
	// Warmup is how long every client runs commands (psgate) or replays
	// them (floor) before the first measured run; 0 means 1s.
	Warmup time.Duration
	// SharedAddress sends every client from the default loopback address
	// instead of its own 127.1.x.y.
	SharedAddress bool
	// GateCPU and FloorCPU, when set, read the CPU time the gateway's and
	// the echo floor's processes have used (ProcCPU): each run then
	// reports its server's CPU per request, and the report how many
	// requests a core serves on each side.
	GateCPU, FloorCPU func() (time.Duration, bool)
	// ClientCPU, when set, reads the CPU time of the clients' process
	// (this one, when it runs only the load generator): each run then
	// reports what its clients cost per request too, which on a machine
	// they share with the server is taken from the server's share.
	ClientCPU func() (time.Duration, bool)
	// OnGateRun, when set, is called as each of psgate's measured runs
	// begins, with its protocol, clients and round (from 0), and the
	// function it returns as the run ends (bench/capacity -server-profile
	// profiles the server over each run with it).
	OnGateRun func(op Op, clients, round int) (end func())
	// Logf reports progress; nil is silent.
	Logf func(format string, args ...any)
}

// RunStats is one measured run of n clients.
type RunStats struct {
	// Commands counts the commands that succeeded; Errors those that did
	// not.
	Commands int
	Errors   int64
	// Requests counts the HTTP requests sent.
	Requests int64
	// Elapsed runs from the start until the last command begun before the
	// end of the run finished.
	Elapsed time.Duration
	// Command is the latency of a whole command, Request of each HTTP
	// request (sending to the end of the response body).
	Command, Request Percentiles
	// ServerCPU is the CPU time the server process used during the run;
	// 0 when it was not measured.
	ServerCPU time.Duration
	// ClientCPU is the CPU time the clients' process used during the run;
	// 0 when it was not measured.
	ClientCPU time.Duration
}

// CPUPerRequest is the server's CPU time per request; 0 when unmeasured.
func (s RunStats) CPUPerRequest() time.Duration { return s.perRequest(s.ServerCPU) }

// ClientCPUPerRequest is the clients' CPU time per request; 0 when
// unmeasured.
func (s RunStats) ClientCPUPerRequest() time.Duration { return s.perRequest(s.ClientCPU) }

func (s RunStats) perRequest(d time.Duration) time.Duration {
	if s.Requests == 0 {
		return 0
	}
	return d / time.Duration(s.Requests)
}

// RequestRate is requests per second.
func (s RunStats) RequestRate() float64 { return float64(s.Requests) / s.Elapsed.Seconds() }

// CommandRate is commands per second.
func (s RunStats) CommandRate() float64 { return float64(s.Commands) / s.Elapsed.Seconds() }

// Summary is the median over the rounds of each measure of a RunStats.
type Summary struct {
	RequestRate, CommandRate float64
	CommandP50, CommandP99   time.Duration
	RequestP50, RequestP99   time.Duration
	// CPUPerRequest is the server's CPU time per request, 0 when
	// unmeasured.
	CPUPerRequest time.Duration
	// ClientCPUPerRequest is the clients' CPU time per request, 0 when
	// unmeasured.
	ClientCPUPerRequest time.Duration
	Errors              int64
}

func summarise(runs []RunStats) Summary {
	med := func(f func(RunStats) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		slices.Sort(v)
		if len(v) == 0 {
			return 0
		}
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	d := func(f func(RunStats) time.Duration) time.Duration {
		return time.Duration(med(func(r RunStats) float64 { return float64(f(r)) }))
	}
	s := Summary{
		RequestRate: med(RunStats.RequestRate),
		CommandRate: med(RunStats.CommandRate),
		CommandP50:  d(func(r RunStats) time.Duration { return r.Command.P50 }),
		CommandP99:  d(func(r RunStats) time.Duration { return r.Command.P99 }),
		RequestP50:  d(func(r RunStats) time.Duration { return r.Request.P50 }),
		RequestP99:  d(func(r RunStats) time.Duration { return r.Request.P99 }),

		CPUPerRequest:       d(RunStats.CPUPerRequest),
		ClientCPUPerRequest: d(RunStats.ClientCPUPerRequest),
	}
	for _, r := range runs {
		s.Errors += r.Errors
	}
	return s
}

// CapacityRow is one protocol at one concurrency level.
type CapacityRow struct {
	Op      Op
	Clients int
	// Sequence is the number of HTTP requests of the recorded command the
	// floor replays, SequenceBytes their body bytes.
	Sequence, SequenceBytes int
	// Gate and Floor are the measured runs, in the order they ran
	// (alternating: Gate[0], Floor[0], Gate[1], …).
	Gate, Floor []RunStats
	// SetupErrors counts failures opening, warming up and closing the
	// sessions.
	SetupErrors int64
}

// RequestRatio is psgate's median requests per second over the floor's.
func (r CapacityRow) RequestRatio() float64 {
	return ratio(summarise(r.Gate).RequestRate, summarise(r.Floor).RequestRate)
}

// P99Ratio is psgate's median command p99 over the floor's median request
// p99 (the comparison).
func (r CapacityRow) P99Ratio() float64 {
	return ratio(float64(summarise(r.Gate).CommandP99), float64(summarise(r.Floor).RequestP99))
}

// CoreRatio is the requests a core of the gateway serves over those a
// core of the echo floor serves (the floor's median server CPU per request
// over psgate's): the comparison without the clients, which share the
// cores. 0 when either side was not measured.
func (r CapacityRow) CoreRatio() float64 {
	g, f := summarise(r.Gate).CPUPerRequest, summarise(r.Floor).CPUPerRequest
	if g == 0 || f == 0 {
		return 0
	}
	return ratio(float64(f), float64(g))
}

// CommandP99Ratio is psgate's median command p99 over the floor's median
// command (replayed sequence) p99.
func (r CapacityRow) CommandP99Ratio() float64 {
	return ratio(float64(summarise(r.Gate).CommandP99), float64(summarise(r.Floor).CommandP99))
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// CapacityReport is RunCapacity's result.
type CapacityReport struct {
	Duration time.Duration
	Rounds   int
	Rows     []CapacityRow
	// Errors samples the failures' messages.
	Errors map[string]int
}

// UnexpectedErrors counts every failure: commands, replays, setup.
func (r *CapacityReport) UnexpectedErrors() int64 {
	var n int64
	for _, row := range r.Rows {
		n += row.SetupErrors
		for _, s := range append(slices.Clone(row.Gate), row.Floor...) {
			n += s.Errors
		}
	}
	return n
}

// RunCapacity signs every account in once, then for each protocol and
// concurrency level n: opens n sessions (one per client), warms them up,
// records the HTTP requests of one command, and measures psgate and the
// floor (the recorded requests replayed by n clients of the same shape)
// in alternation, Rounds times each; then closes the sessions. It returns
// an error only when it cannot go on; failures are counted in the report.
func RunCapacity(ctx context.Context, cfg CapacityConfig) (*CapacityReport, error) {
	if cfg.BaseURL == "" || cfg.EchoURL == "" || cfg.Duration <= 0 || len(cfg.Clients) == 0 || len(cfg.Ops) == 0 {
		return nil, errors.New("loadgen: capacity run needs a base URL, an echo URL, a duration, client counts and protocols")
	}
	maxN := slices.Max(cfg.Clients)
	if len(cfg.Accounts) < maxN {
		return nil, fmt.Errorf("loadgen: %d clients need as many accounts, have %d", maxN, len(cfg.Accounts))
	}
	if cfg.Rounds <= 0 {
		cfg.Rounds = 3
	}
	if cfg.Warmup <= 0 {
		cfg.Warmup = time.Second
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	rep := &CapacityReport{Duration: cfg.Duration, Rounds: cfg.Rounds}
	cfg.Logf("signing in %d users", maxN)
	tokens, err := signInAll(ctx, cfg.BaseURL, cfg.Accounts[:maxN], cfg.SharedAddress)
	if err != nil {
		return rep, err
	}
	var errs errorLog
	defer func() { rep.Errors = errs.snapshot() }()
	for _, op := range cfg.Ops {
		for _, n := range cfg.Clients {
			row, err := runLevel(ctx, cfg, op, n, tokens, &errs)
			rep.Rows = append(rep.Rows, row)
			if err != nil {
				return rep, err
			}
		}
	}
	return rep, nil
}

// runLevel measures op at n clients.
//
// The goroutines of psgate's clients, and those their HTTP transports
// start, carry the profiler labels side=psgate and protocol=op; the
// floor's side=floor: `go tool pprof -tagfocus side=psgate` shows what a
// psgate client costs (bench/capacity -cpuprofile).
func runLevel(ctx context.Context, cfg CapacityConfig, op Op, n int, tokens []string, errs *errorLog) (row CapacityRow, err error) {
	row = CapacityRow{Op: op, Clients: n}
	// Goroutines inherit the labels of the goroutine that starts them.
	side := func(name string) {
		pprof.SetGoroutineLabels(pprof.WithLabels(ctx, pprof.Labels("side", name, "protocol", op.String())))
	}
	defer pprof.SetGoroutineLabels(ctx)
	side("psgate")
	gate := make([]*capClient, n)
	for i := range n {
		gate[i] = newCapClient(i, cfg.Accounts[i], cfg.BaseURL, cfg.SharedAddress)
		gate[i].token = tokens[i]
	}
	defer func() {
		cerr := each(context.WithoutCancel(ctx), n, func(ctx context.Context, i int) error { return gate[i].close(ctx) })
		if cerr != nil {
			row.SetupErrors++
			errs.add("close", cerr)
		}
	}()
	cfg.Logf("%v, %d clients: opening", op, n)
	if err := each(ctx, n, func(ctx context.Context, i int) error { return gate[i].open(ctx, op) }); err != nil {
		row.SetupErrors++
		errs.add("open", err)
		return row, err
	}
	gateMeters := make([]*meter, n)
	for i, c := range gate {
		gateMeters[i] = c.m
	}
	gateCmd := func(ctx context.Context, i int) error { return gate[i].command(ctx, op) }
	warm := measure(ctx, cfg.Warmup, gateMeters, gateCmd, cpuMeter{}, errs, "warm-up "+op.String())
	row.SetupErrors += warm.Errors

	// The floor replays the requests of one command of client 0.
	gate[0].m.record()
	err = gate[0].command(ctx, op)
	seq := gate[0].m.stopRecording()
	if err != nil {
		row.SetupErrors++
		errs.add("record "+op.String(), err)
		return row, fmt.Errorf("loadgen: record a %v command: %w", op, err)
	}
	row.Sequence = len(seq)
	for _, r := range seq {
		row.SequenceBytes += len(r.body)
	}
	side("floor")
	floor := make([]*floorClient, n)
	floorMeters := make([]*meter, n)
	for i := range n {
		hc, m := newMeteredClient(addr(cfg.SharedAddress, 1, i))
		floor[i], floorMeters[i] = &floorClient{base: cfg.EchoURL, hc: hc, m: m}, m
	}
	defer func() {
		for _, f := range floor {
			f.hc.CloseIdleConnections()
		}
	}()
	floorCmd := func(ctx context.Context, i int) error { return floor[i].replay(ctx, seq) }
	warm = measure(ctx, cfg.Warmup, floorMeters, floorCmd, cpuMeter{}, errs, "warm-up floor "+op.String())
	row.SetupErrors += warm.Errors

	for r := range cfg.Rounds {
		if ctx.Err() != nil {
			return row, ctx.Err()
		}
		side("psgate")
		end := func() {}
		if cfg.OnGateRun != nil {
			end = cfg.OnGateRun(op, n, r)
		}
		g := measure(ctx, cfg.Duration, gateMeters, gateCmd, cpuMeter{cfg.GateCPU, cfg.ClientCPU}, errs, "psgate "+op.String())
		end()
		row.Gate = append(row.Gate, g)
		side("floor")
		f := measure(ctx, cfg.Duration, floorMeters, floorCmd, cpuMeter{cfg.FloorCPU, cfg.ClientCPU}, errs, "floor "+op.String())
		row.Floor = append(row.Floor, f)
		cfg.Logf("%v, %d clients, round %d: psgate %.0f req/s, %.0f cmd/s, p99 %s, %s CPU/req (%d errors); floor %.0f req/s, request p99 %s, command p99 %s, %s CPU/req (%d errors)",
			op, n, r+1, g.RequestRate(), g.CommandRate(), ms(g.Command.P99), us(g.CPUPerRequest()), g.Errors,
			f.RequestRate(), ms(f.Request.P99), ms(f.Command.P99), us(f.CPUPerRequest()), f.Errors)
	}
	return row, nil
}

// cpuMeter reads the CPU time of the server's process and of the
// clients'; either may be nil (not measured).
type cpuMeter struct{ server, client func() (time.Duration, bool) }

// cpuSpent returns a function reporting the CPU time read has counted
// since now; 0 when read is nil or fails either time.
func cpuSpent(read func() (time.Duration, bool)) func() time.Duration {
	if read == nil {
		return func() time.Duration { return 0 }
	}
	t0, ok0 := read()
	return func() time.Duration {
		if t1, ok1 := read(); ok0 && ok1 {
			return t1 - t0
		}
		return 0
	}
}

// measure runs cmd on len(meters) workers, each in a loop, for d, and
// returns what they did. Commands begun before d ends finish. cpu reads
// the CPU time of the server and of the clients, where it can.
func measure(ctx context.Context, d time.Duration, meters []*meter, cmd func(ctx context.Context, i int) error,
	cpu cpuMeter, errs *errorLog, what string) RunStats {
	serverCPU, clientCPU := cpuSpent(cpu.server), cpuSpent(cpu.client)
	var before int64
	for _, m := range meters {
		before += m.requests.Load()
		m.takeLatencies()
	}
	lat := make([][]time.Duration, len(meters))
	var nerr atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range meters {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
				t := time.Now()
				err := cmd(octx, i)
				took := time.Since(t)
				cancel()
				if err != nil {
					nerr.Add(1)
					errs.add(what, err)
					pause(ctx, 10*time.Millisecond) // no busy loop on a failing server
					continue
				}
				lat[i] = append(lat[i], took)
			}
		})
	}
	wg.Wait()
	s := RunStats{Elapsed: time.Since(start), Errors: nerr.Load(), ServerCPU: serverCPU(), ClientCPU: clientCPU()}
	var cmds, reqs []time.Duration
	for i, m := range meters {
		s.Requests += m.requests.Load()
		cmds = append(cmds, lat[i]...)
		reqs = append(reqs, m.takeLatencies()...)
	}
	s.Requests -= before
	s.Commands = len(cmds)
	s.Command, s.Request = percentiles(cmds), percentiles(reqs)
	return s
}

// percentiles is Summarise, zero for no samples.
func percentiles(lat []time.Duration) Percentiles {
	if len(lat) == 0 {
		return Percentiles{}
	}
	return Summarise(lat)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/1e6) }

// us formats a CPU time per request; "—" when unmeasured.
func us(d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0fµs", float64(d)/1e3)
}

// Write prints every row (medians over the rounds), the ratios against the
// issue's targets, and a Markdown table of the results.
func (r *CapacityReport) Write(w io.Writer) {
	fmt.Fprintf(w, "%v per run, %d rounds, psgate and the echo floor alternating; medians over the rounds\n", r.Duration, r.Rounds)
	for _, row := range r.Rows {
		g, f := summarise(row.Gate), summarise(row.Floor)
		fmt.Fprintf(w, "\n== %v, %d clients (a command is %d requests, %d body bytes)\n", row.Op, row.Clients, row.Sequence, row.SequenceBytes)
		fmt.Fprintf(w, "%-11s %9s %9s %10s %10s %10s %10s %7s\n", "", "req/s", "cmd/s", "cmd p50", "cmd p99", "req p50", "req p99", "errors")
		for _, x := range []struct {
			name string
			s    Summary
		}{{"psgate", g}, {"echo floor", f}} {
			fmt.Fprintf(w, "%-11s %9.0f %9.0f %10s %10s %10s %10s %7d\n", x.name, x.s.RequestRate, x.s.CommandRate,
				ms(x.s.CommandP50), ms(x.s.CommandP99), ms(x.s.RequestP50), ms(x.s.RequestP99), x.s.Errors)
		}
		fmt.Fprintf(w, "psgate req/s ÷ floor req/s: %.2f", row.RequestRatio())
		if row.Clients >= 10 {
			fmt.Fprintf(w, " (target ≥ 0.50: %s)", verdict(row.RequestRatio() >= 0.5))
		}
		fmt.Fprintf(w, "\npsgate cmd p99 ÷ floor request p99: %.2f", row.P99Ratio())
		if row.Clients >= 100 {
			fmt.Fprintf(w, " (target ≤ 3: %s)", verdict(row.P99Ratio() <= 3))
		}
		fmt.Fprintf(w, "; ÷ floor command p99: %.2f\n", row.CommandP99Ratio())
		if cr := row.CoreRatio(); cr > 0 {
			fmt.Fprintf(w, "server CPU per request: psgate %s, floor %s; requests per core ÷ floor's: %.2f\n",
				us(g.CPUPerRequest), us(f.CPUPerRequest), cr)
		}
		if g.ClientCPUPerRequest > 0 && f.ClientCPUPerRequest > 0 {
			fmt.Fprintf(w, "client CPU per request (the load generator, on the same cores): psgate's clients %s, the floor's %s\n",
				us(g.ClientCPUPerRequest), us(f.ClientCPUPerRequest))
		}
		if row.SetupErrors > 0 {
			fmt.Fprintf(w, "setup errors: %d\n", row.SetupErrors)
		}
	}
	fmt.Fprintf(w, "\n| protocol | clients | psgate req/s | psgate cmd/s | psgate p50 | psgate p99 | floor req/s | floor req p99 | floor cmd p99 | req/s ratio | p99 ÷ floor req p99 | p99 ÷ floor cmd p99 | server CPU/req psgate | floor | req/core ratio | client CPU/req psgate | floor |\n")
	fmt.Fprintf(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, row := range r.Rows {
		g, f := summarise(row.Gate), summarise(row.Floor)
		core := "—"
		if cr := row.CoreRatio(); cr > 0 {
			core = fmt.Sprintf("%.2f", cr)
		}
		fmt.Fprintf(w, "| %v | %d | %.0f | %.0f | %s | %s | %.0f | %s | %s | %.2f | %.1f | %.1f | %s | %s | %s | %s | %s |\n", row.Op, row.Clients,
			g.RequestRate, g.CommandRate, ms(g.CommandP50), ms(g.CommandP99), f.RequestRate, ms(f.RequestP99), ms(f.CommandP99),
			row.RequestRatio(), row.P99Ratio(), row.CommandP99Ratio(), us(g.CPUPerRequest), us(f.CPUPerRequest), core,
			us(g.ClientCPUPerRequest), us(f.ClientCPUPerRequest))
	}
	fmt.Fprintf(w, "\nerrors: %d (target 0)\n", r.UnexpectedErrors())
	for msg, n := range r.Errors {
		fmt.Fprintf(w, "  %d× %s\n", n, msg)
	}
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

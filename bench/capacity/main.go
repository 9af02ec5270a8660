// Command capacity measures what one psgate node sustains, against a
// floor: a plain net/http server in its own process that echoes each
// request body back.
//
// The table (the default) runs, for WinRS commands on open shells
// (Command → Receive → Signal) and PSRP commands on open runspace pools
// (the client package), at each of -clients concurrent clients: psgate
// for -duration, then the floor for -duration, -rounds times in
// alternation. The floor's clients have the same shape as psgate's (one
// HTTP transport and source address each, the same settings) and replay
// the exact requests of one psgate command, recorded during the warm-up.
// It prints the medians of requests/s, commands/s, command and request
// p50/p99 of both, and the ratios the capacity targets are stated in.
//
// -soak holds -shells open (half WinRS shells, half PSRP pools, one user
// holding one of each) and runs one command per shell and -interval for
// -duration (10m by default); it prints p50/p90/p99/max, errors,
// commands/s and the server's RSS (-pid).
//
// -idle N opens N idle shells of -idle-protocol over -idle-users users
// (whose tenants' limits it raises) and prints the server's RSS per shell
// (-pid).
//
// It starts no gateway: it drives a running `psgate serve` on a loopback
// plain-HTTP listener and creates its users in that server's store (-data
// for SQLite, -store for PostgreSQL), checking afterwards that no lease
// is left. It exits non-zero on any error or left lease.
// bench/capacity.sh starts a throw-away server and runs it.
//
// Usage: capacity -url http://127.0.0.1:15987 -data DIR [-pid PID] [-clients 1,10,100] [-duration 8s] [-rounds 3]
//
//	capacity -soak [-shells 1000] [-interval 1s] [-duration 10m] …
//	capacity -idle 100000 [-idle-protocol psrp] -pid PID …
//	capacity -server-profile DIR [-admin http://127.0.0.1:9985] …   # the server's CPU profiles too
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/psgate/psgate/internal/loadgen"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/postgres"
	"github.com/psgate/psgate/store/sqlite"
)

type options struct {
	base, data, dsn, echo string
	pid                   int
	password              string
	perTenant             int
	clients               []int
	ops                   []loadgen.Op
	duration, warmup      time.Duration
	rounds                int
	shared                bool

	soak     bool
	shells   int
	interval time.Duration

	idle, idleUsers, workers int
	cpuProfile               string
	serverProfile, admin     string
	idleOp                   loadgen.Op
}

func main() {
	var (
		o         options
		clients   = flag.String("clients", "1,10,100", "concurrent clients of the table, comma-separated (one user each)")
		protocols = flag.String("protocols", "winrs,psrp", "protocols of the table: winrs, psrp or both")
		idleProto = flag.String("idle-protocol", "psrp", "kind of idle shell: winrs or psrp")
		serveEcho = flag.String("serve-echo", "", "run only the echo floor on this address (what the tool starts itself as a separate process) until standard input closes")
	)
	flag.StringVar(&o.base, "url", "http://127.0.0.1:15987", "the gateway's plain-HTTP root; loopback only")
	flag.StringVar(&o.data, "data", "", "the server's data directory (SQLite store): the users are created there, and leases checked afterwards")
	flag.StringVar(&o.dsn, "store", "", "the server's PostgreSQL store (postgres://…), instead of -data")
	flag.StringVar(&o.echo, "echo", "", "root of a running echo floor; default: start one (this program with -serve-echo)")
	flag.IntVar(&o.pid, "pid", 0, "the server's process id, for its RSS")
	flag.StringVar(&o.password, "password", "Load-Pa55word!", "the users' password")
	flag.IntVar(&o.perTenant, "per-tenant", 50, "users per tenant")
	flag.DurationVar(&o.duration, "duration", 8*time.Second, "length of one measured run of the table; of the whole soak (default 10m with -soak)")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "warm-up at each level, psgate and floor each")
	flag.IntVar(&o.rounds, "rounds", 3, "psgate/floor alternations per level; the table shows medians")
	flag.BoolVar(&o.shared, "shared-address", false, "send every client from 127.0.0.1 instead of its own 127.1.x.y")
	flag.BoolVar(&o.soak, "soak", false, "run the soak instead of the table")
	flag.IntVar(&o.shells, "shells", 1000, "soak: open shells, half WinRS shells and half PSRP pools")
	flag.DurationVar(&o.interval, "interval", time.Second, "soak: time between two commands of one shell")
	flag.IntVar(&o.idle, "idle", 0, "open this many idle shells and report the server's RSS per shell, instead of the table")
	flag.IntVar(&o.idleUsers, "idle-users", 100, "idle: users the shells are spread over")
	flag.IntVar(&o.workers, "workers", 8, "idle: concurrent opens, each on its own connection")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write this program's own CPU profile (the load generator's, not the server's) to this file")
	flag.StringVar(&o.serverProfile, "server-profile", "", "table: write a CPU profile of the server over each of psgate's measured runs into this directory (server-PROTOCOL-CLIENTS-rROUND.pprof), through -admin")
	flag.StringVar(&o.admin, "admin", "http://127.0.0.1:9985", "the server's admin listener (its /debug/pprof/), for -server-profile")
	flag.Parse()
	if *serveEcho != "" {
		if err := serveEchoFloor(*serveEcho); err != nil {
			fmt.Fprintln(os.Stderr, "capacity:", err)
			os.Exit(1)
		}
		return
	}
	if o.soak && !flagSet("duration") {
		o.duration = 10 * time.Minute
	}
	var err error
	if o.clients, err = parseInts(*clients); err == nil {
		if o.ops, err = parseOps(*protocols); err == nil {
			var ops []loadgen.Op
			ops, err = parseOps(*idleProto)
			if err == nil && len(ops) != 1 {
				err = fmt.Errorf("-idle-protocol %s: want winrs or psrp", *idleProto)
			} else if err == nil {
				o.idleOp = ops[0]
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "capacity:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "capacity: -cpuprofile:", err)
			os.Exit(2)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "capacity:", err)
		pprof.StopCPUProfile() // os.Exit skips the deferred calls; a failed run's profile is kept too
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if err := loadgen.RequireLoopback(o.base); err != nil {
		return err
	}
	o.base = strings.TrimSuffix(o.base, "/")
	st, err := openStore(ctx, o)
	if err != nil {
		return err
	}
	defer st.Close()
	logf := func(f string, args ...any) {
		fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+f+"\n", args...)
	}
	var sample func() loadgen.Usage
	if o.pid > 0 {
		sample = func() loadgen.Usage { return loadgen.ProcUsage(o.pid) }
	}
	fmt.Printf("psgate %s (pid %d), GOMAXPROCS %d on the client\n", o.base, o.pid, runtime.GOMAXPROCS(0))

	var failed error
	switch {
	case o.idle > 0:
		failed = runIdle(ctx, o, st, sample, logf)
	case o.soak:
		failed = runSoak(ctx, o, st, sample, logf)
	default:
		failed = runTable(ctx, o, st, logf)
	}
	leases, err := leftLeases(ctx, st)
	if err != nil {
		return errors.Join(failed, err)
	}
	fmt.Printf("leases (quota slots) held after the run: %d (target 0)\n", leases)
	if leases > 0 {
		failed = errors.Join(failed, fmt.Errorf("%d leases left", leases))
	}
	return failed
}

func runTable(ctx context.Context, o options, st store.Store, logf func(string, ...any)) error {
	users := 0
	for _, n := range o.clients {
		users = max(users, n)
	}
	accounts, err := provision(ctx, st, o, "cap", users, logf)
	if err != nil {
		return err
	}
	echo, echoPID := o.echo, 0
	if echo == "" {
		var stopEcho func() error
		if echo, echoPID, stopEcho, err = startEchoFloor(); err != nil {
			return err
		}
		defer stopEcho()
	}
	fmt.Printf("echo floor %s\n", echo)
	cfg := loadgen.CapacityConfig{
		BaseURL: o.base, EchoURL: strings.TrimSuffix(echo, "/"), Accounts: accounts,
		Clients: o.clients, Ops: o.ops, Duration: o.duration, Rounds: o.rounds, Warmup: o.warmup,
		SharedAddress: o.shared, Logf: logf,
	}
	// CPU per request needs both servers' processes: the gateway's
	// (-pid) and the floor this program started.
	if o.pid > 0 && echoPID > 0 {
		cfg.GateCPU = func() (time.Duration, bool) { return loadgen.ProcCPU(o.pid) }
		cfg.FloorCPU = func() (time.Duration, bool) { return loadgen.ProcCPU(echoPID) }
	}
	// This process runs only the clients (the floor is its own process).
	self := os.Getpid()
	cfg.ClientCPU = func() (time.Duration, bool) { return loadgen.ProcCPU(self) }
	var profiler *serverProfiler
	if o.serverProfile != "" {
		if profiler, err = newServerProfiler(strings.TrimSuffix(o.admin, "/"), o.serverProfile, o.duration); err != nil {
			return err
		}
		cfg.OnGateRun = profiler.onGateRun(ctx)
	}
	rep, err := loadgen.RunCapacity(ctx, cfg)
	if rep != nil {
		rep.Write(os.Stdout)
	}
	if err != nil {
		return err
	}
	if profiler != nil {
		if err := profiler.err(); err != nil {
			return err
		}
		fmt.Printf("server CPU profiles of psgate's runs: %s\n", o.serverProfile)
	}
	if n := rep.UnexpectedErrors(); n > 0 {
		return fmt.Errorf("%d errors", n)
	}
	return nil
}

func runSoak(ctx context.Context, o options, st store.Store, sample func() loadgen.Usage, logf func(string, ...any)) error {
	accounts, err := provision(ctx, st, o, "cap", (o.shells+1)/2, logf)
	if err != nil {
		return err
	}
	rep, err := loadgen.RunSoak(ctx, loadgen.SoakConfig{
		BaseURL: o.base, Accounts: accounts, Shells: o.shells, Interval: o.interval, Duration: o.duration,
		SharedAddress: o.shared, Sample: sample, Logf: logf,
	})
	if rep != nil {
		rep.Write(os.Stdout)
	}
	if err != nil {
		return err
	}
	if n := rep.UnexpectedErrors(); n > 0 {
		return fmt.Errorf("%d errors", n)
	}
	return nil
}

// runIdle provisions -idle-users users, raises their tenants' limits to
// hold the shells (and keeps them from idling out), and runs
// loadgen.RunIdle.
func runIdle(ctx context.Context, o options, st store.Store, sample func() loadgen.Usage, logf func(string, ...any)) error {
	if sample == nil {
		return errors.New("-idle needs -pid, the server's process id, to read its memory")
	}
	accounts, err := provision(ctx, st, o, "idle", o.idleUsers, logf)
	if err != nil {
		return err
	}
	perUser := (o.idle+len(accounts)-1)/len(accounts) + 1
	pol := loadgen.Policy(o.perTenant)
	pol.MaxShellsPerUser = perUser
	pol.MaxShellsPerTenant = perUser*o.perTenant + 10
	pol.IdleTimeout = 2 * time.Hour
	pol.SessionLifetime = 2 * time.Hour
	seen := map[string]bool{}
	for _, a := range accounts {
		_, domain, _ := strings.Cut(a.UPN, "@")
		if seen[domain] {
			continue
		}
		seen[domain] = true
		tn, err := st.TenantByName(ctx, domain)
		if err == nil {
			err = st.UpdatePolicy(ctx, tn.ID, pol)
		}
		if err != nil {
			return fmt.Errorf("raise the limits of %s: %w", domain, err)
		}
	}
	logf("tenants of %d users: %d shells per user, %d per tenant, idle timeout %v", o.perTenant, pol.MaxShellsPerUser, pol.MaxShellsPerTenant, pol.IdleTimeout)
	rep, err := loadgen.RunIdle(ctx, loadgen.IdleConfig{
		BaseURL: o.base, Accounts: accounts, Shells: o.idle, Op: o.idleOp, Workers: o.workers,
		Sample: sample, SharedAddress: o.shared, Logf: logf,
	})
	if rep != nil {
		rep.Write(os.Stdout)
	}
	if err != nil {
		return err
	}
	if rep.CloseErrors > 0 {
		return fmt.Errorf("%d shells did not close", rep.CloseErrors)
	}
	return nil
}

// provision creates users users in tenants prefix00, prefix01, … (see
// loadgen.Provision).
func provision(ctx context.Context, st store.Store, o options, prefix string, users int, logf func(string, ...any)) ([]loadgen.Account, error) {
	logf("provisioning %d users in tenants %s00… of %d", users, prefix, o.perTenant)
	return loadgen.Provision(ctx, st, loadgen.Population{Users: users, PerTenant: o.perTenant, Prefix: prefix, Password: o.password})
}

// openStore opens the running server's store.
func openStore(ctx context.Context, o options) (store.Store, error) {
	switch {
	case o.dsn != "" && o.data != "":
		return nil, errors.New("give -data (SQLite) or -store (PostgreSQL), not both")
	case o.dsn != "":
		st, err := postgres.Open(ctx, o.dsn, postgres.Options{MaxConns: 4})
		if err != nil {
			return nil, fmt.Errorf("open the server's PostgreSQL store: %w", err)
		}
		return st, nil
	case o.data != "":
		st, err := sqlite.Open(ctx, filepath.Join(o.data, "psgate.db"), sqlite.Options{})
		if err != nil {
			return nil, fmt.Errorf("open the server's store in %s: %w", o.data, err)
		}
		return st, nil
	}
	return nil, errors.New("-data (the server's data directory) or -store (its PostgreSQL DSN) is required: the users are created there")
}

// leftLeases waits up to 10 s for the leases to go and returns how many
// remain.
func leftLeases(ctx context.Context, st store.Store) (int, error) {
	for deadline := time.Now().Add(10 * time.Second); ; {
		ls, err := st.Leases(ctx, store.LeaseFilter{})
		if err != nil {
			return 0, err
		}
		if len(ls) == 0 || time.Now().After(deadline) {
			return len(ls), nil
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// startEchoFloor runs this program with -serve-echo as a separate
// process, like the gateway, and returns its root URL, its process id and
// a function stopping it.
func startEchoFloor() (string, int, func() error, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", 0, nil, err
	}
	cmd := exec.Command(exe, "-serve-echo", "127.0.0.1:0")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", 0, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", 0, nil, fmt.Errorf("start the echo floor: %w", err)
	}
	stop := func() error { stdin.Close(); return cmd.Wait() }
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		return "", 0, nil, fmt.Errorf("the echo floor did not start: %w", err)
	}
	fields := strings.Fields(line)
	return fields[len(fields)-1], cmd.Process.Pid, stop, nil
}

// serveEchoFloor serves loadgen.EchoHandler on addr until standard input
// closes, after printing its URL.
func serveEchoFloor(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: loadgen.EchoHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		srv.Close()
	}()
	fmt.Printf("echo floor listening on http://%s\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("-clients %s: want positive numbers separated by commas", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseOps(s string) ([]loadgen.Op, error) {
	var out []loadgen.Op
	for f := range strings.SplitSeq(s, ",") {
		switch strings.ToLower(strings.TrimSpace(f)) {
		case "winrs":
			out = append(out, loadgen.OpWinRS)
		case "psrp":
			out = append(out, loadgen.OpPSRP)
		default:
			return nil, fmt.Errorf("protocol %q: want winrs or psrp", f)
		}
	}
	return out, nil
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

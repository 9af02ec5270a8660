// Command attack is the load run of the security review: it drives a
// running `psgate serve` on loopback with N legitimate clients (WinRS
// command round trips, PSRP commands on open runspace pools, token
// refreshes and password grants), first alone and then, for the same
// duration, together with an unauthenticated attacker (wrong-password
// floods on the token endpoint and on WS-Man Basic, slow bodies, idle
// connection floods, device-code floods). It prints p50/p99 of the
// legitimate operations in both phases and their ratio, requests per
// second, unexpected errors, and the server's peak RSS and descriptors.
//
// It starts nothing itself. With -data it creates the tenants and users
// in the server's store first (tenants load00, load01, … of -per-tenant
// users each, every user a Tenant Administrator, policy: 3 shells per
// user, per-tenant limit 2.2 × per-tenant users, no creation-rate limit,
// password grant allowed) and checks afterwards that no quota slot is
// left. bench/attack.sh starts a throw-away server and runs it.
//
// With -partial it runs the half-sent message attack instead: Helpdesk
// users (tenants partial00, … of -partial-per-tenant users, each allowed 3
// shells) open every runspace pool they may and start messages they never
// finish, all at once, until the server refuses each pool by a budget,
// while a user of another tenant runs a command every 100 ms; it prints
// the server's RSS before, at the peak and after the pools close.
//
// Usage: attack -url http://127.0.0.1:15985 -data DIR -pid PID [-clients 1000] [-duration 10m]
//
//	attack -url http://127.0.0.1:15985 -data DIR -pid PID -partial [-partial-users 24]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/psgate/psgate/internal/loadgen"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/sqlite"
)

func main() {
	var (
		base      = flag.String("url", "http://127.0.0.1:15985", "the gateway's plain-HTTP root; loopback only")
		data      = flag.String("data", "", "the server's data directory: create the load tenants and users there, and check for leaked quota slots afterwards")
		pid       = flag.Int("pid", 0, "the server's process id, for its peak RSS (VmHWM) and descriptors")
		clients   = flag.Int("clients", 1000, "legitimate clients (one user each)")
		perTenant = flag.Int("per-tenant", 50, "users per tenant")
		pw        = flag.String("password", "Load-Pa55word!", "the legitimate users' password")
		duration  = flag.Duration("duration", 10*time.Minute, "length of each phase (without and with the attacker)")
		think     = flag.Duration("think", 2*time.Second, "mean pause of a client between operations")
		bodyTO    = flag.Duration("body-timeout", 30*time.Second, "the server's --body-timeout")
		shared    = flag.Bool("shared-address", false, "send everything from 127.0.0.1 instead of one source address per client and rotating attacker addresses")
		partial   = flag.Bool("partial", false, "run the half-sent message attack instead of the load run")
		pUsers    = flag.Int("partial-users", 24, "partial: attacking Helpdesk users")
		pTenant   = flag.Int("partial-per-tenant", 8, "partial: attacking users per tenant")
		pBlob     = flag.Int("partial-blob", 256<<10, "partial: bytes of one unfinished message")
	)
	a := loadgen.DefaultAttack()
	flag.IntVar(&a.SignIn, "attack-signin", a.SignIn, "workers posting wrong passwords to the token endpoint")
	flag.IntVar(&a.Basic, "attack-basic", a.Basic, "workers posting wrong Basic passwords to WS-Man")
	flag.IntVar(&a.SlowBodies, "attack-slow", a.SlowBodies, "slow-body connections")
	flag.IntVar(&a.Conns, "attack-conns", a.Conns, "idle connections held open")
	flag.IntVar(&a.DeviceCode, "attack-device", a.DeviceCode, "workers requesting device codes")
	flag.IntVar(&a.Addresses, "attack-addresses", a.Addresses, "source addresses the attacker rotates over (127.2.x.y)")
	flag.StringVar(&a.URL, "attack-url", "", "send the attack to this server instead (plain-HTTP root, loopback): a control run, where the legitimate clients' server sees none of it")
	flag.Parse()
	a.BodyTimeout = *bodyTO
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	if *partial {
		err = runPartial(ctx, *base, *data, *pid, *pUsers, *pTenant, *pBlob, *pw)
	} else {
		err = run(ctx, *base, *data, *pid, *clients, *perTenant, *pw, *duration, *think, *shared, a)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "attack:", err)
		os.Exit(1)
	}
}

// openStore opens the server's SQLite store in data.
func openStore(ctx context.Context, base, data string) (*sqlite.DB, error) {
	if err := loadgen.RequireLoopback(base); err != nil {
		return nil, err
	}
	if data == "" {
		return nil, errors.New("-data is required: the server's data directory, where the load tenants and users are created")
	}
	st, err := sqlite.Open(ctx, filepath.Join(data, "psgate.db"), sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("open the server's store in %s: %w", data, err)
	}
	return st, nil
}

func logf(f string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+f+"\n", args...)
}

func runPartial(ctx context.Context, base, data string, pid, users, perTenant, blob int, pw string) error {
	st, err := openStore(ctx, base, data)
	if err != nil {
		return err
	}
	defer st.Close()
	logf("provisioning %d Helpdesk users in tenants of %d, and a bystander", users, perTenant)
	attackers, err := loadgen.Provision(ctx, st, loadgen.Population{Users: users, PerTenant: perTenant, Prefix: "partial",
		Password: pw, Role: store.RoleHelpdesk, ShellsPerUser: 3})
	if err != nil {
		return err
	}
	by, err := loadgen.Provision(ctx, st, loadgen.Population{Users: 1, PerTenant: 1, Prefix: "bystander", Password: pw})
	if err != nil {
		return err
	}
	rep, err := loadgen.RunPartial(ctx, loadgen.PartialConfig{BaseURL: strings.TrimSuffix(base, "/"), Attackers: attackers,
		Blob: blob, Bystander: &by[0], Sample: sampler(pid), Logf: logf})
	if err != nil {
		return err
	}
	return report(ctx, st, rep, len(rep.Unexpected)+rep.Unrefused,
		fmt.Sprintf("%d unexpected answers, %d pools never refused", len(rep.Unexpected), rep.Unrefused))
}

// sampler reads the server's usage when its process id is known.
func sampler(pid int) func() loadgen.Usage {
	if pid <= 0 {
		return nil
	}
	return func() loadgen.Usage { return loadgen.ProcUsage(pid) }
}

// report prints a run's report and the quota slots left afterwards, and
// fails the run when problems (described by what) or slots remain.
func report(ctx context.Context, st store.Store, rep interface{ Write(io.Writer) }, problems int, what string) error {
	rep.Write(os.Stdout)
	leases, err := leftLeases(ctx, st)
	if err != nil {
		return err
	}
	fmt.Printf("quota slots held after the run: %d (target 0)\n", leases)
	if problems > 0 || leases > 0 {
		return fmt.Errorf("%s, %d quota slots left", what, leases)
	}
	return nil
}

func run(ctx context.Context, base, data string, pid, clients, perTenant int, pw string, duration, think time.Duration, shared bool, a loadgen.AttackConfig) error {
	st, err := openStore(ctx, base, data)
	if err != nil {
		return err
	}
	defer st.Close()
	if a.URL != "" {
		if err := loadgen.RequireLoopback(a.URL); err != nil {
			return fmt.Errorf("-attack-url: %w", err)
		}
		fmt.Printf("control run: the attack goes to %s, not to the legitimate clients' server\n", a.URL)
	}
	fmt.Fprintf(os.Stderr, "provisioning %d users in tenants of %d\n", clients, perTenant)
	accounts, err := loadgen.Provision(ctx, st, loadgen.Population{Users: clients, PerTenant: perTenant, Password: pw})
	if err != nil {
		return err
	}
	for i := 0; i < len(accounts) && len(a.Names) < 20; i += max(1, len(accounts)/20) {
		a.Names = append(a.Names, accounts[i].UPN)
	}
	cfg := loadgen.SecurityConfig{
		BaseURL: strings.TrimSuffix(base, "/"), Accounts: accounts, Duration: duration, Think: think,
		Attack: a, SharedAddress: shared,
		Sample: sampler(pid), Logf: logf,
	}
	rep, err := loadgen.RunSecurity(ctx, cfg)
	if err != nil {
		return err
	}
	return report(ctx, st, rep, int(rep.UnexpectedErrors()), fmt.Sprintf("%d unexpected errors", rep.UnexpectedErrors()))
}

// leftLeases waits up to 10 s for the load tenants' leases to go and
// returns how many remain.
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

package loadgen_test

import (
	"context"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/internal/loadgen"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/store"
)

// TestSecurityLoad is the short form of the security review's load run
// (bench/README.md has the long form): 50 legitimate clients for 10 s
// alone, then 10 s with the unauthenticated attacker, against an
// in-process server. It asserts that nothing failed unexpectedly and that
// every quota slot is free afterwards; latencies are only logged, since
// the CI machines are shared.
func TestSecurityLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("a 20 s load run; skipped with -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the clients need their own loopback source addresses (127.1.x.y), which only Linux routes without setup")
	}
	ctx := context.Background()
	const bodyTimeout, clients, perTenant = 3 * time.Second, 50, 10
	srv := startServer(t, func(c *server.Config) { c.BodyTimeout = bodyTimeout })

	accounts, err := loadgen.Provision(ctx, srv.Store(), loadgen.Population{
		Users: clients, PerTenant: perTenant, Password: "Legit-Pa55word!", Params: password.Fast(),
	})
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, 5)
	for _, a := range accounts[:5] {
		names = append(names, a.UPN)
	}
	rep, err := loadgen.RunSecurity(ctx, loadgen.SecurityConfig{
		BaseURL:  strings.TrimSuffix(srv.Info().HTTPURL, "/wsman"),
		Accounts: accounts,
		Duration: 10 * time.Second,
		Think:    200 * time.Millisecond,
		Attack: loadgen.AttackConfig{SignIn: 4, Basic: 4, SlowBodies: 10, Conns: 50, DeviceCode: 2, Addresses: 100,
			Names: names, BodyTimeout: bodyTimeout},
		Sample: inProcess,
		Logf:   t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	logReport(t, rep)
	if n := rep.UnexpectedErrors(); n != 0 {
		t.Errorf("%d unexpected errors: %v", n, rep.Errors)
	}
	if rep.Baseline.All.N == 0 || rep.Attack.All.N == 0 {
		t.Errorf("no legitimate operation completed: baseline %d, under attack %d", rep.Baseline.All.N, rep.Attack.All.N)
	}
	for _, p := range []loadgen.PhaseReport{rep.Baseline, rep.Attack} {
		for op, r := range p.Ops {
			if r.Latency.N == 0 {
				t.Errorf("%s: no %v operation completed", p.Name, loadgen.Op(op))
			}
		}
	}

	// Every shell was closed: no lease (quota slot) and no live shell
	// remains.
	var leases []store.Lease
	for deadline := time.Now().Add(10 * time.Second); ; {
		leases, err = srv.Store().Leases(ctx, store.LeaseFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(leases) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(leases) != 0 {
		t.Errorf("%d quota slots still held after every client closed its sessions, first %+v", len(leases), leases[0])
	}
	if ids := srv.Gateway().ShellIDs(); len(ids) != 0 {
		t.Errorf("%d shells still open after the run", len(ids))
	}
}

// inProcess samples this process: the Go runtime's memory (the server
// and the load generator share it) and the descriptors of both.
func inProcess() loadgen.Usage {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	u := loadgen.Usage{RSSKB: int64(ms.Sys / 1024)}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		u.FDs = int64(len(fds))
	}
	return u
}

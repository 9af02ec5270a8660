package loadgen_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/internal/loadgen"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/store"
)

// TestCapacity is the short form of bench/capacity (bench/README.md has
// the long form): 10 clients for 2 s of WinRS and PSRP commands against
// an in-process server and the echo floor, then a 2 s soak of 20 shells.
// It asserts that nothing failed and that every quota slot is free
// afterwards; rates and latencies are only logged, since the CI machines
// are shared.
func TestCapacity(t *testing.T) {
	if testing.Short() {
		t.Skip("a 15 s load run; skipped with -short")
	}
	ctx := context.Background()
	srv := startServer(t, nil)
	echo := httptest.NewServer(loadgen.EchoHandler())
	defer echo.Close()

	const clients, shells = 10, 20
	accounts, err := loadgen.Provision(ctx, srv.Store(), loadgen.Population{
		Users: shells / 2, PerTenant: 10, Password: "Legit-Pa55word!", Params: password.Fast(),
	})
	if err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSuffix(srv.Info().HTTPURL, "/wsman")
	// Off Linux, 127.1.x.y is not local without setup.
	shared := runtime.GOOS != "linux"

	// Server, floor and clients are all this process here: the CPU
	// figures mean nothing, but each must be read and reported.
	self := func() (time.Duration, bool) { return loadgen.ProcCPU(os.Getpid()) }
	// OnGateRun brackets each of psgate's measured runs, and only those
	// (bench/capacity -server-profile profiles the server over them).
	var runs []string
	var inRun bool
	onGateRun := func(op loadgen.Op, clients, round int) func() {
		if inRun {
			t.Errorf("%v run %d began inside another", op, round)
		}
		inRun = true
		runs = append(runs, fmt.Sprintf("%v/%d/%d", op, clients, round))
		return func() { inRun = false }
	}
	rep, err := loadgen.RunCapacity(ctx, loadgen.CapacityConfig{
		BaseURL: base, EchoURL: echo.URL, Accounts: accounts,
		Clients: []int{clients}, Ops: []loadgen.Op{loadgen.OpWinRS, loadgen.OpPSRP},
		Duration: 2 * time.Second, Rounds: 1, Warmup: 200 * time.Millisecond,
		SharedAddress: shared, Logf: t.Logf,
		GateCPU: self, FloorCPU: self, ClientCPU: self, OnGateRun: onGateRun,
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"winrs/10/0", "psrp/10/0"}; !slices.Equal(runs, want) || inRun {
		t.Errorf("OnGateRun called for runs %v (the last one ended: %v), want %v, each ended", runs, !inRun, want)
	}
	var out strings.Builder
	rep.Write(&out)
	t.Logf("capacity report:\n%s", out.String())
	if n := rep.UnexpectedErrors(); n != 0 {
		t.Errorf("%d errors: %v", n, rep.Errors)
	}
	if runtime.GOOS == "linux" && !strings.Contains(out.String(), "client CPU per request") {
		t.Errorf("the report gives no client CPU per request")
	}
	for _, row := range rep.Rows {
		if runtime.GOOS == "linux" {
			for _, r := range append(slices.Clone(row.Gate), row.Floor...) {
				if r.ServerCPU <= 0 || r.ClientCPU <= 0 {
					t.Errorf("%v: run with server CPU %v and client CPU %v, want both measured", row.Op, r.ServerCPU, r.ClientCPU)
				}
			}
		}
		if row.Sequence == 0 {
			t.Errorf("%v: no request recorded for the floor", row.Op)
		}
		// The floor replays the recorded command's requests exactly; a
		// psgate command takes a Command and at least one Receive, more
		// when the first Receive comes back before the command ended (the
		// recorded one may have needed more than another).
		for i, runs := range [][]loadgen.RunStats{row.Gate, row.Floor} {
			least := row.Sequence
			if i == 0 {
				least = min(row.Sequence, 2)
			}
			if len(runs) != 1 || runs[0].Commands == 0 || runs[0].Requests < int64(runs[0].Commands*least) {
				t.Errorf("%v: runs %+v: want one run with commands of at least %d requests each", row.Op, runs, least)
			}
		}
	}
	checkClosed(t, srv)

	soak, err := loadgen.RunSoak(ctx, loadgen.SoakConfig{
		BaseURL: base, Accounts: accounts, Shells: shells, Interval: 200 * time.Millisecond,
		Duration: 2 * time.Second, SharedAddress: shared, Logf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	soak.Write(&out)
	t.Logf("soak report:\n%s", out.String())
	if n := soak.UnexpectedErrors(); n != 0 {
		t.Errorf("soak: %d errors: %v", n, soak.ErrorKinds)
	}
	if soak.WinRS.N == 0 || soak.PSRP.N == 0 {
		t.Errorf("soak: %d WinRS and %d PSRP commands, want some of each", soak.WinRS.N, soak.PSRP.N)
	}
	checkClosed(t, srv)
}

// checkClosed waits up to 10 s for every lease (quota slot) and shell to
// go.
func checkClosed(t *testing.T, srv *server.Server) {
	t.Helper()
	ctx := context.Background()
	var leases []store.Lease
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; {
		if leases, err = srv.Store().Leases(ctx, store.LeaseFilter{}); err != nil {
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

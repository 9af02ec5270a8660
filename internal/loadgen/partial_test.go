package loadgen_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/gateway"
	"github.com/psgate/psgate/internal/loadgen"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/store"
)

// TestPartialAttack is the short form of the half-sent message attack
// (`bench/attack.sh -partial` is the long one): six Helpdesk users in two
// tenants open every pool they may and start messages they never finish,
// against an in-process server with small budgets, while a user of a
// third tenant runs commands. The gateway never holds more than the
// process budget, every pool is refused by a named budget (and closed),
// the bystander is never refused, and afterwards no byte and no quota slot
// is held.
func TestPartialAttack(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the clients need their own loopback source addresses (127.x.y.z), which only Linux routes without setup")
	}
	ctx := context.Background()
	budget := gateway.PartialBudget{Shell: 1 << 20, User: 2 << 20, Tenant: 3 << 20, Process: 5 << 20}
	srv := startServer(t, func(c *server.Config) { c.PartialBudget = budget })
	attackers, err := loadgen.Provision(ctx, srv.Store(), loadgen.Population{Users: 6, PerTenant: 3, Prefix: "partial",
		Password: "Load-Pa55word!", Role: store.RoleHelpdesk, ShellsPerUser: 3, Params: password.Fast()})
	if err != nil {
		t.Fatal(err)
	}
	by, err := loadgen.Provision(ctx, srv.Store(), loadgen.Population{Users: 1, PerTenant: 1, Prefix: "bystander",
		Password: "Load-Pa55word!", Params: password.Fast()})
	if err != nil {
		t.Fatal(err)
	}
	// The sampler reads the gateway's own ledger: this process's memory
	// is the test's as much as the server's.
	var peak int64
	rep, err := loadgen.RunPartial(ctx, loadgen.PartialConfig{
		BaseURL: strings.TrimSuffix(srv.Info().HTTPURL, "/wsman"), Attackers: attackers, Blob: 96 << 10, Bystander: &by[0],
		GiveUp: 64 << 20,
		Sample: func() loadgen.Usage {
			u := srv.Gateway().PartialUsage()
			peak = max(peak, u.Peak)
			return loadgen.Usage{RSSKB: u.Bytes >> 10, HWMKB: u.Peak >> 10}
		},
		Logf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	logReport(t, rep)
	if len(rep.Unexpected) != 0 {
		t.Errorf("unexpected answers: %v", rep.Unexpected)
	}
	refused := 0
	for budget, n := range rep.Refused {
		if budget == "unnamed" {
			t.Errorf("%d refusals named no budget", n)
		}
		refused += n
	}
	if refused != rep.Pools || rep.Pools != 18 || rep.Unrefused != 0 {
		t.Errorf("%d of %d pools refused by a budget (%d never), want all 18", refused, rep.Pools, rep.Unrefused)
	}
	if rep.Refused["user"] == 0 && rep.Refused["tenant"] == 0 && rep.Refused["process"] == 0 {
		t.Errorf("refusals %v: no budget above the shell's was reached", rep.Refused)
	}
	if u := srv.Gateway().PartialUsage(); u.Peak > budget.Process || peak > budget.Process {
		t.Errorf("the gateway held %d bytes at its peak, past the process budget %d", max(u.Peak, peak), budget.Process)
	}
	if rep.Bystander.N == 0 {
		t.Error("the other tenant's user completed no command during the attack")
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		u := srv.Gateway().PartialUsage()
		leases, err := srv.Store().Leases(ctx, store.LeaseFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if u.Bytes == 0 && len(leases) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the attack the gateway holds %d bytes and %d quota slots", u.Bytes, len(leases))
		}
	}
}

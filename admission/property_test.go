package admission

import (
	"context"
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// propNode is one gateway process in the model.
type propNode struct {
	name      string
	g         *fakeGateway
	alive     bool
	nextRenew time.Time
}

// propShell is a shell the model believes holds a slot.
type propShell struct {
	user int
	node *propNode
	exp  time.Time // lease expiry as of the last renewal
}

// Randomized open/close/crash/restart/expiry sequences on two or three
// nodes sharing one store: after every step the store's live counts equal
// the model's, admission decisions follow the model, and at the end every
// opened shell has exactly one close record.
func TestPropertyNoLeakedSlots(t *testing.T) {
	seeds, steps := 8, 400
	if testing.Short() || raceEnabled {
		seeds, steps = 2, 150
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			runProperty(t, int64(seed), steps)
		})
	}
}

func runProperty(t *testing.T, seed int64, steps int) {
	const (
		users      = 6
		perUser    = 3
		perTenant  = 10
		leaseTTL   = 45 * time.Second
		renewEvery = 10 * time.Second
	)
	ctx := context.Background()
	rng := rand.New(rand.NewSource(seed))
	e := newEnv(t)
	e.setPolicy(t, e.tenant, func(p *store.Policy) {
		p.MaxShellsPerUser, p.MaxShellsPerTenant, p.MaxShellCreationsPerMinute = perUser, perTenant, 0
	})
	us := make([]store.User, users)
	for i := range us {
		us[i] = e.addUser(t, e.tenant, fmt.Sprintf("p%d", i), store.RoleTenantReader)
	}
	start := func(name string) *propNode {
		n := &propNode{name: name, alive: true, nextRenew: e.clock.Now().Add(renewEvery)}
		n.g = newFakeGateway(e, t, func(c *Config) { c.NodeName = name })
		return n
	}
	nodes := []*propNode{start("n0:5986"), start("n1:5986"), start("n2:5986")}
	shells := map[string]*propShell{}
	opened, refused, next := 0, 0, 0
	crashes, restarts, expired := 0, 0, map[string]bool{}

	counts := func() (int, map[int]int) {
		now := e.clock.Now()
		per := map[int]int{}
		total := 0
		for _, s := range shells {
			if s.node.alive || s.exp.After(now) {
				per[s.user]++
				total++
			}
		}
		for id, s := range shells {
			if !s.node.alive && !s.exp.After(now) {
				expired[id] = true
			}
		}
		return total, per
	}
	pickAlive := func() *propNode {
		var alive []*propNode
		for _, n := range nodes {
			if n.alive {
				alive = append(alive, n)
			}
		}
		if len(alive) == 0 {
			return nil
		}
		return alive[rng.Intn(len(alive))]
	}

	for step := range steps {
		switch op := rng.Intn(100); {
		case op < 50: // open
			n := pickAlive()
			if n == nil {
				continue
			}
			u := rng.Intn(users)
			total, per := counts()
			want := per[u] < perUser && total < perTenant
			id := fmt.Sprintf("S%d-%04d", seed, next)
			next++
			err := n.g.open(ctx, e.request(e.tenant, us[u], id))
			if got := err == nil; got != want {
				t.Fatalf("step %d: open by user %d admitted = %v (err %v), model says %v (user %d, tenant %d)",
					step, u, got, err, want, per[u], total)
			}
			if err != nil {
				if c := codeOf(err); c != psgate.CodeUserQuotaExceeded && c != psgate.CodeTenantQuotaExceeded {
					t.Fatalf("step %d: refusal code %q", step, c)
				}
				refused++
				continue
			}
			opened++
			shells[id] = &propShell{user: u, node: n, exp: e.clock.Now().Add(leaseTTL)}
		case op < 75: // close
			var ids []string
			for id, s := range shells {
				if s.node.alive {
					ids = append(ids, id)
				}
			}
			if len(ids) == 0 {
				continue
			}
			sort.Strings(ids)
			id := ids[rng.Intn(len(ids))]
			shells[id].node.g.close(ctx, id, "closed")
			delete(shells, id)
		case op < 92: // time passes; live nodes tick
			e.clock.Advance(time.Duration(1+rng.Intn(8000)) * time.Millisecond)
			now := e.clock.Now()
			for _, n := range nodes {
				if !n.alive {
					continue
				}
				if lost := n.g.tick(ctx, now); len(lost) > 0 {
					t.Fatalf("step %d: live node %s lost %v", step, n.name, lost)
				}
				if !now.Before(n.nextRenew) {
					n.nextRenew = now.Add(renewEvery)
					for _, s := range shells {
						if s.node == n {
							s.exp = now.Add(leaseTTL)
						}
					}
				}
			}
		case op < 97: // a node is killed
			if n := pickAlive(); n != nil {
				n.alive = false
				crashes++
			}
		default: // a killed node restarts under its name
			for i, n := range nodes {
				if n.alive {
					continue
				}
				nodes[i] = start(n.name)
				restarts++
				for id, s := range shells {
					if s.node == n {
						delete(shells, id)
					}
				}
				break
			}
		}
		total, per := counts()
		if got := e.liveCount(t, e.tenant.ID, 0); got != total {
			t.Fatalf("step %d: store holds %d live leases, model %d", step, got, total)
		}
		for u := range users {
			if got := e.liveCount(t, e.tenant.ID, us[u].ID); got != per[u] {
				t.Fatalf("step %d: store holds %d leases of user %d, model %d", step, got, u, per[u])
			}
		}
	}

	// Wind down: close what live nodes hold, let the rest expire, sweep.
	for id, s := range shells {
		if s.node.alive {
			s.node.g.close(ctx, id, "closed")
		}
	}
	final := start("final:5986")
	e.clock.Advance(leaseTTL + time.Second)
	final.g.tick(ctx, e.clock.Now())
	if got := e.liveCount(t, e.tenant.ID, 0); got != 0 {
		t.Fatalf("after wind-down the store holds %d live leases", got)
	}

	if got := len(e.audits(t, e.tenant.ID, store.ActionSessionOpen)); got != opened {
		t.Errorf("%d session.open records, want %d", got, opened)
	}
	if got := len(e.audits(t, e.tenant.ID, store.ActionSessionRefused)); got != refused {
		t.Errorf("%d session.refused records, want %d", got, refused)
	}
	closes := map[string]int{}
	for _, r := range e.audits(t, e.tenant.ID, store.ActionSessionClose) {
		closes[r.ShellID]++
	}
	if len(closes) != opened {
		t.Errorf("%d shells have close records, want %d", len(closes), opened)
	}
	for id, n := range closes {
		if n != 1 {
			t.Errorf("shell %s has %d close records, want 1", id, n)
		}
	}
	t.Logf("opened %d, refused %d, crashes %d, restarts %d, slots freed by expiry %d",
		opened, refused, crashes, restarts, len(expired))
}

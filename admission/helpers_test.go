package admission

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/sqlite"
	"github.com/psgate/psgate/store/storetest"
)

// testEnv is a real SQLite store on a fake clock with one tenant.
type testEnv struct {
	clock  *storetest.Clock
	db     *sqlite.DB
	tenant store.Tenant
}

func newEnv(tb testing.TB) *testEnv {
	tb.Helper()
	clock := storetest.NewClock()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "psgate.db"), sqlite.Options{Now: clock.Now})
	if err != nil {
		tb.Fatalf("sqlite.Open() error = %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close() error = %v", err)
		}
	})
	e := &testEnv{clock: clock, db: db}
	e.tenant = e.addTenant(tb, "contoso", store.DefaultPolicy())
	return e
}

func (e *testEnv) addTenant(tb testing.TB, name string, p store.Policy) store.Tenant {
	tb.Helper()
	t, err := e.db.CreateTenant(context.Background(), store.Tenant{Name: name, Domain: name + ".test", Policy: p})
	if err != nil {
		tb.Fatalf("CreateTenant(%s) error = %v", name, err)
	}
	return t
}

func (e *testEnv) setPolicy(tb testing.TB, tenant store.Tenant, change func(*store.Policy)) {
	tb.Helper()
	p := tenant.Policy
	change(&p)
	if err := e.db.UpdatePolicy(context.Background(), tenant.ID, p); err != nil {
		tb.Fatalf("UpdatePolicy() error = %v", err)
	}
}

// addUser creates an enabled user of the tenant holding the named roles.
func (e *testEnv) addUser(tb testing.TB, tenant store.Tenant, local string, roles ...string) store.User {
	tb.Helper()
	ctx := context.Background()
	u, err := e.db.CreateUser(ctx, store.User{TenantID: tenant.ID, UPN: local + "@" + tenant.Domain, Enabled: true})
	if err != nil {
		tb.Fatalf("CreateUser(%s) error = %v", local, err)
	}
	for _, name := range roles {
		r, err := e.db.RoleByName(ctx, tenant.ID, name)
		if err != nil {
			tb.Fatalf("RoleByName(%s) error = %v", name, err)
		}
		if err := e.db.Assign(ctx, store.Assignment{TenantID: tenant.ID, UserID: u.ID, RoleID: r.ID, AssignedBy: "test"}); err != nil {
			tb.Fatalf("Assign(%s, %s) error = %v", local, name, err)
		}
	}
	return u
}

// admitter returns a registered Admitter on the env's store and clock.
func (e *testEnv) admitter(tb testing.TB, change ...func(*Config)) *Admitter {
	tb.Helper()
	cfg := Config{Store: e.db, NodeName: "node-a:5986", Now: e.clock.Now}
	for _, c := range change {
		c(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		tb.Fatalf("New() error = %v", err)
	}
	if err := a.Register(context.Background()); err != nil {
		tb.Fatalf("Register() error = %v", err)
	}
	return a
}

func (e *testEnv) principal(tenant store.Tenant, u store.User) psgate.Principal {
	return psgate.Principal{TenantID: tenant.ID, Tenant: tenant.Name, UserID: u.ID, UPN: u.UPN, Method: psgate.AuthBearer}
}

// request is a WinRS Create by u from a fixed client.
func (e *testEnv) request(tenant store.Tenant, u store.User, shellID string) psgate.ShellRequest {
	return psgate.ShellRequest{
		Principal: e.principal(tenant, u), ShellID: shellID, Kind: store.KindWinRS,
		ClientAddr: "192.0.2.10", UserAgent: "Microsoft WinRM Client",
	}
}

// liveCount counts the live leases of a tenant (userID 0: all users).
func (e *testEnv) liveCount(tb testing.TB, tenantID psgate.TenantID, userID psgate.UserID) int {
	tb.Helper()
	ls, err := e.db.Leases(context.Background(), store.LeaseFilter{TenantID: tenantID, UserID: userID, Now: e.clock.Now()})
	if err != nil {
		tb.Fatalf("Leases() error = %v", err)
	}
	return len(ls)
}

// auditCount counts audit records of the tenant with the action.
func (e *testEnv) audits(tb testing.TB, tenantID psgate.TenantID, action string) []store.AuditRecord {
	tb.Helper()
	recs, err := e.db.SearchAudit(context.Background(), store.AuditFilter{TenantID: tenantID, Action: action, Limit: 1 << 20})
	if err != nil {
		tb.Fatalf("SearchAudit() error = %v", err)
	}
	return recs
}

// codeOf returns the catalog code of err, "" for nil.
func codeOf(err error) psgate.Code {
	if err == nil {
		return ""
	}
	return psgate.CodeOf(err)
}

func shellID(i int) string { return fmt.Sprintf("SHELL-%05d", i) }

// held is every shell a admitted and has not released, as a gateway
// holding all of them would report it to Tick.
func held(a *Admitter, now time.Time) []psgate.ShellActivity {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]psgate.ShellActivity, 0, len(a.shells))
	for id := range a.shells {
		out = append(out, psgate.ShellActivity{ShellID: id, State: psgate.ShellConnected, LastActive: now})
	}
	slices.SortFunc(out, func(x, y psgate.ShellActivity) int { return strings.Compare(x.ShellID, y.ShellID) })
	return out
}

// tick advances the clock and ticks every admitter.
func (e *testEnv) tick(ctx context.Context, d time.Duration, as ...*Admitter) [][]string {
	e.clock.Advance(d)
	out := make([][]string, len(as))
	for i, a := range as {
		out[i] = a.Tick(ctx, e.clock.Now(), held(a, e.clock.Now()))
	}
	return out
}

package cmdlets

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/store"
)

// fakeDir is an in-memory Directory with the store's documented
// semantics (see store.UserFilter).
type fakeDir struct {
	// Directory is nil: the fake implements only what Get-CsTenant and
	// Get-CsOnlineUser read; the other cmdlets are tested on SQLite.
	Directory
	tenants map[psgate.TenantID]store.Tenant
	users   []store.User
	// err, when set, is returned by every call.
	err error
	// leaky ignores the tenant ID in ListUsers and Tenant, to prove the
	// cmdlets never show another tenant's records even then.
	leaky bool
	// listCalls counts ListUsers calls.
	listCalls int
}

func (d *fakeDir) Tenant(_ context.Context, id psgate.TenantID) (store.Tenant, error) {
	if d.err != nil {
		return store.Tenant{}, d.err
	}
	if d.leaky {
		for _, t := range d.tenants {
			if t.ID != id {
				return t, nil
			}
		}
	}
	t, ok := d.tenants[id]
	if !ok {
		return store.Tenant{}, fmt.Errorf("fake: tenant %d: %w", id, store.ErrNotFound)
	}
	return t, nil
}

func (d *fakeDir) ListUsers(_ context.Context, tenantID psgate.TenantID, f store.UserFilter) ([]store.User, error) {
	d.listCalls++
	if d.err != nil {
		return nil, d.err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	var out []store.User
	for _, u := range d.users {
		if u.TenantID != tenantID && !d.leaky || u.ID <= f.AfterID {
			continue
		}
		if id := strings.ToLower(f.Identity); id != "" {
			sip := strings.TrimPrefix(id, "sip:")
			us := strings.ToLower(u.SipAddress)
			if u.UPN != id && strings.ToLower(u.ObjectID) != id && us != sip && us != "sip:"+sip {
				continue
			}
		}
		if c := strings.ToLower(f.Contains); c != "" &&
			!strings.Contains(u.UPN, c) && !strings.Contains(strings.ToLower(u.DisplayName), c) {
			continue
		}
		out = append(out, u)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

var (
	t0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	t1 = time.Date(2026, 5, 2, 17, 4, 11, 0, time.UTC)
)

// newFakeDir holds two tenants: contoso (1) and fabrikam (2).
func newFakeDir() *fakeDir {
	d := &fakeDir{tenants: map[psgate.TenantID]store.Tenant{
		1: {ID: 1, Name: "contoso", Domain: "contoso.test", DisplayName: "Contoso Ltd.", Policy: store.DefaultPolicy(), CreatedAt: t0},
		2: {ID: 2, Name: "fabrikam", Domain: "fabrikam.test", DisplayName: "Fabrikam, Inc.", Policy: store.Policy{
			EnableRemotePowerShellAccess: false, MaxShellsPerUser: 1, MaxShellsPerTenant: 5,
			SessionLifetime: 30 * time.Minute, IdleTimeout: 5 * time.Minute,
		}, CreatedAt: t1},
	}}
	add := func(tenant psgate.TenantID, name, upn, sip, dept string, voice, enabled bool) {
		id := psgate.UserID(len(d.users) + 1)
		d.users = append(d.users, store.User{
			ID: id, TenantID: tenant, ObjectID: fmt.Sprintf("00000000-0000-4000-8000-%012d", id),
			UPN: upn, DisplayName: name, SipAddress: sip, Department: dept, Title: "Engineer",
			UsageLocation: "US", EnterpriseVoiceEnabled: voice, Enabled: enabled,
			CreatedAt: t0, UpdatedAt: t1,
		})
	}
	add(1, "Adele Vance", "adele.vance@contoso.test", "sip:adele.vance@contoso.test", "Sales", true, true)
	add(2, "Alan Steiner", "alan.steiner@fabrikam.test", "sip:alan.steiner@fabrikam.test", "Sales", true, true)
	add(1, "Alex Wilber", "alex.wilber@contoso.test", "alex.wilber@contoso.test", "Marketing", false, true)
	add(1, "Megan Bowen", "megan.bowen@contoso.test", "", "Sales", false, false)
	add(2, "Megan Bowen", "megan.bowen@fabrikam.test", "", "Sales", false, true)
	add(1, "Megan Bowen", "megan.bowen2@contoso.test", "", "Legal", false, true)
	d.users[0].LineURI = "tel:+14255550100"
	return d
}

// addUsers adds n users to tenant 1 named user0001@contoso.test and on.
func (d *fakeDir) addUsers(n int) {
	for i := 1; i <= n; i++ {
		id := psgate.UserID(len(d.users) + 1)
		d.users = append(d.users, store.User{
			ID: id, TenantID: 1, ObjectID: fmt.Sprintf("00000000-0000-4000-8000-%012d", id),
			UPN: fmt.Sprintf("user%04d@contoso.test", i), DisplayName: fmt.Sprintf("User %04d", i),
			Enabled: true, CreatedAt: t0,
		})
	}
	sort.Slice(d.users, func(i, j int) bool { return d.users[i].ID < d.users[j].ID })
}

// sink records what a command writes.
type sink struct {
	out    []any
	errs   []*engine.ErrorRecord
	warned []string
}

func (s *sink) Output(obj any)                       { s.out = append(s.out, obj) }
func (s *sink) Error(rec *engine.ErrorRecord)        { s.errs = append(s.errs, rec) }
func (s *sink) Warning(msg string)                   { s.warned = append(s.warned, msg) }
func (s *sink) Verbose(string)                       {}
func (s *sink) Debug(string)                         {}
func (s *sink) Information(engine.InformationRecord) {}
func (s *sink) Progress(engine.ProgressRecord)       {}

var contoso = engine.Caller{Principal: psgate.Principal{TenantID: 1, Tenant: "contoso", UserID: 1, UPN: "adele.vance@contoso.test"}}
var fabrikam = engine.Caller{Principal: psgate.Principal{TenantID: 2, Tenant: "fabrikam", UserID: 2, UPN: "alan.steiner@fabrikam.test"}}

// run runs the named command of the package directly, with parameters
// already bound, as the engine would.
func run(t *testing.T, dir Directory, name string, caller engine.Caller, params map[string]any) (*sink, error) {
	t.Helper()
	var cmd *engine.Command
	for _, c := range commands(dir, config{}) {
		if strings.EqualFold(c.Name, name) {
			cmd = c
		}
	}
	if cmd == nil {
		t.Fatalf("no command %s", name)
	}
	if params == nil {
		params = map[string]any{}
	}
	s := &sink{}
	inv := &engine.Invocation{Command: cmd, Params: params, Caller: caller, Out: s}
	err := cmd.Run(t.Context(), inv)
	return s, err
}

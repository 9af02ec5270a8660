package admission

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/rbac"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/cache"
)

// nopSink discards a pipeline's output.
type nopSink struct{}

func (nopSink) Output(any)                           {}
func (nopSink) Error(*engine.ErrorRecord)            {}
func (nopSink) Warning(string)                       {}
func (nopSink) Verbose(string)                       {}
func (nopSink) Debug(string)                         {}
func (nopSink) Information(engine.InformationRecord) {}
func (nopSink) Progress(engine.ProgressRecord)       {}

// testCatalog holds commands named like the role cmdlets, whose Run calls
// ran (when set) with the command's name.
func testCatalog(ran func(ctx context.Context, name string)) *engine.Catalog {
	cat := engine.NewCatalog()
	for _, name := range []string{"Get-CsTenant", "Grant-CsAdminRole", "Set-CsUser"} {
		if err := cat.Register(&engine.Command{
			Name: name,
			Parameters: []engine.Parameter{
				{Name: "Identity", Type: engine.TypeString, Position: 0},
				{Name: "Pin", Type: engine.TypeString, Position: engine.NotPositional, Sensitive: true},
			},
			Run: func(ctx context.Context, inv *engine.Invocation) error {
				if ran != nil {
					ran(ctx, inv.Command.Name)
				}
				return nil
			},
		}); err != nil {
			panic(err)
		}
	}
	return cat
}

// grantedRunspace admits u and returns a runspace with the granted
// Authorizer, as the gateway builds it.
func grantedRunspace(t testing.TB, e *testEnv, a *Admitter, u store.User, shell string, cat *engine.Catalog) *engine.Runspace {
	t.Helper()
	_, auth, err := a.Admit(context.Background(), e.request(e.tenant, u, shell))
	if err != nil {
		t.Fatalf("Admit() error = %v", err)
	}
	return engine.NewRunspace(engine.RunspaceConfig{Catalog: cat, Authorizer: auth})
}

func runCode(rs *engine.Runspace, line string) psgate.Code {
	err := rs.RunScript(context.Background(), line, nil, nopSink{})
	if err == nil {
		return ""
	}
	return psgate.CodeOf(err)
}

// TestGrantedRightsFollowTheStore: the Authorizer of an open shell applies
// role changes and account state written to the store by anyone, from
// the next command on, and fails closed when the store cannot answer.
func TestGrantedRightsFollowTheStore(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	fs := &failingStore{Store: e.db, fail: map[string]bool{}}
	a := e.admitter(t, func(c *Config) { c.Store = fs })
	e.addUser(t, e.tenant, "other-admin", store.RoleTenantAdministrator)
	u := e.addUser(t, e.tenant, "demoted", store.RoleTenantAdministrator)
	rs := grantedRunspace(t, e, a, u, "S1", testCatalog(nil))
	role := func(name string) store.Role {
		r, err := e.db.RoleByName(ctx, e.tenant.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	steps := []struct {
		name   string
		change func()
		line   string
		want   psgate.Code
	}{
		{"administrator", func() {}, "Grant-CsAdminRole demoted@contoso.test", ""},
		{"demoted", func() {
			if err := e.db.Revoke(ctx, e.tenant.ID, u.ID, role(store.RoleTenantAdministrator).ID); err != nil {
				t.Fatal(err)
			}
		}, "Grant-CsAdminRole demoted@contoso.test", psgate.CodeNoAdminRole},
		{"reader", func() {
			if err := e.db.Assign(ctx, store.Assignment{TenantID: e.tenant.ID, UserID: u.ID, RoleID: role(store.RoleTenantReader).ID}); err != nil {
				t.Fatal(err)
			}
		}, "Grant-CsAdminRole demoted@contoso.test", psgate.CodeCommandNotFound},
		{"reader reads", func() {}, "Get-CsTenant", ""},
		{"store down", func() { fs.fail["RolesOf"] = true }, "Get-CsTenant", psgate.CodeStoreDown},
		{"disabled", func() {
			fs.fail["RolesOf"] = false
			u.Enabled = false
			if _, err := e.db.UpdateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}, "Get-CsTenant", psgate.CodeLogonFailed},
	}
	for _, s := range steps {
		s.change()
		if got := runCode(rs, s.line); got != s.want {
			t.Errorf("%s: %q = code %q, want %q", s.name, s.line, got, s.want)
		}
	}
}

// TestCommandAuditedBeforeItRuns: each command of a line has a durable
// started record before it runs, and that record holds the outcome after;
// a command whose start cannot be recorded does not run.
func TestCommandAuditedBeforeItRuns(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	fs := &failingStore{Store: e.db, fail: map[string]bool{}}
	a := e.admitter(t, func(c *Config) { c.Store = fs })
	u := e.addUser(t, e.tenant, "admin", store.RoleTenantAdministrator)
	var ran []string
	var seenBefore []string
	cat := testCatalog(func(ctx context.Context, name string) {
		ran = append(ran, name)
		for _, r := range e.audits(t, e.tenant.ID, store.ActionCommand) {
			if r.Cmdlet == name && r.Outcome == store.OutcomeStarted {
				seenBefore = append(seenBefore, name)
				return
			}
		}
	})
	rs := grantedRunspace(t, e, a, u, "S1", cat)
	line := "Set-CsUser bob@contoso.test -Pi 1234; Get-CsTenant -NoSuchParameter; Get-CsTenant"
	err := rs.RunScript(ctx, line, nil, nopSink{})
	if psgate.CodeOf(err) != psgate.CodeParameterNotFound {
		t.Fatalf("RunScript() error = %v, want the second statement's engine.parameter-not-found", err)
	}
	if want := []string{"Set-CsUser", "Get-CsTenant"}; strings.Join(seenBefore, ",") != strings.Join(want, ",") {
		t.Errorf("commands that found their started record when they ran = %v, want %v (ran %v)", seenBefore, want, ran)
	}
	recs := e.audits(t, e.tenant.ID, store.ActionCommand)
	type rec struct{ cmdlet, outcome, code, params string }
	var got []rec
	ids := map[string]bool{}
	for i := len(recs) - 1; i >= 0; i-- { // oldest first
		r := recs[i]
		if r.ShellID != "S1" || r.UPN != u.UPN || r.ClientAddr != "192.0.2.10" || r.CommandID == "" {
			t.Errorf("record %+v: want shell S1 of %s from 192.0.2.10, with a command ID", r, u.UPN)
		}
		if ids[r.CommandID] {
			t.Errorf("command ID %s has two records", r.CommandID)
		}
		ids[r.CommandID] = true
		got = append(got, rec{r.Cmdlet, r.Outcome, r.Code, r.Parameters})
	}
	want := []rec{
		{"Set-CsUser", "ok", "", `{"#0":"bob@contoso.test","Pin":"[redacted]"}`},
		{"Get-CsTenant", "error", string(psgate.CodeParameterNotFound), `{"NoSuchParameter":null}`},
		{"Get-CsTenant", "ok", "", ""},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("records = %+v, want one per command, completed: %+v", got, want)
	}

	// The store refuses the started record: the command does not run.
	ran = nil
	fs.fail["AppendAudit"] = true
	if got := runCode(rs, "Set-CsUser bob@contoso.test"); got != psgate.CodeStoreDown {
		t.Errorf("with the audit log down, code = %q, want %q", got, psgate.CodeStoreDown)
	}
	if len(ran) != 0 {
		t.Errorf("with the audit log down, %v ran", ran)
	}
}

// BenchmarkCommand measures what the per-command checks add to running
// one command: "fixed" is a shell whose roles were read at admission,
// "live" re-reads the account and roles, writes the started audit record
// on SQLite before the command and completes it after; "refresh-only"
// is the re-read alone.
func BenchmarkCommand(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b)
	a := e.admitter(b)
	u := e.addUser(b, e.tenant, "bench", store.RoleTenantAdministrator, store.RoleHelpdesk)
	cat := testCatalog(nil)
	live := grantedRunspace(b, e, a, u, "S1", cat)
	roles, err := e.db.RolesOf(ctx, e.tenant.ID, u.ID)
	if err != nil {
		b.Fatal(err)
	}
	fixed := engine.NewRunspace(engine.RunspaceConfig{Catalog: cat, Authorizer: rbac.NewAuthorizer(roles, e.tenant.ID, e.db)})
	b.Run("refresh-only", func(b *testing.B) {
		_, auth, err := a.Admit(ctx, e.request(e.tenant, u, "S2"))
		if err != nil {
			b.Fatal(err)
		}
		rf := auth.(engine.Refresher)
		for b.Loop() {
			if _, err := rf.Refresh(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, bc := range []struct {
		name string
		rs   *engine.Runspace
	}{{"fixed", fixed}, {"live", live}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if err := bc.rs.RunScript(ctx, "Get-CsTenant contoso", nil, nopSink{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func (f *failingStore) RolesOf(ctx context.Context, tenantID psgate.TenantID, userID psgate.UserID) ([]store.Role, error) {
	if f.fail["RolesOf"] {
		return nil, errDown
	}
	return f.Store.RolesOf(ctx, tenantID, userID)
}

// Each command's context names the caller's roles as re-read for it, so
// what passes the caller on (a module cmdlet's backend token) does not name
// the roles of the shell's admission.
func TestRefreshCarriesCurrentRoles(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := e.admitter(t)
	u := e.addUser(t, e.tenant, "helper", store.RoleHelpdesk)
	_, auth, err := a.Admit(ctx, e.request(e.tenant, u, "S1"))
	if err != nil {
		t.Fatal(err)
	}
	rf := auth.(engine.Refresher)
	cmdCtx, err := rf.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if roles, ok := psgate.Roles(cmdCtx); !ok || !slices.Equal(roles, []string{store.RoleHelpdesk}) {
		t.Errorf("roles before the change: %v, %v", roles, ok)
	}
	reader, err := e.db.RoleByName(ctx, e.tenant.ID, store.RoleTenantReader)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.Assign(ctx, store.Assignment{TenantID: e.tenant.ID, UserID: u.ID, RoleID: reader.ID}); err != nil {
		t.Fatal(err)
	}
	cmdCtx, err = rf.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if roles, _ := psgate.Roles(cmdCtx); !slices.Contains(roles, store.RoleTenantReader) {
		t.Errorf("roles after Tenant Reader was assigned: %v", roles)
	}
}

// TestCachedRightsValidatedByTheAuditCommit: with the directory cache in
// front of the store (as the server runs), the generation read by the
// commit of a command's started record validates the cache for the
// command's rights check, so a command costs no generation read of its
// own, and a revocation or a disabled account written past the cache (by
// another node) still applies to the next command.
func TestCachedRightsValidatedByTheAuditCommit(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := cache.New(e.db)
	a := e.admitter(t, func(cfg *Config) { cfg.Store, cfg.Pin = c, c.Pin })
	e.addUser(t, e.tenant, "other-admin", store.RoleTenantAdministrator)
	u := e.addUser(t, e.tenant, "demoted", store.RoleTenantAdministrator)
	rs := grantedRunspace(t, e, a, u, "S1", testCatalog(nil))
	admin, err := e.db.RoleByName(ctx, e.tenant.ID, store.RoleTenantAdministrator)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		change func()
		line   string
		want   psgate.Code
		// statements is the number of pipelines the line runs, each
		// audited (and validated) on its own.
		statements int64
	}{
		{"administrator", func() {}, "Grant-CsAdminRole demoted@contoso.test", "", 1},
		{"again, from memory", func() {}, "Get-CsTenant; Get-CsTenant", "", 2},
		{"a pipeline: one commit for its records", func() {}, "Get-CsTenant | Set-CsUser bob@contoso.test", "", 1},
		{"demoted elsewhere", func() {
			if err := e.db.Revoke(ctx, e.tenant.ID, u.ID, admin.ID); err != nil {
				t.Fatal(err)
			}
		}, "Get-CsTenant", psgate.CodeNoAdminRole, 1},
		{"re-granted elsewhere", func() {
			if err := e.db.Assign(ctx, store.Assignment{TenantID: e.tenant.ID, UserID: u.ID, RoleID: admin.ID}); err != nil {
				t.Fatal(err)
			}
		}, "Get-CsTenant", "", 1},
		{"disabled elsewhere", func() {
			u.Enabled = false
			if _, err := e.db.UpdateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}, "Get-CsTenant", psgate.CodeLogonFailed, 1},
	}
	for _, s := range steps {
		s.change()
		before := c.Stats()
		if got := runCode(rs, s.line); got != s.want {
			t.Errorf("%s: %q = code %q, want %q", s.name, s.line, got, s.want)
		}
		after := c.Stats()
		if reads, audit := after.Validations-before.Validations, after.AuditValidations-before.AuditValidations; reads != 0 || audit != s.statements {
			t.Errorf("%s: %q read the directory generation %d times itself and %d times in audit commits, want 0 and %d",
				s.name, s.line, reads, audit, s.statements)
		}
	}
	recs, err := e.db.SearchAudit(ctx, store.AuditFilter{TenantID: e.tenant.ID, ShellID: "S1", Action: store.ActionCommand})
	if err != nil {
		t.Fatal(err)
	}
	var cmdlets []string
	for _, r := range recs {
		if r.Outcome == store.OutcomeStarted {
			t.Errorf("record %d (%s) still started after its pipeline ended", r.ID, r.Cmdlet)
		}
		cmdlets = append(cmdlets, r.Cmdlet)
	}
	slices.Reverse(cmdlets)
	want := []string{"Grant-CsAdminRole", "Get-CsTenant", "Get-CsTenant", "Get-CsTenant", "Set-CsUser",
		"Get-CsTenant", "Get-CsTenant", "Get-CsTenant"}
	if !slices.Equal(cmdlets, want) {
		t.Errorf("audited commands %v, want %v", cmdlets, want)
	}
}

package cmdlets

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/engine/builtin"
	"github.com/psgate/psgate/format"
	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/rbac"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/postgres"
	"github.com/psgate/psgate/store/sqlite"
)

// Both stores satisfy the cmdlets' port.
var (
	_ Directory = (*sqlite.DB)(nil)
	_ Directory = (*postgres.DB)(nil)
)

// adminEnv is a real SQLite store with two tenants:
//
//	contoso: admin (Tenant Administrator), help (Helpdesk), adele (no role),
//	         megan (no role)
//	fabrikam: boss (Tenant Administrator)
//
// and live sessions: admin s-admin-1; help s-help-1, s-help-2; boss s-boss-1.
type adminEnv struct {
	db                         *sqlite.DB
	contoso, fabrikam          store.Tenant
	admin, help, adele, megan  store.User
	boss                       store.User
	closer                     *fakeCloser
	callAdmin, callHelp, callB engine.Caller
}

type fakeCloser struct {
	mu     sync.Mutex
	closed []string
}

func (c *fakeCloser) CloseSession(_ context.Context, shellID, by string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = append(c.closed, shellID+" by "+by)
	return true
}

func newAdminEnv(t *testing.T) *adminEnv {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "psgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &adminEnv{db: db, closer: &fakeCloser{}}
	mustTenant := func(name string) store.Tenant {
		tn, err := db.CreateTenant(ctx, store.Tenant{Name: name, Domain: name + ".test", DisplayName: name, Policy: store.DefaultPolicy()})
		if err != nil {
			t.Fatal(err)
		}
		return tn
	}
	e.contoso, e.fabrikam = mustTenant("contoso"), mustTenant("fabrikam")
	mustUser := func(tn store.Tenant, local, name, role string) store.User {
		u, err := db.CreateUser(ctx, store.User{TenantID: tn.ID, UPN: local + "@" + tn.Domain, DisplayName: name, Enabled: true, Department: "IT"})
		if err != nil {
			t.Fatal(err)
		}
		if role != "" {
			r, err := db.RoleByName(ctx, tn.ID, role)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Assign(ctx, store.Assignment{TenantID: tn.ID, UserID: u.ID, RoleID: r.ID, AssignedBy: "test"}); err != nil {
				t.Fatal(err)
			}
		}
		return u
	}
	e.admin = mustUser(e.contoso, "admin", "Contoso Admin", store.RoleTenantAdministrator)
	e.help = mustUser(e.contoso, "help", "Help Desk", store.RoleHelpdesk)
	e.adele = mustUser(e.contoso, "adele", "Adele Vance", "")
	e.megan = mustUser(e.contoso, "megan", "Megan Bowen", "")
	e.boss = mustUser(e.fabrikam, "boss", "Fabrikam Boss", store.RoleTenantAdministrator)
	for _, l := range []struct {
		shell string
		u     store.User
	}{{"s-admin-1", e.admin}, {"s-help-1", e.help}, {"s-help-2", e.help}, {"s-boss-1", e.boss}} {
		if _, err := db.AcquireLease(ctx, store.LeaseRequest{
			ShellID: l.shell, TenantID: l.u.TenantID, UserID: l.u.ID, NodeID: "node-a", Kind: store.KindPSRP,
			ClientAddr: "192.0.2.7", UserAgent: "Microsoft WinRM Client", MaxPerUser: 3, MaxPerTenant: 20, TTL: time.Minute,
		}); err != nil {
			t.Fatal(err)
		}
	}
	caller := func(tn store.Tenant, u store.User, shell string) engine.Caller {
		return engine.Caller{Principal: psgate.Principal{TenantID: tn.ID, Tenant: tn.Name, UserID: u.ID, UPN: u.UPN}, ShellID: shell}
	}
	e.callAdmin = caller(e.contoso, e.admin, "s-admin-1")
	e.callHelp = caller(e.contoso, e.help, "s-help-1")
	e.callB = caller(e.fabrikam, e.boss, "s-boss-1")
	return e
}

// adminSink records output, errors and host text.
type adminSink struct {
	sink
	host []string
}

func (s *adminSink) Information(r engine.InformationRecord) {
	s.host = append(s.host, psobject.Format(r.MessageData))
}

// run runs a line in a real runspace with the built-in commands and the
// package's cmdlets, with the fake session closer.
func (e *adminEnv) run(t *testing.T, caller engine.Caller, line string) (*adminSink, error) {
	t.Helper()
	cat := engine.NewCatalog()
	if err := builtin.Register(cat); err != nil {
		t.Fatal(err)
	}
	if err := Register(cat, e.db, WithSessionCloser(e.closer)); err != nil {
		t.Fatal(err)
	}
	rs := engine.NewRunspace(engine.RunspaceConfig{Catalog: cat, Caller: caller})
	s := &adminSink{}
	err := rs.RunScript(t.Context(), line, nil, s)
	return s, err
}

// mustRun runs a line that must not fail and must write no error record.
func (e *adminEnv) mustRun(t *testing.T, caller engine.Caller, line string) *adminSink {
	t.Helper()
	s, err := e.run(t, caller, line)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	for _, r := range s.errs {
		t.Errorf("%s: error record %s: %s", line, r.FullyQualifiedErrorID, r.Message())
	}
	return s
}

// prop returns a property of each output object.
func prop(t *testing.T, out []any, name string) []any {
	t.Helper()
	var vs []any
	for _, o := range out {
		v, ok := o.(*psobject.Object).Get(name)
		if !ok {
			t.Fatalf("object %v has no property %s", o, name)
		}
		vs = append(vs, v)
	}
	return vs
}

// oneError checks that exactly one error record with the FQID and
// message was written.
func oneError(t *testing.T, s *adminSink, err error, fqid, msg string) {
	t.Helper()
	if err != nil {
		t.Fatalf("terminating error %v, want a non-terminating record", err)
	}
	if len(s.errs) != 1 {
		t.Fatalf("%d error records, want 1 (%s)", len(s.errs), fqid)
	}
	got := [2]string{s.errs[0].FullyQualifiedErrorID, s.errs[0].Message()}
	if diff := cmp.Diff([2]string{fqid, msg}, got); diff != "" {
		t.Errorf("error record mismatch (-want +got):\n%s", diff)
	}
}

func TestSetCsUser(t *testing.T) {
	e := newAdminEnv(t)
	ctx := t.Context()
	s := e.mustRun(t, e.callAdmin, "Set-CsUser -Identity adele@contoso.test -EnterpriseVoiceEnabled $true -LineURI TEL:+14255550100 -Department Sales -UsageLocation de")
	if len(s.out) != 0 {
		t.Errorf("Set-CsUser wrote %d objects without -PassThru, want none", len(s.out))
	}
	u, _ := e.db.User(ctx, e.adele.ID)
	got := []any{u.EnterpriseVoiceEnabled, u.LineURI, u.Department, u.UsageLocation, u.DisplayName}
	if diff := cmp.Diff([]any{true, "tel:+14255550100", "Sales", "DE", "Adele Vance"}, got); diff != "" {
		t.Errorf("stored user mismatch (-want +got):\n%s", diff)
	}

	s = e.mustRun(t, e.callAdmin, "Set-CsUser 'Megan Bowen' -Enabled $false -Title Lawyer -PassThru")
	if diff := cmp.Diff([]any{false}, prop(t, s.out, "Enabled")); diff != "" {
		t.Errorf("-PassThru Enabled mismatch (-want +got):\n%s", diff)
	}

	// Piped from Get-CsOnlineUser (binds Identity, the object id).
	e.mustRun(t, e.callAdmin, "Get-CsOnlineUser -Identity help@contoso.test | Set-CsUser -Title Helper")
	if u, _ := e.db.User(ctx, e.help.ID); u.Title != "Helper" {
		t.Errorf("piped Set-CsUser: title %q, want Helper", u.Title)
	}
}

func TestSetCsUserWhatIf(t *testing.T) {
	e := newAdminEnv(t)
	s := e.mustRun(t, e.callAdmin, "Set-CsUser -Identity adele@contoso.test -Department Legal -WhatIf")
	want := []string{`What if: Performing the operation "Set-CsUser" on target "adele@contoso.test".`}
	if diff := cmp.Diff(want, s.host); diff != "" {
		t.Errorf("host output mismatch (-want +got):\n%s", diff)
	}
	if u, _ := e.db.User(t.Context(), e.adele.ID); u.Department != "IT" {
		t.Errorf("-WhatIf changed the department to %q", u.Department)
	}
}

func TestSetCsUserRefusals(t *testing.T) {
	e := newAdminEnv(t)
	// Another tenant's user is not found, by UPN or object id.
	for _, id := range []string{"adele@contoso.test", e.adele.ObjectID} {
		s, err := e.run(t, e.callB, "Set-CsUser -Identity '"+id+"' -Department Hacked")
		oneError(t, s, err, "ObjectNotFound,Set-CsUser", "Cannot find an object with identity '"+id+"' in tenant 'fabrikam'.")
	}
	if u, _ := e.db.User(t.Context(), e.adele.ID); u.Department != "IT" {
		t.Errorf("fabrikam changed contoso's user: department %q", u.Department)
	}
	_, err := e.run(t, e.callAdmin, "Set-CsUser -Identity adele@contoso.test -LineURI 4255550100")
	var te *engine.TerminatingError
	if !errors.As(err, &te) || te.Record.Err.Code != psgate.CodeParameterValidation ||
		!strings.Contains(te.Record.Message(), "tel:+14255550100") {
		t.Errorf("bad LineURI: error %v, want a parameter validation error showing the tel URI form", err)
	}
	if _, err := e.run(t, e.callAdmin, "Set-CsUser -Identity adele@contoso.test -UsageLocation USA"); err == nil {
		t.Error("UsageLocation USA accepted, want a two-letter country code")
	}
}

func TestGetCsAdminRole(t *testing.T) {
	e := newAdminEnv(t)
	s := e.mustRun(t, e.callAdmin, "Get-CsAdminRole")
	names := prop(t, s.out, "Name")
	if diff := cmp.Diff([]any{"Tenant Administrator", "Tenant Reader", "Helpdesk"}, names); diff != "" {
		t.Errorf("roles mismatch (-want +got):\n%s", diff)
	}
	members := prop(t, s.out, "Members")
	if diff := cmp.Diff([]any{[]any{"admin@contoso.test"}, []any{}, []any{"help@contoso.test"}}, members); diff != "" {
		t.Errorf("contoso members mismatch (-want +got):\n%s", diff)
	}
	// fabrikam sees its own members only.
	s = e.mustRun(t, e.callB, "Get-CsAdminRole -Identity 'tenant administrator'")
	if diff := cmp.Diff([]any{[]any{"boss@fabrikam.test"}}, prop(t, s.out, "Members")); diff != "" {
		t.Errorf("fabrikam members mismatch (-want +got):\n%s", diff)
	}
	s = e.mustRun(t, e.callAdmin, "Get-CsAdminRole Help*")
	entries := prop(t, s.out, "Entries")[0].([]any)
	if got := entries[1].(*psobject.Object).String(); got != "allow Set-CsUser -Identity, -EnterpriseVoiceEnabled, -LineURI" {
		t.Errorf("Helpdesk entry 2 reads %q", got)
	}
	s, err := e.run(t, e.callAdmin, "Get-CsAdminRole -Identity Nobody")
	oneError(t, s, err, "ObjectNotFound,Get-CsAdminRole", "Cannot find an object with identity 'Nobody' in tenant 'contoso'.")
}

func TestGrantRevokeCsAdminRole(t *testing.T) {
	e := newAdminEnv(t)
	ctx := t.Context()
	e.mustRun(t, e.callAdmin, "Grant-CsAdminRole -Identity adele@contoso.test -Role 'tenant reader'")
	roles, _ := e.db.RolesOf(ctx, e.contoso.ID, e.adele.ID)
	if len(roles) != 1 || roles[0].Name != store.RoleTenantReader {
		t.Fatalf("adele's roles after grant: %v", roles)
	}
	s, err := e.run(t, e.callAdmin, "Grant-CsAdminRole adele@contoso.test 'Tenant Reader'")
	oneError(t, s, err, "RoleAlreadyAssigned,Grant-CsAdminRole", "The user 'adele@contoso.test' already holds the role 'Tenant Reader'.")

	e.mustRun(t, e.callAdmin, "Revoke-CsAdminRole -Identity adele@contoso.test -Role 'Tenant Reader'")
	s, err = e.run(t, e.callAdmin, "Revoke-CsAdminRole -Identity adele@contoso.test -Role 'Tenant Reader'")
	oneError(t, s, err, "RoleNotAssigned,Revoke-CsAdminRole", "The user 'adele@contoso.test' does not hold the role 'Tenant Reader'.")

	s, err = e.run(t, e.callAdmin, "Grant-CsAdminRole -Identity adele@contoso.test -Role Superuser")
	oneError(t, s, err, "ObjectNotFound,Grant-CsAdminRole", "Cannot find an object with identity 'Superuser' in tenant 'contoso'.")
	if res := s.errs[0].Err.Resolution; !strings.Contains(res, "'Helpdesk'") {
		t.Errorf("unknown role resolution %q does not list the roles", res)
	}

	// Another tenant's user cannot be granted a role.
	s, err = e.run(t, e.callB, "Grant-CsAdminRole -Identity adele@contoso.test -Role 'Tenant Administrator'")
	oneError(t, s, err, "ObjectNotFound,Grant-CsAdminRole", "Cannot find an object with identity 'adele@contoso.test' in tenant 'fabrikam'.")

	// -WhatIf assigns nothing.
	e.mustRun(t, e.callAdmin, "Grant-CsAdminRole -Identity megan@contoso.test -Role Helpdesk -WhatIf")
	if roles, _ := e.db.RolesOf(ctx, e.contoso.ID, e.megan.ID); len(roles) != 0 {
		t.Errorf("-WhatIf assigned %v", roles)
	}
}

func TestRevokeLastAdministrator(t *testing.T) {
	e := newAdminEnv(t)
	s, err := e.run(t, e.callAdmin, "Revoke-CsAdminRole -Identity admin@contoso.test -Role 'Tenant Administrator'")
	oneError(t, s, err, "LastAdministrator,Revoke-CsAdminRole",
		"The role 'Tenant Administrator' cannot be revoked from 'admin@contoso.test': it is the last administrator of tenant 'contoso'.")
	if s.errs[0].Err.Code != psgate.CodeLastAdmin || s.errs[0].Err.Resolution != "Grant the role to another user first." {
		t.Errorf("last admin: code %s, resolution %q", s.errs[0].Err.Code, s.errs[0].Err.Resolution)
	}
	// With a second administrator the first may go.
	e.mustRun(t, e.callAdmin, "Grant-CsAdminRole -Identity adele@contoso.test -Role 'Tenant Administrator'")
	e.mustRun(t, e.callAdmin, "Revoke-CsAdminRole -Identity admin@contoso.test -Role 'Tenant Administrator'")
	// -ErrorAction Stop makes the refusal terminating.
	_, err = e.run(t, e.callAdmin, "Revoke-CsAdminRole -Identity adele@contoso.test -Role 'Tenant Administrator' -ErrorAction Stop")
	if psgate.CodeOf(err) != psgate.CodeLastAdmin {
		t.Errorf("-ErrorAction Stop: error %v, want %s", err, psgate.CodeLastAdmin)
	}
}

func TestGetCsTenantPowerShellPolicy(t *testing.T) {
	e := newAdminEnv(t)
	p := store.DefaultPolicy()
	p.MaxShellsPerUser, p.AllowPasswordAuthentication = 1, true
	if err := e.db.UpdatePolicy(t.Context(), e.fabrikam.ID, p); err != nil {
		t.Fatal(err)
	}
	names := []string{"EnableRemotePowerShellAccess", "MaxShellsPerUser", "MaxShellsPerTenant", "SessionLifetime",
		"IdleTimeout", "MaxShellCreationsPerMinute", "AllowPasswordAuthentication"}
	get := func(c engine.Caller) []any {
		s := e.mustRun(t, c, "Get-CsTenantPowerShellPolicy")
		if len(s.out) != 1 || s.out[0].(*psobject.Object).TypeNames[0] != TypeTenantPowerShellPolicy {
			t.Fatalf("wrote %v", s.out)
		}
		var vs []any
		for _, n := range names {
			vs = append(vs, prop(t, s.out, n)[0])
		}
		return vs
	}
	if diff := cmp.Diff([]any{true, int32(3), int32(20), time.Hour, 15 * time.Minute, int32(30), false}, get(e.callAdmin)); diff != "" {
		t.Errorf("contoso policy mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{true, int32(1), int32(20), time.Hour, 15 * time.Minute, int32(30), true}, get(e.callB)); diff != "" {
		t.Errorf("fabrikam policy mismatch (-want +got):\n%s", diff)
	}
}

func TestGetCsOnlineSession(t *testing.T) {
	e := newAdminEnv(t)
	tests := []struct {
		name   string
		caller engine.Caller
		line   string
		want   []any
	}{
		{name: "administrator sees the tenant", caller: e.callAdmin, line: "Get-CsOnlineSession", want: []any{"s-admin-1", "s-help-1", "s-help-2"}},
		{name: "administrator filters by user", caller: e.callAdmin, line: "Get-CsOnlineSession -User HELP@contoso.test", want: []any{"s-help-1", "s-help-2"}},
		{name: "helpdesk sees its own", caller: e.callHelp, line: "Get-CsOnlineSession", want: []any{"s-help-1", "s-help-2"}},
		{name: "helpdesk names itself", caller: e.callHelp, line: "Get-CsOnlineSession help@contoso.test", want: []any{"s-help-1", "s-help-2"}},
		{name: "other tenant", caller: e.callB, line: "Get-CsOnlineSession", want: []any{"s-boss-1"}},
		{name: "other tenant's user", caller: e.callB, line: "Get-CsOnlineSession -User admin@contoso.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := e.mustRun(t, tt.caller, tt.line)
			if diff := cmp.Diff(tt.want, prop(t, s.out, "Identity")); diff != "" {
				t.Errorf("sessions mismatch (-want +got):\n%s", diff)
			}
		})
	}
	s := e.mustRun(t, e.callHelp, "Get-CsOnlineSession")
	o := s.out[0].(*psobject.Object)
	for name, want := range map[string]any{"User": "help@contoso.test", "ClientAddress": "192.0.2.7", "UserAgent": "Microsoft WinRM Client",
		"Kind": "psrp", "State": "connected", "IsCurrentSession": true} {
		if got, _ := o.Get(name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	for _, name := range []string{"OpenedAt", "LastActive", "ExpiresAt"} {
		if got, _ := o.Get(name); got == nil {
			t.Errorf("%s is not set", name)
		}
	}
	_, err := e.run(t, e.callHelp, "Get-CsOnlineSession -User admin@contoso.test")
	if psgate.CodeOf(err) != psgate.CodeForbidden {
		t.Errorf("helpdesk asking for the admin's sessions: %v, want %s", err, psgate.CodeForbidden)
	}
}

func TestRemoveCsOnlineSession(t *testing.T) {
	e := newAdminEnv(t)
	ctx := t.Context()
	live := func() []string {
		ls, err := e.db.Leases(ctx, store.LeaseFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, l := range ls {
			ids = append(ids, l.ShellID)
		}
		slices.Sort(ids)
		return ids
	}

	// A user may not remove somebody else's session.
	s, err := e.run(t, e.callHelp, "Remove-CsOnlineSession -Identity s-admin-1")
	oneError(t, s, err, "AccessDenied,Remove-CsOnlineSession",
		"Access is denied: you can remove only your own sessions; a tenant administrator can remove any session of the tenant.")
	// Another tenant's session is not found, even for its administrator.
	s, err = e.run(t, e.callB, "Remove-CsOnlineSession s-help-1")
	oneError(t, s, err, "ObjectNotFound,Remove-CsOnlineSession", "Cannot find an object with identity 's-help-1' in tenant 'fabrikam'.")
	// -WhatIf frees nothing.
	s = e.mustRun(t, e.callHelp, "Remove-CsOnlineSession s-help-2 -WhatIf")
	if len(s.host) != 1 || !strings.Contains(s.host[0], `on target "s-help-2 (help@contoso.test)"`) {
		t.Errorf("-WhatIf host output %q", s.host)
	}
	if diff := cmp.Diff([]string{"s-admin-1", "s-boss-1", "s-help-1", "s-help-2"}, live()); diff != "" {
		t.Fatalf("leases after refusals mismatch (-want +got):\n%s", diff)
	}

	// Own session, piped from Get-CsOnlineSession.
	e.mustRun(t, e.callHelp, "Get-CsOnlineSession | Where-Object IsCurrentSession -eq $false | Remove-CsOnlineSession")
	// An administrator removes anyone's.
	e.mustRun(t, e.callAdmin, "Remove-CsOnlineSession -Identity s-help-1")
	if diff := cmp.Diff([]string{"s-admin-1", "s-boss-1"}, live()); diff != "" {
		t.Errorf("leases after removal mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"s-help-2 by help@contoso.test", "s-help-1 by admin@contoso.test"}, e.closer.closed); diff != "" {
		t.Errorf("closed shells mismatch (-want +got):\n%s", diff)
	}
	s, err = e.run(t, e.callAdmin, "Remove-CsOnlineSession -Identity s-help-1")
	oneError(t, s, err, "ObjectNotFound,Remove-CsOnlineSession", "Cannot find an object with identity 's-help-1' in tenant 'contoso'.")
}

func TestRemoveCsOnlineSessionWithoutCloser(t *testing.T) {
	e := newAdminEnv(t)
	cat := engine.NewCatalog()
	if err := Register(cat, e.db, WithSessionCloser(nil)); err != nil {
		t.Fatal(err)
	}
	rs := engine.NewRunspace(engine.RunspaceConfig{Catalog: cat, Caller: e.callAdmin})
	s := &adminSink{}
	if err := rs.RunScript(t.Context(), "Remove-CsOnlineSession s-help-1", nil, s); err != nil || len(s.errs) > 0 {
		t.Fatalf("Remove-CsOnlineSession: %v %v", err, s.errs)
	}
	if _, err := e.db.Lease(t.Context(), "s-help-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("lease after removal: %v, want not found", err)
	}
}

func TestSearchCsAdminAuditLog(t *testing.T) {
	e := newAdminEnv(t)
	ctx := t.Context()
	base := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i, r := range []store.AuditRecord{
		{TenantID: e.contoso.ID, UserID: e.admin.ID, UPN: e.admin.UPN, Action: store.ActionSessionOpen, Outcome: store.OutcomeOK},
		{TenantID: e.contoso.ID, UserID: e.help.ID, UPN: e.help.UPN, Action: store.ActionCommand, Cmdlet: "Set-CsUser", Outcome: store.OutcomeOK},
		{TenantID: e.fabrikam.ID, UserID: e.boss.ID, UPN: e.boss.UPN, Action: store.ActionCommand, Cmdlet: "Get-CsTenant", Outcome: store.OutcomeOK},
		{TenantID: e.contoso.ID, UserID: e.help.ID, UPN: e.help.UPN, Action: store.ActionSessionRefused, Outcome: store.OutcomeRefused, Code: "admission.user-quota-exceeded"},
	} {
		r.Time = base.Add(time.Duration(i) * time.Minute)
		if _, err := e.db.AppendAudit(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		caller engine.Caller
		line   string
		want   []any
	}{
		{name: "own tenant, newest first", caller: e.callAdmin, line: "Search-CsAdminAuditLog", want: []any{"session.refused", "Set-CsUser", "session.open"}},
		{name: "other tenant", caller: e.callB, line: "Search-CsAdminAuditLog", want: []any{"Get-CsTenant"}},
		{name: "by user", caller: e.callAdmin, line: "Search-CsAdminAuditLog -User HELP@contoso.test", want: []any{"session.refused", "Set-CsUser"}},
		{name: "by action prefix", caller: e.callAdmin, line: "Search-CsAdminAuditLog -Action session.*", want: []any{"session.refused", "session.open"}},
		{name: "by time", caller: e.callAdmin, line: "Search-CsAdminAuditLog -StartTime '2026-05-01T12:01:00Z' -EndTime '2026-05-01T12:03:00Z'", want: []any{"Set-CsUser"}},
		{name: "result size", caller: e.callAdmin, line: "Search-CsAdminAuditLog -ResultSize 1", want: []any{"session.refused"}},
		{name: "other tenant's user", caller: e.callB, line: "Search-CsAdminAuditLog -User admin@contoso.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := e.mustRun(t, tt.caller, tt.line)
			if diff := cmp.Diff(tt.want, prop(t, s.out, "Operation")); diff != "" {
				t.Errorf("records mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTestCsAdminPermission(t *testing.T) {
	e := newAdminEnv(t)
	tests := []struct {
		name        string
		caller      engine.Caller
		line        string
		wantAllowed bool
		wantUser    string
		wantGranted []any
		wantReason  string
	}{
		{
			name: "helpdesk may set a phone number", caller: e.callHelp,
			line:        "Test-CsAdminPermission -Cmdlet set-csuser -Parameter '-LineURI'",
			wantAllowed: true, wantUser: "help@contoso.test", wantGranted: []any{"Helpdesk"},
			wantReason: "Parameter 'LineURI' of Set-CsUser is allowed by role 'Helpdesk'.",
		},
		{
			name: "helpdesk may not set a department", caller: e.callHelp,
			line:     "Test-CsAdminPermission Set-CsUser Department",
			wantUser: "help@contoso.test", wantGranted: []any{},
			wantReason: "None of your roles allows parameter 'Department' of Set-CsUser.",
		},
		{
			name: "administrator asks for a user without roles", caller: e.callAdmin,
			line:     "Test-CsAdminPermission -Cmdlet Get-CsTenant -User 'Adele Vance'",
			wantUser: "adele@contoso.test", wantGranted: []any{},
			wantReason: "None of your roles allows Get-CsTenant.",
		},
		{
			name: "administrator", caller: e.callAdmin,
			line:        "Test-CsAdminPermission -Cmdlet Grant-CsAdminRole",
			wantAllowed: true, wantUser: "admin@contoso.test", wantGranted: []any{"Tenant Administrator"},
			wantReason: "Grant-CsAdminRole is allowed by role 'Tenant Administrator'.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := e.mustRun(t, tt.caller, tt.line)
			if len(s.out) != 1 {
				t.Fatalf("wrote %d objects", len(s.out))
			}
			got := []any{prop(t, s.out, "Allowed")[0], prop(t, s.out, "User")[0], prop(t, s.out, "GrantedBy")[0], prop(t, s.out, "Reason")[0]}
			want := []any{tt.wantAllowed, tt.wantUser, tt.wantGranted, tt.wantReason}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("explanation mismatch (-want +got):\n%s", diff)
			}
		})
	}
	s, err := e.run(t, e.callB, "Test-CsAdminPermission -Cmdlet Get-CsTenant -User adele@contoso.test")
	oneError(t, s, err, "ObjectNotFound,Test-CsAdminPermission", "Cannot find an object with identity 'adele@contoso.test' in tenant 'fabrikam'.")
	s, err = e.run(t, e.callHelp, "Test-CsAdminPermission -Cmdlet Get-CsTenant -User admin@contoso.test")
	oneError(t, s, err, "AccessDenied,Test-CsAdminPermission",
		"Access is denied: only a tenant administrator can test the permissions of other users; run Test-CsAdminPermission without -User to test your own.")
	e.mustRun(t, e.callHelp, "Test-CsAdminPermission -Cmdlet Get-CsTenant -User help@contoso.test")
}

// The default views are tables for lists of roles and sessions, and
// lists for the policy and permission answers.
func TestAdminDefaultViews(t *testing.T) {
	e := newAdminEnv(t)
	tests := []struct {
		line, want string
	}{
		{"Get-CsAdminRole", "\nName                 Scope   Members              Description\n"},
		{"Get-CsOnlineSession -User help@contoso.test", "\nIdentity User              ClientAddress LastActive\n"},
		{"Get-CsTenantPowerShellPolicy", "\n\nIdentity                     : Global\nEnableRemotePowerShellAccess : True\n"},
		{"Test-CsAdminPermission Set-CsUser LineURI", "\n\nUser          : admin@contoso.test\nCmdlet        : Set-CsUser\n"},
	}
	for _, tt := range tests {
		s := e.mustRun(t, e.callAdmin, tt.line)
		if got := format.Default(s.out, format.Options{Newline: "\n"}); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s: default view starts\n%q\nwant\n%q", tt.line, got[:min(len(got), len(tt.want)+20)], tt.want)
		}
	}
}

// Trimmed by the Helpdesk role's authorizer, the runspace runs the voice
// settings of Set-CsUser and refuses the rest.
func TestHelpdeskThroughAuthorizer(t *testing.T) {
	e := newAdminEnv(t)
	roles, err := e.db.RolesOf(t.Context(), e.contoso.ID, e.help.ID)
	if err != nil {
		t.Fatal(err)
	}
	cat := engine.NewCatalog()
	if err := builtin.Register(cat); err != nil {
		t.Fatal(err)
	}
	if err := Register(cat, e.db); err != nil {
		t.Fatal(err)
	}
	rs := engine.NewRunspace(engine.RunspaceConfig{
		Catalog: cat, Caller: e.callHelp, Authorizer: rbac.NewAuthorizer(roles, e.contoso.ID, e.db),
	})
	tests := []struct {
		line string
		want psgate.Code
	}{
		{line: "Set-CsUser adele@contoso.test -LineURI tel:+14255550111 -EnterpriseVoiceEnabled $true"},
		{line: "Remove-CsOnlineSession s-help-2"},
		{line: "Set-CsUser adele@contoso.test -Department Sales", want: psgate.CodeParameterDenied},
		{line: "Grant-CsAdminRole adele@contoso.test Helpdesk", want: psgate.CodeCommandNotFound},
		{line: "Get-CsTenantPowerShellPolicy", want: psgate.CodeCommandNotFound},
	}
	for _, tt := range tests {
		s := &adminSink{}
		err := rs.RunScript(t.Context(), tt.line, nil, s)
		if got := psgate.CodeOf(err); err != nil && got != tt.want || err == nil && tt.want != "" {
			t.Errorf("%s: error %v, want code %q", tt.line, err, tt.want)
		}
	}
	if u, _ := e.db.User(t.Context(), e.adele.ID); u.LineURI != "tel:+14255550111" || u.Department != "IT" {
		t.Errorf("adele after helpdesk: LineURI %q, department %q", u.LineURI, u.Department)
	}
}

// A shell id typed in lower case, or with braces, names the shell: ids are
// GUIDs that the gateway keeps in upper case.
func TestRemoveCsOnlineSessionAnyCase(t *testing.T) {
	e := newAdminEnv(t)
	ctx := t.Context()
	const id = "5C1B2E7A-3F4D-4E0B-9A61-2D8C7E5F1A30"
	if _, err := e.db.AcquireLease(ctx, store.LeaseRequest{
		ShellID: id, TenantID: e.help.TenantID, UserID: e.help.ID, NodeID: "node-a", Kind: store.KindPSRP,
		MaxPerUser: 3, MaxPerTenant: 20, TTL: time.Minute,
	}); err != nil {
		t.Fatal(err)
	}
	e.mustRun(t, e.callAdmin, "Remove-CsOnlineSession -Identity '{"+strings.ToLower(id)+"}'")
	if _, err := e.db.Lease(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("lease of %s after removing it by its lower-case id: %v, want not found", id, err)
	}
}

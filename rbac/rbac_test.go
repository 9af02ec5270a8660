package rbac

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/sqlite"
	"github.com/psgate/psgate/store/sqlite/sqlitetest"
)

func role(name string, entries ...store.RoleEntry) store.Role {
	return store.Role{Name: name, Entries: entries}
}

var (
	adminRole  = role("Tenant Administrator", store.RoleEntry{Cmdlet: "*"})
	readerRole = role("Tenant Reader", store.RoleEntry{Cmdlet: "Get-*"}, store.RoleEntry{Cmdlet: "Search-*"})
	helpdesk   = role("Helpdesk",
		store.RoleEntry{Cmdlet: "Get-CsOnlineUser"},
		store.RoleEntry{Cmdlet: "Set-CsUser", Parameters: []string{"Identity", "EnterpriseVoiceEnabled", "LineURI"}})
	noAudit = role("No Audit", store.RoleEntry{Cmdlet: "Search-CsAdminAuditLog", Deny: true})
	noVoice = role("No Voice", store.RoleEntry{Cmdlet: "Set-*", Parameters: []string{"EnterpriseVoiceEnabled"}, Deny: true})
	sales   = role("Sales Desk", store.RoleEntry{
		Cmdlet: "Set-CsUser", Parameters: []string{"Identity", "Department"},
		AllowedValues: map[string][]string{"department": {"Sales", "Sales-*"}},
	})
	noHQ = role("No HQ", store.RoleEntry{
		Cmdlet: "Set-CsUser", AllowedValues: map[string][]string{"Department": {"HQ"}}, Deny: true,
	})
)

func TestPermissionsVisible(t *testing.T) {
	tests := []struct {
		name   string
		roles  []store.Role
		cmdlet string
		want   bool
	}{
		{"admin sees everything", []store.Role{adminRole}, "Grant-CsAdminRole", true},
		{"reader sees Get-*", []store.Role{readerRole}, "Get-CsTenant", true},
		{"matching is case-insensitive", []store.Role{readerRole}, "get-cstenant", true},
		{"reader does not see Set-*", []store.Role{readerRole}, "Set-CsUser", false},
		{"helpdesk sees its cmdlets", []store.Role{helpdesk}, "Set-CsUser", true},
		{"helpdesk does not see others", []store.Role{helpdesk}, "Get-CsTenant", false},
		{"no roles see nothing", nil, "Get-CsTenant", false},
		{"deny wins over allow", []store.Role{adminRole, noAudit}, "Search-CsAdminAuditLog", false},
		{"deny wins whatever the order", []store.Role{noAudit, readerRole}, "Search-CsAdminAuditLog", false},
		{"deny hides only what it names", []store.Role{adminRole, noAudit}, "Get-CsTenant", true},
		{"a parameter deny leaves the cmdlet visible", []store.Role{adminRole, noVoice}, "Set-CsUser", true},
		{"built-ins need no role", nil, "Get-Command", true},
		{"built-in patterns", nil, "Format-Table", true},
		{"Out-*", nil, "Out-String", true},
		{"Write-*", nil, "Write-Output", true},
		{"Invoke-Expression", nil, "Invoke-Expression", true},
		{"Exit-PSSession", nil, "Exit-PSSession", true},
		{"built-ins survive a deny of everything", []store.Role{role("Nothing", store.RoleEntry{Cmdlet: "*", Deny: true})}, "Get-Help", true},
		{"deny of everything", []store.Role{adminRole, role("Nothing", store.RoleEntry{Cmdlet: "*", Deny: true})}, "Get-CsTenant", false},
		{"a bad pattern matches literally", []store.Role{role("Odd", store.RoleEntry{Cmdlet: "Get-[Cs"})}, "Get-[Cs", true},
		{"a bad pattern is not a wildcard", []store.Role{role("Odd", store.RoleEntry{Cmdlet: "Get-[Cs"})}, "Get-C", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Compile(tt.roles).Visible(tt.cmdlet); got != tt.want {
				t.Errorf("Visible(%q) = %v, want %v", tt.cmdlet, got, tt.want)
			}
		})
	}
}

func TestPermissionsParametersAndValues(t *testing.T) {
	tests := []struct {
		name   string
		roles  []store.Role
		cmdlet string
		param  string
		value  any
		want   bool
	}{
		{"an entry without a list allows every parameter", []store.Role{adminRole}, "Set-CsUser", "Department", "x", true},
		{"allow-list allows listed", []store.Role{helpdesk}, "Set-CsUser", "LineURI", "tel:+1", true},
		{"allow-list case-insensitive", []store.Role{helpdesk}, "Set-CsUser", "lineuri", "tel:+1", true},
		{"allow-list refuses others", []store.Role{helpdesk}, "Set-CsUser", "Department", "x", false},
		{"hidden cmdlet has no parameters", []store.Role{helpdesk}, "Set-CsTenant", "Identity", "x", false},
		{"common parameters are always allowed", []store.Role{helpdesk}, "Set-CsUser", "ErrorAction", "Stop", true},
		{"union of roles", []store.Role{helpdesk, sales}, "Set-CsUser", "Department", "Sales", true},
		{"parameter deny wins", []store.Role{adminRole, noVoice}, "Set-CsUser", "EnterpriseVoiceEnabled", true, false},
		{"parameter deny leaves others", []store.Role{adminRole, noVoice}, "Set-CsUser", "LineURI", "tel:+1", true},
		{"allowed value", []store.Role{sales}, "Set-CsUser", "Department", "sales", true},
		{"allowed value pattern", []store.Role{sales}, "Set-CsUser", "Department", "Sales-West", true},
		{"value outside the list", []store.Role{sales}, "Set-CsUser", "Department", "Finance", false},
		{"each element of a list is checked", []store.Role{sales}, "Set-CsUser", "Department", []string{"Sales", "Finance"}, false},
		{"list of allowed elements", []store.Role{sales}, "Set-CsUser", "Department", []any{"Sales", "Sales-East"}, true},
		{"an unrestricted role widens the values", []store.Role{sales, adminRole}, "Set-CsUser", "Department", "Finance", true},
		{"value deny wins", []store.Role{adminRole, noHQ}, "Set-CsUser", "Department", "hq", false},
		{"value deny leaves other values", []store.Role{adminRole, noHQ}, "Set-CsUser", "Department", "Sales", true},
		{"booleans as True/False", []store.Role{role("Voice off", store.RoleEntry{
			Cmdlet: "Set-CsUser", AllowedValues: map[string][]string{"EnterpriseVoiceEnabled": {"false"}}})},
			"Set-CsUser", "EnterpriseVoiceEnabled", false, true},
		{"booleans refused", []store.Role{role("Voice off", store.RoleEntry{
			Cmdlet: "Set-CsUser", AllowedValues: map[string][]string{"EnterpriseVoiceEnabled": {"false"}}})},
			"Set-CsUser", "EnterpriseVoiceEnabled", true, false},
		{"built-ins take any parameter", nil, "Select-Object", "Property", "*", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Compile(tt.roles).AllowsValue(tt.cmdlet, tt.param, tt.value); got != tt.want {
				t.Errorf("AllowsValue(%s, %s, %v) = %v, want %v", tt.cmdlet, tt.param, tt.value, got, tt.want)
			}
		})
	}
}

// staticLister serves a fixed role list.
type staticLister []store.Role

func (l staticLister) ListRoles(context.Context, psgate.TenantID) ([]store.Role, error) {
	return l, nil
}

func TestAuthorize(t *testing.T) {
	tenantRoles := staticLister{adminRole, readerRole, helpdesk, sales}
	tests := []struct {
		name     string
		roles    []store.Role
		lister   RoleLister
		cmdlet   string
		params   map[string]any
		wantCode psgate.Code
		wantMsg  string
	}{
		{
			name: "allowed", roles: []store.Role{helpdesk}, lister: tenantRoles,
			cmdlet: "Set-CsUser", params: map[string]any{"Identity": "bob", "LineURI": "tel:+1"},
		},
		{
			name: "hidden cmdlet", roles: []store.Role{helpdesk}, lister: tenantRoles,
			cmdlet: "Grant-CsAdminRole", wantCode: psgate.CodeCommandNotFound,
			wantMsg: "The term 'Grant-CsAdminRole' is not recognized as the name of a cmdlet, function, script file, " +
				"or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.",
		},
		{
			name: "parameter names the role that allows it", roles: []store.Role{helpdesk}, lister: staticLister{adminRole, helpdesk},
			cmdlet: "Set-CsUser", params: map[string]any{"Identity": "bob", "Title": "CEO"}, wantCode: psgate.CodeParameterDenied,
			wantMsg: "The parameter 'Title' of Set-CsUser is not allowed by your roles. Role 'Tenant Administrator' allows it.",
		},
		{
			name: "several roles allow it", roles: []store.Role{helpdesk}, lister: tenantRoles,
			cmdlet: "Set-CsUser", params: map[string]any{"Department": "Sales"}, wantCode: psgate.CodeParameterDenied,
			wantMsg: "The parameter 'Department' of Set-CsUser is not allowed by your roles. Roles 'Tenant Administrator' and 'Sales Desk' allow it.",
		},
		{
			name: "no role allows it", roles: []store.Role{helpdesk}, lister: staticLister{helpdesk},
			cmdlet: "Set-CsUser", params: map[string]any{"Title": "CEO"}, wantCode: psgate.CodeParameterDenied,
			wantMsg: "The parameter 'Title' of Set-CsUser is not allowed by your roles. No role of this tenant allows it.",
		},
		{
			name: "value outside AllowedValues", roles: []store.Role{sales}, lister: tenantRoles,
			cmdlet: "Set-CsUser", params: map[string]any{"Identity": "bob", "Department": "Finance"}, wantCode: psgate.CodeValueDenied,
			wantMsg: "The value 'Finance' for parameter 'Department' of Set-CsUser is not allowed by your roles. " +
				"Your roles allow 'Sales', 'Sales-*'. Role 'Tenant Administrator' allows it.",
		},
		{
			name: "denied by a deny entry", roles: []store.Role{adminRole, noVoice}, lister: staticLister{adminRole, noVoice},
			cmdlet: "Set-CsUser", params: map[string]any{"EnterpriseVoiceEnabled": true}, wantCode: psgate.CodeParameterDenied,
			wantMsg: "The parameter 'EnterpriseVoiceEnabled' of Set-CsUser is not allowed by your roles. Role 'Tenant Administrator' allows it.",
		},
		{
			name: "without a lister", roles: []store.Role{helpdesk},
			cmdlet: "Set-CsUser", params: map[string]any{"Title": "CEO"}, wantCode: psgate.CodeParameterDenied,
			wantMsg: "The parameter 'Title' of Set-CsUser is not allowed by your roles. No role of this tenant allows it.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAuthorizer(tt.roles, 1, tt.lister)
			cmd := &engine.Command{Name: tt.cmdlet}
			err := a.Authorize(context.Background(), cmd, &engine.Invocation{Command: cmd, Params: tt.params})
			if got := codeOf(err); got != tt.wantCode {
				t.Fatalf("Authorize() code = %q, want %q (err %v)", got, tt.wantCode, err)
			}
			if tt.wantCode == "" {
				return
			}
			if got := messageOf(err); got != tt.wantMsg {
				t.Errorf("Authorize() message =\n%q\nwant\n%q", got, tt.wantMsg)
			}
		})
	}
}

func TestAuthorizerVisibleTrimsCommands(t *testing.T) {
	a := NewAuthorizer([]store.Role{readerRole}, 1, nil)
	var got []string
	for _, name := range []string{"Get-Command", "Get-CsTenant", "Set-CsUser", "Search-CsAdminAuditLog", "Grant-CsAdminRole", "Format-List"} {
		if a.Visible(&engine.Command{Name: name}) {
			got = append(got, name)
		}
	}
	want := []string{"Get-Command", "Get-CsTenant", "Search-CsAdminAuditLog", "Format-List"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("visible commands mismatch (-got +want):\n%s", diff)
	}
	if a.Visible(nil) {
		t.Errorf("Visible(nil) = true")
	}
}

func TestExplain(t *testing.T) {
	tests := []struct {
		name          string
		roles         []store.Role
		cmdlet, param string
		want          Explanation
	}{
		{
			name: "granted", roles: []store.Role{readerRole, helpdesk}, cmdlet: "Get-CsOnlineUser",
			want: Explanation{Cmdlet: "Get-CsOnlineUser", Allowed: true, GrantedBy: []string{"Tenant Reader", "Helpdesk"},
				Reason: "Get-CsOnlineUser is allowed by roles 'Tenant Reader' and 'Helpdesk'."},
		},
		{
			name: "denied over an allow", roles: []store.Role{adminRole, noAudit}, cmdlet: "Search-CsAdminAuditLog",
			want: Explanation{Cmdlet: "Search-CsAdminAuditLog", GrantedBy: []string{"Tenant Administrator"}, DeniedBy: []string{"No Audit"},
				Reason: "Search-CsAdminAuditLog is denied by role 'No Audit', which wins over the allow of role 'Tenant Administrator'."},
		},
		{
			name: "not granted", roles: []store.Role{helpdesk}, cmdlet: "Get-CsTenant",
			want: Explanation{Cmdlet: "Get-CsTenant", Reason: "None of your roles allows Get-CsTenant."},
		},
		{
			name: "parameter with values", roles: []store.Role{sales}, cmdlet: "Set-CsUser", param: "Department",
			want: Explanation{Cmdlet: "Set-CsUser", Parameter: "Department", Allowed: true, GrantedBy: []string{"Sales Desk"},
				AllowedValues: []string{"Sales", "Sales-*"},
				Reason:        "Parameter 'Department' of Set-CsUser is allowed by role 'Sales Desk', with the values 'Sales', 'Sales-*'."},
		},
		{
			name: "parameter not in the list", roles: []store.Role{helpdesk}, cmdlet: "Set-CsUser", param: "Title",
			want: Explanation{Cmdlet: "Set-CsUser", Parameter: "Title",
				Reason: "None of your roles allows parameter 'Title' of Set-CsUser."},
		},
		{
			name: "parameter denied", roles: []store.Role{adminRole, noVoice}, cmdlet: "Set-CsUser", param: "EnterpriseVoiceEnabled",
			want: Explanation{Cmdlet: "Set-CsUser", Parameter: "EnterpriseVoiceEnabled",
				GrantedBy: []string{"Tenant Administrator"}, DeniedBy: []string{"No Voice"},
				Reason: "Parameter 'EnterpriseVoiceEnabled' of Set-CsUser is denied by role 'No Voice', which wins over the allow of role 'Tenant Administrator'."},
		},
		{
			name: "built-in", cmdlet: "Get-Help",
			want: Explanation{Cmdlet: "Get-Help", Allowed: true, AlwaysVisible: true,
				Reason: "Get-Help is available in every session, whatever the roles."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NewAuthorizer(tt.roles, 1, nil).Explain(tt.cmdlet, tt.param)
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("Explain(%q, %q) mismatch (-got +want):\n%s", tt.cmdlet, tt.param, diff)
			}
		})
	}
}

func TestValueStrings(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   any
		want []string
	}{
		{nil, []string{""}},
		{"x", []string{"x"}},
		{[]string{"a", "b"}, []string{"a", "b"}},
		{[]any{"a", int32(7), true}, []string{"a", "7", "True"}},
		{int64(-3), []string{"-3"}},
		{at, []string{"2026-01-02T03:04:05Z"}},
		{90 * time.Second, []string{"1m30s"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(valueStrings(tt.in), tt.want); diff != "" {
			t.Errorf("valueStrings(%#v) mismatch (-got +want):\n%s", tt.in, diff)
		}
	}
}

// The built-in roles as the store seeds them behave as the issue says.
func TestBuiltInRolesFromTheStore(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.Open(t, sqlite.Options{})
	tenant, err := db.CreateTenant(ctx, store.Tenant{Name: "contoso", Domain: "contoso.test", Policy: store.DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	roles, err := db.ListRoles(ctx, tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]store.Role{}
	for _, r := range roles {
		byName[r.Name] = r
	}
	tests := []struct {
		role, cmdlet, param string
		want                bool
	}{
		{store.RoleTenantAdministrator, "Revoke-CsAdminRole", "", true},
		{store.RoleTenantReader, "Get-CsOnlineUser", "", true},
		{store.RoleTenantReader, "Search-CsAdminAuditLog", "", true},
		{store.RoleTenantReader, "Set-CsUser", "", false},
		{store.RoleHelpdesk, "Set-CsUser", "LineURI", true},
		{store.RoleHelpdesk, "Set-CsUser", "DisplayName", false},
		{store.RoleHelpdesk, "Remove-CsOnlineSession", "", true},
		{store.RoleHelpdesk, "Get-CsTenant", "", false},
	}
	for _, tt := range tests {
		ps := Compile([]store.Role{byName[tt.role]})
		got := ps.Visible(tt.cmdlet)
		if tt.param != "" {
			got = ps.AllowsParameter(tt.cmdlet, tt.param)
		}
		if got != tt.want {
			t.Errorf("%s: %s %s allowed = %v, want %v", tt.role, tt.cmdlet, tt.param, got, tt.want)
		}
	}
}

// codeOf returns the catalog code of err, "" for nil.
func codeOf(err error) psgate.Code {
	if err == nil {
		return ""
	}
	return psgate.CodeOf(err)
}

// messageOf returns the catalog message of err.
func messageOf(err error) string {
	if e, ok := psgate.AsError(err); ok {
		return e.Message
	}
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// Every open shell holds its caller's compiled rights, so what Compile
// allocates is paid per shell (100,000 idle shells on a node): the tables
// no role changes (AlwaysVisible, the common parameters) are compiled once
// and shared. Compiling a two-entry role took 33 allocations before, 5
// after; the bound leaves room for the role's own rules only.
func TestCompileSharesTheFixedTables(t *testing.T) {
	roles := []store.Role{{Name: "Helpdesk", Entries: []store.RoleEntry{
		{Cmdlet: "Get-CsUser"}, {Cmdlet: "Set-CsUser", Parameters: []string{"Identity", "Department"}},
	}}}
	if n := testing.AllocsPerRun(20, func() { Compile(roles) }); n > 8 {
		t.Errorf("Compile of a two-entry role: %.0f allocations, want at most 8", n)
	}
	// Shared, and still right: the always-visible commands and the common
	// parameters hold in every compiled set.
	a, b := Compile(roles), Compile(nil)
	for _, ps := range []*Permissions{a, b} {
		if !ps.Visible("Get-Help") || !ps.Visible("Format-Table") || !ps.AllowsParameter("Get-Date", "Verbose") {
			t.Errorf("compiled rights lost the always-visible commands or common parameters")
		}
	}
	if a.Visible("Set-CsTenant") || !a.Visible("Set-CsUser") || b.Visible("Get-CsUser") {
		t.Errorf("the roles' own rules are not kept apart")
	}
}

package interop

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/psgate/psgate/cmdlets"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/rbac"
	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/store"
)

// importSkipDefaults is Import-PSSession's own skip list, used only when
// the server sends none (ImplicitRemotingCommands.cs CommandSkipListFromServer).
var importSkipDefaults = []string{"Get-Command", "Get-FormatData", "Get-Help", "Select-Object", "Measure-Object", "Exit-PSSession", "Out-Default"}

// tenantCmdletsFor lists, independently of the gateway, the tenant
// cmdlets user's roles show: the cmdlets package's commands filtered by
// the roles' compiled permissions.
func tenantCmdletsFor(t *testing.T, ts *testServer, upn string) []string {
	t.Helper()
	ctx := context.Background()
	st := ts.Store()
	tn, err := st.TenantByName(ctx, server.DemoTenant)
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.UserByUPN(ctx, upn)
	if err != nil {
		t.Fatal(err)
	}
	roles, err := st.RolesOf(ctx, tn.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	perms := rbac.Compile(roles)
	cat := engine.NewCatalog()
	if err := cmdlets.Register(cat, st); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cat.Commands() {
		if perms.Visible(c.Name) {
			names = append(names, c.Name)
		}
	}
	return names
}

// Import-PSSession proxies every command GET_COMMAND_METADATA returns
// except those on the server's skip list: with psgate's list that is
// exactly the tenant cmdlets the caller's roles allow, never a utility
// command the client has itself. Enter-PSSession's probe still finds
// Out-Default and Exit-PSSession.
func TestImportPSSessionImportsOnlyTenantCmdlets(t *testing.T) {
	ts := startServer(t)
	const helpdesk, pw = "helpdesk@contoso.test", "Helpdesk-Pa55word!"
	ts.addUser(t, helpdesk, pw, store.RoleHelpdesk)
	all := tenantCmdletsFor(t, ts, server.DemoAdmin)
	for _, who := range []struct{ upn, pw string }{{server.DemoAdmin, adminPassword}, {helpdesk, pw}} {
		t.Run(who.upn, func(t *testing.T) {
			c := newRawPool(t, ts.httpURL, who.upn, who.pw)
			apd := rawOfType(c.open("WinRM4"), psrp.MsgApplicationPrivateData)
			if len(apd) != 1 {
				t.Fatalf("%d APPLICATION_PRIVATE_DATA messages at open", len(apd))
			}
			skip, ok := rawSkipList(t, apd[0])
			if !ok {
				t.Fatal("APPLICATION_PRIVATE_DATA has no ImplicitRemoting.CommandsToSkip: the client falls back to its own seven")
			}
			skipped := func(name string) bool {
				return slices.ContainsFunc(skip, func(s string) bool { return strings.EqualFold(s, name) })
			}
			// The server's list replaces the default one, which protects
			// what implicit remoting itself needs.
			for _, d := range importSkipDefaults {
				if !skipped(d) {
					t.Errorf("CommandsToSkip lacks %s, which the client's default list skips", d)
				}
			}

			pid := rawPID(t)
			msgs := c.run(c.commandMetadata(pid, 399, "*"))
			out := rawOfType(msgs, psrp.MsgPipelineOutput)
			if len(out) < 2 || len(rawOfType(msgs, psrp.MsgErrorRecord)) > 0 {
				t.Fatalf("GET_COMMAND_METADATA *: %d outputs, messages %v", len(out), msgs)
			}
			var proxied []string
			for _, m := range out[1:] {
				o, isObj := rawDecode(t, m).(*psobject.Object)
				if !isObj {
					t.Fatalf("command metadata %s", m.Data)
				}
				v, _ := o.Get("Name")
				name := fmt.Sprint(v)
				if skipped(name) {
					continue
				}
				proxied = append(proxied, name)
			}
			sort.Strings(proxied)
			want := tenantCmdletsFor(t, ts, who.upn)
			sort.Strings(want)
			if len(want) == 0 {
				t.Fatal("the caller's roles allow no tenant cmdlet: the test proves nothing")
			}
			if !slices.Equal(proxied, want) {
				t.Errorf("Import-PSSession would proxy %v, want exactly the tenant cmdlets the roles allow %v", proxied, want)
			}
			if who.upn == helpdesk && len(want) >= len(all) {
				t.Errorf("Helpdesk sees %v, as many as an administrator's %v", want, all)
			}

			// Enter-PSSession's probe (RunspaceRef.cs): the count and both
			// commands, no error.
			pid = rawPID(t)
			msgs = c.run(c.commandMetadata(pid, 271, "Out-Default", "Exit-PSSession"))
			if out := rawOfType(msgs, psrp.MsgPipelineOutput); len(out) < 3 || len(rawOfType(msgs, psrp.MsgErrorRecord)) > 0 {
				t.Fatalf("Enter-PSSession probe: %d outputs (want the count and 2 commands), messages %v", len(out), msgs)
			}
		})
	}
}

// pypsrp reads APPLICATION_PRIVATE_DATA when it opens a pool: the nested
// ImplicitRemoting dictionary must not trouble it, and it reads the list.
func TestPypsrpReadsCommandsToSkip(t *testing.T) {
	py := python(t, "pypsrp")
	ts := startServer(t)
	u, err := url.Parse(ts.httpURL)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		State     string   `json:"state"`
		Skip      []string `json:"skip"`
		PSVersion string   `json:"ps_version"`
	}
	runPy(t, py, "pypsrp_private_data.py", "", map[string]string{
		"PSGATE_HOST": u.Hostname(), "PSGATE_PORT": u.Port(), "PSGATE_USER": server.DemoAdmin, "PSGATE_PASSWORD": adminPassword,
	}, &out)
	if out.State != "2" || !strings.HasPrefix(out.PSVersion, "5.1") {
		t.Fatalf("pypsrp pool state %q, PSVersion %q", out.State, out.PSVersion)
	}
	for _, name := range []string{"Out-Default", "Get-Command", "Select-Object"} {
		if !slices.Contains(out.Skip, name) {
			t.Errorf("pypsrp read CommandsToSkip %v, which lacks %s", out.Skip, name)
		}
	}
}

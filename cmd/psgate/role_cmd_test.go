//go:build !connector

package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate"
)

func TestRoleListAssignRevoke(t *testing.T) {
	c := newCLI(t)
	c.seed()
	t.Setenv("PSGATE_PASSWORD", "Adele-Pass-1")
	c.ok("", "user", "add", "adele@contoso.test")

	out := c.ok("", "role", "assign", "adele@contoso.test", "helpdesk")
	if out != "Assigned the role Helpdesk to adele@contoso.test. It applies from the user's next command, in open sessions too.\n" {
		t.Errorf("role assign printed %q", out)
	}
	c.fails(`adele@contoso.test already holds the role "Helpdesk"`, "role", "assign", "adele@contoso.test", "Helpdesk")

	out = c.ok("", "role", "list", "--tenant", "contoso")
	want := "ROLE SCOPE ALLOWS MEMBERS\n" +
		"Tenant Administrator built-in * admin@contoso.test\n" +
		"Tenant Reader built-in Get-*, Search-* -\n" +
		"Helpdesk built-in Get-CsOnlineUser, Set-CsUser (Identity, EnterpriseVoiceEnabled, LineURI), Get-CsOnlineSession, Remove-CsOnlineSession adele@contoso.test\n"
	if got := squeeze(out); got != want {
		t.Errorf("role list:\n%s\nwant:\n%s", got, want)
	}
	// Other tenants' members never show.
	var roles []roleJSON
	c.json(&roles, "role", "list", "--tenant", "fabrikam")
	var members [][]string
	for _, r := range roles {
		members = append(members, r.Members)
	}
	if diff := cmp.Diff([][]string{{"boss@fabrikam.test"}, {}, {}}, members); diff != "" {
		t.Errorf("fabrikam members mismatch (-want +got):\n%s", diff)
	}

	c.ok("", "role", "revoke", "adele@contoso.test", "Helpdesk")
	c.fails(`adele@contoso.test does not hold the role "Helpdesk"`, "role", "revoke", "adele@contoso.test", "Helpdesk")

	err := c.fails("last administrator", "role", "revoke", "admin@contoso.test", "Tenant Administrator")
	catalogErr(t, err, psgate.CodeLastAdmin,
		"The role 'Tenant Administrator' cannot be revoked from 'admin@contoso.test': it is the last administrator of tenant 'contoso'.")
	// With a second administrator the first may go.
	c.ok("", "role", "assign", "adele@contoso.test", "Tenant Administrator")
	c.ok("", "role", "revoke", "admin@contoso.test", "Tenant Administrator")
}

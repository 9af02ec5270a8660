//go:build !connector

package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate"
	"github.com/psgate/psgate/identity"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/store"
)

func TestUserAddListSet(t *testing.T) {
	c := newCLI(t)
	c.seed()
	t.Setenv("PSGATE_PASSWORD", "Adele-Pass-1")
	out := c.ok("", "user", "add", "Adele.Vance@contoso.test", "--display-name", "Adele Vance", "--role", "tenant reader")
	if out != "Added user adele.vance@contoso.test to tenant contoso with the role Tenant Reader.\n" {
		t.Errorf("user add printed %q", out)
	}
	c.ok("", "user", "add", "fed@contoso.test", "--no-password", "--disabled")

	out = c.ok("", "user", "list", "--tenant", "contoso")
	want := "UPN DISPLAY NAME ENABLED PASSWORD MAX SHELLS ROLES\n" +
		"admin@contoso.test admin@contoso.test yes yes tenant Tenant Administrator\n" +
		"adele.vance@contoso.test Adele Vance yes yes tenant Tenant Reader\n" +
		"fed@contoso.test fed@contoso.test no no tenant -\n"
	if got := squeeze(out); got != want {
		t.Errorf("user list:\n%s\nwant:\n%s", got, want)
	}

	var u userJSON
	c.json(&u, "user", "set", "adele.vance@contoso.test", "--department", "Sales", "--voice", "--line-uri", "tel:+14255550100",
		"--usage-location", "de", "--max-shells", "7")
	got := []any{u.Department, u.EnterpriseVoiceEnabled, u.LineURI, u.UsageLocation, u.MaxShells, u.DisplayName, u.Roles}
	if diff := cmp.Diff([]any{"Sales", true, "tel:+14255550100", "DE", 7, "Adele Vance", []string{"Tenant Reader"}}, got); diff != "" {
		t.Errorf("user set mismatch (-want +got):\n%s", diff)
	}
}

func TestUserRefusals(t *testing.T) {
	c := newCLI(t)
	c.seed()
	t.Setenv("PSGATE_PASSWORD", "Long-Enough-1")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad UPN", []string{"user", "add", "adele"}, "want name@domain"},
		{"duplicate", []string{"user", "add", "admin@contoso.test"}, "the user admin@contoso.test exists already"},
		{"unknown role", []string{"user", "add", "x@contoso.test", "--role", "Root"}, `tenant contoso has no role "Root": use one of "Tenant Administrator", "Tenant Reader", "Helpdesk"`},
		{"nothing to set", []string{"user", "set", "admin@contoso.test"}, "nothing to change"},
		{"bad line URI", []string{"user", "set", "admin@contoso.test", "--line-uri", "4255550100"}, "want a tel URI"},
		{"negative shells", []string{"user", "set", "admin@contoso.test", "--max-shells", "-1"}, "use 0 (the tenant's limit) or more"},
		{"list without tenant", []string{"user", "list"}, "pass --tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.fails(tt.want, tt.args...)
		})
	}
	err := c.fails("does not exist", "user", "add", "x@nowhere.test")
	catalogErr(t, err, psgate.CodeTenantNotFound, "The tenant 'nowhere.test' does not exist on this service.")
	err = c.fails("Cannot find", "user", "passwd", "ghost@contoso.test")
	catalogErr(t, err, psgate.CodeObjectNotFound, "Cannot find an object with identity 'ghost@contoso.test' in tenant 'contoso.test'.")

	t.Setenv("PSGATE_PASSWORD", "short")
	c.fails("the password is too short: use at least 8 characters", "user", "add", "x@contoso.test")
	t.Setenv("PSGATE_PASSWORD", "")
	if _, err := c.run("One-Password-1\nOther-Password-1\n", "user", "add", "x@contoso.test"); err == nil || err.Error() != "the passwords do not match" {
		t.Errorf("mismatched prompt answers: %v", err)
	}
}

func TestUserPasswdDisableUnlock(t *testing.T) {
	c := newCLI(t)
	c.seed()
	db := c.store()
	ctx := context.Background()
	// Typed at the prompt (standard input is not a terminal here).
	c.ok("New-Password-2\nNew-Password-2\n", "user", "passwd", "admin@contoso.test")
	admin := userByUPN(t, db, "admin@contoso.test")
	if ok, _ := password.Verify("New-Password-2", admin.PasswordHash); !ok {
		t.Error("the new password does not verify")
	}
	c.ok("Third-Password-3\n", "user", "passwd", "admin@contoso.test", "--password-stdin")
	if ok, _ := password.Verify("Third-Password-3", userByUPN(t, db, "admin@contoso.test").PasswordHash); !ok {
		t.Error("the password from standard input does not verify")
	}

	acquire(t, db, "shell-1", admin)
	acquire(t, db, "shell-2", admin)
	out := c.ok("", "user", "disable", "admin@contoso.test")
	if out != "Disabled admin@contoso.test and ended 2 sessions.\n" {
		t.Errorf("user disable printed %q", out)
	}
	if u := userByUPN(t, db, "admin@contoso.test"); u.Enabled {
		t.Error("the user is still enabled")
	}
	if ls, _ := db.Leases(ctx, store.LeaseFilter{}); len(ls) != 0 {
		t.Errorf("%d sessions left after disable", len(ls))
	}
	c.ok("", "user", "enable", "admin@contoso.test")
	if u := userByUPN(t, db, "admin@contoso.test"); !u.Enabled {
		t.Error("the user is still disabled")
	}

}

// An account locked by real failed sign-ins at a running gateway is
// unlocked by the operator: the right password works again at once.
func TestUserUnlockAfterLockout(t *testing.T) {
	gw := startGateway(t)
	token := func(pw string) int {
		resp, err := http.PostForm(gw.base()+"/oauth2/token", url.Values{"grant_type": {"password"},
			"username": {server.DemoAdmin}, "password": {pw}, "client_id": {identity.DefaultClientID}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := 0; i < 8; i++ {
		token(fmt.Sprintf("wrong-password-%d", i)) // different guesses: each counts
	}
	if code := token(gatewayPassword); code == http.StatusOK {
		t.Fatal("the account is not locked after 8 wrong passwords; the test cannot show an unlock")
	}
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"user", "unlock", server.DemoAdmin, "--data", gw.Info().DataDir})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("user unlock: %v", err)
	}
	if !strings.HasPrefix(out.String(), "Unlocked admin@contoso.test (it was locked until ") {
		t.Errorf("user unlock printed %q", out.String())
	}
	if code := token(gatewayPassword); code != http.StatusOK {
		t.Errorf("after user unlock the right password is answered %d, want 200", code)
	}
}

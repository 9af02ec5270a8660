//go:build !connector

package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLimits(t *testing.T) {
	c := newCLI(t)
	// The defaults need no store.
	out := c.ok("", "limits")
	want := "SETTING VALUE IN USE SOURCE DEFAULT\n" +
		"EnableRemotePowerShellAccess True - default True\n" +
		"MaxShellsPerUser 3 - default 3\n" +
		"MaxShellsPerTenant 20 - default 20\n" +
		"SessionLifetime 1h0m0s - default 1h0m0s\n" +
		"IdleTimeout 15m0s - default 15m0s\n" +
		"MaxShellCreationsPerMinute 30 - default 30\n" +
		"AllowPasswordAuthentication False - default False\n"
	if got := squeeze(out); got != want {
		t.Errorf("limits:\n%s\nwant:\n%s", got, want)
	}

	c.seed()
	c.ok("", "tenant", "set-policy", "contoso", "--max-shells-per-tenant", "10", "--allow-password-auth")
	c.ok("", "user", "set", "admin@contoso.test", "--max-shells", "5")
	db := c.store()
	admin := userByUPN(t, db, "admin@contoso.test")
	acquire(t, db, "shell-1", admin)

	type row struct{ Setting, Value, Source, InUse string }
	get := func(args ...string) []row {
		var ls []limitJSON
		c.json(&ls, append([]string{"limits"}, args...)...)
		var out []row
		for _, l := range ls {
			in := "-"
			if l.InUse != nil {
				in = string(rune('0' + *l.InUse))
			}
			out = append(out, row{l.Setting, l.Value, l.Source, in})
		}
		return out
	}
	wantTenant := []row{
		{"EnableRemotePowerShellAccess", "True", "default", "-"},
		{"MaxShellsPerUser", "3", "default", "-"},
		{"MaxShellsPerTenant", "10", "tenant contoso", "1"},
		{"SessionLifetime", "1h0m0s", "default", "-"},
		{"IdleTimeout", "15m0s", "default", "-"},
		{"MaxShellCreationsPerMinute", "30", "default", "-"},
		{"AllowPasswordAuthentication", "True", "tenant contoso", "-"},
	}
	if diff := cmp.Diff(wantTenant, get("--tenant", "contoso")); diff != "" {
		t.Errorf("tenant limits mismatch (-want +got):\n%s", diff)
	}
	wantUser := append([]row(nil), wantTenant...)
	wantUser[1] = row{"MaxShellsPerUser", "5", "user admin@contoso.test", "1"}
	wantUser[5].InUse = "1" // the lease above was a creation
	if diff := cmp.Diff(wantUser, get("--user", "admin@contoso.test")); diff != "" {
		t.Errorf("user limits mismatch (-want +got):\n%s", diff)
	}
	c.fails(`--output "yaml": use table or json`, "limits", "--output", "yaml")
	c.fails("does not exist", "limits", "--tenant", "nowhere")
}

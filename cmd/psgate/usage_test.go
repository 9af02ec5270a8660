//go:build !connector

package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestCommandLineMistakesFail checks that a mistake on the command line
// never succeeds silently: it exits with the usage status and says what
// was wrong and what was probably meant.
func TestCommandLineMistakesFail(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		// Unknown subcommands of every group, with the closest verbs.
		{[]string{"session", "kill", "shell-1"}, `unknown command "kill" for "psgate session"; did you mean "close"?`},
		{[]string{"session", "clos", "shell-1"}, `unknown command "clos" for "psgate session"; did you mean "close"?`},
		{[]string{"sessions", "clsoe"}, `unknown command "clsoe" for "psgate sessions"; did you mean "close"?`},
		{[]string{"sessions", "rm", "ID"}, `unknown command "rm" for "psgate sessions"; did you mean "close"?`},
		{[]string{"tenant", "remove", "contoso"}, `unknown command "remove" for "psgate tenant"; did you mean "delete"?`},
		{[]string{"tenant", "frobnicate"}, `unknown command "frobnicate" for "psgate tenant"; its commands are "create", "delete", "federation", "list", "set-policy" and "show"`},
		{[]string{"user", "create", "a@contoso.test"}, `unknown command "create" for "psgate user"; did you mean "add"?`},
		{[]string{"user", "lst"}, `unknown command "lst" for "psgate user"; did you mean "list" or "set"?`},
		{[]string{"role", "grant", "a@contoso.test", "Tenant Reader"}, `unknown command "grant" for "psgate role"; did you mean "assign"?`},
		{[]string{"audit", "serch"}, `unknown command "serch" for "psgate audit"; did you mean "search"?`},
		{[]string{"sesion", "list"}, `unknown command "sesion" for "psgate"; did you mean "session" or "sessions"?`},
		{[]string{"help", "sesion"}, `unknown command "sesion" for "psgate"; did you mean "session" or "sessions"?`},
		{[]string{"completion", "tcsh"}, `unknown command "tcsh" for "psgate completion"`},
		// Stray arguments.
		{[]string{"tenant", "list", "extra"}, `psgate tenant list: unexpected argument "extra": list takes no arguments, only flags`},
		{[]string{"tenant", "show", "a", "b"}, `psgate tenant show: accepts 1 arg(s), received 2 (got "a" "b"); usage: psgate tenant show TENANT`},
		{[]string{"session", "close"}, `psgate session close: accepts 1 arg(s), received 0 (got none)`},
		{[]string{"session", "list", "extra"}, `unexpected argument "extra"`},
		{[]string{"limits", "extra"}, `psgate limits: unexpected argument "extra"`},
		{[]string{"doctor", "extra"}, `psgate doctor: unexpected argument "extra"`},
		{[]string{"login", "extra"}, `psgate login: unexpected argument "extra"`},
		{[]string{"logout", "extra"}, `psgate logout: unexpected argument "extra"`},
		{[]string{"errors", "a", "b"}, `psgate errors: accepts at most 1 arg(s), received 2`},
		// Unknown error codes, with the closest codes.
		{[]string{"errors", "identity.logon-faild"}, `unknown error code "identity.logon-faild"; did you mean "identity.logon-failed"?`},
		{[]string{"errors", "quota"}, `unknown error code "quota"; did you mean "admission.tenant-quota-exceeded" or "admission.user-quota-exceeded"?`},
		{[]string{"errors", "no.such-thing"}, `unknown error code "no.such-thing" (psgate errors lists every code)`},
		// Flags.
		{[]string{"tenant", "list", "--bogus"}, `unknown flag: --bogus`},
		{[]string{"session", "list", "--output", "yaml"}, `--output "yaml": use table or json`},
		{[]string{"sessions", "list", "--json", "--output", "yaml"}, `--json and --output yaml contradict each other`},
		{[]string{"doctor", "--output", "xml"}, `--output "xml": use table or json`},
		{[]string{"sessions", "close"}, `name the sessions to close, or pass --all`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			stdout, stderr, status, err := execute(t, tt.args...)
			if status != exitUsage {
				t.Fatalf("exit status %d, want %d (usage)\nstdout:\n%s\nstderr:\n%s", status, exitUsage, stdout, stderr)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tt.want)
			}
			if !strings.Contains(stderr, "--help' for usage.") {
				t.Errorf("stderr does not say where the usage is:\n%s", stderr)
			}
		})
	}
}

// TestCommandsRefuseStrayArguments sweeps every command: one that takes
// no list of arguments refuses six of them.
func TestCommandsRefuseStrayArguments(t *testing.T) {
	takesList := map[string]bool{"psgate run": true, "psgate sessions close": true, "psgate help": true}
	six := []string{"a", "b", "c", "d", "e", "f"}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if takesList[c.CommandPath()] {
			return
		}
		err := c.Args(c, six)
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("%s accepts %v (error %v)", c.CommandPath(), six, err)
		}
	}
	walk(newRootCmd())
}

// TestOldSpellingsStillWork checks the hidden aliases kept when the
// session commands were unified.
func TestOldSpellingsStillWork(t *testing.T) {
	root := newRootCmd()
	for _, tt := range []struct{ args, want string }{
		{"session remove", "psgate session close"},
		{"sessions remove", "psgate sessions close"},
	} {
		c, _, err := root.Find(strings.Fields(tt.args))
		if err != nil || c.CommandPath() != tt.want {
			t.Errorf("psgate %s finds %v (%v), want %s", tt.args, c.CommandPath(), err, tt.want)
		}
	}
	// --json is the deprecated spelling of --output json.
	c := newCLI(t)
	c.seed()
	out, err := c.run("", "tenant", "list", "--json")
	var tenants []map[string]any
	if err != nil || json.Unmarshal([]byte(out), &tenants) != nil || len(tenants) != 2 {
		t.Errorf("tenant list --json: %v\n%s", err, out)
	}
	// A group alone prints its help and succeeds.
	stdout, _, status, err := execute(t, "session")
	if status != exitOK || !strings.Contains(stdout, "Available Commands") || !strings.Contains(stdout, "psgate sessions") {
		t.Errorf("psgate session: %d %v\n%s", status, err, stdout)
	}
}

// TestSessionCommandsExplainTheirDifference checks that each session
// command's help says how it differs from the other.
func TestSessionCommandsExplainTheirDifference(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"sessions", "--help"}, []string{"your own sessions", "through the gateway", `"psgate session"`, "every session of every tenant"}},
		{[]string{"session", "--help"}, []string{"every tenant", "store directly", `"psgate sessions"`, "with their sign-in"}},
	} {
		stdout, _, _, err := execute(t, tt.args...)
		if err != nil {
			t.Fatal(err)
		}
		flat := strings.Join(strings.Fields(stdout), " ")
		for _, w := range tt.want {
			if !strings.Contains(flat, w) {
				t.Errorf("psgate %s does not say %q:\n%s", strings.Join(tt.args, " "), w, stdout)
			}
		}
		if !strings.Contains(stdout, "--output") || strings.Contains(stdout, "--json") {
			t.Errorf("psgate %s: want --output and no (deprecated) --json in the help:\n%s", strings.Join(tt.args, " "), stdout)
		}
	}
}

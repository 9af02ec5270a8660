//go:build !connector

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/sqlite"
)

// cli runs psgate commands in-process against one data directory.
type cli struct {
	t   *testing.T
	dir string
}

func newCLI(t *testing.T) *cli {
	t.Setenv("PSGATE_PASSWORD", "")
	return &cli{t: t, dir: filepath.Join(t.TempDir(), "data")}
}

// run runs one command with stdin and returns its standard output.
func (c *cli) run(stdin string, args ...string) (string, error) {
	c.t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(stdin))
	full := append(append([]string{}, args...), "--data", c.dir, "--insecure-fast-hash")
	root.SetArgs(full)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// ok runs a command that must succeed.
func (c *cli) ok(stdin string, args ...string) string {
	c.t.Helper()
	out, err := c.run(stdin, args...)
	if err != nil {
		c.t.Fatalf("psgate %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// fails runs a command that must fail with an error containing want.
func (c *cli) fails(want string, args ...string) error {
	c.t.Helper()
	out, err := c.run("", args...)
	if err == nil {
		c.t.Fatalf("psgate %s succeeded, want an error containing %q\n%s", strings.Join(args, " "), want, out)
	}
	if !strings.Contains(err.Error(), want) {
		c.t.Errorf("psgate %s: error %q, want it to contain %q", strings.Join(args, " "), err, want)
	}
	return err
}

// json runs a command with --output json and decodes its output into v.
func (c *cli) json(v any, args ...string) {
	c.t.Helper()
	out := c.ok("", append(args, "--output", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("psgate %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// store opens the data directory's store for a check.
func (c *cli) store() *sqlite.DB {
	c.t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(c.dir, "psgate.db"), sqlite.Options{})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { db.Close() })
	return db
}

// seed creates tenants contoso (admin@contoso.test) and fabrikam
// (boss@fabrikam.test), each with an administrator.
func (c *cli) seed() {
	c.t.Helper()
	c.ok("Contoso-Pass-1\n", "tenant", "create", "contoso", "--domain", "contoso.test", "--display-name", "Contoso Ltd.",
		"--admin", "admin@contoso.test", "--password-stdin")
	c.ok("Fabrikam-Pass-1\n", "tenant", "create", "fabrikam", "--domain", "fabrikam.test",
		"--admin", "boss@fabrikam.test", "--password-stdin")
}

// catalogErr checks that err carries the catalog code and message.
func catalogErr(t *testing.T, err error, code psgate.Code, msg string) {
	t.Helper()
	e, ok := psgate.AsError(err)
	if !ok {
		t.Fatalf("error %v carries no catalog code, want %s", err, code)
	}
	if e.Code != code || e.Message != msg {
		t.Errorf("error = [%s] %q\nwant    [%s] %q", e.Code, e.Message, code, msg)
	}
}

func acquire(t *testing.T, db *sqlite.DB, shell string, u store.User) {
	t.Helper()
	if _, err := db.AcquireLease(context.Background(), store.LeaseRequest{
		ShellID: shell, TenantID: u.TenantID, UserID: u.ID, NodeID: "node-a", Kind: store.KindWinRS,
		ClientAddr: "198.51.100.4", MaxPerUser: 10, MaxPerTenant: 20, TTL: time.Minute,
	}); err != nil {
		t.Fatal(err)
	}
}

func userByUPN(t *testing.T, db *sqlite.DB, upn string) store.User {
	t.Helper()
	u, err := db.UserByUPN(context.Background(), upn)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// squeeze collapses runs of spaces, so tests do not depend on column
// widths.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

// Without --data or --store, the operator commands find the store as
// psgate serve does: from the configuration file and PSGATE_* variables.
func TestAdminStoreFromConfiguration(t *testing.T) {
	c := newCLI(t)
	c.seed()
	file := filepath.Join(t.TempDir(), "psgate.toml")
	if err := os.WriteFile(file, []byte("data_dir = "+strconv.Quote(c.dir)+"\n[listen]\nhttps = \"127.0.0.1:0\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PSGATE_CONFIG", "")
	list := func(args ...string) string {
		t.Helper()
		root := newRootCmd()
		var out, errOut bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&errOut)
		root.SetArgs(append([]string{"tenant", "list"}, args...))
		if err := root.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("psgate tenant list %v: %v\n%s", args, err, errOut.String())
		}
		return out.String()
	}
	if out := list("--config", file); !strings.Contains(out, "contoso") || !strings.Contains(out, "fabrikam") {
		t.Errorf("tenant list --config: %s", out)
	}
	t.Setenv("PSGATE_DATA_DIR", c.dir)
	if out := list(); !strings.Contains(out, "fabrikam") {
		t.Errorf("tenant list with PSGATE_DATA_DIR: %s", out)
	}
	// A problem with the store's settings is the command's to report.
	bad := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(bad, []byte("[store]\ndsn = \"mysql://x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PSGATE_DATA_DIR", "")
	root := newRootCmd()
	root.SetOut(&bytes.Buffer{})
	root.SetErr(&bytes.Buffer{})
	root.SetArgs([]string{"tenant", "list", "--config", bad})
	if err := root.ExecuteContext(context.Background()); err == nil || !strings.Contains(err.Error(), "bad.toml:2") {
		t.Errorf("tenant list with a bad store setting: %v, want the file and line", err)
	}
}

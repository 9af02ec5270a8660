//go:build !connector

package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/internal/freeport"
)

func freePort(t *testing.T) string {
	t.Helper()
	return freeport.Addr(t)
}

// runServe runs `psgate serve` in-process until the banner appears, then
// stops it as SIGINT would.
func runServe(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	root := newRootCmd()
	out := &syncBuffer{}
	root.SetOut(out)
	root.SetErr(out)
	root.SetArgs(append([]string{"serve", "--log-level", "error"}, args...))
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "Connect:") {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve exited early: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no banner after 20s:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve after shutdown: %v", err)
	}
	return out.String()
}

func TestServeFirstStartAndRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("PSGATE_BOOTSTRAP_PASSWORD", "")
	banner := runServe(t, "--data", dir, "--http", freePort(t), "--https", freePort(t))

	for _, want := range []string{"Created demo tenant \"contoso\"", "admin@contoso.test", "bootstrap-admin.txt", "pywinrm", "New-PSSession"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	if !regexp.MustCompile(`SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}`).MatchString(banner) {
		t.Errorf("banner lacks the certificate's SHA-256 fingerprint:\n%s", banner)
	}
	fi, err := os.Stat(filepath.Join(dir, "bootstrap-admin.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("bootstrap-admin.txt mode %v, want 0600", fi.Mode().Perm())
	}
	secret, _ := os.ReadFile(filepath.Join(dir, "bootstrap-admin.txt"))
	pw := regexp.MustCompile(`password: (\S+)`).FindSubmatch(secret)
	if pw == nil || strings.Contains(banner, string(pw[1])) {
		t.Errorf("the generated password must be in the file and never printed")
	}

	// A second start on the same directory keeps the tenant and the
	// certificate, and creates nothing.
	again := runServe(t, "--data", dir, "--http", freePort(t), "--https", freePort(t))
	if strings.Contains(again, "Created demo tenant") {
		t.Errorf("restart re-created the demo tenant:\n%s", again)
	}
	fp := regexp.MustCompile(`SHA-256 (\S+)`)
	if a, b := fp.FindStringSubmatch(banner), fp.FindStringSubmatch(again); a == nil || b == nil || a[1] != b[1] {
		t.Errorf("certificate changed across restarts: %v vs %v", a, b)
	}
}

func TestServeRefusesPlainHTTPOnNetwork(t *testing.T) {
	root := newRootCmd()
	root.SetOut(&bytes.Buffer{})
	root.SetArgs([]string{"serve", "--data", t.TempDir(), "--http", "0.0.0.0:0", "--https", ""})
	err := root.ExecuteContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), "--allow-unencrypted") {
		t.Fatalf("serve --http 0.0.0.0:0 = %v, want a refusal naming --allow-unencrypted", err)
	}
}

func TestServeBootstrapPasswordFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PSGATE_BOOTSTRAP_PASSWORD", "From-The-Env-1")
	banner := runServe(t, "--data", dir, "--http", freePort(t), "--https", "")
	if !strings.Contains(banner, "PSGATE_BOOTSTRAP_PASSWORD") {
		t.Errorf("banner does not say where the password came from:\n%s", banner)
	}
	if _, err := os.Stat(filepath.Join(dir, "bootstrap-admin.txt")); !os.IsNotExist(err) {
		t.Errorf("bootstrap-admin.txt written although the password came from the environment")
	}
}

func TestSecondServeOnSameDataDirFails(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := newRootCmd()
	out := &syncBuffer{}
	first.SetOut(out)
	first.SetArgs([]string{"serve", "--data", dir, "--http", freePort(t), "--https", "", "--log-level", "error"})
	done := make(chan error, 1)
	go func() { done <- first.ExecuteContext(ctx) }()
	for !strings.Contains(out.String(), "Connect:") {
		time.Sleep(20 * time.Millisecond)
	}
	second := newRootCmd()
	second.SetOut(&bytes.Buffer{})
	second.SetArgs([]string{"serve", "--data", dir, "--http", freePort(t), "--https", ""})
	err := second.ExecuteContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), "in use by another psgate process") {
		t.Fatalf("second serve = %v, want the data directory lock refusal", err)
	}
	cancel()
	<-done
}

// A first start listens on this machine only: nothing is reachable from
// the network until the operator names an address.
func TestServeDefaultsAreLoopbackOnly(t *testing.T) {
	f := newServeCmd().Flags()
	for _, name := range []string{"http", "https"} {
		host, _, err := net.SplitHostPort(f.Lookup(name).DefValue)
		if err != nil {
			t.Fatalf("--%s default %q: %v", name, f.Lookup(name).DefValue, err)
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			t.Errorf("--%s defaults to %q, which is not a loopback address", name, f.Lookup(name).DefValue)
		}
	}
}

func TestServeRefusesShortBootstrapPassword(t *testing.T) {
	t.Setenv("PSGATE_BOOTSTRAP_PASSWORD", "abc")
	root := newRootCmd()
	root.SetOut(&bytes.Buffer{})
	root.SetArgs([]string{"serve", "--data", t.TempDir(), "--http", freePort(t), "--https", "", "--log-level", "error"})
	err := root.ExecuteContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), "PSGATE_BOOTSTRAP_PASSWORD") || !strings.Contains(err.Error(), "at least 8 characters") {
		t.Fatalf("serve with PSGATE_BOOTSTRAP_PASSWORD=abc = %v, want a refusal naming the variable and the 8-character minimum", err)
	}
}

func TestServeNamesTheFlagWhenThePortIsTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	root := newRootCmd()
	root.SetOut(&bytes.Buffer{})
	root.SetArgs([]string{"serve", "--data", t.TempDir(), "--http", ln.Addr().String(), "--https", "", "--log-level", "error"})
	err = root.ExecuteContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), "in use") || !strings.Contains(err.Error(), "--http") {
		t.Fatalf("serve on a taken port = %v, want \"in use\" and the --http flag", err)
	}
}

// The data directory holds password hashes, signing keys, the TLS key and
// the audit log: after a start it and every file in it are private to the
// owner, even when it existed before with wider modes.
func TestServeDataDirectoryIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// A leftover from an earlier run, world-readable.
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PSGATE_BOOTSTRAP_PASSWORD", "")
	runServe(t, "--data", dir, "--http", freePort(t), "--https", freePort(t))
	seen := 0
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %#o: readable or writable by others", path, info.Mode().Perm())
		}
		seen++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The directory, tls/, the certificate and key, the store (with its
	// WAL), the lock, the bootstrap password and the leftover at least.
	if seen < 8 {
		t.Errorf("walked only %d entries of the data directory", seen)
	}
}

// psgate serve runs from a configuration file alone, and a flag still
// overrides the file.
func TestServeFromAConfigurationFile(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	t.Setenv("PSGATE_BOOTSTRAP_PASSWORD", "")
	file := writeConfig(t, "psgate.toml", fmt.Sprintf(`data_dir = %q
[listen]
http = %q
https = %q
[log]
level = "error"
format = "json"
`, data, freePort(t), freePort(t)), 0o644)
	banner := runServe(t, "--config", file)
	if !strings.Contains(banner, "data directory "+data) || !strings.Contains(banner, "HTTPS  https://") {
		t.Errorf("banner does not follow the file:\n%s", banner)
	}
	banner = runServe(t, "--config", file, "--https", "")
	if strings.Contains(banner, "HTTPS  https://") || !strings.Contains(banner, "HTTP   http://") {
		t.Errorf("--https \"\" did not override the file:\n%s", banner)
	}
}

func TestServeRefusesABadConfigurationFile(t *testing.T) {
	file := writeConfig(t, "psgate.toml", "[listen]\nhttps = 5986\nhttp = \"127.0.0.1:0\"\n[limits]\nbody_timeout = \"-1s\"\n", 0o644)
	_, stderr, status, _ := execute(t, "serve", "--config", file, "--data", t.TempDir())
	for _, want := range []string{file + ":2: listen.https: want an address", file + ":5: limits.body_timeout: \"-1s\""} {
		if status == exitOK || !strings.Contains(stderr, want) {
			t.Errorf("status %d, stderr lacks %q:\n%s", status, want, stderr)
		}
	}
}

// The demo administrator's password can come from a private file; the
// banner says which, and pipes it from there.
func TestServeBootstrapPasswordFromAFile(t *testing.T) {
	pw := writeConfig(t, "admin-password", "From-A-File-1\n", 0o600)
	t.Setenv("PSGATE_BOOTSTRAP_PASSWORD", "")
	t.Setenv("PSGATE_BOOTSTRAP_PASSWORD_FILE", pw)
	// A value and its file in one layer contradict each other.
	_, stderr, status, _ := execute(t, "serve", "--data", t.TempDir(), "--http", freePort(t), "--https", "")
	if status == exitOK || !strings.Contains(stderr, "set bootstrap.password or bootstrap.password_file, not both") {
		t.Fatalf("both set: status %d\n%s", status, stderr)
	}
	os.Unsetenv("PSGATE_BOOTSTRAP_PASSWORD")
	dir := t.TempDir()
	banner := runServe(t, "--data", dir, "--http", freePort(t), "--https", "")
	if !strings.Contains(banner, "Its password is the one in "+pw) || !strings.Contains(banner, "cat "+pw+" | ") {
		t.Errorf("banner does not name the password file:\n%s", banner)
	}
	if strings.Contains(banner, "From-A-File-1") {
		t.Errorf("banner prints the password")
	}
	if _, err := os.Stat(filepath.Join(dir, "bootstrap-admin.txt")); !os.IsNotExist(err) {
		t.Errorf("bootstrap-admin.txt written although the password came from a file")
	}
	if err := os.Chmod(pw, 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, status, _ = execute(t, "serve", "--data", t.TempDir(), "--http", freePort(t), "--https", "")
	if status == exitOK || !strings.Contains(stderr, "env PSGATE_BOOTSTRAP_PASSWORD_FILE: bootstrap.password_file: "+pw+" is readable or writable by group or others (mode 0644)") {
		t.Errorf("a password file others can read: status %d\n%s", status, stderr)
	}
}

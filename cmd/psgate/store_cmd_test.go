//go:build !connector

package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psgate/psgate/store/sqlite"
)

// TestStoreBackupOfARunningGateway backs up the store of a serving gateway
// while two writers keep changing it — an administrator setting a user's
// title through the gateway (psgate run Set-CsUser) and an operator
// creating tenants (psgate tenant create) — and then opens the backup as a
// store: it holds the state of one moment between the start and the end
// of the backup, from both writers, and the gateway served throughout.
func TestStoreBackupOfARunningGateway(t *testing.T) {
	gw := startGateway(t)
	data := gw.Info().DataDir

	var titles, tenants atomic.Int64 // how many of each write have completed
	stop := make(chan struct{})
	errs := make(chan error, 2)
	writer := func(done *atomic.Int64, args func(i int) []string) {
		for i := 1; ; i++ {
			select {
			case <-stop:
				errs <- nil
				return
			default:
			}
			if _, errOut, status := psgateRun(t, "", args(i)...); status != exitOK {
				errs <- fmt.Errorf("psgate %s: status %d: %s", strings.Join(args(i), " "), status, errOut)
				return
			}
			done.Store(int64(i))
		}
	}
	go writer(&titles, func(i int) []string {
		return []string{"run", fmt.Sprintf("Set-CsUser -Identity alice@contoso.test -Title T%d", i)}
	})
	go writer(&tenants, func(i int) []string {
		return []string{"tenant", "create", fmt.Sprintf("bk%d", i), "--domain", fmt.Sprintf("bk%d.test", i), "--data", data}
	})
	waitUntil(t, func() bool { return titles.Load() >= 3 && tenants.Load() >= 3 })

	backup := filepath.Join(t.TempDir(), "psgate-backup.db")
	titlesBefore, tenantsBefore := titles.Load(), tenants.Load()
	out, errOut, status := psgateRun(t, "", "store", "backup", "--data", data, "--to", backup)
	titlesAfter, tenantsAfter := titles.Load(), tenants.Load()
	if status != exitOK {
		t.Fatalf("store backup: status %d\n%s%s", status, out, errOut)
	}
	for _, want := range []string{"Backed up " + filepath.Join(data, "psgate.db") + " to " + backup, "is sound: schema version"} {
		if !strings.Contains(out, want) {
			t.Errorf("store backup printed:\n%s\nwant it to contain %q", out, want)
		}
	}
	// The writers go on after the backup as before.
	waitUntil(t, func() bool { return titles.Load() >= titlesAfter+2 && tenants.Load() >= tenantsAfter+2 })
	close(stop)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("a write failed while the backup ran: %v", err)
		}
	}

	ctx := t.Context()
	db, err := sqlite.Open(ctx, backup, sqlite.Options{})
	if err != nil {
		t.Fatalf("the backup does not open as a store: %v", err)
	}
	defer db.Close()
	alice, err := db.UserByUPN(ctx, "alice@contoso.test")
	if err != nil {
		t.Fatalf("alice is not in the backup: %v", err)
	}
	n, err := strconv.Atoi(strings.TrimPrefix(alice.Title, "T"))
	if err != nil || int64(n) < titlesBefore || int64(n) > titlesAfter+1 {
		// +1: a Set-CsUser committed while the backup ran may not have
		// returned to psgate run before the backup ended.
		t.Errorf("alice's title in the backup is %q; %d titles were set when the backup started and %d when it ended",
			alice.Title, titlesBefore, titlesAfter)
	}
	list, err := db.ListTenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var bk []int
	for _, tn := range list {
		if i, err := strconv.Atoi(strings.TrimPrefix(tn.Name, "bk")); err == nil && strings.HasPrefix(tn.Name, "bk") {
			bk = append(bk, i)
		} else if tn.Name != "contoso" {
			t.Errorf("unexpected tenant %q in the backup", tn.Name)
		}
	}
	sort.Ints(bk)
	for i, v := range bk {
		if v != i+1 {
			t.Fatalf("the backup's tenants bk… are %v: not one moment's state", bk)
		}
	}
	if k := int64(len(bk)); k < tenantsBefore || k > tenantsAfter+1 {
		t.Errorf("the backup holds %d of the created tenants; %d existed when it started and %d when it ended", k, tenantsBefore, tenantsAfter)
	}
	if _, err := db.TenantByName(ctx, "contoso"); err != nil {
		t.Errorf("the demo tenant is not in the backup: %v", err)
	}
	t.Logf("backup: alice's title %s (%d–%d set), %d tenants bk… (%d–%d created)", alice.Title, titlesBefore, titlesAfter, len(bk), tenantsBefore, tenantsAfter)

	// The gateway still serves.
	if out, errOut, status := psgateRun(t, "", "run", "Get-CsTenant | Select-Object DisplayName"); status != exitOK || out == "" {
		t.Errorf("after the backup, psgate run: status %d\n%s%s", status, out, errOut)
	}
}

func TestStoreBackupRefusals(t *testing.T) {
	c := newCLI(t)
	c.seed()
	dir := t.TempDir()
	existing := filepath.Join(dir, "monday.db")
	if err := os.WriteFile(existing, []byte("Monday's backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"existing file", []string{"store", "backup", "--data", c.dir, "--to", existing}, "exists: psgate store backup never overwrites a file"},
		{"no --to", []string{"store", "backup", "--data", c.dir}, "pass --to FILE"},
		{"no store", []string{"store", "backup", "--data", t.TempDir(), "--to", filepath.Join(dir, "x.db")}, "no psgate store in"},
		{"missing directory", []string{"store", "backup", "--data", c.dir, "--to", filepath.Join(dir, "no", "x.db")}, "no such file or directory"},
		{"verify a text file", []string{"store", "verify", existing}, "cannot be read as a psgate store"},
		{"verify a missing file", []string{"store", "verify", filepath.Join(dir, "none.db")}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, status := psgateRun(t, "", tt.args...)
			if status == exitOK || !strings.Contains(errOut, tt.want) {
				t.Errorf("psgate %s: status %d, stderr:\n%s\nwant a failure saying %q (stdout: %s)", strings.Join(tt.args, " "), status, errOut, tt.want, out)
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "Monday's backup" {
		t.Errorf("the existing backup was changed to %q", b)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) != 1 {
		t.Errorf("files in the backup directory after the refusals: %v, want only monday.db", m)
	}
}

func TestStoreVerifyFindsDamage(t *testing.T) {
	c := newCLI(t)
	c.seed()
	good := filepath.Join(t.TempDir(), "good.db")
	if _, errOut, status := psgateRun(t, "", "store", "backup", "--data", c.dir, "--to", good, "--no-verify"); status != exitOK {
		t.Fatalf("store backup: %s", errOut)
	}
	out, errOut, status := psgateRun(t, "", "store", "verify", good)
	if status != exitOK || !strings.Contains(out, good+" is sound: schema version") || !strings.Contains(out, "2 tenants, 2 users, ") {
		t.Fatalf("store verify of a fresh backup: status %d\n%s%s", status, out, errOut)
	}
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	for i := 4096 + 100; i < len(b) && i < 4096*8; i += 5 {
		b[i] ^= 0xa5
	}
	damaged := filepath.Join(t.TempDir(), "damaged.db")
	if err := os.WriteFile(damaged, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, status = psgateRun(t, "", "store", "verify", damaged)
	if status == exitOK || !strings.Contains(errOut+out, "damaged") {
		t.Errorf("store verify of a damaged file: status %d\nstdout:\n%s\nstderr:\n%s\nwant a failure saying it is damaged", status, out, errOut)
	}
}

// waitUntil polls cond for up to 30 seconds.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for the writers")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStoreBackupBeforeUpgrade: with a new psgate installed and the old
// gateway's store still on its older schema, store backup copies the store
// as it is and migrates neither the store nor the copy.
func TestStoreBackupBeforeUpgrade(t *testing.T) {
	c := newCLI(t)
	c.seed()
	src := filepath.Join(c.dir, "psgate.db")
	versions, _ := sqlite.MigrationVersions()
	older := versions[len(versions)-2]
	raw, err := sql.Open("sqlite", src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`DELETE FROM schema_migrations WHERE version > ?`, older); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	backup := filepath.Join(t.TempDir(), "before-upgrade.db")
	out, errOut, status := psgateRun(t, "", "store", "backup", "--data", c.dir, "--to", backup)
	want := fmt.Sprintf("is sound: schema version %d, 2 tenants", older)
	if status != exitOK || !strings.Contains(out, want) || !strings.Contains(out, "predates this psgate's schema version") {
		t.Fatalf("store backup of an older store: status %d\nstdout:\n%s\nstderr:\n%s\nwant %q and a note that it predates this psgate", status, out, errOut, want)
	}
	if chk, err := sqlite.Verify(t.Context(), src); err != nil || chk.Version != older {
		t.Errorf("after store backup the gateway's store is at schema version %d (%v), want %d: backup migrated it", chk.Version, err, older)
	}
}

package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/sqlite"
	"github.com/psgate/psgate/store/sqlite/sqlitetest"
)

// TestBackupIsASnapshotWhileWritesGoOn backs a store up while another
// goroutine keeps creating tenants one after another: the copy opens as a
// store and holds exactly the tenants of one moment — every tenant created
// before the backup started, none missing in between — and the writes go
// on succeeding during the copy.
func TestBackupIsASnapshotWhileWritesGoOn(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "psgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var created atomic.Int64
	stop := make(chan struct{})
	writeErr := make(chan error, 1)
	go func() {
		for i := 1; ; i++ {
			select {
			case <-stop:
				writeErr <- nil
				return
			default:
			}
			name := fmt.Sprintf("t%05d", i)
			if _, err := db.CreateTenant(context.Background(), store.Tenant{Name: name, Domain: name + ".test", Policy: store.DefaultPolicy()}); err != nil {
				writeErr <- err
				return
			}
			created.Store(int64(i))
		}
	}()
	waitFor(t, func() bool { return created.Load() >= 50 })
	before := created.Load()
	backup := filepath.Join(t.TempDir(), "psgate-backup.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatalf("Backup() error = %v", err)
	}
	after := created.Load()
	waitFor(t, func() bool { return created.Load() >= after+10 })
	close(stop)
	if err := <-writeErr; err != nil {
		t.Fatalf("a write failed during the backup: %v", err)
	}

	if fi, err := os.Stat(backup); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(backup), ".*")); len(leftovers) != 0 {
		t.Errorf("temporary files left next to the backup: %v", leftovers)
	}

	copyDB, err := sqlite.Open(ctx, backup, sqlite.Options{})
	if err != nil {
		t.Fatalf("the backup does not open as a store: %v", err)
	}
	defer copyDB.Close()
	tenants, err := copyDB.ListTenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tn := range tenants {
		names = append(names, tn.Name)
	}
	sort.Strings(names)
	n := int64(len(names))
	if n < before || n > after {
		t.Fatalf("the backup holds %d tenants; %d were created when it started and %d when it ended", n, before, after)
	}
	for i, name := range names {
		if want := fmt.Sprintf("t%05d", i+1); name != want {
			t.Fatalf("tenant %d of the backup is %s, want %s: the copy is not one moment's state", i, name, want)
		}
	}
	if _, err := copyDB.TenantByName(ctx, fmt.Sprintf("t%05d.test", before)); err != nil {
		t.Errorf("a tenant created before the backup is not found in it by domain: %v", err)
	}
	t.Logf("backup holds %d tenants (%d existed at its start, %d at its end)", n, before, after)
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out: the writes stopped")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBackupRefusesAnExistingFile(t *testing.T) {
	ctx := t.Context()
	db := sqlitetest.Open(t, sqlite.Options{})
	existing := filepath.Join(t.TempDir(), "keep.db")
	if err := os.WriteFile(existing, []byte("yesterday's backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(ctx, existing); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Backup() over an existing file: error = %v, want one wrapping fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(existing); string(b) != "yesterday's backup" {
		t.Errorf("the existing file was changed to %q", b)
	}
	if err := db.Backup(ctx, filepath.Join(t.TempDir(), "no", "such", "dir.db")); err == nil {
		t.Errorf("Backup() into a missing directory succeeded")
	}
}

func TestVerify(t *testing.T) {
	ctx := t.Context()
	db := sqlitetest.Open(t, sqlite.Options{})
	tn, err := db.CreateTenant(ctx, store.Tenant{Name: "contoso", Domain: "contoso.test", Policy: store.DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, store.User{TenantID: tn.ID, UPN: "alice@contoso.test", DisplayName: "Alice", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(t.TempDir(), "good.db")
	if err := db.Backup(ctx, good); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(good)
	c, err := sqlite.Verify(ctx, good)
	if err != nil || !c.OK() {
		t.Fatalf("Verify(good backup) = %+v, %v; want OK", c, err)
	}
	versions, _ := sqlite.MigrationVersions()
	if c.Version != versions[len(versions)-1] || c.Tenants != 1 || c.Users != 1 {
		t.Errorf("Verify(good backup) = %+v; want schema %d, 1 tenant, 1 user", c, versions[len(versions)-1])
	}
	if after, _ := os.ReadFile(good); string(after) != string(before) {
		t.Errorf("Verify changed the file it checked")
	}
	if m, _ := filepath.Glob(good + "-*"); len(m) != 0 {
		t.Errorf("Verify left files next to the backup: %v", m)
	}

	// Damage the pages after the header: the file still opens as a
	// database, and the check must say it is not sound.
	damaged := filepath.Join(t.TempDir(), "damaged.db")
	b := append([]byte(nil), before...)
	for i := 4096 + 200; i < len(b) && i < 4096*6; i += 7 {
		b[i] ^= 0x5a
	}
	if err := os.WriteFile(damaged, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := sqlite.Verify(ctx, damaged); err == nil && c.OK() {
		t.Errorf("Verify(damaged file) = %+v, want problems or an error", c)
	} else {
		t.Logf("damaged file: %+v, %v", c, err)
	}

	notDB := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notDB, []byte("not a database, but long enough to have a header of sorts..........................................................."), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := sqlite.Verify(ctx, notDB); err == nil && c.OK() {
		t.Errorf("Verify(text file) = %+v, want an error", c)
	}
	if _, err := sqlite.Verify(ctx, filepath.Join(t.TempDir(), "missing.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Verify(missing file) error = %v, want fs.ErrNotExist", err)
	}
}

// TestBackupFileNeverMigrates backs up a store whose schema is older than
// this binary's, as an operator does with the new psgate installed before
// restarting the gateway: neither the store nor its copy is upgraded, so
// the copy is the state to go back to.
func TestBackupFileNeverMigrates(t *testing.T) {
	ctx := t.Context()
	src := filepath.Join(t.TempDir(), "psgate.db")
	db, err := sqlite.Open(ctx, src, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	versions, _ := sqlite.MigrationVersions()
	older := versions[len(versions)-2]
	raw, err := sql.Open("sqlite", src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version > ?`, older); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	backup := filepath.Join(t.TempDir(), "before-upgrade.db")
	if err := sqlite.BackupFile(ctx, src, backup); err != nil {
		t.Fatalf("BackupFile() error = %v", err)
	}
	for _, f := range []string{src, backup} {
		c, err := sqlite.Verify(ctx, f)
		if err != nil || len(c.Problems) > 0 || c.Version != older {
			t.Errorf("Verify(%s) = %+v, %v; want schema version %d, untouched", filepath.Base(f), c, err, older)
		}
	}

	missing := filepath.Join(t.TempDir(), "psgate.db")
	out := filepath.Join(t.TempDir(), "x.db")
	if err := sqlite.BackupFile(ctx, missing, out); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("BackupFile(missing source) error = %v, want fs.ErrNotExist", err)
	}
	for _, f := range []string{missing, out} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("BackupFile(missing source) created %s", f)
		}
	}
}

package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/sqlite"
	"github.com/psgate/psgate/store/sqlite/sqlitetest"
)

func TestReopenKeepsDataAndSchema(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "psgate.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	tn, err := db.CreateTenant(ctx, store.Tenant{Name: "contoso", Domain: "contoso.test", Policy: store.DefaultPolicy()})
	if err != nil {
		t.Fatalf("CreateTenant() error = %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	db, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("second Open() error = %v", err)
	}
	defer db.Close()
	got, err := db.TenantByName(ctx, "contoso")
	if err != nil {
		t.Fatalf("TenantByName() after reopen error = %v", err)
	}
	if got.ID != tn.ID {
		t.Errorf("tenant ID after reopen = %d, want %d", got.ID, tn.ID)
	}
	if roles, _ := db.ListRoles(ctx, tn.ID); len(roles) != 3 {
		t.Errorf("built-in roles after reopen = %d, want 3 (seeded once)", len(roles))
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "psgate.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("sql.Open() error = %v", err)
	}
	if _, err := raw.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`); err != nil {
		t.Fatalf("insert future version: %v", err)
	}
	raw.Close()
	_, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err == nil {
		t.Fatalf("Open() of a database from a newer psgate succeeded, want an error")
	}
	t.Logf("Open() error = %v", err)
}

func TestOpenRejectsNonFilePaths(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if _, err := sqlite.Open(t.Context(), path, sqlite.Options{}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Open(%q) error = %v, want ErrInvalid", path, err)
		}
	}
}

func TestMigrationVersions(t *testing.T) {
	got, err := sqlite.MigrationVersions()
	if err != nil {
		t.Fatalf("MigrationVersions() error = %v", err)
	}
	if diff := cmp.Diff(got, []int{1, 2, 3}); diff != "" {
		t.Errorf("MigrationVersions() (-got +want):\n%s", diff)
	}
}

// fixture is a database with tenants of users for lease tests.
type fixture struct {
	db    *sqlite.DB
	users []store.User
}

func newFixture(tb testing.TB, tenants, usersPerTenant int) *fixture {
	tb.Helper()
	ctx := context.Background()
	db := sqlitetest.Open(tb, sqlite.Options{})
	f := &fixture{db: db}
	for i := range tenants {
		tn, err := db.CreateTenant(ctx, store.Tenant{Name: fmt.Sprintf("t%d", i), Domain: fmt.Sprintf("t%d.test", i),
			Policy: store.DefaultPolicy()})
		if err != nil {
			tb.Fatalf("CreateTenant() error = %v", err)
		}
		for j := range usersPerTenant {
			u, err := db.CreateUser(ctx, store.User{TenantID: tn.ID, UPN: fmt.Sprintf("u%d@t%d.test", j, i), Enabled: true})
			if err != nil {
				tb.Fatalf("CreateUser() error = %v", err)
			}
			f.users = append(f.users, u)
		}
	}
	return f
}

func (f *fixture) request(n int, u store.User) store.LeaseRequest {
	return store.LeaseRequest{ShellID: fmt.Sprintf("shell-%d", n), TenantID: u.TenantID, UserID: u.ID, NodeID: "node",
		Kind: store.KindWinRS, MaxPerUser: 3, MaxPerTenant: 20, TTL: 45 * time.Second}
}

// TestThousandConcurrentAcquires checks that a burst of admissions across
// tenants never surfaces SQLITE_BUSY: the writer is serialised in Go.
func TestThousandConcurrentAcquires(t *testing.T) {
	f := newFixture(t, 10, 10)
	var wg sync.WaitGroup
	errs := make([]error, 1000)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = f.db.AcquireLease(t.Context(), f.request(i, f.users[i%len(f.users)]))
		})
	}
	wg.Wait()
	admitted := 0
	for _, err := range errs {
		var qe *store.QuotaError
		switch {
		case err == nil:
			admitted++
		case !errors.As(err, &qe):
			t.Errorf("AcquireLease() error = %v, want nil or *store.QuotaError", err)
		}
	}
	if admitted != 200 {
		t.Errorf("admitted %d of 1000 across 10 tenants, want 200 (20 per tenant)", admitted)
	}
}

// BenchmarkAcquireRelease measures one uncontended admission followed by a
// release and reports the acquire latency percentiles.
func BenchmarkAcquireRelease(b *testing.B) {
	f := newFixture(b, 1, 1)
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		r := f.request(i, f.users[0])
		start := time.Now()
		if _, err := f.db.AcquireLease(ctx, r); err != nil {
			b.Fatalf("AcquireLease() error = %v", err)
		}
		lat = append(lat, time.Since(start))
		if err := f.db.ReleaseLease(ctx, r.ShellID, r.NodeID); err != nil {
			b.Fatalf("ReleaseLease() error = %v", err)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "acquire-p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "acquire-p99-µs")
}

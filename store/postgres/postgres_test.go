package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/postgres"
	"github.com/psgate/psgate/store/postgres/pgtest"
	"github.com/psgate/psgate/store/sqlite"
	"github.com/psgate/psgate/store/storetest"
)

func openTest(t *testing.T, c *storetest.Clock) store.Store {
	t.Helper()
	dsn := pgtest.Schema(t)
	db, err := postgres.Open(t.Context(), dsn, postgres.Options{Now: c.Now, ClockOffset: c.Offset})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	pgtest.DSN(t)
	storetest.Run(t, openTest)
}

func TestMigrationVersionsMatchSQLite(t *testing.T) {
	pg, err := postgres.MigrationVersions()
	if err != nil {
		t.Fatalf("postgres.MigrationVersions() error = %v", err)
	}
	lite, err := sqlite.MigrationVersions()
	if err != nil {
		t.Fatalf("sqlite.MigrationVersions() error = %v", err)
	}
	if diff := cmp.Diff(pg, lite); diff != "" {
		t.Errorf("migration versions differ (-postgres +sqlite):\n%s", diff)
	}
}

func TestMigrateTwiceAndRefuseNewer(t *testing.T) {
	dsn := pgtest.Schema(t)
	ctx := t.Context()
	for range 2 {
		db, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			t.Fatalf("Open() error = %v", err)
		}
		db.Close()
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var roles int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM roles`).Scan(&roles); err != nil || roles != 3 {
		t.Errorf("built-in roles after two opens = %d (%v), want 3", roles, err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (999, 'future')`); err != nil {
		t.Fatalf("insert future version: %v", err)
	}
	if _, err := postgres.Open(ctx, dsn, postgres.Options{}); err == nil {
		t.Errorf("Open() of a database from a newer psgate succeeded, want an error")
	}
}

// TestSurvivesTerminatedConnections kills the pool's server processes, as
// a server restart does, and expects reads to go on after one retry.
func TestSurvivesTerminatedConnections(t *testing.T) {
	base := pgtest.DSN(t)
	dsn := pgtest.Schema(t)
	if strings.Contains(dsn, "://") {
		dsn += "&application_name=psgate_terminate_test"
	} else {
		dsn += " application_name=psgate_terminate_test"
	}
	ctx := t.Context()
	db, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 2})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	defer db.Close()
	if _, err := db.CreateTenant(ctx, store.Tenant{Name: "contoso", Domain: "contoso.test", Policy: store.DefaultPolicy()}); err != nil {
		t.Fatalf("CreateTenant() error = %v", err)
	}
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer admin.Close(ctx)
	var killed int
	if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'psgate_terminate_test'`).Scan(&killed); err != nil || killed == 0 {
		t.Fatalf("terminate backends: killed %d, error %v", killed, err)
	}
	for range 3 {
		if _, err := db.TenantByName(ctx, "contoso"); err != nil {
			t.Fatalf("TenantByName() after the server closed the connections: %v", err)
		}
	}
}

func BenchmarkAcquireRelease(b *testing.B) {
	dsn := os.Getenv("PSGATE_TEST_POSTGRES_DSN")
	if dsn == "" {
		b.Skip("PSGATE_TEST_POSTGRES_DSN is not set")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatalf("connect: %v", err)
	}
	schema := fmt.Sprintf("psgate_bench_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		b.Fatalf("create schema: %v", err)
	}
	defer func() {
		_, _ = conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(ctx)
	}()
	db, err := postgres.Open(ctx, pgtest.WithSearchPath(dsn, schema), postgres.Options{})
	if err != nil {
		b.Fatalf("Open() error = %v", err)
	}
	defer db.Close()
	tn, err := db.CreateTenant(ctx, store.Tenant{Name: "bench", Domain: "bench.test", Policy: store.DefaultPolicy()})
	if err != nil {
		b.Fatalf("CreateTenant() error = %v", err)
	}
	u, err := db.CreateUser(ctx, store.User{TenantID: tn.ID, UPN: "u@bench.test"})
	if err != nil {
		b.Fatalf("CreateUser() error = %v", err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		r := store.LeaseRequest{ShellID: fmt.Sprintf("shell-%d", i), TenantID: tn.ID, UserID: u.ID, NodeID: "node",
			Kind: store.KindWinRS, MaxPerUser: 3, MaxPerTenant: 20, TTL: 45 * time.Second}
		start := time.Now()
		if _, err := db.AcquireLease(ctx, r); err != nil {
			b.Fatalf("AcquireLease() error = %v", err)
		}
		lat = append(lat, time.Since(start))
		if err := db.ReleaseLease(ctx, r.ShellID, r.NodeID); err != nil {
			b.Fatalf("ReleaseLease() error = %v", err)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "acquire-p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "acquire-p99-µs")
}

// TestPoolBoundsAndErrors checks the pool against the server: MaxConns
// bounds the server connections under load, a closed store and an
// unreachable server are store.ErrUnavailable.
func TestPoolBoundsAndErrors(t *testing.T) {
	base := pgtest.DSN(t)
	dsn := pgtest.Schema(t)
	if strings.Contains(dsn, "://") {
		dsn += "&application_name=psgate_pool_test"
	} else {
		dsn += " application_name=psgate_pool_test"
	}
	ctx := t.Context()
	db, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 3})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	defer db.Close()
	if _, err := db.CreateTenant(ctx, store.Tenant{Name: "contoso", Domain: "contoso.test", Policy: store.DefaultPolicy()}); err != nil {
		t.Fatalf("CreateTenant() error = %v", err)
	}
	if most := mostBackends(t, db, base, "psgate_pool_test"); most == 0 || most > 3 {
		t.Errorf("%d server connections with MaxConns 3", most)
	}

	db.Close()
	if _, err := db.TenantByName(ctx, "contoso"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("TenantByName() after Close: %v, want store.ErrUnavailable", err)
	}
	if _, err := db.AppendAudit(ctx, store.AuditRecord{Action: store.ActionCommand}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("AppendAudit() after Close: %v, want store.ErrUnavailable", err)
	}

	// Nothing listens on port 1.
	_, err = postgres.Open(ctx, "postgres://postgres@127.0.0.1:1/psgate_test?sslmode=disable&connect_timeout=1", postgres.Options{})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open() of an unreachable server: %v, want store.ErrUnavailable", err)
	}
}

// mostBackends runs 40 concurrent reads on db and returns the most server
// connections of application app seen meanwhile.
func mostBackends(t *testing.T, db *postgres.DB, base, app string) int {
	t.Helper()
	ctx := t.Context()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer admin.Close(ctx)
	backends := func() int {
		var n int
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	most := 0
	errs := make(chan error, 40)
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			default:
				most = max(most, backends())
			}
		}
	}()
	for range cap(errs) {
		go func() {
			_, err := db.ListTenants(ctx)
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Errorf("ListTenants() under load: %v", err)
		}
	}
	close(stop)
	<-watched
	return max(most, backends())
}

// A pool_max_conns in the connection string sizes the pool when Options
// leave MaxConns at zero (operators size it in the DSN they configure).
func TestPoolSizeFromDSN(t *testing.T) {
	base := pgtest.DSN(t)
	dsn := pgtest.Schema(t)
	if strings.Contains(dsn, "://") {
		dsn += "&application_name=psgate_pool_dsn_test&pool_max_conns=2"
	} else {
		dsn += " application_name=psgate_pool_dsn_test pool_max_conns=2"
	}
	db, err := postgres.Open(t.Context(), dsn, postgres.Options{})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	defer db.Close()
	if most := mostBackends(t, db, base, "psgate_pool_dsn_test"); most == 0 || most > 2 {
		t.Errorf("%d server connections with pool_max_conns=2", most)
	}
}

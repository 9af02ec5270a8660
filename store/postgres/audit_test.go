package postgres_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/postgres"
	"github.com/psgate/psgate/store/postgres/pgtest"
	"github.com/psgate/psgate/store/storetest"
)

func benchmarkAppendAudit(b *testing.B, parallel bool) {
	dsn := os.Getenv("PSGATE_TEST_POSTGRES_DSN")
	if dsn == "" {
		b.Skip("PSGATE_TEST_POSTGRES_DSN is not set")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("psgate_bench_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		b.Fatalf("create schema: %v", err)
	}
	defer func() { _, _ = conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE") }()
	db, err := postgres.Open(ctx, pgtest.WithSearchPath(dsn, schema), postgres.Options{})
	if err != nil {
		b.Fatalf("Open() error = %v", err)
	}
	defer db.Close()
	storetest.BenchmarkAppendAudit(b, db, parallel)
}

func BenchmarkAppendAuditSerial(b *testing.B)   { benchmarkAppendAudit(b, false) }
func BenchmarkAppendAuditParallel(b *testing.B) { benchmarkAppendAudit(b, true) }

// TestAuditSurvivesKill kills a process appending audit records and
// expects every record it acknowledged in its schema.
func TestAuditSurvivesKill(t *testing.T) {
	pgtest.DSN(t)
	storetest.RunAuditKill(t,
		func(t *testing.T) string { return pgtest.Schema(t) },
		func(t *testing.T, dsn string) store.Store {
			db, err := postgres.Open(t.Context(), dsn, postgres.Options{})
			if err != nil {
				t.Fatalf("Open() error = %v", err)
			}
			return db
		})
}

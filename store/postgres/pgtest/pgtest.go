// Package pgtest gives tests an empty PostgreSQL schema of their own on
// the test server named by PSGATE_TEST_POSTGRES_DSN.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DSN returns the test server's DSN. Without PSGATE_TEST_POSTGRES_DSN the
// test is skipped, except under CI=true, where the test command must have
// started PostgreSQL and the test fails.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("PSGATE_TEST_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PSGATE_TEST_POSTGRES_DSN is not set under CI=true; the CI script must start PostgreSQL")
		}
		t.Skip("PSGATE_TEST_POSTGRES_DSN is not set")
	}
	return dsn
}

var seq atomic.Int64

// Schema creates an empty schema, dropped when the test ends, and returns
// the test server's DSN with its search_path set to it.
func Schema(t testing.TB) string {
	t.Helper()
	dsn := DSN(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", dsn, err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("psgate_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano(), seq.Add(1))
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("connect to drop schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	return WithSearchPath(dsn, schema)
}

// WithSearchPath returns dsn (URL or key=value form) with its search_path
// set to schema.
func WithSearchPath(dsn, schema string) string {
	if strings.Contains(dsn, "://") {
		if u, err := url.Parse(dsn); err == nil {
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " search_path=" + schema
}

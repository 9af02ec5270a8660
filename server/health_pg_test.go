package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/psgate/psgate/store/postgres/pgtest"
)

// A node whose PostgreSQL store stops accepting it is not ready, saying
// so; it is ready again once the store is back. The outage is real and
// private to the test: the server signs in as a role of its own, which
// the test forbids to log in and whose sessions it terminates, leaving the
// shared PostgreSQL server and every other test's connections alone.
func TestReadinessFollowsStore(t *testing.T) {
	ctx := context.Background()
	superDSN := pgtest.DSN(t)
	schemaDSN := pgtest.Schema(t)
	u, err := url.Parse(schemaDSN)
	if err != nil {
		t.Fatalf("PSGATE_TEST_POSTGRES_DSN must be a postgres:// URL for this test: %v", err)
	}
	schema := u.Query().Get("search_path")
	role := fmt.Sprintf("psgate_ready_%d_%d", os.Getpid(), time.Now().UnixNano())
	const rolePassword = "Ready-Pa55word"
	su, err := pgx.Connect(ctx, superDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer su.Close(ctx)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := su.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec("CREATE ROLE " + role + " LOGIN PASSWORD '" + rolePassword + "'")
	t.Cleanup(func() {
		// After the server stopped (cleanups run last first), before
		// pgtest drops the schema.
		c, err := pgx.Connect(ctx, superDSN)
		if err != nil {
			t.Errorf("connect to drop role %s: %v", role, err)
			return
		}
		defer c.Close(ctx)
		for _, sql := range []string{"DROP OWNED BY " + role, "DROP ROLE " + role} {
			if _, err := c.Exec(ctx, sql); err != nil {
				t.Errorf("%s: %v", sql, err)
			}
		}
	})
	exec("GRANT ALL ON SCHEMA " + schema + " TO " + role)
	u.User = url.UserPassword(role, rolePassword)

	as := startAdminServer(t, func(c *Config) { c.StoreDSN = u.String() })
	readyz := as.adminURL + PathReadyz
	waitReady(t, readyz, http.StatusOK, 10*time.Second)

	exec("ALTER ROLE " + role + " NOLOGIN")
	exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", role)
	body := waitReady(t, readyz, http.StatusServiceUnavailable, 15*time.Second)
	if !strings.Contains(body, "store unreachable") {
		t.Errorf("/readyz with the store gone says %q, want \"store unreachable\"", body)
	}
	if code, _ := get(t, as.adminURL+PathHealthz); code != http.StatusOK {
		t.Errorf("/healthz with the store gone: %d, want 200 (the process is alive)", code)
	}

	exec("ALTER ROLE " + role + " LOGIN")
	waitReady(t, readyz, http.StatusOK, 15*time.Second)
}

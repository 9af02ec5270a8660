package interop

import (
	"github.com/psgate/psgate/store/postgres/pgtest"

	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/psgate/psgate/server"
)

// postgresDSN returns a fresh, empty PostgreSQL database for a cluster
// test: it skips without PSGATE_TEST_POSTGRES_DSN on a developer machine
// and fails under CI, where the test command starts PostgreSQL.
func postgresDSN(t *testing.T) string {
	t.Helper()
	base := pgtest.DSN(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := "psgate_cluster_" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_"))
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Replace(base, "/"+cfg.Database, "/"+name, 1)
}

// TestClusterSharesQuotas runs two gateway nodes on one PostgreSQL store:
// a user's three shells count across both nodes, and a request for a shell
// that lives on the other node is told so instead of "not found".
func TestClusterSharesQuotas(t *testing.T) {
	dsn := postgresDSN(t)
	a := startServerWith(t, func(c *server.Config) { c.StoreDSN = dsn })
	b := startServerWith(t, func(c *server.Config) { c.StoreDSN = dsn })

	var onA []string
	for i := range 2 {
		id, f := create(t, a.httpURL, server.DemoAdmin, adminPassword, "CL-A"+string(rune('0'+i)))
		if f != nil {
			t.Fatalf("shell %d on node A: %v", i, f)
		}
		onA = append(onA, id)
	}
	if _, f := create(t, b.httpURL, server.DemoAdmin, adminPassword, "CL-B0"); f != nil {
		t.Fatalf("third shell on node B: %v", f)
	}
	_, f := create(t, b.httpURL, server.DemoAdmin, adminPassword, "CL-B1")
	if f == nil || f.ErrorCode != "admission.user-quota-exceeded" {
		t.Fatalf("fourth shell across the cluster: %+v, want the user quota refusal", f)
	}
	// Node B is asked about a shell node A hosts.
	_, _, body := soapPost(t, b.httpURL, server.DemoAdmin, adminPassword, envelope("CL-X", actCommand, onA[0],
		`<rsp:CommandLine><rsp:Command>Get-CsTenant</rsp:Command></rsp:CommandLine>`))
	if !strings.Contains(body, "session.other-node") || !strings.Contains(body, onA[0]) {
		t.Fatalf("request for node A's shell on node B:\n%s", body)
	}
	// Closing on A frees a slot for B.
	if status, _, body := soapPost(t, a.httpURL, server.DemoAdmin, adminPassword, envelope("CL-D", actDelete, onA[0], "")); status != 200 {
		t.Fatalf("Delete on node A: %d %s", status, body)
	}
	if _, f := create(t, b.httpURL, server.DemoAdmin, adminPassword, "CL-B2"); f != nil {
		t.Fatalf("shell on B after a Delete on A: %v", f)
	}
}

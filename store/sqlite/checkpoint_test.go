package sqlite_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/sqlite"
)

// Commits reach the database file without the writer checkpointing: in
// WAL mode only a checkpoint writes the main file, and 200 small commits
// stay far below the writer's own checkpoint mark, so the file changes
// only if the background checkpointer copied them. The writer's commit
// hook wakes the checkpointer, whichever way the commit came: the audit
// log's group commit, a transaction (DB.write), a single statement.
func TestCommitsCheckpointedInTheBackground(t *testing.T) {
	writers := []struct {
		name  string
		write func(t *testing.T, db *sqlite.DB, tn store.Tenant, i int)
	}{
		{"audit records", func(t *testing.T, db *sqlite.DB, _ store.Tenant, i int) {
			r := store.AuditRecord{Action: "test.record", ShellID: "shell-" + string(rune('a'+i%26)),
				Detail: string(make([]byte, 500))}
			if _, err := db.AppendAudit(t.Context(), r); err != nil {
				t.Fatalf("AppendAudit() error = %v", err)
			}
		}},
		{"policy updates (one statement)", func(t *testing.T, db *sqlite.DB, tn store.Tenant, i int) {
			p := tn.Policy
			p.MaxShellsPerUser = 1 + i%5
			if err := db.UpdatePolicy(t.Context(), tn.ID, p); err != nil {
				t.Fatalf("UpdatePolicy() error = %v", err)
			}
		}},
		{"users (transactions)", func(t *testing.T, db *sqlite.DB, tn store.Tenant, i int) {
			u := store.User{TenantID: tn.ID, UPN: "user" + strconv.Itoa(i) + "@contoso.test", Enabled: true}
			if _, err := db.CreateUser(t.Context(), u); err != nil {
				t.Fatalf("CreateUser() error = %v", err)
			}
		}},
	}
	for _, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "psgate.db")
			db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
			if err != nil {
				t.Fatalf("Open() error = %v", err)
			}
			defer db.Close()
			stamp := func() string {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatalf("stat %s: %v", path, err)
				}
				return fmt.Sprint(fi.Size(), fi.ModTime().UnixNano())
			}
			tn, err := db.CreateTenant(t.Context(), store.Tenant{Name: "contoso", Domain: "contoso.test", Policy: store.DefaultPolicy()})
			if err != nil {
				t.Fatalf("CreateTenant() error = %v", err)
			}
			// Let a checkpoint of what Open and CreateTenant wrote settle.
			time.Sleep(500 * time.Millisecond)
			before := stamp()
			for i := range 200 { // one at a time: 200 commits of a few pages
				w.write(t, db, tn, i)
			}
			deadline := time.Now().Add(10 * time.Second)
			for stamp() == before {
				if time.Now().After(deadline) {
					t.Fatalf("the database file stayed as it was (size, mtime %s) for 10 s after 200 commits: no background checkpoint", before)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

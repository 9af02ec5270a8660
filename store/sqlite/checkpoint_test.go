package sqlite_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/sqlite"
)

// Audit records reach the database file without the writer checkpointing:
// in WAL mode only a checkpoint writes the main file, and 200 one-record
// commits stay far below the writer's own checkpoint mark, so the file
// grows only if the background checkpointer copied them.
func TestAuditCheckpointedInTheBackground(t *testing.T) {
	path := filepath.Join(t.TempDir(), "psgate.db")
	db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	defer db.Close()
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatalf("stat %s: %v", path, err)
		}
		return fi.Size()
	}
	// Let a checkpoint of what migration wrote settle first.
	if _, err := db.AppendAudit(t.Context(), store.AuditRecord{Action: "test.start"}); err != nil {
		t.Fatalf("AppendAudit() error = %v", err)
	}
	time.Sleep(500 * time.Millisecond)
	before := size()
	for i := range 200 { // one at a time: 200 commits, about 2 pages each
		r := store.AuditRecord{Action: "test.record", ShellID: "shell-" + string(rune('a'+i%26)),
			Detail: string(make([]byte, 500))}
		if _, err := db.AppendAudit(t.Context(), r); err != nil {
			t.Fatalf("AppendAudit() error = %v", err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for size() <= before {
		if time.Now().After(deadline) {
			t.Fatalf("the database file stayed at %d bytes for 10 s after 200 audit records: no background checkpoint", before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/sqlite"
	"github.com/psgate/psgate/store/sqlite/sqlitetest"
	"github.com/psgate/psgate/store/storetest"
)

func benchmarkAppendAudit(b *testing.B, parallel bool) {
	db := sqlitetest.Open(b, sqlite.Options{})
	storetest.BenchmarkAppendAudit(b, db, parallel)
}

func BenchmarkAppendAuditSerial(b *testing.B)   { benchmarkAppendAudit(b, false) }
func BenchmarkAppendAuditParallel(b *testing.B) { benchmarkAppendAudit(b, true) }

// TestAuditSurvivesKill kills a process appending audit records and
// expects every record it acknowledged in the database file.
func TestAuditSurvivesKill(t *testing.T) {
	storetest.RunAuditKill(t,
		func(t *testing.T) string { return filepath.Join(t.TempDir(), "psgate.db") },
		func(t *testing.T, path string) store.Store {
			db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
			if err != nil {
				t.Fatalf("Open(%s) error = %v", path, err)
			}
			return db
		})
}

// Package sqlitetest opens a real SQLite store for tests.
package sqlitetest

import (
	"path/filepath"
	"testing"

	"github.com/psgate/psgate/store/sqlite"
)

// Open opens a new store in a file of tb's temporary directory, with opts,
// and closes it when the test ends; a store that does not open fails tb.
func Open(tb testing.TB, opts sqlite.Options) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(tb.Context(), filepath.Join(tb.TempDir(), "psgate.db"), opts)
	if err != nil {
		tb.Fatalf("open the SQLite store: %v", err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/sqlite"
	"github.com/psgate/psgate/store/storetest"
)

func openTest(t *testing.T, c *storetest.Clock) store.Store {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "psgate.db"), sqlite.Options{Now: c.Now})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close() error = %v", err)
		}
	})
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, openTest)
}

package server

import (
	"context"
	"testing"
	"time"

	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/sqlite"
	"github.com/psgate/psgate/store/sqlite/sqlitetest"
)

// TestPurgePacedRestsBetweenBatches: the retention purge works through a
// backlog in batches on the real SQLite store, resting after each full
// batch (so that commands' audit records get the writer), and leaves the
// records inside the retention period alone.
func TestPurgePacedRestsBetweenBatches(t *testing.T) {
	ctx := t.Context()
	db := sqlitetest.Open(t, sqlite.Options{})
	now := time.Now()
	before := now.Add(-time.Hour)
	var recs []store.AuditRecord
	for i := range 250 {
		recs = append(recs, store.AuditRecord{Time: before.Add(-time.Duration(i+1) * time.Minute), TenantID: 1,
			Action: store.ActionCommand, Outcome: store.OutcomeOK})
	}
	for i := range 7 {
		recs = append(recs, store.AuditRecord{Time: now.Add(-time.Duration(i) * time.Minute), TenantID: 1,
			Action: store.ActionCommand, Outcome: store.OutcomeOK})
	}
	if _, _, err := store.AppendAudits(ctx, db, recs); err != nil {
		t.Fatal(err)
	}

	var rests []time.Duration
	var between []int
	n, err := store.PurgeBefore(ctx, db, before, 100, func(ctx context.Context, took time.Duration) bool {
		rests = append(rests, took)
		// The writer is free while the purge rests: a command's record
		// goes in, and sees the purge half done.
		if _, err := db.AppendAudit(ctx, store.AuditRecord{TenantID: 2, Action: store.ActionCommand,
			Outcome: store.OutcomeOK}); err != nil {
			t.Errorf("AppendAudit while the purge rests: %v", err)
		}
		left, err := db.SearchAudit(ctx, store.AuditFilter{TenantID: 1, Until: before, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		between = append(between, len(left))
		return true
	})
	if err != nil || n != 250 {
		t.Fatalf("PurgeBefore = %d, %v; want 250 deleted", n, err)
	}
	// Batches of 100, 100 and a short 50: a rest after each full one.
	if len(rests) != 2 || between[0] != 150 || between[1] != 50 {
		t.Errorf("rests after batches: %d, old records left at each %v; want 2 rests, 150 then 50 left", len(rests), between)
	}
	for i, took := range rests {
		if took <= 0 {
			t.Errorf("rest %d was told the batch took %v", i, took)
		}
	}
	left, err := db.SearchAudit(ctx, store.AuditFilter{TenantID: 1, Limit: 1000})
	if err != nil || len(left) != 7 {
		t.Errorf("after the purge tenant 1 has %d records (%v), want the 7 inside the retention period", len(left), err)
	}

	// A rest that ends (the server stops) ends the purge after its batch.
	if _, _, err := store.AppendAudits(ctx, db, recs[:250]); err != nil {
		t.Fatal(err)
	}
	stop, cancel := context.WithCancel(ctx)
	n, err = store.PurgeBefore(stop, db, before, 100, func(ctx context.Context, _ time.Duration) bool {
		cancel()
		return pause(ctx, time.Hour)
	})
	if n != 100 || err != context.Canceled {
		t.Errorf("purge stopped at its first rest = %d, %v; want 100, context.Canceled", n, err)
	}
}

// TestPauseScalesWithTheBatch: the rest is purgeRest times the batch's
// duration, and never shorter than purgeMinRest.
func TestPauseScalesWithTheBatch(t *testing.T) {
	for _, took := range []time.Duration{0, 10 * time.Millisecond} {
		start := time.Now()
		if !pause(t.Context(), took) {
			t.Fatal("pause reported the context ended")
		}
		if got, want := time.Since(start), max(purgeRest*took, purgeMinRest); got < want {
			t.Errorf("pause after a %v batch rested %v, want at least %v", took, got, want)
		}
	}
}

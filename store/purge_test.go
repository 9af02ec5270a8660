package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/psgate/psgate/store"
)

// scriptedPurge answers PurgeAudit with the counts of a script, standing
// in for a store whose batches another node's purge cuts short: on a real
// store that needs two deletes choosing the same rows at the same moment,
// which no test can time. The storetest conformance tests run
// PurgeBefore on the real stores.
type scriptedPurge struct {
	counts []int64
	calls  int
}

func (p *scriptedPurge) PurgeAudit(_ context.Context, _ time.Time, limit int) (int64, error) {
	p.calls++
	if len(p.counts) == 0 {
		return 0, nil
	}
	n := min(p.counts[0], int64(limit))
	p.counts = p.counts[1:]
	return n, nil
}

// TestPurgeBeforeGoesOnAfterAShortBatch: a batch cut short by another
// purger does not end the purge; an empty batch does, and only full
// batches are followed by a rest.
func TestPurgeBeforeGoesOnAfterAShortBatch(t *testing.T) {
	p := &scriptedPurge{counts: []int64{100, 30, 100, 7}}
	var rests []int
	n, err := store.PurgeBefore(t.Context(), p, time.Now(), 100, func(context.Context, time.Duration) bool {
		rests = append(rests, p.calls)
		return true
	})
	if err != nil || n != 237 {
		t.Fatalf("PurgeBefore = %d, %v; want 237 deleted", n, err)
	}
	if p.calls != 5 {
		t.Errorf("PurgeAudit called %d times, want 5 (four batches, then an empty one)", p.calls)
	}
	if !slices.Equal(rests, []int{1, 3}) {
		t.Errorf("rested after batches %v, want after the full batches 1 and 3", rests)
	}
}

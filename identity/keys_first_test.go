package identity

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psgate/psgate/store/sqlite"
	"github.com/psgate/psgate/store/sqlite/sqlitetest"
)

// TestSignerRightAfterFirstKey: the first token request on a fresh store
// creates the signing key; the key's NotBefore is the creation time, which
// is after the moment the request started looking. That request must still
// get the new key (it used to fail with an internal error whenever key
// creation took longer than a millisecond).
func TestSignerRightAfterFirstKey(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.Open(t, sqlite.Options{})
	var ticks atomic.Int64
	base := time.Now()
	// Every reading of the clock is 5 ms later than the last, as on a slow
	// machine.
	now := func() time.Time { return base.Add(time.Duration(ticks.Add(1)) * 5 * time.Millisecond) }
	svc, err := NewService(ServiceConfig{Store: db, Issuer: "https://psgate.test", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.keys.signer(ctx); err != nil {
		t.Fatalf("first signer on an empty store: %v", err)
	}
}

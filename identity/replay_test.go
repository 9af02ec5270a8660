package identity

import (
	"fmt"
	"testing"
	"time"
)

func TestReplayCacheRefusesReuseUntilExpiry(t *testing.T) {
	c := newReplayCache()
	now := time.Unix(1_000_000, 0)
	until := now.Add(5 * time.Minute)
	if r := c.add("app", "jti-1", until, now); r != replayNew {
		t.Fatalf("first use = %v, want new", r)
	}
	if r := c.add("app", "jti-1", until, now.Add(time.Minute)); r != replayUsed {
		t.Fatalf("reuse within its lifetime = %v, want used", r)
	}
	if r := c.add("other-app", "jti-1", now.Add(time.Hour), now); r != replayNew {
		t.Fatalf("the same jti from another application = %v, want new", r)
	}
	// Once expired, the assertion itself is refused by its exp claim; the
	// cache forgets it.
	later := until.Add(time.Second)
	if r := c.add("app", "jti-1", later.Add(5*time.Minute), later); r != replayNew {
		t.Fatalf("after expiry = %v, want new", r)
	}
	if n := len(c.held); n != 2 {
		t.Fatalf("%d IDs held, want 2 (other-app's and the new one)", n)
	}
}

// One application's key cannot fill the cache for everyone: it gets a
// quarter, and the others still sign in.
func TestReplayCacheBoundsEachApplication(t *testing.T) {
	c := newReplayCache()
	now := time.Unix(1_000_000, 0)
	until := now.Add(time.Hour)
	for i := range maxReplayPerClient {
		if r := c.add("greedy", fmt.Sprint(i), until, now); r != replayNew {
			t.Fatalf("assertion %d = %v, want new", i, r)
		}
	}
	if r := c.add("greedy", "one-more", until, now); r != replayClientFull {
		t.Fatalf("past its share = %v, want client-full", r)
	}
	if r := c.add("modest", "a", until, now); r != replayNew {
		t.Fatalf("another application = %v, want new", r)
	}
}

// Full of unexpired IDs, the cache refuses rather than forgets; as IDs
// expire, exactly that many new ones fit.
func TestReplayCacheFullRefusesThenFreesInExpiryOrder(t *testing.T) {
	c := newReplayCache()
	now := time.Unix(1_000_000, 0)
	apps := maxReplayEntries / maxReplayPerClient
	for a := range apps {
		for i := range maxReplayPerClient {
			// Expiries one second apart, in an order unlike insertion.
			until := now.Add(time.Minute + time.Duration((i*7919+a)%maxReplayEntries)*time.Second)
			if r := c.add(fmt.Sprint("app", a), fmt.Sprint(i), until, now); r != replayNew {
				t.Fatalf("filling: %v", r)
			}
		}
	}
	if r := c.add("late", "x", now.Add(time.Hour), now); r != replayFull {
		t.Fatalf("into a full cache = %v, want full", r)
	}
	// Ten seconds past the earliest expiry, ten (or so, ties) IDs have gone.
	later := now.Add(time.Minute + 10*time.Second)
	c.sweep(later)
	freed := maxReplayEntries - len(c.held)
	if freed < 10 || freed > 11*apps {
		t.Fatalf("%d IDs freed 10 s after the first expiry", freed)
	}
	for i := range freed {
		if r := c.add("late", fmt.Sprint(i), later.Add(time.Hour), later); r != replayNew {
			t.Fatalf("new ID %d of %d after expiry = %v", i, freed, r)
		}
	}
	if r := c.add("late", "one-too-many", later.Add(time.Hour), later); r != replayFull {
		t.Fatalf("past the freed room = %v, want full", r)
	}
	if len(c.held) != len(c.byExpiry) {
		t.Fatalf("map holds %d, heap %d", len(c.held), len(c.byExpiry))
	}
}

// A sign-in against a cache full of unexpired assertions: refused without
// looking at the 20,000 it holds.
func BenchmarkReplayAddFull(b *testing.B) {
	c := newReplayCache()
	now := time.Unix(1_000_000, 0)
	until := now.Add(time.Hour)
	for a := range maxReplayEntries / maxReplayPerClient {
		for i := range maxReplayPerClient {
			c.add(fmt.Sprint("app", a), fmt.Sprint(i), until, now)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		if c.add("late", fmt.Sprint(i), until, now) != replayFull {
			b.Fatal("not refused")
		}
	}
}

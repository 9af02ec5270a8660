package identity

import (
	"encoding/binary"
	"testing"
	"time"
)

// A full token cache of live tokens makes room for half its size at once,
// so the tokens that follow are cached without another scan each; expired
// tokens go first.
func TestTokenCacheEvictsByHalves(t *testing.T) {
	now := time.Date(2026, 12, 5, 4, 0, 0, 0, time.UTC)
	c := newTokenCache()
	key := func(i int) (k [32]byte) {
		binary.BigEndian.PutUint64(k[:], uint64(i))
		return k
	}
	live := verifiedToken{until: now.Add(time.Hour)}
	for i := range maxCacheEntries {
		c.put(key(i), live, now)
	}
	if len(c.m) != maxCacheEntries {
		t.Fatalf("%d entries after filling, want %d", len(c.m), maxCacheEntries)
	}
	c.put(key(maxCacheEntries), live, now)
	if n := len(c.m); n != maxCacheEntries/2+1 {
		t.Fatalf("a put into a full cache left %d entries, want %d (half, and the new one)", n, maxCacheEntries/2+1)
	}
	if _, ok := c.get(key(maxCacheEntries)); !ok {
		t.Fatal("the token put into the full cache is not cached")
	}
	// The next puts fit without dropping anything.
	for i := range maxCacheEntries/2 - 1 {
		c.put(key(maxCacheEntries+1+i), live, now)
	}
	if n := len(c.m); n != maxCacheEntries {
		t.Fatalf("%d entries after refilling, want %d: entries were dropped before the cache was full", n, maxCacheEntries)
	}

	// Expired entries go before live ones: with a quarter expired, the
	// eviction drops those and then live ones down to half.
	c = newTokenCache()
	expired := verifiedToken{until: now.Add(-time.Second)}
	for i := range maxCacheEntries {
		v := live
		if i%4 == 0 {
			v = expired
		}
		c.put(key(i), v, now)
	}
	c.put(key(maxCacheEntries), live, now)
	for k, v := range c.m {
		if !now.Before(v.until) {
			t.Fatalf("expired entry %x kept while live ones were dropped", k[:8])
		}
	}
	if n := len(c.m); n != maxCacheEntries/2+1 {
		t.Errorf("%d entries, want %d", n, maxCacheEntries/2+1)
	}
}

// Caching a new token when the cache is full of live ones: the cost of a
// sign-in on a node with more live tokens than the cache holds.
func BenchmarkTokenCachePutFull(b *testing.B) {
	now := time.Date(2026, 12, 5, 4, 0, 0, 0, time.UTC)
	c := newTokenCache()
	live := verifiedToken{until: now.Add(time.Hour)}
	var k [32]byte
	for i := 0; ; i++ {
		binary.BigEndian.PutUint64(k[:], uint64(i))
		if i == maxCacheEntries {
			b.ResetTimer()
		}
		if i >= maxCacheEntries+b.N {
			break
		}
		c.put(k, live, now)
	}
}

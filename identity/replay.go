package identity

import (
	"container/heap"
	"sync"
	"time"
)

// The replay cache's bounds. Every application may hold a quarter of the
// cache, so that one application's key cannot lock all the others out of
// assertion sign-in until its assertions expire (at most an hour).
const (
	maxReplayEntries   = maxCacheEntries
	maxReplayPerClient = maxReplayEntries / 4
)

// replayResult is what replayCache.add decided.
type replayResult int

const (
	replayNew        replayResult = iota // recorded: the assertion may be used
	replayUsed                           // seen before and not yet expired
	replayClientFull                     // the application holds its share of unexpired assertions
	replayFull                           // the cache holds only unexpired assertions
)

// replayCache remembers used client assertion IDs until they expire. When
// it is full of unexpired IDs it refuses new ones rather than forget any:
// forgetting would let a recorded assertion be replayed. Expired IDs leave
// in order of expiry (a heap), so neither a full cache nor one that turns
// over constantly is ever scanned whole on a sign-in.
type replayCache struct {
	mu       sync.Mutex
	held     map[replayKey]struct{} // the keys in byExpiry, for lookup
	perApp   map[string]int
	byExpiry expiryHeap
}

type replayKey struct{ client, id string }

func newReplayCache() *replayCache {
	return &replayCache{held: make(map[replayKey]struct{}), perApp: make(map[string]int)}
}

// add records client's assertion id as used until the given time.
func (c *replayCache) add(client, id string, until, now time.Time) replayResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked(now)
	k := replayKey{client, id}
	if _, ok := c.held[k]; ok {
		return replayUsed // expireLocked removed it if it had expired
	}
	if c.perApp[client] >= maxReplayPerClient {
		return replayClientFull
	}
	if len(c.held) >= maxReplayEntries {
		return replayFull
	}
	c.held[k] = struct{}{}
	c.perApp[client]++
	heap.Push(&c.byExpiry, expiring{k, until})
	return replayNew
}

// sweep forgets the IDs that have expired.
func (c *replayCache) sweep(now time.Time) {
	c.mu.Lock()
	c.expireLocked(now)
	c.mu.Unlock()
}

// expireLocked removes every ID whose time has come, soonest first.
func (c *replayCache) expireLocked(now time.Time) {
	for len(c.byExpiry) > 0 && !now.Before(c.byExpiry[0].until) {
		e := heap.Pop(&c.byExpiry).(expiring)
		delete(c.held, e.key)
		if c.perApp[e.key.client]--; c.perApp[e.key.client] <= 0 {
			delete(c.perApp, e.key.client)
		}
	}
}

// expiring is one recorded ID in the expiry heap. Every key is in the
// heap exactly once while it is in the map, since add never records a key
// the map holds.
type expiring struct {
	key   replayKey
	until time.Time
}

// expiryHeap orders IDs by expiry, soonest first (container/heap).
type expiryHeap []expiring

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].until.Before(h[j].until) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiring)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = expiring{}
	*h = old[:len(old)-1]
	return e
}

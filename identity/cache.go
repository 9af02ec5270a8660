package identity

import (
	"sync"
	"time"

	"github.com/psgate/psgate"
)

// maxCacheEntries bounds each in-memory cache.
const maxCacheEntries = 20000

// tokenCache remembers verified tokens, so that a WinRM client, which
// sends the same token on every request, pays for the signature check
// once. It is keyed by the SHA-256 of the token and the request's hint;
// entries end when the token expires.
type tokenCache struct {
	mu sync.RWMutex
	m  map[[32]byte]verifiedToken
}

type verifiedToken struct {
	p psgate.Principal
	// until is exp plus the clock skew.
	until time.Time
	// issuer and audience are a federated token's: each use checks that
	// the tenant still trusts them.
	issuer, audience string
}

func newTokenCache() *tokenCache { return &tokenCache{m: make(map[[32]byte]verifiedToken)} }

func (c *tokenCache) get(k [32]byte) (verifiedToken, bool) {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	return v, ok
}

func (c *tokenCache) put(k [32]byte, v verifiedToken, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCacheEntries {
		c.evictLocked(now)
	}
	c.m[k] = v
}

func (c *tokenCache) drop(k [32]byte) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

// evictLocked drops expired entries, and when that leaves the cache more
// than half full, arbitrary ones down to half: each full scan then buys
// room for maxCacheEntries/2 more tokens, so a node with more live tokens
// than the cache holds pays one scan per many sign-ins, not one per
// sign-in. A token dropped is only verified again on its next use.
func (c *tokenCache) evictLocked(now time.Time) {
	for k, v := range c.m {
		if !now.Before(v.until) {
			delete(c.m, k)
		}
	}
	for k := range c.m {
		if len(c.m) <= maxCacheEntries/2 {
			break
		}
		delete(c.m, k)
	}
}

func (c *tokenCache) sweep(now time.Time) {
	c.mu.Lock()
	for k, v := range c.m {
		if !now.Before(v.until) {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}

// userCache remembers, per user ID, whether the account was enabled and in
// which tenant, for at most UserRecheck.
type userCache struct {
	mu sync.RWMutex
	m  map[psgate.UserID]userState
}

type userState struct {
	ok       bool // exists and is enabled
	tenantID psgate.TenantID
	checked  time.Time
}

func newUserCache() *userCache { return &userCache{m: make(map[psgate.UserID]userState)} }

func (c *userCache) get(id psgate.UserID) (userState, bool) {
	c.mu.RLock()
	v, ok := c.m[id]
	c.mu.RUnlock()
	return v, ok
}

func (c *userCache) put(id psgate.UserID, v userState) {
	c.mu.Lock()
	if len(c.m) >= maxCacheEntries {
		clear(c.m)
	}
	c.m[id] = v
	c.mu.Unlock()
}

func (c *userCache) sweep(now time.Time, ttl time.Duration) {
	c.mu.Lock()
	for k, v := range c.m {
		if now.Sub(v.checked) >= ttl {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}

package gateway

import (
	"sync"
	"time"
)

// replayCache remembers the last responses a shell's data operations
// (Command, Send, Receive, Signal) delivered, by the request's MessageID,
// so that the same request sent again is answered the same way instead of
// being done twice. A load balancer resends a request whose node died
// before relaying its answer (HAProxy's retry-on empty-response), and a
// node that forwarded it may have died after the owner answered: the
// owner had already handed that Receive's output over, or run that
// Command. WS-Addressing makes every MessageID unique, so a repeated one
// is the same request. Only answers delivered to a forwarding node are
// kept (an answer a client connected here did not get is undone by the
// operation itself), for a short time and within a byte budget.
type replayCache struct {
	mu      sync.Mutex
	entries []replayEntry // oldest first
	bytes   int
}

type replayEntry struct {
	msgID string
	resp  []byte
	at    time.Time
}

// Bounds of a shell's replay cache.
const (
	replayEntries  = 8
	replayBytes    = 256 << 10
	replayMaxEntry = 128 << 10
	replayFor      = 2 * time.Minute
)

// get returns the response delivered for msgID, if remembered.
func (c *replayCache) get(msgID string, now time.Time) ([]byte, bool) {
	if msgID == "" {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		if e.msgID == msgID && now.Sub(e.at) < replayFor {
			return e.resp, true
		}
	}
	return nil, false
}

// put remembers the response delivered for msgID.
func (c *replayCache) put(msgID string, resp []byte, now time.Time) {
	if msgID == "" || len(resp) > replayMaxEntry {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = append(c.entries, replayEntry{msgID: msgID, resp: resp, at: now})
	c.bytes += len(resp)
	for len(c.entries) > replayEntries || c.bytes > replayBytes {
		c.bytes -= len(c.entries[0].resp)
		c.entries[0] = replayEntry{}
		c.entries = c.entries[1:]
	}
}

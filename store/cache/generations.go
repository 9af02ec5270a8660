package cache

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// readTimeout bounds one shared generation read; it runs detached from
// the caller that started it, since others wait on it too.
const readTimeout = 10 * time.Second

// generations reads the store's directory generation for many callers
// at once. A caller needs a value read after it asked (an older one
// could miss a change it must see), so it never takes the answer of a
// read already under way: it waits for the next one, which starts when
// the current one ends and serves everyone who arrived meanwhile. With
// one caller at a time that is one read each; under load, one read per
// round trip to the store, however many callers.
type generations struct {
	fetch func(context.Context) (int64, error)
	// reads counts the fetches made.
	reads atomic.Int64

	mu      sync.Mutex
	running bool
	next    *flight // the read that starts when the running one ends
}

// flight is one read and its waiters.
type flight struct {
	done chan struct{}
	gen  int64
	err  error
}

func newGenerations(fetch func(context.Context) (int64, error)) *generations {
	return &generations{fetch: fetch}
}

// read returns a generation read after the call began.
func (g *generations) read(ctx context.Context) (int64, error) {
	g.mu.Lock()
	if g.next == nil {
		g.next = &flight{done: make(chan struct{})}
	}
	f := g.next
	if !g.running {
		g.running = true
		g.next = nil
		g.mu.Unlock()
		g.run(ctx, f)
		return f.gen, f.err
	}
	g.mu.Unlock()
	select {
	case <-f.done:
		return f.gen, f.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// run performs f, then hands the next flight, if callers queued one, to
// a goroutine of its own, so that the caller that started f is not held
// for reads of others.
func (g *generations) run(ctx context.Context, f *flight) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readTimeout)
	f.gen, f.err = g.fetch(rctx)
	cancel()
	g.reads.Add(1)
	close(f.done)
	g.mu.Lock()
	next := g.next
	g.next = nil
	if next == nil {
		g.running = false
	}
	g.mu.Unlock()
	if next != nil {
		go g.run(ctx, next)
	}
}

// Package groupcommit lets concurrent writers share transactions (group
// commit). Each caller of Queue.Write enqueues one item and waits; a single
// committer goroutine writes everything queued, up to a cap, in one
// transaction and then releases each caller with its ID or error.
//
// The committer never sleeps to gather a batch: a lone caller is committed
// at once, and while one commit is in flight the queue fills up, so the
// next commit takes all of it. Before it takes a batch it yields the
// processor once, so that writers that are runnable but not yet queued
// (their requests decoded, their records about to be appended) join this
// batch rather than the next; with nothing else runnable the yield returns
// at once. Batches grow with load and cost nothing when idle.
package groupcommit

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"
)

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("groupcommit: closed")

// Config configures New.
type Config[T any] struct {
	// Commit writes items in one transaction and sets ids[i] to the ID of
	// items[i]; len(ids) == len(items). It either commits all of them or
	// none. It is called only from the committer goroutine, so it may keep
	// state (a prepared statement) without locking. The stamp it returns
	// is a value of the whole commit that WriteStamped hands each of its
	// callers (the audit stores return the directory generation, read
	// after the items were queued); return 0 when there is none.
	Commit func(ctx context.Context, items []T, ids []int64) (stamp int64, err error)
	// MaxBatch caps the items of one Commit; 0 means 256.
	MaxBatch int
	// Split reports whether a failed batch may have failed because of one
	// of its items, so that committing the items one by one confines the
	// failure to that item. It should say no for errors of the database
	// as a whole (unavailable, or a commit whose outcome is unknown); nil
	// means yes for every error but the Timeout.
	Split func(err error) bool
	// Timeout bounds one Commit, so that a hung database cannot hold Close
	// for ever; 0 means 30 s. Negative means none: Commit gets a context
	// that never ends, for a database that bounds its own waits.
	Timeout time.Duration
}

// Queue batches the items of concurrent Write calls into transactions.
type Queue[T any] struct {
	cfg     Config[T]
	wake    chan struct{} // capacity 1: pending or closed changed
	stopped chan struct{} // closed when the committer has returned

	mu      sync.Mutex
	pending []*call[T]
	closed  bool
}

// call is one Write waiting for its item.
type call[T any] struct {
	item  T
	id    int64
	stamp int64
	err   error
	done  chan struct{}
}

// New starts the committer goroutine of a queue; Close stops it.
func New[T any](cfg Config[T]) *Queue[T] {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Split == nil {
		cfg.Split = func(error) bool { return true }
	}
	q := &Queue[T]{cfg: cfg, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go q.run()
	return q
}

// Write commits item together with the items of concurrent callers and
// returns its ID once the transaction holding it has committed, or the
// error of committing it.
//
// If ctx ends first, Write returns ctx's error without waiting, but the
// item stays queued and may still be committed: a cancelled caller cannot
// tell whether its item was written.
func (q *Queue[T]) Write(ctx context.Context, item T) (int64, error) {
	id, _, err := q.WriteStamped(ctx, item)
	return id, err
}

// WriteStamped is Write that also returns the stamp of the commit that
// wrote item (see Config.Commit); it is 0 when Write would fail.
func (q *Queue[T]) WriteStamped(ctx context.Context, item T) (id, stamp int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	calls := []call[T]{{item: item, done: make(chan struct{})}} // one allocation, as &call would be
	c := &calls[0]
	if err := q.enqueue(calls); err != nil {
		return 0, 0, err
	}
	select {
	case <-c.done:
		return c.id, c.stamp, c.err
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	}
}

// WriteAll queues items one after the other, so that they share a commit
// unless MaxBatch splits them, and waits for all of them. It returns
// their IDs (0 for an item not written), the stamp of the commit that
// wrote the first, and the first error of any item; like Write, it
// returns ctx's error without waiting if ctx ends first.
func (q *Queue[T]) WriteAll(ctx context.Context, items []T) (ids []int64, stamp int64, err error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	calls := make([]call[T], len(items))
	for i := range calls {
		calls[i] = call[T]{item: items[i], done: make(chan struct{})}
	}
	if err := q.enqueue(calls); err != nil {
		return nil, 0, err
	}
	ids = make([]int64, len(items))
	for i := range calls {
		c := &calls[i]
		select {
		case <-c.done:
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
		ids[i] = c.id
		if i == 0 {
			stamp = c.stamp
		}
		if err == nil {
			err = c.err
		}
	}
	return ids, stamp, err
}

// enqueue appends calls to the queue together, in order, and wakes the
// committer; it fails with ErrClosed after Close.
func (q *Queue[T]) enqueue(calls []call[T]) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrClosed
	}
	for i := range calls {
		q.pending = append(q.pending, &calls[i])
	}
	q.mu.Unlock()
	q.signal()
	return nil
}

// Close commits the items already queued, stops the committer and waits
// for it. Write returns ErrClosed afterwards. Close may be called more
// than once.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
	<-q.stopped
}

func (q *Queue[T]) signal() {
	select {
	case q.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// run is the committer: it takes what is queued, up to MaxBatch, commits
// it, releases its callers, and starts over.
func (q *Queue[T]) run() {
	defer close(q.stopped)
	var batch []*call[T]
	var items []T
	var ids []int64
	for {
		q.mu.Lock()
		for len(q.pending) == 0 && !q.closed {
			q.mu.Unlock()
			<-q.wake
			q.mu.Lock()
		}
		// Let runnable writers queue first (see the package comment): on
		// a WinRS load of 100 clients this took batches from 2.2 to 10
		// records and commands per second up by a tenth.
		q.mu.Unlock()
		runtime.Gosched()
		q.mu.Lock()
		if len(q.pending) == 0 { // closed, and all flushed
			q.mu.Unlock()
			return
		}
		n := min(len(q.pending), q.cfg.MaxBatch)
		batch = append(batch[:0], q.pending[:n]...)
		rest := copy(q.pending, q.pending[n:])
		clear(q.pending[rest:]) // drop references to released calls
		q.pending = q.pending[:rest]
		q.mu.Unlock()

		items, ids = items[:0], ids[:0]
		for _, c := range batch {
			items = append(items, c.item)
			ids = append(ids, 0)
		}
		q.commit(batch, items, ids)
		clear(items) // let the records go before the next wake-up
	}
}

// commit commits one batch and releases its callers. A failed batch of
// several items is retried item by item, so that one bad item fails alone.
func (q *Queue[T]) commit(batch []*call[T], items []T, ids []int64) {
	stamp, err := q.commitOnce(items, ids)
	switch {
	case err == nil:
		for i, c := range batch {
			c.id, c.stamp = ids[i], stamp
		}
	case len(batch) > 1 && !errors.Is(err, context.DeadlineExceeded) && q.cfg.Split(err):
		for i, c := range batch {
			c.stamp, c.err = q.commitOnce(items[i:i+1], ids[i:i+1])
			c.id = ids[i]
		}
	default:
		for _, c := range batch {
			c.err = err
		}
	}
	for _, c := range batch {
		if c.err != nil {
			c.id, c.stamp = 0, 0
		}
		close(c.done)
	}
}

func (q *Queue[T]) commitOnce(items []T, ids []int64) (int64, error) {
	if q.cfg.Timeout < 0 {
		return q.cfg.Commit(context.Background(), items, ids)
	}
	ctx, cancel := context.WithTimeout(context.Background(), q.cfg.Timeout)
	defer cancel()
	return q.cfg.Commit(ctx, items, ids)
}

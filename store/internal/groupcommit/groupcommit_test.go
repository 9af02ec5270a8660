package groupcommit_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psgate/psgate/store/internal/groupcommit"
)

// fakeDB records committed items; an item's ID is 1000 plus the item, and
// a commit's stamp its number, from 1.
type fakeDB struct {
	mu        sync.Mutex
	committed map[int]int // item → commit number
	batches   []int       // size of each successful commit
	gate      chan struct{}
	bad       int // an item that fails the transaction holding it; 0 for none
	fail      error
}

func newFakeDB() *fakeDB {
	return &fakeDB{committed: map[int]int{}}
}

func (f *fakeDB) commit(ctx context.Context, items []int, ids []int64) (int64, error) {
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return 0, f.fail
	}
	for _, it := range items {
		if it == f.bad {
			return 0, fmt.Errorf("item %d violates a constraint", it)
		}
	}
	for i, it := range items {
		f.committed[it] = len(f.batches)
		ids[i] = int64(1000 + it)
	}
	f.batches = append(f.batches, len(items))
	return int64(len(f.batches)), nil
}

// stampOf returns the stamp of the commit that wrote item, 0 for none.
func (f *fakeDB) stampOf(item int) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n, ok := f.committed[item]; ok {
		return int64(n + 1)
	}
	return 0
}

func (f *fakeDB) stats() (committed, commits, largest int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.batches {
		largest = max(largest, n)
	}
	return len(f.committed), len(f.batches), largest
}

// writeAll writes items 1..n to f's queue from n goroutines and returns
// their errors; a wrong ID or stamp is an error too.
func writeAll(ctx context.Context, f *fakeDB, q *groupcommit.Queue[int], n int) []error {
	errs := make([]error, n+1)
	var wg sync.WaitGroup
	for i := 1; i <= n; i++ {
		wg.Go(func() {
			id, stamp, err := q.WriteStamped(ctx, i)
			switch {
			case err != nil:
				if id != 0 || stamp != 0 {
					err = fmt.Errorf("Write(%d) failed (%w) with ID %d, stamp %d; want 0, 0", i, err, id, stamp)
				}
			case id != int64(1000+i):
				err = fmt.Errorf("Write(%d) = ID %d, want %d", i, id, 1000+i)
			case stamp != f.stampOf(i):
				err = fmt.Errorf("Write(%d) = stamp %d, want %d (the commit that wrote it)", i, stamp, f.stampOf(i))
			}
			errs[i] = err
		})
	}
	wg.Wait()
	return errs[1:]
}

// waitQueued waits until n calls of Write have queued their item and wait
// for its commit: goroutines parked in Write's select, which comes after
// the append (a call still before it would join a later batch).
func waitQueued(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		buf := make([]byte, 4<<20)
		buf = buf[:runtime.Stack(buf, true)]
		queued := 0
		for _, g := range strings.Split(string(buf), "\n\n") {
			header, _, _ := strings.Cut(g, "\n")
			if strings.Contains(header, "[select") && strings.Contains(g, "groupcommit.(*Queue[...]).WriteStamped(") {
				queued++
			}
		}
		if queued >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls of Write queued, want %d", queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBatches checks that callers queued behind a commit in flight share
// the next one, that each gets its own item's ID, and that MaxBatch caps
// a commit.
func TestBatches(t *testing.T) {
	f := newFakeDB()
	f.gate = make(chan struct{})
	q := groupcommit.New(groupcommit.Config[int]{Commit: f.commit, MaxBatch: 100})
	defer q.Close()

	done := make(chan []error)
	go func() { done <- writeAll(t.Context(), f, q, 250) }()
	waitQueued(t, 250)
	close(f.gate) // the first commit took one item; 249 wait behind it
	for _, err := range <-done {
		if err != nil {
			t.Error(err)
		}
	}
	committed, commits, largest := f.stats()
	if committed != 250 || largest != 100 || commits > 5 {
		t.Errorf("250 queued items: %d committed in %d commits, largest %d; want all in at most 5 commits of at most 100",
			committed, commits, largest)
	}
}

// TestLoneWriterDoesNotWait checks that an idle queue commits at once:
// the committer does not gather a batch by sleeping.
func TestLoneWriterDoesNotWait(t *testing.T) {
	f := newFakeDB()
	q := groupcommit.New(groupcommit.Config[int]{Commit: f.commit})
	defer q.Close()
	start := time.Now()
	for i := 1; i <= 100; i++ {
		if _, err := q.Write(t.Context(), i); err != nil {
			t.Fatal(err)
		}
	}
	if _, commits, _ := f.stats(); commits != 100 {
		t.Errorf("100 writes one after the other made %d commits, want 100", commits)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("100 lone writes took %v", d)
	}
}

// TestBadItemFailsAlone checks that a batch that fails because of one item
// is retried item by item, so that the others are committed.
func TestBadItemFailsAlone(t *testing.T) {
	f := newFakeDB()
	f.gate = make(chan struct{})
	f.bad = 17
	q := groupcommit.New(groupcommit.Config[int]{Commit: f.commit})
	defer q.Close()
	done := make(chan []error)
	go func() { done <- writeAll(t.Context(), f, q, 50) }()
	waitQueued(t, 50)
	close(f.gate)
	for i, err := range <-done {
		if item := i + 1; (item == f.bad) != (err != nil) {
			t.Errorf("Write(%d) error = %v; want an error for item %d only", item, err, f.bad)
		}
	}
	if committed, _, _ := f.stats(); committed != 49 {
		t.Errorf("%d items committed, want 49", committed)
	}
}

// TestNoSplitOnDatabaseError checks that an error Split refuses fails the
// whole batch without a commit per item.
func TestNoSplitOnDatabaseError(t *testing.T) {
	f := newFakeDB()
	f.gate = make(chan struct{})
	down := errors.New("database unavailable")
	f.fail = down
	var calls int
	q := groupcommit.New(groupcommit.Config[int]{
		Commit: func(ctx context.Context, items []int, ids []int64) (int64, error) {
			calls++ // committer goroutine only
			return f.commit(ctx, items, ids)
		},
		Split: func(err error) bool { return !errors.Is(err, down) },
	})
	done := make(chan []error)
	go func() { done <- writeAll(t.Context(), f, q, 20) }()
	waitQueued(t, 20)
	close(f.gate)
	for _, err := range <-done {
		if !errors.Is(err, down) {
			t.Errorf("Write() error = %v, want %v", err, down)
		}
	}
	q.Close()
	if calls > 3 {
		t.Errorf("20 writes to an unavailable database made %d commits, want a few batches", calls)
	}
}

// TestCancelledCallerStopsWaiting checks that Write returns when its
// context ends, and that the item is still committed afterwards.
func TestCancelledCallerStopsWaiting(t *testing.T) {
	f := newFakeDB()
	f.gate = make(chan struct{})
	q := groupcommit.New(groupcommit.Config[int]{Commit: f.commit})
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error)
	go func() {
		_, err := q.Write(ctx, 1)
		errc <- err
	}()
	waitQueued(t, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Write() with a cancelled context error = %v, want context.Canceled", err)
	}
	if _, err := q.Write(ctx, 2); !errors.Is(err, context.Canceled) {
		t.Errorf("Write() with a context already cancelled error = %v", err)
	}
	close(f.gate)
	q.Close()
	if _, ok := f.committed[1]; !ok || len(f.committed) != 1 {
		t.Errorf("committed %v, want the item of the cancelled caller only", f.committed)
	}
}

// TestCloseFlushes checks that Close commits what is queued, waits for the
// committer, and that Write fails afterwards.
func TestCloseFlushes(t *testing.T) {
	f := newFakeDB()
	f.gate = make(chan struct{})
	q := groupcommit.New(groupcommit.Config[int]{Commit: f.commit, MaxBatch: 8})
	done := make(chan []error)
	go func() { done <- writeAll(t.Context(), f, q, 40) }()
	waitQueued(t, 40)
	closed := make(chan struct{})
	go func() {
		q.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close returned with a commit in flight")
	case <-time.After(10 * time.Millisecond):
	}
	close(f.gate)
	<-closed
	for _, err := range <-done {
		if err != nil {
			t.Errorf("Write() queued before Close error = %v", err)
		}
	}
	if committed, _, _ := f.stats(); committed != 40 {
		t.Errorf("Close flushed %d of 40 queued items", committed)
	}
	if _, err := q.Write(t.Context(), 99); !errors.Is(err, groupcommit.ErrClosed) {
		t.Errorf("Write() after Close error = %v, want ErrClosed", err)
	}
	q.Close() // again: no panic, no hang
	buf := make([]byte, 1<<20)
	if stack := string(buf[:runtime.Stack(buf, true)]); strings.Contains(stack, "groupcommit.(*Queue[...]).run(") {
		t.Errorf("the committer goroutine outlived Close:\n%s", stack)
	}
}

// TestCommitTimeout checks that a hung commit fails its callers after
// Config.Timeout instead of holding them, and Close, for ever.
func TestCommitTimeout(t *testing.T) {
	f := newFakeDB()
	f.gate = make(chan struct{}) // never opened
	q := groupcommit.New(groupcommit.Config[int]{Commit: f.commit, Timeout: 20 * time.Millisecond})
	defer q.Close()
	for _, err := range writeAll(t.Context(), f, q, 10) {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Write() to a hung database error = %v, want context.DeadlineExceeded", err)
		}
	}
}

// TestWriteAllSharesACommit checks that the items of one WriteAll go in
// one commit (a pipeline's audit records, one commit instead of one per
// command), that MaxBatch still caps it, and that a bad item fails the
// call while the others are written and get their IDs.
func TestWriteAllSharesACommit(t *testing.T) {
	f := newFakeDB()
	q := groupcommit.New(groupcommit.Config[int]{Commit: f.commit, MaxBatch: 4})
	defer q.Close()
	check := func(items []int, wantCommits int) {
		t.Helper()
		_, before, _ := f.stats()
		ids, stamp, err := q.WriteAll(t.Context(), items)
		if err != nil {
			t.Fatalf("WriteAll(%v) error = %v", items, err)
		}
		for i, it := range items {
			if ids[i] != int64(1000+it) {
				t.Errorf("WriteAll(%v): ID %d of item %d, want %d", items, ids[i], it, 1000+it)
			}
		}
		if want := f.stampOf(items[0]); stamp != want {
			t.Errorf("WriteAll(%v) stamp = %d, want %d (the first item's commit)", items, stamp, want)
		}
		if _, after, _ := f.stats(); after-before != wantCommits {
			t.Errorf("WriteAll(%v) took %d commits, want %d", items, after-before, wantCommits)
		}
	}
	check([]int{1, 2, 3}, 1)
	check([]int{4, 5, 6, 7, 8, 9}, 2) // MaxBatch 4

	f.bad = 11
	ids, stamp, err := q.WriteAll(t.Context(), []int{10, 11, 12})
	if err == nil || stamp != f.stampOf(10) || ids[0] != 1010 || ids[1] != 0 || ids[2] != 1012 {
		t.Errorf("WriteAll with bad item 11 = IDs %v, stamp %d, error %v; want 1010 0 1012, item 10's stamp and an error", ids, stamp, err)
	}
}

// TestNoTimeout checks that a negative Timeout gives Commit a context
// that never ends (a driver then has nothing to watch), and that a
// positive one gives it a deadline.
func TestNoTimeout(t *testing.T) {
	for _, tc := range []struct {
		timeout  time.Duration
		deadline bool
	}{{-1, false}, {0, true}, {time.Minute, true}} {
		got := make(chan bool, 1)
		q := groupcommit.New(groupcommit.Config[int]{
			Commit: func(ctx context.Context, items []int, ids []int64) (int64, error) {
				_, ok := ctx.Deadline()
				got <- ok || ctx.Done() != nil
				return 0, nil
			},
			Timeout: tc.timeout,
		})
		if _, err := q.Write(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		q.Close()
		if ends := <-got; ends != tc.deadline {
			t.Errorf("Timeout %v: Commit's context can end = %v, want %v", tc.timeout, ends, tc.deadline)
		}
	}
}

package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"

	"github.com/psgate/psgate/internal/logkey"
)

// A WAL checkpoint copies committed pages from the -wal file into the
// database file and syncs both. SQLite runs one by default inside the
// commit that takes the WAL past 1,000 pages, on the committing connection:
// here the single writer, so every lease, token and audit write waits for
// the copy and two fsyncs. Under a steady stream of audit records that was
// a stall of milliseconds every tenth of a second; at 10 concurrent clients
// it doubled the p99 of a command (bench/README.md).
//
// The checkpointer moves that work off the writer. It runs PASSIVE
// checkpoints on a connection of its own shortly after the writer committed
// anything (its commit hook, see writerConnector: audit batches, leases,
// tokens, the directory, admin statements). A PASSIVE checkpoint never
// waits for readers or writers, so the writer goes on appending while it
// copies. The writer keeps an
// automatic checkpoint, at a higher mark (writerCheckpointPages): a
// checkpoint that runs beside the writer can never catch up with frames
// appended meanwhile, and SQLite starts the WAL over only once a
// checkpoint copied every frame, which the writer's own does. By then the
// checkpointer has copied nearly all of them, so the writer's is short. If
// the checkpointer falls behind or fails, the writer's checkpoint does
// the work as before: nothing depends on it but speed.

const (
	// writerCheckpointPages is the writer's automatic checkpoint mark
	// (SQLite's default is 1,000 pages; 4 KiB each).
	writerCheckpointPages = 4000
	// checkpointPace is how long the checkpointer lets frames accumulate
	// after a commit before it copies them, so that a page written by
	// many commits in a row is copied once.
	checkpointPace = 100 * time.Millisecond
)

// checkpointer runs PASSIVE checkpoints when kicked (see above).
type checkpointer struct {
	conn *sql.DB // one connection of its own
	log  *slog.Logger
	kick chan struct{} // capacity 1: something was committed
	// ctx ends when close is called: it stops the loop and a checkpoint
	// that waits on the disk.
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// newCheckpointer starts a checkpointer on its own connection, opened
// with dsn (the database file and the pragmas of the store's
// connections).
func newCheckpointer(dsn string, log *slog.Logger) (*checkpointer, error) {
	conn, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	conn.SetMaxOpenConns(1)
	conn.SetMaxIdleConns(1)
	conn.SetConnMaxLifetime(0)
	conn.SetConnMaxIdleTime(0)
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{conn: conn, log: log, kick: make(chan struct{}, 1), ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go c.run()
	return c, nil
}

// committed tells the checkpointer that frames were added to the WAL.
func (c *checkpointer) committed() {
	if c == nil {
		return
	}
	select {
	case c.kick <- struct{}{}:
	default: // a kick is already pending
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	pace := time.NewTimer(checkpointPace)
	pace.Stop()
	failing := false
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.kick:
		}
		pace.Reset(checkpointPace)
		select {
		case <-c.ctx.Done():
			pace.Stop()
			return
		case <-pace.C:
		}
		err := c.checkpoint()
		if c.ctx.Err() != nil {
			return
		}
		if err != nil && !failing {
			// The writer's own checkpoint still runs. Said once until a
			// checkpoint succeeds again, not ten times a second.
			c.log.Warn("sqlite: background WAL checkpoint failed; the writer checkpoints instead", logkey.Err, err)
		}
		failing = err != nil
	}
}

// checkpoint runs one PASSIVE checkpoint. The pragma answers busy when
// another checkpoint (the writer's) holds the checkpoint lock: that one
// does the work, so busy is not an error.
func (c *checkpointer) checkpoint() error {
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	var busy, frames, copied int64
	return c.conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
}

// close stops the checkpointer and closes its connection; it may be
// called again (DB.Close may be). c may be nil.
func (c *checkpointer) close() error {
	if c == nil {
		return nil
	}
	c.closeOnce.Do(func() {
		c.cancel()
		<-c.done
		c.closeErr = c.conn.Close()
	})
	return c.closeErr
}

package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/psgate/psgate/store"
)

// Options configures Open. The zero value is ready to use.
type Options struct {
	// Now is the store clock for times the caller does not pass in;
	// nil means time.Now.
	Now func() time.Time
	// SyncFull sets PRAGMA synchronous=FULL so every commit also survives
	// an operating system crash or power loss. The default (NORMAL)
	// survives a crash of the process, at a fraction of the latency.
	SyncFull bool
	// ReadConns is the size of the read pool; 0 means 4.
	ReadConns int
	// BusyTimeout bounds how long a connection waits for a lock held by
	// another process or by a checkpoint; 0 means 10 s.
	BusyTimeout time.Duration
	// Logger receives what the store does in the background and cannot
	// return (a failed WAL checkpoint); nil discards it.
	Logger *slog.Logger
}

// DB is the SQLite store. It is safe for concurrent use.
type DB struct {
	w     *sql.DB // one connection; BEGIN IMMEDIATE
	r     *reader // query-only pool
	now   func() time.Time
	stmts stmts
	audit *auditLog // group commit of AppendAudit
	ckpt  *checkpointer
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path and applies the
// pending migrations.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || strings.Contains(path, ":memory:") {
		return nil, fmt.Errorf("sqlite: open %q: want a plain file path: %w", path, store.ErrInvalid)
	}
	// The database holds password hashes, signing keys and the audit
	// log: create it readable by its owner only. SQLite gives its -wal
	// and -shm files the mode of the database file.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	f.Close()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = 4
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	sync := "NORMAL"
	if opts.SyncFull {
		sync = "FULL"
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_pragma", "foreign_keys(1)")

	wq := url.Values{}
	for k, v := range q {
		wq[k] = append([]string(nil), v...)
	}
	// The checkpointer copies most of the WAL beside the writer; the
	// writer's own checkpoint, at a higher mark than SQLite's, finishes it
	// (checkpoint.go). Every commit of the writer wakes it (writerConnector).
	ckpt, err := newCheckpointer(path+"?"+q.Encode(), opts.Logger)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	wq.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", writerCheckpointPages))
	wq.Set("_txlock", "immediate")
	w := sql.OpenDB(writerConnector(path+"?"+wq.Encode(), ckpt.committed))
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	db := &DB{w: w, now: opts.Now, ckpt: ckpt}
	// The writer creates the file and switches it to WAL before any
	// reader opens it.
	if err := db.Migrate(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}

	q.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(opts.ReadConns)
	r.SetMaxIdleConns(opts.ReadConns)
	db.r = &reader{DB: r}
	if err := r.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, mapErr(err))
	}
	if err := db.stmts.prepare(ctx, w); err != nil {
		_ = db.Close()
		return nil, err
	}
	db.audit = newAuditLog(db)
	return db, nil
}

// Close commits the queued audit records and closes the connection pools
// and the checkpointer.
func (db *DB) Close() error {
	db.audit.close()
	db.stmts.close()
	var errs []error
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	errs = append(errs, db.w.Close(), db.ckpt.close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// write runs fn in one IMMEDIATE transaction on the writer connection. fn
// must use tx only: the writer has a single connection.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", mapErr(err))
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", mapErr(err))
	}
	return nil
}

// writerConnector opens the writer's connections on dsn with a commit
// hook that calls committed: every transaction the writer commits (audit
// batches, leases, admin statements, migrations) wakes the checkpointer.
func writerConnector(dsn string, committed func()) driver.Connector {
	drv := &sqlite.Driver{}
	drv.RegisterConnectionHook(func(c sqlite.ExecQuerierContext, _ string) error {
		h, ok := c.(sqlite.HookRegisterer)
		if !ok {
			return fmt.Errorf("the driver's connection %T takes no commit hook", c)
		}
		h.RegisterCommitHook(func() int32 {
			committed()
			return 0 // go on with the commit
		})
		return nil
	})
	return dsnConnector{drv: drv, dsn: dsn}
}

// dsnConnector is a driver.Connector for a driver value of our own.
type dsnConnector struct {
	drv *sqlite.Driver
	dsn string
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.drv }

// wrap adds context to an error and maps driver errors to the store
// sentinels.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sqlite: %s: %w", op, mapErr(err))
}

// mapErr maps driver errors to the store sentinels, keeping the driver
// error in the chain.
func mapErr(err error) error {
	var se *sqlite.Error
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case errors.As(err, &se):
		var sentinel error
		switch code := se.Code(); {
		case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE, code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			sentinel = store.ErrConflict
		case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			sentinel = store.ErrNotFound
		case code&0xff == sqlite3.SQLITE_BUSY, code&0xff == sqlite3.SQLITE_LOCKED:
			sentinel = store.ErrUnavailable
		default:
			return err
		}
		return fmt.Errorf("%w (%w)", sentinel, err)
	}
	return err
}

// clock returns t, or the store clock when t is zero.
func (db *DB) clock(t time.Time) time.Time {
	if t.IsZero() {
		return db.now()
	}
	return t
}

// ms converts a time to stored unix milliseconds; the zero time is 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS converts stored unix milliseconds back; 0 is the zero time.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// boolInt stores a bool as 0 or 1.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

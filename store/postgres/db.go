package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/psgate/psgate/store"
)

// Options configures Open. The zero value is ready to use.
type Options struct {
	// Now is the clock for times that are not lease arithmetic (creation
	// times, tokens, lockouts) when the caller passes none; nil means
	// time.Now.
	Now func() time.Time
	// ClockOffset, when set, is added to the database clock in lease
	// arithmetic. It is a test hook (expire leases without sleeping,
	// simulate a skewed database host); production leaves it nil.
	ClockOffset func() time.Duration
	// MaxConns bounds the connection pool; 0 means the DSN's
	// pool_max_conns parameter, or 25 without one. It takes precedence
	// over the parameter.
	MaxConns int
	// MaxConnLifetime closes connections older than this when they are
	// next taken from or handed back to the pool; 0 means one hour.
	MaxConnLifetime time.Duration
}

// DB is the PostgreSQL store. It is safe for concurrent use.
type DB struct {
	pool   *pgxpool.Pool
	closed atomic.Bool // Close was called
	now    func() time.Time
	offset func() time.Duration
	audit  *auditLog // group commit of AppendAudit
}

var _ store.Store = (*DB)(nil)

// dsnSets reports whether a libpq URL or key=value connection string sets
// the parameter name.
func dsnSets(dsn, name string) bool {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		return u.Query().Has(name)
	}
	for _, field := range strings.Fields(dsn) {
		if k, _, ok := strings.Cut(field, "="); ok && strings.TrimSpace(k) == name {
			return true
		}
	}
	return false
}

// Open connects to the database named by dsn (a libpq URL or key=value
// string), checks it is reachable and applies the pending migrations.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse DSN: %w", err)
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "psgate"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ClockOffset == nil {
		opts.ClockOffset = func() time.Duration { return 0 }
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 25
		if dsnSets(dsn, "pool_max_conns") {
			// The operator sized the pool in the connection string.
			opts.MaxConns = int(cfg.MaxConns)
		}
	}
	if opts.MaxConnLifetime <= 0 {
		opts.MaxConnLifetime = time.Hour
	}
	cfg.MaxConns = int32(min(opts.MaxConns, math.MaxInt32))
	cfg.MinConns = 0
	cfg.MaxConnLifetime = opts.MaxConnLifetime
	// Broken connections are dropped when they are handed back, and a
	// connection idle for pingIdle is pinged before use, so a server
	// restart costs at most one failed statement per stale connection,
	// which the retry loop (do) absorbs.
	cfg.ShouldPing = func(_ context.Context, p pgxpool.ShouldPingParams) bool {
		return p.IdleDuration >= pingIdle
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg) // connects on first use
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := &DB{pool: pool, now: opts.Now, offset: opts.ClockOffset}
	if err := db.Migrate(ctx); err != nil {
		db.closed.Store(true)
		db.pool.Close()
		return nil, err
	}
	db.audit = newAuditLog(db)
	return db, nil
}

// pingIdle is how long a connection may sit idle in the pool before it is
// pinged on its way out.
const pingIdle = 30 * time.Second

// Close commits the queued audit records and closes the pool, waiting for
// connections in use to be handed back. Calls after Close fail with
// store.ErrUnavailable.
func (db *DB) Close() error {
	db.closed.Store(true)
	db.audit.close()
	db.pool.Close()
	return nil
}

// errClosed is the error of a call on a closed store.
var errClosed = fmt.Errorf("postgres: store is closed: %w", store.ErrUnavailable)

// Retry policy (after Teleport's pgcommon.retry): serialization failures,
// deadlocks and errors raised before anything was sent are always retried;
// lost connections are retried only for idempotent operations.
const (
	maxAttempts  = 6
	firstBackoff = 50 * time.Millisecond
	maxBackoff   = 750 * time.Millisecond
)

// op describes one store operation for the retry loop.
type op struct {
	name       string
	idempotent bool
}

// do runs fn on a pooled connection, retrying transient failures.
func (db *DB) do(ctx context.Context, o op, fn func(c *pgx.Conn) error) error {
	backoff := firstBackoff
	for attempt := 1; ; attempt++ {
		err := db.once(ctx, fn)
		if err == nil || attempt == maxAttempts || !retryable(err, o.idempotent) || ctx.Err() != nil {
			return wrap(o.name, err)
		}
		// Half jitter: sleep between backoff/2 and backoff.
		sleep := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-time.After(sleep):
		case <-ctx.Done():
			return wrap(o.name, err)
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

func (db *DB) once(ctx context.Context, fn func(c *pgx.Conn) error) error {
	if db.closed.Load() {
		return errClosed
	}
	c, err := db.pool.Acquire(ctx)
	switch {
	case err == nil:
	case db.closed.Load():
		return errClosed
	case ctx.Err() != nil:
		return ctx.Err()
	default:
		return fmt.Errorf("postgres: connect: %w", err)
	}
	// Release drops a connection that is broken, still busy or inside a
	// transaction instead of pooling it.
	defer c.Release()
	return fn(c.Conn())
}

// tx runs fn in a READ COMMITTED transaction, retrying transient failures.
func (db *DB) tx(ctx context.Context, o op, fn func(tx pgx.Tx) error) error {
	return db.do(ctx, o, func(c *pgx.Conn) error {
		return pgx.BeginFunc(ctx, c, fn)
	})
}

func asPgError(err error) (*pgconn.PgError, bool) {
	var pe *pgconn.PgError
	ok := errors.As(err, &pe)
	return pe, ok
}

// SQLSTATE codes and classes the store acts on.
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	classConnection          = "08"
	classResources           = "53"
	classOperatorIntervened  = "57" // admin shutdown, crash shutdown, cannot connect now
)

func retryable(err error, idempotent bool) bool {
	var qe *store.QuotaError
	if errors.As(err, &qe) {
		return false
	}
	if pe, ok := asPgError(err); ok {
		switch {
		case pe.Code == codeSerializationFailure, pe.Code == codeDeadlockDetected:
			return true
		case unavailableCode(pe.Code):
			return idempotent
		}
		return false
	}
	var ce *pgconn.ConnectError
	if pgconn.SafeToRetry(err) || errors.As(err, &ce) {
		return true // nothing reached the server
	}
	return idempotent && connectionLost(err)
}

func unavailableCode(code string) bool {
	if len(code) < 2 {
		return false
	}
	switch code[:2] {
	case classConnection, classResources, classOperatorIntervened:
		return code != "57014" // query_canceled is the caller's doing
	}
	return false
}

// connectionLost reports errors of the connection rather than of the
// statement.
func connectionLost(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, net.ErrClosed) ||
		pgconn.Timeout(err) && !errors.Is(err, context.DeadlineExceeded)
}

// wrap adds context and maps driver errors to the store sentinels.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	var qe *store.QuotaError
	if errors.As(err, &qe) {
		return err
	}
	var sentinel error
	if pe, ok := asPgError(err); ok {
		switch {
		case pe.Code == codeUniqueViolation:
			sentinel = store.ErrConflict
		case pe.Code == codeForeignKeyViolation:
			sentinel = store.ErrNotFound
		case unavailableCode(pe.Code):
			sentinel = store.ErrUnavailable
		}
	} else if errors.Is(err, pgx.ErrNoRows) {
		sentinel = store.ErrNotFound
	} else if connectionLost(err) || pgconn.SafeToRetry(err) {
		sentinel = store.ErrUnavailable
	}
	if sentinel == nil || errors.Is(err, sentinel) {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	return fmt.Errorf("postgres: %s: %w (%w)", what, sentinel, err)
}

// clock returns t, or the store clock when t is zero.
func (db *DB) clock(t time.Time) time.Time {
	if t.IsZero() {
		return db.now()
	}
	return t
}

// offsetMicros returns the test clock offset for the lease clock
// expression leaseNow.
func (db *DB) offsetMicros() int64 {
	return db.offset().Microseconds()
}

// micros converts a duration for `$n::bigint * interval '1 microsecond'`.
func micros(d time.Duration) int64 {
	return d.Microseconds()
}

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// fromNull reads a nullable time; NULL is the zero time.
func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

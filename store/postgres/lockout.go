package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/psgate/psgate/store"
)

// RecordLoginFailure implements store.Lockouts. The row is created if
// needed and then locked, so concurrent failures for one key count
// exactly.
func (db *DB) RecordLoginFailure(ctx context.Context, key string, now time.Time, window time.Duration, threshold int, lockFor time.Duration) (store.LoginFailure, error) {
	if key == "" || threshold <= 0 {
		return store.LoginFailure{}, fmt.Errorf("postgres: record login failure: key and threshold are required: %w", store.ErrInvalid)
	}
	t := db.clock(now).UTC().Truncate(time.Microsecond)
	var out store.LoginFailure
	err := db.tx(ctx, op{name: "record login failure"}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO login_failures (key, failures, first_at) VALUES ($1, 0, $2)
			ON CONFLICT (key) DO NOTHING`, key, t); err != nil {
			return err
		}
		var failures int
		var first time.Time
		var locked *time.Time
		if err := tx.QueryRow(ctx, `SELECT failures, first_at, locked_until FROM login_failures WHERE key = $1 FOR UPDATE`,
			key).Scan(&failures, &first, &locked); err != nil {
			return err
		}
		if failures == 0 || !first.After(t.Add(-window)) {
			failures, first = 0, t
		}
		failures++
		if failures >= threshold {
			until := t.Add(lockFor)
			if locked == nil || until.After(*locked) {
				locked = &until
			}
			failures, first = 0, t
		}
		out = store.LoginFailure{Key: key, Failures: failures, FirstAt: first.UTC()}
		if locked != nil && locked.After(t) {
			out.LockedUntil = locked.UTC()
		}
		_, err := tx.Exec(ctx, `UPDATE login_failures SET failures = $2, first_at = $3, locked_until = $4 WHERE key = $1`,
			key, failures, first, locked)
		return err
	})
	if err != nil {
		return store.LoginFailure{}, err
	}
	return out, nil
}

// ClearLoginFailures implements store.Lockouts.
func (db *DB) ClearLoginFailures(ctx context.Context, key string) error {
	return db.do(ctx, op{name: "clear login failures", idempotent: true}, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `DELETE FROM login_failures WHERE key = $1`, key)
		return err
	})
}

// LoginLocksUntil implements store.Lockouts.
func (db *DB) LoginLocksUntil(ctx context.Context, now time.Time, keys ...string) ([]time.Time, error) {
	out := make([]time.Time, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	err := db.do(ctx, op{name: "login locks until", idempotent: true}, func(c *pgx.Conn) error {
		clear(out) // a retried attempt starts afresh
		rows, err := c.Query(ctx, `SELECT key, locked_until FROM login_failures
			WHERE key = ANY($1) AND locked_until > $2`, keys, db.clock(now))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var key string
			var locked time.Time
			if err := rows.Scan(&key, &locked); err != nil {
				return err
			}
			for i, k := range keys {
				if k == key {
					out[i] = locked.UTC()
				}
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PurgeLoginFailures implements store.Lockouts.
func (db *DB) PurgeLoginFailures(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.do(ctx, op{name: "purge login failures", idempotent: true}, func(c *pgx.Conn) error {
		tag, err := c.Exec(ctx, `DELETE FROM login_failures
			WHERE (locked_until IS NULL OR locked_until < $1) AND first_at < $1`, before)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}

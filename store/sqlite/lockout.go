package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/psgate/psgate/store"
)

// RecordLoginFailure implements store.Lockouts.
func (db *DB) RecordLoginFailure(ctx context.Context, key string, now time.Time, window time.Duration, threshold int, lockFor time.Duration) (store.LoginFailure, error) {
	if key == "" || threshold <= 0 {
		return store.LoginFailure{}, fmt.Errorf("sqlite: record login failure: key and threshold are required: %w", store.ErrInvalid)
	}
	t := db.clock(now)
	nowMS := ms(t)
	var out store.LoginFailure
	err := db.write(ctx, func(tx *sql.Tx) error {
		var failures int
		var first, locked int64
		err := tx.QueryRowContext(ctx, `SELECT failures, first_at, locked_until FROM login_failures WHERE key = ?`, key).
			Scan(&failures, &first, &locked)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return wrap("record login failure", err)
		}
		if failures == 0 || first <= nowMS-window.Milliseconds() {
			failures, first = 0, nowMS
		}
		failures++
		if failures >= threshold {
			locked = max(locked, ms(t.Add(lockFor)))
			failures, first = 0, nowMS
		}
		out = store.LoginFailure{Key: key, Failures: failures, FirstAt: fromMS(first)}
		if locked > nowMS {
			out.LockedUntil = fromMS(locked)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO login_failures (key, failures, first_at, locked_until) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, first_at = excluded.first_at,
			locked_until = excluded.locked_until`, key, failures, first, locked)
		return wrap("record login failure", err)
	})
	if err != nil {
		return store.LoginFailure{}, err
	}
	return out, nil
}

// ClearLoginFailures implements store.Lockouts.
func (db *DB) ClearLoginFailures(ctx context.Context, key string) error {
	_, err := db.w.ExecContext(ctx, `DELETE FROM login_failures WHERE key = ?`, key)
	return wrap("clear login failures", err)
}

// LoginLocksUntil implements store.Lockouts.
func (db *DB) LoginLocksUntil(ctx context.Context, now time.Time, keys ...string) ([]time.Time, error) {
	out := make([]time.Time, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	rows, err := db.r.QueryContext(ctx, `SELECT key, locked_until FROM login_failures WHERE key IN (?`+
		strings.Repeat(", ?", len(keys)-1)+`) AND locked_until > ?`, append(args, ms(db.clock(now)))...)
	if err != nil {
		return nil, wrap("login locks until", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var locked int64
		if err := rows.Scan(&key, &locked); err != nil {
			return nil, wrap("login locks until", err)
		}
		for i, k := range keys {
			if k == key {
				out[i] = fromMS(locked)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("login locks until", err)
	}
	return out, nil
}

// PurgeLoginFailures implements store.Lockouts.
func (db *DB) PurgeLoginFailures(ctx context.Context, before time.Time) (int64, error) {
	b := ms(before)
	res, err := db.w.ExecContext(ctx, `DELETE FROM login_failures WHERE locked_until < ? AND first_at < ?`, b, b)
	if err != nil {
		return 0, wrap("purge login failures", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("purge login failures", err)
}

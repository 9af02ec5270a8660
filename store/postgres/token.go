package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// SigningKeys implements store.Keys.
func (db *DB) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	var out []store.SigningKey
	err := db.do(ctx, op{name: "signing keys", idempotent: true}, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT kid, alg, private_pem, created_at, not_before, retire_at
			FROM signing_keys ORDER BY created_at, kid`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.SigningKey, error) {
			var k store.SigningKey
			var notBefore, retire *time.Time
			err := r.Scan(&k.KID, &k.Alg, &k.PrivatePEM, &k.CreatedAt, &notBefore, &retire)
			k.CreatedAt, k.NotBefore, k.RetireAt = k.CreatedAt.UTC(), fromNull(notBefore), fromNull(retire)
			return k, err
		})
		return err
	})
	return out, err
}

// AddSigningKey implements store.Keys.
func (db *DB) AddSigningKey(ctx context.Context, k store.SigningKey) error {
	if k.KID == "" || k.Alg == "" || len(k.PrivatePEM) == 0 {
		return fmt.Errorf("postgres: add signing key: kid, alg and key are required: %w", store.ErrInvalid)
	}
	return db.do(ctx, op{name: "add signing key " + k.KID}, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO signing_keys (kid, alg, private_pem, created_at, not_before, retire_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, k.KID, k.Alg, k.PrivatePEM, db.clock(k.CreatedAt), nullTime(k.NotBefore),
			nullTime(k.RetireAt))
		return err
	})
}

// RetireSigningKey implements store.Keys.
func (db *DB) RetireSigningKey(ctx context.Context, kid string, at time.Time) error {
	return db.do(ctx, op{name: "retire signing key " + kid, idempotent: true}, func(c *pgx.Conn) error {
		return affected(c.Exec(ctx, `UPDATE signing_keys SET retire_at = $1 WHERE kid = $2`, db.clock(at), kid))
	})
}

const refreshCols = `id, family_id, tenant_id, user_id, client_id, scope, created_at, expires_at, used_at, revoked_at`

func scanRefresh(row pgx.Row) (store.RefreshToken, error) {
	var t store.RefreshToken
	var used, revoked *time.Time
	err := row.Scan(&t.ID, &t.FamilyID, &t.TenantID, &t.UserID, &t.ClientID, &t.Scope, &t.CreatedAt, &t.ExpiresAt,
		&used, &revoked)
	t.CreatedAt, t.ExpiresAt, t.UsedAt, t.RevokedAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC(), fromNull(used), fromNull(revoked)
	return t, err
}

// SaveRefreshToken implements store.RefreshTokens.
func (db *DB) SaveRefreshToken(ctx context.Context, t store.RefreshToken) error {
	if t.ID == "" || t.FamilyID == "" || t.ExpiresAt.IsZero() {
		return fmt.Errorf("postgres: save refresh token: id, family and expiry are required: %w", store.ErrInvalid)
	}
	return db.do(ctx, op{name: "save refresh token"}, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO refresh_tokens (`+refreshCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			t.ID, t.FamilyID, t.TenantID, t.UserID, t.ClientID, t.Scope, db.clock(t.CreatedAt), t.ExpiresAt,
			nullTime(t.UsedAt), nullTime(t.RevokedAt))
		return err
	})
}

// UseRefreshToken implements store.RefreshTokens. The conditional UPDATE
// makes concurrent uses of one token race safely: the loser re-evaluates
// the condition on the winner's row version and finds it used.
func (db *DB) UseRefreshToken(ctx context.Context, id string, now time.Time) (store.RefreshToken, error) {
	t := db.clock(now)
	var out store.RefreshToken
	var reused bool
	err := db.do(ctx, op{name: "use refresh token"}, func(c *pgx.Conn) error {
		var err error
		out, err = scanRefresh(c.QueryRow(ctx, `UPDATE refresh_tokens SET used_at = $2
			WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2 RETURNING `+refreshCols, id, t))
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		out, err = scanRefresh(c.QueryRow(ctx, `SELECT `+refreshCols+` FROM refresh_tokens WHERE id = $1`, id))
		switch {
		case err != nil:
			return err
		case !out.UsedAt.IsZero() || !out.RevokedAt.IsZero():
			reused = true
			return fmt.Errorf("already used or revoked: %w", store.ErrConflict)
		default:
			return fmt.Errorf("expired: %w", store.ErrNotFound)
		}
	})
	switch {
	case err == nil, reused:
		return out, err
	default:
		return store.RefreshToken{}, err
	}
}

// RevokeRefreshFamily implements store.RefreshTokens.
func (db *DB) RevokeRefreshFamily(ctx context.Context, familyID string) error {
	return db.do(ctx, op{name: "revoke refresh family", idempotent: true}, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL`,
			db.now(), familyID)
		return err
	})
}

// RevokeUserTokens implements store.RefreshTokens.
func (db *DB) RevokeUserTokens(ctx context.Context, userID psgate.UserID) error {
	return db.do(ctx, op{name: "revoke user tokens", idempotent: true}, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`,
			db.now(), userID)
		return err
	})
}

// PurgeRefreshTokens implements store.RefreshTokens.
func (db *DB) PurgeRefreshTokens(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.do(ctx, op{name: "purge refresh tokens", idempotent: true}, func(c *pgx.Conn) error {
		tag, err := c.Exec(ctx, `DELETE FROM refresh_tokens WHERE expires_at < $1`, before)
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}

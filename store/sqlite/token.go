package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// SigningKeys implements store.Keys.
func (db *DB) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT kid, alg, private_pem, created_at, not_before, retire_at
		FROM signing_keys ORDER BY created_at, kid`)
	if err != nil {
		return nil, wrap("signing keys", err)
	}
	defer rows.Close()
	var out []store.SigningKey
	for rows.Next() {
		var k store.SigningKey
		var created, notBefore, retire int64
		if err := rows.Scan(&k.KID, &k.Alg, &k.PrivatePEM, &created, &notBefore, &retire); err != nil {
			return nil, wrap("signing keys", err)
		}
		k.CreatedAt, k.NotBefore, k.RetireAt = fromMS(created), fromMS(notBefore), fromMS(retire)
		out = append(out, k)
	}
	return out, wrap("signing keys", rows.Err())
}

// AddSigningKey implements store.Keys.
func (db *DB) AddSigningKey(ctx context.Context, k store.SigningKey) error {
	if k.KID == "" || k.Alg == "" || len(k.PrivatePEM) == 0 {
		return fmt.Errorf("sqlite: add signing key: kid, alg and key are required: %w", store.ErrInvalid)
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO signing_keys (kid, alg, private_pem, created_at, not_before, retire_at)
		VALUES (?, ?, ?, ?, ?, ?)`, k.KID, k.Alg, k.PrivatePEM, ms(db.clock(k.CreatedAt)), ms(k.NotBefore), ms(k.RetireAt))
	return wrap("add signing key "+k.KID, err)
}

// RetireSigningKey implements store.Keys.
func (db *DB) RetireSigningKey(ctx context.Context, kid string, at time.Time) error {
	res, err := db.w.ExecContext(ctx, `UPDATE signing_keys SET retire_at = ? WHERE kid = ?`, ms(db.clock(at)), kid)
	if err != nil {
		return wrap("retire signing key", err)
	}
	return affected(res, "retire signing key "+kid)
}

const refreshSelect = `SELECT id, family_id, tenant_id, user_id, client_id, scope, created_at, expires_at, used_at,
	revoked_at FROM refresh_tokens `

func scanRefresh(s scanner) (store.RefreshToken, error) {
	var t store.RefreshToken
	var created, expires, used, revoked int64
	err := s.Scan(&t.ID, &t.FamilyID, &t.TenantID, &t.UserID, &t.ClientID, &t.Scope, &created, &expires, &used, &revoked)
	t.CreatedAt, t.ExpiresAt, t.UsedAt, t.RevokedAt = fromMS(created), fromMS(expires), fromMS(used), fromMS(revoked)
	return t, err
}

// SaveRefreshToken implements store.RefreshTokens.
func (db *DB) SaveRefreshToken(ctx context.Context, t store.RefreshToken) error {
	if t.ID == "" || t.FamilyID == "" || t.ExpiresAt.IsZero() {
		return fmt.Errorf("sqlite: save refresh token: id, family and expiry are required: %w", store.ErrInvalid)
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO refresh_tokens (id, family_id, tenant_id, user_id, client_id, scope,
		created_at, expires_at, used_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.FamilyID, t.TenantID, t.UserID, t.ClientID, t.Scope, ms(db.clock(t.CreatedAt)), ms(t.ExpiresAt),
		ms(t.UsedAt), ms(t.RevokedAt))
	return wrap("save refresh token", err)
}

// UseRefreshToken implements store.RefreshTokens.
func (db *DB) UseRefreshToken(ctx context.Context, id string, now time.Time) (store.RefreshToken, error) {
	nowMS := ms(db.clock(now))
	var out store.RefreshToken
	var reused bool
	err := db.write(ctx, func(tx *sql.Tx) error {
		t, err := scanRefresh(tx.QueryRowContext(ctx, refreshSelect+`WHERE id = ?`, id))
		if err != nil {
			return wrap("use refresh token", err)
		}
		out = t
		switch {
		case !t.UsedAt.IsZero() || !t.RevokedAt.IsZero():
			reused = true
			return fmt.Errorf("sqlite: use refresh token: already used or revoked: %w", store.ErrConflict)
		case ms(t.ExpiresAt) <= nowMS:
			return fmt.Errorf("sqlite: use refresh token: expired: %w", store.ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = ? WHERE id = ?`, nowMS, id); err != nil {
			return wrap("use refresh token", err)
		}
		out.UsedAt = fromMS(nowMS)
		return nil
	})
	switch {
	case err == nil:
		return out, nil
	case reused:
		// Reuse: hand the row back so the caller can revoke the family.
		return out, err
	default:
		return store.RefreshToken{}, err
	}
}

// RevokeRefreshFamily implements store.RefreshTokens.
func (db *DB) RevokeRefreshFamily(ctx context.Context, familyID string) error {
	_, err := db.w.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at = 0`,
		ms(db.now()), familyID)
	return wrap("revoke refresh family", err)
}

// RevokeUserTokens implements store.RefreshTokens.
func (db *DB) RevokeUserTokens(ctx context.Context, userID psgate.UserID) error {
	_, err := db.w.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at = 0`,
		ms(db.now()), userID)
	return wrap("revoke user tokens", err)
}

// PurgeRefreshTokens implements store.RefreshTokens.
func (db *DB) PurgeRefreshTokens(ctx context.Context, before time.Time) (int, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE expires_at < ?`, ms(before))
	if err != nil {
		return 0, wrap("purge refresh tokens", err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap("purge refresh tokens", err)
}

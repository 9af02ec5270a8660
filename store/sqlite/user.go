package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/internal/codec"
)

const userSelect = `SELECT id, tenant_id, object_id, upn, display_name, sip_address, department, title,
	usage_location, line_uri, enterprise_voice_enabled, enabled, password_hash, max_shells, password_changed_at,
	created_at, updated_at FROM users `

func scanUser(s scanner) (store.User, error) {
	var u store.User
	var changed, created, updated int64
	err := s.Scan(&u.ID, &u.TenantID, &u.ObjectID, &u.UPN, &u.DisplayName, &u.SipAddress, &u.Department, &u.Title,
		&u.UsageLocation, &u.LineURI, &u.EnterpriseVoiceEnabled, &u.Enabled, &u.PasswordHash, &u.MaxShells, &changed,
		&created, &updated)
	u.PasswordChangedAt, u.CreatedAt, u.UpdatedAt = fromMS(changed), fromMS(created), fromMS(updated)
	return u, err
}

func queryUsers(ctx context.Context, q querier, clause string, args ...any) ([]store.User, error) {
	rows, err := q.QueryContext(ctx, userSelect+clause, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CreateUser implements store.Users.
func (db *DB) CreateUser(ctx context.Context, u store.User, grants ...store.Grant) (store.User, error) {
	err := db.write(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = db.insertUser(ctx, tx, u)
		if err != nil {
			return err
		}
		for _, g := range grants {
			if err := db.insertAssignment(ctx, tx, store.Assignment{
				TenantID: u.TenantID, UserID: u.ID, RoleID: g.RoleID, AssignedBy: g.AssignedBy,
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// insertUser inserts u in tx and returns it with its ID and times.
func (db *DB) insertUser(ctx context.Context, tx *sql.Tx, u store.User) (store.User, error) {
	u.UPN, u.ObjectID = codec.Fold(u.UPN), codec.Fold(u.ObjectID)
	if u.UPN == "" || u.TenantID == 0 {
		return store.User{}, fmt.Errorf("sqlite: create user: tenant and UPN are required: %w", store.ErrInvalid)
	}
	if u.ObjectID == "" {
		u.ObjectID = codec.NewObjectID()
	}
	now := db.now()
	u.CreatedAt = fromMS(ms(db.clock(u.CreatedAt)))
	u.UpdatedAt = fromMS(ms(now))
	u.PasswordChangedAt = fromMS(ms(u.PasswordChangedAt))
	if u.PasswordHash != "" && u.PasswordChangedAt.IsZero() {
		u.PasswordChangedAt = u.CreatedAt
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO users (tenant_id, object_id, upn, display_name, sip_address,
		department, title, usage_location, line_uri, enterprise_voice_enabled, enabled, password_hash, max_shells,
		password_changed_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.TenantID, u.ObjectID, u.UPN, u.DisplayName, u.SipAddress, u.Department, u.Title, u.UsageLocation, u.LineURI,
		boolInt(u.EnterpriseVoiceEnabled), boolInt(u.Enabled), u.PasswordHash, u.MaxShells, ms(u.PasswordChangedAt),
		ms(u.CreatedAt), ms(u.UpdatedAt))
	if err != nil {
		return store.User{}, wrap("create user "+u.UPN, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return store.User{}, wrap("create user "+u.UPN, err)
	}
	u.ID = psgate.UserID(id)
	return u, nil
}

// User implements store.Users.
func (db *DB) User(ctx context.Context, id psgate.UserID) (store.User, error) {
	u, err := scanUser(db.r.QueryRowContext(ctx, userSelect+`WHERE id = ?`, id))
	if err != nil {
		return store.User{}, wrap(fmt.Sprintf("user %d", id), err)
	}
	return u, nil
}

// UserByUPN implements store.Users.
func (db *DB) UserByUPN(ctx context.Context, upn string) (store.User, error) {
	u, err := scanUser(db.r.QueryRowContext(ctx, userSelect+`WHERE upn = ?`, codec.Fold(upn)))
	if err != nil {
		return store.User{}, wrap(fmt.Sprintf("user %q", upn), err)
	}
	return u, nil
}

// ListUsers implements store.Users.
func (db *DB) ListUsers(ctx context.Context, tenantID psgate.TenantID, f store.UserFilter) ([]store.User, error) {
	where := []string{"tenant_id = ?"}
	args := []any{tenantID}
	if id := codec.Fold(f.Identity); id != "" {
		sip := strings.TrimPrefix(id, "sip:")
		where = append(where, "(upn = ? OR object_id = ? OR lower(sip_address) IN (?, ?))")
		args = append(args, id, id, sip, "sip:"+sip)
	}
	if f.Contains != "" {
		p := codec.LikePattern(f.Contains)
		where = append(where, `(upn LIKE ? ESCAPE '\' OR display_name LIKE ? ESCAPE '\')`)
		args = append(args, p, p)
	}
	if f.AfterID != 0 {
		where, args = append(where, "id > ?"), append(args, f.AfterID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	us, err := queryUsers(ctx, db.r, "WHERE "+strings.Join(where, " AND ")+" ORDER BY id LIMIT ?", append(args, limit)...)
	return us, wrap("list users", err)
}

// UpdateUser implements store.Users.
func (db *DB) UpdateUser(ctx context.Context, u store.User) (store.User, error) {
	u.UPN = codec.Fold(u.UPN)
	if u.UPN == "" {
		return store.User{}, fmt.Errorf("sqlite: update user: UPN is required: %w", store.ErrInvalid)
	}
	var out store.User
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET upn = ?, display_name = ?, sip_address = ?, department = ?,
			title = ?, usage_location = ?, line_uri = ?, enterprise_voice_enabled = ?, enabled = ?, max_shells = ?,
			updated_at = ? WHERE id = ?`,
			u.UPN, u.DisplayName, u.SipAddress, u.Department, u.Title, u.UsageLocation, u.LineURI,
			boolInt(u.EnterpriseVoiceEnabled), boolInt(u.Enabled), u.MaxShells, ms(db.now()), u.ID)
		if err != nil {
			return wrap("update user "+u.UPN, err)
		}
		if err := affected(res, fmt.Sprintf("update user %d", u.ID)); err != nil {
			return err
		}
		out, err = scanUser(tx.QueryRowContext(ctx, userSelect+`WHERE id = ?`, u.ID))
		return wrap("update user", err)
	})
	if err != nil {
		return store.User{}, err
	}
	return out, nil
}

// SetPassword implements store.Users.
func (db *DB) SetPassword(ctx context.Context, userID psgate.UserID, hash string, changedAt time.Time) error {
	changed := db.clock(changedAt)
	res, err := db.w.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_changed_at = ?, updated_at = ? WHERE id = ?`,
		hash, ms(changed), ms(changed), userID)
	if err != nil {
		return wrap("set password", err)
	}
	return affected(res, fmt.Sprintf("set password of user %d", userID))
}

// DeleteUser implements store.Users.
func (db *DB) DeleteUser(ctx context.Context, userID psgate.UserID) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		var tenantID psgate.TenantID
		if err := tx.QueryRowContext(ctx, `SELECT tenant_id FROM users WHERE id = ?`, userID).Scan(&tenantID); err != nil {
			return wrap(fmt.Sprintf("delete user %d", userID), err)
		}
		if err := checkLastAdmin(ctx, tx, tenantID, userID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, userID)
		return wrap(fmt.Sprintf("delete user %d", userID), err)
	})
}

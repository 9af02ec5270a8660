package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/internal/codec"
)

const (
	userCols = `id, tenant_id, object_id, upn, display_name, sip_address, department, title, usage_location, line_uri,
	enterprise_voice_enabled, enabled, password_hash, max_shells, password_changed_at, created_at, updated_at`
	userSelect = `SELECT ` + userCols + ` FROM users `
)

func scanUser(row pgx.Row) (store.User, error) {
	var u store.User
	var changed *time.Time
	err := row.Scan(&u.ID, &u.TenantID, &u.ObjectID, &u.UPN, &u.DisplayName, &u.SipAddress, &u.Department, &u.Title,
		&u.UsageLocation, &u.LineURI, &u.EnterpriseVoiceEnabled, &u.Enabled, &u.PasswordHash, &u.MaxShells, &changed,
		&u.CreatedAt, &u.UpdatedAt)
	u.PasswordChangedAt, u.CreatedAt, u.UpdatedAt = fromNull(changed), u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return u, err
}

func collectUsers(rows pgx.Rows, err error) ([]store.User, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.User, error) { return scanUser(r) })
}

// CreateUser implements store.Users.
func (db *DB) CreateUser(ctx context.Context, u store.User, grants ...store.Grant) (store.User, error) {
	u, err := db.prepareUser(u)
	if err != nil {
		return store.User{}, err
	}
	err = db.tx(ctx, op{name: "create user " + u.UPN}, func(tx pgx.Tx) error {
		if err := insertUser(ctx, tx, &u); err != nil {
			return err
		}
		for _, g := range grants {
			if err := insertAssignment(ctx, tx, store.Assignment{
				TenantID: u.TenantID, UserID: u.ID, RoleID: g.RoleID, AssignedAt: db.clock(time.Time{}), AssignedBy: g.AssignedBy,
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

// prepareUser checks and normalizes a user to create.
func (db *DB) prepareUser(u store.User) (store.User, error) {
	u.UPN, u.ObjectID = codec.Fold(u.UPN), codec.Fold(u.ObjectID)
	if u.UPN == "" {
		return store.User{}, fmt.Errorf("postgres: create user: UPN is required: %w", store.ErrInvalid)
	}
	if u.ObjectID == "" {
		u.ObjectID = codec.NewObjectID()
	}
	u.CreatedAt = db.clock(u.CreatedAt).UTC().Truncate(time.Microsecond)
	u.UpdatedAt = db.now().UTC().Truncate(time.Microsecond)
	u.PasswordChangedAt = u.PasswordChangedAt.UTC().Truncate(time.Microsecond)
	if u.PasswordHash != "" && u.PasswordChangedAt.IsZero() {
		u.PasswordChangedAt = u.CreatedAt
	}
	return u, nil
}

// insertUser inserts a prepared user in tx and sets its ID.
func insertUser(ctx context.Context, tx pgx.Tx, u *store.User) error {
	if u.TenantID == 0 {
		return fmt.Errorf("postgres: create user %s: tenant is required: %w", u.UPN, store.ErrInvalid)
	}
	return tx.QueryRow(ctx, `INSERT INTO users (tenant_id, object_id, upn, display_name, sip_address, department,
		title, usage_location, line_uri, enterprise_voice_enabled, enabled, password_hash, max_shells,
		password_changed_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
		u.TenantID, u.ObjectID, u.UPN, u.DisplayName, u.SipAddress, u.Department, u.Title, u.UsageLocation,
		u.LineURI, u.EnterpriseVoiceEnabled, u.Enabled, u.PasswordHash, u.MaxShells, nullTime(u.PasswordChangedAt),
		u.CreatedAt, u.UpdatedAt).Scan(&u.ID)
}

func (db *DB) oneUser(ctx context.Context, what, clause string, arg any) (store.User, error) {
	var u store.User
	err := db.do(ctx, op{name: what, idempotent: true}, func(c *pgx.Conn) error {
		var err error
		u, err = scanUser(c.QueryRow(ctx, userSelect+clause, arg))
		return err
	})
	return u, err
}

// User implements store.Users.
func (db *DB) User(ctx context.Context, id psgate.UserID) (store.User, error) {
	return db.oneUser(ctx, fmt.Sprintf("user %d", id), `WHERE id = $1`, id)
}

// UserByUPN implements store.Users.
func (db *DB) UserByUPN(ctx context.Context, upn string) (store.User, error) {
	return db.oneUser(ctx, fmt.Sprintf("user %q", upn), `WHERE upn = $1`, codec.Fold(upn))
}

// ListUsers implements store.Users.
func (db *DB) ListUsers(ctx context.Context, tenantID psgate.TenantID, f store.UserFilter) ([]store.User, error) {
	where := []string{"tenant_id = $1"}
	args := []any{tenantID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if id := codec.Fold(f.Identity); id != "" {
		sip := strings.TrimPrefix(id, "sip:")
		where = append(where, fmt.Sprintf("(upn = %s OR object_id = %[1]s OR lower(sip_address) IN (%s, %s))",
			arg(id), arg(sip), arg("sip:"+sip)))
	}
	if f.Contains != "" {
		p := arg(codec.LikePattern(f.Contains))
		where = append(where, fmt.Sprintf(`(upn LIKE %s ESCAPE '\' OR lower(display_name) LIKE %[1]s ESCAPE '\')`, p))
	}
	if f.AfterID != 0 {
		where = append(where, "id > "+arg(f.AfterID))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	q := userSelect + "WHERE " + strings.Join(where, " AND ") + " ORDER BY id LIMIT " + arg(limit)
	var out []store.User
	err := db.do(ctx, op{name: "list users", idempotent: true}, func(c *pgx.Conn) error {
		var err error
		out, err = collectUsers(c.Query(ctx, q, args...))
		return err
	})
	return out, err
}

// UpdateUser implements store.Users.
func (db *DB) UpdateUser(ctx context.Context, u store.User) (store.User, error) {
	u.UPN = codec.Fold(u.UPN)
	if u.UPN == "" {
		return store.User{}, fmt.Errorf("postgres: update user: UPN is required: %w", store.ErrInvalid)
	}
	var out store.User
	err := db.do(ctx, op{name: fmt.Sprintf("update user %d", u.ID), idempotent: true}, func(c *pgx.Conn) error {
		var err error
		out, err = scanUser(c.QueryRow(ctx, `UPDATE users SET upn = $1, display_name = $2, sip_address = $3,
			department = $4, title = $5, usage_location = $6, line_uri = $7, enterprise_voice_enabled = $8,
			enabled = $9, max_shells = $10, updated_at = $11 WHERE id = $12
			RETURNING `+userCols,
			u.UPN, u.DisplayName, u.SipAddress, u.Department, u.Title, u.UsageLocation, u.LineURI,
			u.EnterpriseVoiceEnabled, u.Enabled, u.MaxShells, db.now(), u.ID))
		return err
	})
	return out, err
}

// SetPassword implements store.Users.
func (db *DB) SetPassword(ctx context.Context, userID psgate.UserID, hash string, changedAt time.Time) error {
	changed := db.clock(changedAt)
	return db.do(ctx, op{name: fmt.Sprintf("set password of user %d", userID), idempotent: true}, func(c *pgx.Conn) error {
		return affected(c.Exec(ctx, `UPDATE users SET password_hash = $1, password_changed_at = $2, updated_at = $2
			WHERE id = $3`, hash, changed, userID))
	})
}

// DeleteUser implements store.Users.
func (db *DB) DeleteUser(ctx context.Context, userID psgate.UserID) error {
	return db.tx(ctx, op{name: fmt.Sprintf("delete user %d", userID)}, func(tx pgx.Tx) error {
		var tenantID psgate.TenantID
		if err := tx.QueryRow(ctx, `SELECT tenant_id FROM users WHERE id = $1`, userID).Scan(&tenantID); err != nil {
			return err
		}
		if err := checkLastAdmin(ctx, tx, tenantID, userID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, userID)
		return err
	})
}

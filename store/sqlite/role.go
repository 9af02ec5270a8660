package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/internal/codec"
)

const roleSelect = `SELECT r.id, r.tenant_id, r.name, r.description, r.entries FROM roles r `

func queryRoles(ctx context.Context, q querier, clause string, args ...any) ([]store.Role, error) {
	rows, err := q.QueryContext(ctx, roleSelect+clause, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Role
	for rows.Next() {
		var r store.Role
		var tenantID sql.NullInt64
		var entries string
		if err := rows.Scan(&r.ID, &tenantID, &r.Name, &r.Description, &entries); err != nil {
			return nil, err
		}
		r.TenantID, r.BuiltIn = psgate.TenantID(tenantID.Int64), !tenantID.Valid
		if r.Entries, err = codec.DecodeEntries(entries); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ListRoles implements store.Roles.
func (db *DB) ListRoles(ctx context.Context, tenantID psgate.TenantID) ([]store.Role, error) {
	rs, err := queryRoles(ctx, db.r, `WHERE r.tenant_id IS NULL OR r.tenant_id = ? ORDER BY r.id`, tenantID)
	return rs, wrap("list roles", err)
}

// RoleByName implements store.Roles.
func (db *DB) RoleByName(ctx context.Context, tenantID psgate.TenantID, name string) (store.Role, error) {
	rs, err := queryRoles(ctx, db.r, `WHERE (r.tenant_id IS NULL OR r.tenant_id = ?) AND lower(r.name) = lower(?)
		ORDER BY r.id LIMIT 1`, tenantID, name)
	if err != nil {
		return store.Role{}, wrap("role "+name, err)
	}
	if len(rs) == 0 {
		return store.Role{}, fmt.Errorf("sqlite: role %q: %w", name, store.ErrNotFound)
	}
	return rs[0], nil
}

// CreateRole implements store.Roles.
func (db *DB) CreateRole(ctx context.Context, r store.Role) (store.Role, error) {
	if r.TenantID == 0 || r.Name == "" {
		return store.Role{}, fmt.Errorf("sqlite: create role: tenant and name are required: %w", store.ErrInvalid)
	}
	entries, err := codec.EncodeEntries(r.Entries)
	if err != nil {
		return store.Role{}, fmt.Errorf("sqlite: create role %s: %w", r.Name, err)
	}
	r.BuiltIn = false
	err = db.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM roles WHERE tenant_id IS NULL AND lower(name) = lower(?)`,
			r.Name).Scan(&n); err != nil {
			return wrap("create role", err)
		}
		if n > 0 {
			return fmt.Errorf("sqlite: create role %q: name of a built-in role: %w", r.Name, store.ErrConflict)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO roles (tenant_id, name, description, entries) VALUES (?, ?, ?, ?)`,
			r.TenantID, r.Name, r.Description, entries)
		if err != nil {
			return wrap("create role "+r.Name, err)
		}
		r.ID, err = res.LastInsertId()
		return wrap("create role "+r.Name, err)
	})
	if err != nil {
		return store.Role{}, err
	}
	return r, nil
}

// DeleteRole implements store.Roles.
func (db *DB) DeleteRole(ctx context.Context, tenantID psgate.TenantID, roleID int64) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		var owner sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT tenant_id FROM roles WHERE id = ?`, roleID).Scan(&owner); err != nil {
			return wrap(fmt.Sprintf("delete role %d", roleID), err)
		}
		if !owner.Valid {
			return fmt.Errorf("sqlite: delete role %d: built-in role: %w", roleID, store.ErrConflict)
		}
		if psgate.TenantID(owner.Int64) != tenantID {
			return fmt.Errorf("sqlite: delete role %d of tenant %d: %w", roleID, tenantID, store.ErrNotFound)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM roles WHERE id = ?`, roleID)
		return wrap(fmt.Sprintf("delete role %d", roleID), err)
	})
}

// Assign implements store.Roles.
func (db *DB) Assign(ctx context.Context, a store.Assignment) error {
	return db.write(ctx, func(tx *sql.Tx) error { return db.insertAssignment(ctx, tx, a) })
}

// insertAssignment assigns a role in tx, if the user is the tenant's and
// the role built-in or the tenant's; ErrNotFound otherwise.
func (db *DB) insertAssignment(ctx context.Context, tx *sql.Tx, a store.Assignment) error {
	at := ms(db.clock(a.AssignedAt))
	var ok bool
	if err := tx.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM users WHERE id = ?1 AND tenant_id = ?2) AND
		EXISTS (SELECT 1 FROM roles WHERE id = ?3 AND (tenant_id IS NULL OR tenant_id = ?2))`,
		a.UserID, a.TenantID, a.RoleID).Scan(&ok); err != nil {
		return wrap("assign role", err)
	}
	if !ok {
		return fmt.Errorf("sqlite: assign role %d to user %d of tenant %d: %w", a.RoleID, a.UserID, a.TenantID, store.ErrNotFound)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO role_assignments (tenant_id, user_id, role_id, assigned_at, assigned_by)
		VALUES (?, ?, ?, ?, ?)`, a.TenantID, a.UserID, a.RoleID, at, a.AssignedBy)
	return wrap(fmt.Sprintf("assign role %d to user %d", a.RoleID, a.UserID), err)
}

// Revoke implements store.Roles.
func (db *DB) Revoke(ctx context.Context, tenantID psgate.TenantID, userID psgate.UserID, roleID int64) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		var admin bool
		err := tx.QueryRowContext(ctx, `SELECT r.tenant_id IS NULL AND r.name = ? FROM role_assignments a
			JOIN roles r ON r.id = a.role_id WHERE a.tenant_id = ? AND a.user_id = ? AND a.role_id = ?`,
			store.RoleTenantAdministrator, tenantID, userID, roleID).Scan(&admin)
		if err != nil {
			return wrap(fmt.Sprintf("revoke role %d from user %d", roleID, userID), err)
		}
		if admin {
			if err := checkLastAdmin(ctx, tx, tenantID, userID); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM role_assignments WHERE user_id = ? AND role_id = ?`, userID, roleID)
		return wrap(fmt.Sprintf("revoke role %d from user %d", roleID, userID), err)
	})
}

// checkLastAdmin returns ErrLastAdmin when userID is the tenant's only
// Tenant Administrator. It runs inside the writer's transaction, which makes
// check and removal atomic.
func checkLastAdmin(ctx context.Context, tx *sql.Tx, tenantID psgate.TenantID, userID psgate.UserID) error {
	var holds, total int
	err := tx.QueryRowContext(ctx, `SELECT coalesce(sum(a.user_id = ?2), 0), count(*) FROM role_assignments a
		JOIN roles r ON r.id = a.role_id WHERE a.tenant_id = ?1 AND r.tenant_id IS NULL AND r.name = ?3`,
		tenantID, userID, store.RoleTenantAdministrator).Scan(&holds, &total)
	if err != nil {
		return wrap("count administrators", err)
	}
	if holds > 0 && total <= 1 {
		return fmt.Errorf("sqlite: user %d of tenant %d: %w", userID, tenantID, store.ErrLastAdmin)
	}
	return nil
}

// RolesOf implements store.Roles.
func (db *DB) RolesOf(ctx context.Context, tenantID psgate.TenantID, userID psgate.UserID) ([]store.Role, error) {
	rs, err := queryRoles(ctx, db.r, `JOIN role_assignments a ON a.role_id = r.id
		WHERE a.tenant_id = ? AND a.user_id = ? ORDER BY r.id`, tenantID, userID)
	return rs, wrap("roles of user", err)
}

// Assignments implements store.Roles.
func (db *DB) Assignments(ctx context.Context, tenantID psgate.TenantID) ([]store.Assignment, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT tenant_id, user_id, role_id, assigned_at, assigned_by
		FROM role_assignments WHERE tenant_id = ? ORDER BY user_id, role_id`, tenantID)
	if err != nil {
		return nil, wrap("list assignments", err)
	}
	defer rows.Close()
	var out []store.Assignment
	for rows.Next() {
		var a store.Assignment
		var at int64
		if err := rows.Scan(&a.TenantID, &a.UserID, &a.RoleID, &at, &a.AssignedBy); err != nil {
			return nil, wrap("list assignments", err)
		}
		a.AssignedAt = fromMS(at)
		out = append(out, a)
	}
	return out, wrap("list assignments", rows.Err())
}

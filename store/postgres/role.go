package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/internal/codec"
)

const roleSelect = `SELECT r.id, r.tenant_id, r.name, r.description, r.entries FROM roles r `

func collectRoles(rows pgx.Rows, err error) ([]store.Role, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Role, error) {
		var r store.Role
		var tenantID *int64
		var entries string
		if err := row.Scan(&r.ID, &tenantID, &r.Name, &r.Description, &entries); err != nil {
			return r, err
		}
		if tenantID != nil {
			r.TenantID = psgate.TenantID(*tenantID)
		}
		r.BuiltIn = tenantID == nil
		var err error
		r.Entries, err = codec.DecodeEntries(entries)
		return r, err
	})
}

func (db *DB) queryRoles(ctx context.Context, what, clause string, args ...any) ([]store.Role, error) {
	var out []store.Role
	err := db.do(ctx, op{name: what, idempotent: true}, func(c *pgx.Conn) error {
		var err error
		out, err = collectRoles(c.Query(ctx, roleSelect+clause, args...))
		return err
	})
	return out, err
}

// ListRoles implements store.Roles.
func (db *DB) ListRoles(ctx context.Context, tenantID psgate.TenantID) ([]store.Role, error) {
	return db.queryRoles(ctx, "list roles", `WHERE r.tenant_id IS NULL OR r.tenant_id = $1 ORDER BY r.id`, tenantID)
}

// RoleByName implements store.Roles.
func (db *DB) RoleByName(ctx context.Context, tenantID psgate.TenantID, name string) (store.Role, error) {
	rs, err := db.queryRoles(ctx, "role "+name, `WHERE (r.tenant_id IS NULL OR r.tenant_id = $1)
		AND lower(r.name) = lower($2) ORDER BY r.id LIMIT 1`, tenantID, name)
	if err != nil {
		return store.Role{}, err
	}
	if len(rs) == 0 {
		return store.Role{}, fmt.Errorf("postgres: role %q: %w", name, store.ErrNotFound)
	}
	return rs[0], nil
}

// CreateRole implements store.Roles.
func (db *DB) CreateRole(ctx context.Context, r store.Role) (store.Role, error) {
	if r.TenantID == 0 || r.Name == "" {
		return store.Role{}, fmt.Errorf("postgres: create role: tenant and name are required: %w", store.ErrInvalid)
	}
	entries, err := codec.EncodeEntries(r.Entries)
	if err != nil {
		return store.Role{}, fmt.Errorf("postgres: create role %s: %w", r.Name, err)
	}
	r.BuiltIn = false
	err = db.do(ctx, op{name: "create role " + r.Name}, func(c *pgx.Conn) error {
		// Built-in roles never change after the migration, so checking
		// their names in the same statement is enough.
		err := c.QueryRow(ctx, `INSERT INTO roles (tenant_id, name, description, entries)
			SELECT $1, $2, $3, $4 WHERE NOT EXISTS
				(SELECT 1 FROM roles WHERE tenant_id IS NULL AND lower(name) = lower($2))
			RETURNING id`, r.TenantID, r.Name, r.Description, entries).Scan(&r.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("name of a built-in role: %w", store.ErrConflict)
		}
		return err
	})
	if err != nil {
		return store.Role{}, err
	}
	return r, nil
}

// DeleteRole implements store.Roles.
func (db *DB) DeleteRole(ctx context.Context, tenantID psgate.TenantID, roleID int64) error {
	return db.tx(ctx, op{name: fmt.Sprintf("delete role %d", roleID)}, func(tx pgx.Tx) error {
		var owner *int64
		if err := tx.QueryRow(ctx, `SELECT tenant_id FROM roles WHERE id = $1 FOR UPDATE`, roleID).Scan(&owner); err != nil {
			return err
		}
		if owner == nil {
			return fmt.Errorf("built-in role: %w", store.ErrConflict)
		}
		if psgate.TenantID(*owner) != tenantID {
			return fmt.Errorf("role of another tenant: %w", store.ErrNotFound)
		}
		_, err := tx.Exec(ctx, `DELETE FROM roles WHERE id = $1`, roleID)
		return err
	})
}

// Assign implements store.Roles.
func (db *DB) Assign(ctx context.Context, a store.Assignment) error {
	a.AssignedAt = db.clock(a.AssignedAt)
	return db.do(ctx, op{name: fmt.Sprintf("assign role %d to user %d", a.RoleID, a.UserID)}, func(c *pgx.Conn) error {
		return affected(c.Exec(ctx, assignSQL, a.TenantID, a.UserID, a.RoleID, a.AssignedAt, a.AssignedBy))
	})
}

// assignSQL assigns a role if the user is the tenant's and the role
// built-in or the tenant's.
const assignSQL = `INSERT INTO role_assignments (tenant_id, user_id, role_id, assigned_at, assigned_by)
	SELECT $1, $2, $3, $4, $5
	WHERE EXISTS (SELECT 1 FROM users WHERE id = $2 AND tenant_id = $1)
	  AND EXISTS (SELECT 1 FROM roles WHERE id = $3 AND (tenant_id IS NULL OR tenant_id = $1))`

// insertAssignment is Assign in tx: ErrNotFound for a user or role the
// tenant does not have.
func insertAssignment(ctx context.Context, tx pgx.Tx, a store.Assignment) error {
	return affected(tx.Exec(ctx, assignSQL, a.TenantID, a.UserID, a.RoleID, a.AssignedAt, a.AssignedBy))
}

// Revoke implements store.Roles.
func (db *DB) Revoke(ctx context.Context, tenantID psgate.TenantID, userID psgate.UserID, roleID int64) error {
	return db.tx(ctx, op{name: fmt.Sprintf("revoke role %d from user %d", roleID, userID)}, func(tx pgx.Tx) error {
		var admin bool
		err := tx.QueryRow(ctx, `SELECT r.tenant_id IS NULL AND r.name = $1 FROM role_assignments a
			JOIN roles r ON r.id = a.role_id WHERE a.tenant_id = $2 AND a.user_id = $3 AND a.role_id = $4`,
			store.RoleTenantAdministrator, tenantID, userID, roleID).Scan(&admin)
		if err != nil {
			return err
		}
		if admin {
			if err := checkLastAdmin(ctx, tx, tenantID, userID); err != nil {
				return err
			}
		}
		return affected(tx.Exec(ctx, `DELETE FROM role_assignments WHERE user_id = $1 AND role_id = $2`, userID, roleID))
	})
}

// checkLastAdmin returns ErrLastAdmin when userID is the tenant's only
// Tenant Administrator. It first locks the tenant row (FOR NO KEY UPDATE,
// which does not block the foreign-key checks of admissions), so two
// concurrent removals are serialised and the second one counts after the
// first has committed.
func checkLastAdmin(ctx context.Context, tx pgx.Tx, tenantID psgate.TenantID, userID psgate.UserID) error {
	if _, err := tx.Exec(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE`, tenantID); err != nil {
		return err
	}
	var holds, total int
	err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE a.user_id = $2), count(*) FROM role_assignments a
		JOIN roles r ON r.id = a.role_id WHERE a.tenant_id = $1 AND r.tenant_id IS NULL AND r.name = $3`,
		tenantID, userID, store.RoleTenantAdministrator).Scan(&holds, &total)
	if err != nil {
		return err
	}
	if holds > 0 && total <= 1 {
		return fmt.Errorf("user %d of tenant %d: %w", userID, tenantID, store.ErrLastAdmin)
	}
	return nil
}

// RolesOf implements store.Roles.
func (db *DB) RolesOf(ctx context.Context, tenantID psgate.TenantID, userID psgate.UserID) ([]store.Role, error) {
	return db.queryRoles(ctx, "roles of user", `JOIN role_assignments a ON a.role_id = r.id
		WHERE a.tenant_id = $1 AND a.user_id = $2 ORDER BY r.id`, tenantID, userID)
}

// Assignments implements store.Roles.
func (db *DB) Assignments(ctx context.Context, tenantID psgate.TenantID) ([]store.Assignment, error) {
	var out []store.Assignment
	err := db.do(ctx, op{name: "list assignments", idempotent: true}, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT tenant_id, user_id, role_id, assigned_at, assigned_by
			FROM role_assignments WHERE tenant_id = $1 ORDER BY user_id, role_id`, tenantID)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Assignment, error) {
			var a store.Assignment
			err := r.Scan(&a.TenantID, &a.UserID, &a.RoleID, &a.AssignedAt, &a.AssignedBy)
			a.AssignedAt = a.AssignedAt.UTC()
			return a, err
		})
		return err
	})
	return out, err
}

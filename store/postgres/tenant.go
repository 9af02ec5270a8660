package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/internal/codec"
)

const tenantSelect = `SELECT id, name, domain, display_name, enable_remote_powershell, max_shells_per_user,
	max_shells_per_tenant, session_lifetime_ms, idle_timeout_ms, max_creations_per_minute, allow_password_auth,
	created_at FROM tenants `

func scanTenant(row pgx.Row) (store.Tenant, error) {
	var t store.Tenant
	var lifetime, idle int64
	p := &t.Policy
	err := row.Scan(&t.ID, &t.Name, &t.Domain, &t.DisplayName, &p.EnableRemotePowerShellAccess, &p.MaxShellsPerUser,
		&p.MaxShellsPerTenant, &lifetime, &idle, &p.MaxShellCreationsPerMinute, &p.AllowPasswordAuthentication, &t.CreatedAt)
	p.SessionLifetime = time.Duration(lifetime) * time.Millisecond
	p.IdleTimeout = time.Duration(idle) * time.Millisecond
	t.CreatedAt = t.CreatedAt.UTC()
	return t, err
}

// CreateTenant implements store.Tenants.
func (db *DB) CreateTenant(ctx context.Context, t store.Tenant, admins ...store.FirstAdmin) (store.Tenant, error) {
	t.Name, t.Domain = codec.Fold(t.Name), codec.Fold(t.Domain)
	if t.Name == "" || t.Domain == "" {
		return store.Tenant{}, fmt.Errorf("postgres: create tenant: name and domain are required: %w", store.ErrInvalid)
	}
	t.CreatedAt = db.clock(t.CreatedAt).UTC().Truncate(time.Microsecond)
	users := make([]store.User, len(admins))
	for i, a := range admins {
		var err error
		if users[i], err = db.prepareUser(a.User); err != nil {
			return store.Tenant{}, err
		}
	}
	err := db.tx(ctx, op{name: "create tenant " + t.Name}, func(tx pgx.Tx) error {
		// A name may not equal another tenant's domain either; the lock
		// makes that cross-column check atomic.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, 0)`, lockClassTenants); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM tenants WHERE name IN ($1, $2) OR domain IN ($1, $2)`,
			t.Name, t.Domain).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("name or domain taken: %w", store.ErrConflict)
		}
		p := t.Policy
		if err := tx.QueryRow(ctx, `INSERT INTO tenants (name, domain, display_name, enable_remote_powershell,
			max_shells_per_user, max_shells_per_tenant, session_lifetime_ms, idle_timeout_ms, max_creations_per_minute,
			allow_password_auth, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
			t.Name, t.Domain, t.DisplayName, p.EnableRemotePowerShellAccess, p.MaxShellsPerUser, p.MaxShellsPerTenant,
			p.SessionLifetime.Milliseconds(), p.IdleTimeout.Milliseconds(), p.MaxShellCreationsPerMinute,
			p.AllowPasswordAuthentication, t.CreatedAt).Scan(&t.ID); err != nil {
			return err
		}
		if len(users) == 0 {
			return nil
		}
		var roleID int64
		if err := tx.QueryRow(ctx, `SELECT id FROM roles WHERE tenant_id IS NULL AND name = $1`,
			store.RoleTenantAdministrator).Scan(&roleID); err != nil {
			return err
		}
		for i := range users {
			users[i].TenantID = t.ID
			if err := insertUser(ctx, tx, &users[i]); err != nil {
				return err
			}
			if err := insertAssignment(ctx, tx, store.Assignment{
				TenantID: t.ID, UserID: users[i].ID, RoleID: roleID, AssignedAt: db.clock(time.Time{}), AssignedBy: admins[i].AssignedBy,
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store.Tenant{}, err
	}
	return t, nil
}

// Tenant implements store.Tenants.
func (db *DB) Tenant(ctx context.Context, id psgate.TenantID) (store.Tenant, error) {
	var t store.Tenant
	err := db.do(ctx, op{name: fmt.Sprintf("tenant %d", id), idempotent: true}, func(c *pgx.Conn) error {
		var err error
		t, err = scanTenant(c.QueryRow(ctx, tenantSelect+`WHERE id = $1`, id))
		return err
	})
	return t, err
}

// TenantByName implements store.Tenants.
func (db *DB) TenantByName(ctx context.Context, nameOrDomain string) (store.Tenant, error) {
	var t store.Tenant
	err := db.do(ctx, op{name: fmt.Sprintf("tenant %q", nameOrDomain), idempotent: true}, func(c *pgx.Conn) error {
		var err error
		t, err = scanTenant(c.QueryRow(ctx, tenantSelect+`WHERE name = $1 OR domain = $1`, codec.Fold(nameOrDomain)))
		return err
	})
	return t, err
}

// ListTenants implements store.Tenants.
func (db *DB) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	var out []store.Tenant
	err := db.do(ctx, op{name: "list tenants", idempotent: true}, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, tenantSelect+`ORDER BY id`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Tenant, error) { return scanTenant(r) })
		return err
	})
	return out, err
}

// UpdatePolicy implements store.Tenants.
func (db *DB) UpdatePolicy(ctx context.Context, id psgate.TenantID, p store.Policy) error {
	return db.do(ctx, op{name: fmt.Sprintf("update policy of tenant %d", id), idempotent: true}, func(c *pgx.Conn) error {
		tag, err := c.Exec(ctx, `UPDATE tenants SET enable_remote_powershell = $1, max_shells_per_user = $2,
			max_shells_per_tenant = $3, session_lifetime_ms = $4, idle_timeout_ms = $5, max_creations_per_minute = $6,
			allow_password_auth = $7 WHERE id = $8`,
			p.EnableRemotePowerShellAccess, p.MaxShellsPerUser, p.MaxShellsPerTenant, p.SessionLifetime.Milliseconds(),
			p.IdleTimeout.Milliseconds(), p.MaxShellCreationsPerMinute, p.AllowPasswordAuthentication, id)
		return affected(tag, err)
	})
}

// DeleteTenant implements store.Tenants.
func (db *DB) DeleteTenant(ctx context.Context, id psgate.TenantID) error {
	return db.do(ctx, op{name: fmt.Sprintf("delete tenant %d", id)}, func(c *pgx.Conn) error {
		return affected(c.Exec(ctx, `DELETE FROM tenants WHERE id = $1`, id))
	})
}

// affected returns ErrNotFound when a statement changed no row.
func affected(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

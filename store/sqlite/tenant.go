package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/internal/codec"
)

const tenantSelect = `SELECT id, name, domain, display_name, enable_remote_powershell, max_shells_per_user,
	max_shells_per_tenant, session_lifetime_ms, idle_timeout_ms, max_creations_per_minute, allow_password_auth,
	created_at FROM tenants `

func scanTenant(s scanner) (store.Tenant, error) {
	var t store.Tenant
	var lifetime, idle, created int64
	p := &t.Policy
	err := s.Scan(&t.ID, &t.Name, &t.Domain, &t.DisplayName, &p.EnableRemotePowerShellAccess, &p.MaxShellsPerUser,
		&p.MaxShellsPerTenant, &lifetime, &idle, &p.MaxShellCreationsPerMinute, &p.AllowPasswordAuthentication, &created)
	p.SessionLifetime = time.Duration(lifetime) * time.Millisecond
	p.IdleTimeout = time.Duration(idle) * time.Millisecond
	t.CreatedAt = fromMS(created)
	return t, err
}

// CreateTenant implements store.Tenants.
func (db *DB) CreateTenant(ctx context.Context, t store.Tenant, admins ...store.FirstAdmin) (store.Tenant, error) {
	t.Name, t.Domain = codec.Fold(t.Name), codec.Fold(t.Domain)
	if t.Name == "" || t.Domain == "" {
		return store.Tenant{}, fmt.Errorf("sqlite: create tenant: name and domain are required: %w", store.ErrInvalid)
	}
	t.CreatedAt = fromMS(ms(db.clock(t.CreatedAt)))
	err := db.write(ctx, func(tx *sql.Tx) error {
		// A name may not equal another tenant's domain either, so that
		// TenantByName stays unambiguous.
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM tenants WHERE name IN (?1, ?2) OR domain IN (?1, ?2)`,
			t.Name, t.Domain).Scan(&n); err != nil {
			return wrap("create tenant", err)
		}
		if n > 0 {
			return fmt.Errorf("sqlite: create tenant %s (%s): %w", t.Name, t.Domain, store.ErrConflict)
		}
		p := t.Policy
		res, err := tx.ExecContext(ctx, `INSERT INTO tenants (name, domain, display_name, enable_remote_powershell,
			max_shells_per_user, max_shells_per_tenant, session_lifetime_ms, idle_timeout_ms, max_creations_per_minute,
			allow_password_auth, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.Name, t.Domain, t.DisplayName, boolInt(p.EnableRemotePowerShellAccess), p.MaxShellsPerUser,
			p.MaxShellsPerTenant, p.SessionLifetime.Milliseconds(), p.IdleTimeout.Milliseconds(),
			p.MaxShellCreationsPerMinute, boolInt(p.AllowPasswordAuthentication), ms(t.CreatedAt))
		if err != nil {
			return wrap("create tenant "+t.Name, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return wrap("create tenant "+t.Name, err)
		}
		t.ID = psgate.TenantID(id)
		if len(admins) == 0 {
			return nil
		}
		var roleID int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM roles WHERE tenant_id IS NULL AND name = ?`,
			store.RoleTenantAdministrator).Scan(&roleID); err != nil {
			return wrap("create tenant "+t.Name+": find the administrator role", err)
		}
		for _, a := range admins {
			a.User.TenantID = t.ID
			u, err := db.insertUser(ctx, tx, a.User)
			if err != nil {
				return err
			}
			if err := db.insertAssignment(ctx, tx, store.Assignment{
				TenantID: t.ID, UserID: u.ID, RoleID: roleID, AssignedBy: a.AssignedBy,
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
	t, err := scanTenant(db.r.QueryRowContext(ctx, tenantSelect+`WHERE id = ?`, id))
	if err != nil {
		return store.Tenant{}, wrap(fmt.Sprintf("tenant %d", id), err)
	}
	return t, nil
}

// TenantByName implements store.Tenants.
func (db *DB) TenantByName(ctx context.Context, nameOrDomain string) (store.Tenant, error) {
	t, err := scanTenant(db.r.QueryRowContext(ctx, tenantSelect+`WHERE name = ?1 OR domain = ?1`, codec.Fold(nameOrDomain)))
	if err != nil {
		return store.Tenant{}, wrap(fmt.Sprintf("tenant %q", nameOrDomain), err)
	}
	return t, nil
}

// ListTenants implements store.Tenants.
func (db *DB) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	rows, err := db.r.QueryContext(ctx, tenantSelect+`ORDER BY id`)
	if err != nil {
		return nil, wrap("list tenants", err)
	}
	defer rows.Close()
	var out []store.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, wrap("list tenants", err)
		}
		out = append(out, t)
	}
	return out, wrap("list tenants", rows.Err())
}

// UpdatePolicy implements store.Tenants.
func (db *DB) UpdatePolicy(ctx context.Context, id psgate.TenantID, p store.Policy) error {
	res, err := db.w.ExecContext(ctx, `UPDATE tenants SET enable_remote_powershell = ?, max_shells_per_user = ?,
		max_shells_per_tenant = ?, session_lifetime_ms = ?, idle_timeout_ms = ?, max_creations_per_minute = ?,
		allow_password_auth = ? WHERE id = ?`,
		boolInt(p.EnableRemotePowerShellAccess), p.MaxShellsPerUser, p.MaxShellsPerTenant,
		p.SessionLifetime.Milliseconds(), p.IdleTimeout.Milliseconds(), p.MaxShellCreationsPerMinute,
		boolInt(p.AllowPasswordAuthentication), id)
	if err != nil {
		return wrap("update policy", err)
	}
	return affected(res, fmt.Sprintf("update policy of tenant %d", id))
}

// DeleteTenant implements store.Tenants.
func (db *DB) DeleteTenant(ctx context.Context, id psgate.TenantID) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM tenants WHERE id = ?`, id)
	if err != nil {
		return wrap("delete tenant", err)
	}
	return affected(res, fmt.Sprintf("delete tenant %d", id))
}

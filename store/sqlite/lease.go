package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// creationLogRetention is how long the sweeper keeps shell_creations rows;
// CountCreations windows longer than this undercount.
const creationLogRetention = time.Hour

const leaseSelect = `SELECT l.shell_id, l.tenant_id, l.user_id, u.upn, l.node_id, l.kind, l.state, l.name,
	l.client_addr, l.user_agent, l.opened_at, l.last_active_at, l.expires_at
	FROM shell_leases l JOIN users u ON u.id = l.user_id `

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type scanner interface{ Scan(dest ...any) error }

func scanLease(s scanner) (store.Lease, error) {
	var l store.Lease
	var opened, active, expires int64
	err := s.Scan(&l.ShellID, &l.TenantID, &l.UserID, &l.UPN, &l.NodeID, &l.Kind, &l.State, &l.Name,
		&l.ClientAddr, &l.UserAgent, &opened, &active, &expires)
	l.OpenedAt, l.LastActiveAt, l.ExpiresAt = fromMS(opened), fromMS(active), fromMS(expires)
	return l, err
}

// queryLeases runs leaseSelect with the given WHERE/ORDER clause.
func queryLeases(ctx context.Context, q querier, clause string, args ...any) ([]store.Lease, error) {
	rows, err := q.QueryContext(ctx, leaseSelect+clause, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Lease
	for rows.Next() {
		l, err := scanLease(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

func validateLeaseRequest(r store.LeaseRequest) error {
	switch {
	case r.ShellID == "", r.NodeID == "", r.TenantID == 0, r.UserID == 0:
		return fmt.Errorf("sqlite: acquire lease: shell, node, tenant and user are required: %w", store.ErrInvalid)
	case r.Kind != store.KindWinRS && r.Kind != store.KindPSRP:
		return fmt.Errorf("sqlite: acquire lease: kind %q: %w", r.Kind, store.ErrInvalid)
	case r.TTL <= 0:
		return fmt.Errorf("sqlite: acquire lease: ttl %v: %w", r.TTL, store.ErrInvalid)
	}
	return nil
}

// AcquireLease implements store.Leases. The writer connection serialises
// admissions, so the counts read inside the IMMEDIATE transaction stay
// exact until it commits.
func (db *DB) AcquireLease(ctx context.Context, r store.LeaseRequest) (store.Lease, error) {
	if err := validateLeaseRequest(r); err != nil {
		return store.Lease{}, err
	}
	now := db.clock(r.Now)
	nowMS := ms(now)
	var out store.Lease
	err := db.write(ctx, func(tx *sql.Tx) error {
		var upn, owner string
		var tenantN, userN int
		var ownerExp int64
		err := tx.StmtContext(ctx, db.stmts.admit).QueryRowContext(ctx, nowMS, r.ShellID, r.UserID, r.TenantID).
			Scan(&upn, &tenantN, &userN, &owner, &ownerExp)
		if err != nil {
			return wrap(fmt.Sprintf("acquire lease: user %d of tenant %d", r.UserID, r.TenantID), err)
		}
		if owner != "" && ownerExp > nowMS {
			if owner != r.NodeID {
				return fmt.Errorf("sqlite: acquire lease: shell %s is held by node %s: %w", r.ShellID, owner, store.ErrConflict)
			}
			out, err = scanLease(tx.QueryRowContext(ctx, leaseSelect+`WHERE l.shell_id = ?`, r.ShellID))
			return wrap("acquire lease: read existing", err)
		}
		if r.MaxPerUser > 0 && userN >= r.MaxPerUser {
			return db.quotaError(ctx, tx, store.QuotaScopeUser, r.MaxPerUser, userN,
				`WHERE l.tenant_id = ? AND l.user_id = ? AND l.expires_at > ? ORDER BY l.opened_at, l.shell_id`,
				r.TenantID, r.UserID, nowMS)
		}
		if r.MaxPerTenant > 0 && tenantN >= r.MaxPerTenant {
			return db.quotaError(ctx, tx, store.QuotaScopeTenant, r.MaxPerTenant, tenantN,
				`WHERE l.tenant_id = ? AND l.expires_at > ? ORDER BY l.opened_at, l.shell_id`,
				r.TenantID, nowMS)
		}
		out = store.Lease{
			ShellID: r.ShellID, TenantID: r.TenantID, UserID: r.UserID, UPN: upn, NodeID: r.NodeID,
			Kind: r.Kind, State: store.StateConnected, Name: r.Name, ClientAddr: r.ClientAddr, UserAgent: r.UserAgent,
			OpenedAt: fromMS(nowMS), LastActiveAt: fromMS(nowMS), ExpiresAt: fromMS(ms(now.Add(r.TTL))),
		}
		if _, err := tx.StmtContext(ctx, db.stmts.insertLease).ExecContext(ctx,
			out.ShellID, out.TenantID, out.UserID, out.NodeID, out.Kind, out.State, out.Name,
			out.ClientAddr, out.UserAgent, nowMS, nowMS, ms(out.ExpiresAt)); err != nil {
			return wrap("acquire lease: insert", err)
		}
		_, err = tx.StmtContext(ctx, db.stmts.insertCreation).ExecContext(ctx, r.TenantID, r.UserID, nowMS)
		return wrap("acquire lease: log creation", err)
	})
	if err != nil {
		return store.Lease{}, err
	}
	return out, nil
}

func (db *DB) quotaError(ctx context.Context, tx *sql.Tx, scope string, limit, count int, clause string, args ...any) error {
	holders, err := queryLeases(ctx, tx, clause, args...)
	if err != nil {
		return wrap("acquire lease: list holders", err)
	}
	return &store.QuotaError{Scope: scope, Limit: limit, Count: count, Holders: holders}
}

// ReleaseLease implements store.Leases.
func (db *DB) ReleaseLease(ctx context.Context, shellID, nodeID string) error {
	res, err := db.stmts.release.ExecContext(ctx, shellID, nodeID)
	if err != nil {
		return wrap("release lease", err)
	}
	return affected(res, "release lease "+shellID)
}

// affected returns ErrNotFound when res changed no row.
func affected(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(what, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: %s: %w", what, store.ErrNotFound)
	}
	return nil
}

// UpdateLease implements store.Leases.
func (db *DB) UpdateLease(ctx context.Context, shellID, state string, lastActive time.Time) error {
	n, err := db.UpdateLeases(ctx, []store.LeaseActivity{{ShellID: shellID, State: state, LastActive: lastActive}})
	if err == nil && n == 0 {
		err = fmt.Errorf("sqlite: update lease %s: %w", shellID, store.ErrNotFound)
	}
	return err
}

// UpdateLeases implements store.Leases: one transaction, one prepared
// statement.
func (db *DB) UpdateLeases(ctx context.Context, acts []store.LeaseActivity) (int, error) {
	if err := store.CheckActivities(acts); err != nil {
		return 0, fmt.Errorf("sqlite: update leases: %w", err)
	}
	if len(acts) == 0 {
		return 0, nil
	}
	var found int
	err := db.write(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `UPDATE shell_leases SET state = ?, last_active_at = ? WHERE shell_id = ?`)
		if err != nil {
			return wrap("update leases", err)
		}
		defer st.Close()
		for _, a := range acts {
			res, err := st.ExecContext(ctx, a.State, ms(db.clock(a.LastActive)), a.ShellID)
			if err != nil {
				return wrap("update lease "+a.ShellID, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return wrap("update lease "+a.ShellID, err)
			}
			found += int(n)
		}
		return nil
	})
	return found, err
}

// Leases implements store.Leases.
func (db *DB) Leases(ctx context.Context, f store.LeaseFilter) ([]store.Lease, error) {
	where := []string{"l.expires_at > ?"}
	args := []any{ms(db.clock(f.Now))}
	if f.TenantID != 0 {
		where, args = append(where, "l.tenant_id = ?"), append(args, f.TenantID)
	}
	if f.UserID != 0 {
		where, args = append(where, "l.user_id = ?"), append(args, f.UserID)
	}
	if f.NodeID != "" {
		where, args = append(where, "l.node_id = ?"), append(args, f.NodeID)
	}
	ls, err := queryLeases(ctx, db.r, "WHERE "+strings.Join(where, " AND ")+" ORDER BY l.opened_at, l.shell_id", args...)
	return ls, wrap("list leases", err)
}

// Lease implements store.Leases.
func (db *DB) Lease(ctx context.Context, shellID string) (store.Lease, error) {
	l, err := scanLease(db.r.QueryRowContext(ctx, leaseSelect+`WHERE l.shell_id = ? AND l.expires_at > ?`,
		shellID, ms(db.now())))
	if err != nil {
		return store.Lease{}, wrap("lease "+shellID, err)
	}
	return l, nil
}

// SweepExpired implements store.Leases.
func (db *DB) SweepExpired(ctx context.Context, now time.Time, limit int) ([]store.Lease, error) {
	if limit <= 0 {
		limit = 1000
	}
	nowMS := ms(db.clock(now))
	var out []store.Lease
	err := db.write(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = queryLeases(ctx, tx, `WHERE l.expires_at <= ? ORDER BY l.expires_at, l.shell_id LIMIT ?`, nowMS, limit)
		if err != nil {
			return wrap("sweep: list expired", err)
		}
		if err := deleteLeases(ctx, tx, out); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM shell_creations WHERE created_at <= ?`,
			nowMS-creationLogRetention.Milliseconds()); err != nil {
			return wrap("sweep: trim creation log", err)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM gateway_nodes WHERE expires_at <= ?
			AND NOT EXISTS (SELECT 1 FROM shell_leases l WHERE l.node_id = gateway_nodes.node_id)`, nowMS)
		return wrap("sweep: remove dead nodes", err)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// deleteLeases deletes the given leases by shell ID.
func deleteLeases(ctx context.Context, tx *sql.Tx, ls []store.Lease) error {
	if len(ls) == 0 {
		return nil
	}
	ids := make([]string, len(ls))
	for i, l := range ls {
		ids[i] = l.ShellID
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("sqlite: delete leases: %w", err)
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM shell_leases WHERE shell_id IN (SELECT value FROM json_each(?))`, string(b))
	return wrap("delete leases", err)
}

// CountCreations implements store.Leases.
func (db *DB) CountCreations(ctx context.Context, tenantID psgate.TenantID, userID psgate.UserID, window time.Duration, now time.Time) (int, error) {
	since := ms(db.clock(now).Add(-window))
	var n int
	// Two statements, not one with (?2 = 0 OR user_id = ?2): the OR keeps
	// SQLite from using the (tenant_id, user_id, created_at) index, which
	// made every admission scan the tenant's whole creation log.
	var err error
	if userID == 0 {
		err = db.r.QueryRowContext(ctx, `SELECT count(*) FROM shell_creations
			WHERE tenant_id = ?1 AND created_at > ?2`, tenantID, since).Scan(&n)
	} else {
		err = db.r.QueryRowContext(ctx, `SELECT count(*) FROM shell_creations
			WHERE tenant_id = ?1 AND user_id = ?2 AND created_at > ?3`, tenantID, userID, since).Scan(&n)
	}
	return n, wrap("count creations", err)
}

// stmts are the writer's prepared hot-path statements.
type stmts struct {
	admit, insertLease, insertCreation, release *sql.Stmt
}

func (s *stmts) prepare(ctx context.Context, w *sql.DB) error {
	for _, p := range []struct {
		dst  **sql.Stmt
		text string
	}{
		// One read for everything admission needs: the user (which must
		// belong to the tenant), both live counts, and any row already
		// holding the shell ID.
		{&s.admit, `SELECT u.upn,
			(SELECT count(*) FROM shell_leases WHERE tenant_id = u.tenant_id AND expires_at > ?1),
			(SELECT count(*) FROM shell_leases WHERE tenant_id = u.tenant_id AND user_id = u.id AND expires_at > ?1),
			coalesce((SELECT node_id FROM shell_leases WHERE shell_id = ?2), ''),
			coalesce((SELECT expires_at FROM shell_leases WHERE shell_id = ?2), 0)
			FROM users u WHERE u.id = ?3 AND u.tenant_id = ?4`},
		// A conflicting row is known to be expired here, so it is replaced.
		{&s.insertLease, `INSERT OR REPLACE INTO shell_leases (shell_id, tenant_id, user_id, node_id, kind, state, name,
			client_addr, user_agent, opened_at, last_active_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&s.insertCreation, `INSERT INTO shell_creations (tenant_id, user_id, created_at) VALUES (?, ?, ?)`},
		{&s.release, `DELETE FROM shell_leases WHERE shell_id = ?1 AND (?2 = '' OR node_id = ?2)`},
	} {
		st, err := w.PrepareContext(ctx, p.text)
		if err != nil {
			s.close()
			return wrap("prepare", err)
		}
		*p.dst = st
	}
	return nil
}

func (s *stmts) close() {
	for _, st := range []*sql.Stmt{s.admit, s.insertLease, s.insertCreation, s.release} {
		if st != nil {
			_ = st.Close()
		}
	}
}

// TransferLease implements store.Leases.
func (db *DB) TransferLease(ctx context.Context, shellID, fromNode, toNode string, ttl time.Duration, now time.Time) (store.Lease, error) {
	if shellID == "" || fromNode == "" || toNode == "" || ttl <= 0 {
		return store.Lease{}, fmt.Errorf("sqlite: transfer lease: shell, nodes and ttl are required: %w", store.ErrInvalid)
	}
	t := db.clock(now)
	nowMS := ms(t)
	var out store.Lease
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE shell_leases SET node_id = ?1, expires_at = ?2
			WHERE shell_id = ?3 AND node_id IN (?4, ?1) AND expires_at > ?5
			AND EXISTS (SELECT 1 FROM gateway_nodes WHERE node_id = ?1 AND expires_at > ?5)`,
			toNode, ms(t.Add(ttl)), shellID, fromNode, nowMS)
		if err != nil {
			return wrap("transfer lease "+shellID, err)
		}
		if err := affected(res, fmt.Sprintf("transfer lease %s from %s to %s", shellID, fromNode, toNode)); err != nil {
			return err
		}
		out, err = scanLease(tx.QueryRowContext(ctx, leaseSelect+`WHERE l.shell_id = ?`, shellID))
		return wrap("transfer lease: read back", err)
	})
	if err != nil {
		return store.Lease{}, err
	}
	return out, nil
}

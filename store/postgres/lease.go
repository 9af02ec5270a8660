package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// creationLogRetention is how long the sweeper keeps shell_creations rows;
// CountCreations windows longer than this undercount.
const creationLogRetention = time.Hour

const (
	leaseCols = `l.shell_id, l.tenant_id, l.user_id, coalesce(u.upn, ''), l.node_id, l.kind, l.state, l.name,
	l.client_addr, l.user_agent, l.opened_at, l.last_active_at, l.expires_at`
	leaseSelect = `SELECT ` + leaseCols + ` FROM shell_leases l LEFT JOIN users u ON u.id = l.user_id `
)

func scanLease(row pgx.Row) (store.Lease, error) {
	var l store.Lease
	err := row.Scan(&l.ShellID, &l.TenantID, &l.UserID, &l.UPN, &l.NodeID, &l.Kind, &l.State, &l.Name,
		&l.ClientAddr, &l.UserAgent, &l.OpenedAt, &l.LastActiveAt, &l.ExpiresAt)
	l.OpenedAt, l.LastActiveAt, l.ExpiresAt = l.OpenedAt.UTC(), l.LastActiveAt.UTC(), l.ExpiresAt.UTC()
	return l, err
}

func collectLeases(rows pgx.Rows, err error) ([]store.Lease, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Lease, error) { return scanLease(r) })
}

func validateLeaseRequest(r store.LeaseRequest) error {
	switch {
	case r.ShellID == "", r.NodeID == "", r.TenantID == 0, r.UserID == 0:
		return fmt.Errorf("postgres: acquire lease: shell, node, tenant and user are required: %w", store.ErrInvalid)
	case r.Kind != store.KindWinRS && r.Kind != store.KindPSRP:
		return fmt.Errorf("postgres: acquire lease: kind %q: %w", r.Kind, store.ErrInvalid)
	case r.TTL <= 0:
		return fmt.Errorf("postgres: acquire lease: ttl %v: %w", r.TTL, store.ErrInvalid)
	}
	return nil
}

// admitSQL inserts the lease only when both live counts are under their
// limits, replacing an expired row with the same shell ID, and logs the
// creation. It runs after the tenant's advisory lock was granted, in a
// separate statement, so its snapshot includes every earlier admission.
const admitSQL = `WITH clock AS (SELECT now() + $12::bigint * interval '1 microsecond' AS t),
ins AS (
	INSERT INTO shell_leases AS l (shell_id, tenant_id, user_id, node_id, kind, state, name, client_addr, user_agent,
		opened_at, last_active_at, expires_at)
	SELECT $1, $2, $3, $4, $5, 'connected', $6, $7, $8, c.t, c.t, c.t + $9::bigint * interval '1 microsecond'
	FROM clock c
	WHERE EXISTS (SELECT 1 FROM users WHERE id = $3 AND tenant_id = $2)
	  AND ($10::int <= 0 OR (SELECT count(*) FROM shell_leases
		WHERE tenant_id = $2 AND user_id = $3 AND expires_at > c.t) < $10::int)
	  AND ($11::int <= 0 OR (SELECT count(*) FROM shell_leases
		WHERE tenant_id = $2 AND expires_at > c.t) < $11::int)
	ON CONFLICT (shell_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, user_id = EXCLUDED.user_id,
		node_id = EXCLUDED.node_id, kind = EXCLUDED.kind, state = EXCLUDED.state, name = EXCLUDED.name,
		client_addr = EXCLUDED.client_addr, user_agent = EXCLUDED.user_agent, opened_at = EXCLUDED.opened_at,
		last_active_at = EXCLUDED.last_active_at, expires_at = EXCLUDED.expires_at
	WHERE l.expires_at <= EXCLUDED.opened_at
	RETURNING l.tenant_id, l.user_id, l.opened_at, l.expires_at
), logged AS (
	INSERT INTO shell_creations (tenant_id, user_id, created_at) SELECT tenant_id, user_id, opened_at FROM ins
)
SELECT ins.opened_at, ins.expires_at, u.upn FROM ins JOIN users u ON u.id = ins.user_id`

// AcquireLease implements store.Leases.
func (db *DB) AcquireLease(ctx context.Context, r store.LeaseRequest) (store.Lease, error) {
	if err := validateLeaseRequest(r); err != nil {
		return store.Lease{}, err
	}
	var out store.Lease
	err := db.do(ctx, op{name: "acquire lease " + r.ShellID, idempotent: true}, func(c *pgx.Conn) error {
		// A refusal is explained by a lock-free read. If that read finds
		// room after all (a lease was released meanwhile), try again.
		for range 3 {
			admitted, err := db.admit(ctx, c, r, &out)
			if err != nil || admitted {
				return err
			}
			if done, err := db.explain(ctx, c, r, &out); done {
				return err
			}
		}
		return errors.New("admission state kept changing")
	})
	return out, err
}

// admit runs the advisory lock and the conditional insert as one batch:
// one round trip, one implicit transaction.
func (db *DB) admit(ctx context.Context, c *pgx.Conn, r store.LeaseRequest, out *store.Lease) (bool, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock($1, $2)`, lockClassAdmission, int32(r.TenantID))
	b.Queue(admitSQL, r.ShellID, r.TenantID, r.UserID, r.NodeID, r.Kind, r.Name, r.ClientAddr, r.UserAgent,
		micros(r.TTL), r.MaxPerUser, r.MaxPerTenant, db.offsetMicros())
	br := c.SendBatch(ctx, b)
	_, err := br.Exec()
	var opened, expires time.Time
	var upn string
	if err == nil {
		err = br.QueryRow().Scan(&opened, &expires, &upn)
	}
	// Close reports the commit; it matters most when the insert worked.
	cerr := br.Close()
	switch {
	case err == nil:
		err = cerr
	case errors.Is(err, pgx.ErrNoRows) && cerr != nil:
		err = cerr
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	*out = store.Lease{
		ShellID: r.ShellID, TenantID: r.TenantID, UserID: r.UserID, UPN: upn, NodeID: r.NodeID, Kind: r.Kind,
		State: store.StateConnected, Name: r.Name, ClientAddr: r.ClientAddr, UserAgent: r.UserAgent,
		OpenedAt: opened.UTC(), LastActiveAt: opened.UTC(), ExpiresAt: expires.UTC(),
	}
	return true, nil
}

// explain finds out why admit inserted nothing. done is false when nothing
// stands in the way any more.
func (db *DB) explain(ctx context.Context, c *pgx.Conn, r store.LeaseRequest, out *store.Lease) (done bool, err error) {
	var member bool
	if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND tenant_id = $2)`,
		r.UserID, r.TenantID).Scan(&member); err != nil {
		return true, err
	}
	if !member {
		return true, fmt.Errorf("user %d of tenant %d: %w", r.UserID, r.TenantID, store.ErrNotFound)
	}
	existing, err := scanLease(c.QueryRow(ctx, leaseSelect+`WHERE l.shell_id = $1
		AND l.expires_at > now() + $2::bigint * interval '1 microsecond'`, r.ShellID, db.offsetMicros()))
	switch {
	case err == nil && existing.NodeID == r.NodeID:
		*out = existing // a retry of an admission that had committed
		return true, nil
	case err == nil:
		return true, fmt.Errorf("shell %s is held by node %s: %w", r.ShellID, existing.NodeID, store.ErrConflict)
	case !errors.Is(err, pgx.ErrNoRows):
		return true, err
	}
	holders, err := collectLeases(c.Query(ctx, leaseSelect+`WHERE l.tenant_id = $1
		AND l.expires_at > now() + $2::bigint * interval '1 microsecond' ORDER BY l.opened_at, l.shell_id`,
		r.TenantID, db.offsetMicros()))
	if err != nil {
		return true, err
	}
	var mine []store.Lease
	for _, h := range holders {
		if h.UserID == r.UserID {
			mine = append(mine, h)
		}
	}
	switch {
	case r.MaxPerUser > 0 && len(mine) >= r.MaxPerUser:
		return true, &store.QuotaError{Scope: store.QuotaScopeUser, Limit: r.MaxPerUser, Count: len(mine), Holders: mine}
	case r.MaxPerTenant > 0 && len(holders) >= r.MaxPerTenant:
		return true, &store.QuotaError{Scope: store.QuotaScopeTenant, Limit: r.MaxPerTenant, Count: len(holders), Holders: holders}
	}
	return false, nil
}

// ReleaseLease implements store.Leases.
func (db *DB) ReleaseLease(ctx context.Context, shellID, nodeID string) error {
	return db.do(ctx, op{name: "release lease " + shellID, idempotent: true}, func(c *pgx.Conn) error {
		return affected(c.Exec(ctx, `DELETE FROM shell_leases WHERE shell_id = $1 AND ($2 = '' OR node_id = $2)`,
			shellID, nodeID))
	})
}

// UpdateLease implements store.Leases.
func (db *DB) UpdateLease(ctx context.Context, shellID, state string, lastActive time.Time) error {
	n, err := db.UpdateLeases(ctx, []store.LeaseActivity{{ShellID: shellID, State: state, LastActive: lastActive}})
	if err == nil && n == 0 {
		err = fmt.Errorf("postgres: update lease %s: %w", shellID, store.ErrNotFound)
	}
	return err
}

// UpdateLeases implements store.Leases: one statement over arrays, so a
// node reports the activity of thousands of shells in one round trip.
func (db *DB) UpdateLeases(ctx context.Context, acts []store.LeaseActivity) (int, error) {
	if err := store.CheckActivities(acts); err != nil {
		return 0, fmt.Errorf("postgres: update leases: %w", err)
	}
	if len(acts) == 0 {
		return 0, nil
	}
	ids := make([]string, len(acts))
	states := make([]string, len(acts))
	times := make([]time.Time, len(acts))
	for i, a := range acts {
		ids[i], states[i], times[i] = a.ShellID, a.State, db.clock(a.LastActive)
	}
	var found int
	err := db.do(ctx, op{name: "update leases", idempotent: true}, func(c *pgx.Conn) error {
		tag, err := c.Exec(ctx, `UPDATE shell_leases l SET state = u.state, last_active_at = u.at
			FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS u(id, state, at)
			WHERE l.shell_id = u.id`, ids, states, times)
		found = int(tag.RowsAffected())
		return err
	})
	return found, err
}

// Leases implements store.Leases.
func (db *DB) Leases(ctx context.Context, f store.LeaseFilter) ([]store.Lease, error) {
	where := []string{"l.expires_at > now() + $1::bigint * interval '1 microsecond'"}
	args := []any{db.offsetMicros()}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.TenantID != 0 {
		add("l.tenant_id = $%d", f.TenantID)
	}
	if f.UserID != 0 {
		add("l.user_id = $%d", f.UserID)
	}
	if f.NodeID != "" {
		add("l.node_id = $%d", f.NodeID)
	}
	q := leaseSelect + "WHERE " + strings.Join(where, " AND ") + " ORDER BY l.opened_at, l.shell_id"
	var out []store.Lease
	err := db.do(ctx, op{name: "list leases", idempotent: true}, func(c *pgx.Conn) error {
		var err error
		out, err = collectLeases(c.Query(ctx, q, args...))
		return err
	})
	return out, err
}

// Lease implements store.Leases.
func (db *DB) Lease(ctx context.Context, shellID string) (store.Lease, error) {
	var out store.Lease
	err := db.do(ctx, op{name: "lease " + shellID, idempotent: true}, func(c *pgx.Conn) error {
		var err error
		out, err = scanLease(c.QueryRow(ctx, leaseSelect+`WHERE l.shell_id = $1
			AND l.expires_at > now() + $2::bigint * interval '1 microsecond'`, shellID, db.offsetMicros()))
		return err
	})
	return out, err
}

// SweepExpired implements store.Leases. Concurrent sweepers skip each
// other's rows (FOR UPDATE SKIP LOCKED), so each lease is reported once.
func (db *DB) SweepExpired(ctx context.Context, _ time.Time, limit int) ([]store.Lease, error) {
	if limit <= 0 {
		limit = 1000
	}
	var out []store.Lease
	err := db.tx(ctx, op{name: "sweep expired leases", idempotent: true}, func(tx pgx.Tx) error {
		var err error
		out, err = collectLeases(tx.Query(ctx, `WITH gone AS (
			DELETE FROM shell_leases WHERE shell_id IN (
				SELECT shell_id FROM shell_leases
				WHERE expires_at <= now() + $1::bigint * interval '1 microsecond'
				ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
			RETURNING *)
			SELECT `+leaseCols+` FROM gone l LEFT JOIN users u ON u.id = l.user_id
			ORDER BY l.expires_at, l.shell_id`, db.offsetMicros(), limit))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM shell_creations
			WHERE created_at <= now() + $1::bigint * interval '1 microsecond'`,
			db.offsetMicros()-micros(creationLogRetention)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM gateway_nodes n
			WHERE expires_at <= now() + $1::bigint * interval '1 microsecond'
			AND NOT EXISTS (SELECT 1 FROM shell_leases l WHERE l.node_id = n.node_id)`, db.offsetMicros())
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CountCreations implements store.Leases.
func (db *DB) CountCreations(ctx context.Context, tenantID psgate.TenantID, userID psgate.UserID, window time.Duration, _ time.Time) (int, error) {
	var n int
	since := db.offsetMicros() - micros(window)
	// Two statements rather than one with "$2 = 0 OR user_id = $2": each
	// gets a cached generic plan on its own index, where the combined one
	// was planned afresh on every admission.
	err := db.do(ctx, op{name: "count creations", idempotent: true}, func(c *pgx.Conn) error {
		if userID == 0 {
			return c.QueryRow(ctx, `SELECT count(*) FROM shell_creations
				WHERE tenant_id = $1 AND created_at > now() + $2::bigint * interval '1 microsecond'`,
				tenantID, since).Scan(&n)
		}
		return c.QueryRow(ctx, `SELECT count(*) FROM shell_creations
			WHERE tenant_id = $1 AND user_id = $2 AND created_at > now() + $3::bigint * interval '1 microsecond'`,
			tenantID, userID, since).Scan(&n)
	})
	return n, err
}

// TransferLease implements store.Leases. The database clock decides
// liveness, as everywhere else.
func (db *DB) TransferLease(ctx context.Context, shellID, fromNode, toNode string, ttl time.Duration, _ time.Time) (store.Lease, error) {
	if shellID == "" || fromNode == "" || toNode == "" || ttl <= 0 {
		return store.Lease{}, fmt.Errorf("postgres: transfer lease: shell, nodes and ttl are required: %w", store.ErrInvalid)
	}
	var out store.Lease
	// Idempotent: a retry after a lost commit finds the lease on toNode
	// and moves it "again", which changes nothing but the expiry.
	err := db.do(ctx, op{name: fmt.Sprintf("transfer lease %s from %s to %s", shellID, fromNode, toNode), idempotent: true},
		func(c *pgx.Conn) error {
			var err error
			out, err = scanLease(c.QueryRow(ctx, `WITH clock AS (SELECT now() + $5::bigint * interval '1 microsecond' AS t),
			moved AS (
				UPDATE shell_leases l SET node_id = $3, expires_at = c.t + $4::bigint * interval '1 microsecond'
				FROM clock c
				WHERE l.shell_id = $1 AND l.node_id IN ($2, $3) AND l.expires_at > c.t
				AND EXISTS (SELECT 1 FROM gateway_nodes n WHERE n.node_id = $3 AND n.expires_at > c.t)
				RETURNING l.*)
			SELECT `+leaseCols+` FROM moved l LEFT JOIN users u ON u.id = l.user_id`,
				shellID, fromNode, toNode, micros(ttl), db.offsetMicros()))
			return err
		})
	return out, err
}

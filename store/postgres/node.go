package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/psgate/psgate/store"
)

const nodeSelect = `SELECT node_id, node_name, internal_url, started_at, expires_at, draining FROM gateway_nodes `

func scanNode(row pgx.Row) (store.Node, error) {
	var n store.Node
	err := row.Scan(&n.ID, &n.Name, &n.InternalURL, &n.StartedAt, &n.ExpiresAt, &n.Draining)
	n.StartedAt, n.ExpiresAt = n.StartedAt.UTC(), n.ExpiresAt.UTC()
	return n, err
}

// RegisterNode implements store.Nodes. StartedAt is the database clock.
func (db *DB) RegisterNode(ctx context.Context, n store.Node, ttl time.Duration) ([]store.Lease, error) {
	if n.ID == "" || n.Name == "" || ttl <= 0 {
		return nil, fmt.Errorf("postgres: register node: id, name and ttl are required: %w", store.ErrInvalid)
	}
	var reclaimed []store.Lease
	err := db.tx(ctx, op{name: "register node " + n.Name, idempotent: true}, func(tx pgx.Tx) error {
		// Leases of earlier incarnations under the same name, and any left
		// over under this ID, belong to shells that no longer exist.
		var err error
		reclaimed, err = collectLeases(tx.Query(ctx, `WITH gone AS (
			DELETE FROM shell_leases
			WHERE node_id IN (SELECT node_id FROM gateway_nodes WHERE node_name = $1) OR node_id = $2
			RETURNING *)
			SELECT `+leaseCols+` FROM gone l LEFT JOIN users u ON u.id = l.user_id
			ORDER BY l.opened_at, l.shell_id`, n.Name, n.ID))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM gateway_nodes WHERE node_name = $1 OR node_id = $2`, n.Name, n.ID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO gateway_nodes (node_id, node_name, internal_url, started_at, expires_at, draining)
			SELECT $1, $2, $3, c.t, c.t + $4::bigint * interval '1 microsecond', $5
			FROM (SELECT now() + $6::bigint * interval '1 microsecond' AS t) c`,
			n.ID, n.Name, n.InternalURL, micros(ttl), n.Draining, db.offsetMicros())
		return err
	})
	if err != nil {
		return nil, err
	}
	return reclaimed, nil
}

// RenewNode implements store.Nodes.
func (db *DB) RenewNode(ctx context.Context, nodeID string, live []string, ttl time.Duration, _ time.Time) (store.RenewResult, error) {
	if live == nil {
		live = []string{}
	}
	var res store.RenewResult
	err := db.tx(ctx, op{name: "renew node " + nodeID, idempotent: true}, func(tx pgx.Tx) error {
		res = store.RenewResult{}
		err := tx.QueryRow(ctx, `UPDATE gateway_nodes
			SET expires_at = now() + $2::bigint * interval '1 microsecond' WHERE node_id = $1 RETURNING draining`,
			nodeID, db.offsetMicros()+micros(ttl)).Scan(&res.Draining)
		if errors.Is(err, pgx.ErrNoRows) {
			res.Lost = append([]string(nil), live...)
			return nil
		}
		if err != nil {
			return err
		}
		res.NodeFound = true
		rows, err := tx.Query(ctx, `UPDATE shell_leases SET expires_at = now() + $3::bigint * interval '1 microsecond'
			WHERE node_id = $1 AND shell_id = ANY($2)
			AND expires_at > now() + $4::bigint * interval '1 microsecond'
			RETURNING shell_id`, nodeID, live, db.offsetMicros()+micros(ttl), db.offsetMicros())
		if err != nil {
			return err
		}
		renewed, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		got := make(map[string]bool, len(renewed))
		for _, id := range renewed {
			got[id] = true
		}
		for _, id := range live {
			if !got[id] {
				res.Lost = append(res.Lost, id)
			}
		}
		return nil
	})
	if err != nil {
		return store.RenewResult{}, err
	}
	if len(res.Lost) == 0 {
		res.Lost = nil
	}
	return res, nil
}

// Node implements store.Nodes.
func (db *DB) Node(ctx context.Context, nodeID string) (store.Node, error) {
	var n store.Node
	err := db.do(ctx, op{name: "node " + nodeID, idempotent: true}, func(c *pgx.Conn) error {
		var err error
		n, err = scanNode(c.QueryRow(ctx, nodeSelect+`WHERE node_id = $1`, nodeID))
		return err
	})
	return n, err
}

// ListNodes implements store.Nodes.
func (db *DB) ListNodes(ctx context.Context, _ time.Time) ([]store.Node, error) {
	var out []store.Node
	err := db.do(ctx, op{name: "list nodes", idempotent: true}, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, nodeSelect+`WHERE expires_at > now() + $1::bigint * interval '1 microsecond'
			ORDER BY node_name, node_id`, db.offsetMicros())
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Node, error) { return scanNode(r) })
		return err
	})
	return out, err
}

// SetDraining implements store.Nodes.
func (db *DB) SetDraining(ctx context.Context, nodeID string, draining bool) error {
	return db.do(ctx, op{name: "set draining on node " + nodeID, idempotent: true}, func(c *pgx.Conn) error {
		return affected(c.Exec(ctx, `UPDATE gateway_nodes SET draining = $1 WHERE node_id = $2`, draining, nodeID))
	})
}

// DeregisterNode implements store.Nodes.
func (db *DB) DeregisterNode(ctx context.Context, nodeID string) ([]store.Lease, error) {
	var out []store.Lease
	err := db.tx(ctx, op{name: "deregister node " + nodeID}, func(tx pgx.Tx) error {
		var err error
		out, err = collectLeases(tx.Query(ctx, `WITH gone AS (DELETE FROM shell_leases WHERE node_id = $1 RETURNING *)
			SELECT `+leaseCols+` FROM gone l LEFT JOIN users u ON u.id = l.user_id ORDER BY l.opened_at, l.shell_id`, nodeID))
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM gateway_nodes WHERE node_id = $1`, nodeID)
		if err != nil || len(out) > 0 {
			return err
		}
		return affected(tag, nil)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

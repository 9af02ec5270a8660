package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/psgate/psgate/store"
)

const nodeSelect = `SELECT node_id, node_name, internal_url, started_at, expires_at, draining FROM gateway_nodes `

func scanNode(s scanner) (store.Node, error) {
	var n store.Node
	var started, expires int64
	err := s.Scan(&n.ID, &n.Name, &n.InternalURL, &started, &expires, &n.Draining)
	n.StartedAt, n.ExpiresAt = fromMS(started), fromMS(expires)
	return n, err
}

// RegisterNode implements store.Nodes.
func (db *DB) RegisterNode(ctx context.Context, n store.Node, ttl time.Duration) ([]store.Lease, error) {
	if n.ID == "" || n.Name == "" || ttl <= 0 {
		return nil, fmt.Errorf("sqlite: register node: id, name and ttl are required: %w", store.ErrInvalid)
	}
	now := db.clock(n.StartedAt)
	var reclaimed []store.Lease
	err := db.write(ctx, func(tx *sql.Tx) error {
		// Leases of earlier incarnations under the same name, and any left
		// over under this ID, belong to shells that no longer exist.
		const stale = `node_id IN (SELECT node_id FROM gateway_nodes WHERE node_name = ?1) OR node_id = ?2`
		var err error
		reclaimed, err = queryLeases(ctx, tx, `WHERE l.`+stale+` ORDER BY l.opened_at, l.shell_id`, n.Name, n.ID)
		if err != nil {
			return wrap("register node: list stale leases", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM shell_leases WHERE `+stale, n.Name, n.ID); err != nil {
			return wrap("register node: delete stale leases", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM gateway_nodes WHERE node_name = ? OR node_id = ?`, n.Name, n.ID); err != nil {
			return wrap("register node: delete earlier incarnations", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO gateway_nodes (node_id, node_name, internal_url, started_at, expires_at, draining)
			VALUES (?, ?, ?, ?, ?, ?)`, n.ID, n.Name, n.InternalURL, ms(now), ms(now.Add(ttl)), boolInt(n.Draining))
		return wrap("register node", err)
	})
	if err != nil {
		return nil, err
	}
	return reclaimed, nil
}

// RenewNode implements store.Nodes.
func (db *DB) RenewNode(ctx context.Context, nodeID string, live []string, ttl time.Duration, now time.Time) (store.RenewResult, error) {
	t := db.clock(now)
	nowMS, expMS := ms(t), ms(t.Add(ttl))
	ids, err := json.Marshal(live)
	if err != nil {
		return store.RenewResult{}, fmt.Errorf("sqlite: renew node: %w", err)
	}
	var res store.RenewResult
	err = db.write(ctx, func(tx *sql.Tx) error {
		res = store.RenewResult{}
		err := tx.QueryRowContext(ctx, `UPDATE gateway_nodes SET expires_at = ? WHERE node_id = ? RETURNING draining`,
			expMS, nodeID).Scan(&res.Draining)
		if errors.Is(err, sql.ErrNoRows) {
			res.Lost = append([]string(nil), live...)
			return nil
		}
		if err != nil {
			return wrap("renew node", err)
		}
		res.NodeFound = true
		rows, err := tx.QueryContext(ctx, `UPDATE shell_leases SET expires_at = ?
			WHERE node_id = ? AND expires_at > ? AND shell_id IN (SELECT value FROM json_each(?))
			RETURNING shell_id`, expMS, nodeID, nowMS, string(ids))
		if err != nil {
			return wrap("renew leases", err)
		}
		defer rows.Close()
		renewed := make(map[string]bool, len(live))
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return wrap("renew leases", err)
			}
			renewed[id] = true
		}
		if err := rows.Err(); err != nil {
			return wrap("renew leases", err)
		}
		for _, id := range live {
			if !renewed[id] {
				res.Lost = append(res.Lost, id)
			}
		}
		return nil
	})
	if err != nil {
		return store.RenewResult{}, err
	}
	return res, nil
}

// Node implements store.Nodes.
func (db *DB) Node(ctx context.Context, nodeID string) (store.Node, error) {
	n, err := scanNode(db.r.QueryRowContext(ctx, nodeSelect+`WHERE node_id = ?`, nodeID))
	if err != nil {
		return store.Node{}, wrap("node "+nodeID, err)
	}
	return n, nil
}

// ListNodes implements store.Nodes.
func (db *DB) ListNodes(ctx context.Context, now time.Time) ([]store.Node, error) {
	rows, err := db.r.QueryContext(ctx, nodeSelect+`WHERE expires_at > ? ORDER BY node_name, node_id`, ms(db.clock(now)))
	if err != nil {
		return nil, wrap("list nodes", err)
	}
	defer rows.Close()
	var out []store.Node
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, wrap("list nodes", err)
		}
		out = append(out, n)
	}
	return out, wrap("list nodes", rows.Err())
}

// SetDraining implements store.Nodes.
func (db *DB) SetDraining(ctx context.Context, nodeID string, draining bool) error {
	res, err := db.w.ExecContext(ctx, `UPDATE gateway_nodes SET draining = ? WHERE node_id = ?`, boolInt(draining), nodeID)
	if err != nil {
		return wrap("set draining", err)
	}
	return affected(res, "set draining on node "+nodeID)
}

// DeregisterNode implements store.Nodes.
func (db *DB) DeregisterNode(ctx context.Context, nodeID string) ([]store.Lease, error) {
	var out []store.Lease
	err := db.write(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = queryLeases(ctx, tx, `WHERE l.node_id = ? ORDER BY l.opened_at, l.shell_id`, nodeID)
		if err != nil {
			return wrap("deregister node: list leases", err)
		}
		if err := deleteLeases(ctx, tx, out); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM gateway_nodes WHERE node_id = ?`, nodeID)
		if err != nil {
			return wrap("deregister node", err)
		}
		if len(out) > 0 {
			return nil
		}
		return affected(res, "deregister node "+nodeID)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/internal/codec"
)

// AppendAudit implements store.Audit. The record is committed (and, with
// the server's default synchronous_commit, flushed) before it returns.
func (db *DB) AppendAudit(ctx context.Context, r store.AuditRecord) (int64, error) {
	if r.Action == "" {
		return 0, fmt.Errorf("postgres: append audit: action is required: %w", store.ErrInvalid)
	}
	r = r.Bounded()
	var id int64
	err := db.do(ctx, op{name: "append audit"}, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `INSERT INTO audit_log (at, tenant_id, user_id, upn, action, shell_id, command_id,
			cmdlet, parameters, outcome, code, duration_ns, client_addr, detail)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
			db.clock(r.Time), r.TenantID, r.UserID, codec.Fold(r.UPN), r.Action, r.ShellID, r.CommandID, r.Cmdlet,
			r.Parameters, r.Outcome, r.Code, int64(r.Duration), r.ClientAddr, r.Detail).Scan(&id)
	})
	return id, err
}

// PurgeAudit implements store.Audit, in batches of 5000 rows.
func (db *DB) PurgeAudit(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := db.do(ctx, op{name: "purge audit"}, func(c *pgx.Conn) error {
			tag, err := c.Exec(ctx, `DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 LIMIT 5000)`, before)
			n = tag.RowsAffected()
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < 5000 {
			return total, nil
		}
	}
}

// SearchAudit implements store.Audit.
func (db *DB) SearchAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditRecord, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.TenantID != 0 {
		add("tenant_id = $%d", f.TenantID)
	}
	if f.UPN != "" {
		add("upn = $%d", codec.Fold(f.UPN))
	}
	if prefix, ok := strings.CutSuffix(f.Action, "*"); ok {
		add("starts_with(action, $%d)", prefix)
	} else if f.Action != "" {
		add("action = $%d", f.Action)
	}
	if f.ShellID != "" {
		add("shell_id = $%d", f.ShellID)
	}
	if !f.Since.IsZero() {
		add("at >= $%d", f.Since)
	}
	if !f.Until.IsZero() {
		add("at < $%d", f.Until)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	q := `SELECT id, at, tenant_id, user_id, upn, action, shell_id, command_id, cmdlet, parameters, outcome, code,
		duration_ns, client_addr, detail FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args))
	var out []store.AuditRecord
	err := db.do(ctx, op{name: "search audit", idempotent: true}, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.AuditRecord, error) {
			var r store.AuditRecord
			var dur int64
			err := row.Scan(&r.ID, &r.Time, &r.TenantID, &r.UserID, &r.UPN, &r.Action, &r.ShellID, &r.CommandID,
				&r.Cmdlet, &r.Parameters, &r.Outcome, &r.Code, &dur, &r.ClientAddr, &r.Detail)
			r.Time, r.Duration = r.Time.UTC(), time.Duration(dur)
			return r, err
		})
		return err
	})
	return out, err
}

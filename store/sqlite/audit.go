package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/internal/codec"
)

// AppendAudit implements store.Audit. The record is committed before it
// returns; see Options.SyncFull for power-loss durability.
func (db *DB) AppendAudit(ctx context.Context, r store.AuditRecord) (int64, error) {
	if r.Action == "" {
		return 0, fmt.Errorf("sqlite: append audit: action is required: %w", store.ErrInvalid)
	}
	r = r.Bounded()
	res, err := db.w.ExecContext(ctx, `INSERT INTO audit_log (at, tenant_id, user_id, upn, action, shell_id, command_id,
		cmdlet, parameters, outcome, code, duration_ns, client_addr, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ms(db.clock(r.Time)), r.TenantID, r.UserID, codec.Fold(r.UPN), r.Action, r.ShellID, r.CommandID, r.Cmdlet,
		r.Parameters, r.Outcome, r.Code, int64(r.Duration), r.ClientAddr, r.Detail)
	if err != nil {
		return 0, wrap("append audit", err)
	}
	id, err := res.LastInsertId()
	return id, wrap("append audit", err)
}

// PurgeAudit implements store.Audit. It deletes in batches, so that the
// single writer is never held for long.
func (db *DB) PurgeAudit(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		res, err := db.w.ExecContext(ctx, `DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? LIMIT 5000)`, ms(before))
		if err != nil {
			return total, wrap("purge audit", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, wrap("purge audit", err)
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
		where, args = append(where, cond), append(args, v)
	}
	if f.TenantID != 0 {
		add("tenant_id = ?", f.TenantID)
	}
	if f.UPN != "" {
		add("upn = ?", codec.Fold(f.UPN))
	}
	if prefix, ok := strings.CutSuffix(f.Action, "*"); ok {
		add("substr(action, 1, ?) = ?", len(prefix))
		args = append(args, prefix)
	} else if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.ShellID != "" {
		add("shell_id = ?", f.ShellID)
	}
	if !f.Since.IsZero() {
		add("at >= ?", ms(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", ms(f.Until))
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
	rows, err := db.r.QueryContext(ctx, q+" ORDER BY id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, wrap("search audit", err)
	}
	defer rows.Close()
	var out []store.AuditRecord
	for rows.Next() {
		var r store.AuditRecord
		var at, dur int64
		if err := rows.Scan(&r.ID, &at, &r.TenantID, &r.UserID, &r.UPN, &r.Action, &r.ShellID, &r.CommandID,
			&r.Cmdlet, &r.Parameters, &r.Outcome, &r.Code, &dur, &r.ClientAddr, &r.Detail); err != nil {
			return nil, wrap("search audit", err)
		}
		r.Time, r.Duration = fromMS(at), time.Duration(dur)
		out = append(out, r)
	}
	return out, wrap("search audit", rows.Err())
}

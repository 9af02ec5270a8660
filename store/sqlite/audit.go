package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/internal/codec"
	"github.com/psgate/psgate/store/internal/groupcommit"
)

// AppendAudit implements store.Audit. The record is committed before it
// returns; see Options.SyncFull for power-loss durability.
//
// Concurrent calls share transactions (auditLog). If ctx ends before the
// commit, AppendAudit returns ctx's error at once, but the record may still
// be written.
func (db *DB) AppendAudit(ctx context.Context, r store.AuditRecord) (int64, error) {
	r, err := codec.QueuedAudit(r, db.clock)
	if err != nil {
		return 0, fmt.Errorf("sqlite: append audit: %w", err)
	}
	id, err := db.audit.q.Write(ctx, r)
	if errors.Is(err, groupcommit.ErrClosed) {
		return 0, fmt.Errorf("sqlite: append audit: store is closed: %w", store.ErrUnavailable)
	}
	return id, wrap("append audit", err)
}

// AppendAudits implements store.AuditGenerations: AppendAudit for each
// record, queued together so that they share a commit, and the directory
// generation that commit read.
func (db *DB) AppendAudits(ctx context.Context, recs []store.AuditRecord) (ids []int64, gen int64, err error) {
	queued := make([]store.AuditRecord, len(recs))
	for i, r := range recs {
		if queued[i], err = codec.QueuedAudit(r, db.clock); err != nil {
			return nil, 0, fmt.Errorf("sqlite: append audit: %w", err)
		}
	}
	ids, gen, err = db.audit.q.WriteAll(ctx, queued)
	if errors.Is(err, groupcommit.ErrClosed) {
		return ids, 0, fmt.Errorf("sqlite: append audit: store is closed: %w", store.ErrUnavailable)
	}
	return ids, gen, wrap("append audit", err)
}

// CompleteAudit implements store.Audit, through the same transactions as
// AppendAudit.
func (db *DB) CompleteAudit(ctx context.Context, id int64, outcome, code string, dur time.Duration) error {
	return codec.CompleteAudit(ctx, db.audit.q, id, outcome, code, dur, "sqlite", db.wrapCompletion)
}

// CompleteAudits implements store.AuditCompletions: CompleteAudit for
// each record, queued together so that they share a commit.
func (db *DB) CompleteAudits(ctx context.Context, ids []int64, outcome, code string, dur time.Duration) []error {
	return codec.CompleteAudits(ctx, db.audit.q, ids, outcome, code, dur, "sqlite", db.wrapCompletion)
}

// wrapCompletion wraps the commit error of a completion.
func (db *DB) wrapCompletion(err error) error { return wrap("complete audit", err) }

// auditLog group-commits AppendAudit and CompleteAudit: the records and
// completions of concurrent callers go in one transaction of at most
// auditBatch rows. Under load this writes each table and index page to
// the WAL once per batch instead of once per record. The cap bounds how
// long a batch holds the single writer connection that leases and every
// other write wait for: 100 rows took 1-2 ms on a loaded 2-CPU machine.
type auditLog struct {
	db *DB
	q  *groupcommit.Queue[store.AuditRecord]
	// Prepared on first use; committer goroutine only.
	insert, complete, generation *sql.Stmt
}

const auditBatch = 256

// newAuditLog starts the committer of db's audit records.
func newAuditLog(db *DB) *auditLog {
	a := &auditLog{db: db}
	a.q = groupcommit.New(groupcommit.Config[store.AuditRecord]{
		Commit:   a.commit,
		MaxBatch: auditBatch,
		// No deadline (see commit): busy_timeout bounds SQLite's waits.
		Timeout: -1,
		Split:   func(err error) bool { return !errors.Is(mapErr(err), store.ErrUnavailable) },
	})
	return a
}

// close commits the queued records and stops the committer. a may be nil
// (Open failed before starting it).
func (a *auditLog) close() {
	if a == nil {
		return
	}
	a.q.Close()
	for _, st := range []*sql.Stmt{a.insert, a.complete, a.generation} {
		if st != nil {
			_ = st.Close()
		}
	}
}

// commit writes recs in one IMMEDIATE transaction on the writer
// connection: a record with an ID completes that started record (ids[i]
// is 0 when there is none), the others are inserted. If it inserted any,
// it then reads the directory generation (the stamp AppendAudits
// returns): after the records were queued, which is all its callers need,
// and on the writer, which sees every commit. It returns driver errors
// unwrapped: AppendAudit and CompleteAudit wrap them.
//
// The queue gives it no deadline (Timeout -1): the driver watches a
// context that can end from a goroutine of its own, one per statement
// (BEGIN, each record, COMMIT, the generation): 3-10 % of the server's
// CPU per request at 10 clients in one A/B (bench/README.md). What a
// deadline would guard against, a write lock another process holds,
// busy_timeout bounds too, and once BEGIN IMMEDIATE holds the lock the
// statements do not wait; a hung disk no context can interrupt.
func (a *auditLog) commit(ctx context.Context, recs []store.AuditRecord, ids []int64) (int64, error) {
	if err := a.prepare(ctx); err != nil {
		return 0, err
	}
	if err := a.write(ctx, recs, ids); err != nil {
		return 0, err
	}
	if !slices.ContainsFunc(recs, func(r store.AuditRecord) bool { return r.ID == 0 }) {
		return 0, nil // completions only: nobody waits for a generation
	}
	var gen int64
	if err := a.generation.QueryRowContext(ctx).Scan(&gen); err != nil {
		// The records are committed: their callers get an unknown
		// generation (0), not an error.
		return 0, nil
	}
	return gen, nil
}

// prepare prepares the committer's statements the first time.
func (a *auditLog) prepare(ctx context.Context) error {
	for _, s := range []struct {
		st    **sql.Stmt
		query string
	}{
		{&a.insert, `INSERT INTO audit_log (at, tenant_id, user_id, upn, action, shell_id,
			command_id, cmdlet, parameters, outcome, code, duration_ns, client_addr, detail)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&a.complete, `UPDATE audit_log SET outcome = ?, code = ?, duration_ns = ?
			WHERE id = ? AND outcome = '` + store.OutcomeStarted + `'`},
		{&a.generation, selectGeneration},
	} {
		if *s.st != nil {
			continue
		}
		st, err := a.db.w.PrepareContext(ctx, s.query)
		if err != nil {
			return err
		}
		*s.st = st
	}
	return nil
}

// write commits recs: alone, a statement is its own transaction.
func (a *auditLog) write(ctx context.Context, recs []store.AuditRecord, ids []int64) error {
	if len(recs) == 1 {
		return writeAudit(ctx, a.insert, a.complete, recs, ids)
	}
	tx, err := a.db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := writeAudit(ctx, tx.StmtContext(ctx, a.insert), tx.StmtContext(ctx, a.complete), recs, ids); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func writeAudit(ctx context.Context, insert, complete *sql.Stmt, recs []store.AuditRecord, ids []int64) error {
	for i, r := range recs {
		if r.ID != 0 {
			res, err := complete.ExecContext(ctx, r.Outcome, r.Code, int64(r.Duration), r.ID)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			ids[i] = 0
			if n == 1 {
				ids[i] = r.ID
			}
			continue
		}
		res, err := insert.ExecContext(ctx, ms(r.Time), r.TenantID, r.UserID, r.UPN, r.Action, r.ShellID, r.CommandID,
			r.Cmdlet, r.Parameters, r.Outcome, r.Code, int64(r.Duration), r.ClientAddr, r.Detail)
		if err != nil {
			return err
		}
		if ids[i], err = res.LastInsertId(); err != nil {
			return err
		}
	}
	return nil
}

// PurgeAudit implements store.Audit.
func (db *DB) PurgeAudit(ctx context.Context, before time.Time, limit int) (int64, error) {
	// The oldest first: the at index yields them in order.
	res, err := db.w.ExecContext(ctx, `DELETE FROM audit_log WHERE id IN
		(SELECT id FROM audit_log WHERE at < ? ORDER BY at LIMIT ?)`, ms(before), limit)
	if err != nil {
		return 0, wrap("purge audit", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("purge audit", err)
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
		// From the shell's first record on (a full scan when it is gone).
		add("id >= coalesce((SELECT min(id) FROM audit_log WHERE shell_id = ? AND "+codec.ShellStart+"), 0)", f.ShellID)
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

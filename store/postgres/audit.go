package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/internal/codec"
	"github.com/psgate/psgate/store/internal/groupcommit"
)

// AppendAudit implements store.Audit. The record is committed (and, with
// the server's default synchronous_commit, flushed) before it returns.
//
// Concurrent calls share transactions (auditLog). If ctx ends before the
// commit, AppendAudit returns ctx's error at once, but the record may still
// be written.
func (db *DB) AppendAudit(ctx context.Context, r store.AuditRecord) (int64, error) {
	r, err := codec.QueuedAudit(r, db.clock)
	if err != nil {
		return 0, fmt.Errorf("postgres: append audit: %w", err)
	}
	id, err := db.audit.q.Write(ctx, r)
	if errors.Is(err, groupcommit.ErrClosed) {
		return 0, fmt.Errorf("postgres: append audit: store is closed: %w", store.ErrUnavailable)
	}
	return id, err
}

// AppendAudits implements store.AuditGenerations: AppendAudit for each
// record, queued together so that they share a commit, and the directory
// generation that commit read.
func (db *DB) AppendAudits(ctx context.Context, recs []store.AuditRecord) (ids []int64, gen int64, err error) {
	queued := make([]store.AuditRecord, len(recs))
	for i, r := range recs {
		if queued[i], err = codec.QueuedAudit(r, db.clock); err != nil {
			return nil, 0, fmt.Errorf("postgres: append audit: %w", err)
		}
	}
	ids, gen, err = db.audit.q.WriteAll(ctx, queued)
	if errors.Is(err, groupcommit.ErrClosed) {
		return ids, 0, fmt.Errorf("postgres: append audit: store is closed: %w", store.ErrUnavailable)
	}
	return ids, gen, err
}

// CompleteAudit implements store.Audit, through the same transactions as
// AppendAudit.
func (db *DB) CompleteAudit(ctx context.Context, id int64, outcome, code string, dur time.Duration) error {
	return codec.CompleteAudit(ctx, db.audit.q, id, outcome, code, dur, "postgres", db.wrapCompletion)
}

// CompleteAudits implements store.AuditCompletions: CompleteAudit for
// each record, queued together so that they share a commit.
func (db *DB) CompleteAudits(ctx context.Context, ids []int64, outcome, code string, dur time.Duration) []error {
	return codec.CompleteAudits(ctx, db.audit.q, ids, outcome, code, dur, "postgres", db.wrapCompletion)
}

// wrapCompletion passes the commit error of a completion on: the
// committer wraps its errors.
func (db *DB) wrapCompletion(err error) error { return err }

// auditLog group-commits AppendAudit and CompleteAudit: the records and
// completions of concurrent callers go in one transaction of at most
// auditBatch rows, so that under load one WAL flush serves many records.
type auditLog struct {
	db *DB
	q  *groupcommit.Queue[store.AuditRecord]
}

const auditBatch = 256

// newAuditLog starts the committer of db's audit records.
func newAuditLog(db *DB) *auditLog {
	a := &auditLog{db: db}
	a.q = groupcommit.New(groupcommit.Config[store.AuditRecord]{
		Commit:   a.commit,
		MaxBatch: auditBatch,
		Split:    func(err error) bool { return !errors.Is(err, store.ErrUnavailable) },
	})
	return a
}

// close commits the queued records and stops the committer. a may be nil.
func (a *auditLog) close() {
	if a != nil {
		a.q.Close()
	}
}

const insertAudit = `INSERT INTO audit_log (at, tenant_id, user_id, upn, action, shell_id, command_id,
	cmdlet, parameters, outcome, code, duration_ns, client_addr, detail)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
	RETURNING id, ` + generationColumn

// generationColumn is the directory generation, returned with the IDs of
// inserted records (AppendAudits).
const generationColumn = `(SELECT g.n FROM directory_generation AS g WHERE g.id = 1)`

// insertAudits inserts arrays of column values in one statement. Each row
// takes its ID from the column's sequence in a materialised CTE (nextval
// is volatile), and the IDs come back ordered by the row's position in the
// arrays, so mapping them to callers does not depend on the order in which
// INSERT … RETURNING emits rows, which PostgreSQL does not define.
const insertAudits = `WITH v AS (
	SELECT nextval(pg_get_serial_sequence('audit_log', 'id')) AS id, t.*
	FROM unnest($1::timestamptz[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
		$8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[], $13::text[], $14::text[])
		WITH ORDINALITY AS t(at, tenant_id, user_id, upn, action, shell_id, command_id,
		cmdlet, parameters, outcome, code, duration_ns, client_addr, detail, n)
), ins AS (
	INSERT INTO audit_log (id, at, tenant_id, user_id, upn, action, shell_id, command_id,
		cmdlet, parameters, outcome, code, duration_ns, client_addr, detail)
	SELECT id, at, tenant_id, user_id, upn, action, shell_id, command_id,
		cmdlet, parameters, outcome, code, duration_ns, client_addr, detail FROM v
)
SELECT id, ` + generationColumn + ` FROM v ORDER BY n`

// completeAudits completes started command records: arrays of IDs,
// outcomes, codes and durations; it returns the IDs it changed.
const completeAudits = `UPDATE audit_log AS a SET outcome = c.outcome, code = c.code, duration_ns = c.duration_ns
	FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[]) AS c(id, outcome, code, duration_ns)
	WHERE a.id = c.id AND a.outcome = '` + store.OutcomeStarted + `'
	RETURNING a.id`

// querier is what commit needs of a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// commit writes recs in one transaction: a record with an ID completes
// that started record (ids[i] is 0 when there is none), the others are
// inserted. It returns the directory generation the insert read, or 0
// when there was none.
func (a *auditLog) commit(ctx context.Context, recs []store.AuditRecord, ids []int64) (int64, error) {
	var ins, done []int // indexes into recs
	for i, r := range recs {
		if r.ID != 0 {
			done = append(done, i)
		} else {
			ins = append(ins, i)
		}
	}
	var gen int64
	write := func(q querier) error {
		gen = 0 // a retried transaction starts over
		if err := insertRecords(ctx, q, recs, ins, ids, &gen); err != nil {
			return err
		}
		return completeRecords(ctx, q, recs, done, ids)
	}
	var err error
	if len(ins) == 0 || len(done) == 0 { // one statement: its own transaction
		err = a.db.do(ctx, op{name: "append audit"}, func(c *pgx.Conn) error { return write(c) })
	} else {
		err = a.db.tx(ctx, op{name: "append audit"}, func(tx pgx.Tx) error { return write(tx) })
	}
	if err != nil {
		return 0, err
	}
	return gen, nil
}

// insertRecords inserts recs[i] for each i of which, setting ids[i] and
// *gen to the directory generation the statement read.
func insertRecords(ctx context.Context, q querier, recs []store.AuditRecord, which []int, ids []int64, gen *int64) error {
	switch len(which) {
	case 0:
		return nil
	case 1: // cheaper than the arrays
		r := recs[which[0]]
		return q.QueryRow(ctx, insertAudit, r.Time, r.TenantID, r.UserID, r.UPN, r.Action, r.ShellID, r.CommandID,
			r.Cmdlet, r.Parameters, r.Outcome, r.Code, int64(r.Duration), r.ClientAddr, r.Detail).Scan(&ids[which[0]], gen)
	}
	cols := newAuditColumns(len(which))
	for _, i := range which {
		cols.add(recs[i])
	}
	rows, err := q.Query(ctx, insertAudits, cols.at, cols.tenantID, cols.userID, cols.upn, cols.action,
		cols.shellID, cols.commandID, cols.cmdlet, cols.parameters, cols.outcome, cols.code, cols.duration,
		cols.clientAddr, cols.detail)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for ; rows.Next(); n++ {
		if n == len(which) {
			return fmt.Errorf("more IDs than the %d records", len(which))
		}
		if err := rows.Scan(&ids[which[n]], gen); err != nil {
			return err
		}
	}
	// Err reports the outcome of the statement's commit too.
	if err := rows.Err(); err != nil {
		return err
	}
	if n != len(which) {
		return fmt.Errorf("%d IDs for %d records", n, len(which))
	}
	return nil
}

// completeRecords completes the started records recs[i] names for each i
// of which, setting ids[i] to the ID, or 0 when it was no started record.
// Of two completions of one record in a batch, the first counts.
func completeRecords(ctx context.Context, q querier, recs []store.AuditRecord, which []int, ids []int64) error {
	if len(which) == 0 {
		return nil
	}
	first := make(map[int64]int, len(which)) // record ID -> index in recs
	var id, dur []int64
	var outcome, code []string
	for _, i := range which {
		r := recs[i]
		ids[i] = 0
		if _, dup := first[r.ID]; dup {
			continue
		}
		first[r.ID] = i
		id, outcome, code, dur = append(id, r.ID), append(outcome, r.Outcome), append(code, r.Code), append(dur, int64(r.Duration))
	}
	rows, err := q.Query(ctx, completeAudits, id, outcome, code, dur)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var got int64
		if err := rows.Scan(&got); err != nil {
			return err
		}
		if i, ok := first[got]; ok {
			ids[i] = got
		}
	}
	return rows.Err()
}

// auditColumns are records as one array per column, for insertAudits.
type auditColumns struct {
	at                                                                                     []time.Time
	tenantID, userID, duration                                                             []int64
	upn, action, shellID, commandID, cmdlet, parameters, outcome, code, clientAddr, detail []string
}

func newAuditColumns(n int) *auditColumns {
	return &auditColumns{
		at: make([]time.Time, 0, n), tenantID: make([]int64, 0, n), userID: make([]int64, 0, n),
		duration: make([]int64, 0, n), upn: make([]string, 0, n), action: make([]string, 0, n),
		shellID: make([]string, 0, n), commandID: make([]string, 0, n), cmdlet: make([]string, 0, n),
		parameters: make([]string, 0, n), outcome: make([]string, 0, n), code: make([]string, 0, n),
		clientAddr: make([]string, 0, n), detail: make([]string, 0, n),
	}
}

func (c *auditColumns) add(r store.AuditRecord) {
	c.at, c.tenantID, c.userID = append(c.at, r.Time), append(c.tenantID, int64(r.TenantID)), append(c.userID, int64(r.UserID))
	c.duration = append(c.duration, int64(r.Duration))
	c.upn, c.action, c.shellID = append(c.upn, r.UPN), append(c.action, r.Action), append(c.shellID, r.ShellID)
	c.commandID, c.cmdlet = append(c.commandID, r.CommandID), append(c.cmdlet, r.Cmdlet)
	c.parameters, c.outcome, c.code = append(c.parameters, r.Parameters), append(c.outcome, r.Outcome), append(c.code, r.Code)
	c.clientAddr, c.detail = append(c.clientAddr, r.ClientAddr), append(c.detail, r.Detail)
}

// PurgeAudit implements store.Audit.
func (db *DB) PurgeAudit(ctx context.Context, before time.Time, limit int) (int64, error) {
	var n int64
	err := db.do(ctx, op{name: "purge audit"}, func(c *pgx.Conn) error {
		// The oldest first: the at index yields them in order.
		tag, err := c.Exec(ctx, `DELETE FROM audit_log WHERE id IN
			(SELECT id FROM audit_log WHERE at < $1 ORDER BY at LIMIT $2)`, before, limit)
		n = tag.RowsAffected()
		return err
	})
	return n, err
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
		// From the shell's first record on (a full scan when it is gone).
		add("id >= coalesce((SELECT min(id) FROM audit_log WHERE shell_id = $%d AND "+codec.ShellStart+"), 0)", f.ShellID)
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

package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/psgate/psgate"
)

// Audit actions and outcomes used by the gateway.
const (
	ActionSessionOpen    = "session.open"
	ActionSessionClose   = "session.close"
	ActionSessionRefused = "session.refused"
	ActionCommand        = "command"
	ActionAuthFailed     = "auth.failed"

	OutcomeOK      = "ok"
	OutcomeError   = "error"
	OutcomeRefused = "refused"
	// OutcomeStarted marks a command record written before the command
	// runs; CompleteAudit replaces it with the outcome when it ends. A
	// record still "started" after its command's time means the command
	// was cut short (the process died).
	OutcomeStarted = "started"
)

// AuditRecord is one audited event.
type AuditRecord struct {
	ID int64
	// Time is when it happened; zero means the store clock.
	Time      time.Time
	TenantID  psgate.TenantID
	UserID    psgate.UserID
	UPN       string
	Action    string
	ShellID   string
	CommandID string
	Cmdlet    string
	// Parameters is JSON, already redacted by the caller.
	Parameters string
	Outcome    string
	// Code is an error catalog code or "".
	Code       string
	Duration   time.Duration
	ClientAddr string
	Detail     string
}

// AuditFilter narrows SearchAudit. Zero fields do not filter.
type AuditFilter struct {
	// TenantID 0 searches all tenants (operators only).
	TenantID psgate.TenantID
	// UPN matches case-insensitively.
	UPN string
	// Action matches exactly, or as a prefix when it ends with "*"
	// ("session.*").
	Action  string
	ShellID string
	// Since is inclusive, Until exclusive.
	Since time.Time
	Until time.Time
	// Limit caps the result; 0 means 1000.
	Limit int
}

// Audit is the append-only audit log.
type Audit interface {
	// AppendAudit stores r durably (committed) before returning its ID,
	// with its fields cut to their bounds (AuditRecord.Bounded).
	// Concurrent callers share commits (group commit). A caller whose ctx
	// ends stops waiting, but its record may still be written.
	AppendAudit(ctx context.Context, r AuditRecord) (int64, error)
	// CompleteAudit records how the command of record id ended, durably
	// before it returns: its outcome (not OutcomeStarted), catalog code
	// and duration replace the record's. Only a record whose outcome is
	// OutcomeStarted changes, once; for any other id it returns
	// ErrNotFound. It shares commits with AppendAudit. One record per
	// command, written before it runs and completed after, costs the log
	// one row and its indexes instead of two.
	CompleteAudit(ctx context.Context, id int64, outcome, code string, dur time.Duration) error
	// SearchAudit returns matching records, newest first.
	SearchAudit(ctx context.Context, f AuditFilter) ([]AuditRecord, error)
	// PurgeAudit deletes at most limit (> 0) of the records older than
	// before, the oldest first, in one transaction, and returns how many
	// it deleted. Retention is the only way records leave the log; to
	// delete them all, PurgeBefore calls it batch after batch.
	PurgeAudit(ctx context.Context, before time.Time, limit int) (int64, error)
}

// PurgeBatch is the batch of a purge that need not leave the writer to
// anyone else (psgate audit purge): large, yet no transaction grows with
// the backlog.
const PurgeBatch = 5000

// PurgeBefore deletes every record of a older than before, batch records
// per transaction, and returns how many it deleted, the batches before an
// error included. A purge holds the store's writer while it deletes, so a
// gateway purging beside running commands passes rest, which PurgeBefore
// calls after each full batch with how long it took, and which reports
// whether to go on (server/retention.go); nil does not rest. It stops at a
// batch that deleted nothing, an error, or when ctx ends.
//
// A short batch is not the end: nodes sharing a store each purge, and a
// batch of one can come back short because another deleted part of the
// rows it chose at the same moment, with more left behind them. The
// empty batch that ends a purge costs one indexed query.
func PurgeBefore(ctx context.Context, a interface {
	PurgeAudit(ctx context.Context, before time.Time, limit int) (int64, error)
}, before time.Time, batch int, rest func(ctx context.Context, took time.Duration) bool) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		start := time.Now()
		n, err := a.PurgeAudit(ctx, before, batch)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
		if n == int64(batch) && rest != nil && !rest(ctx, time.Since(start)) {
			return total, ctx.Err()
		}
	}
}

// AuditCompletions is an optional capability of a store with an audit
// log: the outcomes of a pipeline's commands recorded in one commit, as
// their started records were (AuditGenerations).
type AuditCompletions interface {
	// CompleteAudits records the outcome of each record of ids as
	// Audit.CompleteAudit does, in one commit where it can, and returns
	// each one's error: errs[i] is nil when the outcome of ids[i] is
	// recorded. len(errs) == len(ids).
	CompleteAudits(ctx context.Context, ids []int64, outcome, code string, dur time.Duration) (errs []error)
}

// CompleteAudits records the outcome of each record of ids through a: in
// one commit when a is an AuditCompletions, else one by one.
func CompleteAudits(ctx context.Context, a interface {
	CompleteAudit(ctx context.Context, id int64, outcome, code string, dur time.Duration) error
}, ids []int64, outcome, code string, dur time.Duration) []error {
	if ac, ok := a.(AuditCompletions); ok {
		return ac.CompleteAudits(ctx, ids, outcome, code, dur)
	}
	errs := make([]error, len(ids))
	for i, id := range ids {
		errs[i] = a.CompleteAudit(ctx, id, outcome, code, dur)
	}
	return errs
}

// Completion checks CompleteAudit's arguments (a record ID, and an
// outcome that ends a command) and returns the bounded record a store
// queues for it: the ID set marks it as a completion.
func Completion(id int64, outcome, code string, dur time.Duration) (AuditRecord, error) {
	if id <= 0 {
		return AuditRecord{}, fmt.Errorf("record id %d: %w", id, ErrInvalid)
	}
	if outcome == "" || outcome == OutcomeStarted {
		return AuditRecord{}, fmt.Errorf("outcome %q does not end a command: %w", outcome, ErrInvalid)
	}
	return AuditRecord{ID: id, Outcome: outcome, Code: code, Duration: dur}.Bounded(), nil
}

// Bounds of stored audit fields. Many come from the client (shell ids,
// user agents, names, parameters): a record is at most about 30 KiB
// whatever a client sends, so refused requests cannot fill the disk.
const (
	MaxAuditField      = 256      // UPN, action, ids, cmdlet, outcome, code, client address
	MaxAuditDetail     = 4 << 10  // detail
	MaxAuditParameters = 16 << 10 // parameters (JSON)
)

// Bounded returns r with each field cut to its bound at a character
// boundary, followed by how much was cut ("…(+123 bytes)"). Parameters
// over their bound become a JSON object holding the start of the text, so
// that the column stays JSON.
func (r AuditRecord) Bounded() AuditRecord {
	for _, f := range []*string{&r.UPN, &r.Action, &r.ShellID, &r.CommandID, &r.Cmdlet, &r.Outcome, &r.Code, &r.ClientAddr} {
		*f = cut(*f, MaxAuditField)
	}
	r.Detail = cut(r.Detail, MaxAuditDetail)
	if len(r.Parameters) > MaxAuditParameters {
		b, err := json.Marshal(map[string]string{"psgate.truncated": cut(r.Parameters, MaxAuditParameters/2)})
		if err != nil {
			b = []byte(`{"psgate.truncated":""}`)
		}
		r.Parameters = string(b)
	}
	return r
}

// cut shortens s to at most max bytes (plus the marker), at a rune
// boundary; invalid UTF-8 and NUL (which PostgreSQL text refuses) are
// replaced by U+FFFD, so that any text a client sends can be stored.
func cut(s string, max int) string {
	if !utf8.ValidString(s) {
		s = string([]rune(s)) // invalid bytes become U+FFFD
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + fmt.Sprintf("…(+%d bytes)", len(s)-n)
}

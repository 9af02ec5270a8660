package codec

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/internal/groupcommit"
)

// Fold normalises a case-insensitive key (UPN, tenant name or domain,
// object ID): trimmed and lower-cased.
func Fold(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// NewObjectID returns a random (version 4) UUID in lower-case canonical
// form.
func NewObjectID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// entry is the stored JSON form of a store.RoleEntry. The keys are part of
// the schema: the built-in roles are seeded with them by the migrations.
type entry struct {
	Cmdlet        string              `json:"cmdlet"`
	Parameters    []string            `json:"parameters,omitempty"`
	AllowedValues map[string][]string `json:"allowedValues,omitempty"`
	Deny          bool                `json:"deny,omitempty"`
}

// EncodeEntries returns the stored JSON form of role entries.
func EncodeEntries(es []store.RoleEntry) (string, error) {
	out := make([]entry, len(es))
	for i, e := range es {
		if strings.TrimSpace(e.Cmdlet) == "" {
			return "", fmt.Errorf("codec: role entry %d has no cmdlet: %w", i, store.ErrInvalid)
		}
		out[i] = entry(e)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("codec: encode role entries: %w", err)
	}
	return string(b), nil
}

// DecodeEntries parses the stored JSON form of role entries.
func DecodeEntries(s string) ([]store.RoleEntry, error) {
	var in []entry
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("codec: decode role entries: %w", err)
	}
	out := make([]store.RoleEntry, len(in))
	for i, e := range in {
		out[i] = store.RoleEntry(e)
	}
	return out, nil
}

// LikePattern returns a LIKE pattern matching s as a substring, with the
// wildcard characters of s escaped by a backslash (use ESCAPE '\').
func LikePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(Fold(s)) + "%"
}

// QueuedAudit checks a record for AppendAudit and returns what a store's
// audit queue holds for it: cut to its bounds, without an ID (the store
// numbers records; an ID in the queue marks a completion), timed by clock
// (which keeps a time already set) and with its UPN folded.
func QueuedAudit(r store.AuditRecord, clock func(time.Time) time.Time) (store.AuditRecord, error) {
	if r.Action == "" {
		return r, fmt.Errorf("action is required: %w", store.ErrInvalid)
	}
	r = r.Bounded()
	r.ID = 0
	r.Time, r.UPN = clock(r.Time), Fold(r.UPN)
	return r, nil
}

// ShellStart is the SQL condition, the same in both dialects, of the
// audit records a shell's records follow (its session.open, or a
// session.refused of a client-chosen ID tried earlier): the records that
// the audit_log_shell_start index holds (migration 0003). A search by shell
// bounds its scan of the log with the first one's ID; its query must
// repeat this condition word for word for the index to serve it.
const ShellStart = `action IN ('` + store.ActionSessionOpen + `', '` + store.ActionSessionRefused + `') AND shell_id <> ''`

// CompleteAudit queues the completion of record id on q and returns
// its error, as store.Audit.CompleteAudit does; name and wrap are
// CompleteAudits'.
func CompleteAudit(ctx context.Context, q *groupcommit.Queue[store.AuditRecord], id int64, outcome, code string, dur time.Duration,
	name string, wrap func(error) error) error {
	r, err := store.Completion(id, outcome, code, dur)
	if err != nil {
		return fmt.Errorf("%s: complete audit: %w", name, err)
	}
	got, err := q.Write(ctx, r)
	return completionErr(name, id, got, err, wrap)
}

// CompleteAudits queues the completions of ids on q, together so that
// they share a commit, and returns each one's error, as
// store.AuditCompletions does: an invalid argument, no started record of
// that ID (store.ErrNotFound), or the commit's error through wrap. name
// is the store's, for the messages ("sqlite").
func CompleteAudits(ctx context.Context, q *groupcommit.Queue[store.AuditRecord], ids []int64, outcome, code string, dur time.Duration,
	name string, wrap func(error) error) []error {
	errs := make([]error, len(ids))
	recs := make([]store.AuditRecord, 0, len(ids))
	at := make([]int, 0, len(ids)) // recs[k] completes ids[at[k]]
	for i, id := range ids {
		r, err := store.Completion(id, outcome, code, dur)
		if err != nil {
			errs[i] = fmt.Errorf("%s: complete audit: %w", name, err)
			continue
		}
		recs, at = append(recs, r), append(at, i)
	}
	if len(recs) == 0 {
		return errs
	}
	got, _, err := q.WriteAll(ctx, recs)
	for k, i := range at {
		var id int64 // 0: not written, or no started record
		if got != nil {
			id = got[k]
		}
		errs[i] = completionErr(name, ids[i], id, err, wrap)
	}
	return errs
}

// completionErr is the error of completing record id, given the queue's
// answer: the ID it returned (0: not written, or no started record) and
// the error of its call, or of its batch (WriteAll's first).
func completionErr(name string, id, got int64, err error, wrap func(error) error) error {
	switch {
	case got != 0:
		return nil
	case errors.Is(err, groupcommit.ErrClosed):
		return fmt.Errorf("%s: complete audit: store is closed: %w", name, store.ErrUnavailable)
	case err != nil:
		// Not written: the batch failed, or this item did; which, the
		// queue does not say.
		return wrap(err)
	}
	return fmt.Errorf("%s: complete audit: no started command record %d: %w", name, id, store.ErrNotFound)
}

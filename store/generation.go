package store

import "context"

// Generations tells a cache whether the directory changed.
type Generations interface {
	// DirectoryGeneration returns a number that grows, in the same
	// transaction, with every change to a tenant (its policy included), a
	// user, a role or a role assignment, whoever made it: this node,
	// another node sharing the store, or SQL typed by hand. Two equal
	// answers mean no such change was committed between them.
	DirectoryGeneration(ctx context.Context) (int64, error)
}

// AuditGenerations is an optional capability of a store with an audit
// log and directory generations: the records of a pipeline's commands
// are appended in one commit, which also reads the generation, so that a
// command audited before it runs (admission) need not read it again to
// validate a cache.
type AuditGenerations interface {
	// AppendAudits appends recs as Audit.AppendAudit does each, in one
	// commit where it can, and returns their IDs (0 for a record not
	// written, with the error) and the directory generation, read after
	// the call began; the generation is 0 when the store could not tell
	// (the records are written all the same).
	AppendAudits(ctx context.Context, recs []AuditRecord) (ids []int64, gen int64, err error)
}

// AppendAudits appends recs through a: in one commit, with the directory
// generation, when a is an AuditGenerations; else one by one, with
// generation 0 (unknown). It stops at the first error, with the IDs of
// the records written so far.
func AppendAudits(ctx context.Context, a interface {
	AppendAudit(ctx context.Context, r AuditRecord) (int64, error)
}, recs []AuditRecord) (ids []int64, gen int64, err error) {
	if ag, ok := a.(AuditGenerations); ok {
		return ag.AppendAudits(ctx, recs)
	}
	ids = make([]int64, len(recs))
	for i, r := range recs {
		if ids[i], err = a.AppendAudit(ctx, r); err != nil {
			return ids, 0, err
		}
	}
	return ids, 0, nil
}

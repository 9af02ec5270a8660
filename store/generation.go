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
// log and directory generations: the transaction that commits an audit
// record also reads the generation, so that a command audited before it
// runs (admission) need not read it again to validate a cache.
type AuditGenerations interface {
	// AppendAuditGeneration appends r as Audit.AppendAudit does and also
	// returns the directory generation, read after the call began; 0 when
	// the store could not tell (the record is written all the same).
	AppendAuditGeneration(ctx context.Context, r AuditRecord) (id, gen int64, err error)
}

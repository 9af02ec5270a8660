// Package store defines psgate's persistent domain records and the ports
// (interfaces) through which the rest of the gateway reads and writes them.
//
// The records use standard library types only. Two implementations share one
// schema and one migration history: store/sqlite (embedded, one node) and
// store/postgres (several gateway nodes). store/storetest is the
// conformance suite both must pass.
//
// # Errors
//
// Methods return the sentinels ErrNotFound, ErrConflict, ErrInvalid,
// ErrLastAdmin and ErrUnavailable wrapped with context, so callers test
// them with errors.Is. A refused lease is a *QuotaError (errors.As).
//
// # Time
//
// Timestamps are stored with millisecond precision (SQLite) or microsecond
// precision (PostgreSQL); callers must not expect nanoseconds back.
//
// Lease arithmetic (expiry, liveness, counting) needs one clock for every
// node. Methods that depend on it take the caller's reading of its clock
// (LeaseRequest.Now, LeaseFilter.Now, the now argument of RenewNode and
// SweepExpired). The SQLite implementation, which serves a single node,
// uses that value (or its Options.Now when the value is zero). The
// PostgreSQL implementation ignores it and uses the database clock, now(),
// so that clock skew between gateway nodes never changes who holds a slot.
// Callers therefore must compare lease times only with times returned by
// the store, never with their own clock.
//
// Everything else (creation times, refresh tokens, lockouts, audit) uses
// the caller's clock or the implementation's Options.Now.
package store

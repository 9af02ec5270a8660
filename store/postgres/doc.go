// Package postgres implements the store ports on PostgreSQL (pgx v5) for
// several gateway nodes sharing one database.
//
// Lease arithmetic uses the database clock, now(), so that clock skew
// between nodes never changes who holds a slot: the caller's Now values are
// ignored there (Options.ClockOffset shifts the database clock for tests).
// Admission takes a per-tenant transaction-level advisory lock and then,
// in a separate statement of the same implicit transaction (one pgx.Batch,
// one round trip, READ COMMITTED), inserts the lease only if both counts
// are under their limits. The second statement's snapshot is taken after
// the lock is granted, so it sees every lease committed by earlier holders:
// admission is exact without retries, and tenants never contend.
//
// Connections come from a pgxpool.Pool bounded by Options.MaxConns. Each
// store call takes one for a statement or transaction and hands it back;
// the pool drops connections that are broken or left inside a transaction,
// and transient failures (a restarted server, a serialization failure)
// are retried by the store with backoff before they surface as
// store.ErrUnavailable.
//
// The schema is created and upgraded by the embedded migrations in
// migrations/, which carry the same version numbers as those of
// store/sqlite; nodes that start together serialise on an advisory lock.
package postgres

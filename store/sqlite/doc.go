// Package sqlite implements the store ports on an embedded SQLite database
// (modernc.org/sqlite, pure Go) for a single gateway node.
//
// The database runs in WAL mode. All writes go through one connection whose
// transactions begin IMMEDIATE, so writers queue in Go instead of in
// SQLite's busy handler and never see SQLITE_BUSY; reads use a separate
// pool of query-only connections. Times are stored as INTEGER unix
// milliseconds. The schema is created and upgraded by the embedded
// migrations in migrations/, which carry the same version numbers as those
// of store/postgres.
//
// Lease arithmetic uses the caller's clock (LeaseRequest.Now and friends)
// or Options.Now: with one node the process clock is the database clock.
package sqlite

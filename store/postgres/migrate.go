package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/psgate/psgate/store/internal/migrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Advisory lock classes (first key of the two-key form). The second key is
// the tenant ID for admissions and 0 for the rest.
const (
	lockClassMigrate   int32 = 0x70736700 // "psg\0"
	lockClassAdmission int32 = 0x70736701
	lockClassTenants   int32 = 0x70736702
)

// MigrationVersions returns the schema versions this binary knows, in
// order. They equal those of store/sqlite.
func MigrationVersions() ([]int, error) {
	ms, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return migrate.Versions(ms), nil
}

// Migrate applies the pending migrations, each in its own transaction that
// first takes an advisory lock, so nodes starting together apply each step
// once. It refuses a database whose schema is newer than this binary. Open
// calls it.
func (db *DB) Migrate(ctx context.Context) error {
	migs, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	for _, m := range migs {
		err := db.tx(ctx, op{name: "migrate", idempotent: true}, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, 0)`, lockClassMigrate); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version    integer     PRIMARY KEY,
				name       text        NOT NULL,
				applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
				return err
			}
			var current int
			if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
				return err
			}
			if current > len(migs) {
				return fmt.Errorf("database schema version %d is newer than this binary's %d; upgrade psgate", current, len(migs))
			}
			if m.Version <= current {
				return nil
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply %04d_%s: %w", m.Version, m.Name, err)
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

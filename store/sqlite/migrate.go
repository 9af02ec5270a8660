package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/psgate/psgate/store/internal/migrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// MigrationVersions returns the schema versions this binary knows, in
// order. They equal those of store/postgres.
func MigrationVersions() ([]int, error) {
	ms, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return migrate.Versions(ms), nil
}

// Migrate applies the pending migrations, each in its own IMMEDIATE
// transaction. It refuses a database whose schema is newer than this
// binary. Open calls it.
func (db *DB) Migrate(ctx context.Context) error {
	migs, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL)`); err != nil {
		return wrap("migrate", err)
	}
	for _, m := range migs {
		err := db.write(ctx, func(tx *sql.Tx) error {
			var current int
			if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
				return wrap("migrate: read version", err)
			}
			if current > len(migs) {
				return fmt.Errorf("sqlite: migrate: database schema version %d is newer than this binary's %d; upgrade psgate",
					current, len(migs))
			}
			if m.Version <= current {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return wrap(fmt.Sprintf("migrate: apply %04d_%s", m.Version, m.Name), err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, ms(db.now()))
			return wrap("migrate: record version", err)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

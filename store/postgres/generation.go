package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// DirectoryGeneration implements store.Generations: triggers of migration
// 0002 bump the number in every transaction that changes the directory.
func (db *DB) DirectoryGeneration(ctx context.Context) (int64, error) {
	var n int64
	err := db.do(ctx, op{name: "directory generation", idempotent: true}, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT n FROM directory_generation WHERE id = 1`).Scan(&n)
	})
	return n, err
}

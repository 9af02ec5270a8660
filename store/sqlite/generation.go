package sqlite

import "context"

// DirectoryGeneration implements store.Generations: triggers of migration
// 0002 bump the number in every transaction that changes the directory.
func (db *DB) DirectoryGeneration(ctx context.Context) (int64, error) {
	var n int64
	err := db.r.QueryRowContext(ctx, selectGeneration).Scan(&n)
	return n, wrap("directory generation", err)
}

const selectGeneration = `SELECT n FROM directory_generation WHERE id = 1`

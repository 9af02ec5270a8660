package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Backup writes a consistent copy of the database to the new file path
// while the store (and any other process, such as a running gateway) goes
// on reading and writing it. See BackupFile.
func (db *DB) Backup(ctx context.Context, path string) error {
	var file string
	if err := db.r.DB.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil {
		return wrap("backup: find the database file", err)
	}
	if file == "" {
		return errors.New("sqlite: backup: the database has no file")
	}
	return BackupFile(ctx, file, path)
}

// BackupFile writes a consistent copy of the database file src to the new
// file path, while other connections and processes (a running gateway) go
// on reading and writing src. Unlike Open it never migrates src: a backup
// taken by a newer psgate before an upgrade holds the old schema.
//
// The copy is SQLite's VACUUM INTO on a connection of its own: it reads
// one snapshot of the database (WAL mode lets writers commit meanwhile)
// and writes it out compacted, without the write-ahead log, as a database
// file that Open and Verify accept as it is. It is written under a
// temporary name in path's directory, synced, then renamed, so path never
// holds a partial copy. BackupFile refuses a path that exists, with an
// error wrapping fs.ErrExist. The file is created 0600: it holds password
// hashes, signing keys and the audit log.
func BackupFile(ctx context.Context, src, path string) error {
	if path == "" {
		return errors.New("sqlite: backup: no destination file")
	}
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	// Reserve the name: O_EXCL refuses an existing file (or a symlink
	// to one) without a window between checking and creating.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	f.Close()
	done := false
	defer func() {
		if !done {
			os.Remove(path)
		}
	}()
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer func() {
		if !done {
			os.Remove(tmpName)
		}
	}()
	if err := vacuumInto(ctx, src, tmpName); err != nil {
		return err
	}
	if err := syncFile(tmpName); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	done = true
	if err := syncFile(filepath.Dir(path)); err != nil {
		return fmt.Errorf("sqlite: backup: %s is written but its directory was not synced: %w", path, err)
	}
	return nil
}

// vacuumInto copies the database file src into the empty file dst. It
// uses a connection of its own: a store's read pool is query-only, which
// VACUUM INTO obeys even though it writes another file, and its single
// writer connection stays free for the store's own writes. mode=rw: a
// missing src is an error, not a new empty database.
func vacuumInto(ctx context.Context, src, dst string) error {
	q := url.Values{}
	q.Set("mode", "rw")
	q.Add("_pragma", "busy_timeout(10000)")
	u := url.URL{Scheme: "file", Opaque: filepathToURI(src), RawQuery: q.Encode()}
	conn, err := sql.Open("sqlite", u.String())
	if err != nil {
		return wrap("backup", err)
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	// VACUUM INTO accepts an empty file as its target, and the empty
	// file CreateTemp made keeps its 0600 mode.
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		return wrap("backup", err)
	}
	return nil
}

// syncFile flushes a file (or a directory's entries) to stable storage.
func syncFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Check is what Verify found in a database file.
type Check struct {
	// Problems are the lines of PRAGMA integrity_check and
	// foreign_key_check that are not "ok"; none means the file is sound.
	Problems []string
	// Version is the file's schema version (0: no psgate schema);
	// Known is the newest version this binary knows. A file older than
	// Known is upgraded by Open; a newer one needs a newer psgate.
	Version, Known int
	// Tenants, Users and AuditRecords count the rows, as a sign that the
	// file holds what it should.
	Tenants, Users, AuditRecords int64
}

// OK reports whether the file is sound and this binary can open it.
func (c Check) OK() bool {
	return len(c.Problems) == 0 && c.Version > 0 && c.Version <= c.Known
}

// maxProblems bounds the integrity_check lines Verify collects.
const maxProblems = 20

// Verify checks the database file at path without changing it: it opens
// the file read-only (no migration runs) and reads PRAGMA integrity_check,
// the foreign keys, the schema version and a few counts. An error means
// the file could not be read as a database at all.
func Verify(ctx context.Context, path string) (Check, error) {
	var c Check
	versions, err := MigrationVersions()
	if err != nil {
		return c, err
	}
	if len(versions) > 0 {
		c.Known = versions[len(versions)-1]
	}
	fi, err := os.Stat(path)
	if err != nil {
		return c, fmt.Errorf("sqlite: verify: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return c, fmt.Errorf("sqlite: verify: %s is not a regular file", path)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "query_only(1)")
	u := url.URL{Scheme: "file", Opaque: filepathToURI(path), RawQuery: q.Encode()}
	conn, err := sql.Open("sqlite", u.String())
	if err != nil {
		return c, fmt.Errorf("sqlite: verify %s: %w", path, err)
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)

	rows, err := conn.QueryContext(ctx, `PRAGMA integrity_check(`+fmt.Sprint(maxProblems)+`)`)
	if err != nil {
		return c, fmt.Errorf("sqlite: verify %s: %w", path, err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return c, fmt.Errorf("sqlite: verify %s: %w", path, err)
		}
		if line != "ok" {
			c.Problems = append(c.Problems, line)
		}
	}
	if err := rows.Close(); err != nil {
		return c, fmt.Errorf("sqlite: verify %s: %w", path, err)
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("sqlite: verify %s: %w", path, err)
	}
	if len(c.Problems) > 0 {
		// The counts below would read the damaged pages.
		return c, nil
	}
	var haveSchema int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&haveSchema); err != nil {
		return c, fmt.Errorf("sqlite: verify %s: %w", path, err)
	}
	if haveSchema == 0 {
		return c, nil
	}
	if err := conn.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&c.Version); err != nil {
		return c, fmt.Errorf("sqlite: verify %s: schema version: %w", path, err)
	}
	fk, err := conn.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return c, fmt.Errorf("sqlite: verify %s: %w", path, err)
	}
	for fk.Next() && len(c.Problems) < maxProblems {
		var table, parent string
		var rowid sql.NullInt64
		var fkid int
		if err := fk.Scan(&table, &rowid, &parent, &fkid); err != nil {
			fk.Close()
			return c, fmt.Errorf("sqlite: verify %s: %w", path, err)
		}
		c.Problems = append(c.Problems, fmt.Sprintf("row %d of %s refers to a missing row of %s", rowid.Int64, table, parent))
	}
	if err := fk.Close(); err != nil {
		return c, fmt.Errorf("sqlite: verify %s: %w", path, err)
	}
	for _, n := range []struct {
		table string
		dst   *int64
	}{{"tenants", &c.Tenants}, {"users", &c.Users}, {"audit_log", &c.AuditRecords}} {
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM `+n.table).Scan(n.dst); err != nil {
			return c, fmt.Errorf("sqlite: verify %s: count %s: %w", path, n.table, err)
		}
	}
	return c, nil
}

// filepathToURI turns a file path into the path part of a file: URI,
// escaping what SQLite's URI parser would read as query or fragment.
func filepathToURI(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	abs = filepath.ToSlash(abs)
	if !strings.HasPrefix(abs, "/") {
		abs = "/" + abs // a Windows drive letter
	}
	return (&url.URL{Path: abs}).EscapedPath()
}

//go:build !connector

package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate/store/sqlite"
)

const storeLong = `Back up a gateway's SQLite store while the gateway runs, and check a backup.

psgate store backup copies one consistent moment of the store (SQLite's VACUUM
INTO: the gateway goes on reading and writing meanwhile) into a new file, and
never overwrites one. psgate store verify checks a copy without changing it.

To restore: stop the gateway, move psgate.db, psgate.db-wal and psgate.db-shm
out of the data directory, copy the backup in as psgate.db (owned by the
gateway's user, mode 0600) and start the gateway.

A PostgreSQL store (several nodes) is backed up with PostgreSQL's own tools,
pg_dump or continuous archiving; see docs/operations.md.`

func newStoreCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "store",
		Short: "Back up the SQLite store of a running gateway, and verify a backup (operator)",
		Long:  storeLong,
	}
	cmd.AddCommand(newStoreBackupCmd(), newStoreVerifyCmd())
	return cmd
}

func newStoreBackupCmd() *cobra.Command {
	var data, to string
	var noVerify bool
	cmd := &cobra.Command{
		Use:   "backup --to FILE",
		Short: "Copy the store of a (running) gateway into a new file",
		Long:  storeLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if to == "" {
				return &usageError{cmd: cmd.CommandPath(), msg: "no backup file given: pass --to FILE (a new file; an existing one is never overwritten)"}
			}
			src := filepath.Join(data, "psgate.db")
			if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("no psgate store in %s: pass --data with the gateway's data directory (a PostgreSQL store is backed up with pg_dump)", data)
			}
			if _, err := os.Lstat(to); err == nil {
				return fmt.Errorf("%s exists: psgate store backup never overwrites a file; choose a new name (for example with the date: --to psgate-%s.db)", to, time.Now().Format("2006-01-02"))
			}
			// Not sqlite.Open: it would migrate the store, and a backup
			// taken with a new psgate before restarting the gateway must
			// hold the old schema.
			start := time.Now()
			if err := sqlite.BackupFile(ctx, src, to); err != nil {
				if errors.Is(err, fs.ErrExist) {
					return fmt.Errorf("%s exists: psgate store backup never overwrites a file; choose a new name", to)
				}
				return storeFailed("back up "+src, err)
			}
			took := time.Since(start).Round(time.Millisecond)
			fi, err := os.Stat(to)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Backed up %s to %s (%s in %s).\n", absPath(src), absPath(to), byteSize(fi.Size()), took)
			if noVerify {
				fmt.Fprintf(w, "Check it with: psgate store verify %s\n", shellQuote(absPath(to)))
				return nil
			}
			return verifyBackup(cmd, w, to, false)
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "./psgate-data", "data directory of the gateway (its SQLite store); the gateway may be running")
	f.StringVar(&to, "to", "", "the backup file to create; an existing file is never overwritten")
	f.BoolVar(&noVerify, "no-verify", false, "do not check the copy (psgate store verify) after writing it")
	return cmd
}

func newStoreVerifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify FILE",
		Short: "Check a backup (or a stopped gateway's psgate.db) without changing it",
		Long: `Check an SQLite store file without changing it: SQLite's integrity check and
foreign keys, the schema version (this psgate opens files up to its own version
and upgrades older ones when the gateway starts on them), and how many tenants,
users and audit records it holds. Exits with a non-zero status when the file
is damaged or too new for this psgate.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return verifyBackup(cmd, cmd.OutOrStdout(), args[0], true)
		},
	}
}

// verifyBackup checks the store file path and prints what it found. A
// schema newer than this psgate's is an error when strict (verify: this
// psgate cannot restore it), a note otherwise (backup: the copy is right).
func verifyBackup(cmd *cobra.Command, w io.Writer, path string, strict bool) error {
	c, err := sqlite.Verify(cmd.Context(), path)
	if err != nil {
		return fmt.Errorf("%s cannot be read as a psgate store: %w", path, err)
	}
	if len(c.Problems) > 0 {
		fmt.Fprintf(w, "%s is damaged; SQLite's integrity check says:\n", path)
		for _, p := range c.Problems {
			for _, line := range strings.Split(p, "\n") {
				fmt.Fprintf(w, "  %s\n", terminalSafe(line))
			}
		}
		return fmt.Errorf("%s is damaged: do not restore it", path)
	}
	if c.Version == 0 {
		return fmt.Errorf("%s is an SQLite database but not a psgate store (it has no schema version)", path)
	}
	fmt.Fprintf(w, "%s is sound: schema version %d, %s, %s, %s.\n", path, c.Version,
		nOf(c.Tenants, "tenant"), nOf(c.Users, "user"), nOf(c.AuditRecords, "audit record"))
	if c.Version > c.Known {
		if strict {
			return fmt.Errorf("%s has schema version %d, newer than this psgate's %d: restore it with a newer psgate", path, c.Version, c.Known)
		}
		fmt.Fprintf(w, "Its schema is newer than this psgate's version %d: restore it with the psgate that runs the gateway.\n", c.Known)
	}
	if c.Version < c.Known {
		fmt.Fprintf(w, "It predates this psgate's schema version %d: the gateway upgrades it when it starts on it.\n", c.Known)
	}
	return nil
}

// nOf is "1 tenant", "2 tenants".
func nOf(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// byteSize prints n bytes for people.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

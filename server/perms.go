package server

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
)

// secureDataDir makes the data directory and everything in it private to
// the account psgate runs as: 0700 for directories, 0600 for files. The
// directory holds the store (password hashes, signing keys, audit), the
// TLS key and the demo password. A directory created by an earlier
// version, by hand or by a restore with wider modes is fixed here, on
// every start, with a warning per fix so the operator learns of it.
// Windows has no such modes; its ACLs are left to the operator.
func secureDataDir(dir string, log *slog.Logger) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil // never follow a link out of the data directory
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if got := info.Mode().Perm(); got&^want != 0 {
			if err := os.Chmod(path, got&want); err != nil {
				return fmt.Errorf("server: make %s private: %w", path, err)
			}
			log.Warn("data directory entry was readable by others; made it private",
				"path", path, "was", fmt.Sprintf("%#o", got), "now", fmt.Sprintf("%#o", got&want))
		}
		return nil
	})
}

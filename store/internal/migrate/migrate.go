package migrate

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one schema step. Files are named "<version>_<name>.sql",
// e.g. "0001_init.sql"; versions start at 1 and have no gaps.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Load reads the *.sql files of dir in fsys, ordered by version.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrate: read %s: %w", dir, err)
	}
	var ms []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		m, err := parseName(e.Name())
		if err != nil {
			return nil, err
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migrate: read %s: %w", e.Name(), err)
		}
		m.SQL = string(b)
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrate: version %d found where %d was expected", m.Version, i+1)
		}
	}
	return ms, nil
}

func parseName(file string) (Migration, error) {
	base := strings.TrimSuffix(file, ".sql")
	num, name, ok := strings.Cut(base, "_")
	if !ok || name == "" {
		return Migration{}, fmt.Errorf("migrate: %s: want <version>_<name>.sql", file)
	}
	v, err := strconv.Atoi(num)
	if err != nil || v < 1 {
		return Migration{}, fmt.Errorf("migrate: %s: bad version %q", file, num)
	}
	return Migration{Version: v, Name: name}, nil
}

// Versions returns the versions of ms in order.
func Versions(ms []Migration) []int {
	vs := make([]int, len(ms))
	for i, m := range ms {
		vs[i] = m.Version
	}
	return vs
}

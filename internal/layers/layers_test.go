package layers

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/psgate/psgate"

// layer is a package's place in the import graph: a package may import
// only packages of a lower rank. Peers (the same rank) never import each
// other.
type layer struct {
	rank int
	role string
}

// layers places every package of the module. A new package must be added
// here: the test refuses one it cannot place.
var layers = map[string]layer{
	// 0: the vocabulary every layer speaks, and leaf utilities.
	"":                           {0, "the domain vocabulary (errors, principal, shell)"},
	"internal/logkey":            {0, "log keys"},
	"internal/password":          {0, "password hashing"},
	"internal/gctune":            {0, "GC tuning"},
	"internal/stack":             {0, "growing a goroutine stack before deep work"},
	"internal/recent":            {0, "a fixed-size memory of recent ids"},
	"internal/xmlscan":           {0, "a pure XML scanner"},
	"internal/httpbody":          {0, "reading bounded HTTP bodies"},
	"internal/xmlscantest":       {0, "test helpers for the decoders on xmlscan"},
	"xpress":                     {0, "a pure compression codec"},
	"engine/syntax":              {0, "the pure command language"},
	"store/internal/groupcommit": {0, "a store utility"},
	"store/internal/migrate":     {0, "a store utility"},
	"internal/cmd/testprogress":  {0, "a test-runner tool"},
	"internal/purity":            {0, "the purity check for protocol packages"},
	"internal/oidctest":          {0, "runs a real OpenID Connect provider for tests"},
	"internal/freeport":          {0, "loopback ports for tests that pass them to another process"},
	"internal/layers":            {0, "this check"},
	"examples/widgets/widgetsvc": {0, "the example module's backend service"},
	"store":                      {1, "the store's interface and records"},
	"psobject":                   {1, "PowerShell object values"},
	"wsman":                      {1, "the pure WS-Management codec"},
	"internal/errdoc":            {1, "the error catalog's docs generator"},
	"clixml":                     {2, "the pure CLIXML codec"},
	"format":                     {2, "PowerShell formatting"},
	"store/internal/codec":       {2, "a store utility"},
	"store/postgres/pgtest":      {2, "PostgreSQL test schemas"},
	"psrp":                       {3, "the pure PSRP codec and state machine"},
	"engine":                     {3, "the command runtime"},
	"store/sqlite":               {3, "a store implementation"},
	"store/postgres":             {3, "a store implementation"},
	"store/cache":                {3, "the directory cache"},
	"store/storetest":            {3, "store conformance tests"},
	"store/sqlite/sqlitetest":    {4, "a SQLite store for tests"},
	"engine/builtin":             {4, "the built-in commands"},
	"engine/enginetest":          {4, "fake cmdlets for the engine's tests"},
	"rbac":                       {4, "role-based access control"},
	"identity":                   {4, "authentication and the token service"},
	"client":                     {4, "the PSRP/WinRS client"},
	"cmdlets":                    {5, "the tenant cmdlets"},
	"module":                     {5, "cmdlets declared in module files, served by the operator's HTTP service"},
	"admission":                  {5, "admission: policy, quotas, live rights"},
	"gateway":                    {5, "the WS-Management endpoint (I/O only)"},
	"client/doctor":              {5, "connection diagnostics"},
	"metrics":                    {5, "Prometheus metrics: observers and scrape-time collectors"},
	"cluster":                    {6, "node certificates, the owner of a shell, forwarding between nodes"},
	"server":                     {7, "the service: wiring and the one loop"},
	"server/servertest":          {8, "a test server"},
	"internal/loadgen":           {8, "load generation"},
	"config":                     {8, "operator configuration"},
	"cmd/psgate":                 {9, "the command line"},
	"bench/attack":               {9, "a benchmark"},
	"bench/capacity":             {9, "a benchmark"},
	"bench/poolmem":              {9, "a benchmark"},
	"bench/wsbench":              {9, "a benchmark"},
	"dist":                       {9, "the systemd unit and its checks"},
	"interop":                    {9, "interoperability tests"},
	"examples/widgets/backend":   {9, "the example backend's program"},
}

// TestImportsPointDown reads the imports of every non-test file of the
// module and fails on one that points up or sideways.
func TestImportsPointDown(t *testing.T) {
	root := filepath.Join("..", "..")
	imports := map[string]map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		if pkg == "." {
			pkg = ""
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		if imports[pkg] == nil {
			imports[pkg] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case p == module:
				imports[pkg][""] = true
			case strings.HasPrefix(p, module+"/"):
				imports[pkg][strings.TrimPrefix(p, module+"/")] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) < 20 {
		t.Fatalf("found only %d packages from %s; is the test running in internal/layers?", len(imports), mustAbs(root))
	}
	for _, msg := range check(imports) {
		t.Error(msg)
	}
}

// A wrong-way import is refused, saying which way the arrow must point.
func TestCheckRefusesWrongWay(t *testing.T) {
	got := check(map[string]map[string]bool{
		"gateway":   {"admission": true, "wsman": true},
		"admission": {"": true, "rbac": true},
		"store":     {"server": true},
		"newpkg":    {},
	})
	want := []string{
		"gateway (the WS-Management endpoint (I/O only), layer 5) imports its peer admission",
		"package newpkg is not placed",
		"store (the store's interface and records, layer 1) imports a higher layer, server",
	}
	if len(got) != len(want) {
		t.Fatalf("check() = %q, want %d messages", got, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("message %d = %q, want it to start with %q", i, got[i], want[i])
		}
	}
	if !strings.Contains(got[0], "imports must point down") {
		t.Errorf("message %q does not say which way the arrow must point", got[0])
	}
}

// check returns a message for every package it cannot place and every
// import that points up or sideways.
func check(imports map[string]map[string]bool) []string {
	var msgs []string
	pkgs := make([]string, 0, len(imports))
	for p := range imports {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, from := range pkgs {
		lf, ok := layers[from]
		if !ok {
			msgs = append(msgs, fmt.Sprintf("package %s is not placed in the layering table: add it to internal/layers with its rank and role", name(from)))
			continue
		}
		deps := make([]string, 0, len(imports[from]))
		for to := range imports[from] {
			deps = append(deps, to)
		}
		sort.Strings(deps)
		for _, to := range deps {
			lt, ok := layers[to]
			if !ok || lt.rank < lf.rank {
				continue // an unplaced package is reported as a package of its own
			}
			how := "a higher layer,"
			if lt.rank == lf.rank {
				how = "its peer"
			}
			msgs = append(msgs, fmt.Sprintf("%s (%s, layer %d) imports %s %s (%s, layer %d): imports must point down, "+
				"from the service towards the vocabulary, so %s may not depend on %s. If it needs something of it, "+
				"declare the interface it needs in %s (in the root package's types) and let the server wire the two",
				name(from), lf.role, lf.rank, how, name(to), lt.role, lt.rank, name(from), name(to), name(from)))
		}
	}
	return msgs
}

func name(pkg string) string {
	if pkg == "" {
		return "psgate (root)"
	}
	return pkg
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	if _, err := os.Stat(a); err != nil {
		return p
	}
	return a
}

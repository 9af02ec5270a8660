// Package purity checks that a protocol package stays pure: it imports
// only the packages it is allowed, starts no goroutines and reads no
// clock. The wsman, psrp, clixml and xpress tests call it on themselves.
package purity

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Check inspects the non-test Go files of the current directory.
func Check(t testing.TB, allowed ...string) {
	t.Helper()
	ok := make(map[string]bool, len(allowed))
	for _, p := range allowed {
		ok[p] = true
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !ok[path] {
				t.Errorf("%s imports %q, which this pure protocol package must not use", name, path)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.GoStmt:
				t.Errorf("%s: goroutine at %s", name, fset.Position(x.Pos()))
			case *ast.SelectorExpr:
				if id, isIdent := x.X.(*ast.Ident); isIdent && id.Name == "time" &&
					(x.Sel.Name == "Now" || x.Sel.Name == "Sleep" || x.Sel.Name == "Since" || x.Sel.Name == "After") {
					t.Errorf("%s: time.%s at %s", name, x.Sel.Name, fset.Position(x.Pos()))
				}
			}
			return true
		})
	}
}

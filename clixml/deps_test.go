package clixml

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPure enforces that clixml stays a pure protocol package: standard
// library text and encoding packages only, no goroutines, no clock.
func TestPure(t *testing.T) {
	allowed := map[string]bool{
		"bytes": true, "encoding/base64": true, "encoding/xml": true, "errors": true, "fmt": true,
		"io": true, "math": true, "net/url": true, "strconv": true, "strings": true, "time": true,
		"unicode/utf16": true, "unicode/utf8": true,
		"github.com/psgate/psgate/psobject": true,
	}
	checkPure(t, allowed)
}

func checkPure(t *testing.T, allowed map[string]bool) {
	t.Helper()
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
			if !allowed[path] {
				t.Errorf("%s imports %q, which a pure protocol package must not use", name, path)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.GoStmt:
				t.Errorf("%s: goroutine at %s", name, fset.Position(x.Pos()))
			case *ast.SelectorExpr:
				if id, ok := x.X.(*ast.Ident); ok && id.Name == "time" && (x.Sel.Name == "Now" || x.Sel.Name == "Sleep" || x.Sel.Name == "Since") {
					t.Errorf("%s: time.%s at %s", name, x.Sel.Name, fset.Position(x.Pos()))
				}
			}
			return true
		})
	}
}

package logkey

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// keyNames maps every key's value to its constant's name.
var keyNames = map[string]string{
	RequestID: "RequestID", Tenant: "Tenant", TenantID: "TenantID", User: "User", UserID: "UserID",
	ShellID: "ShellID", Shells: "Shells", CommandID: "CommandID", Command: "Command", Client: "Client",
	ClientID: "ClientID", Node: "Node", Action: "Action", Code: "Code", Reason: "Reason", Err: "Err",
}

// logMethods are the slog calls whose arguments after the message (or,
// for With, from the first) alternate key and value.
var logMethods = map[string]int{"Info": 1, "Warn": 1, "Error": 1, "Debug": 1, "With": 0}

// TestOneSetOfKeys reads every non-test Go file of the module and fails on a
// log call that writes one of the shared keys, or an old spelling of one, as
// a string literal instead of this package's constant.
func TestOneSetOfKeys(t *testing.T) {
	root := filepath.Join("..", "..")
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
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			first, ok := logMethods[sel.Sel.Name]
			if _, chained := sel.X.(*ast.CallExpr); !ok || (chained && sel.Sel.Name == "With") {
				// psgate.E(...).With(key, value) is an error's data,
				// not a log attribute.
				return true
			}
			for i := first; i < len(call.Args); i += 2 {
				lit, ok := call.Args[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				key, err := strconv.Unquote(lit.Value)
				if err != nil {
					continue
				}
				if name, shared := keyNames[key]; shared {
					t.Errorf("%s: log key %q written as a literal; use logkey.%s", fset.Position(lit.Pos()), key, name)
				} else if to, old := aliases[key]; old {
					t.Errorf("%s: log key %q is the old spelling of %q; use logkey.%s", fset.Position(lit.Pos()), key, to, keyNames[to])
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

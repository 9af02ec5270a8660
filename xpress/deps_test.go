package xpress

import (
	"go/parser"
	gotoken "go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the package a pure codec: no I/O, logging, time or
// randomness, only these standard library packages.
func TestImports(t *testing.T) {
	allowed := map[string]bool{
		"cmp": true, "encoding/binary": true, "errors": true, "fmt": true,
		"math": true, "math/bits": true, "slices": true,
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := gotoken.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !allowed[path] {
				t.Errorf("%s imports %q, not allowed in a pure codec package", name, path)
			}
		}
	}
}

package wsman

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the codec pure: standard-library encoding and text
// packages only; no network, files, clock, logging or goroutine machinery.
func TestImports(t *testing.T) {
	allowed := map[string]bool{
		"bytes": true, "encoding/base64": true, "encoding/xml": true, "errors": true, "fmt": true, "io": true,
		"math": true, "sort": true, "strconv": true, "strings": true, "time": true,
		"unicode": true, "unicode/utf16": true, "unicode/utf8": true,
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !allowed[path] {
				t.Errorf("%s imports %q; wsman may only use the standard encoding/text packages", f, path)
			}
		}
	}
}

// TestNoClockOrGoroutines guards the rules an import list cannot: time is
// imported for time.Duration only.
func TestNoClockOrGoroutines(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src := string(readFile(t, f))
		for _, banned := range []string{"time.Now", "time.Sleep", "time.After", "time.NewTimer", "go func", "sync."} {
			if strings.Contains(src, banned) {
				t.Errorf("%s uses %s", f, banned)
			}
		}
	}
}

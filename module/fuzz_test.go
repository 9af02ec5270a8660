package module

import (
	"os"
	"strings"
	"testing"
)

// FuzzParse feeds module files to the loader: it must never panic, and a
// refusal must say where (a line) for every problem.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile(examplePath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte(minimal))
	f.Add([]byte(`{"name": "x", "name": "y"}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`))
	f.Add([]byte("{\"cmdlets\": [{\"request\": {\"path\": \"/a/{b\"}}]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("f.json", data)
		if err == nil {
			if m == nil || len(m.Cmdlets) == 0 {
				t.Fatal("a module that loads has cmdlets")
			}
			return
		}
		e, ok := err.(*Error)
		if !ok || len(e.Problems) == 0 {
			t.Fatalf("Parse error %T %v, want an *Error with problems", err, err)
		}
		for _, p := range e.Problems {
			if p.Line < 1 || p.Column < 1 {
				t.Fatalf("problem without a position: %s", p)
			}
		}
	})
}

// FuzzAnswer feeds backend answers to the result and error decoders.
func FuzzAnswer(f *testing.F) {
	f.Add([]byte(`{"items": [{"Id": "w-1", "Size": 3, "CreatedAt": "2026-01-02T03:04:05Z", "Owner": {"Upn": "a"}}], "nextLink": "/x"}`))
	f.Add([]byte(`{"error": {"message": "bad", "details": [{"field": "a", "message": "b"}]}}`))
	f.Add([]byte(`{"detail": "x", "errors": {"a": ["b", 1]}}`))
	f.Add([]byte(`[1, 2.5, 1e400, -9223372036854775809, true, null, "s"]`))
	td := &TypeDef{Name: "T", Properties: map[string]PropType{"Size": PropInt, "CreatedAt": PropDateTime, "Id": PropGUID, "L": PropLong, "B": PropBool, "S": PropString, "D": PropDouble}}
	f.Fuzz(func(t *testing.T, body []byte) {
		if d := problemDetail(body); len([]rune(d)) > maxDetail+1 || strings.ContainsAny(d, "\r\n\x00") {
			t.Fatalf("problemDetail = %q: unbounded or with control characters", d)
		}
		root, err := parseTree(body)
		if err != nil {
			return
		}
		_ = toOutput(root, "T", td)
		if root.kind == kindObject {
			for _, v := range root.vals {
				_ = toOutput(v, "", td)
			}
		}
	})
}

// FuzzTemplate checks that a template that parses expands to its text
// with every placeholder replaced.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"/widgets/{Id}", "{a}{b}", "/x/{", "}", "/a/{}/b", "plain"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := parseTemplate(s)
		if err != nil {
			return
		}
		out := tm.expand(func(string) string { return "" })
		if strings.ContainsAny(out, "{}") {
			t.Fatalf("%q expands to %q", s, out)
		}
	})
}

package format

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate/psobject"
)

func TestFit(t *testing.T) {
	tests := []struct {
		s     string
		width int
		right bool
		want  string
	}{
		{"abc", 5, false, "abc  "},
		{"abc", 5, true, "  abc"},
		{"abcdefgh", 6, false, "abc..."},
		{"abcdefgh", 6, true, "...fgh"},
		{"abcdefgh", 3, false, "abc"},
		{"abcdefgh", 3, true, "fgh"},
		{"日本語です", 6, false, "日... "},
		{"日本語です", 6, true, " ...す"},
	}
	for _, tt := range tests {
		if got := fit(tt.s, tt.width, tt.right); got != tt.want {
			t.Errorf("fit(%q, %d, %v) = %q, want %q", tt.s, tt.width, tt.right, got, tt.want)
		}
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		s     string
		width int
		want  []string
	}{
		{"short", 10, []string{"short"}},
		{"", 10, []string{""}},
		{"aaa bbb ccc", 7, []string{"aaa bbb", "ccc"}},
		{"aaa bbb ccc", 8, []string{"aaa bbb ", "ccc"}},
		{"aaaaaaaaaa bb", 4, []string{"aaaa", "aaaa", "aa ", "bb"}},
		{"日本語日本語", 5, []string{"日本", "語日", "本語"}},
	}
	for _, tt := range tests {
		got := wrap(tt.s, tt.width)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("wrap(%q, %d) mismatch (-want +got):\n%s", tt.s, tt.width, diff)
		}
	}
}

func TestFitWidths(t *testing.T) {
	tests := []struct {
		name    string
		natural []int
		total   int
		want    []int
	}{
		{name: "fits", natural: []int{5, 10, 3}, total: 20, want: []int{5, 10, 3}},
		{name: "exactly fits", natural: []int{5, 10, 3}, total: 20, want: []int{5, 10, 3}},
		{name: "widest cut first", natural: []int{5, 30, 20}, total: 40, want: []int{5, 17, 16}},
		{name: "equal widest share", natural: []int{30, 30}, total: 21, want: []int{10, 10}},
		{name: "columns dropped from the right", natural: []int{10, 10, 10}, total: 10, want: []int{5, 4}},
		{name: "single column", natural: []int{100}, total: 10, want: []int{10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fitWidths(tt.natural, tt.total)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("fitWidths(%v, %d) mismatch (-want +got):\n%s", tt.natural, tt.total, diff)
			}
		})
	}
}

func TestWildMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"display*", "displayname", true},
		{"*name", "userprincipalname", true},
		{"d?sp*e", "displayname", true},
		{"*x*", "displayname", false},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false},
	}
	for _, tt := range tests {
		if got := wildMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("wildMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

// FuzzFormat checks that any property values keep the layout's promises:
// no line wider than the width, no trailing spaces, every line ended.
func FuzzFormat(f *testing.F) {
	f.Add("Adele Vance", "sip:adele@contoso.test", 120)
	f.Add("multi\nline\rtext", "日本語 テキスト", 12)
	f.Add(strings.Repeat("long ", 40), "", 10)
	f.Fuzz(func(t *testing.T, a, b string, width int) {
		width = MinWidth + abs(width)%200
		objs := []any{
			psobject.NewCustom(psobject.P("A", a), psobject.P("Bee", b), psobject.P("N", int32(len(a)))),
			psobject.NewCustom(psobject.P("A", b), psobject.P("Bee", a), psobject.P("N", int32(len(b)))),
		}
		opt := Options{Width: width, Newline: "\n"}
		for name, out := range map[string]string{
			"Table": Table(objs, nil, opt),
			"List":  List(objs, nil, opt),
		} {
			if !strings.HasSuffix(out, "\n") {
				t.Fatalf("%s: output does not end with a newline: %q", name, out)
			}
			for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				if strings.HasSuffix(l, " ") {
					t.Errorf("%s: trailing space in %q", name, l)
				}
				if n := cells(l); n > width {
					t.Errorf("%s: line of %d cells exceeds width %d: %q", name, n, width, l)
				}
			}
		}
	})
}

func abs(n int) int {
	if n < 0 {
		if n == -n { // math.MinInt
			return 0
		}
		return -n
	}
	return n
}

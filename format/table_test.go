package format

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate/psobject"
)

func TestTable(t *testing.T) {
	many := psobject.NewCustom()
	for i := 1; i <= 12; i++ {
		many.Extended = append(many.Extended, psobject.P(fmt.Sprintf("P%d", i), int32(i)))
	}
	tests := []struct {
		name  string
		objs  []any
		props []string
		width int
		want  string
	}{
		{name: "empty input", want: ""},
		{
			name: "numbers and booleans are right-aligned, header included",
			objs: []any{
				psobject.NewCustom(psobject.P("Name", "alpha"), psobject.P("Count", int32(5)), psobject.P("Ratio", 0.25), psobject.P("Enabled", true)),
				psobject.NewCustom(psobject.P("Name", "b"), psobject.P("Count", int32(12345)), psobject.P("Ratio", 10.5), psobject.P("Enabled", false)),
			},
			want: `
Name  Count Ratio Enabled
----  ----- ----- -------
alpha     5  0.25    True
b     12345  10.5   False


`,
		},
		{
			name:  "too wide: the widest columns are cut first",
			objs:  users(),
			props: []string{"DisplayName", "UserPrincipalName", "SipAddress", "Department"},
			width: 60,
			want: `
DisplayName UserPrincipalName  SipAddress         Department
----------- -----------------  ----------         ----------
Adele Vance adele.vance@con... sip:adele.vance... Sales
Alex Wilber alex.wilber@con... sip:alex.wilber... Sales
Megan Bowen megan.bowen@con...                    Sales


`,
		},
		{
			name:  "right-aligned values are cut at their start",
			objs:  []any{psobject.NewCustom(psobject.P("Name", "a-very-long-file-name.txt"), psobject.P("Size", int64(1234567890123)))},
			width: 20,
			want: `
Name            Size
----            ----
a-very-... ...890123


`,
		},
		{
			name:  "wildcards, declared spelling and missing properties",
			objs:  users(),
			props: []string{"Display*", "nosuch", "enabled"},
			want: `
DisplayName nosuch Enabled
----------- ------ -------
Adele Vance           True
Alex Wilber           True
Megan Bowen          False


`,
		},
		{
			name: "multi-line cells show their first line",
			objs: []any{psobject.NewCustom(psobject.P("Name", "x"), psobject.P("Notes", "first line\nsecond line"))},
			want: `
Name Notes
---- -----
x    first line...


`,
		},
		{
			name: "at most ten columns of all properties",
			objs: []any{many},
			want: `
P1 P2 P3 P4 P5 P6 P7 P8 P9 P10
-- -- -- -- -- -- -- -- -- ---
 1  2  3  4  5  6  7  8  9  10


`,
		},
		{
			name:  "one table for objects of different types",
			objs:  []any{users()[0], tenantObject()},
			props: []string{"DisplayName"},
			want: `
DisplayName
-----------
Adele Vance
Contoso Ltd.


`,
		},
		{
			name: "scalars before the table",
			objs: []any{"Result:", psobject.NewCustom(psobject.P("N", int32(1)))},
			want: `Result:

N
-
1


`,
		},
		{
			name: "wide characters take two cells",
			objs: []any{
				psobject.NewCustom(psobject.P("Name", "日本語"), psobject.P("N", int32(1))),
				psobject.NewCustom(psobject.P("Name", "ab"), psobject.P("N", int32(2))),
			},
			want: `
Name   N
----   -
日本語 1
ab     2


`,
		},
		{
			name: "collections show four items",
			objs: []any{psobject.NewCustom(psobject.P("Roles", []any{"a", "b", "c", "d", "e"}), psobject.P("Bytes", []byte{1, 2, 3, 4, 5}))},
			want: `
Roles           Bytes
-----           -----
{a, b, c, d...} {1, 2, 3, 4...}


`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Table(tt.objs, tt.props, Options{Width: tt.width, Newline: "\n"})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Table() mismatch (-want +got):\n%s\ngot:\n%s", diff, got)
			}
		})
	}
}

func TestTableEnumerationLimit(t *testing.T) {
	obj := psobject.NewCustom(psobject.P("Roles", []any{"a", "b", "c"}))
	tests := []struct {
		limit int
		want  string
	}{
		{limit: -1, want: "{a, b, c}"},
		{limit: 2, want: "{a, b...}"},
		{limit: 0, want: "{a, b, c}"},
	}
	for _, tt := range tests {
		got := Table([]any{obj}, nil, Options{EnumerationLimit: tt.limit, Newline: "\n"})
		if row := strings.Split(got, "\n")[3]; row != tt.want {
			t.Errorf("EnumerationLimit %d: row = %q, want %q", tt.limit, row, tt.want)
		}
	}
}

func TestTableFitsWidth(t *testing.T) {
	long := strings.Repeat("x", 300)
	objs := []any{psobject.NewCustom(
		psobject.P("A", long), psobject.P("B", long), psobject.P("C", int64(42)), psobject.P("D", "short"),
	)}
	for _, width := range []int{10, 11, 20, 40, 79, 120, 250} {
		got := Table(objs, nil, Options{Width: width, Newline: "\n"})
		for _, l := range strings.Split(got, "\n") {
			if n := cells(l); n > width {
				t.Errorf("width %d: line of %d cells: %q", width, n, l)
			}
		}
	}
}

func BenchmarkTable(b *testing.B) {
	objs := make([]any, 100)
	for i := range objs {
		objs[i] = userObject(fmt.Sprintf("User %03d", i), fmt.Sprintf("user%03d@contoso.test", i),
			fmt.Sprintf("sip:user%03d@contoso.test", i), i%3 != 0)
	}
	b.ReportAllocs()
	for b.Loop() {
		Table(objs, nil, Options{})
	}
}

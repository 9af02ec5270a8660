package format

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate/psobject"
)

func TestDefault(t *testing.T) {
	tests := []struct {
		name string
		objs []any
		want string
	}{
		{name: "empty input", objs: nil, want: ""},
		{name: "only nils", objs: []any{nil, (*psobject.Object)(nil)}, want: ""},
		{
			name: "scalars one per line",
			objs: []any{"hello", int32(42), true, 2.5, created, 90 * time.Minute, psobject.GUID("9f3c2a1e-5b7d-4c1e-8a2f-000000000001")},
			want: "hello\n42\nTrue\n2.5\n3/14/2026 9:26:53 AM\n01:30:00\n9f3c2a1e-5b7d-4c1e-8a2f-000000000001\n",
		},
		{name: "empty string is an empty line", objs: []any{"a", "", "b"}, want: "a\n\nb\n"},
		{name: "multi-line string", objs: []any{"one\r\ntwo\nthree"}, want: "one\ntwo\nthree\n"},
		{name: "arrays are enumerated", objs: []any{[]any{"a", []any{"b", nil, "c"}}, []byte{1, 2}}, want: "a\nb\nc\n1\n2\n"},
		{
			name: "object without properties shows its text",
			objs: []any{&psobject.Object{TypeNames: []string{"Psgate.Marker"}, Text: "marker"}, psobject.New([]string{"Psgate.Empty"})},
			want: "marker\nPsgate.Empty\n",
		},
		{
			name: "display property set of four makes a table",
			objs: users(),
			want: `
DisplayName UserPrincipalName        SipAddress                   Enabled
----------- -----------------        ----------                   -------
Adele Vance adele.vance@contoso.test sip:adele.vance@contoso.test    True
Alex Wilber alex.wilber@contoso.test sip:alex.wilber@contoso.test    True
Megan Bowen megan.bowen@contoso.test                                False


`,
		},
		{
			name: "five properties or more make a list",
			objs: []any{tenantObject()},
			want: `

Identity                : 9f3c2a1e-5b7d-4c1e-8a2f-000000000001
DisplayName             : Contoso Ltd.
Name                    : contoso
DomainName              : contoso.test
Domains                 : {contoso.test}
CreatedOn               : 3/14/2026 9:26:53 AM
RemotePowerShellEnabled : True
MaxShellsPerUser        : 3
MaxShellsPerTenant      : 20
SessionLifetime         : 01:00:00



`,
		},
		{
			name: "list of two objects",
			objs: []any{
				psobject.NewCustom(psobject.P("A", 1), psobject.P("Bee", 2), psobject.P("C", 3), psobject.P("D", 4), psobject.P("E", nil)),
				psobject.NewCustom(psobject.P("A", 5), psobject.P("Bee", 6), psobject.P("C", 7), psobject.P("D", 8), psobject.P("E", "x")),
			},
			want: `

A   : 1
Bee : 2
C   : 3
D   : 4
E   :

A   : 5
Bee : 6
C   : 7
D   : 8
E   : x



`,
		},
		{
			name: "a change of type starts a new section",
			objs: []any{"Users:", users()[0], users()[1], tenantObject(), users()[2]},
			want: `Users:

DisplayName UserPrincipalName        SipAddress                   Enabled
----------- -----------------        ----------                   -------
Adele Vance adele.vance@contoso.test sip:adele.vance@contoso.test    True
Alex Wilber alex.wilber@contoso.test sip:alex.wilber@contoso.test    True




Identity                : 9f3c2a1e-5b7d-4c1e-8a2f-000000000001
DisplayName             : Contoso Ltd.
Name                    : contoso
DomainName              : contoso.test
Domains                 : {contoso.test}
CreatedOn               : 3/14/2026 9:26:53 AM
RemotePowerShellEnabled : True
MaxShellsPerUser        : 3
MaxShellsPerTenant      : 20
SessionLifetime         : 01:00:00




DisplayName UserPrincipalName        SipAddress Enabled
----------- -----------------        ---------- -------
Megan Bowen megan.bowen@contoso.test              False


`,
		},
		{
			name: "scalars inside a table stay between its rows",
			objs: []any{users()[0], "note", users()[2]},
			want: `
DisplayName UserPrincipalName        SipAddress                   Enabled
----------- -----------------        ----------                   -------
Adele Vance adele.vance@contoso.test sip:adele.vance@contoso.test    True
note
Megan Bowen megan.bowen@contoso.test                                False


`,
		},
		{
			name: "custom objects keep the first object's columns",
			objs: []any{
				psobject.NewCustom(psobject.P("Name", "a"), psobject.P("Size", int64(1))),
				psobject.NewCustom(psobject.P("Other", "b")),
			},
			want: `
Name Size
---- ----
a       1



`,
		},
		{
			name: "hashtable",
			objs: []any{&psobject.Dict{Entries: []psobject.DictEntry{
				{Key: "MaxShellsPerUser", Value: int32(3)},
				{Key: "Roles", Value: []any{"Tenant Administrator", "Helpdesk"}},
			}}},
			want: `
Name                           Value
----                           -----
MaxShellsPerUser               3
Roles                          {Tenant Administrator, Helpdesk}


`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Default(tt.objs, lf)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Default() mismatch (-want +got):\n%s\ngot:\n%s", diff, got)
			}
		})
	}
}

func TestDefaultUsesCRLFByDefault(t *testing.T) {
	got := Default([]any{"a", psobject.NewCustom(psobject.P("N", int32(1)))}, Options{})
	want := "a\r\n\r\nN\r\n-\r\n1\r\n\r\n\r\n"
	if got != want {
		t.Errorf("Default() = %q, want %q", got, want)
	}
}

func TestNoTrailingSpaces(t *testing.T) {
	got := Default(append(users(), tenantObject()), lf)
	for i, l := range strings.Split(got, "\n") {
		if strings.HasSuffix(l, " ") {
			t.Errorf("line %d has trailing spaces: %q", i+1, l)
		}
	}
}

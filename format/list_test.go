package format

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate/psobject"
)

func TestList(t *testing.T) {
	tests := []struct {
		name  string
		objs  []any
		props []string
		width int
		want  string
	}{
		{name: "empty input", want: ""},
		{
			name: "display properties as a list",
			objs: users()[:1],
			want: `

DisplayName       : Adele Vance
UserPrincipalName : adele.vance@contoso.test
SipAddress        : sip:adele.vance@contoso.test
Enabled           : True



`,
		},
		{
			name:  "wildcard selects properties",
			objs:  users()[2:],
			props: []string{"*Name", "When*"},
			want: `

UserPrincipalName : megan.bowen@contoso.test
DisplayName       : Megan Bowen
WhenCreated       : 3/14/2026 9:26:53 AM



`,
		},
		{
			name:  "long values wrap at spaces under the value column",
			objs:  []any{psobject.NewCustom(psobject.P("Description", "The quick brown fox jumps over the lazy dog"), psobject.P("Id", int32(7)))},
			width: 30,
			want: `

Description : The quick brown
              fox jumps over
              the lazy dog
Id          : 7



`,
		},
		{
			name:  "a word longer than the line is broken",
			objs:  []any{psobject.NewCustom(psobject.P("Key", strings.Repeat("x", 20)))},
			width: 20,
			want: `

Key : xxxxxxxxxxxxxx
      xxxxxx



`,
		},
		{
			name: "multi-line values are indented",
			objs: []any{psobject.NewCustom(psobject.P("Name", "motd"), psobject.P("Text", "Welcome.\r\nMaintenance on Sunday.\n\nThanks"))},
			want: `

Name : motd
Text : Welcome.
       Maintenance on Sunday.

       Thanks



`,
		},
		{
			name:  "long names are cut to leave room for values",
			objs:  []any{psobject.NewCustom(psobject.P("AVeryLongPropertyName", "v"))},
			width: 12,
			want: `

AVeryLon : v



`,
		},
		{
			name: "scalars between objects",
			objs: []any{psobject.NewCustom(psobject.P("A", "1")), "--", psobject.NewCustom(psobject.P("A", "2"))},
			want: `

A : 1

--
A : 2



`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := List(tt.objs, tt.props, Options{Width: tt.width, Newline: "\n"})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("List() mismatch (-want +got):\n%s\ngot:\n%s", diff, got)
			}
		})
	}
}

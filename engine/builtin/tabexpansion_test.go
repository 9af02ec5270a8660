package builtin

import (
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/psobject"
)

func completionTexts(cc CommandCompletion) []string {
	var out []string
	for _, m := range cc.Matches {
		out = append(out, m.CompletionText)
	}
	return out
}

func TestCompleteInput(t *testing.T) {
	env := newFakeEnv(t)
	auth := &hideAuthorizer{hidden: map[string]bool{"Set-CsUser": true}}
	r := env.runspace(engine.RunspaceConfig{Authorizer: auth})
	tests := []struct {
		input        string
		cursor       int
		want         string // completion texts, comma-separated
		index, count int
	}{
		{"Get-CsT", -1, "Get-CsTenant", 0, 7},
		{"get-cst", -1, "Get-CsTenant", 0, 7},
		// Hidden by the caller's roles: never offered, as Get-Command
		// never lists it.
		{"Set-CsU", -1, "", 0, 7},
		{"Set-CsUser -Dep", -1, "", 11, 4},
		// TabExpansion2 itself is unlisted.
		{"TabExp", -1, "", 0, 6},
		{"Get-CsOnlineUser -Fil", -1, "-Filter", 17, 4},
		{"Get-CsOnlineUser -Identity x -I", -1, "-InformationAction,-InformationVariable", 29, 2},
		{"Get-CsTenant | Get-CsOnlineUser -R", -1, "-ResultSize", 32, 2},
		{"Get-CsTenant; Get-CsT", -1, "Get-CsTenant", 14, 7},
		{"Get-CsT | Sort-Object", 7, "Get-CsTenant", 0, 7},
		{"Get-CsOnlineUser 'a b' -Fi", -1, "-Filter", 23, 3},
		{"Get-CsOnlineUser 'a -Fi", -1, "", 23, 0},
		{"Get-CsOnlineUser $x", -1, "", 17, 2},
		{"", -1, "", 0, 0},
		{"Get-CsOnlineUser ", -1, "", 17, 0},
		// Cursor offsets count UTF-16 code units, as .NET does.
		{"Write-Output '😀'; Get-CsT", -1, "Get-CsTenant", 19, 7},
	}
	for _, tt := range tests {
		cc := CompleteInput(r, tt.input, tt.cursor)
		if got := strings.Join(completionTexts(cc), ","); got != tt.want {
			t.Errorf("%q at %d: completes to %q, want %q", tt.input, tt.cursor, got, tt.want)
		}
		if cc.ReplacementIndex != tt.index || cc.ReplacementLength != tt.count {
			t.Errorf("%q at %d: replaces %d+%d, want %d+%d", tt.input, tt.cursor, cc.ReplacementIndex, cc.ReplacementLength, tt.index, tt.count)
		}
	}
}

func TestTabExpansion2WritesACommandCompletion(t *testing.T) {
	env := newFakeEnv(t)
	rec, err := env.run(t, engine.RunspaceConfig{}, "TabExpansion2 'Get-CsOnlineUser -Iden' 21")
	if err != nil || len(rec.out) != 1 {
		t.Fatalf("TabExpansion2: %v, %d objects", err, len(rec.out))
	}
	o := rec.out[0].(*psobject.Object)
	if o.TypeNames[0] != "System.Management.Automation.CommandCompletion" {
		t.Fatalf("type %v", o.TypeNames)
	}
	matches, _ := o.Get("CompletionMatches")
	list := matches.([]any)
	if len(list) != 1 {
		t.Fatalf("matches %v", list)
	}
	m := list[0].(*psobject.Object)
	for name, want := range map[string]any{
		"CompletionText": "-Identity", "ListItemText": "Identity", "ToolTip": "[string] Identity",
		"ResultType": psobject.Enum{Type: "System.Management.Automation.CompletionResultType", Name: "ParameterName", Value: 7},
	} {
		if got, _ := m.Get(name); got != want {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	for name, want := range map[string]int32{"CurrentMatchIndex": -1, "ReplacementIndex": 17, "ReplacementLength": 4} {
		if got, _ := o.Get(name); got != want {
			t.Errorf("%s = %#v, want %d", name, got, want)
		}
	}
	// Not listed, so Import-PSSession never proxies it and Get-Command
	// shows only what a user types.
	rec, _ = env.run(t, engine.RunspaceConfig{}, "Get-Command TabExpansion2")
	if len(rec.out) != 0 {
		t.Errorf("Get-Command lists TabExpansion2: %v", rec.out)
	}
}

func FuzzCompleteInput(f *testing.F) {
	for _, s := range []string{"Get-CsT", "Get-CsOnlineUser -Ide", "a | b -c 'd e' \"f", "x; y {(z", "😀 -", "$v -"} {
		f.Add(s, -1)
		f.Add(s, 3)
	}
	env := newFakeEnv(f)
	r := env.runspace(engine.RunspaceConfig{})
	f.Fuzz(func(t *testing.T, input string, cursor int) {
		cc := CompleteInput(r, input, cursor)
		n := len(utf16.Encode([]rune(input)))
		if cc.ReplacementIndex < 0 || cc.ReplacementLength < 0 || cc.ReplacementIndex+cc.ReplacementLength > n {
			t.Fatalf("%q at %d: replacement %d+%d outside the %d-unit line", input, cursor, cc.ReplacementIndex, cc.ReplacementLength, n)
		}
		for _, m := range cc.Matches {
			if m.CompletionText == "" {
				t.Fatalf("%q: empty completion", input)
			}
		}
		_ = cc.Object()
	})
}

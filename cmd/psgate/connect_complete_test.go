package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/psgate/psgate/psobject"
)

func TestCompleter(t *testing.T) {
	cmd := func(name string, params ...string) any {
		d := &psobject.Dict{}
		for _, p := range params {
			d.Entries = append(d.Entries, psobject.DictEntry{Key: p, Value: nil})
		}
		return psobject.NewCustom(psobject.P("Name", name), psobject.P("Parameters", d))
	}
	c := newCompleter([]any{cmd("Get-CsOnlineUser", "Identity", "Filter"), cmd("Get-CsTenant"), cmd("Set-CsUser", "Identity", "EnterpriseVoiceEnabled")})
	tests := []struct {
		line      string
		pos       int
		wantLine  string
		wantPos   int
		wantCands []string
	}{
		{"get-csonl", 9, "Get-CsOnlineUser", 16, nil},
		{"Get-Cs", 6, "Get-Cs", 6, []string{"Get-CsOnlineUser", "Get-CsTenant"}},
		{"Get-CsOnlineUser -id", 20, "Get-CsOnlineUser -Identity", 26, nil},
		{"Get-CsOnlineUser | Set-CsUser -E", 32, "Get-CsOnlineUser | Set-CsUser -EnterpriseVoiceEnabled", 53, nil},
		{"Get-CsTenant -x", 15, "Get-CsTenant -x", 15, nil},
		{"Write-Output get-cs", 19, "Write-Output get-cs", 19, nil}, // an argument, not a command
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			line, pos, cands := c.complete(tt.line, tt.pos)
			if line != tt.wantLine || pos != tt.wantPos {
				t.Errorf("complete = %q at %d, want %q at %d", line, pos, tt.wantLine, tt.wantPos)
			}
			if diff := cmp.Diff(cands, tt.wantCands); diff != "" {
				t.Errorf("candidates (-got +want):\n%s", diff)
			}
		})
	}
}

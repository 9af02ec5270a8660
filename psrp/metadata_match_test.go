package psrp

import "testing"

func TestGetCommandMetadataMatches(t *testing.T) {
	tests := []struct {
		names []string
		typ   CommandTypes
		name  string
		t     CommandTypes
		want  bool
	}{
		{[]string{"*"}, 0, "Get-CsUser", CommandCmdlet, true},
		{[]string{"get-cs*"}, 0, "Get-CsUser", CommandCmdlet, true},
		{[]string{"Set-*", "New-*"}, 0, "Get-CsUser", CommandCmdlet, false},
		{[]string{"Get-Cs?ser"}, 0, "Get-CsUser", CommandCmdlet, true},
		{[]string{"Get-Cs[UT]*"}, 0, "Get-CsTenant", CommandCmdlet, true},
		{[]string{"*"}, CommandAll, "Get-CsUser", CommandCmdlet, true},
		{[]string{"*"}, 399, "Get-CsUser", CommandCmdlet, true}, // PowerShell 5.1
		{[]string{"*"}, CommandAlias, "Get-CsUser", CommandCmdlet, false},
		{[]string{"*"}, CommandFunction, "Get-CsUser", CommandFunction, true},
		{[]string{"[bad"}, 0, "Get-CsUser", CommandCmdlet, false},
		{nil, 0, "Get-CsUser", CommandCmdlet, false},
	}
	for _, tt := range tests {
		g := GetCommandMetadata{Names: tt.names, CommandType: tt.typ}
		if got := g.Matches(tt.name, tt.t); got != tt.want {
			t.Errorf("%v (type %d).Matches(%q, %v) = %v, want %v", tt.names, tt.typ, tt.name, tt.t, got, tt.want)
		}
	}
}

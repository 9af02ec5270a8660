package engine_test

import (
	"strings"
	"testing"
)

func TestSyntax(t *testing.T) {
	env := newFakeEnv(t)
	tests := []struct {
		name string
		want []string
	}{
		{"Get-CsOnlineUser", []string{"Get-CsOnlineUser [[-Identity] <string>] [-Filter <string>] [-ResultSize <int>] [<CommonParameters>]"}},
		{"Set-CsUser", []string{"Set-CsUser [-Identity] <string> [-Department <string>] [-Enabled <bool>] [-WhatIf] [-Confirm] [<CommonParameters>]"}},
		{"Invoke-Fail", []string{"Invoke-Fail [[-Mode] {Terminating | NonTerminating | Panic | Plain | Warning}] [<CommonParameters>]"}},
		{"Get-CsTenant", []string{"Get-CsTenant [<CommonParameters>]"}},
		{"Get-Help", []string{
			"Get-Help [[-Name] <string>] [-Category <string[]>] [-Full] [<CommonParameters>]",
			"Get-Help [[-Name] <string>] -Detailed [-Category <string[]>] [<CommonParameters>]",
			"Get-Help [[-Name] <string>] -Examples [-Category <string[]>] [<CommonParameters>]",
			"Get-Help [[-Name] <string>] -Parameter <string> [-Category <string[]>] [<CommonParameters>]",
		}},
	}
	for _, tt := range tests {
		cmd, _ := env.catalog.Lookup(tt.name)
		got := cmd.Syntax()
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s syntax:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

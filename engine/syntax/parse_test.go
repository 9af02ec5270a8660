package syntax

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// pos-free helpers for expected ASTs.
func cmd(name string, args ...Argument) Command { return Command{Name: name, Args: args} }
func named(name string, v any) Argument         { return Argument{Name: name, Value: v, HasValue: true} }
func sw(name string) Argument                   { return Argument{Name: name} }
func pos(v any) Argument                        { return Argument{Value: v, HasValue: true} }
func pipe(cmds ...Command) Pipeline             { return Pipeline{Commands: cmds} }

var ignorePos = cmpopts.IgnoreTypes(Pos{})

func TestParseAccepted(t *testing.T) {
	tests := []struct {
		in   string
		want []Pipeline
	}{
		{"Get-CsTenant", []Pipeline{pipe(cmd("Get-CsTenant"))}},
		{"  get-cstenant  ", []Pipeline{pipe(cmd("get-cstenant"))}},
		{"Get-CsOnlineUser alice@contoso.test", []Pipeline{pipe(cmd("Get-CsOnlineUser", pos("alice@contoso.test")))}},
		{"Get-CsOnlineUser -Identity alice@contoso.test", []Pipeline{pipe(cmd("Get-CsOnlineUser", sw("Identity"), pos("alice@contoso.test")))}},
		{"Get-CsOnlineUser -Identity:alice", []Pipeline{pipe(cmd("Get-CsOnlineUser", named("Identity", "alice")))}},
		{"Get-CsOnlineUser -Identity: alice", []Pipeline{pipe(cmd("Get-CsOnlineUser", named("Identity", "alice")))}},
		{"Set-X -Force -Enabled:$false", []Pipeline{pipe(cmd("Set-X", sw("Force"), named("Enabled", false)))}},
		{"Set-X -A $true -B $null -C $FALSE", []Pipeline{pipe(cmd("Set-X", sw("A"), pos(true), sw("B"), pos(nil), sw("C"), pos(false)))}},
		{"Set-X 'it''s' \"say \"\"hi\"\"\"", []Pipeline{pipe(cmd("Set-X", pos("it's"), pos(`say "hi"`)))}},
		{"Set-X \"a`tb`n`\"q`\" `$x\"", []Pipeline{pipe(cmd("Set-X", pos("a\tb\n\"q\" $x")))}},
		{"Set-X \"cost: $ 5\" 'lit $x $(y)'", []Pipeline{pipe(cmd("Set-X", pos("cost: $ 5"), pos("lit $x $(y)")))}},
		{"Set-X \"`u{263A}\"", []Pipeline{pipe(cmd("Set-X", pos("\u263A")))}},
		{"Set-X 42 -7 1.5 0x10 10kb 5l 1e2 1.2.3 12abc", []Pipeline{pipe(cmd("Set-X",
			pos(int32(42)), pos(int32(-7)), pos(1.5), pos(int32(16)), pos(int32(10240)), pos(int64(5)), pos(100.0), pos("1.2.3"), pos("12abc")))}},
		{"Set-X a,b,c", []Pipeline{pipe(cmd("Set-X", pos([]any{"a", "b", "c"})))}},
		{"Set-X a, 'b' ,\n 3", []Pipeline{pipe(cmd("Set-X", pos([]any{"a", "b", int32(3)})))}},
		{"Set-X -Names:a,b", []Pipeline{pipe(cmd("Set-X", named("Names", []any{"a", "b"})))}},
		{"Set-X @(1,2,3) @() @('a'\n'b'; 'c') @(@(1,2),3)", []Pipeline{pipe(cmd("Set-X",
			pos([]any{int32(1), int32(2), int32(3)}), pos([]any{}), pos([]any{"a", "b", "c"}), pos([]any{[]any{int32(1), int32(2)}, int32(3)})))}},
		{"Set-X (5) ('a','b') ((1))", []Pipeline{pipe(cmd("Set-X", pos(int32(5)), pos([]any{"a", "b"}), pos(int32(1))))}},
		{"Set-X ,'a'", []Pipeline{pipe(cmd("Set-X", pos([]any{"a"})))}},
		{"Get-A | Select-Object -First 1 | Format-List", []Pipeline{pipe(
			cmd("Get-A"), cmd("Select-Object", sw("First"), pos(int32(1))), cmd("Format-List"))}},
		{"Get-A |\n  Sort-Object Name", []Pipeline{pipe(cmd("Get-A"), cmd("Sort-Object", pos("Name")))}},
		{"Get-A; Get-B\nGet-C;;\n\n", []Pipeline{pipe(cmd("Get-A")), pipe(cmd("Get-B")), pipe(cmd("Get-C"))}},
		{"Get-A # comment | not a pipe\nGet-B", []Pipeline{pipe(cmd("Get-A")), pipe(cmd("Get-B"))}},
		{"Get-A <# block\n comment #> -X 1", []Pipeline{pipe(cmd("Get-A", sw("X"), pos(int32(1))))}},
		{"Get-A `\n  -Name x `\r\n  -Force", []Pipeline{pipe(cmd("Get-A", sw("Name"), pos("x"), sw("Force")))}},
		{"Where-Object Enabled -eq $true", []Pipeline{pipe(cmd("Where-Object", pos("Enabled"), sw("eq"), pos(true)))}},
		{"Set-X a#b c", []Pipeline{pipe(cmd("Set-X", pos("a#b"), pos("c")))}},
		{"Set-X a`tb a'b c'd", []Pipeline{pipe(cmd("Set-X", pos("a\tb"), pos("ab cd")))}},
		{"Set-X \u2013Name x \u2014Force", []Pipeline{pipe(cmd("Set-X", sw("Name"), pos("x"), sw("Force")))}},
		{"Set-X -- -Force", []Pipeline{pipe(cmd("Set-X", pos("-Force")))}},
		{"Set-X - x$", []Pipeline{pipe(cmd("Set-X", pos("-"), pos("x$")))}},
		{"Set-X @'\nline1\n'quoted' $x\n'@", []Pipeline{pipe(cmd("Set-X", pos("line1\n'quoted' $x")))}},
		{"Set-X @\"\nTab:`t\n\"@", []Pipeline{pipe(cmd("Set-X", pos("Tab:\t")))}},
		{"Set-X \u2018curly\u2019 \u201Cdouble\u201D", []Pipeline{pipe(cmd("Set-X", pos("curly"), pos("double")))}},
		{"Set-X 1.5d", []Pipeline{pipe(cmd("Set-X", pos(Decimal("1.5"))))}},
		{"Set-X [int] a=b", []Pipeline{pipe(cmd("Set-X", pos("[int]"), pos("a=b")))}},
		{"cmd.exe /c dir", []Pipeline{pipe(cmd("cmd.exe", pos("/c"), pos("dir")))}},
		{"? Name -like a*", []Pipeline{pipe(cmd("?", pos("Name"), sw("like"), pos("a*")))}},
		{"", nil},
		{"# only a comment", nil},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(got.Statements, tt.want, ignorePos, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Parse(%q) (-got +want):\n%s", tt.in, diff)
		}
	}
}

func TestParsePositions(t *testing.T) {
	s, err := Parse("Get-A\n  Get-B  -Name  x")
	if err != nil {
		t.Fatal(err)
	}
	b := s.Statements[1].Commands[0]
	got := []Pos{b.Pos, b.Args[0].Pos, b.Args[1].Pos}
	want := []Pos{{2, 3}, {2, 10}, {2, 17}}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("positions (-got +want):\n%s", diff)
	}
}

// masterzen/winrm prefixes scripts with a $ProgressPreference assignment;
// it is accepted and dropped, every other assignment is still refused.
func TestProgressPreferenceAssignment(t *testing.T) {
	s, err := Parse("$ProgressPreference = 'SilentlyContinue';Get-CsTenant")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Statements) != 1 || s.Statements[0].Commands[0].Name != "Get-CsTenant" {
		t.Fatalf("Parse = %+v, want only Get-CsTenant", s.Statements)
	}
	for _, refused := range []string{"$ErrorActionPreference = 'Stop'", "$ProgressPreference = $x", "$ProgressPreference += 'x'"} {
		if _, err := Parse(refused); err == nil {
			t.Errorf("Parse(%q) succeeded, want a refusal", refused)
		}
	}
}

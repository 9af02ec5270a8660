package engine

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/psgate/psgate"
	"github.com/psgate/psgate/psobject"
)

// pos-free helpers for expected ASTs.
func cmd(name string, args ...Argument) CommandCall { return CommandCall{Name: name, Args: args} }
func named(name string, v any) Argument             { return Argument{Name: name, Value: v, HasValue: true} }
func sw(name string) Argument                       { return Argument{Name: name} }
func pos(v any) Argument                            { return Argument{Value: v, HasValue: true} }
func pipe(cmds ...CommandCall) Pipeline             { return Pipeline{Commands: cmds} }

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
		{"Set-X 1.5d", []Pipeline{pipe(cmd("Set-X", pos(psobject.Decimal("1.5"))))}},
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

func TestParseRefused(t *testing.T) {
	tests := []struct {
		in        string
		code      psgate.Code
		construct string // a substring of the message
	}{
		{"$x = 5", psgate.CodeLanguageNotAllowed, "an assignment ($x = ...)"},
		{"$x", psgate.CodeLanguageNotAllowed, "the variable $x"},
		{"Get-A $x", psgate.CodeLanguageNotAllowed, "the variable $x"},
		{"Get-A $env:USERNAME", psgate.CodeLanguageNotAllowed, "the variable $env:USERNAME"},
		{"Get-A $_", psgate.CodeLanguageNotAllowed, "the variable $_"},
		{"Get-A ${x}", psgate.CodeLanguageNotAllowed, "a variable (${...})"},
		{"Get-A a$b", psgate.CodeLanguageNotAllowed, "the variable $b"},
		{"Get-A $(Get-B)", psgate.CodeLanguageNotAllowed, "a sub-expression ($(...))"},
		{"Get-A \"hello $name\"", psgate.CodeLanguageNotAllowed, "the variable $name in a string"},
		{"Get-A \"x $(1+1)\"", psgate.CodeLanguageNotAllowed, "a sub-expression ($(...)) in a string"},
		{"Get-A @\"\n$x\n\"@", psgate.CodeLanguageNotAllowed, "the variable $x in a string"},
		{"Get-A { 1 }", psgate.CodeLanguageNotAllowed, "a script block ({ ... })"},
		{"{ Get-A }", psgate.CodeLanguageNotAllowed, "a script block ({ ... })"},
		{"Get-A | Where-Object { $_.Enabled -eq $true }", psgate.CodeLanguageNotAllowed, "use the comparison form instead, for example: Where-Object Enabled -eq $true"},
		{"Get-A | ? {$_.x}", psgate.CodeLanguageNotAllowed, "Where-Object Enabled -eq $true"},
		{"Get-CsOnlineUser -Filter {Department -eq 'Sales'}", psgate.CodeLanguageNotAllowed, "-Filter \"Department -eq 'Sales'\""},
		{"Get-A (Get-B)", psgate.CodeLanguageNotAllowed, "a nested command or bare word ('Get-B') inside parentheses"},
		{"Get-A (1 + 2)", psgate.CodeLanguageNotAllowed, "the operator '+'"},
		{"Get-A (1 -eq 2)", psgate.CodeLanguageNotAllowed, "the operator '-eq' outside command arguments"},
		{"Get-A ('a').Length", psgate.CodeLanguageNotAllowed, "member access (.Length)"},
		{"Get-A 'abc'.Length", psgate.CodeLanguageNotAllowed, "member access (.Length)"},
		{"Get-A (1,2)[0]", psgate.CodeLanguageNotAllowed, "indexing"},
		{"Get-A @(1..3)", psgate.CodeLanguageNotAllowed, "the expression '1..3'"},
		{"Get-A @(Get-B)", psgate.CodeLanguageNotAllowed, "a nested command"},
		{"(Get-A).Name", psgate.CodeLanguageNotAllowed, "a parenthesised expression"},
		{"& Get-A", psgate.CodeLanguageNotAllowed, "the call operator (&)"},
		{"Get-A & Get-B", psgate.CodeLanguageNotAllowed, "the call operator (&)"},
		{"& cmd.exe /c dir", psgate.CodeOSProcessRefused, "'cmd.exe'"},
		{"& 'C:\\tools\\x.exe'", psgate.CodeOSProcessRefused, `'C:\tools\x.exe'`},
		{". .\\profile.ps1", psgate.CodeLanguageNotAllowed, "dot-sourcing"},
		{".(1)", psgate.CodeLanguageNotAllowed, "dot-sourcing"},
		{"Get-A\x00", psgate.CodeParseError, "The command line contains a NUL character. At line:1 char:6."},
		{"Get-A > out.txt", psgate.CodeLanguageNotAllowed, "redirection (>)"},
		{"Get-A 2>&1", psgate.CodeLanguageNotAllowed, "redirection (2>&1)"},
		{"Get-A >> log", psgate.CodeLanguageNotAllowed, "redirection (>>)"},
		{"Get-A < in", psgate.CodeLanguageNotAllowed, "redirection (<)"},
		{"Get-A && Get-B", psgate.CodeLanguageNotAllowed, "the pipeline chain operator (&&)"},
		{"Get-A || Get-B", psgate.CodeLanguageNotAllowed, "the pipeline chain operator (||)"},
		{"if ($true) { Get-A }", psgate.CodeLanguageNotAllowed, "the 'if' keyword"},
		{"foreach ($u in 1) {}", psgate.CodeLanguageNotAllowed, "the 'foreach' keyword"},
		{"function f { }", psgate.CodeLanguageNotAllowed, "the 'function' keyword"},
		{"Get-A\nexit", psgate.CodeLanguageNotAllowed, "the 'exit' keyword"},
		{"Get-A @{Name='x'}", psgate.CodeLanguageNotAllowed, "a hashtable (@{ ... })"},
		{"Get-A @params", psgate.CodeLanguageNotAllowed, "splatting (@params)"},
		{"[int]'5'", psgate.CodeLanguageNotAllowed, "a type literal"},
		{"'abc' | Get-A", psgate.CodeLanguageNotAllowed, "an expression at the start of a statement"},
		{"1 + 2", psgate.CodeLanguageNotAllowed, "an expression at the start of a statement (1)"},
		{"$true", psgate.CodeLanguageNotAllowed, "an expression at the start of a statement ($true)"},
		{"-not 1", psgate.CodeLanguageNotAllowed, "the operator '-not'"},
		{"Get-A --% raw", psgate.CodeLanguageNotAllowed, "the stop-parsing symbol"},
		{"Get-A 'unterminated", psgate.CodeParseError, "The string is missing the terminator: '. At line:1 char:7."},
		{"Get-A \"unterminated", psgate.CodeParseError, "The string is missing the terminator: \". At line:1 char:7."},
		{"Get-A |", psgate.CodeParseError, "An empty pipe element is not allowed. At line:1 char:8."},
		{"| Get-A", psgate.CodeParseError, "An empty pipe element is not allowed. At line:1 char:1."},
		{"Get-A | | Get-B", psgate.CodeParseError, "An empty pipe element is not allowed. At line:1 char:9."},
		{"Get-A a,", psgate.CodeParseError, "Missing expression after ','. At line:1 char:9."},
		{"Get-A -Name:", psgate.CodeParseError, "Missing an argument for parameter 'Name'. At line:1 char:13."},
		{"Get-A )", psgate.CodeParseError, "Unexpected token ')' in expression or statement. At line:1 char:7."},
		{"Get-A\n  Get-B (1", psgate.CodeParseError, "Missing closing ')' in expression. At line:2 char:9."},
		{"Get-A ()", psgate.CodeParseError, "An expression was expected after '('. At line:1 char:8."},
		{"Get-A <# open", psgate.CodeParseError, "Missing the terminator '#>' of the block comment. At line:1 char:7."},
		{"Get-A @'x\n'@", psgate.CodeParseError, "No characters are allowed after a here-string header"},
		{"Get-A \"`u{D800}\"", psgate.CodeParseError, "out of range"},
		{"Get-A " + strings.Repeat("(", 40) + "1" + strings.Repeat(")", 40), psgate.CodeParseError, "nested too deeply"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		var pe *ParseError
		e, ok := psgate.AsError(err)
		if !ok || !asParseError(err, &pe) {
			t.Errorf("Parse(%q): got %v, want a *ParseError with %s", tt.in, err, tt.code)
			continue
		}
		if e.Code != tt.code || !strings.Contains(e.Message, tt.construct) {
			t.Errorf("Parse(%q):\n got %s %q\nwant %s containing %q", tt.in, e.Code, e.Message, tt.code, tt.construct)
		}
	}
}

func asParseError(err error, pe **ParseError) bool {
	p, ok := err.(*ParseError)
	*pe = p
	return ok
}

func TestParseLanguageMessage(t *testing.T) {
	_, err := Parse("Get-A $x")
	e, _ := psgate.AsError(err)
	want := "The syntax is not supported by this runspace: the variable $x is not allowed. This runspace runs commands only (no-language mode): commands, parameters, literal values and pipelines."
	if e == nil || e.Message != want {
		t.Errorf("got %v\nwant %s", e, want)
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

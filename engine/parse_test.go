package engine

import (
	"strings"
	"testing"

	"github.com/psgate/psgate"
)

// The parser is package syntax's; these tests check what Parse makes of
// its refusals: catalog errors with PowerShell's wording.

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

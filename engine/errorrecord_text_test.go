package engine

import (
	"strings"
	"testing"

	"github.com/psgate/psgate"
)

func TestConsoleLines(t *testing.T) {
	rec := NewErrorRecord(psgate.E(psgate.CodeInvalidOperation, psgate.Args{"detail": "one two three four five six"}),
		"Boom", CategoryInvalidOperation, "target")
	finishRecord(rec, "Get-Thing")
	got := rec.ConsoleLines(30)
	// PowerShell 5.1's ErrorInstance view cuts the "+" lines every
	// BufferSize.Width-6 characters ($indentString -split "(.{$width})")
	// and indents each piece by four spaces.
	want := []string{
		"Get-Thing : one two three four",
		"five six",
		"    + CategoryInfo          ",
		"    : InvalidOperation: (tar",
		"    get:String) [Get-Thing],",
		"     InvalidOperationExcepti",
		"    on",
		"    + FullyQualifiedErrorId ",
		"    : Boom,Get-Thing",
		" ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("30 columns:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, l := range rec.ConsoleLines(30) {
		if len([]rune(l)) > 30 {
			t.Errorf("line wider than the console: %q", l)
		}
	}
}

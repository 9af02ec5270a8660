package syntax

import (
	"errors"
	"testing"
)

// simpleNames reports whether every command name would be read back
// as itself (names are written unquoted).
func simpleNames(s *Script) bool {
	for _, st := range s.Statements {
		for _, c := range st.Commands {
			again, err := Parse(c.Name + " x")
			if err != nil || len(again.Statements) != 1 || len(again.Statements[0].Commands) != 1 {
				return false
			}
			if got := again.Statements[0].Commands[0]; got.Name != c.Name || len(got.Args) != 1 {
				return false
			}
		}
	}
	return true
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"Get-CsTenant",
		"Get-CsOnlineUser -Identity alice@contoso.test | Select-Object DisplayName, Department",
		"Get-X -A:$false -B 1kb,0x10,-5 @('a';\"b`t\") ('c') -- -d",
		"Get-A $x",
		"Where-Object { $_.Enabled }",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := Parse(text)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Pos.Line < 1 || pe.Pos.Column < 1 {
				t.Fatalf("Parse(%q): malformed error %#v", text, err)
			}
			switch {
			case pe.Kind == KindSyntax && pe.Detail != "":
			case pe.Kind == KindNotAllowed && pe.Construct != "":
			case pe.Kind == KindProgram && pe.Name != "":
			default:
				t.Fatalf("Parse(%q): unexpected error %#v", text, pe)
			}
			return
		}
		if !simpleNames(s) {
			return
		}
		// What the parser understood, written back, means the same.
		again, err := Parse(s.String())
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which does not parse: %v", text, s.String(), err)
		}
		if again.String() != s.String() {
			t.Fatalf("round trip of %q:\n%q\n%q", text, s.String(), again.String())
		}
	})
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"Department -eq 'Sales'",
		"Age -gt 40 -and (Enabled -eq $true -or City -like \"P*\")",
		"Name -match '^a' -or Name -notin 'x'",
		"(",
		"Department -eq Sales",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		flt, err := ParseFilter(text)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) || fe.Kind != KindSyntax && fe.Kind != KindNotAllowed {
				t.Fatalf("ParseFilter(%q): malformed error %#v", text, err)
			}
			return
		}
		again, err := ParseFilter(flt.String())
		if err != nil || again.String() != flt.String() {
			t.Fatalf("round trip of %q: %q -> %v %v", text, flt.String(), again, err)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	line := `Get-CsOnlineUser -Filter "Department -eq 'Sales'" -ResultSize 100 | Where-Object Enabled -eq $true | Select-Object DisplayName, UserPrincipalName, Department | Sort-Object DisplayName`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(line); err != nil {
			b.Fatal(err)
		}
	}
}

package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate"
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
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Err == nil || pe.Pos.Line < 1 || pe.Pos.Column < 1 {
				t.Fatalf("Parse(%q): malformed error %#v", text, err)
			}
			switch pe.Err.Code {
			case psgate.CodeParseError, psgate.CodeLanguageNotAllowed, psgate.CodeOSProcessRefused:
			default:
				t.Fatalf("Parse(%q): unexpected code %s", text, pe.Err.Code)
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
	obj := userObj("alice@contoso.test", "Sales", true, 34)
	f.Fuzz(func(t *testing.T, text string) {
		flt, err := ParseFilter(text)
		if err != nil {
			if _, ok := psgate.AsError(err); !ok {
				t.Fatalf("ParseFilter(%q): %v is not a catalog error", text, err)
			}
			return
		}
		_, _ = flt.Match(obj)
		again, err := ParseFilter(flt.String())
		if err != nil || again.String() != flt.String() {
			t.Fatalf("round trip of %q: %q -> %v %v", text, flt.String(), again, err)
		}
	})
}

// fuzzCatalog has the built-ins and bounded fake commands.
func fuzzCatalog(t testing.TB) *Catalog {
	env := newFakeEnv(t)
	c := NewCatalog()
	if err := RegisterBuiltins(c); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Get-CsTenant", "Get-CsOnlineUser", "Set-CsUser", "Invoke-Fail"} {
		cmd, _ := env.catalog.Lookup(name)
		if err := c.Register(cmd); err != nil {
			t.Fatal(err)
		}
	}
	err := c.Register(&Command{
		Name:       "Get-Numbers",
		Parameters: []Parameter{{Name: "Count", Type: TypeInt, Position: 0, ValidateRange: &Range{Min: 0, Max: 1000}}},
		Run: func(ctx context.Context, inv *Invocation) error {
			n, ok := inv.Int("Count")
			if !ok {
				n = 100
			}
			for i := int32(1); i <= n; i++ {
				inv.Write(i)
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func FuzzRunScript(f *testing.F) {
	for _, s := range []string{
		"Get-CsTenant",
		"Get-CsOnlineUser | Where-Object Age -gt 30 | Sort-Object DisplayName -Descending | Select-Object -First 2 | Format-Table",
		"Get-Numbers 50 | Measure-Object -Sum; Get-Nope; Invoke-Fail Panic",
		"iex 'Get-Numbers 3 | Out-String -Stream'",
		"Get-CsOnlineUser | Set-CsUser -Department X -WhatIf",
		"Get-Command -Syntax | Group-Object Length",
	} {
		f.Add(s)
	}
	catalog := fuzzCatalog(f)
	f.Fuzz(func(t *testing.T, text string) {
		rs := NewRunspace(RunspaceConfig{Catalog: catalog, MaxOutputObjects: 2000})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rec := &recorder{}
		err := rs.RunScript(ctx, text, nil, rec)
		if ctx.Err() != nil {
			t.Fatalf("RunScript(%q) hung", text)
		}
		if err != nil {
			var te *TerminatingError
			if !errors.As(err, &te) || te.Record == nil || te.Record.Err == nil {
				t.Fatalf("RunScript(%q): malformed error %#v", text, err)
			}
			if te.Record.Err.Code == psgate.CodeInternal && !strings.Contains(text, "Invoke-Fail") && !strings.Contains(strings.ToLower(text), "invoke-fail") {
				t.Fatalf("RunScript(%q): internal error %v", text, te.Record.Err)
			}
		}
		for _, r := range rec.errors {
			if r == nil || r.Err == nil || r.FullyQualifiedErrorID == "" {
				t.Fatalf("RunScript(%q): malformed record %#v", text, r)
			}
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

// nullSink discards everything.
type nullSink struct{}

func (nullSink) Output(any)                    {}
func (nullSink) Error(*ErrorRecord)            {}
func (nullSink) Warning(string)                {}
func (nullSink) Verbose(string)                {}
func (nullSink) Debug(string)                  {}
func (nullSink) Information(InformationRecord) {}
func (nullSink) Progress(ProgressRecord)       {}

func BenchmarkRunScript(b *testing.B) {
	rs := newFakeEnv(b).runspace(RunspaceConfig{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := rs.RunScript(ctx, "Get-CsTenant", nil, nullSink{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRunPipeline(b *testing.B) {
	rs := newFakeEnv(b).runspace(RunspaceConfig{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := rs.RunScript(ctx, "Get-Numbers 1000 | Where-Object -Value 500 -Property Length -NE | Select-Object -Last 1", nil, nullSink{}); err != nil {
			b.Fatal(err)
		}
	}
}

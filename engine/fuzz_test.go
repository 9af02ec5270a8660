package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/engine/builtin"

	"github.com/psgate/psgate"
)

// fuzzCatalog has the built-ins and bounded fake commands.
func fuzzCatalog(t testing.TB) *engine.Catalog {
	env := newFakeEnv(t)
	c := engine.NewCatalog()
	if err := builtin.Register(c); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Get-CsTenant", "Get-CsOnlineUser", "Set-CsUser", "Invoke-Fail"} {
		cmd, _ := env.catalog.Lookup(name)
		if err := c.Register(cmd); err != nil {
			t.Fatal(err)
		}
	}
	err := c.Register(&engine.Command{
		Name:       "Get-Numbers",
		Parameters: []engine.Parameter{{Name: "Count", Type: engine.TypeInt, Position: 0, ValidateRange: &engine.Range{Min: 0, Max: 1000}}},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
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
		rs := engine.NewRunspace(engine.RunspaceConfig{Catalog: catalog, MaxOutputObjects: 2000})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rec := &recorder{}
		err := rs.RunScript(ctx, text, nil, rec)
		if ctx.Err() != nil {
			t.Fatalf("RunScript(%q) hung", text)
		}
		if err != nil {
			var te *engine.TerminatingError
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

// nullSink discards everything.
type nullSink struct{}

func (nullSink) Output(any)                           {}
func (nullSink) Error(*engine.ErrorRecord)            {}
func (nullSink) Warning(string)                       {}
func (nullSink) Verbose(string)                       {}
func (nullSink) Debug(string)                         {}
func (nullSink) Information(engine.InformationRecord) {}
func (nullSink) Progress(engine.ProgressRecord)       {}

func BenchmarkRunScript(b *testing.B) {
	rs := newFakeEnv(b).runspace(engine.RunspaceConfig{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := rs.RunScript(ctx, "Get-CsTenant", nil, nullSink{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRunPipeline(b *testing.B) {
	rs := newFakeEnv(b).runspace(engine.RunspaceConfig{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := rs.RunScript(ctx, "Get-Numbers 1000 | Where-Object -Value 500 -Property Length -NE | Select-Object -Last 1", nil, nullSink{}); err != nil {
			b.Fatal(err)
		}
	}
}

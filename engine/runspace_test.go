package engine_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/engine/enginetest"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate"
)

// hideAuthorizer hides commands and denies parameters by name.
type hideAuthorizer struct {
	hidden map[string]bool
	denied map[string]bool // "Command -Parameter"
	calls  int
}

func (a *hideAuthorizer) Visible(cmd *engine.Command) bool { return !a.hidden[cmd.Name] }

func (a *hideAuthorizer) Authorize(ctx context.Context, cmd *engine.Command, inv *engine.Invocation) error {
	a.calls++
	for name := range inv.Params {
		if a.denied[cmd.Name+" -"+name] {
			return psgate.E(psgate.CodeParameterDenied, psgate.Args{"name": name, "command": cmd.Name, "allowed_by": ""})
		}
	}
	return nil
}

func TestStreaming(t *testing.T) {
	env := newFakeEnv(t)
	var log []string
	err := env.catalog.Register(
		&engine.Command{Name: "Write-Three", Run: func(ctx context.Context, inv *engine.Invocation) error {
			for i := 1; i <= 3; i++ {
				log = append(log, fmt.Sprintf("out %d", i))
				inv.Write(i)
			}
			return nil
		}},
		&engine.Command{Name: "Trace-Input", StreamInput: true, Run: func(ctx context.Context, inv *engine.Invocation) error {
			for {
				obj, ok := inv.Input.Next(ctx)
				if !ok {
					return nil
				}
				log = append(log, fmt.Sprintf("in %v", obj))
				inv.Write(obj)
			}
		}},
	)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := env.run(t, engine.RunspaceConfig{}, "Write-Three | Trace-Input")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"out 1", "in 1", "out 2", "in 2", "out 3", "in 3"}
	if diff := cmp.Diff(log, want); diff != "" {
		t.Errorf("objects did not stream one by one (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(rec.texts(), []string{"1", "2", "3"}); diff != "" {
		t.Errorf("output (-got +want):\n%s", diff)
	}
}

func TestSelectFirstStopsUpstream(t *testing.T) {
	env := newFakeEnv(t)
	base := runtime.NumGoroutine()
	for range 50 {
		env.Produced.Store(0)
		rec, err := env.run(t, engine.RunspaceConfig{}, "Get-Numbers | Select-Object -First 3 | Sort-Object -Descending")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(rec.texts(), []string{"3", "2", "1"}); diff != "" {
			t.Fatalf("output (-got +want):\n%s", diff)
		}
		if n := env.Produced.Load(); n > 4 {
			t.Fatalf("Get-Numbers produced %d objects after Select-Object -First 3 stopped reading", n)
		}
	}
	waitGoroutines(t, base)
}

func TestStopViaContext(t *testing.T) {
	env := newFakeEnv(t)
	base := runtime.NumGoroutine()
	for _, script := range []string{
		"Wait-Forever",
		"Get-Numbers | Sort-Object",
		"Get-Numbers | Where-Object Length -eq 5 | Select-Object -First 1",
		"Get-CsTenant; Wait-Forever; Get-CsTenant",
		"Invoke-Expression 'Wait-Forever'",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		rec := &recorder{}
		start := time.Now()
		err := env.runspace(engine.RunspaceConfig{}).RunScript(ctx, script, nil, rec)
		cancel()
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: stop took %v", script, d)
		}
		if codeOf(err) != psgate.CodePipelineStopped {
			t.Errorf("%s: got %v, want %s", script, err, psgate.CodePipelineStopped)
		}
		var te *engine.TerminatingError
		if !errors.As(err, &te) || te.Record.FullyQualifiedErrorID != "PipelineStopped" || te.Record.Category != engine.CategoryOperationStopped {
			t.Errorf("%s: record %+v", script, te)
		}
		if len(rec.errors) != 0 {
			t.Errorf("%s: stop wrote errors %v", script, rec.errorMessages())
		}
		if script == "Get-CsTenant; Wait-Forever; Get-CsTenant" && len(rec.out) != 1 {
			t.Errorf("%s: statements after the stop ran: %v", script, rec.texts())
		}
	}
	waitGoroutines(t, base)
}

func TestErrors(t *testing.T) {
	env := newFakeEnv(t)
	tests := []struct {
		script   string
		out      []string
		errors   []string
		code     psgate.Code // returned
		fqid     string
		category engine.Category
	}{
		{script: "Invoke-Fail NonTerminating", out: []string{"after first", "after second"}, errors: []string{"First problem.", "Second problem."}},
		{script: "Invoke-Fail NonTerminating -ErrorAction SilentlyContinue", out: []string{"after first", "after second"}},
		{script: "Invoke-Fail NonTerminating -ErrorAction Ignore", out: []string{"after first", "after second"}},
		{script: "Invoke-Fail NonTerminating -ErrorAction Stop", errors: []string{"First problem."},
			code: psgate.CodeInvalidOperation, fqid: "Problem,Invoke-Fail", category: engine.CategoryInvalidOperation},
		{script: "Invoke-Fail Terminating; Write-Output next", out: []string{"next"}, errors: []string{"It broke."},
			code: psgate.CodeInvalidOperation, fqid: "InvalidOperation,Invoke-Fail", category: engine.CategoryInvalidOperation},
		{script: "Get-Nope; Get-CsTenant", out: []string{"Psgate.Tenant"},
			errors: []string{"The term 'Get-Nope' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again."},
			code:   psgate.CodeCommandNotFound, fqid: "CommandNotFoundException", category: engine.CategoryObjectNotFound},
		{script: "Get-CsTenant; Get-CsTenant -Bogus; Get-CsTenant", out: []string{"Psgate.Tenant", "Psgate.Tenant"},
			errors: []string{"A parameter cannot be found that matches parameter name 'Bogus'."},
			code:   psgate.CodeParameterNotFound, fqid: "NamedParameterNotFound,Get-CsTenant", category: engine.CategoryInvalidArgument},
		{script: "Invoke-Fail Panic", errors: []string{"Internal error (request shell-1)."},
			code: psgate.CodeInternal, fqid: "InternalError,Invoke-Fail"},
		{script: "Invoke-Fail Plain", errors: []string{"Internal error (request shell-1)."},
			code: psgate.CodeInternal, fqid: "InternalError,Invoke-Fail"},
		{script: "Invoke-Fail NonTerminating -ErrorAction Stop | Sort-Object", errors: []string{"First problem."},
			code: psgate.CodeInvalidOperation, fqid: "Problem,Invoke-Fail", category: engine.CategoryInvalidOperation},
		{script: "Get-CsOnlineUser nobody -ErrorAction Stop; Write-Output next", out: []string{"next"},
			errors: []string{"Cannot find an object with identity 'nobody' in tenant 'contoso'."},
			code:   psgate.CodeObjectNotFound, fqid: "UserNotFound,Get-CsOnlineUser", category: engine.CategoryObjectNotFound},
		// A parse error stops everything before anything runs.
		{script: "Get-CsTenant; Get-CsTenant $x", code: psgate.CodeLanguageNotAllowed, fqid: "ScriptsNotAllowed", category: engine.CategoryParserError},
		{script: "Get-CsTenant; Get-CsTenant 'x", code: psgate.CodeParseError, fqid: "ParseException", category: engine.CategoryParserError},
	}
	for _, tt := range tests {
		rec, err := env.run(t, engine.RunspaceConfig{}, tt.script)
		if diff := cmp.Diff(rec.texts(), tt.out, cmpEmpty); diff != "" {
			t.Errorf("%s: output (-got +want):\n%s", tt.script, diff)
		}
		if diff := cmp.Diff(rec.errorMessages(), tt.errors, cmpEmpty); diff != "" {
			t.Errorf("%s: errors (-got +want):\n%s", tt.script, diff)
		}
		if codeOf(err) != tt.code {
			t.Errorf("%s: returned %v, want code %q", tt.script, err, tt.code)
			continue
		}
		if err == nil {
			continue
		}
		te := err.(*engine.TerminatingError)
		if te.Record.FullyQualifiedErrorID != tt.fqid || te.Record.Category != tt.category {
			t.Errorf("%s: record %s %s, want %s %s", tt.script, te.Record.FullyQualifiedErrorID, te.Record.Category, tt.fqid, tt.category)
		}
		if te.Written != (len(tt.errors) > 0) {
			t.Errorf("%s: Written = %v", tt.script, te.Written)
		}
	}
}

var cmpEmpty = cmp.Transformer("nilEmpty", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})

func TestOSProgramsRefused(t *testing.T) {
	env := newFakeEnv(t)
	for _, script := range []string{
		"cmd.exe /c dir", "cmd /c dir", "CMD", "powershell -EncodedCommand AAAA", "pwsh -c x", "notepad",
		`C:\Windows\System32\notepad.exe`, `.\deploy.ps1`, "./run.sh", "setup.bat", "whoami",
		"Microsoft.PowerShell.Core\\cmd",
	} {
		rec, err := env.run(t, engine.RunspaceConfig{}, script+"; Get-CsTenant")
		if codeOf(err) != psgate.CodeOSProcessRefused {
			t.Errorf("%s: got %v, want %s", script, err, psgate.CodeOSProcessRefused)
			continue
		}
		if len(rec.errors) != 1 || !strings.Contains(rec.errors[0].Message(), "never starts operating-system programs") {
			t.Errorf("%s: errors %v", script, rec.errorMessages())
		}
		if len(rec.out) != 1 {
			t.Errorf("%s: the next statement did not run", script)
		}
	}
	// The call operator is refused before anything runs.
	rec, err := env.run(t, engine.RunspaceConfig{}, "Get-CsTenant; & cmd.exe /c dir")
	if codeOf(err) != psgate.CodeOSProcessRefused || len(rec.out) != 0 {
		t.Errorf("& cmd.exe: got %v, output %v", err, rec.texts())
	}
}

func TestHiddenCommandIsNotRecognized(t *testing.T) {
	env := newFakeEnv(t)
	auth := &hideAuthorizer{hidden: map[string]bool{"Set-CsUser": true}}
	cfg := engine.RunspaceConfig{Authorizer: auth}
	_, hiddenErr := env.run(t, cfg, "Set-CsUser bob -Department X")
	_, unknownErr := env.run(t, cfg, "Set-CsUsr bob -Department X")
	if codeOf(hiddenErr) != psgate.CodeCommandNotFound {
		t.Fatalf("hidden command: got %v", hiddenErr)
	}
	h := hiddenErr.(*engine.TerminatingError).Record
	u := unknownErr.(*engine.TerminatingError).Record
	if strings.ReplaceAll(h.Message(), "Set-CsUser", "X") != strings.ReplaceAll(u.Message(), "Set-CsUsr", "X") ||
		h.FullyQualifiedErrorID != u.FullyQualifiedErrorID || h.Category != u.Category || h.ExceptionType != u.ExceptionType {
		t.Errorf("a hidden command differs from an unknown one:\n%+v\n%+v", h, u)
	}
	if len(env.Changes) != 0 {
		t.Errorf("hidden command ran: %v", env.Changes)
	}
	for _, script := range []string{"Get-Command Set-CsUser", "Get-Help Set-CsUser", "Get-Command -Noun CsUser"} {
		rec, _ := env.run(t, cfg, script)
		if len(rec.out) != 0 {
			t.Errorf("%s revealed the hidden command: %v", script, rec.texts())
		}
	}
	rec, _ := env.run(t, cfg, "Get-Command Set-CsUser")
	if len(rec.errors) != 1 || rec.errors[0].Err.Code != psgate.CodeCommandNotFound {
		t.Errorf("Get-Command of a hidden command: %v", rec.errorMessages())
	}
}

func TestParameterDenied(t *testing.T) {
	env := newFakeEnv(t)
	auth := &hideAuthorizer{denied: map[string]bool{"Set-CsUser -Department": true}}
	cfg := engine.RunspaceConfig{Authorizer: auth}
	rec, err := env.run(t, cfg, "Get-Numbers 3 | Set-CsUser -Department Ops")
	if codeOf(err) != psgate.CodeParameterDenied {
		t.Fatalf("got %v", err)
	}
	r := err.(*engine.TerminatingError).Record
	if r.Category != engine.CategoryPermissionDenied || r.FullyQualifiedErrorID != "ParameterNotAllowed,Set-CsUser" || r.ExceptionType != "System.UnauthorizedAccessException" {
		t.Errorf("record %+v", r)
	}
	if r.Message() != "The parameter 'Department' of Set-CsUser is not allowed by your roles." {
		t.Errorf("message %q", r.Message())
	}
	if env.Produced.Load() != 0 || len(env.Changes) != 0 || len(rec.out) != 0 {
		t.Errorf("something ran before authorization: produced %d, changes %v", env.Produced.Load(), env.Changes)
	}
	// Allowed parameters run.
	if _, err := env.run(t, cfg, "Set-CsUser bob -Enabled $true"); err != nil {
		t.Errorf("allowed: %v", err)
	}
}

func TestPipelineBindingAndWhatIf(t *testing.T) {
	env := newFakeEnv(t)
	rec, err := env.run(t, engine.RunspaceConfig{}, "Get-CsOnlineUser -Filter \"Department -eq 'Sales'\" | Set-CsUser -Enabled $false")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"alice@contoso.test dept=<nil> enabled=false", "carol@contoso.test dept=<nil> enabled=false"}
	if diff := cmp.Diff(env.Changes, want); diff != "" {
		t.Errorf("changes (-got +want):\n%s", diff)
	}
	if len(rec.errors) != 0 {
		t.Errorf("errors: %v", rec.errorMessages())
	}

	env.Changes = nil
	rec, err = env.run(t, engine.RunspaceConfig{}, "Set-CsUser bob -Department Ops -WhatIf; Set-CsUser dan -Department Ops -Confirm:$false")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(env.Changes, []string{"dan dept=Ops enabled=<nil>"}); diff != "" {
		t.Errorf("changes (-got +want):\n%s", diff)
	}
	if len(rec.info) != 1 || rec.info[0].MessageData != `What if: Performing the operation "Set-CsUser" on target "bob".` ||
		rec.info[0].Tags[0] != "PSHOST" || rec.info[0].Source != "Set-CsUser" {
		t.Errorf("what-if output: %+v", rec.info)
	}

	// Input that binds nothing is a non-terminating error per object.
	env.Changes = nil
	rec, err = env.run(t, engine.RunspaceConfig{}, "Get-Numbers 2 | Set-CsUser -Department X")
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.errors) != 2 || rec.errors[0].FullyQualifiedErrorID != "InputObjectNotBound,Set-CsUser" || rec.errors[0].Target != int32(1) {
		t.Errorf("errors: %+v", rec.errors)
	}
}

func TestStreamsAndPreferences(t *testing.T) {
	env := newFakeEnv(t)
	tests := []struct {
		script                   string
		warnings, verbose, debug []string
		code                     psgate.Code
	}{
		{script: "Invoke-Fail Warning", warnings: []string{"careful"}},
		{script: "Invoke-Fail Warning -Verbose -Debug", warnings: []string{"careful"}, verbose: []string{"details"}, debug: []string{"debugging"}},
		{script: "Invoke-Fail Warning -Verbose:$false -WarningAction SilentlyContinue"},
		{script: "Invoke-Fail Warning -WarningAction Stop", code: psgate.CodeInvalidOperation},
		{script: "Write-Warning w; Write-Verbose v -vb; Write-Debug d; Write-Information i -Tags t", warnings: []string{"w"}, verbose: []string{"v"}},
	}
	for _, tt := range tests {
		rec, err := env.run(t, engine.RunspaceConfig{}, tt.script)
		if codeOf(err) != tt.code {
			t.Errorf("%s: got %v", tt.script, err)
		}
		if diff := cmp.Diff([][]string{rec.warnings, rec.verbose, rec.debug}, [][]string{tt.warnings, tt.verbose, tt.debug}, cmpEmpty); diff != "" {
			t.Errorf("%s: warning, verbose, debug (-got +want):\n%s", tt.script, diff)
		}
	}
	rec, _ := env.run(t, engine.RunspaceConfig{}, "Write-Information i -Tags t; Write-Progress -Activity Import -Status Half -PercentComplete 50; Write-Host a b -Separator -")
	wantInfo := []engine.InformationRecord{
		{MessageData: "i", Source: "Write-Information", Tags: []string{"t"}},
		{MessageData: "a-b", Source: "Write-Host", Tags: []string{"PSHOST"}, Host: &engine.HostMessage{Text: "a-b", Foreground: engine.NoColor, Background: engine.NoColor}},
	}
	if diff := cmp.Diff(rec.info, wantInfo); diff != "" {
		t.Errorf("information (-got +want):\n%s", diff)
	}
	wantProgress := []engine.ProgressRecord{{Activity: "Import", StatusDescription: "Half", PercentComplete: 50, ParentActivityID: -1, SecondsRemaining: -1}}
	if diff := cmp.Diff(rec.progress, wantProgress); diff != "" {
		t.Errorf("progress (-got +want):\n%s", diff)
	}
}

func TestRunStructured(t *testing.T) {
	env := newFakeEnv(t)
	rs := env.runspace(engine.RunspaceConfig{})
	ctx := context.Background()

	// Errors merged into the output keep their order.
	rec := &recorder{}
	err := rs.Run(ctx, engine.Pipeline{Commands: []engine.CommandCall{{Name: "Invoke-Fail", Args: []engine.Argument{{Value: "NonTerminating", HasValue: true}}, MergeErrorToOutput: true}}}, nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, o := range rec.out {
		kinds = append(kinds, fmt.Sprintf("%T", o))
	}
	if diff := cmp.Diff(kinds, []string{"*engine.ErrorRecord", "string", "*engine.ErrorRecord", "string"}); diff != "" || len(rec.errors) != 0 {
		t.Errorf("merged output (-got +want):\n%s", diff)
	}

	// A terminating error is returned, not written.
	rec = &recorder{}
	err = rs.Run(ctx, engine.Pipeline{Commands: []engine.CommandCall{{Name: "Get-Nope"}}}, nil, rec)
	if codeOf(err) != psgate.CodeCommandNotFound || len(rec.errors) != 0 {
		t.Errorf("got %v, errors %v", err, rec.errorMessages())
	}

	// Named arguments with values, as PSRP sends them.
	rec = &recorder{}
	err = rs.Run(ctx, engine.Pipeline{Commands: []engine.CommandCall{
		{Name: "Get-CsOnlineUser", Args: []engine.Argument{{Name: "Filter", Value: "Age -gt 40", HasValue: true}}},
		{Name: "Select-Object", Args: []engine.Argument{{Name: "ExpandProperty", Value: "DisplayName", HasValue: true}}},
	}}, nil, rec)
	if err != nil || strings.Join(rec.texts(), ",") != "bob,dan" {
		t.Errorf("got %v %v", err, rec.texts())
	}

	// A script alone runs as RunScript; in a pipeline its output flows on.
	rec = &recorder{}
	err = rs.Run(ctx, engine.Pipeline{Commands: []engine.CommandCall{{Name: "Get-CsTenant; Get-Nope", IsScript: true}}}, nil, rec)
	if codeOf(err) != psgate.CodeCommandNotFound || len(rec.out) != 1 || len(rec.errors) != 1 {
		t.Errorf("script: %v, out %v, errors %v", err, rec.texts(), rec.errorMessages())
	}
	rec = &recorder{}
	err = rs.Run(ctx, engine.Pipeline{Commands: []engine.CommandCall{
		{Name: "Write-Output b a; Write-Output c", IsScript: true},
		{Name: "Sort-Object"},
	}}, nil, rec)
	if err != nil || strings.Join(rec.texts(), ",") != "a,b,c" {
		t.Errorf("script in pipeline: %v %v", err, rec.texts())
	}
	rec = &recorder{}
	err = rs.Run(ctx, engine.Pipeline{Commands: []engine.CommandCall{{Name: "Get-A $x", IsScript: true}, {Name: "Out-Default"}}}, nil, rec)
	if codeOf(err) != psgate.CodeLanguageNotAllowed {
		t.Errorf("bad script in pipeline: %v", err)
	}
}

func TestExternalInput(t *testing.T) {
	env := newFakeEnv(t)
	in := engine.SliceInput(enginetest.Users()[:2])
	rec := &recorder{}
	err := env.runspace(engine.RunspaceConfig{}).RunScript(context.Background(), "Set-CsUser -Department Ops", &in, rec)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"alice@contoso.test dept=Ops enabled=<nil>", "bob@contoso.test dept=Ops enabled=<nil>"}
	if diff := cmp.Diff(env.Changes, want); diff != "" {
		t.Errorf("(-got +want):\n%s", diff)
	}
}

func TestOutputLimit(t *testing.T) {
	env := newFakeEnv(t)
	rec, err := env.run(t, engine.RunspaceConfig{MaxOutputObjects: 5}, "Get-Numbers 10")
	if codeOf(err) != psgate.CodeOutputLimit || len(rec.out) != 5 {
		t.Fatalf("got %v with %d objects", err, len(rec.out))
	}
	if got := err.(*engine.TerminatingError).Record.Message(); got != "The pipeline stopped after writing 5 objects, the most one command line may return." {
		t.Errorf("message %q", got)
	}
	if n := env.Produced.Load(); n > 6 {
		t.Errorf("Get-Numbers went on after the limit: %d", n)
	}
	if _, err := env.run(t, engine.RunspaceConfig{MaxOutputObjects: 5}, "Get-Numbers 10 | Measure-Object"); err != nil {
		t.Errorf("the limit applies to the pipeline's output only: %v", err)
	}
}

func TestInvokeExpression(t *testing.T) {
	env := newFakeEnv(t)
	rec, err := env.run(t, engine.RunspaceConfig{}, `Invoke-Expression -Command "Get-CsOnlineUser -ResultSize 2 | Select-Object -ExpandProperty DisplayName; Get-Nope" | Sort-Object -Descending`)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rec.texts(), []string{"bob", "alice"}); diff != "" {
		t.Errorf("(-got +want):\n%s", diff)
	}
	if len(rec.errors) != 1 || rec.errors[0].Err.Code != psgate.CodeCommandNotFound || rec.errors[0].FullyQualifiedErrorID != "CommandNotFoundException" {
		t.Errorf("errors %+v", rec.errors)
	}
	_, err = env.run(t, engine.RunspaceConfig{}, `iex 'Get-CsTenant $(whoami)'`)
	if codeOf(err) != psgate.CodeLanguageNotAllowed {
		t.Errorf("iex with language: %v", err)
	}
	// Nesting is bounded.
	script := "Get-CsTenant"
	for range 12 {
		script = "Invoke-Expression '" + strings.ReplaceAll(script, "'", "''") + "'"
	}
	rec, err = env.run(t, engine.RunspaceConfig{}, script)
	if err != nil || len(rec.errors) != 1 || rec.errors[0].Message() != "Invoke-Expression is nested too deeply." {
		t.Errorf("deep nesting: %v %v", err, rec.errorMessages())
	}
	// pypsrp's execute_ps.
	rec = &recorder{}
	err = env.runspace(engine.RunspaceConfig{}).Run(context.Background(), engine.Pipeline{Commands: []engine.CommandCall{
		{Name: "Invoke-Expression", Args: []engine.Argument{{Name: "Command", Value: "Get-CsTenant | Select-Object DisplayName", HasValue: true}}},
		{Name: "Out-String", Args: []engine.Argument{{Name: "Stream", Value: true, HasValue: true}}},
	}}, nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rec.texts(), []string{"", "DisplayName", "-----------", "contoso", "", ""}); diff != "" {
		t.Errorf("execute_ps (-got +want):\n%s", diff)
	}
}

func TestConcurrentRunspaces(t *testing.T) {
	env := newFakeEnv(t)
	rs := env.runspace(engine.RunspaceConfig{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				rec := &recorder{}
				err := rs.RunScript(context.Background(), fmt.Sprintf("Get-Numbers %d | Select-Object -Last 1; Get-CsOnlineUser | Measure-Object", i+1), nil, rec)
				if err != nil || len(rec.out) != 2 || rec.out[0] != int32(i+1) {
					t.Errorf("got %v %v", err, rec.texts())
					return
				}
			}
		}()
	}
	wg.Wait()
}

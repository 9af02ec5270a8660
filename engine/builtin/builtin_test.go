package builtin

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/format"
	"github.com/psgate/psgate/psobject"
)

// outLines runs a script and returns its output as text, failing on any
// error.
func outLines(t *testing.T, env *fakeEnv, script string) []string {
	t.Helper()
	rec, err := env.run(t, engine.RunspaceConfig{Newline: "\n"}, script)
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	if len(rec.errors) > 0 {
		t.Fatalf("%s: errors %v", script, rec.errorMessages())
	}
	return rec.texts()
}

func TestBuiltinOutputs(t *testing.T) {
	env := newFakeEnv(t)
	tests := []struct {
		script string
		want   []string
	}{
		// Select-Object
		{"Get-CsOnlineUser | Select-Object -First 2 | Select-Object -ExpandProperty DisplayName", []string{"alice", "bob"}},
		{"Get-CsOnlineUser | Select-Object -Last 2 | Select-Object -ExpandProperty DisplayName", []string{"carol", "dan"}},
		{"Get-CsOnlineUser | Select-Object -Skip 1 -First 2 | Select-Object -ExpandProperty DisplayName", []string{"bob", "carol"}},
		{"Get-CsOnlineUser | Select-Object -ExpandProperty Department -Unique", []string{"Sales", "HR", "IT"}},
		{"Get-CsOnlineUser | Select-Object Department -Unique | Select-Object -ExpandProperty Department", []string{"Sales", "HR", "IT"}},
		{"Write-Output 1 2 3 | Select-Object -First 0", nil},
		{"Write-Output 3 1 2 | Select-Object -Last 2 -First 1", []string{"1"}},
		{"Write-Output abc | Select-Object -ExpandProperty Length", []string{"3"}},
		// Where-Object
		{"Get-CsOnlineUser | Where-Object Department -eq sales | Select-Object -ExpandProperty DisplayName", []string{"alice", "carol"}},
		{"Get-CsOnlineUser | Where-Object Department -ceq sales | Select-Object -ExpandProperty DisplayName", nil},
		{"Get-CsOnlineUser | Where-Object Enabled | Select-Object -ExpandProperty DisplayName", []string{"alice", "dan"}},
		{"Get-CsOnlineUser | Where-Object Age -gt 40 | Select-Object -ExpandProperty DisplayName", []string{"bob", "dan"}},
		{"Get-CsOnlineUser | Where-Object Age -ge '45' | Select-Object -ExpandProperty DisplayName", []string{"bob", "dan"}},
		{"Get-CsOnlineUser | Where-Object DisplayName -like *a* | Select-Object -ExpandProperty DisplayName", []string{"alice", "carol", "dan"}},
		{"Get-CsOnlineUser | Where-Object DisplayName -NotLike *a* | Select-Object -ExpandProperty DisplayName", []string{"bob"}},
		{"Get-CsOnlineUser | Where-Object DisplayName -match '^[a-c]' | Select-Object -ExpandProperty DisplayName", []string{"alice", "bob", "carol"}},
		{"Get-CsOnlineUser | Where-Object Department -in Sales,IT | Select-Object -ExpandProperty DisplayName", []string{"alice", "carol", "dan"}},
		{"Get-CsOnlineUser | Where-Object -Property Department -Value HR -EQ | Select-Object -ExpandProperty DisplayName", []string{"bob"}},
		{"Get-CsOnlineUser | ? Department -ne Sales | Select-Object -ExpandProperty DisplayName", []string{"bob", "dan"}},
		{"Get-CsOnlineUser | Where-Object Nope -eq $null | Measure-Object | Select-Object -ExpandProperty Count", []string{"4"}},
		// Sort-Object
		{"Get-CsOnlineUser | Sort-Object Age | Select-Object -ExpandProperty Age", []string{"28", "34", "45", "51"}},
		{"Get-CsOnlineUser | Sort-Object Department, DisplayName -Descending | Select-Object -ExpandProperty DisplayName", []string{"carol", "alice", "dan", "bob"}},
		{"Get-CsOnlineUser | Sort-Object Department | Select-Object -ExpandProperty DisplayName", []string{"bob", "dan", "alice", "carol"}}, // stable
		{"Get-CsOnlineUser | Sort-Object Department -Unique | Select-Object -ExpandProperty Department", []string{"HR", "IT", "Sales"}},
		{"Write-Output 10 9 100 | Sort-Object", []string{"9", "10", "100"}},
		{"Write-Output b A c | Sort-Object", []string{"A", "b", "c"}},
		{"Write-Output b A a B | Sort-Object -CaseSensitive", []string{"a", "A", "b", "B"}},
		{"Write-Output 2026-01-02 2025-12-31 | Sort-Object", []string{"2025-12-31", "2026-01-02"}},
		{"Write-Output a $null 1.5 | Sort-Object", []string{"", "1.5", "a"}},
		// Group-Object, Measure-Object
		{"Get-CsOnlineUser | Group-Object Department | Select-Object -ExpandProperty Count", []string{"2", "1", "1"}},
		{"Get-CsOnlineUser | Group-Object Department -NoElement | Select-Object -ExpandProperty Name", []string{"Sales", "HR", "IT"}},
		{"Get-CsOnlineUser | Measure-Object | Select-Object -ExpandProperty Count", []string{"4"}},
		{"Write-Output 1 2 3.5 | Measure-Object -Sum -Average -Maximum -Minimum | Select-Object Count,Sum,Average,Maximum,Minimum | Format-List", []string{
			"", "", "Count   : 3", "Sum     : 6.5", "Average : 2.1666666666666665", "Maximum : 3.5", "Minimum : 1", "", "", ""}},
		{"Get-FormatData -TypeName * -PowerShellVersion 5.1 | Measure-Object | Select-Object -ExpandProperty Count", []string{"0"}},
		// Format-*, Out-*
		{"Get-CsOnlineUser -ResultSize 2 | Format-Table DisplayName, Age", []string{"", "DisplayName Age", "----------- ---", "alice        34", "bob          51", "", ""}},
		{"Get-CsOnlineUser -ResultSize 1 | Format-List DisplayName, Dep*", []string{"", "", "DisplayName : alice", "Department  : Sales", "", "", ""}},
		{"Get-CsOnlineUser -ResultSize 1 | Select-Object DisplayName, Age | Out-String", []string{"\nDisplayName Age\n----------- ---\nalice        34\n\n\n"}},
		{"Get-CsOnlineUser -ResultSize 1 | Select-Object DisplayName | Out-String -Stream", []string{"", "DisplayName", "-----------", "alice", "", ""}},
		{"Write-Output 'a long line of text' | Out-String -Width 10 -Stream", []string{"a long line of text"}},
		{"Get-CsTenant | Out-Null", nil},
		{"Write-Output hello | Out-Default", []string{"hello"}},
		{"Write-Output a,b -NoEnumerate | Measure-Object | Select-Object -ExpandProperty Count", []string{"1"}},
		{"echo a,b | Measure-Object | Select-Object -ExpandProperty Count", []string{"2"}},
		{"Exit-PSSession", nil},
		// Get-Date with the runspace clock.
		{"Get-Date -Format 'yyyy-MM-dd HH:mm:ss'", []string{"2026-05-17 14:30:00"}},
		{`Get-Date -Date 2026-03-04T05:06:07Z -Format "dddd d MMM yy h tt 'at' \x"`, []string{"Wednesday 4 Mar 26 5 AM at x"}},
		{"Get-Date -Format o", []string{"2026-05-17T14:30:00.0000000Z"}},
		{"Get-Date | Select-Object -ExpandProperty Year", []string{"2026"}},
		{"Get-Date -Date 2026-03-04 | Select-Object DayOfWeek, Month | Format-List", []string{"", "", "DayOfWeek : Wednesday", "Month     : 3", "", "", ""}},
	}
	for _, tt := range tests {
		got := outLines(t, env, tt.script)
		if diff := cmp.Diff(got, tt.want, cmpEmpty); diff != "" {
			t.Errorf("%s (-got +want):\n%s", tt.script, diff)
		}
	}
}

func TestSelectObjectShape(t *testing.T) {
	env := newFakeEnv(t)
	rec, err := env.run(t, engine.RunspaceConfig{}, "Get-CsOnlineUser -ResultSize 1 | Select-Object *Name, Age, Missing -ExcludeProperty User*")
	if err != nil || len(rec.out) != 1 {
		t.Fatal(err, rec.texts())
	}
	o := rec.out[0].(*psobject.Object)
	wantTypes := []string{"Selected.Psgate.OnlineUser", "System.Management.Automation.PSCustomObject", "System.Object"}
	if diff := cmp.Diff(o.TypeNames, wantTypes); diff != "" {
		t.Errorf("type names (-got +want):\n%s", diff)
	}
	wantProps := []psobject.Property{{Name: "DisplayName", Value: "alice"}, {Name: "Age", Value: int32(34)}, {Name: "Missing"}}
	if diff := cmp.Diff(o.Extended, wantProps); diff != "" || len(o.Props) != 0 {
		t.Errorf("properties (-got +want):\n%s", diff)
	}

	rec, _ = env.run(t, engine.RunspaceConfig{}, "Get-CsOnlineUser -ResultSize 1 | Select-Object -ExpandProperty Nope")
	if len(rec.errors) != 1 || rec.errors[0].Message() != `Property "Nope" cannot be found.` || rec.errors[0].FullyQualifiedErrorID != "ExpandPropertyNotFound,Select-Object" {
		t.Errorf("missing expand property: %+v", rec.errors)
	}
}

func TestBuiltinErrors(t *testing.T) {
	env := newFakeEnv(t)
	tests := []struct {
		script string
		code   psgate.Code
		errors []string // written
	}{
		{script: "Get-CsOnlineUser | Where-Object Age -gt", code: psgate.CodeInvalidOperation},
		{script: "Get-CsOnlineUser | Where-Object Age -GT -Value:$null"},
		{script: "Get-CsOnlineUser | Where-Object -FilterScript x", code: psgate.CodeLanguageNotAllowed},
		{script: "Get-CsOnlineUser | Where-Object -Value 5 -EQ", code: psgate.CodeMissingMandatory},
		{script: "Get-CsOnlineUser | Where-Object -Property Age -EQ", code: psgate.CodeInvalidOperation},
		{script: "Get-CsOnlineUser | Where-Object DisplayName -gt 5 -ErrorAction SilentlyContinue"},
		{script: "Get-CsOnlineUser -ResultSize 1 | Where-Object Age -gt abc", errors: []string{`Could not compare "34" to "abc". Error: "Cannot convert value \"abc\" to type \"System.Int32\". Error: \"Input string was not in a correct format.\""`}},
		{script: "Get-CsOnlineUser | Measure-Object -Property Nope", errors: []string{`The property "Nope" cannot be found in the input for any objects.`}},
		{script: "Write-Output 1 x | Measure-Object -Sum", errors: []string{`Input object "x" is not numeric.`}},
		{script: "Get-Help Get-Nope", errors: []string{"The term 'Get-Nope' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again."}},
		{script: "Get-Command Get-Nope, Get-CsT*", errors: []string{"The term 'Get-Nope' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again."}},
		{script: "Get-Command -CommandType Banana", code: psgate.CodeParameterBinding},
		{script: "Write-Error 'It failed.' -Category ObjectNotFound -ErrorId Failed -TargetObject x", errors: []string{"It failed."}},
		{script: "Select-Object -First -1", code: psgate.CodeParameterValidation},
		{script: "Out-String -Width 1", code: psgate.CodeParameterValidation},
		{script: "Get-Help Get-CsOnlineUser -Parameter Nope", errors: []string{"A parameter cannot be found that matches parameter name 'Nope'."}},
	}
	for _, tt := range tests {
		rec, err := env.run(t, engine.RunspaceConfig{}, tt.script)
		if codeOf(err) != tt.code {
			t.Errorf("%s: got %v, want %q", tt.script, err, tt.code)
		}
		want := tt.errors
		if tt.code != "" {
			want = append([]string{err.(*engine.TerminatingError).Record.Message()}, want...)
		}
		if diff := cmp.Diff(rec.errorMessages(), want, cmpEmpty); diff != "" {
			t.Errorf("%s: errors (-got +want):\n%s", tt.script, diff)
		}
	}
	rec, _ := env.run(t, engine.RunspaceConfig{}, "Write-Error 'It failed.' -Category ObjectNotFound -ErrorId Failed -TargetObject x")
	r := rec.errors[0]
	if r.Category != engine.CategoryObjectNotFound || r.FullyQualifiedErrorID != "Failed,Write-Error" || r.TargetName != "x" ||
		r.CategoryInfo() != "ObjectNotFound: (x:String) [Write-Error], WriteErrorException" {
		t.Errorf("Write-Error record: %+v %s", r, r.CategoryInfo())
	}
}

func TestGetCommand(t *testing.T) {
	env := newFakeEnv(t)
	names := func(script string) []string {
		rec, err := env.run(t, engine.RunspaceConfig{}, script)
		if err != nil {
			t.Fatalf("%s: %v", script, err)
		}
		var out []string
		for _, o := range rec.out {
			n, _ := o.(*psobject.Object).Get("Name")
			out = append(out, n.(string))
		}
		return out
	}
	tests := []struct {
		script string
		want   []string
	}{
		{"Get-Command -Noun Cs*", []string{"Get-CsOnlineUser", "Get-CsTenant", "Set-CsUser"}},
		{"Get-Command *-CsTenant", []string{"Get-CsTenant"}},
		{"Get-Command -Verb Set", []string{"Set-CsUser"}},
		{"Get-Command -Verb Get -Noun Cs* -TotalCount 1", []string{"Get-CsOnlineUser"}},
		{"Get-Command -Name Out-Default, Exit-PSSession -CommandType 271", []string{"Out-Default", "Exit-PSSession"}},
		{"Get-Command select", []string{"select"}},
		{"Get-Command sel*", []string{"Select-Object"}},
		{"Get-Command sel* -CommandType Alias", []string{"select"}},
		{"Get-Command Select-Object -CommandType Function", nil},
		{"Get-Command psgate\\Get-CsTenant", []string{"Get-CsTenant"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(names(tt.script), tt.want, cmpEmpty); diff != "" {
			t.Errorf("%s (-got +want):\n%s", tt.script, diff)
		}
	}

	rec, _ := env.run(t, engine.RunspaceConfig{}, "Get-Command Set-CsUser")
	o := rec.out[0].(*psobject.Object)
	if diff := cmp.Diff(o.TypeNames, []string{"System.Management.Automation.CmdletInfo", "System.Management.Automation.CommandInfo", "System.Object"}); diff != "" {
		t.Errorf("type names: %s", diff)
	}
	for name, want := range map[string]any{
		"CommandType": psobject.Enum{Type: "System.Management.Automation.CommandTypes", Name: "Cmdlet", Value: 8},
		"Name":        "Set-CsUser",
		"Source":      "psgate",
		"Version":     psobject.Version(psgate.Version),
	} {
		if got, _ := o.Get(name); got != want {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	params, _ := o.Get("Parameters")
	var pnames []string
	for _, e := range params.(*psobject.Dict).Entries {
		pnames = append(pnames, e.Key.(string))
		if e.Key == "Identity" {
			pm := e.Value.(*psobject.Object)
			if typ, _ := pm.Get("ParameterType"); typ != "System.String" {
				t.Errorf("Identity ParameterType = %v", typ)
			}
			if al, _ := pm.Get("Aliases"); !cmp.Equal(al, []any{"UPN"}) {
				t.Errorf("Identity Aliases = %v", al)
			}
		}
	}
	want := "Identity Department Enabled Verbose Debug ErrorAction WarningAction InformationAction ErrorVariable WarningVariable InformationVariable OutVariable OutBuffer PipelineVariable WhatIf Confirm"
	if got := strings.Join(pnames, " "); got != want {
		t.Errorf("Parameters keys:\n got %s\nwant %s", got, want)
	}

	lines := outLines(t, env, "Get-Command Set-CsUser -Syntax")
	if diff := cmp.Diff(lines, []string{"\nSet-CsUser [-Identity] <string> [-Department <string>] [-Enabled <bool>] [-WhatIf] [-Confirm] [<CommonParameters>]\n"}); diff != "" {
		t.Errorf("-Syntax (-got +want):\n%s", diff)
	}
	lines = outLines(t, env, "Get-Command -Noun CsTenant | Format-Table")
	if diff := cmp.Diff(lines[1:3], []string{
		"CommandType     Name                                               Version    Source",
		"-----------     ----                                               -------    ------"}); diff != "" {
		t.Errorf("default view (-got +want):\n%s", diff)
	}
}

// member is a property of a help object's property, as h.a.b reads it.
func member(t *testing.T, v any, names ...string) any {
	t.Helper()
	for _, n := range names {
		o, ok := v.(*psobject.Object)
		if !ok {
			t.Fatalf("%s of %#v: not an object", n, v)
		}
		v, _ = o.Get(n)
	}
	return v
}

// Get-Help's objects are MAML help as PowerShell shapes it; its views
// are tested in cmdlets/help_views_test.go.
func TestGetHelp(t *testing.T) {
	env := newFakeEnv(t)
	rec, err := env.run(t, engine.RunspaceConfig{}, "Get-Help Select-Object")
	if err != nil || len(rec.out) != 1 {
		t.Fatal(err, rec.texts())
	}
	h := rec.out[0].(*psobject.Object)
	for name, want := range map[string]any{
		"Name":       "Select-Object",
		"Category":   "Cmdlet",
		"Synopsis":   "Selects objects or object properties.",
		"ModuleName": engine.ModuleName,
	} {
		if got, _ := h.Get(name); got != want {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	if diff := cmp.Diff(h.TypeNames, []string{"MamlCommandHelpInfo", "HelpInfo"}); diff != "" {
		t.Errorf("default view: %s", diff)
	}
	if got := member(t, h, "details", "name"); got != "Select-Object" {
		t.Errorf("details.name = %v", got)
	}
	text, _ := format.Help(h, format.Options{Newline: "\n", Width: 400})
	if want := "\nSYNTAX\n    Select-Object [[-Property] <Object[]>] [-InputObject <Object>] [-ExcludeProperty <string[]>] [-ExpandProperty <string>] [-First <int>] [-Last <int>] [-Skip <int>] [-Unique] [<CommonParameters>]\n"; !strings.Contains(text, want) {
		t.Errorf("syntax:\n%s", text)
	}

	rec, _ = env.run(t, engine.RunspaceConfig{}, "Get-Help Select-Object -Examples")
	if h := rec.out[0].(*psobject.Object); !cmp.Equal(h.TypeNames, []string{"MamlCommandHelpInfo#ExamplesView", "HelpInfo#ExamplesView", "MamlCommandHelpInfo", "HelpInfo"}) {
		t.Errorf("-Examples view: %v", h.TypeNames)
	}
	rec, _ = env.run(t, engine.RunspaceConfig{}, "Get-Help Select-Object -Full")
	ex := member(t, rec.out[0], "examples", "example")
	if code := member(t, ex.([]any)[0], "code"); code != "Get-CsOnlineUser | Select-Object DisplayName, Department" {
		t.Errorf("example code %v", code)
	}

	rec, _ = env.run(t, engine.RunspaceConfig{}, "Get-Help Get-CsOnlineUser -Parameter Ident*")
	if len(rec.out) != 1 {
		t.Fatalf("-Parameter: %v", rec.texts())
	}
	p := rec.out[0].(*psobject.Object)
	if p.TypeName() != format.HelpTypeParameter {
		t.Errorf("-Parameter type %v", p.TypeNames)
	}
	for name, want := range map[string]any{"name": "Identity", "required": "false", "position": "0", "pipelineInput": "True (ByValue, ByPropertyName)", "defaultValue": "None"} {
		if got, _ := p.Get(name); got != want {
			t.Errorf("parameter %s = %#v, want %#v", name, got, want)
		}
	}
	if v := member(t, p, "parameterValue"); psobject.Format(v) != "string" || member(t, v, "required") != "true" {
		t.Errorf("parameterValue %#v", v)
	}
	if d := member(t, p, "description").([]any); len(d) != 1 || member(t, d[0], "Text") != "The user." {
		t.Errorf("description %#v", d)
	}

	rec, _ = env.run(t, engine.RunspaceConfig{}, "Get-Help Get-Cs*")
	if len(rec.out) != 2 {
		t.Errorf("wildcard: %v", rec.texts())
	}
	rec, _ = env.run(t, engine.RunspaceConfig{}, "help")
	if n, _ := rec.out[0].(*psobject.Object).Get("Name"); n != "Get-Help" {
		t.Errorf("help alone: %v", n)
	}
}

func TestFormatDotnetTime(t *testing.T) {
	tm := time.Date(2026, 7, 4, 15, 4, 5, 123456700, time.UTC)
	tests := map[string]string{
		"d":                   "7/4/2026",
		"D":                   "Saturday, July 4, 2026",
		"G":                   "7/4/2026 3:04:05 PM",
		"s":                   "2026-07-04T15:04:05",
		"u":                   "2026-07-04 15:04:05Z",
		"o":                   "2026-07-04T15:04:05.1234567Z",
		"yyyyMMdd-HHmmss.fff": "20260704-150405.123",
		"hh:mm tt zzz":        "03:04 PM +00:00",
		`"Day" d\, MMMM`:      "Day 4, July",
		"FFFFFFF":             "1234567",
	}
	for f, want := range tests {
		if got := formatDotnetTime(tm, f); got != want {
			t.Errorf("format %q = %q, want %q", f, got, want)
		}
	}
}

func TestErrorRecordText(t *testing.T) {
	env := newFakeEnv(t)
	rs := env.runspace(engine.RunspaceConfig{Newline: "\n"})
	rec := &recorder{}
	// 2>&1 | Out-String, as interactive hosts send it.
	err := rs.Run(t.Context(), engine.Pipeline{Commands: []engine.CommandCall{
		{Name: "Get-CsOnlineUser", Args: []engine.Argument{{Value: "nobody", HasValue: true}}, MergeErrorToOutput: true},
		{Name: "Out-String", Args: []engine.Argument{{Name: "Stream", Value: true, HasValue: true}}},
	}}, nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Get-CsOnlineUser : Cannot find an object with identity 'nobody' in tenant 'contoso'.",
		"    + CategoryInfo          : ObjectNotFound: (nobody:String) [Get-CsOnlineUser], ItemNotFoundException",
		"    + FullyQualifiedErrorId : UserNotFound,Get-CsOnlineUser",
	}
	if diff := cmp.Diff(rec.texts(), want); diff != "" {
		t.Errorf("(-got +want):\n%s", diff)
	}

	rec = &recorder{}
	err = rs.Run(t.Context(), engine.Pipeline{Commands: []engine.CommandCall{
		{Name: "Invoke-Fail", Args: []engine.Argument{{Value: "NonTerminating", HasValue: true}}, MergeErrorToOutput: true},
		{Name: "Where-Object", Args: []engine.Argument{{Value: "FullyQualifiedErrorId", HasValue: true}, {Name: "like", HasValue: false}, {Value: "Problem*", HasValue: true}}},
		{Name: "Select-Object", Args: []engine.Argument{{Name: "ExpandProperty", Value: "Exception", HasValue: true}}},
	}}, nil, rec)
	if err != nil || strings.Join(rec.texts(), "|") != "First problem.|Second problem." {
		t.Errorf("error record properties: %v %v", err, rec.texts())
	}
}

func TestTimeSpanProperties(t *testing.T) {
	d := 26*time.Hour + 3*time.Minute + 4*time.Second + 5*time.Millisecond
	for name, want := range map[string]any{
		"Days": int32(1), "Hours": int32(2), "Minutes": int32(3), "Seconds": int32(4), "Milliseconds": int32(5),
		"TotalHours": d.Hours(), "Ticks": int64(d / 100), "TotalMilliseconds": 93784005.0,
	} {
		if got, ok := propertyOf(d, name); !ok || got != want {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
}

func TestRegister(t *testing.T) {
	c := engine.NewCatalog()
	if err := Register(c); err != nil {
		t.Fatal(err)
	}
	if err := Register(c); err == nil {
		t.Error("registering the built-ins twice: got nil error")
	}
	for _, cmd := range c.Commands() {
		if cmd.Synopsis == "" || cmd.Description == "" {
			t.Errorf("%s has no Synopsis or Description", cmd.Name)
		}
		for _, p := range cmd.Parameters {
			if p.Help == "" {
				t.Errorf("%s -%s has no Help", cmd.Name, p.Name)
			}
		}
	}
}

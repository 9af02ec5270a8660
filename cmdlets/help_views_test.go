package cmdlets

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/engine/builtin"
	"github.com/psgate/psgate/format"
	"github.com/psgate/psgate/psobject"
)

// A Windows client renders Get-Help's objects with PowerShell's own help
// views (Help.format.ps1xml), which read MAML help's nested properties.
// These tests walk the property paths those views read over the help of
// real cmdlets, before and after a CLIXML round trip (the object a client
// gets), and check that each resolves to the command's text.
//
// The paths are those of PowerShell/PowerShell
// src/System.Management.Automation/FormatAndOutput/DefaultFormatters/Help_format_ps1xml.cs
// (commit 929903692e55), by line:
//
//	MamlDetailsControl        175 Name, 182 Description (MamlShortDescriptionControl: 20 entry
//	                          selected by MamlParaTextItem, 21 Text)
//	DefaultCommandHelp        566 Details; 579, 583, 588 $_.Details.Name; 572 relatedLinks
//	MamlIndentedSyntaxControl 326 Syntax; MamlSyntaxControl 270 SyntaxItem; control5 260 name,
//	                          262 Parameter; MamlParameterControl 64 required, 65 position,
//	                          66-69 ParameterValueGroup.ParameterValue / ParameterValue, 76 Name
//	MamlIndentedDescription   251 description (MamlDescriptionControl 30-31 MamlParaTextItem Text)
//	VerboseCommandHelp        627 Parameters; control9 614 Parameter; control10 602 name,
//	                          603 ParameterValue (MamlParameterValueControl 82 $_.required),
//	                          606 Description; 637 Examples
//	ExamplesControl           276 Example; MamlExampleControl 191 Title, 194 Introduction
//	                          (TextPropertyControl 15 Text), 195 Code, 197 results, 199 remarks
//	FullCommandHelp           737 Parameters (zzz → control8 374 Parameter →
//	                          MamlFullParameterControl 341 name, 342 ParameterValue,
//	                          345 Description, 347 possibleValues, 349 required, 352-353 position,
//	                          356 defaultValue, 359 pipelineInput, 362 aliases, 365 globbing);
//	                          742 InputTypes → 724 InputType; 748 ReturnValues → 718 ReturnValue;
//	                          MamlTypeWithDescriptionControl 282 type → MamlTypeControl 223 name,
//	                          224 uri, 225 description; 285 description;
//	                          751-760 terminatingErrors, nonTerminatingErrors, alertSet
//	                          (shown only when present); 762 Examples; 768 relatedLinks
//	MamlRelatedLinksControl   166 navigationLink; control6 157 linkText, 159 uri
//	HelpInfoShort             533 ModuleName
//
// Besides, HelpInfo.AddCommonHelpProperties (help/HelpInfo.cs) gives every
// help object Name, Category, Synopsis, Component, Role and Functionality,
// and RemoteHelpInfo (help/RemoteHelpInfo.cs) sets Name and Details.Name.

// helpPath resolves a dotted property path as PowerShell's member access
// does: a collection's members are enumerated and their values collected.
// It reports whether the last property exists on some object.
func helpPath(v any, path string) ([]any, bool) {
	cur := []any{v}
	found := false
	for _, name := range strings.Split(path, ".") {
		var next []any
		found = false
		for _, c := range flatten(cur) {
			o, ok := c.(*psobject.Object)
			if !ok {
				continue
			}
			if x, ok := o.Get(name); ok {
				found = true
				next = append(next, x)
			}
		}
		cur = next
	}
	return flatten(cur), found
}

func flatten(vs []any) []any {
	var out []any
	for _, v := range vs {
		if list, ok := v.([]any); ok {
			out = append(out, flatten(list)...)
		} else {
			out = append(out, v)
		}
	}
	return out
}

// texts is the text of each value, as a view writes it.
func texts(vs []any) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = psobject.Format(v)
	}
	return out
}

// paraText is a MAML text as PowerShell's help views write it: each
// paragraph's Text and a line break; with \r\n as \n.
func paraText(vs []any) string {
	var b strings.Builder
	for _, t := range texts(vs) {
		b.WriteString(t)
		b.WriteString("\n")
	}
	return strings.ReplaceAll(b.String(), "\r\n", "\n")
}

// helpCatalog is a catalog with the built-ins and the package's cmdlets.
func helpCatalog(t *testing.T) *engine.Catalog {
	t.Helper()
	cat := engine.NewCatalog()
	if err := builtin.Register(cat); err != nil {
		t.Fatal(err)
	}
	if err := Register(cat, newFakeDir()); err != nil {
		t.Fatal(err)
	}
	return cat
}

// getHelp runs a Get-Help line and returns its one object, as the server
// has it and as a client deserializes it.
func getHelp(t *testing.T, cat *engine.Catalog, line string) (server, client any) {
	t.Helper()
	rs := engine.NewRunspace(engine.RunspaceConfig{Catalog: cat, Caller: contoso})
	s := &sink{}
	if err := rs.RunScript(t.Context(), line, nil, s); err != nil || len(s.out) != 1 || len(s.errs) != 0 {
		t.Fatalf("%s: %v, %d objects, errors %v", line, err, len(s.out), s.errs)
	}
	data, err := clixml.Marshal(s.out[0])
	if err != nil {
		t.Fatal(err)
	}
	client, err = clixml.Unmarshal(data, clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return s.out[0], client
}

// typeName is an object's first type name without "Deserialized.".
func typeName(v any) string {
	o, ok := v.(*psobject.Object)
	if !ok {
		return fmt.Sprintf("%T", v)
	}
	return strings.TrimPrefix(o.TypeName(), "Deserialized.")
}

// syntaxParam is one parameter of a syntax item as MamlParameterControl
// (lines 64-76) writes it.
func syntaxParam(t *testing.T, p any) string {
	t.Helper()
	reqs, _ := helpPath(p, "required")
	optional := strings.Join(texts(reqs), "") != "true"
	pos, _ := helpPath(p, "position")
	_, err := strconv.Atoi(strings.Join(texts(pos), ""))
	positional := err == nil
	value := ""
	if g, ok := helpPath(p, "ParameterValueGroup.ParameterValue"); ok {
		value = " {" + strings.Join(texts(g), " | ") + "}"
	} else if v, ok := helpPath(p, "ParameterValue"); ok {
		value = " <" + strings.Join(texts(v), "") + ">"
	}
	names, _ := helpPath(p, "Name")
	name := strings.Join(texts(names), "")
	switch {
	case optional && positional:
		return "[[-" + name + "]" + value + "]"
	case optional:
		return "[-" + name + value + "]"
	case positional:
		return "[-" + name + "]" + value
	}
	return "-" + name + value
}

func TestHelpViewPaths(t *testing.T) {
	cat := helpCatalog(t)
	views := []struct{ flag, typeName string }{
		{"", "MamlCommandHelpInfo"},
		{" -Detailed", "MamlCommandHelpInfo#DetailedView"},
		{" -Full", "MamlCommandHelpInfo#FullView"},
		{" -Examples", "MamlCommandHelpInfo#ExamplesView"},
	}
	for _, name := range []string{"Get-CsOnlineUser", "Set-CsUser"} {
		cmd, ok := cat.Lookup(name)
		if !ok {
			t.Fatalf("%s is not registered", name)
		}
		for _, view := range views {
			server, client := getHelp(t, cat, "Get-Help "+name+view.flag)
			for side, h := range map[string]any{"server": server, "client": client} {
				t.Run(name+view.flag+"/"+side, func(t *testing.T) {
					if got := typeName(h); got != view.typeName {
						t.Errorf("type %s, want %s", got, view.typeName)
					}
					checkHelpPaths(t, cmd, h)
				})
			}
		}
	}
}

func checkHelpPaths(t *testing.T, cmd *engine.Command, h any) {
	// want is the text a path must resolve to, one string per value.
	want := func(path string, values ...string) {
		t.Helper()
		got, ok := helpPath(h, path)
		if !ok {
			t.Errorf("%s does not resolve", path)
			return
		}
		if diff := cmp.Diff(texts(got), values); diff != "" {
			t.Errorf("%s (-got +want):\n%s", path, diff)
		}
	}
	// wantText is a MAML text (paragraph objects) a path must give.
	wantText := func(path, text string) {
		t.Helper()
		got, ok := helpPath(h, path)
		if !ok {
			t.Errorf("%s does not resolve", path)
			return
		}
		for _, p := range got {
			if tn := typeName(p); tn != "MamlParaTextItem" {
				t.Errorf("%s: a paragraph typed %s (the views select MamlParaTextItem)", path, tn)
			}
		}
		paras, _ := helpPath(h, path+".Text")
		if got := paraText(paras); got != text+"\n" {
			t.Errorf("%s.Text = %q, want %q", path, got, text+"\n")
		}
	}
	// absent is a path the views allow to be missing.
	absent := func(path string) {
		t.Helper()
		if got, ok := helpPath(h, path); ok && len(got) > 0 && got[0] != nil {
			t.Errorf("%s = %v, want it absent", path, texts(got))
		}
	}

	// HelpInfo.AddCommonHelpProperties, CommandHelpProvider; line 533.
	want("Name", cmd.Name)
	want("Category", "Cmdlet")
	want("Synopsis", cmd.Synopsis)
	want("ModuleName", engine.ModuleName)
	for _, p := range []string{"Component", "Role", "Functionality"} {
		want(p, "")
	}
	// Lines 175, 182, 579, 583, 588.
	want("Details.Name", cmd.Name)
	wantText("Details.Description", cmd.Synopsis)
	// Line 251.
	wantText("description", cmd.Description)

	// Lines 326, 270, 260, 262 and MamlParameterControl (64-76): the
	// syntax PowerShell writes is cmd.Syntax().
	items, _ := helpPath(h, "Syntax.SyntaxItem")
	var lines []string
	for _, item := range items {
		if tn := typeName(item); tn != "MamlCommandHelpInfo#syntaxItem" {
			t.Errorf("syntaxItem typed %s", tn)
		}
		names, _ := helpPath(item, "name")
		parts := texts(names)
		params, _ := helpPath(item, "Parameter")
		for _, p := range params {
			parts = append(parts, syntaxParam(t, p))
		}
		lines = append(lines, strings.Join(append(parts, "[<CommonParameters>]"), " "))
	}
	if diff := cmp.Diff(lines, cmd.Syntax()); diff != "" {
		t.Errorf("syntax as PowerShell's view writes it (-got +want):\n%s", diff)
	}

	// Lines 627/737, 614/374 and the parameter controls.
	params, _ := helpPath(h, "Parameters.Parameter")
	if len(params) != len(cmd.Parameters) {
		t.Fatalf("%d parameters, want %d", len(params), len(cmd.Parameters))
	}
	for i, p := range params {
		ep := &cmd.Parameters[i]
		checkParameterPaths(t, ep, p)
	}

	// Lines 742/724, 748/718, 282, 223.
	var inputs []string
	for _, p := range cmd.Parameters {
		if (p.ValueFromPipeline || p.ValueFromPipelineByPropertyName) && !contains(inputs, p.Type.String()) {
			inputs = append(inputs, p.Type.String())
		}
	}
	if len(inputs) == 0 {
		inputs = []string{"None"}
	}
	want("InputTypes.InputType.type.name", inputs...)
	outputs := cmd.OutputType
	if len(outputs) == 0 {
		outputs = []string{"None"}
	}
	want("ReturnValues.ReturnValue.type.name", outputs...)
	want("ReturnValues.ReturnValue.type.uri", make([]string, len(outputs))...)

	// Lines 637/762, 276, 191-199.
	examples, _ := helpPath(h, "Examples.Example")
	if len(examples) != len(cmd.Examples) {
		t.Fatalf("%d examples, want %d", len(examples), len(cmd.Examples))
	}
	for i, ex := range examples {
		if tn := typeName(ex); tn != "MamlCommandHelpInfo#example" {
			t.Errorf("example typed %s", tn)
		}
		title, _ := helpPath(ex, "Title")
		intro, _ := helpPath(ex, "Introduction.Text")
		code, _ := helpPath(ex, "Code")
		remarks, _ := helpPath(ex, "remarks.Text")
		if got, want := texts(title), []string{fmt.Sprintf("-------------------------- EXAMPLE %d --------------------------", i+1)}; !cmp.Equal(got, want) {
			t.Errorf("example %d title %q", i+1, got)
		}
		if got := strings.Join(texts(intro), "") + strings.Join(texts(code), ""); got != `PS C:\>`+cmd.Examples[i].Code {
			t.Errorf("example %d introduction and code %q", i+1, got)
		}
		if got := paraText(remarks); got != cmd.Examples[i].Remarks+"\n" {
			t.Errorf("example %d remarks %q", i+1, got)
		}
	}

	// What psgate has no data for is absent, as in MAML without it.
	for _, p := range []string{"relatedLinks", "alertSet", "terminatingErrors", "nonTerminatingErrors", "Examples.Example.results"} {
		absent(p)
	}
}

// checkParameterPaths walks the paths of VerboseCommandHelp's control10
// (602-606) and MamlFullParameterControl (341-365) over one parameter.
func checkParameterPaths(t *testing.T, ep *engine.Parameter, p any) {
	t.Helper()
	if tn := typeName(p); tn != format.HelpTypeParameter {
		t.Errorf("parameter typed %s", tn)
	}
	get := func(path string) string {
		t.Helper()
		v, ok := helpPath(p, path)
		if !ok {
			t.Errorf("%s: %s does not resolve", ep.Name, path)
		}
		return strings.Join(texts(v), "|")
	}
	position := "Named"
	if ep.Position != engine.NotPositional {
		position = strconv.Itoa(ep.Position)
	}
	value, valueRequired := ep.Type.ShortName(), "true"
	if ep.Type == engine.TypeSwitch {
		value, valueRequired = "SwitchParameter", "false"
	}
	for path, want := range map[string]string{
		"name":                    ep.Name,
		"ParameterValue":          value,
		"ParameterValue.required": valueRequired,
		"required":                strconv.FormatBool(ep.Mandatory),
		"position":                position,
		"defaultValue":            "None",
		"globbing":                "false",
		"type.name":               ep.Type.String(),
	} {
		if got := get(path); got != want {
			t.Errorf("%s: %s = %q, want %q", ep.Name, path, got, want)
		}
	}
	var by []string
	if ep.ValueFromPipeline {
		by = append(by, "ByValue")
	}
	if ep.ValueFromPipelineByPropertyName {
		by = append(by, "ByPropertyName")
	}
	pipeline := "False"
	if len(by) > 0 {
		pipeline = "True (" + strings.Join(by, ", ") + ")"
	}
	if got := get("pipelineInput"); got != pipeline {
		t.Errorf("%s: pipelineInput = %q, want %q", ep.Name, got, pipeline)
	}
	get("aliases")
	desc, _ := helpPath(p, "Description.Text")
	if got := paraText(desc); got != ep.Help+"\n" {
		t.Errorf("%s: Description.Text = %q", ep.Name, got)
	}
	if got, ok := helpPath(p, "possibleValues"); ok && len(got) > 0 && got[0] != nil {
		t.Errorf("%s: possibleValues %v", ep.Name, got)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Get-Help -Parameter writes the parameter object, which PowerShell's
// parameter view (MamlCommandHelpInfo#Parameter, line 478) lays out with
// MamlFullParameterControl.
func TestHelpParameterViewPaths(t *testing.T) {
	cat := helpCatalog(t)
	cmd, _ := cat.Lookup("Set-CsUser")
	for _, ep := range cmd.Parameters {
		server, client := getHelp(t, cat, "Get-Help Set-CsUser -Parameter "+ep.Name)
		for side, p := range map[string]any{"server": server, "client": client} {
			t.Run(ep.Name+"/"+side, func(t *testing.T) {
				checkParameterPaths(t, &ep, p)
			})
		}
	}
}

// psgate's renderer writes the syntax of every command from the help's
// syntax items, as PowerShell's view does, and that is cmd.Syntax():
// parameter sets, ValidateSet values, -WhatIf and -Confirm included.
func TestHelpSyntaxFromItems(t *testing.T) {
	cat := helpCatalog(t)
	for _, cmd := range cat.Commands() {
		if cmd.Unlisted {
			continue
		}
		_, client := getHelp(t, cat, "Get-Help "+cmd.Name)
		text, ok := format.Help(client.(*psobject.Object), format.Options{Newline: "\n", Width: 1000})
		if !ok {
			t.Fatalf("%s: not rendered as help", cmd.Name)
		}
		_, rest, _ := strings.Cut(text, "\nSYNTAX\n")
		syntax, _, _ := strings.Cut(rest, "\n\n\nDESCRIPTION\n")
		var got []string
		for _, l := range strings.Split(syntax, "\n") {
			if l != "" {
				got = append(got, strings.TrimPrefix(l, "    "))
			}
		}
		if diff := cmp.Diff(got, cmd.Syntax()); diff != "" {
			t.Errorf("%s syntax (-got +want):\n%s", cmd.Name, diff)
		}
	}
}

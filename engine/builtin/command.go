package builtin

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/format"
	"github.com/psgate/psgate/psobject"
)

// bindingException is the exception of parameter binding errors.
const bindingException = "System.Management.Automation.ParameterBindingException"

// commandTypes are System.Management.Automation.CommandTypes members.
var commandTypes = []struct {
	name  string
	value int32
}{
	{"Alias", 1}, {"Function", 2}, {"Filter", 4}, {"Cmdlet", 8}, {"ExternalScript", 16},
	{"Application", 32}, {"Script", 64}, {"Workflow", 128}, {"Configuration", 256}, {"All", 511},
}

const (
	typeAlias  = 1
	typeCmdlet = 8
)

func getCommandCmd() *engine.Command {
	return &engine.Command{
		Name:     "Get-Command",
		Aliases:  []string{"gcm"},
		Synopsis: "Lists the commands you can run.",
		Description: "Get-Command lists the commands of this session that your roles allow, optionally filtered " +
			"by name, verb or noun (wildcards allowed). With -Syntax it shows how to call them.",
		Parameters: []engine.Parameter{
			{Name: "Name", Type: engine.TypeStringArray, Position: 0, Help: "Command names; wildcards are allowed."},
			{Name: "Verb", Type: engine.TypeStringArray, Position: engine.NotPositional, Help: "Verbs (the part before the hyphen); wildcards are allowed."},
			{Name: "Noun", Type: engine.TypeStringArray, Position: engine.NotPositional, Help: "Nouns (the part after the hyphen); wildcards are allowed."},
			{Name: "Module", Type: engine.TypeStringArray, Position: engine.NotPositional, Aliases: []string{"PSSnapin"}, Help: "Accepted for compatibility; every command is in the psgate module."},
			{Name: "FullyQualifiedModule", Type: engine.TypeObject, Position: engine.NotPositional, Help: "Accepted for compatibility."},
			{Name: "CommandType", Type: engine.TypeObject, Position: engine.NotPositional, Aliases: []string{"Type"}, Help: "Cmdlet, Alias or All."},
			{Name: "TotalCount", Type: engine.TypeInt, Position: engine.NotPositional, Help: "The most commands to list."},
			{Name: "Syntax", Type: engine.TypeSwitch, Position: engine.NotPositional, Help: "Shows each command's syntax instead."},
			{Name: "ArgumentList", Type: engine.TypeObjectArray, Position: 1, Aliases: []string{"Args"}, Help: "Accepted for compatibility."},
			{Name: "ListImported", Type: engine.TypeSwitch, Position: engine.NotPositional, Help: "Accepted for compatibility."},
			{Name: "ShowCommandInfo", Type: engine.TypeSwitch, Position: engine.NotPositional, Help: "Accepted for compatibility."},
			{Name: "All", Type: engine.TypeSwitch, Position: engine.NotPositional, Help: "Accepted for compatibility."},
		},
		OutputType: []string{"System.Management.Automation.CmdletInfo", "System.Management.Automation.AliasInfo"},
		Examples: []engine.Example{
			{Code: "Get-Command", Remarks: "Lists every command you can run."},
			{Code: "Get-Command -Noun CsOnlineUser", Remarks: "Lists the commands about online users."},
			{Code: "Get-Command Get-CsOnlineUser -Syntax", Remarks: "Shows how to call Get-CsOnlineUser."},
		},
		Run: runGetCommand,
	}
}

// commandTypeMask converts -CommandType to CommandTypes flags.
func commandTypeMask(v any) (int32, bool) {
	if list, ok := engine.AsList(v); ok {
		var m int32
		for _, e := range list {
			x, ok := commandTypeMask(e)
			if !ok {
				return 0, false
			}
			m |= x
		}
		return m, true
	}
	switch x := v.(type) {
	case string:
		var m int32
		for _, part := range strings.Split(x, ",") {
			part = strings.TrimSpace(part)
			found := false
			for _, t := range commandTypes {
				if strings.EqualFold(t.name, part) {
					m |= t.value
					found = true
				}
			}
			if !found {
				if n, ok := engine.ToInteger(part); ok {
					m |= int32(n)
					continue
				}
				return 0, false
			}
		}
		return m, true
	case psobject.Enum:
		return x.Value, true
	}
	if n, ok := engine.ToInteger(v); ok {
		return int32(n), true
	}
	return 0, false
}

func runGetCommand(ctx context.Context, inv *engine.Invocation) error {
	mask := int32(typeCmdlet)
	explicitType := inv.Bound("CommandType")
	if explicitType {
		m, ok := commandTypeMask(inv.Params["CommandType"])
		if !ok {
			return &engine.TerminatingError{Record: &engine.ErrorRecord{
				Err: psgate.E(psgate.CodeParameterBinding, psgate.Args{
					"name": "CommandType",
					"detail": fmt.Sprintf("Cannot convert value %q to type \"System.Management.Automation.CommandTypes\". Error: \"Unable to match the identifier name %s to a valid enumerator name. Specify one of the following enumerator names and try again:\nAlias, Function, Filter, Cmdlet, ExternalScript, Application, Script, Workflow, Configuration, All\"",
						engine.ToText(inv.Params["CommandType"]), engine.ToText(inv.Params["CommandType"])),
					"type": "System.Management.Automation.CommandTypes",
				}),
				ExceptionType:         bindingException,
				FullyQualifiedErrorID: "CannotConvertArgumentNoMessage",
				Category:              engine.CategoryInvalidArgument,
				Reason:                "ParameterBindingException",
			}}
		}
		mask = m
	}
	names := inv.Strings("Name")
	verbs := compileAll(inv.Strings("Verb"))
	nouns := compileAll(inv.Strings("Noun"))
	limit, hasLimit := inv.Int("TotalCount")

	visible := inv.Runspace.VisibleCommands()
	var out []any
	emitted := map[string]bool{}
	add := func(o any, key string) {
		if !emitted[key] {
			emitted[key] = true
			out = append(out, o)
		}
	}
	matchesFilters := func(c *engine.Command) bool {
		return matchAny(verbs, c.Verb()) && matchAny(nouns, c.Noun())
	}
	if len(names) == 0 {
		names = []string{"*"}
	}
	for _, pattern := range names {
		if n, ok := engine.UnqualifiedName(pattern); ok {
			pattern = n
		}
		w, err := engine.CompileWildcard(pattern, false)
		if err != nil {
			return err
		}
		found := false
		for _, c := range visible {
			if mask&typeCmdlet != 0 && w.Match(c.Name) && matchesFilters(c) {
				found = true
				add(c, strings.ToLower(c.Name))
			}
			// Aliases are listed when asked for by type, or named
			// exactly.
			for _, a := range c.Aliases {
				if !w.Match(a) || !matchesFilters(c) {
					continue
				}
				if explicitType && mask&typeAlias != 0 || !engine.HasWildcard(pattern) && !explicitType {
					found = true
					add(aliasInfo(a, c), strings.ToLower(a))
				}
			}
		}
		if !found && !engine.HasWildcard(pattern) {
			te := engine.CommandNotFoundError(pattern)
			te.Record.FullyQualifiedErrorID = "CommandNotFoundException,Microsoft.PowerShell.Commands.GetCommandCommand"
			te.Record.Activity = inv.Command.Name
			inv.WriteError(te.Record)
		}
	}
	nl := inv.Runspace.Newline()
	for i, o := range out {
		if hasLimit && int32(i) >= limit {
			break
		}
		switch x := o.(type) {
		case *engine.Command:
			if inv.Switch("Syntax") {
				inv.Write(nl + strings.Join(x.Syntax(), nl+nl) + nl)
				continue
			}
			inv.Write(CommandInfo(x))
		case *psobject.Object:
			if inv.Switch("Syntax") {
				def, _ := x.Get("DisplayName")
				inv.Write(engine.ToText(def))
				continue
			}
			inv.Write(x)
		}
	}
	return nil
}

func compileAll(patterns []string) []*engine.Wildcard {
	var out []*engine.Wildcard
	for _, p := range patterns {
		if w, err := engine.CompileWildcard(p, false); err == nil {
			out = append(out, w)
		}
	}
	return out
}

func matchAny(ws []*engine.Wildcard, s string) bool {
	if len(ws) == 0 {
		return true
	}
	for _, w := range ws {
		if w.Match(s) {
			return true
		}
	}
	return false
}

var commandInfoTypes = []string{"System.Management.Automation.CmdletInfo", "System.Management.Automation.CommandInfo", "System.Object"}

// CommandInfo returns the System.Management.Automation.CmdletInfo object
// Get-Command writes for cmd: CommandType, Name, Version, Source, and the
// metadata implicit remoting uses (Parameters, ParameterSets,
// DefaultParameterSet, OutputType, Definition).
func CommandInfo(cmd *engine.Command) *psobject.Object {
	params := &psobject.Dict{TypeNames: []string{
		"System.Collections.Generic.Dictionary`2[[System.String],[System.Management.Automation.ParameterMetadata]]",
		"System.Object",
	}}
	for _, m := range cmd.Metadata() {
		aliases := make([]any, len(m.Aliases))
		for i, a := range m.Aliases {
			aliases[i] = a
		}
		params.Entries = append(params.Entries, psobject.DictEntry{Key: m.Name, Value: psobject.New(
			[]string{"System.Management.Automation.ParameterMetadata", "System.Object"},
			psobject.P("Name", m.Name),
			psobject.P("ParameterType", m.TypeName),
			psobject.P("Aliases", aliases),
			psobject.P("IsDynamic", false),
			psobject.P("SwitchParameter", m.SwitchParameter),
		)})
	}
	outputType := make([]any, len(cmd.OutputType))
	for i, t := range cmd.OutputType {
		outputType[i] = t
	}
	syntax := cmd.Syntax()
	sets := make([]any, len(syntax))
	for i, s := range syntax {
		sets[i] = s
	}
	defaultSet := any(nil)
	if cmd.DefaultParameterSet != "" {
		defaultSet = cmd.DefaultParameterSet
	}
	o := psobject.New(commandInfoTypes,
		psobject.P("CommandType", psobject.Enum{Type: "System.Management.Automation.CommandTypes", Name: "Cmdlet", Value: typeCmdlet}),
		psobject.P("Name", cmd.Name),
		psobject.P("Version", psobject.Version(psgate.Version)),
		psobject.P("Source", engine.ModuleName),
		psobject.P("ModuleName", engine.ModuleName),
		psobject.P("Verb", cmd.Verb()),
		psobject.P("Noun", cmd.Noun()),
		psobject.P("HelpUri", ""),
		psobject.P("Definition", strings.Join(syntax, "\n")),
		psobject.P("DefaultParameterSet", defaultSet),
		psobject.P("OutputType", outputType),
		psobject.P("Parameters", params),
		psobject.P("ParameterSets", sets),
		psobject.P("ResolvedCommandName", nil),
		psobject.P("Namespace", engine.ModuleName),
	)
	o.Text = cmd.Name
	o.DisplayProps = []string{"CommandType", "Name", "Version", "Source"}
	return o
}

// aliasInfo is the System.Management.Automation.AliasInfo of an alias.
func aliasInfo(alias string, cmd *engine.Command) *psobject.Object {
	o := psobject.New([]string{"System.Management.Automation.AliasInfo", "System.Management.Automation.CommandInfo", "System.Object"},
		psobject.P("CommandType", psobject.Enum{Type: "System.Management.Automation.CommandTypes", Name: "Alias", Value: typeAlias}),
		psobject.P("Name", alias),
		psobject.P("DisplayName", alias+" -> "+cmd.Name),
		psobject.P("Version", psobject.Version(psgate.Version)),
		psobject.P("Source", engine.ModuleName),
		psobject.P("Definition", cmd.Name),
		psobject.P("ResolvedCommandName", cmd.Name),
	)
	o.Text = alias
	o.DisplayProps = []string{"CommandType", "DisplayName", "Version", "Source"}
	return o
}

func getHelpCmd() *engine.Command {
	return &engine.Command{
		Name:     "Get-Help",
		Aliases:  []string{"help"},
		Synopsis: "Shows help about a command.",
		Description: "Get-Help shows a command's synopsis, syntax and description; -Full adds its parameters and examples, " +
			"-Examples shows only the examples and -Parameter describes parameters (wildcards allowed).",
		DefaultParameterSet: "AllUsersView",
		Parameters: []engine.Parameter{
			{Name: "Name", Type: engine.TypeString, Position: 0, Help: "The command; wildcards list matching commands."},
			{Name: "Full", Type: engine.TypeSwitch, Position: engine.NotPositional, Sets: []string{"AllUsersView"}, Help: "Shows everything: parameters and examples too."},
			{Name: "Detailed", Type: engine.TypeSwitch, Position: engine.NotPositional, Sets: []string{"DetailedView"}, Mandatory: true, Help: "Shows parameter descriptions and examples."},
			{Name: "Examples", Type: engine.TypeSwitch, Position: engine.NotPositional, Sets: []string{"Examples"}, Mandatory: true, Help: "Shows only the examples."},
			{Name: "Parameter", Type: engine.TypeString, Position: engine.NotPositional, Sets: []string{"Parameters"}, Mandatory: true, Help: "Describes the named parameters; wildcards are allowed."},
			{Name: "Category", Type: engine.TypeStringArray, Position: engine.NotPositional, Help: "Accepted for compatibility."},
		},
		Examples: []engine.Example{
			{Code: "Get-Help Get-CsOnlineUser -Full", Remarks: "Everything about Get-CsOnlineUser."},
			{Code: "Get-Help Get-CsOnlineUser -Parameter Filter", Remarks: "How to use -Filter."},
		},
		Run: runGetHelp,
	}
}

func runGetHelp(ctx context.Context, inv *engine.Invocation) error {
	name := inv.String("Name")
	if name == "" {
		name = inv.Command.Name
	}
	if engine.HasWildcard(name) {
		w, err := engine.CompileWildcard(name, false)
		if err != nil {
			return err
		}
		for _, c := range inv.Runspace.VisibleCommands() {
			if w.Match(c.Name) {
				o := psobject.New([]string{"HelpInfoShort", "System.Object"},
					psobject.P("Name", c.Name),
					psobject.P("Category", "Cmdlet"),
					psobject.P("Module", engine.ModuleName),
					psobject.P("Synopsis", c.Synopsis))
				o.Text = c.Name
				inv.Write(o)
			}
		}
		return nil
	}
	cmd, ok := inv.Runspace.LookupVisible(name)
	if !ok {
		te := engine.CommandNotFoundError(name)
		te.Record.FullyQualifiedErrorID = "HelpNotFound,Microsoft.PowerShell.Commands.GetHelpCommand"
		te.Record.Activity = inv.Command.Name
		inv.WriteError(te.Record)
		return nil
	}
	if inv.Bound("Parameter") {
		return writeParameterHelp(inv, cmd, inv.String("Parameter"))
	}
	inv.Write(helpObject(cmd, inv.ParameterSet, inv.Switch("Full")))
	return nil
}

// Get-Help's objects have the shape PowerShell gives a cmdlet's MAML help,
// so that a Windows client renders them with its own help views
// (Help.format.ps1xml, chosen by type name) and format.Help renders the
// same structure for WinRS and the connector. The shape is MamlNode's
// conversion of the MAML XML (PowerShell/PowerShell
// src/System.Management.Automation/help/MamlNode.cs):
//
//   - an element with child elements is an object typed
//     "MamlCommandHelpInfo#" + its local name (GetPSObject), with one
//     property per child name;
//   - a child name that occurs once is a single value, several times an
//     array (SimplifyProperties);
//   - an element of <maml:para>s (description, remarks, introduction) is
//     always an array of MamlParaTextItem objects with a Text property;
//     every paragraph but the last ends with a line break
//     (GetMamlFormattingPSObjects, GetParaPSObject);
//   - an element with only text is a string, which carries the element's
//     attributes as notes when it has any (<command:parameterValue
//     required="true">);
//   - attributes are string properties ("true", "false", "named").
//
// The whole help (MamlCommandHelpInfo.cs, HelpInfo.AddCommonHelpProperties,
// CommandHelpProvider) is typed MamlCommandHelpInfo, HelpInfo and also has
// Name, Category, Synopsis, Component, Role, Functionality, PSSnapIn and
// ModuleName. Get-Help -Detailed, -Full and -Examples put "<type>#<view>"
// names first (HelpCommands.cs TransformView); -Parameter writes the
// parameter objects themselves (BaseCommandHelpInfo.GetParameter).
//
// What psgate has no data for is absent, as MamlNode leaves an element the
// MAML lacks: related links, notes (alertSet), errors, example results.
var helpInfoTypes = []string{format.HelpType, "HelpInfo"}

// helpViewTypes returns the type names of help shown with a view token
// (DetailedView, FullView, ExamplesView).
func helpViewTypes(token string) []string {
	return []string{format.HelpType + "#" + token, "HelpInfo#" + token, format.HelpType, "HelpInfo"}
}

// helpObject builds a command's help; view is the Get-Help parameter set.
func helpObject(cmd *engine.Command, view string, full bool) *psobject.Object {
	typeNames := helpInfoTypes
	switch {
	case view == "Examples":
		typeNames = helpViewTypes("ExamplesView")
	case full:
		typeNames = helpViewTypes("FullView")
	case view == "DetailedView":
		typeNames = helpViewTypes("DetailedView")
	}
	synopsis := mamlParas(cmd.Synopsis)
	props := []psobject.Property{
		psobject.P("details", mamlNode("details",
			psobject.P("name", cmd.Name),
			psobject.P("verb", cmd.Verb()),
			psobject.P("noun", cmd.Noun()),
			psobject.P("description", synopsis))),
		psobject.P("description", mamlParas(cmd.Description)),
		psobject.P("syntax", mamlNode("syntax", psobject.P("syntaxItem", mamlSyntaxItems(cmd)))),
	}
	var params, inputs []any
	seen := map[string]bool{}
	for i := range cmd.Parameters {
		p := &cmd.Parameters[i]
		params = append(params, parameterHelp(p))
		if (p.ValueFromPipeline || p.ValueFromPipelineByPropertyName) && !seen[p.Type.String()] {
			seen[p.Type.String()] = true
			inputs = append(inputs, mamlNode("inputType", psobject.P("type", mamlType(p.Type.String()))))
		}
	}
	if len(params) > 0 {
		props = append(props, psobject.P("parameters", mamlNode("parameters", psobject.P("parameter", mamlOneOrMany(params)))))
	}
	// A cmdlet's MAML names the type "None" when there is none (as
	// PlatyPS writes it); both renderers then show "None".
	if len(inputs) == 0 {
		inputs = []any{mamlNode("inputType", psobject.P("type", mamlType("None")))}
	}
	props = append(props, psobject.P("inputTypes", mamlNode("inputTypes", psobject.P("inputType", mamlOneOrMany(inputs)))))
	var outputs []any
	for _, t := range cmd.OutputType {
		outputs = append(outputs, mamlNode("returnValue", psobject.P("type", mamlType(t))))
	}
	if len(outputs) == 0 {
		outputs = []any{mamlNode("returnValue", psobject.P("type", mamlType("None")))}
	}
	props = append(props, psobject.P("returnValues", mamlNode("returnValues", psobject.P("returnValue", mamlOneOrMany(outputs)))))
	var examples []any
	for i, e := range cmd.Examples {
		examples = append(examples, mamlNode("example",
			psobject.P("title", fmt.Sprintf("-------------------------- EXAMPLE %d --------------------------", i+1)),
			psobject.P("introduction", mamlParas(`PS C:\>`)),
			psobject.P("code", e.Code),
			psobject.P("remarks", mamlParas(e.Remarks))))
	}
	if len(examples) > 0 {
		props = append(props, psobject.P("examples", mamlNode("examples", psobject.P("example", mamlOneOrMany(examples)))))
	}
	// The Synopsis is the first paragraph of details.description
	// (BaseCommandHelpInfo.Synopsis).
	first, _, _ := strings.Cut(cmd.Synopsis, mamlParaBreak)
	props = append(props,
		psobject.P("Name", cmd.Name),
		psobject.P("Category", "Cmdlet"),
		psobject.P("Synopsis", strings.TrimSpace(first)),
		psobject.P("Component", nil),
		psobject.P("Role", nil),
		psobject.P("Functionality", nil),
		psobject.P("PSSnapIn", nil),
		psobject.P("ModuleName", engine.ModuleName),
	)
	return &psobject.Object{TypeNames: typeNames, Extended: props, Text: cmd.Name}
}

// mamlNode is an element with child elements: an object typed
// "MamlCommandHelpInfo#" + local, whose properties are notes.
func mamlNode(local string, props ...psobject.Property) *psobject.Object {
	return &psobject.Object{TypeNames: []string{format.HelpType + "#" + local}, Extended: props}
}

// mamlParaBreak separates paragraphs in psgate's help texts.
const mamlParaBreak = "\n\n"

// mamlParaTypes are a <maml:para>'s type names.
var mamlParaTypes = []string{"MamlParaTextItem", "MamlTextItem"}

// mamlParas is text as the array of paragraphs MamlNode makes of an
// element of <maml:para>s: a MamlParaTextItem per paragraph, whose Text
// ends with a line break unless it is the last, so that a view writing
// each Text and a new line leaves an empty line between paragraphs. An
// empty text is one empty paragraph, as <maml:para /> gives.
func mamlParas(text string) []any {
	parts := strings.Split(text, mamlParaBreak)
	paras := make([]any, len(parts))
	for i, part := range parts {
		if i < len(parts)-1 {
			part += "\r\n"
		}
		paras[i] = &psobject.Object{TypeNames: mamlParaTypes, Extended: []psobject.Property{psobject.P("Text", part)}}
	}
	return paras
}

// mamlOneOrMany is the value of a child element that occurs len(items)
// times: the item itself when there is one, else an array.
func mamlOneOrMany(items []any) any {
	if len(items) == 1 {
		return items[0]
	}
	return items
}

// mamlValue is a text-only element with attributes: the text, with the
// attributes as notes. It travels as an object whose ToString is the text,
// which is what a view that expands it ("<$_>") or compares a note
// ($_.required) sees on the receiving side.
func mamlValue(text string, attrs ...psobject.Property) *psobject.Object {
	return &psobject.Object{TypeNames: []string{"System.String", "System.Object"}, Text: text, Extended: attrs}
}

// mamlType is a <dev:type>: the type's name and an empty uri.
func mamlType(name string) *psobject.Object {
	return mamlNode("type", psobject.P("name", name), psobject.P("uri", ""))
}

// mamlBool is a MAML boolean attribute.
func mamlBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// mamlSyntaxItems is one syntaxItem per parameter set, in the order and
// with the parameters of cmd.Syntax: PowerShell's syntax view writes the
// item's name, each parameter as "[[-Name] <type>] ", "[-Name <type>] ",
// "[-Name] <type> " or "-Name <type> " by its required and position
// attributes (with "{a | b}" for a parameterValueGroup and no value for a
// switch), then "[<CommonParameters>]" (Help_format_ps1xml.cs,
// MamlParameterControl).
func mamlSyntaxItems(cmd *engine.Command) any {
	var items []any
	for _, set := range cmd.SyntaxSets() {
		var params []any
		for _, p := range cmd.SyntaxParameters(set) {
			params = append(params, syntaxParameter(p))
		}
		if cmd.SupportsShouldProcess {
			// -WhatIf and -Confirm, the common parameters only such
			// commands take.
			for _, m := range cmd.Metadata() {
				if m.Common && (m.Name == "WhatIf" || m.Name == "Confirm") {
					params = append(params, syntaxParameter(&engine.Parameter{Name: m.Name, Type: engine.TypeSwitch, Position: engine.NotPositional, Aliases: m.Aliases}))
				}
			}
		}
		item := []psobject.Property{psobject.P("name", cmd.Name)}
		if len(params) > 0 {
			item = append(item, psobject.P("parameter", mamlOneOrMany(params)))
		}
		items = append(items, mamlNode("syntaxItem", item...))
	}
	return mamlOneOrMany(items)
}

// syntaxParameter is a parameter of a syntaxItem: a switch has no value
// there, and is never positional.
func syntaxParameter(p *engine.Parameter) *psobject.Object {
	var props []psobject.Property
	props = append(props, psobject.P("name", p.Name))
	props = append(props, parameterValues(p, true)...)
	position := parameterPosition(p)
	if p.Type == engine.TypeSwitch {
		position = "Named"
	}
	props = append(props, parameterAttributes(p, position)...)
	return mamlNode("parameter", props...)
}

// parameterValues are a parameter's parameterValue (the type a value must
// have; required unless the parameter is a switch) and, for a ValidateSet,
// its parameterValueGroup. In a syntaxItem a switch has no value.
func parameterValues(p *engine.Parameter, syntax bool) []psobject.Property {
	var props []psobject.Property
	switch {
	case p.Type == engine.TypeSwitch && syntax:
	case p.Type == engine.TypeSwitch:
		props = append(props, psobject.P("parameterValue", mamlValue("SwitchParameter",
			psobject.P("required", "false"), psobject.P("variableLength", "false"))))
	default:
		props = append(props, psobject.P("parameterValue", mamlValue(p.Type.ShortName(),
			psobject.P("required", "true"), psobject.P("variableLength", "false"))))
	}
	if len(p.ValidateSet) > 0 {
		values := make([]any, len(p.ValidateSet))
		for i, v := range p.ValidateSet {
			values[i] = mamlValue(v, psobject.P("required", "false"), psobject.P("variableLength", "false"))
		}
		props = append(props, psobject.P("parameterValueGroup", mamlNode("parameterValueGroup",
			psobject.P("parameterValue", mamlOneOrMany(values)))))
	}
	return props
}

func parameterPosition(p *engine.Parameter) string {
	if p.Position == engine.NotPositional {
		return "Named"
	}
	return strconv.Itoa(p.Position)
}

// parameterAttributes are a <command:parameter>'s attributes.
func parameterAttributes(p *engine.Parameter, position string) []psobject.Property {
	var pipeline []string
	if p.ValueFromPipeline {
		pipeline = append(pipeline, "ByValue")
	}
	if p.ValueFromPipelineByPropertyName {
		pipeline = append(pipeline, "ByPropertyName")
	}
	pipelineText := "False"
	if len(pipeline) > 0 {
		pipelineText = "True (" + strings.Join(pipeline, ", ") + ")"
	}
	aliases := "None"
	if len(p.Aliases) > 0 {
		aliases = strings.Join(p.Aliases, ", ")
	}
	return []psobject.Property{
		psobject.P("required", mamlBool(p.Mandatory)),
		psobject.P("variableLength", mamlBool(strings.HasSuffix(p.Type.String(), "[]"))),
		psobject.P("globbing", "false"),
		psobject.P("pipelineInput", pipelineText),
		psobject.P("position", position),
		psobject.P("aliases", aliases),
	}
}

// parameterHelp is a parameter of the help's parameters element, which
// Get-Help -Parameter writes on its own (typed
// MamlCommandHelpInfo#parameter; PowerShell's parameter view shows it).
func parameterHelp(p *engine.Parameter) *psobject.Object {
	props := []psobject.Property{
		psobject.P("name", p.Name),
		psobject.P("description", mamlParas(p.Help)),
	}
	props = append(props, parameterValues(p, false)...)
	props = append(props,
		psobject.P("type", mamlType(p.Type.String())),
		psobject.P("defaultValue", "None"))
	props = append(props, parameterAttributes(p, parameterPosition(p))...)
	return mamlNode("parameter", props...)
}

func writeParameterHelp(inv *engine.Invocation, cmd *engine.Command, pattern string) error {
	w, err := engine.CompileWildcard(pattern, false)
	if err != nil {
		return err
	}
	found := false
	for i := range cmd.Parameters {
		p := &cmd.Parameters[i]
		if w.Match(p.Name) {
			found = true
			inv.Write(parameterHelp(p))
		}
	}
	if !found {
		inv.WriteError(engine.NewErrorRecord(psgate.E(psgate.CodeParameterNotFound, psgate.Args{"name": pattern, "command": cmd.Name}),
			"NoParmsFound,Microsoft.PowerShell.Commands.GetHelpCommand", engine.CategoryObjectNotFound, pattern))
	}
	return nil
}

func invokeExpressionCmd() *engine.Command {
	return &engine.Command{
		Name:     "Invoke-Expression",
		Aliases:  []string{"iex"},
		Synopsis: "Runs a command line given as a string.",
		Description: "Invoke-Expression parses its -Command string with this session's command-only syntax and runs " +
			"its statements; their output and errors become its own.",
		Parameters: []engine.Parameter{
			{Name: "Command", Type: engine.TypeString, Position: 0, Mandatory: true, ValueFromPipeline: true, Help: "The command line to run."},
		},
		Examples: []engine.Example{
			{Code: "Invoke-Expression -Command 'Get-CsTenant | Format-List'", Remarks: "Runs a command line."},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			return inv.RunScript(ctx, inv.String("Command"))
		},
	}
}

func getFormatDataCmd() *engine.Command {
	return &engine.Command{
		Name:        "Get-FormatData",
		Synopsis:    "Gets formatting data (none: psgate formats on the server).",
		Description: "Get-FormatData returns nothing: psgate has no formatting data to send. Import-PSSession calls it.",
		Parameters: []engine.Parameter{
			{Name: "TypeName", Type: engine.TypeStringArray, Position: 0, Help: "Type names; wildcards are allowed."},
			{Name: "PowerShellVersion", Type: engine.TypeObject, Position: engine.NotPositional, Help: "Accepted for compatibility."},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error { return nil },
	}
}

func exitPSSessionCmd() *engine.Command {
	return &engine.Command{
		Name:        "Exit-PSSession",
		Aliases:     []string{"exsn"},
		Synopsis:    "Ends an interactive session.",
		Description: "Exit-PSSession ends an interactive session (Enter-PSSession); the remoting layer closes it.",
		Run:         func(ctx context.Context, inv *engine.Invocation) error { return nil },
	}
}

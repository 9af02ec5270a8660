package psrp

import (
	"path"
	"strings"

	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psobject"
)

// CommandTypes is a System.Management.Automation.CommandTypes flags value.
type CommandTypes int32

// Command types.
const (
	CommandAlias          CommandTypes = 1
	CommandFunction       CommandTypes = 2
	CommandFilter         CommandTypes = 4
	CommandCmdlet         CommandTypes = 8
	CommandExternalScript CommandTypes = 16
	CommandApplication    CommandTypes = 32
	CommandScript         CommandTypes = 64
	CommandWorkflow       CommandTypes = 128
	CommandConfiguration  CommandTypes = 256
	CommandAll            CommandTypes = 511
)

// String returns the member name of a single type, or the number.
func (c CommandTypes) String() string {
	switch c {
	case CommandAlias:
		return "Alias"
	case CommandFunction:
		return "Function"
	case CommandFilter:
		return "Filter"
	case CommandCmdlet:
		return "Cmdlet"
	case CommandExternalScript:
		return "ExternalScript"
	case CommandApplication:
		return "Application"
	case CommandScript:
		return "Script"
	case CommandWorkflow:
		return "Workflow"
	case CommandConfiguration:
		return "Configuration"
	case CommandAll:
		return "All"
	}
	return psobject.Format(int32(c))
}

// GetCommandMetadata is a GET_COMMAND_METADATA payload ([MS-PSRP]
// §2.2.2.14), sent by Import-PSSession and Enter-PSSession.
type GetCommandMetadata struct {
	// Names are wildcard patterns; ["*"] when the client sent Nil.
	Names []string
	// CommandType filters by type (PowerShell 5.1 sends 399, 7.x 271,
	// Enter-PSSession 271, pypsrp whatever its caller chose).
	CommandType CommandTypes
	// Namespace holds module names; nil when Nil, empty when the client
	// sent an empty list (both mean any module).
	Namespace []string
	// ArgumentList is the -ArgumentList for dynamic parameters.
	ArgumentList []any
}

// Matches reports whether a command named name, of type t, answers g: one
// of g.Names matches the name (case-insensitively, with the wildcards *, ?
// and [...]) and g.CommandType is zero or includes t.
func (g GetCommandMetadata) Matches(name string, t CommandTypes) bool {
	if g.CommandType != 0 && g.CommandType&t == 0 {
		return false
	}
	name = strings.ToLower(name)
	for _, pattern := range g.Names {
		if ok, _ := path.Match(strings.ToLower(pattern), name); ok {
			return true
		}
	}
	return false
}

// ParseGetCommandMetadata parses GET_COMMAND_METADATA.
func ParseGetCommandMetadata(data []byte, lim clixml.Limits) (GetCommandMetadata, error) {
	const t = MsgGetCommandMetadata
	var g GetCommandMetadata
	f, err := parseRoot(t, data, lim)
	if err != nil {
		return g, err
	}
	names, present, err := f.strings("Name")
	if err != nil {
		return g, err
	}
	if !present {
		names = []string{"*"}
	}
	g.Names = names
	ct, err := f.optInteger("CommandType")
	if err != nil {
		return g, err
	}
	g.CommandType = CommandTypes(ct)
	if g.Namespace, _, err = f.strings("Namespace"); err != nil {
		return g, err
	}
	if g.ArgumentList, _, err = f.list("ArgumentList"); err != nil {
		return g, err
	}
	return g, nil
}

// CommandMetadata describes one command in the reply to
// GET_COMMAND_METADATA; the gateway converts engine commands into it.
type CommandMetadata struct {
	Name string
	// Namespace is the module name.
	Namespace string
	// HelpURI is sent as Nil when empty.
	HelpURI     string
	CommandType CommandTypes
	// ResolvedCommandName is an alias's target; Nil when empty.
	ResolvedCommandName string
	// OutputType lists the output type names.
	OutputType []string
	// Parameters should include CommonParameters() for commands that take
	// them: Import-PSSession only treats a command as a cmdlet (with
	// -ErrorAction and friends) when they are all there.
	Parameters []ParameterMetadata
}

// ParameterMetadata describes one parameter
// (System.Management.Automation.ParameterMetadata).
type ParameterMetadata struct {
	Name string
	// TypeName is the .NET type, e.g. "System.String[]".
	TypeName  string
	Aliases   []string
	IsSwitch  bool
	IsDynamic bool
}

// CommonParameters returns the metadata of PowerShell 5.1's common
// parameters, as a real server reports them.
func CommonParameters() []ParameterMetadata {
	const (
		sw     = "System.Management.Automation.SwitchParameter"
		action = "System.Management.Automation.ActionPreference"
		str    = "System.String"
	)
	return []ParameterMetadata{
		{Name: "Verbose", TypeName: sw, Aliases: []string{"vb"}, IsSwitch: true},
		{Name: "Debug", TypeName: sw, Aliases: []string{"db"}, IsSwitch: true},
		{Name: "ErrorAction", TypeName: action, Aliases: []string{"ea"}},
		{Name: "WarningAction", TypeName: action, Aliases: []string{"wa"}},
		{Name: "InformationAction", TypeName: action, Aliases: []string{"infa"}},
		{Name: "ErrorVariable", TypeName: str, Aliases: []string{"ev"}},
		{Name: "WarningVariable", TypeName: str, Aliases: []string{"wv"}},
		{Name: "InformationVariable", TypeName: str, Aliases: []string{"iv"}},
		{Name: "OutVariable", TypeName: str, Aliases: []string{"ov"}},
		{Name: "OutBuffer", TypeName: "System.Int32", Aliases: []string{"ob"}},
		{Name: "PipelineVariable", TypeName: str, Aliases: []string{"pv"}},
	}
}

// Type names of the metadata reply, exactly as Windows PowerShell 5.1
// writes them.
const (
	typePSCustomObject   = "System.Management.Automation.PSCustomObject"
	typeParameterMeta    = "System.Management.Automation.ParameterMetadata"
	typeOutputTypeList   = "System.Collections.ObjectModel.ReadOnlyCollection`1[[System.Management.Automation.PSTypeName, System.Management.Automation, Version=3.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35]]"
	typeParameterDict    = "System.Collections.Generic.Dictionary`2[[System.String, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089],[System.Management.Automation.ParameterMetadata, System.Management.Automation, Version=3.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35]]"
	typeAliasCollection  = "System.Collections.ObjectModel.Collection`1[[System.String, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089]]"
	typeCommandTypesEnum = "System.Management.Automation.CommandTypes"
)

// NewCommandMetadataCount builds the first PIPELINE_OUTPUT of the reply to
// GET_COMMAND_METADATA: how many command objects follow.
func NewCommandMetadataCount(rpid, pid GUID, count int32) Message {
	return mustMarshal(MsgPipelineOutput, rpid, pid, &psobject.Object{
		TypeNames: []string{"Selected.Microsoft.PowerShell.Commands.GenericMeasureInfo", typePSCustomObject, "System.Object"},
		Extended:  []psobject.Property{p("Count", count)},
	})
}

// NewCommandMetadata builds one command's PIPELINE_OUTPUT of the reply to
// GET_COMMAND_METADATA.
func NewCommandMetadata(rpid, pid GUID, md CommandMetadata) (Message, error) {
	info := "Selected.System.Management.Automation.CmdletInfo"
	switch md.CommandType {
	case CommandFunction, CommandFilter:
		info = "Selected.System.Management.Automation.FunctionInfo"
	case CommandAlias:
		info = "Selected.System.Management.Automation.AliasInfo"
	}
	outputs := make([]any, len(md.OutputType))
	for i, o := range md.OutputType {
		outputs[i] = o
	}
	params := &psobject.Dict{TypeNames: []string{typeParameterDict, "System.Object"}}
	for _, pm := range md.Parameters {
		aliases := make([]any, len(pm.Aliases))
		for i, a := range pm.Aliases {
			aliases[i] = a
		}
		params.Entries = append(params.Entries, psobject.DictEntry{Key: pm.Name, Value: &psobject.Object{
			TypeNames: []string{typeParameterMeta, "System.Object"},
			Text:      typeParameterMeta,
			Props: []psobject.Property{
				p("Name", pm.Name),
				p("ParameterType", pm.TypeName),
				p("Aliases", clixml.List{TypeNames: []string{typeAliasCollection, "System.Object"}, Items: aliases}),
				p("IsDynamic", pm.IsDynamic),
				p("SwitchParameter", pm.IsSwitch),
			},
		}})
	}
	return marshal(MsgPipelineOutput, rpid, pid, &psobject.Object{
		TypeNames: []string{info, typePSCustomObject, "System.Object"},
		Extended: []psobject.Property{
			p("Name", md.Name),
			p("Namespace", md.Namespace),
			p("HelpUri", nilIfEmpty(md.HelpURI)),
			p("CommandType", enum(typeCommandTypesEnum, md.CommandType.String(), int32(md.CommandType))),
			p("ResolvedCommandName", nilIfEmpty(md.ResolvedCommandName)),
			p("OutputType", clixml.List{TypeNames: []string{typeOutputTypeList, "System.Object"}, Items: outputs}),
			p("Parameters", params),
		},
	})
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

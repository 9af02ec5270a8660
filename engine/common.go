package engine

import (
	"strings"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/psobject"
)

// commonParam is one of PowerShell's common parameters, accepted by every
// command.
type commonParam struct {
	name     string
	aliases  []string
	typeName string // .NET type for command metadata
	kind     commonKind
	// shouldProcess parameters exist only on commands that declare
	// SupportsShouldProcess.
	shouldProcess bool
	// bindOnly parameters bind but are left out of Metadata.
	bindOnly bool
}

type commonKind uint8

const (
	commonSwitch   commonKind = iota + 1
	commonAction              // an ActionPreference
	commonVariable            // needs script variables: refused
	commonInt                 // accepted and ignored (OutBuffer)
)

const actionPreferenceType = "System.Management.Automation.ActionPreference"

var commonParameters = []commonParam{
	{name: "Verbose", aliases: []string{"vb"}, typeName: typeNames[TypeSwitch], kind: commonSwitch},
	{name: "Debug", aliases: []string{"db"}, typeName: typeNames[TypeSwitch], kind: commonSwitch},
	{name: "ErrorAction", aliases: []string{"ea"}, typeName: actionPreferenceType, kind: commonAction},
	{name: "WarningAction", aliases: []string{"wa"}, typeName: actionPreferenceType, kind: commonAction},
	{name: "InformationAction", aliases: []string{"infa"}, typeName: actionPreferenceType, kind: commonAction},
	// ProgressAction is PowerShell 7.4's; implicit-remoting proxies of
	// 7.4+ clients forward it. It is accepted but not listed in command
	// metadata, which describes the Windows PowerShell 5.1 set.
	{name: "ProgressAction", aliases: []string{"proga"}, typeName: actionPreferenceType, kind: commonAction, bindOnly: true},
	{name: "ErrorVariable", aliases: []string{"ev"}, typeName: "System.String", kind: commonVariable},
	{name: "WarningVariable", aliases: []string{"wv"}, typeName: "System.String", kind: commonVariable},
	{name: "InformationVariable", aliases: []string{"iv"}, typeName: "System.String", kind: commonVariable},
	{name: "OutVariable", aliases: []string{"ov"}, typeName: "System.String", kind: commonVariable},
	{name: "OutBuffer", aliases: []string{"ob"}, typeName: "System.Int32", kind: commonInt},
	{name: "PipelineVariable", aliases: []string{"pv"}, typeName: "System.String", kind: commonVariable},
	{name: "WhatIf", aliases: []string{"wi"}, typeName: typeNames[TypeSwitch], kind: commonSwitch, shouldProcess: true},
	{name: "Confirm", aliases: []string{"cf"}, typeName: typeNames[TypeSwitch], kind: commonSwitch, shouldProcess: true},
}

// ActionPreference is System.Management.Automation.ActionPreference: what
// happens to a non-terminating error, a warning or an information record.
type ActionPreference int32

// ActionPreference values (the .NET enum's numbers).
const (
	ActionSilentlyContinue ActionPreference = 0
	ActionStop             ActionPreference = 1
	ActionContinue         ActionPreference = 2
	ActionInquire          ActionPreference = 3
	ActionIgnore           ActionPreference = 4
	ActionSuspend          ActionPreference = 5
)

var actionNames = []string{"SilentlyContinue", "Stop", "Continue", "Inquire", "Ignore", "Suspend"}

func (a ActionPreference) String() string {
	if a >= 0 && int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "Continue"
}

// commonSettings are the common parameters a command was given.
type commonSettings struct {
	verbose, debug, whatIf, confirm bool
	errorAction, warningAction      ActionPreference
	informationAction               ActionPreference
	progressAction                  ActionPreference
}

func defaultCommon() commonSettings {
	return commonSettings{
		errorAction:       ActionContinue,
		warningAction:     ActionContinue,
		informationAction: ActionContinue,
		progressAction:    ActionContinue,
	}
}

// setCommon applies a common parameter's value.
func (b *binder) setCommon(c *commonParam, v any) error {
	switch c.kind {
	case commonVariable:
		return LanguageError(b.cmd.Name, "the common parameter -"+c.name+" (it stores results in a variable)")
	case commonInt:
		if _, detail := convertValue(TypeInt, c.name, v); detail != "" {
			return b.convertError(c.name, "System.Int32", detail)
		}
		return nil
	case commonSwitch:
		on, detail := convertValue(TypeSwitch, c.name, v)
		if detail != "" {
			return b.convertError(c.name, typeNames[TypeSwitch], detail)
		}
		switch c.name {
		case "Verbose":
			b.common.verbose = on.(bool)
		case "Debug":
			b.common.debug = on.(bool)
		case "WhatIf":
			b.common.whatIf = on.(bool)
		case "Confirm":
			b.common.confirm = on.(bool)
		}
		return nil
	}
	a, ok := parseAction(v)
	if !ok || a == ActionSuspend {
		detail := conversionError(v, actionPreferenceType, "")
		if ok {
			detail = "The value Suspend is supported only for workflows; use Stop, Continue, SilentlyContinue or Ignore."
		} else if _, isText := v.(string); isText {
			detail = `Cannot convert value "` + toText(v) + `" to type "` + actionPreferenceType + `". Error: "Unable to match the identifier name ` + toText(v) + ` to a valid enumerator name. Specify one of the following enumerator names and try again:` + "\n" + `SilentlyContinue, Stop, Continue, Inquire, Ignore, Suspend, Break"`
		}
		return b.convertError(c.name, actionPreferenceType, detail)
	}
	if a == ActionInquire {
		// Nothing here prompts: Inquire behaves as Continue.
		a = ActionContinue
	}
	switch c.name {
	case "ErrorAction":
		b.common.errorAction = a
	case "WarningAction":
		b.common.warningAction = a
	case "InformationAction":
		b.common.informationAction = a
	case "ProgressAction":
		b.common.progressAction = a
	}
	return nil
}

// parseAction converts a name (case-insensitive) or number to an
// ActionPreference.
func parseAction(v any) (ActionPreference, bool) {
	switch x := v.(type) {
	case string:
		for i, n := range actionNames {
			if strings.EqualFold(n, strings.TrimSpace(x)) {
				return ActionPreference(i), true
			}
		}
		return 0, false
	case psobject.Enum:
		if a, ok := parseAction(x.Name); ok {
			return a, true
		}
		return parseAction(x.Value)
	case *psobject.Object:
		// An enum serialized without System.Enum among its type names
		// keeps only its ToString.
		if x != nil {
			return parseAction(x.String())
		}
	}
	if n, ok := numberOf(v); ok && !n.isFloat && n.i >= 0 && int(n.i) < len(actionNames) {
		return ActionPreference(n.i), true
	}
	return 0, false
}

// LanguageError is the terminating CodeLanguageNotAllowed error of a
// construct refused while binding cmd's parameters (a common parameter
// that needs variables, a script block given to a parameter).
func LanguageError(cmd, construct string) *TerminatingError {
	return &TerminatingError{Record: &ErrorRecord{
		Err:                   psgate.E(psgate.CodeLanguageNotAllowed, psgate.Args{"construct": construct}),
		ExceptionType:         "System.Management.Automation.ParameterBindingException",
		FullyQualifiedErrorID: "ScriptsNotAllowed," + cmd,
		Category:              CategoryInvalidArgument,
		Activity:              cmd,
		Reason:                "ParameterBindingException",
	}}
}

// ParameterMetadata describes a parameter the way
// System.Management.Automation.ParameterMetadata does, for command
// metadata (Get-Command, PSRP GET_COMMAND_METADATA).
type ParameterMetadata struct {
	Name            string
	TypeName        string // .NET type, e.g. System.String
	Aliases         []string
	SwitchParameter bool
	// Common is true for the common parameters (Verbose, ErrorAction...).
	Common bool
}

// Metadata lists the command's parameters followed by the common
// parameters it accepts (WhatIf and Confirm only with
// SupportsShouldProcess), as implicit remoting needs them all.
func (cmd *Command) Metadata() []ParameterMetadata {
	out := make([]ParameterMetadata, 0, len(cmd.Parameters)+len(commonParameters))
	for _, p := range cmd.Parameters {
		out = append(out, ParameterMetadata{
			Name:            p.Name,
			TypeName:        p.Type.String(),
			Aliases:         append([]string{}, p.Aliases...),
			SwitchParameter: p.Type == TypeSwitch,
		})
	}
	for _, c := range commonParameters {
		if c.shouldProcess && !cmd.SupportsShouldProcess || c.bindOnly {
			continue
		}
		out = append(out, ParameterMetadata{
			Name:            c.name,
			TypeName:        c.typeName,
			Aliases:         append([]string{}, c.aliases...),
			SwitchParameter: c.kind == commonSwitch,
			Common:          true,
		})
	}
	return out
}

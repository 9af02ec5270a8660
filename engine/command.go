package engine

import (
	"context"

	"github.com/psgate/psgate"
)

// Command is a cmdlet implemented in Go and registered in a Catalog.
type Command struct {
	// Name is the Verb-Noun name, e.g. "Get-CsOnlineUser". Lookups are
	// case-insensitive.
	Name     string
	Synopsis string
	// Description is the longer help text shown by Get-Help -Full.
	Description string
	Parameters  []Parameter
	// DefaultParameterSet names the set used when the bound parameters do
	// not decide one. Empty when the command has a single set.
	DefaultParameterSet string
	// OutputType lists the type names of the objects the command writes.
	OutputType []string
	// Examples are shown by Get-Help -Examples.
	Examples []Example
	// Aliases are other names the command answers to (select, where, ?).
	Aliases []string
	// SupportsShouldProcess adds -WhatIf and -Confirm. The command calls
	// inv.ShouldProcess before each change; -Confirm prompts through the
	// client's host (see Invocation.ShouldProcess).
	SupportsShouldProcess bool
	// StreamInput makes Run see the whole pipeline input through
	// inv.Input, once, as Sort-Object needs. Otherwise a command that has
	// upstream input is run once per input object, with parameters bound
	// from that object (ValueFromPipeline, ValueFromPipelineByPropertyName)
	// and inv.Input yielding just that object.
	StreamInput bool
	// Unlisted keeps the command out of listings (Get-Command, command
	// metadata, Get-Help's list, tab completion) while it stays callable:
	// TabExpansion2, which a client's host calls but a user never types.
	Unlisted bool
	// Run is called once per invocation. Input yields the pipeline input
	// (nothing when the command is first in the pipeline); Run writes its
	// results through inv.
	Run func(ctx context.Context, inv *Invocation) error
}

// Example is one help example.
type Example struct {
	Code, Remarks string
}

// Type is a parameter's type; binding converts arguments to it.
type Type int

// Parameter types. The String method gives the .NET type name reported in
// command metadata.
const (
	TypeString Type = iota + 1
	TypeStringArray
	TypeInt      // System.Int32
	TypeLong     // System.Int64
	TypeBool     // System.Boolean
	TypeSwitch   // System.Management.Automation.SwitchParameter
	TypeDateTime // System.DateTime
	TypeTimeSpan // System.TimeSpan
	TypeObject   // System.Object: any value, unconverted
	TypeObjectArray
	TypeDouble
)

// Parameter is a command parameter's metadata.
type Parameter struct {
	Name    string
	Type    Type
	Aliases []string
	// Sets lists the parameter sets this parameter belongs to; empty means
	// all sets. Mandatory and Position apply in every listed set.
	Sets      []string
	Mandatory bool
	// Position is the 0-based positional index, or -1 (NotPositional) when the
	// parameter must be named.
	Position          int
	ValueFromPipeline bool
	// ValueFromPipelineByPropertyName binds a property of the same name (or
	// an alias) of each input object.
	ValueFromPipelineByPropertyName bool
	// ValueFromRemainingArguments collects the positional arguments no
	// other parameter takes (Write-Output a b c); the type should be an
	// array type.
	ValueFromRemainingArguments bool
	// ValidateSet restricts string values (case-insensitive); the bound
	// value is the set's spelling.
	ValidateSet []string
	// ValidateRange restricts numeric values to [Min, Max] when non-nil.
	ValidateRange *Range
	// ValidateNotNullOrEmpty refuses "", $null and empty arrays.
	ValidateNotNullOrEmpty bool
	// Sensitive parameters are redacted in audit records and logs.
	Sensitive bool
	Help      string
}

// NotPositional is Parameter.Position for named-only parameters.
const NotPositional = -1

// Range is an inclusive numeric range.
type Range struct{ Min, Max int64 }

// Invocation is one run of a command in a pipeline.
type Invocation struct {
	// Command is the command being run.
	Command *Command
	// Params holds the bound parameters by canonical name, converted to the
	// parameter's type: string, []string, int32, int64, bool, time.Time,
	// time.Duration, float64, any, []any. A switch is bool.
	Params map[string]any
	// ParameterSet is the resolved parameter set name ("" for single-set).
	ParameterSet string
	// Caller is the identity the runspace runs for.
	Caller Caller
	// Input yields the pipeline input objects.
	Input Input
	// Out receives the command's output and records.
	Out Sink
	// Runspace is the runspace running the command (for Get-Command,
	// Invoke-Expression and similar built-ins).
	Runspace *Runspace

	stage *stage // the pipeline stage running this invocation
}

// Bound reports whether the named parameter was bound.
func (inv *Invocation) Bound(name string) bool {
	_, ok := inv.Params[name]
	return ok
}

// String returns a bound string parameter, or "".
func (inv *Invocation) String(name string) string {
	s, _ := inv.Params[name].(string)
	return s
}

// Switch returns a bound switch or bool parameter.
func (inv *Invocation) Switch(name string) bool {
	b, _ := inv.Params[name].(bool)
	return b
}

// Input is a pipeline's input stream. Next blocks until an object is
// available or the stream ends; ok is false at the end or when ctx is done.
type Input interface {
	Next(ctx context.Context) (obj any, ok bool)
}

// Caller identifies who a runspace runs for: the authenticated principal,
// and the shell it works through.
type Caller struct {
	psgate.Principal
	ShellID    string
	ClientAddr string
	// Roles names the caller's management roles, for display.
	Roles []string
}

// Sink receives everything a pipeline produces. Implementations serialize
// to CLIXML (PSRP) or to text (WinRS). Calls come from one goroutine at a
// time per pipeline.
type Sink interface {
	Output(obj any)
	Error(rec *ErrorRecord)
	Warning(msg string)
	Verbose(msg string)
	Debug(msg string)
	Information(rec InformationRecord)
	Progress(rec ProgressRecord)
}

// ProgressRecord mirrors System.Management.Automation.ProgressRecord.
type ProgressRecord struct {
	Activity          string
	ActivityID        int32
	StatusDescription string
	CurrentOperation  string
	ParentActivityID  int32
	PercentComplete   int32
	Completed         bool
	SecondsRemaining  int32
}

// InformationRecord mirrors System.Management.Automation.InformationRecord.
type InformationRecord struct {
	MessageData any
	Source      string
	Tags        []string
	// Host is set for text written for the user's console (Write-Host,
	// -WhatIf), what PowerShell keeps as a HostInformationMessage.
	Host *HostMessage
}

// HostMessage is text for the user's console, with optional colours.
type HostMessage struct {
	Text string
	// Foreground and Background are System.ConsoleColor values (0-15), or
	// NoColor when not given.
	Foreground, Background int32
	NoNewline              bool
}

// NoColor marks a HostMessage colour that was not given.
const NoColor int32 = -1

// ResolveParameter finds the command's parameter that a name as written
// designates, as binding does: an exact name or alias, else an
// unambiguous prefix (one dash in front is dropped). ok is false for a
// common parameter and for a name that designates none or several.
func (cmd *Command) ResolveParameter(name string) (p *Parameter, ok bool) {
	if cmd == nil || name == "" {
		return nil, false
	}
	b := &binder{cmd: cmd, params: map[string]any{}, common: defaultCommon()}
	r, err := b.resolve(parameterName(name))
	if err != nil || r.p == nil {
		return nil, false
	}
	return r.p, true
}

package psrp

import (
	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psobject"
)

// PipelineResultTypes says which stream a command merges where
// ([MS-PSRP] §2.2.3.31): 0 None, 1 Output, 2 Error (3, "Output, Error", in
// MergePreviousResults).
type PipelineResultTypes int32

// Merge targets.
const (
	ResultNone   PipelineResultTypes = 0
	ResultOutput PipelineResultTypes = 1
	ResultError  PipelineResultTypes = 2
)

// CreatePipeline is a CREATE_PIPELINE payload ([MS-PSRP] §2.2.2.10).
type CreatePipeline struct {
	NoInput      bool
	AddToHistory bool
	IsNested     bool
	// ApartmentState and RemoteStreamOptions are the enum values.
	ApartmentState      int32
	RemoteStreamOptions int32
	HostInfo            HostInfo
	PowerShell          PowerShell
}

// PowerShell is the pipeline to run.
type PowerShell struct {
	// Commands is the pipeline ("Cmds").
	Commands []Command
	// ExtraCommands holds every statement of a multi-statement request
	// ("ExtraCmds"), nil when absent. When present its first statement
	// repeats Commands.
	ExtraCommands                [][]Command
	IsNested                     bool
	History                      string
	RedirectShellErrorOutputPipe bool
}

// Statements returns the statements to run in order: ExtraCommands when the
// client sent them (as PowerShell's server runs a batch), else Commands.
func (p PowerShell) Statements() [][]Command {
	if p.ExtraCommands != nil {
		return p.ExtraCommands
	}
	return [][]Command{p.Commands}
}

// Command is one command of a pipeline ([MS-PSRP] §2.2.3.12).
type Command struct {
	// Cmd is a command name, or script text when IsScript.
	Cmd           string
	IsScript      bool
	UseLocalScope bool // Nil reads as false
	// MergeMyResult/MergeToResult: 2→1 redirects errors to output (2>&1).
	MergeMyResult, MergeToResult, MergePreviousResults PipelineResultTypes
	// Per-stream merges of protocol 2.2+ (zero when absent).
	MergeError, MergeWarning, MergeVerbose, MergeDebug, MergeInformation PipelineResultTypes
	Args                                                                 []Arg
}

// Arg is a command argument as sent. Name is empty for a positional
// argument (the client sends N as Nil). Name is either a plain name
// ("Identity", PowerShell's AddParameter) or a parameter token as Windows
// PowerShell's ScriptBlock.GetPowerShell and implicit-remoting proxies
// write it: "-Name" (with Nil: name-only, its value, if any, is the next
// positional argument), "-Name:" or "-Name: " (the value is in Value).
// The engine reads it with engine.StructuredArgument. A switch arrives as
// Value true or Nil; a SwitchParameter object (forwarded
// $PSBoundParameters) is turned into its IsPresent bool.
type Arg struct {
	Name  string
	Value any
}

// ParseCreatePipeline parses CREATE_PIPELINE. Secure strings in arguments
// are kept as clixml.SecureString; check HasSecureString.
func ParseCreatePipeline(data []byte, lim clixml.Limits) (*CreatePipeline, error) {
	const t = MsgCreatePipeline
	f, err := parseRoot(t, data, lim)
	if err != nil {
		return nil, err
	}
	var c CreatePipeline
	if c.NoInput, err = f.optBool("NoInput"); err != nil {
		return nil, err
	}
	if c.AddToHistory, err = f.optBool("AddToHistory"); err != nil {
		return nil, err
	}
	if c.IsNested, err = f.optBool("IsNested"); err != nil {
		return nil, err
	}
	apartment, err := f.optInteger("ApartmentState")
	if err != nil {
		return nil, err
	}
	streams, err := f.optInteger("RemoteStreamOptions")
	if err != nil {
		return nil, err
	}
	c.ApartmentState, c.RemoteStreamOptions = int32(apartment), int32(streams)
	if c.HostInfo, err = parseHostInfo(f, "HostInfo"); err != nil {
		return nil, err
	}
	ps, err := f.sub("PowerShell")
	if err != nil {
		return nil, err
	}
	if c.PowerShell, err = parsePowerShell(ps); err != nil {
		return nil, err
	}
	return &c, nil
}

func parsePowerShell(f fields) (PowerShell, error) {
	var ps PowerShell
	var err error
	if ps.Commands, err = parseCommands(f, "Cmds"); err != nil {
		return ps, err
	}
	if len(ps.Commands) == 0 {
		return ps, badf(f.t, "pipeline has no commands")
	}
	extra, present, err := f.list("ExtraCmds")
	if err != nil {
		return ps, err
	}
	if present {
		ps.ExtraCommands = make([][]Command, 0, len(extra))
		for _, st := range extra {
			o, ok := st.(*psobject.Object)
			if !ok {
				return ps, badf(f.t, "ExtraCmds holds %s, not an object", kind(st))
			}
			cmds, err := parseCommands(fields{t: f.t, o: o}, "Cmds")
			if err != nil {
				return ps, err
			}
			if len(cmds) == 0 {
				return ps, badf(f.t, "statement %d has no commands", len(ps.ExtraCommands)+1)
			}
			ps.ExtraCommands = append(ps.ExtraCommands, cmds)
		}
		if len(ps.ExtraCommands) == 0 {
			ps.ExtraCommands = nil
		}
	}
	if ps.IsNested, err = f.optBool("IsNested"); err != nil {
		return ps, err
	}
	if ps.History, err = f.optStr("History"); err != nil {
		return ps, err
	}
	if ps.RedirectShellErrorOutputPipe, err = f.optBool("RedirectShellErrorOutputPipe"); err != nil {
		return ps, err
	}
	return ps, nil
}

func parseCommands(f fields, name string) ([]Command, error) {
	items, present, err := f.list(name)
	if err != nil {
		return nil, err
	}
	if !present {
		return nil, badf(f.t, "missing property %s", name)
	}
	cmds := make([]Command, 0, len(items))
	for _, it := range items {
		o, ok := it.(*psobject.Object)
		if !ok {
			return nil, badf(f.t, "%s holds %s, not a command object", name, kind(it))
		}
		c, err := parseCommand(fields{t: f.t, o: o})
		if err != nil {
			return nil, err
		}
		cmds = append(cmds, c)
	}
	return cmds, nil
}

func parseCommand(f fields) (Command, error) {
	var c Command
	var err error
	if c.Cmd, err = f.str("Cmd"); err != nil {
		return c, err
	}
	if c.Cmd == "" {
		return c, badf(f.t, "empty command")
	}
	if c.IsScript, err = f.boolean("IsScript"); err != nil {
		return c, err
	}
	if c.UseLocalScope, err = f.optBool("UseLocalScope"); err != nil {
		return c, err
	}
	merges := []struct {
		name string
		dst  *PipelineResultTypes
	}{
		{"MergeMyResult", &c.MergeMyResult}, {"MergeToResult", &c.MergeToResult},
		{"MergePreviousResults", &c.MergePreviousResults}, {"MergeError", &c.MergeError},
		{"MergeWarning", &c.MergeWarning}, {"MergeVerbose", &c.MergeVerbose},
		{"MergeDebug", &c.MergeDebug}, {"MergeInformation", &c.MergeInformation},
	}
	for _, m := range merges {
		n, err := f.optInteger(m.name)
		if err != nil {
			return c, err
		}
		*m.dst = PipelineResultTypes(n)
	}
	args, _, err := f.list("Args")
	if err != nil {
		return c, err
	}
	for _, a := range args {
		o, ok := a.(*psobject.Object)
		if !ok {
			return c, badf(f.t, "argument of %s is %s, not an object", c.Cmd, kind(a))
		}
		af := fields{t: f.t, o: o}
		var arg Arg
		if arg.Name, err = af.optStr("N"); err != nil {
			return c, err
		}
		arg.Value, _ = af.get("V")
		arg.Value = switchValue(arg.Value)
		c.Args = append(c.Args, arg)
	}
	return c, nil
}

// switchValue turns a serialized SwitchParameter into its IsPresent bool.
func switchValue(v any) any {
	o, ok := v.(*psobject.Object)
	if !ok || !o.IsA("System.Management.Automation.SwitchParameter") {
		return v
	}
	if b, ok := o.Get("IsPresent"); ok {
		if present, ok := b.(bool); ok {
			return present
		}
	}
	return v
}

// ParsePipelineInput decodes one PIPELINE_INPUT object.
func ParsePipelineInput(data []byte, lim clixml.Limits) (any, error) {
	v, err := clixml.Unmarshal(data, lim)
	if err != nil {
		return nil, decodeErr(MsgPipelineInput, err)
	}
	return v, nil
}

// NewPipelineOutput builds PIPELINE_OUTPUT carrying one object.
func NewPipelineOutput(rpid, pid GUID, v any) (Message, error) {
	return marshal(MsgPipelineOutput, rpid, pid, v)
}

// NewPipelineState builds PIPELINE_STATE. Failed and Stopped should carry
// the reason (PipelineStoppedError for a stop); it is sent as
// ExceptionAsErrorRecord.
func NewPipelineState(rpid, pid GUID, state PipelineState, reason *ErrorRecord) (Message, error) {
	o := root(p("PipelineState", int32(state)))
	if reason != nil {
		o.Extended = append(o.Extended, p("ExceptionAsErrorRecord", reason.object(false)))
	}
	return marshal(MsgPipelineState, rpid, pid, o)
}

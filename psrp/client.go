package psrp

import (
	"fmt"

	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psobject"
)

// This file holds the client direction: the messages psgate's connector
// sends and the parsers of what the server answers. Builders mirror what
// Windows PowerShell's client writes ([MS-PSRP] §2.2.2), so the messages
// also open pools on a real Windows server.

// ClientProtocolVersion is the protocol version the connector announces:
// 2.3, Windows PowerShell 5.1's.
const ClientProtocolVersion psobject.Version = "2.3"

// clientMarshal builds a message to the server whose data is the CLIXML
// of v.
func clientMarshal(t MessageType, rpid, pid GUID, v any) (Message, error) {
	data, err := clixml.Marshal(v)
	if err != nil {
		return Message{}, fmt.Errorf("psrp: %s: %w", t, err)
	}
	return Message{Destination: DestinationServer, Type: t, RPID: rpid, PID: pid, Data: data}, nil
}

// NewClientSessionCapability builds the client's SESSION_CAPABILITY.
func NewClientSessionCapability(rpid GUID) Message {
	m, err := clientMarshal(MsgSessionCapability, rpid, GUID{}, root(
		p("protocolversion", ClientProtocolVersion),
		p("PSVersion", CapabilityPSVersion),
		p("SerializationVersion", SerializationVersion),
	))
	if err != nil {
		panic(err) // constant payload
	}
	return m
}

// nullHostInfo is the HostInfo of a client without a host: the server
// sends it no host calls.
func nullHostInfo() *psobject.Object {
	return root(
		p("_isHostNull", true),
		p("_isHostUINull", true),
		p("_isHostRawUINull", true),
		p("_useRunspaceHost", true),
	)
}

// NewInitRunspacePool builds INIT_RUNSPACEPOOL for a pool of minRunspaces
// to maxRunspaces runspaces, with a null host.
func NewInitRunspacePool(rpid GUID, minRunspaces, maxRunspaces int32) (Message, error) {
	return clientMarshal(MsgInitRunspacePool, rpid, GUID{}, root(
		p("MinRunspaces", minRunspaces),
		p("MaxRunspaces", maxRunspaces),
		p("PSThreadOptions", enum("System.Management.Automation.Runspaces.PSThreadOptions", "Default", 0)),
		p("ApartmentState", enum("System.Threading.ApartmentState", "Unknown", 2)),
		p("HostInfo", nullHostInfo()),
		p("ApplicationArguments", nil),
	))
}

// uiHostInfo is the HostInfo of a client whose host has a user interface
// but no raw UI (psgate connect's terminal): the server may send it host
// calls, and has no console size or colours to use.
func uiHostInfo() *psobject.Object {
	return root(
		p("_isHostNull", false),
		p("_isHostUINull", false),
		p("_isHostRawUINull", true),
		p("_useRunspaceHost", false),
	)
}

// NewCreatePipeline builds CREATE_PIPELINE for c (HostInfo is always a
// null host; c.HostInfo is ignored).
func NewCreatePipeline(rpid, pid GUID, c CreatePipeline) (Message, error) {
	return newCreatePipeline(rpid, pid, c, false)
}

// newCreatePipeline builds CREATE_PIPELINE, with uiHostInfo when host is
// set, else a null host.
func newCreatePipeline(rpid, pid GUID, c CreatePipeline, host bool) (Message, error) {
	hi := nullHostInfo()
	if host {
		hi = uiHostInfo()
	}
	cmds := commandList(c.PowerShell.Commands)
	ps := root(
		p("Cmds", cmds),
		p("IsNested", c.PowerShell.IsNested),
		p("History", nilIfEmpty(c.PowerShell.History)),
		p("RedirectShellErrorOutputPipe", c.PowerShell.RedirectShellErrorOutputPipe),
	)
	if c.PowerShell.ExtraCommands != nil {
		extra := make([]any, len(c.PowerShell.ExtraCommands))
		for i, st := range c.PowerShell.ExtraCommands {
			extra[i] = root(p("Cmds", commandList(st)), p("IsNested", false))
		}
		ps.Extended = append(ps.Extended, p("ExtraCmds", extra))
	}
	return clientMarshal(MsgCreatePipeline, rpid, pid, root(
		p("NoInput", c.NoInput),
		p("ApartmentState", enum("System.Threading.ApartmentState", "Unknown", c.ApartmentState)),
		p("RemoteStreamOptions", enum("System.Management.Automation.RemoteStreamOptions", "0", c.RemoteStreamOptions)),
		p("AddToHistory", c.AddToHistory),
		p("HostInfo", hi),
		p("PowerShell", ps),
		p("IsNested", c.IsNested),
	))
}

func commandList(cmds []Command) []any {
	out := make([]any, len(cmds))
	for i, c := range cmds {
		args := make([]any, len(c.Args))
		for j, a := range c.Args {
			args[j] = root(p("N", nilIfEmpty(a.Name)), p("V", a.Value))
		}
		out[i] = root(
			p("Cmd", c.Cmd),
			p("Args", args),
			p("IsScript", c.IsScript),
			p("UseLocalScope", nil),
			p("MergeMyResult", int32(c.MergeMyResult)),
			p("MergeToResult", int32(c.MergeToResult)),
			p("MergePreviousResults", int32(c.MergePreviousResults)),
			p("MergeError", int32(c.MergeError)),
			p("MergeWarning", int32(c.MergeWarning)),
			p("MergeVerbose", int32(c.MergeVerbose)),
			p("MergeDebug", int32(c.MergeDebug)),
			p("MergeInformation", int32(c.MergeInformation)),
		)
	}
	return out
}

// NewEndOfPipelineInput builds END_OF_PIPELINE_INPUT (empty data).
func NewEndOfPipelineInput(rpid, pid GUID) Message {
	return Message{Destination: DestinationServer, Type: MsgEndOfPipelineInput, RPID: rpid, PID: pid}
}

// NewPipelineInput builds PIPELINE_INPUT carrying one object.
func NewPipelineInput(rpid, pid GUID, v any) (Message, error) {
	return clientMarshal(MsgPipelineInput, rpid, pid, v)
}

// ParseRunspacePoolState parses RUNSPACEPOOL_STATE: the state, and the
// reason a Broken or Closed pool carries (nil when none).
func ParseRunspacePoolState(data []byte, lim clixml.Limits) (RunspacePoolState, *ErrorRecord, error) {
	const t = MsgRunspacePoolState
	f, err := parseRoot(t, data, lim)
	if err != nil {
		return 0, nil, err
	}
	n, err := f.int32("RunspaceState")
	if err != nil {
		return 0, nil, err
	}
	rec, err := optErrorRecord(f, "ExceptionAsErrorRecord")
	return RunspacePoolState(n), rec, err
}

// ParsePipelineState parses PIPELINE_STATE: the state, and the reason of a
// Failed or Stopped pipeline (nil when none).
func ParsePipelineState(data []byte, lim clixml.Limits) (PipelineState, *ErrorRecord, error) {
	const t = MsgPipelineState
	f, err := parseRoot(t, data, lim)
	if err != nil {
		return 0, nil, err
	}
	n, err := f.int32("PipelineState")
	if err != nil {
		return 0, nil, err
	}
	rec, err := optErrorRecord(f, "ExceptionAsErrorRecord")
	return PipelineState(n), rec, err
}

func optErrorRecord(f fields, name string) (*ErrorRecord, error) {
	v, ok := f.get(name)
	if !ok || v == nil {
		return nil, nil
	}
	o, ok := v.(*psobject.Object)
	if !ok {
		return nil, badf(f.t, "property %s is %s, not an object", name, kind(v))
	}
	return ErrorRecordOf(o), nil
}

// ParseErrorRecord parses ERROR_RECORD back into an ErrorRecord. Fields
// the sender left out stay empty; Message falls back to the record's text.
func ParseErrorRecord(data []byte, lim clixml.Limits) (*ErrorRecord, error) {
	f, err := parseRoot(MsgErrorRecord, data, lim)
	if err != nil {
		return nil, err
	}
	return ErrorRecordOf(f.o), nil
}

// ErrorRecordOf reads a serialized ErrorRecord object leniently, as
// ERROR_RECORD carries it or a client pipes one (ConsoleHost's
// ReportException).
func ErrorRecordOf(o *psobject.Object) *ErrorRecord {
	str := func(obj *psobject.Object, name string) string {
		if obj == nil {
			return ""
		}
		s, _ := stringProp(obj, name)
		return s
	}
	r := &ErrorRecord{
		FullyQualifiedErrorID: str(o, "FullyQualifiedErrorId"),
		Activity:              str(o, "ErrorCategory_Activity"),
		Reason:                str(o, "ErrorCategory_Reason"),
		TargetName:            str(o, "ErrorCategory_TargetName"),
		TargetType:            str(o, "ErrorCategory_TargetType"),
		DetailsMessage:        str(o, "ErrorDetails_Message"),
		RecommendedAction:     str(o, "ErrorDetails_RecommendedAction"),
		Code:                  str(o, "psgateErrorCode"),
	}
	r.Target, _ = o.Get("TargetObject")
	if v, ok := o.Get("ErrorCategory_Category"); ok {
		if n, ok := asInt(v); ok && n >= -1<<31 && n < 1<<31 {
			r.Category = ErrorCategory(n)
		}
	}
	if v, ok := o.Get("Exception"); ok {
		if exc, ok := v.(*psobject.Object); ok {
			r.Message = str(exc, "Message")
			if len(exc.TypeNames) > 0 {
				r.ExceptionType = exc.TypeNames[0]
			}
		}
	}
	if r.Message == "" {
		r.Message = o.Text
	}
	if r.DetailsMessage == r.Message {
		r.DetailsMessage = ""
	}
	return r
}

// ParseInformationalRecord parses WARNING_RECORD, VERBOSE_RECORD or
// DEBUG_RECORD into its message.
func ParseInformationalRecord(t MessageType, data []byte, lim clixml.Limits) (string, error) {
	v, err := clixml.Unmarshal(data, lim)
	if err != nil {
		return "", decodeErr(t, err)
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case *psobject.Object:
		if s, ok := stringProp(x, "InformationalRecord_Message"); ok {
			return s, nil
		}
		return x.String(), nil
	}
	return "", badf(t, "data is %s, not a record", kind(v))
}

// ParsePipelineOutput decodes one PIPELINE_OUTPUT object.
func ParsePipelineOutput(data []byte, lim clixml.Limits) (any, error) {
	v, err := clixml.Unmarshal(data, lim)
	if err != nil {
		return nil, decodeErr(MsgPipelineOutput, err)
	}
	return v, nil
}

// ParseInformationRecord parses INFORMATION_RECORD into its MessageData.
func ParseInformationRecord(data []byte, lim clixml.Limits) (any, error) {
	f, err := parseRoot(MsgInformationRecord, data, lim)
	if err != nil {
		return nil, err
	}
	v, _ := f.get("MessageData")
	return v, nil
}

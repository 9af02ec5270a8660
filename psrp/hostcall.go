package psrp

import (
	"fmt"

	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psobject"
)

// HostMethodID is a System.Management.Automation.Remoting.RemoteHostMethodId
// value ([MS-PSRP] §2.2.3.17).
type HostMethodID int32

// Host methods the gateway uses. All 56 have names (see String).
const (
	HostSetShouldExit    HostMethodID = 6
	HostReadLine         HostMethodID = 11
	HostWrite1           HostMethodID = 13
	HostWrite2           HostMethodID = 14
	HostWriteLine1       HostMethodID = 15
	HostWriteLine2       HostMethodID = 16
	HostWriteLine3       HostMethodID = 17
	HostWriteErrorLine   HostMethodID = 18
	HostWriteDebugLine   HostMethodID = 19
	HostWriteProgress    HostMethodID = 20
	HostWriteVerboseLine HostMethodID = 21
	HostWriteWarningLine HostMethodID = 22
	HostPrompt           HostMethodID = 23
	HostPromptForChoice  HostMethodID = 26
	HostPushRunspace     HostMethodID = 52
	HostPopRunspace      HostMethodID = 53
)

// String returns the .NET member name, e.g. "WriteLine2".
func (m HostMethodID) String() string {
	names := [...]string{"", "GetName", "GetVersion", "GetInstanceId", "GetCurrentCulture",
		"GetCurrentUICulture", "SetShouldExit", "EnterNestedPrompt", "ExitNestedPrompt",
		"NotifyBeginApplication", "NotifyEndApplication", "ReadLine", "ReadLineAsSecureString",
		"Write1", "Write2", "WriteLine1", "WriteLine2", "WriteLine3", "WriteErrorLine",
		"WriteDebugLine", "WriteProgress", "WriteVerboseLine", "WriteWarningLine", "Prompt",
		"PromptForCredential1", "PromptForCredential2", "PromptForChoice", "GetForegroundColor",
		"SetForegroundColor", "GetBackgroundColor", "SetBackgroundColor", "GetCursorPosition",
		"SetCursorPosition", "GetWindowPosition", "SetWindowPosition", "GetCursorSize",
		"SetCursorSize", "GetBufferSize", "SetBufferSize", "GetWindowSize", "SetWindowSize",
		"GetWindowTitle", "SetWindowTitle", "GetMaxWindowSize", "GetMaxPhysicalWindowSize",
		"GetKeyAvailable", "ReadKey", "FlushInputBuffer", "SetBufferContents1",
		"SetBufferContents2", "GetBufferContents", "ScrollBufferContents", "PushRunspace",
		"PopRunspace", "GetIsRunspacePushed", "GetRunspace", "PromptForChoiceMultipleSelection"}
	if m > 0 && int(m) < len(names) {
		return names[m]
	}
	return fmt.Sprintf("HostMethodID(%d)", int32(m))
}

// VoidCallID is the call id of a host call that expects no response.
const VoidCallID int64 = -100

// HostCall is a PIPELINE_HOST_CALL or RUNSPACEPOOL_HOST_CALL payload
// ([MS-PSRP] §2.2.2.15/27). Use VoidCallID for methods without a result
// (WriteLine2, PopRunspace…) and a fresh positive id otherwise; the answer
// arrives as a host response with the same id.
type HostCall struct {
	CallID int64
	Method HostMethodID
	Params []any
}

// WriteLine returns the void host call that prints one line on the
// client's console (WriteLine2), how Enter-PSSession shows output.
func WriteLine(text string) HostCall {
	return HostCall{CallID: VoidCallID, Method: HostWriteLine2, Params: []any{text}}
}

func (c HostCall) object() *psobject.Object {
	params := c.Params
	if params == nil {
		params = []any{}
	}
	return root(
		p("ci", c.CallID),
		p("mi", enum("System.Management.Automation.Remoting.RemoteHostMethodId", c.Method.String(), int32(c.Method))),
		p("mp", clixml.List{TypeNames: []string{typeArrayList, "System.Object"}, Items: params}),
	)
}

// NewPipelineHostCall builds PIPELINE_HOST_CALL for pipeline pid.
func NewPipelineHostCall(rpid, pid GUID, c HostCall) (Message, error) {
	return marshal(MsgPipelineHostCall, rpid, pid, c.object())
}

// NewRunspacePoolHostCall builds RUNSPACEPOOL_HOST_CALL.
func NewRunspacePoolHostCall(rpid GUID, c HostCall) (Message, error) {
	return marshal(MsgRunspacePoolHostCall, rpid, GUID{}, c.object())
}

// HostResponse is a PIPELINE_HOST_RESPONSE or RUNSPACEPOOL_HOST_RESPONSE
// payload.
type HostResponse struct {
	CallID int64
	Method HostMethodID
	// Return is the method's result ("mr"); it may hold
	// clixml.SecureString (ReadLineAsSecureString, PromptForCredential).
	Return any
	// Error is the serialized ErrorRecord ("me") when the call failed on
	// the client, and ErrorMessage its exception message.
	Error        *psobject.Object
	ErrorMessage string
}

// ParseHostResponse parses a host response; t is MsgPipelineHostResponse
// or MsgRunspacePoolHostResponse.
func ParseHostResponse(t MessageType, data []byte, lim clixml.Limits) (HostResponse, error) {
	var r HostResponse
	f, err := parseRoot(t, data, lim)
	if err != nil {
		return r, err
	}
	if r.CallID, err = f.integer("ci"); err != nil {
		return r, err
	}
	mi, err := f.int32("mi")
	if err != nil {
		return r, err
	}
	r.Method = HostMethodID(mi)
	r.Return, _ = f.get("mr")
	if v, ok := f.get("me"); ok && v != nil {
		me, err := f.sub("me")
		if err != nil {
			return r, err
		}
		r.Error = me.o
		r.ErrorMessage = errorRecordMessage(me.o)
	}
	return r, nil
}

// errorRecordMessage returns what PowerShell would show for a serialized
// ErrorRecord: ErrorDetails_Message, else Exception.Message, else ToString.
func errorRecordMessage(o *psobject.Object) string {
	if s, ok := stringProp(o, "ErrorDetails_Message"); ok && s != "" {
		return s
	}
	if exc, ok := o.Get("Exception"); ok {
		if eo, ok := exc.(*psobject.Object); ok {
			if s, ok := stringProp(eo, "Message"); ok {
				return s
			}
		}
	}
	return o.Text
}

func stringProp(o *psobject.Object, name string) (string, bool) {
	v, ok := o.Get(name)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

// ChoiceDescription is a System.Management.Automation.Host.ChoiceDescription
// of a PromptForChoice host call: the label marks its hot key with "&".
type ChoiceDescription struct {
	Label, HelpMessage string
}

// PromptForChoice returns the PromptForChoice host call (method 26) that
// asks the client's host to pick one of choices ([MS-PSRP] §2.2.3.17):
// parameters caption, message, the choices and the default choice's index
// as an Int32 (-1 for none). The choices travel as PowerShell's
// RemoteHostEncoder writes a Collection<ChoiceDescription>: an ArrayList of
// objects without type names holding the class's fields, label then
// helpMessage (EncodeClassOrStruct; the shape the Windows server sent in
// pypsrp's test_psrp_pshost_ui_mocked_methods recording, and psrpcore's
// ChoiceDescription.ToPSObjectForRemoting(for_host=True)). The call id is
// the pool's to give (ServerPool.HostCall); the answer's "mr" is the
// picked index as an Int32.
func PromptForChoice(caption, message string, choices []ChoiceDescription, defaultChoice int32) HostCall {
	items := make([]any, len(choices))
	for i, c := range choices {
		items[i] = root(p("label", c.Label), p("helpMessage", c.HelpMessage))
	}
	return HostCall{Method: HostPromptForChoice, Params: []any{
		caption, message,
		clixml.List{TypeNames: []string{typeArrayList, "System.Object"}, Items: items},
		defaultChoice,
	}}
}

// ParseHostCall parses a PIPELINE_HOST_CALL or RUNSPACEPOOL_HOST_CALL (t),
// as a client reads it.
func ParseHostCall(t MessageType, data []byte, lim clixml.Limits) (HostCall, error) {
	var c HostCall
	f, err := parseRoot(t, data, lim)
	if err != nil {
		return c, err
	}
	if c.CallID, err = f.integer("ci"); err != nil {
		return c, err
	}
	mi, err := f.int32("mi")
	if err != nil {
		return c, err
	}
	c.Method = HostMethodID(mi)
	if c.Params, _, err = f.list("mp"); err != nil {
		return c, err
	}
	return c, nil
}

// Choices reads the choices of a PromptForChoice call's parameters:
// caption, message, choices and default choice.
func (c HostCall) Choices() (caption, message string, choices []ChoiceDescription, defaultChoice int, err error) {
	if c.Method != HostPromptForChoice || len(c.Params) != 4 {
		return "", "", nil, 0, fmt.Errorf("%w: %s: %v with %d parameters is not PromptForChoice", ErrBadMessage, MsgPipelineHostCall, c.Method, len(c.Params))
	}
	caption, _ = c.Params[0].(string)
	message, _ = c.Params[1].(string)
	list, ok := c.Params[2].([]any)
	def, okDef := asInt(c.Params[3])
	if !ok || !okDef {
		return "", "", nil, 0, fmt.Errorf("%w: %s: PromptForChoice parameters are not a list of choices and an index", ErrBadMessage, MsgPipelineHostCall)
	}
	for _, item := range list {
		o, ok := item.(*psobject.Object)
		if !ok {
			return "", "", nil, 0, fmt.Errorf("%w: %s: a PromptForChoice choice is %s, not an object", ErrBadMessage, MsgPipelineHostCall, kind(item))
		}
		label, _ := stringProp(o, "label")
		help, _ := stringProp(o, "helpMessage")
		choices = append(choices, ChoiceDescription{Label: label, HelpMessage: help})
	}
	return caption, message, choices, int(def), nil
}

// Choice returns the index a PromptForChoice response picked, or the
// client's error: its exception message when it sent one.
func (r HostResponse) Choice() (int, error) {
	if r.Error != nil {
		return 0, &HostCallError{Method: r.Method, Message: r.ErrorMessage}
	}
	n, ok := asInt(r.Return)
	if !ok || n < -1<<31 || n >= 1<<31 {
		return 0, &HostCallError{Method: r.Method, Message: fmt.Sprintf("the answer is %s, not a choice's index", kind(r.Return))}
	}
	return int(n), nil
}

// HostCallError is a host call the client answered with an error.
type HostCallError struct {
	Method  HostMethodID
	Message string
}

func (e *HostCallError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("the client's host failed %s", e.Method)
	}
	return fmt.Sprintf("the client's host failed %s: %s", e.Method, e.Message)
}

// NewPipelineHostResponse builds the PIPELINE_HOST_RESPONSE a client sends
// for a host call of pipeline pid: r's Return as "mr", or, when r.Error is
// set, the ErrorRecord as "me" (RemoteHostEncoder.EncodeException).
func NewPipelineHostResponse(rpid, pid GUID, r HostResponse) (Message, error) {
	o := root(
		p("ci", r.CallID),
		p("mi", enum("System.Management.Automation.Remoting.RemoteHostMethodId", r.Method.String(), int32(r.Method))),
	)
	if r.Error != nil {
		o.Extended = append(o.Extended, p("me", r.Error))
	} else {
		o.Extended = append(o.Extended, p("mr", r.Return))
	}
	return clientMarshal(MsgPipelineHostResponse, rpid, pid, o)
}

// HostErrorRecord is the ErrorRecord a client sends as a host response's
// "me" when its host failed a call: what RemoteHostEncoder.EncodeException
// makes of a .NET exception (FullyQualifiedErrorId
// RemoteHostExecutionException).
func HostErrorRecord(message string) *psobject.Object {
	r := &ErrorRecord{Message: message, ExceptionType: "System.Management.Automation.Host.HostException",
		FullyQualifiedErrorID: "RemoteHostExecutionException", Category: 0}
	return r.object(false)
}

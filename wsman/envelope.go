package wsman

import (
	"strings"
	"time"
)

// Envelope is a decoded request: the WS-Management headers and the body
// element of the action. Exactly the body pointer matching Action is set
// (Shell for Create, CommandLine for Command, …); Decode guarantees it is
// non-nil for Create, Command, Send, Receive, Signal, Disconnect, Connect and
// Enumerate.
type Envelope struct {
	Action      string // wsa:Action, trimmed
	ResourceURI string // wsman:ResourceURI, trimmed
	// MessageID is wsa:MessageID verbatim: echo it byte-for-byte in
	// a:RelatesTo (pypsrp string-compares it).
	MessageID string
	// RelatesTo is wsa:RelatesTo verbatim (responses, for the client side).
	RelatesTo string
	To        string // wsa:To; never trust it (pywinrm hard-codes a host)
	ReplyTo   string // wsa:ReplyTo/wsa:Address
	Selectors []Selector
	// OperationTimeout is wsman:OperationTimeout, 0 when absent.
	OperationTimeout time.Duration
	// MaxEnvelopeSize is wsman:MaxEnvelopeSize in bytes, 0 when absent.
	MaxEnvelopeSize int
	Locale          string // wsman:Locale/@xml:lang
	DataLocale      string // wsmv:DataLocale/@xml:lang
	SessionID       string // wsmv:SessionId
	Options         []Option
	// CompressionType is rsp:CompressionType ("xpress" from Windows
	// PowerShell clients), empty when absent.
	CompressionType string

	Shell       *Shell
	CommandLine *CommandLine
	Send        *Send
	Receive     *Receive
	Signal      *Signal
	Disconnect  *Disconnect
	Connect     *Connect
	Enumerate   *Enumerate
	// Identify is set for a wsmid:Identify request, which has no headers.
	Identify bool
}

// Selector is one wsman:Selector.
type Selector struct {
	Name, Value string
}

// KV is a name/value pair: a shell environment variable, a fault datum.
type KV struct {
	Key, Value string
}

// Option is one wsman:Option of the OptionSet.
type Option struct {
	Name, Value string
	MustComply  bool
}

// Selector returns the value of the selector called name, compared
// case-insensitively as [MS-WSMV] §3.1.4.1.2 requires.
func (e *Envelope) Selector(name string) (string, bool) {
	return lookupSelector(e.Selectors, name)
}

// ShellID returns the ShellId selector, or "".
func (e *Envelope) ShellID() string {
	v, _ := e.Selector("ShellId")
	return v
}

// Option returns the option called name, compared case-insensitively.
func (e *Envelope) Option(name string) (Option, bool) {
	for _, o := range e.Options {
		if strings.EqualFold(o.Name, name) {
			return o, true
		}
	}
	return Option{}, false
}

// BoolOption returns the boolean value of option name. ok is false when the
// option is absent or its value is not a boolean; "true", "TRUE", "True" and
// "1" are true, "false" in any case and "0" are false.
func (e *Envelope) BoolOption(name string) (value, ok bool) {
	o, found := e.Option(name)
	if !found {
		return false, false
	}
	return parseBool(o.Value)
}

func lookupSelector(sel []Selector, name string) (string, bool) {
	for _, s := range sel {
		if strings.EqualFold(s.Name, name) {
			return s.Value, true
		}
	}
	return "", false
}

func parseBool(s string) (value, ok bool) {
	s = strings.TrimSpace(s)
	switch {
	case s == "1" || strings.EqualFold(s, "true"):
		return true, true
	case s == "0" || strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// Shell is the rsp:Shell body of a Create request.
type Shell struct {
	// ShellID is the client-chosen id (@ShellId; PSRP clients send the
	// RunspacePool id), empty when the server must choose.
	ShellID string
	// Name is @Name (PowerShell) or rsp:Name (pypsrp).
	Name          string
	InputStreams  []string
	OutputStreams []string
	// IdleTimeout is rsp:IdleTimeOut and Lifetime rsp:Lifetime, 0 when
	// absent.
	IdleTimeout      time.Duration
	Lifetime         time.Duration
	WorkingDirectory string
	// Environment holds rsp:Environment/rsp:Variable, nil when absent.
	Environment map[string]string
	// CreationXML is the base64-decoded PSRP creationXml: fragments of
	// SESSION_CAPABILITY and INIT_RUNSPACEPOOL.
	CreationXML []byte
}

// CommandLine is the rsp:CommandLine body of a Command request.
type CommandLine struct {
	// CommandID is @CommandId: the pipeline id for PSRP (echo it), empty
	// for WinRS (the server chooses).
	CommandID string
	// Command is rsp:Command verbatim (CDATA unwrapped); empty for PSRP.
	Command string
	// Arguments are the rsp:Arguments in order, verbatim. For PSRP the
	// single argument is base64 of the first fragments.
	Arguments []string
}

// Send is the rsp:Send body.
type Send struct {
	Streams []Stream
}

// Stream is one rsp:Stream of a Send request.
type Stream struct {
	Name      string // "stdin" or "pr"
	CommandID string // empty for shell-level (RunspacePool) input
	End       bool
	Data      []byte // base64-decoded
}

// Receive is the rsp:Receive body.
type Receive struct {
	// DesiredStreams are the stream names asked for ("stdout", "stderr");
	// never answer with others.
	DesiredStreams []string
	// CommandID is empty for a shell-level (RunspacePool) receive.
	CommandID string
}

// Signal is the rsp:Signal body.
type Signal struct {
	CommandID string
	Code      string // trimmed; compare with IsTerminateSignal / IsStopSignal
}

// Disconnect is the optional rsp:Disconnect body.
type Disconnect struct {
	IdleTimeout time.Duration // 0 when absent
	BufferMode  string        // "Block" or "Drop", empty when absent
}

// Connect is the rsp:Connect body: a RunspacePool connect carries
// ConnectXML, a command connect carries CommandID.
type Connect struct {
	CommandID  string
	ConnectXML []byte // base64-decoded connectXml
}

// Enumerate is the wsen:Enumerate body.
type Enumerate struct {
	OptimizeEnumeration bool
	MaxElements         int // 0 when absent
	// FilterDialect and Selectors come from wsman:Filter; a command
	// enumeration filters on the ShellId selector.
	FilterDialect string
	Selectors     []Selector
}

// Selector returns the filter selector called name, case-insensitively.
func (e *Enumerate) Selector(name string) (string, bool) {
	return lookupSelector(e.Selectors, name)
}

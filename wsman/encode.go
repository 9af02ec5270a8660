package wsman

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Body elements for EncodeEmptyResponse.
const (
	BodyNone           = ""
	BodySendResponse   = "rsp:SendResponse"
	BodySignalResponse = "rsp:SignalResponse"
)

// EncodeEmptyResponse encodes a response whose body is empty (Delete,
// Disconnect, Reconnect: bodyElement BodyNone) or a single empty element
// (BodySendResponse, BodySignalResponse). h.Action must be set. A
// bodyElement that is not a plain qualified name is treated as BodyNone.
func EncodeEmptyResponse(h Header, bodyElement string) []byte {
	return AppendEmptyResponse(make([]byte, 0, 1024), h, bodyElement)
}

// AppendEmptyResponse is EncodeEmptyResponse appending to dst, so a caller
// can reuse its buffers.
func AppendEmptyResponse(dst []byte, h Header, bodyElement string) []byte {
	if !isQName(bodyElement) {
		bodyElement = BodyNone
	}
	ns := nsPlainSet
	if bodyElement != BodyNone {
		ns = nsShellSet
	}
	b := appendEnvelopeStart(dst, ns, h, "")
	if bodyElement != BodyNone {
		b = append(b, '<')
		b = append(b, bodyElement...)
		b = append(b, "/>"...)
	}
	return append(b, envClose...)
}

// isQName accepts "prefix:Local" made of ASCII letters, digits, '_', '-'
// and '.', so a caller's string can never inject markup.
func isQName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// EncodeCommandResponse encodes the response to a Command request. For PSRP,
// commandID must be the client's CommandId; for WinRS a new UPPERCASE GUID.
func EncodeCommandResponse(h Header, commandID string) []byte {
	return AppendCommandResponse(make([]byte, 0, 1024), h, commandID)
}

// AppendCommandResponse is EncodeCommandResponse appending to dst.
func AppendCommandResponse(dst []byte, h Header, commandID string) []byte {
	b := appendEnvelopeStart(dst, nsShellSet, h, ActionCommandResponse)
	b = append(b, "<rsp:CommandResponse>"...)
	b = appendElem(b, "rsp:CommandId", commandID)
	b = append(b, "</rsp:CommandResponse>"...)
	return append(b, envClose...)
}

// ReceiveResult is the content of a ReceiveResponse.
type ReceiveResult struct {
	// Streams are written in order; only send names the client listed in
	// its DesiredStream.
	Streams []OutStream
	// State, when set, adds rsp:CommandState (command-level receives only;
	// RunspacePool receives carry none).
	State *CommandState
}

// OutStream is one rsp:Stream of a ReceiveResponse.
type OutStream struct {
	Name      string
	CommandID string // empty for shell-level (RunspacePool) output
	Data      []byte // base64-encoded on the wire; may be empty with End
	End       bool
}

// CommandState is rsp:CommandState.
type CommandState struct {
	CommandID string
	// State is a CommandState URI (StateDone, StateRunning, StatePending)
	// or its last segment ("Done").
	State string
	// ExitCode is written when set, and always (0 if nil) for Done: pywinrm
	// fails on a Done state without rsp:ExitCode.
	ExitCode *int
}

// EncodeReceiveResponse encodes a ReceiveResponse. A command that finished
// is reported the way WinRM does: its last data, an empty End stream per
// stream name, then CommandState Done with ExitCode.
func EncodeReceiveResponse(h Header, r ReceiveResult) []byte {
	size := 1024
	for _, s := range r.Streams {
		size += base64.StdEncoding.EncodedLen(len(s.Data)) + 96 + len(s.Name) + len(s.CommandID)
	}
	return AppendReceiveResponse(make([]byte, 0, size), h, r)
}

// AppendReceiveResponse is EncodeReceiveResponse appending to dst: with a
// buffer the caller reuses (one per shell loop, or from a pool), encoding a
// response allocates nothing.
func AppendReceiveResponse(dst []byte, h Header, r ReceiveResult) []byte {
	b := appendEnvelopeStart(dst, nsReceiveSet, h, ActionReceiveResponse)
	b = append(b, "<rsp:ReceiveResponse>"...)
	for _, s := range r.Streams {
		b = append(b, "<rsp:Stream"...)
		b = appendAttr(b, "Name", s.Name)
		if s.CommandID != "" {
			b = appendAttr(b, "CommandId", s.CommandID)
		}
		if s.End {
			b = append(b, ` End="true"`...)
		}
		b = append(b, '>')
		b = base64.StdEncoding.AppendEncode(b, s.Data)
		b = append(b, "</rsp:Stream>"...)
	}
	if st := r.State; st != nil {
		state := st.State
		if !strings.Contains(state, "/") {
			state = NsShell + "/CommandState/" + state
		}
		b = append(b, "<rsp:CommandState"...)
		b = appendAttr(b, "CommandId", st.CommandID)
		b = appendAttr(b, "State", state)
		b = append(b, '>')
		if st.ExitCode != nil || state == StateDone {
			code := 0
			if st.ExitCode != nil {
				code = *st.ExitCode
			}
			b = append(b, "<rsp:ExitCode>"...)
			b = strconv.AppendInt(b, int64(code), 10)
			b = append(b, "</rsp:ExitCode>"...)
		}
		b = append(b, "</rsp:CommandState>"...)
	}
	b = append(b, "</rsp:ReceiveResponse>"...)
	return append(b, envClose...)
}

// EncodeConnectResponse encodes the response to a Connect request. For a
// RunspacePool connect, connectResponseXML is the server's PSRP reply
// (SESSION_CAPABILITY + RUNSPACEPOOL_INIT_DATA fragments), sent base64 in
// connectResponseXml after the PSRP stream names; for a command connect it
// is nil and the body is an empty rsp:ConnectResponse.
func EncodeConnectResponse(h Header, connectResponseXML []byte) []byte {
	b := make([]byte, 0, 1024+base64.StdEncoding.EncodedLen(len(connectResponseXML)))
	b = appendEnvelopeStart(b, nsShellSet, h, ActionConnectResponse)
	if connectResponseXML == nil {
		b = append(b, "<rsp:ConnectResponse/>"...)
		return append(b, envClose...)
	}
	b = append(b, "<rsp:ConnectResponse><rsp:InputStreams>stdin pr</rsp:InputStreams><rsp:OutputStreams>stdout</rsp:OutputStreams>"...)
	b = append(b, `<connectResponseXml xmlns="`+NsPowerShell+`">`...)
	b = base64.StdEncoding.AppendEncode(b, connectResponseXML)
	b = append(b, "</connectResponseXml></rsp:ConnectResponse>"...)
	return append(b, envClose...)
}

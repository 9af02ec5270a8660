package wsman

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// This file holds the client direction: request envelopes as psgate's
// connector sends them. They follow what Windows PowerShell's WinRM client
// writes ([MS-WSMV] §3.1.4, [MS-PSRP] §3.1.5.3), so a real WinRM server
// accepts them too.

// Request carries the addressing headers of a client request.
type Request struct {
	// To is the endpoint URL the request is posted to.
	To string
	// ResourceURI addresses the shell kind, e.g. PowerShellResourcePrefix
	// + "Microsoft.PowerShell", or ResourceShell for an enumeration.
	ResourceURI string
	// MessageID is the request's own id ("uuid:" + GUID, see
	// NewMessageID).
	MessageID string
	// ShellID, when set, is sent as the ShellId selector.
	ShellID string
	// Options are sent in wsman:OptionSet (protocolversion on a PSRP
	// Create).
	Options []Option
	// OperationTimeout is how long the server may hold the request; zero
	// omits the header.
	OperationTimeout time.Duration
	// MaxEnvelopeSize is the largest response the client accepts, in
	// bytes; zero omits the header.
	MaxEnvelopeSize int
}

const nsRequestSet = `<s:Envelope xmlns:s="` + NsSOAP + `" xmlns:a="` + NsAddressing + `" xmlns:w="` + NsWSMan +
	`" xmlns:p="` + NsWSManMS + `" xmlns:rsp="` + NsShell + `" xmlns:n="` + NsEnumeration + `">`

// startRequest returns a buffer holding the envelope start, the request
// header and "<s:Body>", with room for body more bytes and the envelope's
// end: an encoder that bounds its body well allocates once (a base64
// argument appended past the capacity would copy the whole envelope).
func startRequest(action string, r Request, body int) []byte {
	return appendRequestStart(make([]byte, 0, requestStartSize(action, r)+body+len(envClose)), action, r)
}

// requestHeaderMarkup bounds the markup appendRequestStart writes around
// the envelope start and the request's fields: 635 bytes with every
// optional element, TestRequestStartSize checks it.
const requestHeaderMarkup = 768

// requestStartSize bounds what appendRequestStart writes for r when its
// text needs no escaping.
func requestStartSize(action string, r Request) int {
	n := len(nsRequestSet) + requestHeaderMarkup + len(action) + len(r.To) + len(r.MessageID) + len(r.ResourceURI) + len(r.ShellID)
	for _, o := range r.Options {
		n += len(`<w:Option Name="" MustComply="true"></w:Option>`) + len(o.Name) + len(o.Value)
	}
	return n
}

// appendRequestStart writes the envelope start, the request header and
// "<s:Body>".
func appendRequestStart(b []byte, action string, r Request) []byte {
	b = append(b, nsRequestSet...)
	b = append(b, "<s:Header>"...)
	b = appendElem(b, "a:To", r.To)
	b = append(b, `<a:ReplyTo><a:Address s:mustUnderstand="true">`+AddressAnonymous+`</a:Address></a:ReplyTo>`...)
	b = append(b, `<a:Action s:mustUnderstand="true">`...)
	b = appendText(b, action)
	b = append(b, "</a:Action>"...)
	b = appendElem(b, "a:MessageID", r.MessageID)
	b = append(b, `<w:ResourceURI s:mustUnderstand="true">`...)
	b = appendText(b, r.ResourceURI)
	b = append(b, "</w:ResourceURI>"...)
	if r.MaxEnvelopeSize > 0 {
		b = append(b, `<w:MaxEnvelopeSize s:mustUnderstand="true">`...)
		b = strconv.AppendInt(b, int64(r.MaxEnvelopeSize), 10)
		b = append(b, "</w:MaxEnvelopeSize>"...)
	}
	if r.OperationTimeout > 0 {
		b = append(b, "<w:OperationTimeout>"...)
		b = appendDuration(b, r.OperationTimeout)
		b = append(b, "</w:OperationTimeout>"...)
	}
	b = append(b, `<w:Locale xml:lang="en-US" s:mustUnderstand="false"/><p:DataLocale xml:lang="en-US" s:mustUnderstand="false"/>`...)
	if r.ShellID != "" {
		b = append(b, `<w:SelectorSet><w:Selector Name="ShellId">`...)
		b = appendText(b, r.ShellID)
		b = append(b, "</w:Selector></w:SelectorSet>"...)
	}
	if len(r.Options) > 0 {
		b = append(b, `<w:OptionSet s:mustUnderstand="true">`...)
		for _, o := range r.Options {
			b = append(b, "<w:Option"...)
			b = appendAttr(b, "Name", o.Name)
			if o.MustComply {
				b = append(b, ` MustComply="true"`...)
			}
			b = append(b, '>')
			b = appendText(b, o.Value)
			b = append(b, "</w:Option>"...)
		}
		b = append(b, "</w:OptionSet>"...)
	}
	return append(b, "</s:Header><s:Body>"...)
}

// CreateShell is the rsp:Shell body of a Create request.
type CreateShell struct {
	// ShellID is the client-chosen id; a PSRP client sends its runspace
	// pool id. Empty lets the server choose.
	ShellID       string
	Name          string
	InputStreams  []string
	OutputStreams []string
	// IdleTimeout asks for a shorter idle timeout; zero omits it.
	IdleTimeout time.Duration
	// CreationXML is the PSRP creationXml (SESSION_CAPABILITY and
	// INIT_RUNSPACEPOOL fragments), sent base64-encoded.
	CreationXML []byte
}

// EncodeCreateRequest encodes a Create (open a shell) request.
func EncodeCreateRequest(r Request, s CreateShell) []byte {
	body := 512 + len(s.ShellID) + len(s.Name) + base64.StdEncoding.EncodedLen(len(s.CreationXML))
	for _, names := range [][]string{s.InputStreams, s.OutputStreams} {
		for _, n := range names {
			body += len(n) + 1
		}
	}
	b := startRequest(ActionCreate, r, body)
	b = append(b, "<rsp:Shell"...)
	if s.ShellID != "" {
		b = appendAttr(b, "ShellId", s.ShellID)
	}
	if s.Name != "" {
		b = appendAttr(b, "Name", s.Name)
	}
	b = append(b, '>')
	if s.IdleTimeout > 0 {
		b = append(b, "<rsp:IdleTimeOut>"...)
		b = appendDuration(b, s.IdleTimeout)
		b = append(b, "</rsp:IdleTimeOut>"...)
	}
	b = appendElem(b, "rsp:InputStreams", strings.Join(s.InputStreams, " "))
	b = appendElem(b, "rsp:OutputStreams", strings.Join(s.OutputStreams, " "))
	if len(s.CreationXML) > 0 {
		b = append(b, `<creationXml xmlns="`+NsPowerShell+`">`...)
		b = base64.StdEncoding.AppendEncode(b, s.CreationXML)
		b = append(b, "</creationXml>"...)
	}
	b = append(b, "</rsp:Shell>"...)
	return append(b, envClose...)
}

// EncodeCommandRequest encodes a Command request. For PSRP, commandID is
// the pipeline id and the single argument the first CREATE_PIPELINE
// fragments (sent base64-encoded); command is empty.
func EncodeCommandRequest(r Request, commandID, command string, args ...[]byte) []byte {
	body := 128 + len(commandID) + len(command)
	for _, a := range args {
		body += base64.StdEncoding.EncodedLen(len(a)) + len("<rsp:Arguments></rsp:Arguments>")
	}
	b := startRequest(ActionCommand, r, body)
	b = append(b, "<rsp:CommandLine"...)
	if commandID != "" {
		b = appendAttr(b, "CommandId", commandID)
	}
	b = append(b, '>')
	b = appendElem(b, "rsp:Command", command)
	for _, a := range args {
		b = append(b, "<rsp:Arguments>"...)
		b = base64.StdEncoding.AppendEncode(b, a)
		b = append(b, "</rsp:Arguments>"...)
	}
	b = append(b, "</rsp:CommandLine>"...)
	return append(b, envClose...)
}

// EncodeSendRequest encodes a Send request carrying streams (stdin or pr,
// with CommandID empty for shell-level input).
func EncodeSendRequest(r Request, streams ...Stream) []byte {
	body := 32
	for _, s := range streams {
		body += base64.StdEncoding.EncodedLen(len(s.Data)) + 96 + len(s.Name) + len(s.CommandID)
	}
	b := startRequest(ActionSend, r, body)
	b = append(b, "<rsp:Send>"...)
	for _, s := range streams {
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
	b = append(b, "</rsp:Send>"...)
	return append(b, envClose...)
}

// EncodeReceiveRequest encodes a Receive request for the named streams of
// a command, or of the shell when commandID is empty.
func EncodeReceiveRequest(r Request, commandID string, streams ...string) []byte {
	body := 128 + len(commandID)
	for _, n := range streams {
		body += len(n) + 1
	}
	b := startRequest(ActionReceive, r, body)
	b = append(b, "<rsp:Receive><rsp:DesiredStream"...)
	if commandID != "" {
		b = appendAttr(b, "CommandId", commandID)
	}
	b = append(b, '>')
	b = appendText(b, strings.Join(streams, " "))
	b = append(b, "</rsp:DesiredStream></rsp:Receive>"...)
	return append(b, envClose...)
}

// EncodeSignalRequest encodes a Signal request (PSSignalCrtlC stops a
// pipeline, SignalTerminate ends a command).
func EncodeSignalRequest(r Request, commandID, code string) []byte {
	b := startRequest(ActionSignal, r, 128+len(commandID)+len(code))
	b = append(b, "<rsp:Signal"...)
	if commandID != "" {
		b = appendAttr(b, "CommandId", commandID)
	}
	b = append(b, '>')
	b = appendElem(b, "rsp:Code", code)
	b = append(b, "</rsp:Signal>"...)
	return append(b, envClose...)
}

// EncodeDeleteRequest encodes a Delete (close the shell) request.
func EncodeDeleteRequest(r Request) []byte {
	b := startRequest(ActionDelete, r, 0)
	return append(b, envClose...)
}

// EncodeEnumerateRequest encodes an optimized Enumerate request: of the
// caller's shells (r.ResourceURI ResourceShell), or of the commands of the
// shell named shellID (r.ResourceURI ResourceShellCommand).
func EncodeEnumerateRequest(r Request, shellID string) []byte {
	b := startRequest(ActionEnumerate, r, 384+len(shellID))
	b = append(b, "<n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>32000</w:MaxElements>"...)
	if shellID != "" {
		b = append(b, `<w:Filter Dialect="http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter"><w:SelectorSet><w:Selector Name="ShellId">`...)
		b = appendText(b, shellID)
		b = append(b, "</w:Selector></w:SelectorSet></w:Filter>"...)
	}
	b = append(b, "</n:Enumerate>"...)
	return append(b, envClose...)
}

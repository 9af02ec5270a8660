package wsman

import (
	"errors"
	"strconv"
	"strings"
)

// Response is a decoded response envelope, for the client direction. The
// fields the response's action carries are set: ShellID for a
// CreateResponse, CommandID for a CommandResponse, Streams and State for a
// ReceiveResponse, Shells or Commands for an EnumerateResponse.
type Response struct {
	Action    string
	MessageID string
	RelatesTo string
	// ShellID is the ShellId selector of a CreateResponse's
	// ResourceCreated reference, or the rsp:ShellId of its rsp:Shell.
	ShellID   string
	CommandID string
	// Streams are the rsp:Stream elements of a ReceiveResponse, in order,
	// with Data base64-decoded.
	Streams []Stream
	State   *CommandState
	// Shells are the rsp:Shell elements of a Create, Get or Enumerate
	// response.
	Shells   []ShellInfo
	Commands []CommandInfo
}

// DecodeResponse parses a response envelope. A fault envelope is returned
// as the error, a *Fault (see DecodeFault); anything malformed is a
// *DecodeError. It is bounded like Decode and never panics.
//
// Like Decode it first builds the element tree with the fast scanner
// (scan.go), which reads the plain UTF-8 XML servers send without
// encoding/xml's per-token allocations; whatever the scanner declines, and
// every malformed body, goes through encoding/xml (decodeResponseGeneral).
func DecodeResponse(body []byte, lim Limits) (*Response, error) {
	return new(Decoder).DecodeResponse(body, lim)
}

// DecodeResponse decodes body as the function DecodeResponse does, on d's
// memory: a client decoding many responses keeps a Decoder (one at a
// time) so that the scanner's arrays are not allocated for each. The
// Response shares nothing with d.
func (d *Decoder) DecodeResponse(body []byte, lim Limits) (*Response, error) {
	lim = lim.withDefaults()
	if len(body) <= lim.MaxEnvelopeSize {
		if ok, r, err := d.s.response(body, lim); ok {
			return r, err
		}
	}
	return decodeResponseGeneral(body, lim)
}

// response is the fast path of DecodeResponse on s's arrays, which it
// leaves cleared for the next call; ok is false when it declines. A
// response copies what it keeps out of the tree (strings, decoded
// stream data), so the arrays may be reused at once.
func (s *scanner) response(body []byte, lim Limits) (ok bool, r *Response, err error) {
	defer s.release()
	root, ok := s.tree(body, lim)
	if !ok {
		return false, nil, nil
	}
	r, err = responseOf(root)
	var f *Fault
	if err == nil || errors.As(err, &f) {
		return true, r, err
	}
	return false, nil, nil
}

// decodeResponseGeneral is DecodeResponse through encoding/xml: it handles
// every input DecodeResponse accepts and reports every error.
func decodeResponseGeneral(body []byte, lim Limits) (*Response, error) {
	lim = lim.withDefaults()
	if len(body) > lim.MaxEnvelopeSize {
		return nil, &DecodeError{Kind: KindTooLarge,
			Detail: "response of " + strconv.Itoa(len(body)) + " bytes exceeds " + strconv.Itoa(lim.MaxEnvelopeSize)}
	}
	root, err := parseTree(body, lim)
	if err != nil {
		return nil, err
	}
	return responseOf(root)
}

// responseOf decodes a response's element tree; a fault in it is the error.
func responseOf(root *node) (*Response, error) {
	header, bodyEl, err := soapParts(root)
	if err != nil {
		return nil, err
	}
	if fe := bodyEl.child(NsSOAP, "Fault"); fe != nil {
		return nil, faultOf(fe)
	}
	r := &Response{
		Action:    header.child(NsAddressing, "Action").trimmed(),
		MessageID: header.child(NsAddressing, "MessageID").str(),
		RelatesTo: header.child(NsAddressing, "RelatesTo").str(),
	}
	if rc := bodyEl.child(NsTransfer, "ResourceCreated"); rc != nil {
		for _, s := range selectors(rc.child(NsAddressing, "ReferenceParameters").child(NsWSMan, "SelectorSet")) {
			if strings.EqualFold(s.Name, "ShellId") {
				r.ShellID = s.Value
			}
		}
	}
	for _, n := range bodyEl.children(NsShell, "Shell") {
		r.Shells = append(r.Shells, decodeShellInfo(n))
	}
	if cr := bodyEl.child(NsShell, "CommandResponse"); cr != nil {
		r.CommandID = cr.child(NsShell, "CommandId").trimmed()
	}
	if rr := bodyEl.child(NsShell, "ReceiveResponse"); rr != nil {
		if err := decodeReceiveResponse(r, rr); err != nil {
			return nil, err
		}
	}
	if er := bodyEl.child(NsEnumeration, "EnumerateResponse"); er != nil {
		items := er.child(NsWSMan, "Items")
		for _, n := range items.children(NsShell, "Shell") {
			r.Shells = append(r.Shells, decodeShellInfo(n))
		}
		for _, n := range items.children(NsShell, "Command") {
			r.Commands = append(r.Commands, CommandInfo{
				CommandID:   n.child(NsShell, "CommandId").trimmed(),
				CommandLine: n.child(NsShell, "CommandLine").str(),
				State:       n.child(NsShell, "CommandState").trimmed(),
			})
		}
	}
	if r.ShellID == "" && len(r.Shells) == 1 && r.Action == ActionCreateResponse {
		r.ShellID = r.Shells[0].ShellID
	}
	return r, nil
}

func decodeReceiveResponse(r *Response, rr *node) *DecodeError {
	for _, st := range rr.children(NsShell, "Stream") {
		name, _ := st.attr("Name")
		cmd, _ := st.attr("CommandId")
		end, _ := st.attr("End")
		isEnd, _ := parseBool(end)
		data, err := decodeBase64(st.text, "rsp:Stream")
		if err != nil {
			return err
		}
		r.Streams = append(r.Streams, Stream{Name: strings.TrimSpace(name), CommandID: strings.TrimSpace(cmd), End: isEnd, Data: data})
	}
	if cs := rr.child(NsShell, "CommandState"); cs != nil {
		id, _ := cs.attr("CommandId")
		state, _ := cs.attr("State")
		st := &CommandState{CommandID: strings.TrimSpace(id), State: strings.TrimSpace(state)}
		if ec := cs.child(NsShell, "ExitCode"); ec != nil {
			code, err := strconv.Atoi(ec.trimmed())
			if err != nil {
				return &DecodeError{Kind: KindMalformed, Detail: "invalid rsp:ExitCode " + strconv.Quote(clip(ec.trimmed())), Err: err}
			}
			st.ExitCode = &code
		}
		r.State = st
	}
	return nil
}

// decodeShellInfo reads an rsp:Shell element leniently: fields that are
// missing or unreadable stay zero.
func decodeShellInfo(n *node) ShellInfo {
	s := ShellInfo{
		ShellID:          n.child(NsShell, "ShellId").trimmed(),
		Name:             n.child(NsShell, "Name").trimmed(),
		ResourceURI:      n.child(NsShell, "ResourceUri").trimmed(),
		Owner:            n.child(NsShell, "Owner").trimmed(),
		ClientIP:         n.child(NsShell, "ClientIP").trimmed(),
		WorkingDirectory: n.child(NsShell, "WorkingDirectory").trimmed(),
		InputStreams:     strings.Fields(n.child(NsShell, "InputStreams").str()),
		OutputStreams:    strings.Fields(n.child(NsShell, "OutputStreams").str()),
		Locale:           n.child(NsShell, "Locale").trimmed(),
		DataLocale:       n.child(NsShell, "DataLocale").trimmed(),
		CompressionMode:  n.child(NsShell, "CompressionMode").trimmed(),
		BufferMode:       n.child(NsShell, "BufferMode").trimmed(),
		State:            n.child(NsShell, "State").trimmed(),
	}
	s.PowerShell = n.child(NsShell, "MaxIdleTimeOut") != nil
	s.IdleTimeout, _ = ParseDuration(n.childFold(NsShell, "IdleTimeOut").trimmed())
	s.MaxIdleTimeout, _ = ParseDuration(n.childFold(NsShell, "MaxIdleTimeOut").trimmed())
	s.ShellRunTime, _ = ParseDuration(n.child(NsShell, "ShellRunTime").trimmed())
	s.ShellInactivity, _ = ParseDuration(n.child(NsShell, "ShellInactivity").trimmed())
	s.ProcessID, _ = strconv.Atoi(n.child(NsShell, "ProcessId").trimmed())
	s.ChildProcesses, _ = strconv.Atoi(n.child(NsShell, "ChildProcesses").trimmed())
	s.MemoryUsedMB, _ = strconv.Atoi(strings.TrimSuffix(n.child(NsShell, "MemoryUsed").trimmed(), "MB"))
	return s
}

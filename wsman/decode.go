package wsman

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Limits bounds what Decode accepts. Zero or negative fields take the
// defaults below.
type Limits struct {
	// MaxEnvelopeSize is the largest body in bytes (default 512000, WinRM's
	// MaxEnvelopeSizekb of 500). A larger body is KindTooLarge.
	MaxEnvelopeSize int
	// MaxDepth is the deepest element nesting (default 32; real envelopes
	// are under 10 deep).
	MaxDepth int
	// MaxElements is the most elements in one envelope (default 10000).
	MaxElements int
}

// Default limits.
const (
	DefaultMaxEnvelopeSize = 512000
	DefaultMaxDepth        = 32
	DefaultMaxElements     = 10000
)

func (l Limits) withDefaults() Limits {
	if l.MaxEnvelopeSize <= 0 {
		l.MaxEnvelopeSize = DefaultMaxEnvelopeSize
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultMaxElements
	}
	return l
}

// Decode parses a WS-Management request body. It accepts any prefixes, an
// XML declaration, CDATA, comments, a UTF-8 BOM and UTF-16 bodies, ignores
// unknown headers and body elements and every form of mustUnderstand, and
// returns a *DecodeError for anything it cannot process. It never panics and
// allocates in proportion to len(body), which is capped by
// lim.MaxEnvelopeSize.
//
// Decode first tries decodeFast, a scanner for the plain XML real clients
// send; whatever that scanner declines goes through encoding/xml
// (decodeGeneral), which also produces every error.
func Decode(body []byte, lim Limits) (*Envelope, error) {
	return new(Decoder).Decode(body, lim)
}

// decodeGeneral is Decode through encoding/xml: it handles every input Decode
// accepts and reports every error.
func decodeGeneral(body []byte, lim Limits) (*Envelope, error) {
	lim = lim.withDefaults()
	if len(body) > lim.MaxEnvelopeSize {
		return nil, &DecodeError{Kind: KindTooLarge,
			Detail: "body of " + strconv.Itoa(len(body)) + " bytes exceeds " + strconv.Itoa(lim.MaxEnvelopeSize)}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, malformed("empty body", nil)
	}
	root, err := parseTree(body, lim)
	if err != nil {
		return nil, err
	}
	return decodeTree(root)
}

// decodeTree decodes a parsed document. Both paths share it, so an envelope
// differs between them only if their trees do.
func decodeTree(root *node) (*Envelope, error) {
	header, bodyEl, err := soapParts(root)
	if err != nil {
		return nil, err
	}

	env := &Envelope{}
	if err := decodeHeader(env, header); err != nil {
		return nil, err
	}
	env.Identify = bodyEl.child(NsIdentity, "Identify") != nil
	if err := checkHeaders(env); err != nil {
		return nil, err
	}
	if err := decodeBody(env, bodyEl); err != nil {
		err.MessageID = env.MessageID
		return nil, err
	}
	return env, nil
}

// soapParts checks the root is a SOAP 1.2 envelope and returns its Header
// (possibly nil) and Body.
func soapParts(root *node) (header, body *node, err error) {
	if root.name.Local != "Envelope" || root.name.Space != NsSOAP {
		if root.name.Local == "Envelope" && root.name.Space == NsSOAP11 {
			return nil, nil, malformed("SOAP 1.1 envelope; WS-Management requires SOAP 1.2", nil)
		}
		return nil, nil, malformed("root element is not a SOAP 1.2 Envelope", nil)
	}
	body = root.child(NsSOAP, "Body")
	if body == nil {
		return nil, nil, malformed("envelope without s:Body", nil)
	}
	return root.child(NsSOAP, "Header"), body, nil
}

func decodeHeader(env *Envelope, h *node) *DecodeError {
	if h == nil {
		return nil
	}
	env.MessageID = h.child(NsAddressing, "MessageID").str()
	for _, k := range h.kids {
		switch k.name.Space {
		case NsAddressing:
			switch k.name.Local {
			case "Action":
				env.Action = k.trimmed()
			case "RelatesTo":
				env.RelatesTo = k.str()
			case "To":
				env.To = k.trimmed()
			case "ReplyTo":
				env.ReplyTo = k.child(NsAddressing, "Address").trimmed()
			}
		case NsWSMan:
			switch k.name.Local {
			case "ResourceURI":
				env.ResourceURI = k.trimmed()
			case "SelectorSet":
				env.Selectors = selectors(k)
			case "OptionSet":
				env.Options = options(k)
			case "OperationTimeout":
				d, err := ParseDuration(k.trimmed())
				if err != nil {
					return headerValueError("wsman:OperationTimeout", k, env.MessageID, err)
				}
				env.OperationTimeout = d
			case "MaxEnvelopeSize":
				n, err := strconv.Atoi(k.trimmed())
				if err != nil || n < 0 {
					return headerValueError("wsman:MaxEnvelopeSize", k, env.MessageID, err)
				}
				env.MaxEnvelopeSize = n
			case "Locale":
				env.Locale = k.xmlLang()
			}
		case NsWSManMS:
			switch k.name.Local {
			case "DataLocale":
				env.DataLocale = k.xmlLang()
			case "SessionId":
				env.SessionID = k.trimmed()
			}
		case NsShell:
			if k.name.Local == "CompressionType" {
				env.CompressionType = k.trimmed()
			}
		}
	}
	return nil
}

func headerValueError(name string, n *node, messageID string, cause error) *DecodeError {
	return &DecodeError{Kind: KindMalformed, Detail: "invalid " + name + " " + strconv.Quote(clip(n.trimmed())),
		MessageID: messageID, Err: cause}
}

// clip shortens hostile values quoted in error details.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func selectors(set *node) []Selector {
	var out []Selector
	for _, s := range set.children(NsWSMan, "Selector") {
		name, _ := s.attr("Name")
		out = append(out, Selector{Name: name, Value: s.trimmed()})
	}
	return out
}

func options(set *node) []Option {
	var out []Option
	for _, o := range set.children(NsWSMan, "Option") {
		name, _ := o.attr("Name")
		mc, _ := o.attr("MustComply")
		must, _ := parseBool(mc)
		out = append(out, Option{Name: name, Value: o.trimmed(), MustComply: must})
	}
	return out
}

// resourceActions are the actions addressed to a resource, which therefore
// need wsman:ResourceURI.
var resourceActions = [...]string{
	ActionCreate, ActionDelete, ActionGet, ActionPut,
	ActionCommand, ActionSend, ActionReceive, ActionSignal,
	ActionDisconnect, ActionReconnect, ActionConnect,
	ActionEnumerate, ActionPull, ActionRelease,
}

func checkHeaders(env *Envelope) *DecodeError {
	if env.Identify && env.Action == "" {
		return nil // Identify carries no WS-Addressing headers
	}
	missing := func(h string) *DecodeError {
		return &DecodeError{Kind: KindMissingHeader, Header: h, Detail: "no " + h + " header", MessageID: env.MessageID}
	}
	if env.Action == "" {
		return missing("wsa:Action")
	}
	if strings.TrimSpace(env.MessageID) == "" {
		return missing("wsa:MessageID")
	}
	if env.ResourceURI == "" {
		for _, a := range resourceActions {
			if env.Action == a {
				return missing("wsman:ResourceURI")
			}
		}
	}
	return nil
}

func decodeBody(env *Envelope, b *node) *DecodeError {
	var err *DecodeError
	if n := b.child(NsShell, "Shell"); n != nil {
		if env.Shell, err = decodeShell(n); err != nil {
			return err
		}
	}
	if n := b.child(NsShell, "CommandLine"); n != nil {
		env.CommandLine = decodeCommandLine(n)
	}
	if n := b.child(NsShell, "Send"); n != nil {
		if env.Send, err = decodeSend(n); err != nil {
			return err
		}
	}
	if n := b.child(NsShell, "Receive"); n != nil {
		env.Receive = decodeReceive(n)
	}
	if n := b.child(NsShell, "Signal"); n != nil {
		cmd, _ := n.attr("CommandId")
		env.Signal = &Signal{CommandID: strings.TrimSpace(cmd), Code: n.child(NsShell, "Code").trimmed()}
	}
	if n := b.child(NsShell, "Disconnect"); n != nil || env.Action == ActionDisconnect {
		if env.Disconnect, err = decodeDisconnect(n); err != nil {
			return err
		}
	}
	if n := b.child(NsShell, "Connect"); n != nil {
		if env.Connect, err = decodeConnect(n); err != nil {
			return err
		}
	}
	if n := b.child(NsEnumeration, "Enumerate"); n != nil {
		if env.Enumerate, err = decodeEnumerate(n); err != nil {
			return err
		}
	}
	return requireBody(env)
}

// requireBody checks that the action's body element was present.
func requireBody(env *Envelope) *DecodeError {
	var need string
	switch env.Action {
	case ActionCreate:
		if env.Shell == nil {
			need = "rsp:Shell"
		}
	case ActionCommand:
		if env.CommandLine == nil {
			need = "rsp:CommandLine"
		}
	case ActionSend:
		if env.Send == nil {
			need = "rsp:Send"
		}
	case ActionReceive:
		if env.Receive == nil {
			need = "rsp:Receive"
		}
	case ActionSignal:
		if env.Signal == nil || env.Signal.Code == "" {
			need = "rsp:Signal with rsp:Code"
		}
	case ActionConnect:
		if env.Connect == nil {
			need = "rsp:Connect"
		}
	case ActionEnumerate:
		if env.Enumerate == nil {
			need = "wsen:Enumerate"
		}
	}
	if need != "" {
		return malformed(env.Action[strings.LastIndexByte(env.Action, '/')+1:]+" request without "+need+" body", nil)
	}
	return nil
}

func decodeShell(n *node) (*Shell, *DecodeError) {
	s := &Shell{
		InputStreams:     strings.Fields(n.child(NsShell, "InputStreams").str()),
		OutputStreams:    strings.Fields(n.child(NsShell, "OutputStreams").str()),
		WorkingDirectory: n.child(NsShell, "WorkingDirectory").trimmed(),
	}
	id, _ := n.attr("ShellId")
	s.ShellID = strings.TrimSpace(id)
	if name, ok := n.attr("Name"); ok {
		s.Name = name
	} else {
		s.Name = n.child(NsShell, "Name").trimmed()
	}
	var err *DecodeError
	if s.IdleTimeout, err = optionalDuration(n.childFold(NsShell, "IdleTimeOut"), "rsp:IdleTimeOut"); err != nil {
		return nil, err
	}
	if s.Lifetime, err = optionalDuration(n.childFold(NsShell, "Lifetime"), "rsp:Lifetime"); err != nil {
		return nil, err
	}
	if env := n.child(NsShell, "Environment"); env != nil {
		s.Environment = map[string]string{}
		for _, v := range env.children(NsShell, "Variable") {
			name, _ := v.attr("Name")
			s.Environment[name] = v.str()
		}
	}
	if x := n.child(NsPowerShell, "creationXml"); x != nil {
		if s.CreationXML, err = decodeBase64(x.text, "creationXml"); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func optionalDuration(n *node, name string) (time.Duration, *DecodeError) {
	if n == nil || n.trimmed() == "" {
		return 0, nil
	}
	d, perr := ParseDuration(n.trimmed())
	if perr != nil {
		return 0, &DecodeError{Kind: KindMalformed, Detail: "invalid " + name + " " + strconv.Quote(clip(n.trimmed())), Err: perr}
	}
	return d, nil
}

func decodeCommandLine(n *node) *CommandLine {
	id, _ := n.attr("CommandId")
	c := &CommandLine{CommandID: strings.TrimSpace(id), Command: n.child(NsShell, "Command").str()}
	for _, a := range n.children(NsShell, "Arguments") {
		c.Arguments = append(c.Arguments, a.str())
	}
	return c
}

func decodeSend(n *node) (*Send, *DecodeError) {
	s := &Send{}
	for _, st := range n.children(NsShell, "Stream") {
		name, _ := st.attr("Name")
		cmd, _ := st.attr("CommandId")
		end, _ := st.attr("End")
		isEnd, _ := parseBool(end)
		data, err := decodeBase64(st.text, "rsp:Stream")
		if err != nil {
			return nil, err
		}
		s.Streams = append(s.Streams, Stream{Name: strings.TrimSpace(name), CommandID: strings.TrimSpace(cmd), End: isEnd, Data: data})
	}
	return s, nil
}

func decodeReceive(n *node) *Receive {
	r := &Receive{}
	for _, ds := range n.children(NsShell, "DesiredStream") {
		r.DesiredStreams = append(r.DesiredStreams, strings.Fields(ds.str())...)
		if cmd, ok := ds.attr("CommandId"); ok && r.CommandID == "" {
			r.CommandID = strings.TrimSpace(cmd)
		}
	}
	return r
}

func decodeDisconnect(n *node) (*Disconnect, *DecodeError) {
	d := &Disconnect{BufferMode: n.child(NsShell, "BufferMode").trimmed()}
	var err *DecodeError
	if d.IdleTimeout, err = optionalDuration(n.childFold(NsShell, "IdleTimeOut"), "rsp:IdleTimeOut"); err != nil {
		return nil, err
	}
	return d, nil
}

func decodeConnect(n *node) (*Connect, *DecodeError) {
	id, _ := n.attr("CommandId")
	c := &Connect{CommandID: strings.TrimSpace(id)}
	if x := n.child(NsPowerShell, "connectXml"); x != nil {
		var err *DecodeError
		if c.ConnectXML, err = decodeBase64(x.text, "connectXml"); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func decodeEnumerate(n *node) (*Enumerate, *DecodeError) {
	e := &Enumerate{OptimizeEnumeration: n.child(NsWSMan, "OptimizeEnumeration") != nil}
	if m := n.child(NsWSMan, "MaxElements"); m != nil {
		v, err := strconv.Atoi(m.trimmed())
		if err != nil || v < 0 {
			return nil, &DecodeError{Kind: KindMalformed, Detail: "invalid wsman:MaxElements " + strconv.Quote(clip(m.trimmed())), Err: err}
		}
		e.MaxElements = v
	}
	if f := n.child(NsWSMan, "Filter"); f != nil {
		e.FilterDialect, _ = f.attr("Dialect")
		e.Selectors = selectors(f.child(NsWSMan, "SelectorSet"))
	}
	return e, nil
}

// decodeBase64 decodes standard base64, ignoring white space (line breaks
// some encoders insert).
func decodeBase64(text []byte, what string) ([]byte, *DecodeError) {
	src := text
	if bytes.ContainsAny(src, " \t\r\n") {
		src = bytes.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, src)
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(src)))
	n, err := base64.StdEncoding.Decode(out, src)
	if err != nil {
		return nil, &DecodeError{Kind: KindMalformed, Detail: "invalid base64 in " + what, Err: err}
	}
	return out[:n], nil
}

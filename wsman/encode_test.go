package wsman

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the encoders")

const (
	reqID  = "uuid:FC40E3CD-53E9-4315-B486-6D538B25D1F5"
	respID = "uuid:2131383B-EFAE-46DE-92BB-343BE18B7EAD"
	cmdID  = "CF84C20A-0A35-43FA-AF78-0B4711DA5F30"
)

// goldenCase is one encoder output kept under testdata/golden.
type goldenCase struct {
	name string
	out  []byte
}

func goldenCases() []goldenCase {
	h := func(action string) Header { return Header{Action: action, MessageID: respID, RelatesTo: reqID} }
	cmdShell := ShellInfo{ShellID: "4283CBDC-3706-415B-88BD-B385F3E51A53", ResourceURI: ResourceCmd, Owner: "alice@contoso.example",
		ClientIP: "192.0.2.10", IdleTimeout: 2 * time.Hour, InputStreams: []string{"stdin"}, OutputStreams: []string{"stdout", "stderr"},
		Environment: []KV{{Key: "PATH", Value: `C:\bin`}}, WorkingDirectory: `C:\Temp`}
	psShell := ShellInfo{ShellID: testRPID, Name: "WinRM1", ResourceURI: PowerShellResourcePrefix + "Microsoft.Exchange", Owner: "alice@contoso.example",
		ClientIP: "192.0.2.10", IdleTimeout: 7200 * time.Second, InputStreams: []string{"stdin", "pr"}, OutputStreams: []string{"stdout"},
		PowerShell: true, MaxIdleTimeout: 43200 * time.Second, ShellRunTime: 3723 * time.Second, ShellInactivity: 61 * time.Second}
	disconnected := psShell
	disconnected.ShellID, disconnected.State, disconnected.MemoryUsedMB = "01AA3E43-9E21-424B-A7FC-BC16AA34F4CE", "Disconnected", 12
	return []goldenCase{
		{"create-cmd", EncodeCreateResponse(Header{MessageID: respID, RelatesTo: reqID}, "https://gw.example.test/wsman", cmdShell)},
		{"create-psrp", EncodeCreateResponse(Header{MessageID: respID, RelatesTo: reqID}, "https://gw.example.test/powershell", psShell)},
		{"command", EncodeCommandResponse(Header{MessageID: respID, RelatesTo: reqID}, cmdID)},
		{"receive-winrs-done", EncodeReceiveResponse(Header{MessageID: respID, RelatesTo: reqID}, ReceiveResult{
			Streams: []OutStream{
				{Name: "stdout", CommandID: cmdID, Data: []byte("hi\r\n")},
				{Name: "stdout", CommandID: cmdID, End: true},
				{Name: "stderr", CommandID: cmdID, End: true},
			},
			State: &CommandState{CommandID: cmdID, State: StateDone, ExitCode: intPtr(3)},
		})},
		{"receive-winrs-done-no-exitcode", EncodeReceiveResponse(Header{MessageID: respID, RelatesTo: reqID}, ReceiveResult{
			State: &CommandState{CommandID: cmdID, State: "Done"},
		})},
		{"receive-winrs-running", EncodeReceiveResponse(Header{MessageID: respID, RelatesTo: reqID}, ReceiveResult{
			Streams: []OutStream{{Name: "stderr", CommandID: cmdID, Data: []byte("oops\n")}},
			State:   &CommandState{CommandID: cmdID, State: StateRunning},
		})},
		{"receive-psrp-pool", EncodeReceiveResponse(Header{MessageID: respID, RelatesTo: reqID}, ReceiveResult{
			Streams: []OutStream{{Name: "stdout", Data: []byte{0, 0, 0, 0, 0, 0, 0, 1}}, {Name: "stdout", Data: []byte{0, 0, 0, 0, 0, 0, 0, 2}}},
		})},
		{"send", EncodeEmptyResponse(h(ActionSendResponse), BodySendResponse)},
		{"signal", EncodeEmptyResponse(h(ActionSignalResponse), BodySignalResponse)},
		{"delete", EncodeEmptyResponse(h(ActionDeleteResponse), BodyNone)},
		{"disconnect", EncodeEmptyResponse(h(ActionDisconnectResponse), BodyNone)},
		{"reconnect", EncodeEmptyResponse(h(ActionReconnectResponse), BodyNone)},
		{"connect-pool", EncodeConnectResponse(Header{MessageID: respID, RelatesTo: reqID}, []byte("server capability and init data"))},
		{"connect-command", EncodeConnectResponse(Header{MessageID: respID, RelatesTo: reqID}, nil)},
		{"enumerate-shells", EncodeEnumerateShells(Header{MessageID: respID, RelatesTo: reqID}, []ShellInfo{psShell, disconnected})},
		{"enumerate-shells-empty", EncodeEnumerateShells(Header{MessageID: respID, RelatesTo: reqID}, nil)},
		{"enumerate-commands", EncodeEnumerateCommands(Header{MessageID: respID, RelatesTo: reqID}, []CommandInfo{{CommandID: cmdID}, {CommandID: testPID, CommandLine: "Get-Date", State: "Running"}})},
		{"get-shell", EncodeGetShell(Header{MessageID: respID, RelatesTo: reqID}, disconnected)},
		{"config", EncodeConfig(Header{MessageID: respID, RelatesTo: reqID}, ConfigInfo{MaxEnvelopeSizeKB: 500, MaxTimeoutMS: 60000, MaxBatchItems: 32000,
			IdleTimeoutMS: 7200000, MaxShellsPerUser: 5, MaxConcurrentUsers: 100})},
		{"config-minimal", EncodeConfig(Header{MessageID: respID, RelatesTo: reqID}, ConfigInfo{MaxEnvelopeSizeKB: 500})},
		{"identify", EncodeIdentifyResponse(IdentifyInfo{ProductVendor: "psgate", ProductVersion: "OS: 0.0.0 SP: 0.0 Stack: 3.0"})},
		{"identify-authenticated", EncodeIdentifyResponse(IdentifyInfo{ProductVendor: "psgate", ProductVersion: "OS: 0.0.0 SP: 0.0 Stack: 3.0",
			SecurityProfiles: []string{"http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/basic"}})},
		{"fault-timeout", EncodeFault(Header{MessageID: respID, RelatesTo: reqID}, Fault{Code: "s:Receiver", Subcode: "w:TimedOut",
			WSManCode: 2150858793, Reason: "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "})},
		{"fault-invalid-selectors", EncodeFault(Header{MessageID: respID, RelatesTo: reqID}, Fault{Code: "s:Sender", Subcode: "w:InvalidSelectors",
			WSManCode: 2150858843, Machine: "gw.example.test", FaultDetail: "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors",
			Reason: "The request for the Windows Remote Shell with ShellId 0000 failed because the shell was not found on the server. ", ErrorCode: "wsman.shell-not-found"})},
		{"fault-quota", EncodeFault(Header{MessageID: respID, RelatesTo: reqID}, Fault{Code: "s:Sender", Subcode: "w:QuotaLimit",
			WSManCode: 2150859173, Reason: "[admission.user-quota-exceeded] The maximum number of concurrent shells for this user has been exceeded.",
			ErrorCode: "admission.user-quota-exceeded", Data: []KV{{Key: "limit", Value: "3"}, {Key: "current", Value: "3"}}})},
		{"fault-no-request-id", EncodeFault(Header{MessageID: respID}, Fault{Code: "s:Sender", Subcode: "a:MessageInformationHeaderRequired",
			WSManCode: 2150858800, Reason: "no wsa:MessageID header"})},
		{"fault-escaping", EncodeFault(Header{MessageID: respID, RelatesTo: `uuid:<&>"'` + "\r"}, Fault{Code: "s:Receiver", Subcode: "w:InternalError",
			WSManCode: 1, Machine: `a"b<c>`, Reason: "bad <input> & \"quotes\"\x00\r\n\xff", ErrorCode: `x"y`, Data: []KV{{Key: "k<", Value: "v&"}}})},
	}
}

func TestEncodeGolden(t *testing.T) {
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join("testdata", "golden", c.name+".xml")
			if *update {
				if err := os.WriteFile(path, c.out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want := readFile(t, path)
			if !bytes.Equal(c.out, want) {
				t.Errorf("output differs from %s (run go test -run TestEncodeGolden -update to accept)\n got: %s\nwant: %s", path, c.out, want)
			}
			if err := wellFormed(c.out); err != nil {
				t.Errorf("not well-formed XML: %v", err)
			}
		})
	}
}

// wellFormed parses b with encoding/xml in strict mode.
func wellFormed(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// elem is a namespace-resolved element, queried the way the clients query
// responses (ElementTree paths, XPath, tag suffixes).
type elem struct {
	space, local string
	attr         map[string]string // unqualified attributes
	text         string
	kids         []*elem
}

func parseElem(t *testing.T, b []byte) *elem {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	var stack []*elem
	var root *elem
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("response is not XML: %v\n%s", err, b)
		}
		switch v := tok.(type) {
		case xml.StartElement:
			e := &elem{space: v.Name.Space, local: v.Name.Local, attr: map[string]string{}}
			for _, a := range v.Attr {
				if a.Name.Space == "" {
					e.attr[a.Name.Local] = a.Value
				}
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, e)
			} else {
				root = e
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(v)
			}
		}
	}
	return root
}

// find follows a path of {namespace, local} steps from e, like
// ElementTree's find.
func (e *elem) find(path ...[2]string) *elem {
	cur := e
	for _, step := range path {
		var next *elem
		for _, k := range cur.kids {
			if k.space == step[0] && k.local == step[1] {
				next = k
				break
			}
		}
		if next == nil {
			return nil
		}
		cur = next
	}
	return cur
}

// all returns every descendant, like ElementTree's findall('.//*').
func (e *elem) all() []*elem {
	var out []*elem
	for _, k := range e.kids {
		out = append(out, k)
		out = append(out, k.all()...)
	}
	return out
}

func q(space, local string) [2]string { return [2]string{space, local} }

// TestResponsesReadByClients checks each golden response the way the named
// clients read it.
func TestResponsesReadByClients(t *testing.T) {
	for _, c := range goldenCases() {
		root := parseElem(t, c.out)
		if root.space != NsSOAP || root.local != "Envelope" {
			t.Fatalf("%s: root is {%s}%s", c.name, root.space, root.local)
		}
		if strings.HasPrefix(c.name, "identify") {
			continue
		}
		// pypsrp compares RelatesTo with its own MessageID; pywinrm finds
		// the first element whose tag ends with RelatesTo.
		rel := root.find(q(NsSOAP, "Header"), q(NsAddressing, "RelatesTo"))
		if c.name == "fault-no-request-id" {
			if rel != nil {
				t.Errorf("%s: RelatesTo present without a request id", c.name)
			}
			continue
		}
		want := reqID
		if c.name == "fault-escaping" {
			want = `uuid:<&>"'` + "\r"
		}
		if rel == nil || rel.text != want {
			t.Errorf("%s: RelatesTo = %v, want %q", c.name, rel, want)
		}
		if to := root.find(q(NsSOAP, "Header"), q(NsAddressing, "To")); to == nil || to.text != AddressAnonymous {
			t.Errorf("%s: a:To is not the anonymous role", c.name)
		}
		if id := root.find(q(NsSOAP, "Header"), q(NsAddressing, "MessageID")); id == nil || id.text != respID {
			t.Errorf("%s: MessageID = %v", c.name, id)
		}
	}

	byName := map[string][]byte{}
	for _, c := range goldenCases() {
		byName[c.name] = c.out
	}
	t.Run("create: every client finds ShellId", func(t *testing.T) {
		for _, name := range []string{"create-cmd", "create-psrp"} {
			root := parseElem(t, byName[name])
			// pywinrm: first node anywhere with Name == "ShellId".
			var pywinrm string
			for _, n := range root.all() {
				if n.attr["Name"] == "ShellId" {
					pywinrm = n.text
					break
				}
			}
			// pypsrp: wst:ResourceCreated/wsa:ReferenceParameters/wsman:SelectorSet.
			sel := root.find(q(NsSOAP, "Body"), q(NsTransfer, "ResourceCreated"), q(NsAddressing, "ReferenceParameters"), q(NsWSMan, "SelectorSet"), q(NsWSMan, "Selector"))
			if sel == nil || sel.attr["Name"] != "ShellId" || sel.text == "" || pywinrm != sel.text {
				t.Errorf("%s: selector %+v, pywinrm saw %q", name, sel, pywinrm)
			}
			// PowerShell parses IdleTimeOut and MaxIdleTimeOut as PT<s>.<3 digits>S.
			shell := root.find(q(NsSOAP, "Body"), q(NsShell, "Shell"))
			for _, k := range shell.kids {
				if k.local == "IdleTimeOut" || k.local == "MaxIdleTimeOut" {
					if !psDuration(k.text) {
						t.Errorf("%s: %s = %q, not PT<seconds>.<3 digits>S", name, k.local, k.text)
					}
				}
			}
		}
	})
	t.Run("command: CommandId", func(t *testing.T) {
		root := parseElem(t, byName["command"])
		// pywinrm: first element whose tag ends with CommandId.
		for _, n := range root.all() {
			if strings.HasSuffix(n.local, "CommandId") {
				if n.text != cmdID {
					t.Errorf("CommandId = %q", n.text)
				}
				return
			}
		}
		t.Error("no CommandId element")
	})
	t.Run("receive: pywinrm stream and exit code rules", func(t *testing.T) {
		for _, name := range []string{"receive-winrs-done", "receive-winrs-done-no-exitcode", "receive-winrs-running", "receive-psrp-pool"} {
			root := parseElem(t, byName[name])
			done := 0
			for _, n := range root.all() {
				if strings.HasSuffix(n.local, "Stream") {
					if n.space != NsShell || n.local != "Stream" {
						t.Errorf("%s: element {%s}%s ends with Stream", name, n.space, n.local)
					}
					if _, ok := n.attr["Name"]; !ok {
						t.Errorf("%s: rsp:Stream without Name", name)
					}
				}
				if strings.HasSuffix(n.attr["State"], "CommandState/Done") {
					done++
					ec := n.find(q(NsShell, "ExitCode"))
					if ec == nil {
						t.Errorf("%s: CommandState Done without rsp:ExitCode", name)
					} else if _, err := strconv.Atoi(ec.text); err != nil {
						t.Errorf("%s: ExitCode %q", name, ec.text)
					}
				}
			}
			if wantDone := strings.Contains(name, "done"); (done == 1) != wantDone {
				t.Errorf("%s: %d Done states", name, done)
			}
		}
	})
	t.Run("faults: pywinrm, pypsrp and go-psrp fields", func(t *testing.T) {
		for _, name := range []string{"fault-timeout", "fault-invalid-selectors", "fault-quota", "fault-escaping", "fault-no-request-id"} {
			root := parseElem(t, byName[name])
			fault := root.find(q(NsSOAP, "Body"), q(NsSOAP, "Fault"))
			if fault == nil {
				t.Fatalf("%s: no s:Fault", name)
			}
			wf := fault.find(q(NsSOAP, "Detail"), q(NsWSManFault, "WSManFault"))
			if wf == nil {
				t.Fatalf("%s: no Detail/WSManFault", name)
			}
			if _, err := strconv.ParseUint(wf.attr["Code"], 10, 32); err != nil {
				t.Errorf("%s: WSManFault Code %q is not decimal", name, wf.attr["Code"])
			}
			if _, ok := wf.attr["Machine"]; !ok {
				t.Errorf("%s: WSManFault without Machine", name)
			}
			reason := fault.find(q(NsSOAP, "Reason"), q(NsSOAP, "Text"))
			msg := wf.find(q(NsWSManFault, "Message"))
			if reason == nil || msg == nil || reason.text == "" || reason.text != msg.text {
				t.Errorf("%s: Reason %v and f:Message %v differ", name, reason, msg)
			}
			if fault.find(q(NsSOAP, "Code"), q(NsSOAP, "Value")) == nil {
				t.Errorf("%s: no s:Code/s:Value", name)
			}
			if act := root.find(q(NsSOAP, "Header"), q(NsAddressing, "Action")); act == nil || act.text != ActionFault {
				t.Errorf("%s: action %v", name, act)
			}
		}
		// masterzen retries only when the error text contains OperationTimeout.
		if !bytes.Contains(byName["fault-timeout"], []byte("OperationTimeout")) {
			t.Error("timeout fault text lacks OperationTimeout")
		}
		if !bytes.Contains(byName["fault-timeout"], []byte(`Code="2150858793"`)) {
			t.Error(`timeout fault lacks Code="2150858793" (pywinrm's string compare)`)
		}
	})
	t.Run("enumerate: pypsrp reads Items/Shell/ShellId", func(t *testing.T) {
		root := parseElem(t, byName["enumerate-shells"])
		items := root.find(q(NsSOAP, "Body"), q(NsEnumeration, "EnumerateResponse"), q(NsWSMan, "Items"))
		if items == nil || len(items.kids) != 2 {
			t.Fatalf("items = %+v", items)
		}
		for _, s := range items.kids {
			if s.find(q(NsShell, "ShellId")) == nil || s.find(q(NsShell, "State")) == nil {
				t.Errorf("shell item without ShellId or State: %+v", s)
			}
		}
		if root.find(q(NsSOAP, "Body"), q(NsEnumeration, "EnumerateResponse"), q(NsWSMan, "EndOfSequence")) == nil {
			t.Error("no EndOfSequence")
		}
	})
	t.Run("config: pypsrp reads MaxEnvelopeSizekb", func(t *testing.T) {
		root := parseElem(t, byName["config"])
		v := root.find(q(NsSOAP, "Body"), q(NsConfig, "Config"), q(NsConfig, "MaxEnvelopeSizekb"))
		if v == nil || v.text != "500" {
			t.Errorf("MaxEnvelopeSizekb = %+v", v)
		}
	})
}

// psDuration reports whether s has the only shape PowerShell's client
// parses: PT<digits>.<3 digits>S.
func psDuration(s string) bool {
	if !strings.HasPrefix(s, "PT") || !strings.HasSuffix(s, "S") {
		return false
	}
	whole, frac, ok := strings.Cut(s[2:len(s)-1], ".")
	if !ok || len(frac) != 3 || whole == "" {
		return false
	}
	_, err1 := strconv.ParseUint(whole, 10, 64)
	_, err2 := strconv.ParseUint(frac, 10, 64)
	return err1 == nil && err2 == nil
}

func TestEncodeEmptyResponseRejectsMarkup(t *testing.T) {
	got := EncodeEmptyResponse(Header{Action: ActionSendResponse, MessageID: respID, RelatesTo: reqID}, `x/><evil`)
	if bytes.Contains(got, []byte("evil")) {
		t.Errorf("body element was injected: %s", got)
	}
	if err := wellFormed(got); err != nil {
		t.Error(err)
	}
}

// The Append functions write exactly what the Encode functions return,
// after whatever the buffer already holds.
func TestAppendMatchesEncode(t *testing.T) {
	h := Header{MessageID: respID, RelatesTo: reqID}
	r := ReceiveResult{
		Streams: []OutStream{{Name: "stdout", CommandID: cmdID, Data: []byte("out")}, {Name: "stdout", CommandID: cmdID, End: true}},
		State:   &CommandState{CommandID: cmdID, State: "Done"},
	}
	prefix := []byte("reused buffer")
	for _, tt := range []struct {
		name           string
		encode, append []byte
	}{
		{"receive", EncodeReceiveResponse(h, r), AppendReceiveResponse(prefix, h, r)},
		{"command", EncodeCommandResponse(h, cmdID), AppendCommandResponse(prefix, h, cmdID)},
		{"send", EncodeEmptyResponse(h, BodySendResponse), AppendEmptyResponse(prefix, h, BodySendResponse)},
		{"delete", EncodeEmptyResponse(Header{Action: ActionDeleteResponse}, BodyNone), AppendEmptyResponse(prefix, Header{Action: ActionDeleteResponse}, BodyNone)},
	} {
		if got, want := string(tt.append), string(prefix)+string(tt.encode); got != want {
			t.Errorf("%s: Append wrote\n%s\nwant\n%s", tt.name, got, want)
		}
	}
}

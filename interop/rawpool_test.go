package interop

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/xpress"
)

// rawPool is a PSRP client on raw WS-Man requests shaped as Windows
// PowerShell's WinRM client sends them (one p:SessionId per client, xpress
// compression, envelope size 512000 unless a test shrinks it), for the
// tests of Disconnect/Connect and Import-PSSession. It is a test stand-in;
// the server under test is real.
type rawPool struct {
	t        *testing.T
	url      string
	user, pw string
	session  string
	hc       *http.Client
	compress bool
	objectID uint64
	shellID  string
	rpid     psrp.GUID
	pool     psrp.Reassembler
	// maxEnvelope is the w:MaxEnvelopeSize of Receives.
	maxEnvelope int
}

const (
	rawResource = "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"
	rawActions  = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/"
	rawKeepOpt  = `<w:OptionSet><w:Option Name="WSMAN_CMDSHELL_OPTION_KEEPALIVE">TRUE</w:Option></w:OptionSet>`
)

func rawGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

func rawPID(t testing.TB) psrp.GUID {
	g, err := psrp.ParseGUID(rawGUID())
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// newRawPool is a new client process (its own WinRM session) posting to
// base, the server's /wsman URL.
func newRawPool(t *testing.T, base, user, pw string) *rawPool {
	return &rawPool{
		t: t, url: strings.Replace(base, "/wsman", "/powershell", 1), user: user, pw: pw,
		session:     "uuid:" + rawGUID(),
		hc:          &http.Client{Timeout: 90 * time.Second},
		compress:    true,
		maxEnvelope: 512000,
	}
}

func (c *rawPool) envelope(action, resource string, withShell bool, maxEnv int, extra, body string) string {
	var h strings.Builder
	h.WriteString(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><s:Header>`)
	h.WriteString(`<a:To>` + c.url + `</a:To><w:ResourceURI s:mustUnderstand="true">` + resource + `</w:ResourceURI>`)
	h.WriteString(`<a:ReplyTo><a:Address s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>`)
	h.WriteString(`<a:Action s:mustUnderstand="true">` + action + `</a:Action>`)
	h.WriteString(`<w:MaxEnvelopeSize s:mustUnderstand="true">` + strconv.Itoa(maxEnv) + `</w:MaxEnvelopeSize>`)
	h.WriteString(`<a:MessageID>uuid:` + rawGUID() + `</a:MessageID><w:Locale xml:lang="en-US" s:mustUnderstand="false" />`)
	h.WriteString(`<p:SessionId s:mustUnderstand="false">` + c.session + `</p:SessionId>`)
	if withShell {
		h.WriteString(`<w:SelectorSet><w:Selector Name="ShellId">` + c.shellID + `</w:Selector></w:SelectorSet>`)
	}
	h.WriteString(extra + `<w:OperationTimeout>PT180.000S</w:OperationTimeout></s:Header><s:Body>` + body + `</s:Body></s:Envelope>`)
	return h.String()
}

// do posts env; a cancelled ctx abandons the request.
func (c *rawPool) do(ctx context.Context, env string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, strings.NewReader(env))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	req.Header.Set("User-Agent", "Microsoft WinRM Client")
	req.SetBasicAuth(c.user, c.pw)
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// post sends a request and fails the test unless it succeeds.
func (c *rawPool) post(what, action, resource string, withShell bool, extra, body string) string {
	c.t.Helper()
	code, resp, err := c.do(context.Background(), c.envelope(action, resource, withShell, 512000, extra, body))
	if err != nil || code != http.StatusOK {
		c.t.Fatalf("%s: HTTP %d %v\n%s", what, code, err, resp)
	}
	return resp
}

func (c *rawPool) message(t psrp.MessageType, pid psrp.GUID, data string) psrp.Message {
	return psrp.Message{Destination: psrp.DestinationServer, Type: t, RPID: c.rpid, PID: pid, Data: []byte(data)}
}

func (c *rawPool) fragments(msgs ...psrp.Message) []byte {
	var out []byte
	for _, m := range msgs {
		c.objectID++
		out = append(out, psrp.EncodeFragments(c.objectID, m, 32<<10)...)
	}
	return out
}

// open is New-PSSession: Create, then shell Receives until the pool is
// open. It returns the opening messages.
func (c *rawPool) open(name string) []psrp.Message {
	c.t.Helper()
	c.shellID = rawGUID()
	rpid, err := psrp.ParseGUID(c.shellID)
	if err != nil {
		c.t.Fatal(err)
	}
	c.rpid = rpid
	init, err := psrp.NewInitRunspacePool(rpid, 1, 1)
	if err != nil {
		c.t.Fatal(err)
	}
	creation := c.fragments(psrp.NewClientSessionCapability(rpid), init)
	opts := `<w:OptionSet s:mustUnderstand="true"><w:Option Name="protocolversion" MustComply="true">2.3</w:Option></w:OptionSet>`
	if c.compress {
		opts += `<rsp:CompressionType s:mustUnderstand="true">xpress</rsp:CompressionType>`
	}
	c.post("Create", "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create", rawResource, false, opts,
		`<rsp:Shell ShellId="`+c.shellID+`" Name="`+name+`"><rsp:InputStreams>stdin pr</rsp:InputStreams><rsp:OutputStreams>stdout</rsp:OutputStreams>`+
			`<creationXml xmlns="http://schemas.microsoft.com/powershell">`+base64.StdEncoding.EncodeToString(creation)+`</creationXml></rsp:Shell>`)
	c.t.Cleanup(func() {
		_, _, _ = c.do(context.Background(), c.envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete", rawResource, true, 512000, "", ""))
	})
	return c.receivePool(3)
}

var (
	rawStream  = regexp.MustCompile(`<rsp:Stream\b([^>]*)>([^<]*)</rsp:Stream>`)
	rawState   = regexp.MustCompile(`<rsp:CommandState\b[^>]*State="([^"]*)"`)
	rawTimeout = "2150858793"
)

// streams returns the decoded stream data of a ReceiveResponse.
func (c *rawPool) streams(body string) [][]byte {
	c.t.Helper()
	var out [][]byte
	for _, m := range rawStream.FindAllStringSubmatch(body, -1) {
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(m[2]))
		if err != nil {
			c.t.Fatalf("stream is not base64: %v", err)
		}
		if c.compress && len(data) > 0 {
			if data, err = xpress.Unframe(data, 16<<20); err != nil {
				c.t.Fatalf("stream is not xpress-framed: %v", err)
			}
		}
		out = append(out, data)
	}
	return out
}

// receivePool reads shell-level Receives until want messages arrived.
func (c *rawPool) receivePool(want int) []psrp.Message {
	c.t.Helper()
	var got []psrp.Message
	for deadline := time.Now().Add(30 * time.Second); len(got) < want; {
		if time.Now().After(deadline) {
			c.t.Fatalf("pool Receive: %d messages, want %d", len(got), want)
		}
		code, body, err := c.do(context.Background(), c.envelope(rawActions+"Receive", rawResource, true, 512000, rawKeepOpt,
			`<rsp:Receive><rsp:DesiredStream>stdout</rsp:DesiredStream></rsp:Receive>`))
		if err == nil && code == http.StatusInternalServerError && strings.Contains(body, rawTimeout) {
			continue
		}
		if err != nil || code != http.StatusOK {
			c.t.Fatalf("pool Receive: HTTP %d %v\n%s", code, err, body)
		}
		for _, data := range c.streams(body) {
			msgs, err := c.pool.Write(data)
			if err != nil {
				c.t.Fatalf("pool Receive: %v", err)
			}
			got = append(got, msgs...)
		}
	}
	return got
}

// command starts a pipeline: Command with the message in Arguments.
func (c *rawPool) command(pid psrp.GUID, m psrp.Message) {
	c.t.Helper()
	c.post("Command", rawActions+"Command", rawResource, true, "",
		`<rsp:CommandLine CommandId="`+strings.ToUpper(pid.String())+`"><rsp:Command></rsp:Command><rsp:Arguments>`+
			base64.StdEncoding.EncodeToString(c.fragments(m))+`</rsp:Arguments></rsp:CommandLine>`)
}

func (c *rawPool) receiveEnvelope(pid psrp.GUID) string {
	return c.envelope(rawActions+"Receive", rawResource, true, c.maxEnvelope, rawKeepOpt,
		`<rsp:Receive><rsp:DesiredStream CommandId="`+strings.ToUpper(pid.String())+`">stdout</rsp:DesiredStream></rsp:Receive>`)
}

// rawReceipt is what one command Receive brought.
type rawReceipt struct {
	msgs  []psrp.Message
	state string // the CommandState, "" when the response had none
}

// parseReceive decodes a command ReceiveResponse with the command's
// reassembler.
func (c *rawPool) parseReceive(in *psrp.Reassembler, body string) rawReceipt {
	c.t.Helper()
	var r rawReceipt
	for _, data := range c.streams(body) {
		msgs, err := in.Write(data)
		if err != nil {
			c.t.Fatalf("command Receive: %v", err)
		}
		r.msgs = append(r.msgs, msgs...)
	}
	if m := rawState.FindStringSubmatch(body); m != nil {
		r.state = m[1][strings.LastIndex(m[1], "/")+1:]
	}
	return r
}

// receive is one command Receive; a TimedOut fault comes back as an empty
// receipt.
func (c *rawPool) receive(in *psrp.Reassembler, pid psrp.GUID) rawReceipt {
	c.t.Helper()
	code, body, err := c.do(context.Background(), c.receiveEnvelope(pid))
	if err == nil && code == http.StatusInternalServerError && strings.Contains(body, rawTimeout) {
		return rawReceipt{}
	}
	if err != nil || code != http.StatusOK {
		c.t.Fatalf("command Receive: HTTP %d %v\n%s", code, err, body)
	}
	return c.parseReceive(in, body)
}

func (c *rawPool) signalTerminate(pid psrp.GUID) {
	c.t.Helper()
	c.post("Signal", rawActions+"Signal", rawResource, true, "",
		`<rsp:Signal CommandId="`+strings.ToUpper(pid.String())+`"><rsp:Code>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate</rsp:Code></rsp:Signal>`)
}

// run runs one pipeline to completion and returns its messages.
func (c *rawPool) run(m psrp.Message) []psrp.Message {
	c.t.Helper()
	c.command(m.PID, m)
	var in psrp.Reassembler
	var msgs []psrp.Message
	for deadline := time.Now().Add(30 * time.Second); ; {
		if time.Now().After(deadline) {
			c.t.Fatalf("no CommandState Done: %v", msgs)
		}
		r := c.receive(&in, m.PID)
		msgs = append(msgs, r.msgs...)
		if r.state == "Done" {
			break
		}
	}
	c.signalTerminate(m.PID)
	return msgs
}

// rawPipeline is CREATE_PIPELINE for statements of plain commands.
func (c *rawPool) pipeline(pid psrp.GUID, statements ...[]psrp.Command) psrp.Message {
	c.t.Helper()
	ps := psrp.PowerShell{Commands: statements[0]}
	if len(statements) > 1 {
		ps.ExtraCommands = statements
	}
	m, err := psrp.NewCreatePipeline(c.rpid, pid, psrp.CreatePipeline{NoInput: true, RemoteStreamOptions: 15, PowerShell: ps})
	if err != nil {
		c.t.Fatal(err)
	}
	return m
}

// commandMetadata is GET_COMMAND_METADATA as Windows PowerShell builds it
// (RemotingEncoder.GenerateGetCommandMetadata): names, a CommandTypes enum,
// an empty Namespace and a Nil ArgumentList.
func (c *rawPool) commandMetadata(pid psrp.GUID, commandType int, names ...string) psrp.Message {
	var list strings.Builder
	for _, n := range names {
		list.WriteString(`<S>` + n + `</S>`)
	}
	data := `<Obj RefId="0"><MS>` +
		`<Obj N="Name" RefId="1"><TN RefId="0"><T>System.String[]</T><T>System.Array</T><T>System.Object</T></TN><LST>` + list.String() + `</LST></Obj>` +
		`<Obj N="CommandType" RefId="2"><TN RefId="1"><T>System.Management.Automation.CommandTypes</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN>` +
		`<ToString>` + strconv.Itoa(commandType) + `</ToString><I32>` + strconv.Itoa(commandType) + `</I32></Obj>` +
		`<Obj N="Namespace" RefId="3"><TNRef RefId="0" /><LST /></Obj><Nil N="ArgumentList" /></MS></Obj>`
	return c.message(psrp.MsgGetCommandMetadata, pid, data)
}

// rawDecode returns a message's CLIXML value.
func rawDecode(t testing.TB, m psrp.Message) any {
	t.Helper()
	v, err := clixml.Unmarshal(m.Data, clixml.Limits{})
	if err != nil {
		t.Fatalf("%v: %v\n%s", m.Type, err, m.Data)
	}
	return v
}

// rawOfType returns the messages of type typ.
func rawOfType(msgs []psrp.Message, typ psrp.MessageType) []psrp.Message {
	var out []psrp.Message
	for _, m := range msgs {
		if m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

// rawPathGet is PSPrimitiveDictionary.TryPathGet: the value at a chain of
// keys (compared case-insensitively, as a Hashtable does) in nested
// dictionaries.
func rawPathGet(d *psobject.Dict, keys ...string) (any, bool) {
	for i, key := range keys {
		var v any
		found := false
		for _, en := range d.Entries {
			if k, ok := en.Key.(string); ok && strings.EqualFold(k, key) {
				v, found = en.Value, true
				break
			}
		}
		if !found {
			return nil, false
		}
		if i == len(keys)-1 {
			return v, true
		}
		if d, found = v.(*psobject.Dict); !found {
			return nil, false
		}
	}
	return nil, false
}

// rawSkipList reads ImplicitRemoting.CommandsToSkip from an
// APPLICATION_PRIVATE_DATA message as Import-PSSession does
// (CommandSkipListFromServer): ok is false when the server sent none.
func rawSkipList(t testing.TB, m psrp.Message) (skip []string, ok bool) {
	t.Helper()
	o, isObj := rawDecode(t, m).(*psobject.Object)
	if !isObj {
		t.Fatalf("APPLICATION_PRIVATE_DATA is not an object: %s", m.Data)
	}
	v, _ := o.Get("ApplicationPrivateData")
	apd, isDict := v.(*psobject.Dict)
	if !isDict {
		t.Fatalf("ApplicationPrivateData is %T", v)
	}
	list, ok := rawPathGet(apd, "ImplicitRemoting", "CommandsToSkip")
	if !ok {
		return nil, false
	}
	items, isList := list.([]any)
	if !isList {
		t.Fatalf("CommandsToSkip is %T, not a string[]", list)
	}
	for _, it := range items {
		s, isStr := it.(string)
		if !isStr {
			t.Fatalf("CommandsToSkip holds %#v", it)
		}
		skip = append(skip, s)
	}
	return skip, true
}

package interop

// Windows PowerShell 5.1 against psgate's PSRP endpoint.
//
// No Windows machine can run here, so winpsClient STANDS IN for Windows
// PowerShell: it writes the HTTP requests, WS-Management envelopes and
// PSRP messages that Windows PowerShell 5.1.17763.771 sends for
// New-PSSession, Invoke-Command, Enter-PSSession, Import-PSSession,
// Disconnect-PSSession and Connect-PSSession, and reads the answers the way
// that client does. The server is the real one (startServer).
//
// Every rule the stand-in follows cites the line of the client's source it
// comes from, in a comment beside the rule:
//   - [PS51] github.com/PowerShell/PowerShell at tag SD/725290 (the Windows
//     PowerShell 5.1 sources); paths are under src/System.Management.Automation
//     unless they name another project;
//   - [cap] the verbatim Create request of Windows PowerShell 5.1.17763.771
//     kept in jborean93/pypsrp pypsrp/wsman.py (commit 1df6223d, l.703), our
//     fixture testdata/winps/create-5.1.17763.771.xml;
//   - [WSMV] MS-WSMV, for what the WinRM client (wsmsvc, not PowerShell)
//     adds.
// The research notes are shared/research/winps-client.md. What the stand-in
// cannot know (how WinRM itself behaves on Disconnect, for example) is said
// where it matters.
//
// Where the real client would refuse the server (negotiation, a probe that
// returns too little, metadata it cannot rehydrate), the model fails the
// test with the client's reason.

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/wsman"
	"github.com/psgate/psgate/xpress"
)

// The client of [cap]: PSVersionInfo.PSVersion goes on the URL ([PS51]
// engine/remoting/fanin/WSManTransportManager.cs l.1397–1437) and into
// INIT_RUNSPACEPOOL; it speaks PSRP 2.3 (RemotingConstants.ProtocolVersion).
const (
	winpsVersion  = "5.1.17763.771"
	winpsProtocol = "2.3"

	actWinCreate     = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
	actWinDelete     = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
	actWinCommand    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command"
	actWinSend       = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send"
	actWinReceive    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive"
	actWinSignal     = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal"
	actWinDisconnect = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Disconnect"
	actWinConnect    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Connect"
	actWinEnumerate  = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate"

	// PowerShell's Stop() sends the typo'd code ([MS-PSRP] §3.1.5.3.8).
	signalCrtlC     = "http://schemas.microsoft.com/powershell/signal/crtl_c"
	signalTerminate = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate"

	winShellResource = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
)

// ---------------------------------------------------------------------------
// A tiny namespace-agnostic XML tree for reading responses by local name.

type xnode struct {
	name  string
	attrs map[string]string
	text  string
	kids  []*xnode
}

func parseXML(t testing.TB, body string) *xnode {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(body))
	root := &xnode{name: "#root"}
	stack := []*xnode{root}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("response is not XML: %v\n%s", err, body)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			n := &xnode{name: x.Name.Local, attrs: map[string]string{}}
			for _, a := range x.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			top := stack[len(stack)-1]
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			stack[len(stack)-1].text += string(x)
		}
	}
	return root
}

// all returns every descendant named name, in document order.
func (n *xnode) all(name string) []*xnode {
	var out []*xnode
	for _, k := range n.kids {
		if k.name == name {
			out = append(out, k)
		}
		out = append(out, k.all(name)...)
	}
	return out
}

// first returns the first descendant named name, or an empty node.
func (n *xnode) first(name string) *xnode {
	if a := n.all(name); len(a) > 0 {
		return a[0]
	}
	return &xnode{attrs: map[string]string{}}
}

// ---------------------------------------------------------------------------
// CLIXML as Windows PowerShell's serializer writes it: RefIds, full type
// name tables, enums as objects with ToString and the underlying I32.

type cx struct{ ref, tn int }

func (x *cx) obj(name, inner string) string {
	n := ""
	if name != "" {
		n = ` N="` + name + `"`
	}
	id := x.ref
	x.ref++
	return fmt.Sprintf(`<Obj%s RefId="%d">%s</Obj>`, n, id, inner)
}

func (x *cx) typeNames(types ...string) string {
	id := x.tn
	x.tn++
	var b strings.Builder
	fmt.Fprintf(&b, `<TN RefId="%d">`, id)
	for _, t := range types {
		b.WriteString("<T>" + xmlEscape(t) + "</T>")
	}
	return b.String() + "</TN>"
}

func (x *cx) enum(name, typ, text string, v int) string {
	return x.obj(name, x.typeNames(typ, "System.Enum", "System.ValueType", "System.Object")+
		"<ToString>"+text+"</ToString><I32>"+strconv.Itoa(v)+"</I32>")
}

func (x *cx) strings(name string, items ...string) string {
	var b strings.Builder
	for _, s := range items {
		b.WriteString("<S>" + xmlEscape(s) + "</S>")
	}
	return x.obj(name, x.typeNames("System.String[]", "System.Array", "System.Object")+"<LST>"+b.String()+"</LST>")
}

func ms(props ...string) string { return "<MS>" + strings.Join(props, "") + "</MS>" }

func xS(name, v string) string { return `<S N="` + name + `">` + xmlEscape(v) + `</S>` }

func xB(name string, v bool) string { return fmt.Sprintf(`<B N="%s">%t</B>`, name, v) }

func xI32(name string, v int) string { return fmt.Sprintf(`<I32 N="%s">%d</I32>`, name, v) }

func xNil(name string) string { return `<Nil N="` + name + `" />` }

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

const psObjectList = "System.Collections.Generic.List`1[[System.Management.Automation.PSObject, System.Management.Automation, Version=3.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35]]"

// command is Command.ToPSObjectForRemoting for protocol 2.3 ([PS51]
// engine/hostifaces/Command.cs l.689–771): Cmd, IsScript, UseLocalScope,
// the V2 merge fields, MergePreviousResults, the five V5 merge
// instructions, then Args, each a CommandParameter {N, V} (Parameter.cs
// l.246–252).
func (x *cx) command(c winCmd) string {
	var args strings.Builder
	for _, a := range c.args {
		n := xNil("N")
		if a.name != "" {
			n = xS("N", a.name)
		}
		args.WriteString(x.obj("", ms(n, a.value(x))))
	}
	uls := xNil("UseLocalScope")
	if c.useLocalScope != nil {
		uls = xB("UseLocalScope", *c.useLocalScope)
	}
	const prt = "System.Management.Automation.Runspaces.PipelineResultTypes"
	e := func(name string, v int) string { return x.enum(name, prt, prtNames[v], v) }
	return x.obj("", ms(
		xS("Cmd", c.cmd),
		xB("IsScript", c.isScript),
		uls,
		e("MergeMyResult", c.mergeMy),
		e("MergeToResult", c.mergeTo),
		e("MergePreviousResults", c.mergePrevious),
		e("MergeError", c.mergeError),
		e("MergeWarning", prtNone),
		e("MergeVerbose", prtNone),
		e("MergeDebug", prtNone),
		e("MergeInformation", prtNone),
		x.obj("Args", x.typeNames(psObjectList, "System.Object")+"<LST>"+args.String()+"</LST>"),
	))
}

// pipelineSpec is what decides a CREATE_PIPELINE besides the commands.
type pipelineSpec struct {
	noInput bool
	// streamOptions is RemoteStreamOptions: AddInvocationInfo (15) when
	// PowerShell.Invoke runs without settings, 0 for a RemotePipeline,
	// whose PSInvocationSettings keep the default ([PS51]
	// engine/hostifaces/PowerShell.cs l.351–357; remoting/client/
	// remotepipeline.cs l.904–908).
	streamOptions int
	addToHistory  bool
	history       string // PowerShell.HistoryString; "" is Nil
	isNested      bool
}

// createPipelineFor writes CREATE_PIPELINE ([PS51] remoting/common/
// WireDataFormat/EncodeAndDecode.cs GenerateCreatePowerShell l.1097–1155):
// PowerShell, NoInput, ApartmentState, RemoteStreamOptions, AddToHistory,
// HostInfo, IsNested. The PowerShell object is PowerShell.
// ToPSObjectForRemoting (PowerShell.cs l.5716–5747). When a command ends a
// statement, InitForRemotePipeline/SetupAsyncBatchExecution (l.837–868,
// l.3466–3497) split the commands at each IsEndOfStatement: ExtraCmds holds
// every statement (the first included) and Cmds only the first.
func createPipelineFor(spec pipelineSpec, cmds []winCmd) string {
	var statements [][]winCmd
	cur := []winCmd{}
	for _, c := range cmds {
		cur = append(cur, c)
		if c.endOfStatement {
			statements = append(statements, cur)
			cur = []winCmd{}
		}
	}
	if len(cur) > 0 || len(statements) == 0 {
		statements = append(statements, cur)
	}
	x := &cx{ref: 1} // RefId 0 is the top object
	list := func(st []winCmd) string {
		var b strings.Builder
		for _, c := range st {
			b.WriteString(x.command(c))
		}
		return x.obj("Cmds", x.typeNames(psObjectList, "System.Object")+"<LST>"+b.String()+"</LST>")
	}
	var ps []string
	if len(statements) > 1 {
		var extra strings.Builder
		for _, st := range statements {
			extra.WriteString(x.obj("", ms(list(st))))
		}
		ps = append(ps, x.obj("ExtraCmds", x.typeNames(psObjectList, "System.Object")+"<LST>"+extra.String()+"</LST>"))
	}
	history := xNil("History")
	if spec.history != "" {
		history = xS("History", spec.history)
	}
	ps = append(ps, list(statements[0]), xB("IsNested", spec.isNested), history, xB("RedirectShellErrorOutputPipe", true))
	streamText := map[int]string{0: "None", 15: "AddInvocationInfo"}[spec.streamOptions]
	body := ms(
		x.obj("PowerShell", ms(ps...)),
		xB("NoInput", spec.noInput),
		x.enum("ApartmentState", "System.Threading.ApartmentState", "Unknown", 2),
		x.enum("RemoteStreamOptions", "System.Management.Automation.RemoteStreamOptions", streamText, spec.streamOptions),
		xB("AddToHistory", spec.addToHistory),
		x.hostInfoNull(),
		xB("IsNested", spec.isNested),
	)
	return `<Obj RefId="0">` + body + `</Obj>`
}

// hostInfoNull is HostInfo(null) with UseRunspaceHost, what every
// CREATE_PIPELINE of these cmdlets carries: their PSInvocationSettings have
// no Host (EncodeAndDecode.cs l.1115–1135), so CheckHostChain marks host, UI
// and RawUI null (remoting/common/WireDataFormat/RemoteSessionCapability.cs
// l.445–456) and RemoteHostEncoder leaves out the null _hostDefaultData
// (RemoteHostEncoder.cs l.63–82). The server then uses the pool's host.
func (x *cx) hostInfoNull() string {
	return x.obj("HostInfo", ms(xB("_isHostNull", true), xB("_isHostUINull", true), xB("_isHostRawUINull", true), xB("_useRunspaceHost", true)))
}

// createPipeline is a PowerShell.Invoke of the given statements (one
// command list each), for the tests that send hand-made argument shapes.
func createPipeline(noInput bool, streamOptions int, statements ...[]winCmd) string {
	var cmds []winCmd
	for i, st := range statements {
		st = append([]winCmd(nil), st...)
		if i < len(statements)-1 {
			st[len(st)-1].endOfStatement = true
		}
		cmds = append(cmds, st...)
	}
	return createPipelineFor(pipelineSpec{noInput: noInput, streamOptions: streamOptions}, cmds)
}

// getCommandMetadata writes GET_COMMAND_METADATA ([MS-PSRP] §2.2.2.14) as
// PowerShell's GenerateGetCommandMetadata does. namespace nil is Nil,
// otherwise a (possibly empty) string[].
func getCommandMetadata(names []string, commandType int, typeText string, namespace []string) string {
	x := &cx{ref: 1}
	ns := xNil("Namespace")
	if namespace != nil {
		ns = x.strings("Namespace", namespace...)
	}
	return `<Obj RefId="0">` + ms(
		x.strings("Name", names...),
		x.enum("CommandType", "System.Management.Automation.CommandTypes", typeText, commandType),
		ns,
		xNil("FullyQualifiedModule"),
		xNil("ArgumentList"),
	) + `</Obj>`
}

// ---------------------------------------------------------------------------
// The client.

// winpsClient plays Windows PowerShell 5.1's WinRM client, since no Windows
// client can run here: one WS-Man session (p:SessionId) on one PSRP shell,
// xpress compression on by default, Basic credentials on every request.
// It is a test stand-in for the client only; the server under test is real.
type winpsClient struct {
	t        *testing.T
	url      string // POST target
	user, pw string
	resource string
	compress bool
	session  string
	seq      int
	objectID uint64
	hc       *http.Client

	shellID string
	rpid    psrp.GUID
	pool    psrp.Reassembler
	// receives numbers rsp:Receive/@SequenceId, which the WinRM client
	// sends on PowerShell shells for robust connections.
	receives int
	// utf16 sends bodies as UTF-16LE (New-PSSessionOption -UseUTF16).
	utf16 bool
	// console answers the host calls that need an answer, as the console
	// host's UI would (see executeHostCall); nil when a test expects none.
	console func(call psrp.HostCall) any
	// idle is the rsp:IdleTimeOut of Create, set only by
	// New-PSSessionOption -IdleTimeout.
	idle string
	// apd is the pool's APPLICATION_PRIVATE_DATA, as
	// RemoteRunspace.GetApplicationPrivateData returns it.
	apd *psobject.Dict
}

func newWinPSClient(t *testing.T, url, user, pw string) *winpsClient {
	return &winpsClient{
		t: t, url: url, user: user, pw: pw,
		resource: "http://schemas.microsoft.com/powershell/Microsoft.PowerShell",
		compress: true,
		session:  "uuid:" + strings.ToUpper(newUUID()),
		hc:       &http.Client{Timeout: 90 * time.Second},
	}
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func newPID(t testing.TB) psrp.GUID {
	g, err := psrp.ParseGUID(strings.ToUpper(newUUID()))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// winURL is the URL New-PSSession -ConnectionUri <base> posts to.
func winURL(base, query string) string {
	u := strings.Replace(base, "/wsman", "/powershell", 1)
	if query == "" {
		return u + "?PSVersion=" + winpsVersion
	}
	return u + "?" + query + ";PSVersion=" + winpsVersion
}

type winResponse struct {
	status int
	header http.Header
	body   string
	doc    *xnode
}

// envelope is a request in the Windows WinRM client's header order
// ([MS-WSMV] §4.7 examples).
func (c *winpsClient) envelope(action, resource string, withShell bool, extra, body string) string {
	c.seq++
	var h strings.Builder
	h.WriteString(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><s:Header>`)
	h.WriteString(`<a:To>` + xmlEscape(c.url) + `</a:To>`)
	h.WriteString(`<w:ResourceURI s:mustUnderstand="true">` + resource + `</w:ResourceURI>`)
	h.WriteString(`<a:ReplyTo><a:Address s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>`)
	h.WriteString(`<a:Action s:mustUnderstand="true">` + action + `</a:Action>`)
	h.WriteString(`<w:MaxEnvelopeSize s:mustUnderstand="true">512000</w:MaxEnvelopeSize>`)
	h.WriteString(`<a:MessageID>uuid:` + strings.ToUpper(newUUID()) + `</a:MessageID>`)
	h.WriteString(`<w:Locale xml:lang="en-US" s:mustUnderstand="false" /><p:DataLocale xml:lang="en-US" s:mustUnderstand="false" />`)
	h.WriteString(`<p:SessionId s:mustUnderstand="false">` + c.session + `</p:SessionId>`)
	h.WriteString(`<p:OperationID s:mustUnderstand="false">uuid:` + strings.ToUpper(newUUID()) + `</p:OperationID>`)
	h.WriteString(`<p:SequenceId s:mustUnderstand="false">` + strconv.Itoa(c.seq) + `</p:SequenceId>`)
	if withShell {
		h.WriteString(`<w:SelectorSet><w:Selector Name="ShellId">` + c.shellID + `</w:Selector></w:SelectorSet>`)
	}
	h.WriteString(extra)
	h.WriteString(`<w:OperationTimeout>PT180.000S</w:OperationTimeout>`)
	h.WriteString(`</s:Header><s:Body>` + body + `</s:Body></s:Envelope>`)
	return h.String()
}

func (c *winpsClient) postRaw(env, auth string) winResponse {
	c.t.Helper()
	body, charset := []byte(env), "UTF-8"
	if c.utf16 {
		body, charset = utf16LE(env), "UTF-16"
	}
	req, err := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset="+charset)
	req.Header.Set("User-Agent", "Microsoft WinRM Client")
	req.Header.Set("Connection", "Keep-Alive")
	switch auth {
	case "basic":
		req.SetBasicAuth(c.user, c.pw)
	case "":
	default:
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := winResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if len(b) > 0 {
		r.doc = parseXML(c.t, r.body)
	}
	return r
}

// utf16LE encodes s as UTF-16LE with a byte order mark.
func utf16LE(s string) []byte {
	units := utf16.Encode([]rune(s))
	b := make([]byte, 2, 2+2*len(units))
	b[0], b[1] = 0xff, 0xfe
	for _, u := range units {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// pending posts env in the background, as an outstanding long-poll.
func (c *winpsClient) pending(env string) <-chan winResponse {
	ch := make(chan winResponse, 1)
	req, err := http.NewRequest(http.MethodPost, c.url, strings.NewReader(env))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	req.Header.Set("User-Agent", "Microsoft WinRM Client")
	req.SetBasicAuth(c.user, c.pw)
	go func() {
		resp, err := c.hc.Do(req)
		if err != nil {
			ch <- winResponse{status: -1, body: err.Error()}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		ch <- winResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
	}()
	return ch
}

func (c *winpsClient) post(action, resource string, withShell bool, extra, body string) winResponse {
	c.t.Helper()
	return c.postRaw(c.envelope(action, resource, withShell, extra, body), "basic")
}

// mustOK fails the test unless r is a 200.
func (r winResponse) mustOK(t testing.TB, what string) winResponse {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("%s: HTTP %d\n%s", what, r.status, r.body)
	}
	return r
}

func (c *winpsClient) message(t psrp.MessageType, pid psrp.GUID, data string) psrp.Message {
	return psrp.Message{Destination: psrp.DestinationServer, Type: t, RPID: c.rpid, PID: pid, Data: []byte(data)}
}

// clientEncode is a message as the client writes it: the 40-byte header,
// then a UTF-8 byte order mark and the CLIXML ([cap]: both creationXml
// messages start with EF BB BF).
func clientEncode(m psrp.Message) []byte {
	b := m.Encode()
	h := psrp.MessageHeaderSize
	if bytes.HasPrefix(b[h:], []byte{0xEF, 0xBB, 0xBF}) {
		return b
	}
	return append(append(append([]byte{}, b[:h]...), 0xEF, 0xBB, 0xBF), b[h:]...)
}

// fragments encodes messages with the client's own ObjectIds, in fragments
// of at most 32 KiB of blob (BaseTransportManager's DefaultFragmentSize).
func (c *winpsClient) fragments(msgs ...psrp.Message) []byte {
	var out []byte
	for _, m := range msgs {
		c.objectID++
		f := psrp.Fragmenter{MaxBlob: 32 << 10, NextObjectID: c.objectID}
		out = f.AppendFragments(out, clientEncode(m))
	}
	return out
}

// stream is Send/Receive stream data as the client puts it on the wire.
func (c *winpsClient) stream(data []byte) string {
	if c.compress {
		data = xpress.FrameCompressed(data)
	}
	return base64.StdEncoding.EncodeToString(data)
}

const createFixture = "testdata/winps/create-5.1.17763.771.xml"

// createShell sends New-PSSession's Create: the envelope of [cap] with only
// the ids, the URL and the endpoint filled in. protocol other than 2.3
// stands for another client (PowerShell 7.6 says 2.4, PowerShell 2.0 says
// 2.1): it is written into the OptionSet and SESSION_CAPABILITY, nothing
// else changes. It returns the raw response.
func (c *winpsClient) createShell(name, protocol string) winResponse {
	c.t.Helper()
	env, err := readCreateFixture()
	if err != nil {
		c.t.Fatal(err)
	}
	// WSManCreateShellEx takes RunspacePoolInstanceId.ToString().
	// ToUpperInvariant() as the ShellId ([PS51] WSManTransportManager.cs
	// l.1181–1184) and the same id is the RPID of every message.
	id := strings.ToUpper(newUUID())
	c.shellID = id
	if c.rpid, err = psrp.ParseGUID(id); err != nil {
		c.t.Fatal(err)
	}
	c.seq++
	creation := c.creationXML(env, protocol)
	// [cap] is the Exchange endpoint; ours is the ConnectionInfo's ShellUri.
	// Name="WinRM<n>" is the session name, an attribute of rsp:Shell.
	env = strings.NewReplacer(
		"{{To}}", xmlEscape(c.url),
		"{{ResourceURI}}", c.resource,
		"{{MessageID}}", strings.ToUpper(newUUID()),
		"{{SessionId}}", strings.TrimPrefix(c.session, "uuid:"),
		"{{OperationID}}", strings.ToUpper(newUUID()),
		"{{ShellId}}", id,
		`Name="WinRM2"`, `Name="`+xmlEscape(name)+`"`,
		`MustComply="true">2.3<`, `MustComply="true">`+protocol+`<`,
	).Replace(env)
	env = regexp.MustCompile(`(<creationXml [^>]*>)[^<]*(</creationXml>)`).ReplaceAllString(env, "${1}"+base64.StdEncoding.EncodeToString(creation)+"${2}")
	if !c.compress {
		// -SessionOption (New-PSSessionOption -NoCompression):
		// WSMAN_FLAG_NO_COMPRESSION (l.1173, l.1551), and WinRM leaves out
		// rsp:CompressionType.
		env = regexp.MustCompile(`<rsp:CompressionType [^>]*>xpress</rsp:CompressionType>`).ReplaceAllString(env, "")
	}
	if c.idle != "" {
		// Only New-PSSessionOption -IdleTimeout makes the client pass an
		// idle timeout instead of UseServerDefaultIdleTimeoutUInt
		// (l.1085–1095); WinRM writes it as rsp:IdleTimeOut before the
		// streams ([WSMV] §2.2.4.37).
		env = strings.Replace(env, "<rsp:InputStreams>", "<rsp:IdleTimeOut>"+c.idle+"</rsp:IdleTimeOut><rsp:InputStreams>", 1)
	}
	return c.postRaw(env, "basic")
}

func readCreateFixture() (string, error) {
	raw, err := os.ReadFile(createFixture)
	return strings.TrimSpace(string(raw)), err
}

// creationXML re-encodes [cap]'s creationXml — SESSION_CAPABILITY (ObjectId
// 3) and INIT_RUNSPACEPOOL (ObjectId 4) — for this client's RPID.
func (c *winpsClient) creationXML(env, protocol string) []byte {
	c.t.Helper()
	msgs, ids := captureCreation(c.t, env)
	var out []byte
	for i, m := range msgs {
		m.RPID = c.rpid
		if protocol != winpsProtocol && m.Type == psrp.MsgSessionCapability {
			m.Data = bytes.Replace(m.Data, []byte(`<Version N="protocolversion">2.3</Version>`), []byte(`<Version N="protocolversion">`+protocol+`</Version>`), 1)
		}
		f := psrp.Fragmenter{MaxBlob: 32 << 10, NextObjectID: ids[i]}
		out = f.AppendFragments(out, clientEncode(m))
	}
	c.objectID = ids[len(ids)-1]
	return out
}

// captureCreation decodes the creationXml of the fixture: its messages and
// their ObjectIds.
func captureCreation(t testing.TB, env string) ([]psrp.Message, []uint64) {
	t.Helper()
	m := regexp.MustCompile(`<creationXml [^>]*>([^<]*)</creationXml>`).FindStringSubmatch(env)
	if m == nil {
		t.Fatal("fixture has no creationXml")
	}
	raw, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for rest := raw; len(rest) > 0; {
		f, n, err := psrp.DecodeFragment(rest)
		if err != nil {
			t.Fatal(err)
		}
		if f.Start {
			ids = append(ids, f.ObjectID)
		}
		rest = rest[n:]
	}
	var in psrp.Reassembler
	msgs, err := in.Write(raw)
	if err != nil || len(msgs) != 2 || len(ids) != 2 {
		t.Fatalf("fixture creationXml: %v messages, %v ids, %v", len(msgs), ids, err)
	}
	return msgs, ids
}

func (c *winpsClient) delete() {
	c.t.Helper()
	c.post(actWinDelete, c.resource, true, "", "")
}

// decodeStream undoes the xpress framing (when compressing) and returns
// the raw fragment bytes of one Receive stream.
func (c *winpsClient) decodeStream(text string) []byte {
	c.t.Helper()
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil {
		c.t.Fatalf("stream is not base64: %v", err)
	}
	if !c.compress || len(data) == 0 {
		return data
	}
	out, err := xpress.Unframe(data, 16<<20)
	if err != nil {
		c.t.Fatalf("stream is not xpress-framed as a compressing client needs: %v (% x)", err, data[:min(len(data), 16)])
	}
	return out
}

// receiveBody is a Receive for the pool (cid "") or a command.
func (c *winpsClient) receiveBody(cid string) string {
	attr := ""
	if cid != "" {
		attr = ` CommandId="` + cid + `"`
	}
	c.receives++
	return fmt.Sprintf(`<rsp:Receive SequenceId="%d"><rsp:DesiredStream%s>stdout</rsp:DesiredStream></rsp:Receive>`, c.receives-1, attr)
}

const keepAlive = `<w:OptionSet xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><w:Option Name="WSMAN_CMDSHELL_OPTION_KEEPALIVE">TRUE</w:Option></w:OptionSet>`

// receivePool reads shell-level Receives until want messages arrived.
func (c *winpsClient) receivePool(want int) []psrp.Message {
	c.t.Helper()
	var got []psrp.Message
	deadline := time.Now().Add(30 * time.Second)
	for len(got) < want {
		if time.Now().After(deadline) {
			c.t.Fatalf("pool Receive: got %d messages, want %d: %v", len(got), want, got)
		}
		r := c.post(actWinReceive, c.resource, true, keepAlive, c.receiveBody(""))
		if r.status != http.StatusOK {
			if strings.Contains(r.body, "2150858793") {
				continue
			}
			c.t.Fatalf("pool Receive: HTTP %d\n%s", r.status, r.body)
		}
		for _, st := range r.doc.all("Stream") {
			if st.attrs["Name"] != "stdout" || st.attrs["CommandId"] != "" {
				c.t.Fatalf("pool Receive returned stream %v", st.attrs)
			}
			msgs, err := c.pool.Write(c.decodeStream(st.text))
			if err != nil {
				c.t.Fatalf("pool Receive: %v", err)
			}
			got = append(got, msgs...)
		}
	}
	return got
}

// pipeResult is everything a command's Receives returned.
type pipeResult struct {
	msgs     []psrp.Message
	state    psrp.PipelineState
	stateObj *psobject.Object
	exitCode string
	done     bool
}

// of returns the messages of type t.
func (r pipeResult) of(t psrp.MessageType) []psrp.Message {
	var out []psrp.Message
	for _, m := range r.msgs {
		if m.Type == t {
			out = append(out, m)
		}
	}
	return out
}

// runCommand is WSManClientCommandTransportManager.CreateAsync ([PS51]
// WSManTransportManager.cs l.2990–3045): WSManRunShellCommandEx with the
// PowerShell's id upper-cased as CommandId, the first command's text (at
// most 256 characters) as rsp:Command (cmdLine, l.2905 →
// CommandCollection.GetCommandStringForHistory, Command.cs l.935–940), no
// options, and the first fragment(s) of the serialized pipeline as
// rsp:Arguments, uncompressed. The rest goes in command-level Sends,
// compressed (l.3854–3950).
func (c *winpsClient) runCommand(pid psrp.GUID, first psrp.Message, more ...psrp.Message) {
	c.t.Helper()
	c.runCommandRaw(pid, commandLine(c.t, first), c.fragments(first), c.fragments(more...))
}

// runCommandRaw sends Command with the given Arguments bytes, then rest in
// a Send when there is any.
func (c *winpsClient) runCommandRaw(pid psrp.GUID, cmdLine string, args, rest []byte) {
	c.t.Helper()
	cid := strings.ToUpper(pid.String())
	if cmdLine == "" {
		cmdLine = " " // "WSManRunsShellCommand doesn't accept empty string" (l.3036)
	}
	if len(cmdLine) > 256 {
		cmdLine = cmdLine[:255]
	}
	body := `<rsp:CommandLine CommandId="` + cid + `"><rsp:Command>` + xmlEscape(cmdLine) + `</rsp:Command><rsp:Arguments>` +
		base64.StdEncoding.EncodeToString(args) + `</rsp:Arguments></rsp:CommandLine>`
	r := c.post(actWinCommand, c.resource, true, "", body).mustOK(c.t, "Command")
	if got := strings.TrimSpace(r.doc.first("CommandId").text); !strings.EqualFold(got, cid) {
		c.t.Fatalf("CommandResponse CommandId = %q, want %q", got, cid)
	}
	if len(rest) > 0 {
		c.sendCommand(pid, rest)
	}
}

// commandLine is the first command's text of a CREATE_PIPELINE, or of
// GET_COMMAND_METADATA's Get-Command.
func commandLine(t testing.TB, m psrp.Message) string {
	if m.Type == psrp.MsgGetCommandMetadata {
		return "Get-Command"
	}
	if m.Type != psrp.MsgCreatePipeline {
		return ""
	}
	match := regexp.MustCompile(`<S N="Cmd">([^<]*)</S>`).FindSubmatch(m.Data)
	if match == nil {
		t.Fatalf("CREATE_PIPELINE without Cmd: %s", m.Data)
	}
	var s string
	if err := xml.Unmarshal([]byte("<s>"+string(match[1])+"</s>"), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func (c *winpsClient) sendCommand(pid psrp.GUID, data []byte) {
	c.t.Helper()
	body := `<rsp:Send><rsp:Stream Name="stdin" CommandId="` + strings.ToUpper(pid.String()) + `">` + c.stream(data) + `</rsp:Stream></rsp:Send>`
	c.post(actWinSend, c.resource, true, "", body).mustOK(c.t, "Send")
}

func (c *winpsClient) signal(pid psrp.GUID, code string) winResponse {
	c.t.Helper()
	body := `<rsp:Signal CommandId="` + strings.ToUpper(pid.String()) + `"><rsp:Code>` + code + `</rsp:Code></rsp:Signal>`
	return c.post(actWinSignal, c.resource, true, "", body)
}

// receiveCommand reads a command's Receives until CommandState Done.
func (c *winpsClient) receiveCommand(pid psrp.GUID) pipeResult {
	c.t.Helper()
	cid := strings.ToUpper(pid.String())
	var in psrp.Reassembler
	res := pipeResult{state: -1}
	deadline := time.Now().Add(60 * time.Second)
	for !res.done {
		if time.Now().After(deadline) {
			c.t.Fatalf("command Receive: no CommandState Done; messages so far: %v", res.msgs)
		}
		r := c.post(actWinReceive, c.resource, true, keepAlive, c.receiveBody(cid))
		if r.status != http.StatusOK {
			if strings.Contains(r.body, "2150858793") {
				continue
			}
			c.t.Fatalf("command Receive: HTTP %d\n%s", r.status, r.body)
		}
		for _, st := range r.doc.all("Stream") {
			if st.attrs["Name"] != "stdout" || !strings.EqualFold(st.attrs["CommandId"], cid) {
				c.t.Fatalf("command Receive returned stream %v", st.attrs)
			}
			msgs, err := in.Write(c.decodeStream(st.text))
			if err != nil {
				c.t.Fatalf("command Receive: %v", err)
			}
			for _, m := range msgs {
				if m.PID != pid || m.RPID != c.rpid {
					c.t.Errorf("%v carries RPID %v PID %v, want %v %v", m.Type, m.RPID, m.PID, c.rpid, pid)
				}
				if m.Type == psrp.MsgPipelineState {
					o := decodeObj(c.t, m)
					res.stateObj = o
					n, _ := o.Get("PipelineState")
					res.state = psrp.PipelineState(intOf(n))
				}
				if m.Type == psrp.MsgPipelineHostCall {
					c.executeHostCall(pid, m)
				}
			}
			res.msgs = append(res.msgs, msgs...)
		}
		if cs := r.doc.first("CommandState"); strings.HasSuffix(cs.attrs["State"], "/Done") {
			res.done = true
			res.exitCode = strings.TrimSpace(cs.first("ExitCode").text)
		}
	}
	return res
}

// decode returns the CLIXML value of a message.
func decode(t testing.TB, m psrp.Message) any {
	t.Helper()
	v, err := clixml.Unmarshal(m.Data, clixml.Limits{})
	if err != nil {
		t.Fatalf("%v: %v\n%s", m.Type, err, m.Data)
	}
	return v
}

func decodeObj(t testing.TB, m psrp.Message) *psobject.Object {
	t.Helper()
	o, ok := decode(t, m).(*psobject.Object)
	if !ok {
		t.Fatalf("%v is not an object: %s", m.Type, m.Data)
	}
	return o
}

// intOf reads an integer, an enum, or an enum object's value.
func intOf(v any) int64 {
	switch x := v.(type) {
	case int32:
		return int64(x)
	case int64:
		return x
	case psobject.Enum:
		return int64(x.Value)
	case *psobject.Object:
		for _, p := range x.Properties() {
			return intOf(p.Value)
		}
	}
	return -1 << 40
}

func prop(o *psobject.Object, name string) any {
	v, _ := o.Get(name)
	return v
}

// open runs New-PSSession: Create, then the shell-level Receive of the
// pool's opening messages, checked as the client checks them. It returns
// those messages.
func (c *winpsClient) open(name string) []psrp.Message {
	c.t.Helper()
	c.createShell(name, winpsProtocol).mustOK(c.t, "Create")
	c.t.Cleanup(c.delete)
	msgs := c.receivePool(3)
	c.negotiate(msgs)
	return msgs
}

// negotiate is what the client does with the pool's first messages; it
// fails the test where Windows PowerShell would refuse the server.
func (c *winpsClient) negotiate(msgs []psrp.Message) {
	c.t.Helper()
	want := []psrp.MessageType{psrp.MsgSessionCapability, psrp.MsgApplicationPrivateData, psrp.MsgRunspacePoolState}
	for i, m := range msgs {
		if i >= len(want) || m.Type != want[i] || m.Destination != psrp.DestinationClient {
			c.t.Fatalf("pool messages %v, want SESSION_CAPABILITY, APPLICATION_PRIVATE_DATA, RUNSPACEPOOL_STATE to the client", msgs)
		}
	}
	// RunClientNegotiationAlgorithm ([PS51] remoting/client/
	// clientremotesession.cs l.585–651): a 2.3 client accepts protocol 2.0
	// (Win7RC), 2.1, 2.2 or 2.3; PSVersion must equal its own capability's
	// 2.0 and SerializationVersion 1.1.0.1, exactly.
	capa := decodeObj(c.t, msgs[0])
	proto := fmt.Sprint(prop(capa, "protocolversion"))
	if proto != "2.0" && proto != "2.1" && proto != "2.2" && proto != "2.3" {
		c.t.Fatalf("Windows PowerShell refuses the server: protocolversion %q (ClientNegotiationFailed)", proto)
	}
	for name, want := range map[string]string{"PSVersion": "2.0", "SerializationVersion": "1.1.0.1"} {
		if got := fmt.Sprint(prop(capa, name)); got != want {
			c.t.Fatalf("Windows PowerShell refuses the server: %s %q, not %s (ClientNegotiationFailed)", name, got, want)
		}
	}
	apd := decodeObj(c.t, msgs[1])
	dict, ok := prop(apd, "ApplicationPrivateData").(*psobject.Dict)
	if !ok {
		c.t.Fatalf("APPLICATION_PRIVATE_DATA has no PSPrimitiveDictionary: %s", msgs[1].Data)
	}
	c.apd = dict
	st := decodeObj(c.t, msgs[2])
	if got := intOf(prop(st, "RunspaceState")); got != int64(psrp.PoolOpened) {
		c.t.Fatalf("RunspaceState = %d: New-PSSession waits for Opened (2)", got)
	}
}

// apdPath is PSPrimitiveDictionary.TryPathGet on the pool's private data.
func (c *winpsClient) apdPath(keys ...string) (any, bool) {
	var cur any = c.apd
	for _, k := range keys {
		d, ok := cur.(*psobject.Dict)
		if !ok {
			return nil, false
		}
		found := false
		for _, en := range d.Entries {
			if fmt.Sprint(en.Key) == k {
				cur, found = en.Value, true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return cur, true
}

// invoke runs one CREATE_PIPELINE (plus input) to completion.
func (c *winpsClient) invoke(create string, input ...psrp.Message) pipeResult {
	c.t.Helper()
	pid := newPID(c.t)
	c.runCommand(pid, c.message(psrp.MsgCreatePipeline, pid, create), withPID(input, pid)...)
	r := c.receiveCommand(pid)
	// WSManCloseCommand: PowerShell ends every command with a terminate
	// Signal, after its final state arrived.
	c.signal(pid, signalTerminate).mustOK(c.t, "Signal terminate after Done")
	return r
}

func withPID(msgs []psrp.Message, pid psrp.GUID) []psrp.Message {
	for i := range msgs {
		msgs[i].PID = pid
	}
	return msgs
}

// outputs decodes every PIPELINE_OUTPUT.
func (r pipeResult) outputs(t testing.TB) []any {
	t.Helper()
	var out []any
	for _, m := range r.of(psrp.MsgPipelineOutput) {
		out = append(out, decode(t, m))
	}
	return out
}

// completed fails unless the pipeline completed without errors and ended
// with CommandState Done and ExitCode 0.
func (r pipeResult) completed(t testing.TB, what string) {
	t.Helper()
	if r.state != psrp.PipelineCompleted || !r.done || r.exitCode != "0" {
		t.Fatalf("%s: state %v, Done %v, ExitCode %q; want Completed, Done, 0; messages %v", what, r.state, r.done, r.exitCode, r.msgs)
	}
	for _, m := range r.of(psrp.MsgErrorRecord) {
		t.Errorf("%s: error record %s", what, m.Data)
	}
}

func str(v string) func(*cx) string { return func(*cx) string { return xS("V", v) } }

func lit(v string) func(*cx) string { return func(*cx) string { return v } }

// ---------------------------------------------------------------------------
// 1. New-PSSession

// TestWinpsCreateFixture pins the model to [cap]: the Create envelope is
// the capture with only ids, URL and endpoint filled in, and the model's
// message encoder rebuilds the captured creationXml byte for byte.
func TestWinpsCreateFixture(t *testing.T) {
	env, err := readCreateFixture()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<w:MaxEnvelopeSize s:mustUnderstand="true">512000</w:MaxEnvelopeSize>`,
		`<w:OptionSet xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" s:mustUnderstand="true"><w:Option Name="protocolversion" MustComply="true">2.3</w:Option></w:OptionSet>`,
		`<rsp:CompressionType s:mustUnderstand="true" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">xpress</rsp:CompressionType>`,
		`<rsp:Shell xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" Name="WinRM2" ShellId="{{ShellId}}"><rsp:InputStreams>stdin pr</rsp:InputStreams><rsp:OutputStreams>stdout</rsp:OutputStreams><creationXml xmlns="http://schemas.microsoft.com/powershell">`,
	} {
		if !strings.Contains(env, want) {
			t.Errorf("fixture lacks %s", want)
		}
	}
	msgs, ids := captureCreation(t, env)
	if ids[0] != 3 || ids[1] != 4 || msgs[0].Type != psrp.MsgSessionCapability || msgs[1].Type != psrp.MsgInitRunspacePool {
		t.Fatalf("creationXml = %v with ObjectIds %v", msgs, ids)
	}
	orig := regexp.MustCompile(`<creationXml [^>]*>([^<]*)</creationXml>`).FindStringSubmatch(env)[1]
	var again []byte
	for i, m := range msgs {
		f := psrp.Fragmenter{MaxBlob: 32 << 10, NextObjectID: ids[i]}
		again = f.AppendFragments(again, clientEncode(m))
	}
	if got := base64.StdEncoding.EncodeToString(again); got != orig {
		t.Errorf("the model does not rebuild the captured creationXml:\ngot  %s\nwant %s", got, orig)
	}
}

func TestWinpsNewPSSession(t *testing.T) {
	ts := startServer(t)
	for _, tc := range []struct {
		name, query string
		utf16       bool
		// protocol is what the client announces; PowerShell 7.6 says 2.4
		// and must be answered with 2.3, which 5.1 and 7.x all accept.
		protocol string
	}{
		{"plain URI", "", false, winpsProtocol},
		{"URI with a query", "DelegatedOrg=contoso.test", false, winpsProtocol},
		{"UTF-16 bodies", "", true, winpsProtocol},
		{"PowerShell 7.6 announces 2.4", "", false, "2.4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newWinPSClient(t, winURL(ts.httpURL, tc.query), server.DemoAdmin, adminPassword)
			c.utf16 = tc.utf16
			r := c.createShell("WinRM1", tc.protocol).mustOK(t, "Create")
			t.Cleanup(c.delete)
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/soap+xml") {
				t.Errorf("Content-Type = %q", ct)
			}
			sel := r.doc.first("ResourceCreated").first("Selector")
			if sel.attrs["Name"] != "ShellId" || !strings.EqualFold(strings.TrimSpace(sel.text), c.shellID) {
				t.Errorf("ResourceCreated selector = %v %q, want ShellId %s", sel.attrs, sel.text, c.shellID)
			}
			shell := r.doc.first("Shell")
			duration := regexp.MustCompile(`^PT[0-9]+\.[0-9]{3}S$`)
			for _, name := range []string{"IdleTimeOut", "MaxIdleTimeOut"} {
				if got := strings.TrimSpace(shell.first(name).text); !duration.MatchString(got) {
					t.Errorf("%s = %q, want PT<seconds>.<3 digits>S (PowerShell parses it with Substring)", name, got)
				}
			}
			for name, want := range map[string]string{"CompressionMode": "XpressCompression", "BufferMode": "Block", "Name": "WinRM1", "State": "Connected"} {
				if got := strings.TrimSpace(shell.first(name).text); got != want {
					t.Errorf("Shell %s = %q, want %q", name, got, want)
				}
			}

			msgs := c.receivePool(3)
			if len(msgs) != 3 {
				t.Fatalf("pool messages = %v, want 3", msgs)
			}
			c.negotiate(msgs)
			want := []psrp.MessageType{psrp.MsgSessionCapability, psrp.MsgApplicationPrivateData, psrp.MsgRunspacePoolState}
			for i, m := range msgs {
				if m.Type != want[i] || m.Destination != psrp.DestinationClient {
					t.Fatalf("pool message %d = %v to %v, want %v to the client", i, m.Type, m.Destination, want[i])
				}
			}
			cap := decodeObj(t, msgs[0])
			if !msgs[0].RPID.IsZero() {
				t.Errorf("SESSION_CAPABILITY RPID = %v, want zero", msgs[0].RPID)
			}
			for name, want := range map[string]string{"protocolversion": "2.3", "PSVersion": "2.0", "SerializationVersion": "1.1.0.1"} {
				if got := fmt.Sprint(prop(cap, name)); got != want {
					t.Errorf("SESSION_CAPABILITY %s = %q, want exactly %q", name, got, want)
				}
			}
			apd := decodeObj(t, msgs[1])
			dict, ok := prop(apd, "ApplicationPrivateData").(*psobject.Dict)
			if !ok {
				t.Fatalf("APPLICATION_PRIVATE_DATA has no dictionary: %s", msgs[1].Data)
			}
			var pvt *psobject.Dict
			for _, en := range dict.Entries {
				switch en.Key {
				case "DebugMode", "DebugStop", "DebugBreakpointCount", "BreakAll", "UnhandledBreakpointMode":
					t.Errorf("APPLICATION_PRIVATE_DATA has %v: PowerShell would start remote debugging", en.Key)
				case "PSVersionTable":
					pvt, _ = en.Value.(*psobject.Dict)
				}
			}
			if pvt == nil {
				t.Fatalf("APPLICATION_PRIVATE_DATA has no PSVersionTable: %s", msgs[1].Data)
			}
			var psv string
			for _, en := range pvt.Entries {
				if en.Key == "PSVersion" {
					psv = fmt.Sprint(en.Value)
				}
			}
			if !versionAtLeast(psv, 5, 1) {
				t.Errorf("PSVersionTable.PSVersion = %q, want ≥ 5.1 (Import-PSSession then passes -PowerShellVersion)", psv)
			}
			st := decodeObj(t, msgs[2])
			if got := intOf(prop(st, "RunspaceState")); got != int64(psrp.PoolOpened) {
				t.Errorf("RunspaceState = %d, want Opened (2)", got)
			}
			if msgs[1].RPID != c.rpid || msgs[2].RPID != c.rpid {
				t.Errorf("pool messages carry RPID %v/%v, want %v", msgs[1].RPID, msgs[2].RPID, c.rpid)
			}
		})
	}
}

// TestWinpsNoIdleLimit: a tenant without an idle limit must not report
// IdleTimeOut PT0.000S, which PowerShell copies into its ConnectionInfo;
// Disconnect-PSSession would then refuse to run ("IdleTimeout ... less than
// the minimum of 60 seconds").
func TestWinpsNoIdleLimit(t *testing.T) {
	ts := startServer(t)
	requireAdmission(t, ts)
	ctx := context.Background()
	tn, err := ts.Store().TenantByName(ctx, server.DemoTenant)
	if err != nil {
		t.Fatal(err)
	}
	pol := tn.Policy
	pol.IdleTimeout = 0
	if err := ts.Store().UpdatePolicy(ctx, tn.ID, pol); err != nil {
		t.Fatal(err)
	}
	c := newWinPSClient(t, winURL(ts.httpURL, ""), server.DemoAdmin, adminPassword)
	r := c.createShell("WinRM9", winpsProtocol).mustOK(t, "Create")
	t.Cleanup(c.delete)
	idle, maxIdle := seconds(t, r.doc.first("IdleTimeOut").text), seconds(t, r.doc.first("MaxIdleTimeOut").text)
	// DisconnectPSSessionCommand.ValidateIdleTimeout, without -IdleTimeoutSec.
	if idle < 60 || idle > maxIdle {
		t.Fatalf("IdleTimeOut %v s, MaxIdleTimeOut %v s: Disconnect-PSSession would refuse to disconnect", idle, maxIdle)
	}
	// DisconnectAsync then sends the IdleTimeOut it was given.
	c.post(actWinDisconnect, c.resource, true, "", `<rsp:Disconnect><rsp:IdleTimeOut>`+strings.TrimSpace(r.doc.first("IdleTimeOut").text)+
		`</rsp:IdleTimeOut></rsp:Disconnect>`).mustOK(t, "Disconnect")
}

// seconds parses PT<seconds>.<ms>S as PowerShell's GetTimeIntValue does.
func seconds(t *testing.T, d string) float64 {
	t.Helper()
	d = strings.TrimSpace(d)
	if !regexp.MustCompile(`^PT[0-9]+\.[0-9]{3}S$`).MatchString(d) {
		t.Fatalf("duration %q is not PT<seconds>.<3 digits>S", d)
	}
	v, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(d, "PT"), "S"), 64)
	return v
}

func versionAtLeast(v string, major, minor int) bool {
	parts := strings.Split(v, ".")
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	return err1 == nil && err2 == nil && (ma > major || ma == major && mi >= minor)
}

// ---------------------------------------------------------------------------
// 5. Errors as PowerShell shows them

func TestWinpsErrors(t *testing.T) {
	ts := startServer(t)

	t.Run("quota refusal on Create", func(t *testing.T) {
		requireAdmission(t, ts)
		ts.addUser(t, "winquota@contoso.test", memberPassword, store.RoleTenantReader)
		for i := range 3 {
			c := newWinPSClient(t, winURL(ts.httpURL, ""), "winquota@contoso.test", memberPassword)
			c.createShell(fmt.Sprint("WinRM", i), winpsProtocol).mustOK(t, "Create")
			t.Cleanup(c.delete)
		}
		c := newWinPSClient(t, winURL(ts.httpURL, ""), "winquota@contoso.test", memberPassword)
		r := c.createShell("WinRM4", winpsProtocol)
		if r.status != http.StatusInternalServerError {
			t.Fatalf("fourth Create: HTTP %d, want 500 with a fault\n%s", r.status, r.body)
		}
		f, err := wsman.DecodeFault([]byte(r.body))
		if err != nil {
			t.Fatal(err)
		}
		if f.Subcode != "w:QuotaLimit" || f.WSManCode != 2150859173 {
			t.Errorf("fault subcode %q code %d, want w:QuotaLimit 2150859173", f.Subcode, f.WSManCode)
		}
		// PowerShell shows f:Message: "Connecting to remote server ... failed
		// with the following error message : <this>".
		if msg := strings.TrimSpace(r.doc.first("WSManFault").first("Message").text); !strings.HasPrefix(msg, seedUserQuota) {
			t.Errorf("f:Message = %q, want it to start with the seed text %q", msg, seedUserQuota)
		}
	})

	t.Run("PowerShell 2.0 protocol", func(t *testing.T) {
		c := newWinPSClient(t, winURL(ts.httpURL, ""), server.DemoAdmin, adminPassword)
		r := c.createShell("WinRM5", "2.1")
		f, err := wsman.DecodeFault([]byte(r.body))
		if r.status != http.StatusInternalServerError || err != nil {
			t.Fatalf("Create with 2.1: HTTP %d (%v)\n%s", r.status, err, r.body)
		}
		if f.ErrorCode != "psrp.protocol-version" || !strings.Contains(f.Reason, "'2.1'") || !strings.Contains(f.Reason, "'2.2'") {
			t.Errorf("fault %s: %q; want psrp.protocol-version naming 2.1 and 2.2", f.ErrorCode, f.Reason)
		}
	})

	t.Run("Negotiate is answered with a Basic challenge", func(t *testing.T) {
		c := newWinPSClient(t, winURL(ts.httpURL, ""), server.DemoAdmin, adminPassword)
		// An NTLM NEGOTIATE_MESSAGE, as WinRM sends for -Authentication
		// Negotiate (the default).
		ntlm := append([]byte("NTLMSSP\x00"), 1, 0, 0, 0, 0x07, 0x82, 0x08, 0xa2)
		ntlm = append(ntlm, make([]byte, 16)...)
		r := c.postRaw(c.envelope(actWinCreate, c.resource, false, "", ""), "Negotiate "+base64.StdEncoding.EncodeToString(ntlm))
		if r.status != http.StatusUnauthorized {
			t.Fatalf("HTTP %d, want 401", r.status)
		}
		if got := r.header.Values("WWW-Authenticate"); len(got) != 1 || got[0] != `Basic realm="psgate"` {
			t.Errorf("WWW-Authenticate = %q, want Basic realm=\"psgate\" only", got)
		}
	})

	t.Run("a non-terminating error is complete", func(t *testing.T) {
		c := newWinPSClient(t, winURL(ts.httpURL, ""), server.DemoAdmin, adminPassword)
		c.open("WinRM7")
		r := c.invoke(remotePipeline(true, invokeCommandPipeline(t, "Get-CsOnlineUser -Identity nobody@contoso.test", sbScope{})))
		recs := r.of(psrp.MsgErrorRecord)
		if len(recs) == 0 && r.state != psrp.PipelineFailed {
			t.Fatalf("no error for an unknown identity: %v", r.msgs)
		}
		for _, m := range recs {
			assertErrorPackage(t, decodeObj(t, m))
		}
	})

	t.Run("a -Credential argument: key exchange, then psgate's own error", func(t *testing.T) {
		c := newWinPSClient(t, winURL(ts.httpURL, ""), server.DemoAdmin, adminPassword)
		c.open("WinRM8")
		// Serializing a SecureString makes the client send PUBLIC_KEY on a
		// shell-level Send and wait (180 s) for ENCRYPTED_SESSION_KEY
		// before it sends the pipeline (CryptoUtils RunKeyExchangeIfRequired).
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		key := c.exchangeKeys(priv)
		if el := time.Since(start); el > 10*time.Second {
			t.Errorf("ENCRYPTED_SESSION_KEY took %v", el)
		}
		cred := func(x *cx) string {
			return x.obj("V", x.typeNames("System.Management.Automation.PSCredential", "System.Object")+
				`<ToString>System.Management.Automation.PSCredential</ToString><Props>`+xS("UserName", "carol@contoso.test")+
				`<SS N="Password">`+secureString(t, key, "Pa55word!")+`</SS></Props>`)
		}
		// icm { Get-CsOnlineUser -Identity carol -Credential $using:cred }
		r := c.invoke(remotePipeline(true, invokeCommandPipeline(t, "Get-CsOnlineUser -Identity carol@contoso.test -Credential $using:cred",
			sbScope{using: map[string]any{"cred": cred}})))
		if r.state != psrp.PipelineFailed {
			t.Fatalf("state %v, want Failed with the SecureString error", r.state)
		}
		rec, _ := prop(r.stateObj, "ExceptionAsErrorRecord").(*psobject.Object)
		if rec == nil {
			t.Fatal("no ExceptionAsErrorRecord")
		}
		assertErrorPackage(t, rec)
		exc, _ := prop(rec, "Exception").(*psobject.Object)
		if msg, _ := prop(exc, "Message").(string); !strings.Contains(msg, "SecureString") {
			t.Errorf("refused with %q, want psgate's SecureString error", msg)
		}
	})

	t.Run("unknown cmdlet fails the pipeline", func(t *testing.T) {
		c := newWinPSClient(t, winURL(ts.httpURL, ""), server.DemoAdmin, adminPassword)
		c.open("WinRM6")
		r := c.invoke(remotePipeline(true, invokeCommandPipeline(t, "Get-NoSuchThing -Identity x", sbScope{})))
		if r.state != psrp.PipelineFailed || !r.done {
			t.Fatalf("state %v Done %v, want Failed; %v", r.state, r.done, r.msgs)
		}
		rec, ok := prop(r.stateObj, "ExceptionAsErrorRecord").(*psobject.Object)
		if !ok {
			t.Fatalf("PIPELINE_STATE Failed has no ExceptionAsErrorRecord: %v", r.stateObj)
		}
		assertErrorPackage(t, rec)
		exc, _ := prop(rec, "Exception").(*psobject.Object)
		if msg, _ := prop(exc, "Message").(string); !strings.Contains(msg, "Get-NoSuchThing") {
			t.Errorf("Exception.Message = %q, want it to name the command", msg)
		}
	})
}

// assertErrorPackage checks what ErrorPackage.ConstructFromPSObjectForRemoting
// reads with a getter that throws on a missing property.
func assertErrorPackage(t *testing.T, rec *psobject.Object) {
	t.Helper()
	for _, name := range []string{"Exception", "TargetObject", "FullyQualifiedErrorId", "ErrorCategory_Category", "ErrorCategory_Activity",
		"ErrorCategory_Reason", "ErrorCategory_TargetName", "ErrorCategory_TargetType", "ErrorCategory_Message", "SerializeExtendedInfo"} {
		if _, ok := rec.Get(name); !ok {
			t.Errorf("error record lacks %s", name)
		}
	}
	if id, _ := prop(rec, "FullyQualifiedErrorId").(string); id == "" {
		t.Error("FullyQualifiedErrorId is empty")
	}
	exc, _ := prop(rec, "Exception").(*psobject.Object)
	if exc == nil {
		t.Fatal("Exception is not an object")
	}
	if msg, _ := prop(exc, "Message").(string); msg == "" {
		t.Error("Exception.Message is empty")
	}
}

// exchangeKeys sends PUBLIC_KEY ([MS-PSRP] §2.2.2.3) for priv and returns
// the AES-256 session key from the server's ENCRYPTED_SESSION_KEY.
func (c *winpsClient) exchangeKeys(priv *rsa.PrivateKey) []byte {
	c.t.Helper()
	pub := priv.PublicKey
	mod := pub.N.FillBytes(make([]byte, 256))
	blob := []byte{0x06, 0x02, 0, 0, 0x00, 0xa4, 0, 0, 'R', 'S', 'A', '1'}
	blob = binary.LittleEndian.AppendUint32(blob, 2048)
	blob = binary.LittleEndian.AppendUint32(blob, uint32(pub.E))
	for i := len(mod) - 1; i >= 0; i-- {
		blob = append(blob, mod[i])
	}
	data := c.fragments(c.message(psrp.MsgPublicKey, psrp.GUID{},
		`<Obj RefId="0"><MS><S N="PublicKey">`+base64.StdEncoding.EncodeToString(blob)+`</S></MS></Obj>`))
	c.post(actWinSend, c.resource, true, "", `<rsp:Send><rsp:Stream Name="stdin">`+c.stream(data)+`</rsp:Stream></rsp:Send>`).mustOK(c.t, "Send PUBLIC_KEY")
	msgs := c.receivePool(1)
	if msgs[0].Type != psrp.MsgEncryptedSessionKey {
		c.t.Fatalf("pool message %v, want ENCRYPTED_SESSION_KEY", msgs[0].Type)
	}
	enc, _ := prop(decodeObj(c.t, msgs[0]), "EncryptedSessionKey").(string)
	sk, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(sk) != 12+256 || !bytes.Equal(sk[:12], []byte{0x01, 0x02, 0, 0, 0x10, 0x66, 0, 0, 0x00, 0xa4, 0, 0}) {
		c.t.Fatalf("EncryptedSessionKey is not a SIMPLEBLOB for AES-256: %x (%v)", sk[:min(len(sk), 12)], err)
	}
	ct := make([]byte, 256)
	for i, b := range sk[12:] {
		ct[255-i] = b
	}
	// RSA and PKCS#1 v1.5 unpadding by hand: the standard library's
	// DecryptPKCS1v15 is deprecated.
	em := new(big.Int).Exp(new(big.Int).SetBytes(ct), priv.D, pub.N).FillBytes(make([]byte, 256))
	sep := bytes.IndexByte(em[2:], 0)
	if em[0] != 0 || em[1] != 2 || sep < 8 || len(em)-(2+sep+1) != 32 {
		c.t.Fatalf("session key does not decrypt to 32 bytes with PKCS#1 v1.5 padding")
	}
	return em[2+sep+1:]
}

// secureString encrypts text as Windows PowerShell serializes a
// SecureString: UTF-16LE, PKCS#7, AES-256-CBC with a zero IV, base64.
func secureString(t *testing.T, key []byte, text string) string {
	t.Helper()
	pt := utf16LE(text)[2:]
	pad := aes.BlockSize - len(pt)%aes.BlockSize
	pt = append(pt, bytes.Repeat([]byte{byte(pad)}, pad)...)
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	cipher.NewCBCEncrypter(block, make([]byte, aes.BlockSize)).CryptBlocks(pt, pt)
	return base64.StdEncoding.EncodeToString(pt)
}

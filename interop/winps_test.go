package interop

// Windows PowerShell 5.1 and PowerShell 7 (on Windows) against psgate's PSRP
// endpoint.
//
// There is no Windows on this machine, so these tests play the client:
// winpsClient writes the HTTP requests, WS-Management envelopes and PSRP
// messages that Windows PowerShell's WinRM client sends for New-PSSession,
// Invoke-Command, Enter-PSSession, Import-PSSession, Disconnect-PSSession and
// Connect-PSSession, and reads the answers the way PowerShell does. Every
// byte is derived from the research notes (shared/research/winps-compat.md,
// shared/research/protocol.md), the message examples of [MS-WSMV] §4.7 and
// [MS-PSRP] §2.2.2, PowerShell's source and pypsrp's recorded traffic; no
// capture of a real Windows client exists. The server is the real one
// (startServer): the client is the only stand-in, for what cannot exist
// here.
//
// What Windows does and the tests copy: Basic credentials on the first
// request; `?PSVersion=` (or `;PSVersion=` after an existing query) on the
// URL; `User-Agent: Microsoft WinRM Client`; p:SessionId/OperationID/
// SequenceId headers; `rsp:CompressionType xpress` with every Send stream
// compressed (MS-XCA LZ77+Huffman in the chunk framing) and every Receive
// stream expected framed; creationXml, connectXml and Command Arguments
// uncompressed; CLIXML with enum objects, TypeName tables and a HostInfo
// that has _hostDefaultData.

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

// Windows PowerShell 5.1 on Windows 10 2004 (19041) announces this PSVersion
// in the URL and PSRP protocol 2.3.
const (
	winpsVersion  = "5.1.19041.1"
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

// hostInfo is the HostInfo of the console host ([MS-PSRP] §2.2.3.14):
// _hostDefaultData with the ten RawUI values, nothing null.
func (x *cx) hostInfo(width int) string {
	entry := func(key int, typ, v string) string {
		return `<En><I32 N="Key">` + strconv.Itoa(key) + `</I32>` + x.obj("Value", ms(xS("T", typ), v)) + `</En>`
	}
	size := func(w, h int) string { return x.obj("V", ms(xI32("width", w), xI32("height", h))) }
	coord := func(cx, cy int) string { return x.obj("V", ms(xI32("x", cx), xI32("y", cy))) }
	dct := entry(9, "System.String", xS("V", "Windows PowerShell")) +
		entry(8, "System.Management.Automation.Host.Size", size(width, 62)) +
		entry(7, "System.Management.Automation.Host.Size", size(width, 62)) +
		entry(6, "System.Management.Automation.Host.Size", size(width, 50)) +
		entry(5, "System.Management.Automation.Host.Size", size(width, 9001)) +
		entry(4, "System.Int32", xI32("V", 25)) +
		entry(3, "System.Management.Automation.Host.Coordinates", coord(0, 0)) +
		entry(2, "System.Management.Automation.Host.Coordinates", coord(0, 4)) +
		entry(1, "System.ConsoleColor", xI32("V", 5)) +
		entry(0, "System.ConsoleColor", xI32("V", 6))
	data := x.obj("data", x.typeNames("System.Collections.Hashtable", "System.Object")+"<DCT>"+dct+"</DCT>")
	return x.obj("HostInfo", ms(
		x.obj("_hostDefaultData", ms(data)),
		xB("_isHostNull", false), xB("_isHostUINull", false), xB("_isHostRawUINull", false), xB("_useRunspaceHost", false),
	))
}

// winCmd is one command of a PowerShell object.
type winCmd struct {
	cmd           string
	isScript      bool
	useLocalScope *bool
	mergeMy       int // PipelineResultTypes
	mergeTo       int
	mergePrevious int
	args          []winArg
}

// winArg is a named (or positional, name "") argument; value writes a
// CLIXML element with N="V" using the document's cx.
type winArg struct {
	name  string
	value func(x *cx) string
}

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
	names := map[int]string{0: "None", 1: "Output", 2: "Error", 3: "Output, Error"}
	return x.obj("", ms(
		xS("Cmd", c.cmd),
		xB("IsScript", c.isScript),
		uls,
		x.enum("MergeMyResult", prt, names[c.mergeMy], c.mergeMy),
		x.enum("MergeToResult", prt, names[c.mergeTo], c.mergeTo),
		x.enum("MergePreviousResults", prt, names[c.mergePrevious], c.mergePrevious),
		x.enum("MergeError", prt, "None", 0),
		x.enum("MergeWarning", prt, "None", 0),
		x.enum("MergeVerbose", prt, "None", 0),
		x.enum("MergeDebug", prt, "None", 0),
		x.enum("MergeInformation", prt, "None", 0),
		x.obj("Args", x.typeNames(psObjectList, "System.Object")+"<LST>"+args.String()+"</LST>"),
	))
}

// createPipeline writes CREATE_PIPELINE ([MS-PSRP] §2.2.2.10): the first
// statement in Cmds and, for several statements, all of them in ExtraCmds
// (PowerShell.ToPSObjectForRemoting).
func createPipeline(noInput bool, streamOptions int, statements ...[]winCmd) string {
	x := &cx{}
	cmds := func(st []winCmd) string {
		var b strings.Builder
		for _, c := range st {
			b.WriteString(x.command(c))
		}
		return x.obj("Cmds", x.typeNames(psObjectList, "System.Object")+"<LST>"+b.String()+"</LST>")
	}
	// RefId 0 belongs to the top object: reserve it.
	x.ref = 1
	ps := []string{cmds(statements[0]), xB("IsNested", false), xNil("History"), xB("RedirectShellErrorOutputPipe", true)}
	if len(statements) > 1 {
		// A batch (PowerShell's SetupAsyncBatchExecution): ExtraCmds holds
		// every statement, the first included, each object with only Cmds.
		var extra strings.Builder
		for _, st := range statements {
			extra.WriteString(x.obj("", ms(cmds(st))))
		}
		ps = append(ps, x.obj("ExtraCmds", x.typeNames(psObjectList, "System.Object")+"<LST>"+extra.String()+"</LST>"))
	}
	body := ms(
		xB("NoInput", noInput),
		x.enum("ApartmentState", "System.Threading.ApartmentState", "Unknown", 2),
		x.enum("RemoteStreamOptions", "System.Management.Automation.RemoteStreamOptions", "AddInvocationInfo", streamOptions),
		xB("AddToHistory", false),
		x.hostInfo(120),
		x.obj("PowerShell", ms(ps...)),
		xB("IsNested", false),
	)
	return `<Obj RefId="0">` + body + `</Obj>`
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

// sessionCapability is the client's SESSION_CAPABILITY ([MS-PSRP]
// §2.2.2.1), with the TimeZone blob Windows adds (contents are opaque to the
// server).
func sessionCapability(protocol string) string {
	tz := base64.StdEncoding.EncodeToString([]byte("\x00\x01\x00\x00\x00\xff\xff\xff\xffSystem.CurrentSystemTimeZone"))
	return `<Obj RefId="0"><MS><Version N="protocolversion">` + protocol + `</Version><Version N="PSVersion">2.0</Version>` +
		`<Version N="SerializationVersion">1.1.0.1</Version><BA N="TimeZone">` + tz + `</BA></MS></Obj>`
}

// initRunspacePool is INIT_RUNSPACEPOOL ([MS-PSRP] §2.2.2.2) with the
// console host and the client's PSVersionTable as ApplicationArguments.
func initRunspacePool(width int) string {
	x := &cx{ref: 1}
	pvt := x.obj("Value", x.typeNames("System.Management.Automation.PSPrimitiveDictionary", "System.Collections.Hashtable", "System.Object")+
		`<DCT><En><S N="Key">PSVersion</S><Version N="Value">`+winpsVersion+`</Version></En>`+
		`<En><S N="Key">PSEdition</S><S N="Value">Desktop</S></En>`+
		`<En><S N="Key">PSRemotingProtocolVersion</S><Version N="Value">2.3</Version></En>`+
		`<En><S N="Key">SerializationVersion</S><Version N="Value">1.1.0.1</Version></En></DCT>`)
	appArgs := x.obj("ApplicationArguments", x.typeNames("System.Management.Automation.PSPrimitiveDictionary", "System.Collections.Hashtable", "System.Object")+
		`<DCT><En><S N="Key">PSVersionTable</S>`+pvt+`</En></DCT>`)
	return `<Obj RefId="0">` + ms(
		xI32("MinRunspaces", 1),
		xI32("MaxRunspaces", 1),
		x.enum("PSThreadOptions", "System.Management.Automation.Runspaces.PSThreadOptions", "Default", 0),
		x.enum("ApartmentState", "System.Threading.ApartmentState", "Unknown", 2),
		x.hostInfo(width),
		appArgs,
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
	// idle is the rsp:IdleTimeOut of Create, set only by
	// New-PSSessionOption -IdleTimeout.
	idle string
	// width is the console buffer width in the host's default data.
	width int
}

func newWinPSClient(t *testing.T, url, user, pw string) *winpsClient {
	return &winpsClient{
		t: t, url: url, user: user, pw: pw,
		resource: "http://schemas.microsoft.com/powershell/Microsoft.PowerShell",
		compress: true,
		width:    120,
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

// fragments encodes messages with the client's own ObjectIds.
func (c *winpsClient) fragments(msgs ...psrp.Message) []byte {
	var out []byte
	for _, m := range msgs {
		c.objectID++
		out = append(out, psrp.EncodeFragments(c.objectID, m, 32<<10)...)
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

const compressionHeader = `<rsp:CompressionType s:mustUnderstand="true" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">xpress</rsp:CompressionType>`

// createShell sends New-PSSession's Create; it returns the raw response.
func (c *winpsClient) createShell(name, protocol string) winResponse {
	c.t.Helper()
	id := strings.ToUpper(newUUID())
	c.shellID = id
	rpid, err := psrp.ParseGUID(id)
	if err != nil {
		c.t.Fatal(err)
	}
	c.rpid = rpid
	creation := c.fragments(
		c.message(psrp.MsgSessionCapability, psrp.GUID{}, sessionCapability(protocol)),
		c.message(psrp.MsgInitRunspacePool, psrp.GUID{}, initRunspacePool(c.width)),
	)
	opts := `<w:OptionSet xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><w:Option Name="protocolversion" MustComply="true">` + protocol + `</w:Option></w:OptionSet>`
	if c.compress {
		opts += compressionHeader
	}
	idle := ""
	if c.idle != "" {
		idle = `<rsp:IdleTimeOut>` + c.idle + `</rsp:IdleTimeOut>`
	}
	body := `<rsp:Shell ShellId="` + id + `"><rsp:Name>` + xmlEscape(name) + `</rsp:Name>` + idle + `<rsp:InputStreams>stdin pr</rsp:InputStreams><rsp:OutputStreams>stdout</rsp:OutputStreams>` +
		`<creationXml xmlns="http://schemas.microsoft.com/powershell">` + base64.StdEncoding.EncodeToString(creation) + `</creationXml></rsp:Shell>`
	return c.post(actWinCreate, c.resource, false, opts, body)
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

// runCommand sends Command with the first message in Arguments
// (uncompressed) and the others in one command-level Send (compressed).
func (c *winpsClient) runCommand(pid psrp.GUID, first psrp.Message, more ...psrp.Message) {
	c.t.Helper()
	cid := strings.ToUpper(pid.String())
	opts := `<w:OptionSet xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><w:Option Name="WINRS_SKIP_CMD_SHELL">FALSE</w:Option></w:OptionSet>`
	body := `<rsp:CommandLine CommandId="` + cid + `"><rsp:Command></rsp:Command><rsp:Arguments>` +
		base64.StdEncoding.EncodeToString(c.fragments(first)) + `</rsp:Arguments></rsp:CommandLine>`
	r := c.post(actWinCommand, c.resource, true, opts, body).mustOK(c.t, "Command")
	if got := strings.TrimSpace(r.doc.first("CommandId").text); !strings.EqualFold(got, cid) {
		c.t.Fatalf("CommandResponse CommandId = %q, want %q", got, cid)
	}
	if len(more) > 0 {
		c.sendCommand(pid, c.fragments(more...))
	}
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
// pool's opening messages. It returns those messages.
func (c *winpsClient) open(name string) []psrp.Message {
	c.t.Helper()
	c.createShell(name, winpsProtocol).mustOK(c.t, "Create")
	msgs := c.receivePool(3)
	c.t.Cleanup(c.delete)
	return msgs
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
// 2. Invoke-Command

func TestWinpsInvokeCommand(t *testing.T) {
	ts := startServer(t)
	c := newWinPSClient(t, winURL(ts.httpURL, ""), server.DemoAdmin, adminPassword)
	c.open("WinRM2")
	// The WinRM client keeps a shell-level Receive outstanding for the
	// pool's whole life; pipelines run beside it.
	poolReceive := c.pending(c.envelope(actWinReceive, c.resource, true, keepAlive, c.receiveBody("")))
	defer func() {
		c.delete()
		select {
		case r := <-poolReceive:
			if r.status == http.StatusOK && strings.Contains(r.body, "<rsp:Stream") && !strings.Contains(r.body, "></rsp:Stream>") {
				t.Errorf("the outstanding pool Receive got data during pipelines:\n%s", r.body)
			}
		case <-time.After(10 * time.Second):
			t.Error("the outstanding pool Receive did not end when the shell was deleted")
		}
	}()

	t.Run("named arguments, CLIXML object back", func(t *testing.T) {
		r := c.invoke(createPipeline(true, 15, []winCmd{{cmd: "Get-CsOnlineUser", args: []winArg{{"Identity", str("carol@contoso.test")}}}}))
		r.completed(t, "Get-CsOnlineUser")
		out := r.outputs(t)
		if len(out) != 1 {
			t.Fatalf("got %d outputs, want 1", len(out))
		}
		o, ok := out[0].(*psobject.Object)
		if !ok || prop(o, "DisplayName") != "Carol Diaz" {
			t.Fatalf("output = %#v, want Carol Diaz's user object", out[0])
		}
		if st := intOf(prop(r.stateObj, "PipelineState")); st != 4 {
			t.Errorf("PipelineState = %d", st)
		}
	})

	t.Run("compressed pipeline input", func(t *testing.T) {
		var input []psrp.Message
		words := []string{"delta", "alpha", "charlie", "bravo"}
		for _, w := range words {
			input = append(input, c.message(psrp.MsgPipelineInput, psrp.GUID{}, `<S>`+w+` `+strings.Repeat("padding ", 20)+`</S>`))
		}
		input = append(input, c.message(psrp.MsgEndOfPipelineInput, psrp.GUID{}, ""))
		// Windows compresses a Send stream of this size: check the test
		// really sends an LZ77+Huffman chunk, not a stored one.
		pid := newPID(t)
		frags := c.fragments(withPID(input, pid)...)
		framed := xpress.FrameCompressed(frags)
		if orig, comp := binary.LittleEndian.Uint16(framed[0:]), binary.LittleEndian.Uint16(framed[2:]); orig == comp {
			t.Fatalf("test setup: chunk is stored raw (%d bytes)", orig+1)
		}
		c.runCommand(pid, c.message(psrp.MsgCreatePipeline, pid, createPipeline(false, 15, []winCmd{{cmd: "Sort-Object"}})))
		c.sendCommand(pid, frags)
		r := c.receiveCommand(pid)
		r.completed(t, "Sort-Object")
		var got []string
		for _, v := range r.outputs(t) {
			got = append(got, strings.Fields(fmt.Sprint(v))[0])
		}
		if want := "alpha bravo charlie delta"; strings.Join(got, " ") != want {
			t.Fatalf("sorted input = %q, want %q", got, want)
		}
	})

	t.Run("input larger than one xpress chunk", func(t *testing.T) {
		// 100 000 characters: more than 64 KiB of fragments, so the Send
		// carries two compressed chunks and the answer two stored ones.
		var b strings.Builder
		for i := 0; b.Len() < 100000; i++ {
			fmt.Fprintf(&b, "line %d of the large input; ", i*7919%100003)
		}
		big := b.String()
		pid := newPID(t)
		frags := c.fragments(withPID([]psrp.Message{
			c.message(psrp.MsgPipelineInput, psrp.GUID{}, "<S>"+xmlEscape(big)+"</S>"),
			c.message(psrp.MsgEndOfPipelineInput, psrp.GUID{}, ""),
		}, pid)...)
		if len(frags) <= xpress.MaxChunk {
			t.Fatalf("test setup: %d bytes fit one chunk", len(frags))
		}
		c.runCommand(pid, c.message(psrp.MsgCreatePipeline, pid, createPipeline(false, 15, []winCmd{{cmd: "Write-Output"}})))
		c.sendCommand(pid, frags)
		r := c.receiveCommand(pid)
		r.completed(t, "Write-Output of large input")
		out := r.outputs(t)
		if len(out) != 1 || out[0] != big {
			t.Fatalf("echoed input differs: %d objects", len(out))
		}
	})

	t.Run("CREATE_PIPELINE larger than the Command", func(t *testing.T) {
		// The first fragment rides in Command's Arguments (uncompressed),
		// the rest follows in a compressed Send for the command.
		big := strings.Repeat("an argument of the imported proxy, ", 3000)
		pid := newPID(t)
		create := c.message(psrp.MsgCreatePipeline, pid, createPipeline(true, 15, []winCmd{{cmd: "Write-Output", args: []winArg{{"InputObject", str(big)}}}}))
		c.objectID++
		frags := psrp.EncodeFragments(c.objectID, create, 32<<10)
		first, n, err := psrp.DecodeFragment(frags)
		if err != nil || first.End {
			t.Fatalf("test setup: first fragment %v, %v", first, err)
		}
		cid := strings.ToUpper(pid.String())
		c.post(actWinCommand, c.resource, true, "", `<rsp:CommandLine CommandId="`+cid+`"><rsp:Command></rsp:Command><rsp:Arguments>`+
			base64.StdEncoding.EncodeToString(frags[:n])+`</rsp:Arguments></rsp:CommandLine>`).mustOK(t, "Command")
		c.sendCommand(pid, frags[n:])
		r := c.receiveCommand(pid)
		r.completed(t, "Write-Output of a large argument")
		if out := r.outputs(t); len(out) != 1 || out[0] != big {
			t.Fatalf("got %d objects, want the argument back", len(out))
		}
	})

	t.Run("Ctrl+C stops Start-Sleep", func(t *testing.T) {
		pid := newPID(t)
		c.runCommand(pid, c.message(psrp.MsgCreatePipeline, pid, createPipeline(true, 15, []winCmd{{cmd: "Start-Sleep", args: []winArg{{"Seconds", lit(`<I32 N="V">30</I32>`)}}}})))
		time.Sleep(300 * time.Millisecond)
		start := time.Now()
		c.signal(pid, signalCrtlC).mustOK(t, "Signal crtl_c")
		r := c.receiveCommand(pid)
		if r.state != psrp.PipelineStopped || !r.done {
			t.Fatalf("after crtl_c: state %v, Done %v; want Stopped; messages %v", r.state, r.done, r.msgs)
		}
		if el := time.Since(start); el > 10*time.Second {
			t.Errorf("stopping took %v", el)
		}
		c.signal(pid, signalTerminate).mustOK(t, "Signal terminate")
	})
}

// ---------------------------------------------------------------------------
// 3. Enter-PSSession

func TestWinpsEnterPSSession(t *testing.T) {
	ts := startServer(t)
	c := newWinPSClient(t, winURL(ts.httpURL, ""), server.DemoAdmin, adminPassword)
	c.width = 60 // a narrow console window
	c.open("WinRM3")

	t.Run("command probe", func(t *testing.T) {
		pid := newPID(t)
		c.runCommand(pid, c.message(psrp.MsgGetCommandMetadata, pid,
			getCommandMetadata([]string{"Out-Default", "Exit-PSSession"}, 271, "Alias, Function, Filter, Cmdlet, Configuration", nil)))
		r := c.receiveCommand(pid)
		r.completed(t, "GET_COMMAND_METADATA")
		out := r.outputs(t)
		if len(out) < 3 {
			t.Fatalf("probe returned %d objects, want ≥ 3 (count + Out-Default + Exit-PSSession): %v", len(out), out)
		}
		names := map[string]bool{}
		for _, v := range out[1:] {
			if o, ok := v.(*psobject.Object); ok {
				name, _ := prop(o, "Name").(string)
				names[name] = true
			}
		}
		if !names["Out-Default"] || !names["Exit-PSSession"] {
			t.Errorf("probe listed %v, want Out-Default and Exit-PSSession", names)
		}
	})

	t.Run("prompt", func(t *testing.T) {
		r := c.invoke(createPipeline(true, 0, []winCmd{{cmd: "prompt"}}))
		r.completed(t, "prompt")
		out := r.outputs(t)
		if len(out) == 0 {
			t.Fatal("prompt returned nothing")
		}
		if s, ok := out[0].(string); !ok || s == "" {
			t.Fatalf("prompt returned %#v, want a string", out[0])
		}
	})

	t.Run("typed line comes back as WriteLine2 host calls", func(t *testing.T) {
		yes := true
		outDefault := winCmd{cmd: "Out-Default", useLocalScope: &yes, mergePrevious: 3}
		line1 := []winCmd{{cmd: "Get-CsOnlineUser", mergeMy: 2, mergeTo: 1, args: []winArg{{"Identity", str("carol@contoso.test")}}}, outDefault}
		line2 := []winCmd{{cmd: "Write-Output", args: []winArg{{"", str("psgate-marker")}}}, outDefault}
		r := c.invoke(createPipeline(true, 0, line1, line2))
		r.completed(t, "typed line")
		if out := r.of(psrp.MsgPipelineOutput); len(out) != 0 {
			t.Errorf("got %d PIPELINE_OUTPUT messages: the console host drops them", len(out))
		}
		var text strings.Builder
		for _, m := range r.of(psrp.MsgPipelineHostCall) {
			o := decodeObj(t, m)
			if ci := intOf(prop(o, "ci")); ci != -100 {
				t.Errorf("host call ci = %d, want -100 (void)", ci)
			}
			if mi := intOf(prop(o, "mi")); mi != 16 {
				t.Errorf("host call mi = %d, want 16 (WriteLine2)", mi)
			}
			params, _ := prop(o, "mp").([]any)
			if len(params) != 1 {
				t.Fatalf("WriteLine2 parameters = %#v, want one string", prop(o, "mp"))
			}
			line := fmt.Sprint(params[0])
			if n := len([]rune(line)); n > c.width {
				t.Errorf("line of %d characters is wider than the %d-column console: %q", n, c.width, line)
			}
			text.WriteString(line + "\n")
		}
		for _, want := range []string{"Carol Diaz", "psgate-marker"} {
			if !strings.Contains(text.String(), want) {
				for _, m := range r.msgs {
					t.Logf("%v %s", m.Type, m.Data)
				}
				t.Errorf("console text lacks %q:\n%s", want, text.String())
			}
		}
	})

	t.Run("a line PowerShell cannot convert goes as a script", func(t *testing.T) {
		// RunspaceRef.CreatePipeline falls back to AddScript (IsScript
		// true) when ScriptBlock.GetPowerShell refuses the line (here: two
		// statements); the executor still appends Out-Default.
		yes := true
		outDefault := winCmd{cmd: "Out-Default", useLocalScope: &yes, mergePrevious: 3}
		line := []winCmd{{cmd: "Get-CsOnlineUser -Identity carol@contoso.test; Write-Output psgate-second", isScript: true, useLocalScope: &yes, mergeMy: 2, mergeTo: 1}, outDefault}
		r := c.invoke(createPipeline(true, 0, line))
		r.completed(t, "script line")
		if out := r.of(psrp.MsgPipelineOutput); len(out) != 0 {
			t.Errorf("got %d PIPELINE_OUTPUT messages", len(out))
		}
		text := hostText(t, r)
		for _, want := range []string{"Carol Diaz", "psgate-second"} {
			if !strings.Contains(text, want) {
				t.Errorf("console text lacks %q:\n%s", want, text)
			}
		}

		// An assignment is language: the NoLanguage endpoint refuses it
		// with the ParseException PowerShell's restricted endpoints use.
		line = []winCmd{{cmd: "$u = Get-CsOnlineUser -Identity carol@contoso.test", isScript: true, useLocalScope: &yes, mergeMy: 2, mergeTo: 1}, outDefault}
		r = c.invoke(createPipeline(true, 0, line))
		if r.state != psrp.PipelineFailed {
			t.Fatalf("assignment: state %v, want Failed", r.state)
		}
		rec, _ := prop(r.stateObj, "ExceptionAsErrorRecord").(*psobject.Object)
		if rec == nil {
			t.Fatal("assignment: no ExceptionAsErrorRecord")
		}
		assertErrorPackage(t, rec)
		exc, _ := prop(rec, "Exception").(*psobject.Object)
		if msg, _ := prop(exc, "Message").(string); !strings.Contains(msg, "no-language mode") {
			t.Errorf("assignment refused with %q, want the no-language mode text", msg)
		}
	})

	t.Run("an error in a typed line is shown", func(t *testing.T) {
		yes := true
		line := []winCmd{{cmd: "Write-Error", mergeMy: 2, mergeTo: 1, args: []winArg{{"Message", str("psgate-boom")}}}, {cmd: "Out-Default", useLocalScope: &yes, mergePrevious: 3}}
		r := c.invoke(createPipeline(true, 0, line))
		r.completed(t, "Write-Error line")
		var errLines []string
		for _, m := range r.of(psrp.MsgPipelineHostCall) {
			o := decodeObj(t, m)
			if mi := intOf(prop(o, "mi")); mi != 18 {
				t.Errorf("host call mi = %d, want 18 (WriteErrorLine)", mi)
			}
			params, _ := prop(o, "mp").([]any)
			if len(params) == 1 {
				errLines = append(errLines, fmt.Sprint(params[0]))
			}
		}
		if len(errLines) == 0 || !strings.Contains(errLines[0], "psgate-boom") {
			t.Fatalf("WriteErrorLine text = %q, want the error's message first", errLines)
		}
	})

	t.Run("exit", func(t *testing.T) {
		yes := true
		r := c.invoke(createPipeline(true, 0, []winCmd{{cmd: "Exit-PSSession"}, {cmd: "Out-Default", useLocalScope: &yes, mergePrevious: 3}}))
		r.completed(t, "Exit-PSSession")
		calls := r.of(psrp.MsgPipelineHostCall)
		if len(calls) != 1 {
			t.Fatalf("Exit-PSSession sent %d host calls, want 1 (PopRunspace)", len(calls))
		}
		o := decodeObj(t, calls[0])
		if mi, ci := intOf(prop(o, "mi")), intOf(prop(o, "ci")); mi != 53 || ci != -100 {
			t.Fatalf("host call mi %d ci %d, want PopRunspace (53), -100", mi, ci)
		}
	})
}

// hostText joins the text of a pipeline's WriteLine host calls.
func hostText(t *testing.T, r pipeResult) string {
	t.Helper()
	var b strings.Builder
	for _, m := range r.of(psrp.MsgPipelineHostCall) {
		if params, ok := prop(decodeObj(t, m), "mp").([]any); ok && len(params) == 1 {
			b.WriteString(fmt.Sprint(params[0]) + "\n")
		}
	}
	return b.String()
}

// ---------------------------------------------------------------------------
// 4. Import-PSSession

var safeName = regexp.MustCompile(`^[-._:\\\p{Ll}\p{Lu}\p{Lt}\p{Lo}\p{Nd}\p{Lm}]{1,100}$`)

func TestWinpsImportPSSession(t *testing.T) {
	ts := startServer(t)
	c := newWinPSClient(t, winURL(ts.httpURL, ""), server.DemoAdmin, adminPassword)
	c.open("WinRM4")

	pid := newPID(t)
	c.runCommand(pid, c.message(psrp.MsgGetCommandMetadata, pid,
		getCommandMetadata([]string{"*"}, 399, "Alias, Function, Filter, Cmdlet, Workflow, Configuration", []string{})))
	r := c.receiveCommand(pid)
	r.completed(t, "GET_COMMAND_METADATA *")
	out := r.outputs(t)
	if len(out) < 2 {
		t.Fatalf("got %d objects, want the count and commands", len(out))
	}
	count, ok := out[0].(*psobject.Object)
	if !ok || intOf(prop(count, "Count")) != int64(len(out)-1) {
		t.Fatalf("count object %#v, want Count = %d (the objects that follow)", out[0], len(out)-1)
	}
	common := []string{"Verbose", "Debug", "ErrorAction", "WarningAction", "InformationAction", "ErrorVariable",
		"WarningVariable", "InformationVariable", "OutVariable", "OutBuffer", "PipelineVariable"}
	sawCsUser := false
	for _, v := range out[1:] {
		o, ok := v.(*psobject.Object)
		if !ok {
			t.Fatalf("command metadata %#v is not an object", v)
		}
		name, _ := prop(o, "Name").(string)
		if !safeName.MatchString(name) {
			t.Errorf("command name %q would be skipped by Import-PSSession", name)
		}
		sawCsUser = sawCsUser || name == "Get-CsOnlineUser"
		if ct := intOf(prop(o, "CommandType")); ct != 8 {
			t.Errorf("%s: CommandType %d, want Cmdlet (8)", name, ct)
		}
		params, ok := prop(o, "Parameters").(*psobject.Dict)
		if !ok {
			t.Fatalf("%s: Parameters is %T, want a dictionary", name, prop(o, "Parameters"))
		}
		have := map[string]bool{}
		for _, en := range params.Entries {
			key := fmt.Sprint(en.Key)
			have[key] = true
			pm, ok := en.Value.(*psobject.Object)
			if !ok {
				t.Fatalf("%s -%s: metadata %T", name, key, en.Value)
			}
			for _, f := range []string{"Name", "IsDynamic", "SwitchParameter"} {
				if _, ok := pm.Get(f); !ok {
					t.Errorf("%s -%s lacks %s: Import-PSSession reports malformed data", name, key, f)
				}
			}
			if strings.Contains(key, ":") || !safeName.MatchString(key) {
				t.Errorf("%s: parameter name %q is not safe", name, key)
			}
		}
		for _, p := range common {
			if !have[p] {
				t.Errorf("%s lacks common parameter %s: the proxy would not be cmdlet-binding", name, p)
			}
		}
	}
	if !sawCsUser {
		t.Error("Get-CsOnlineUser is not among the commands")
	}

	typeNames := func() winArg { return winArg{"TypeName", func(x *cx) string { return x.strings("V", "*") }} }
	version := winArg{"PowerShellVersion", lit(`<Version N="V">` + winpsVersion + `</Version>`)}
	r = c.invoke(createPipeline(true, 0, []winCmd{{cmd: "Get-FormatData", args: []winArg{typeNames(), version}}, {cmd: "Measure-Object"}}))
	r.completed(t, "Get-FormatData | Measure-Object")
	mo := r.outputs(t)
	if len(mo) != 1 {
		t.Fatalf("Measure-Object returned %d objects", len(mo))
	}
	if o, ok := mo[0].(*psobject.Object); !ok || intOf(prop(o, "Count")) < 0 {
		t.Fatalf("Measure-Object returned %#v, want an object with Count", mo[0])
	}
	r = c.invoke(createPipeline(true, 0, []winCmd{{cmd: "Get-FormatData", args: []winArg{typeNames(), version}}}))
	r.completed(t, "Get-FormatData")

	// The imported proxy's call: a plain command, named arguments, and
	// -ErrorAction forwarded as an ActionPreference enum.
	errorAction := func(x *cx) string { return x.enum("V", "System.Management.Automation.ActionPreference", "Stop", 1) }
	r = c.invoke(createPipeline(true, 15, []winCmd{{cmd: "Get-CsOnlineUser", args: []winArg{
		{"Identity", str("carol@contoso.test")}, {"ErrorAction", errorAction}}}}))
	r.completed(t, "imported Get-CsOnlineUser")
	if got := r.outputs(t); len(got) != 1 {
		t.Fatalf("imported command returned %d objects, want 1", len(got))
	}

	// A switch forwarded from $PSBoundParameters is a SwitchParameter
	// object, not a <B>.
	passThru := func(x *cx) string {
		return x.obj("V", x.typeNames("System.Management.Automation.SwitchParameter", "System.ValueType", "System.Object")+
			`<ToString>True</ToString><Props><B N="IsPresent">true</B></Props>`)
	}
	r = c.invoke(createPipeline(true, 15, []winCmd{{cmd: "Set-CsUser", args: []winArg{
		{"Identity", str("carol@contoso.test")}, {"Department", str("Winps")}, {"PassThru", passThru}}}}))
	r.completed(t, "imported Set-CsUser -PassThru")
	got := r.outputs(t)
	if len(got) != 1 {
		t.Fatalf("Set-CsUser -PassThru returned %d objects, want the user", len(got))
	}
	if o, ok := got[0].(*psobject.Object); !ok || prop(o, "Department") != "Winps" {
		t.Fatalf("Set-CsUser -PassThru returned %#v, want Department Winps", got[0])
	}
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
		r := c.invoke(createPipeline(true, 15, []winCmd{{cmd: "Get-CsOnlineUser", args: []winArg{{"Identity", str("nobody@contoso.test")}}}}))
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
		r := c.invoke(createPipeline(true, 15, []winCmd{{cmd: "Get-CsOnlineUser", args: []winArg{
			{"Identity", str("carol@contoso.test")}, {"Credential", cred}}}}))
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
		r := c.invoke(createPipeline(true, 15, []winCmd{{cmd: "Get-NoSuchThing", args: []winArg{{"Identity", str("x")}}}}))
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

// ---------------------------------------------------------------------------
// 6. Disconnect-PSSession, then Connect-PSSession from another client

func TestWinpsDisconnectConnect(t *testing.T) {
	ts := startServer(t)
	c := newWinPSClient(t, winURL(ts.httpURL, ""), server.DemoAdmin, adminPassword)
	// New-PSSession -SessionOption (New-PSSessionOption -IdleTimeout 120000)
	c.idle = "PT120.000S"
	c.createShell("WinRM7", winpsProtocol).mustOK(t, "Create")
	c.receivePool(3)
	t.Cleanup(c.delete)

	// Disconnect-PSSession -IdleTimeoutSec 600 first checks, on the client,
	// 60 s ≤ 600 s ≤ the MaxIdleTimeOut the server reported
	// (DisconnectPSSessionCommand.ValidateIdleTimeout).
	r := c.post(actWinEnumerate, winShellResource, false, "",
		`<n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>32000</w:MaxElements></n:Enumerate>`).mustOK(t, "Enumerate")
	if got := seconds(t, r.doc.first("MaxIdleTimeOut").text); got < 600 {
		t.Fatalf("MaxIdleTimeOut = %v s: Disconnect-PSSession -IdleTimeoutSec 600 would be refused by the client", got)
	}
	if got := seconds(t, r.doc.first("IdleTimeOut").text); got != 120 {
		t.Errorf("IdleTimeOut = %v s, want the 120 s the client asked for", got)
	}
	// A command is running when the client disconnects; its output waits
	// on the server (BufferMode Block).
	running := newPID(t)
	c.runCommand(running, c.message(psrp.MsgCreatePipeline, running, createPipeline(true, 15,
		[]winCmd{{cmd: "Start-Sleep", args: []winArg{{"Milliseconds", lit(`<I32 N="V">300</I32>`)}}}},
		[]winCmd{{cmd: "Get-CsOnlineUser", args: []winArg{{"Identity", str("carol@contoso.test")}}}})))
	c.post(actWinDisconnect, c.resource, true, "", `<rsp:Disconnect><rsp:IdleTimeOut>PT600.000S</rsp:IdleTimeOut></rsp:Disconnect>`).mustOK(t, "Disconnect")
	time.Sleep(500 * time.Millisecond)

	// Get-PSSession -ConnectionUri: Get-WSManInstance drops the query, and
	// the client is a new process with a new WinRM session.
	c2 := newWinPSClient(t, strings.Replace(ts.httpURL, "/wsman", "/powershell", 1), server.DemoAdmin, adminPassword)
	r = c2.post(actWinEnumerate, winShellResource, false, "",
		`<n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>32000</w:MaxElements></n:Enumerate>`).mustOK(t, "Enumerate")
	var found *xnode
	for _, sh := range r.doc.all("Shell") {
		if strings.EqualFold(strings.TrimSpace(sh.first("ShellId").text), c.shellID) {
			found = sh
		}
	}
	if found == nil {
		t.Fatalf("Enumerate does not list shell %s:\n%s", c.shellID, r.body)
	}
	for name, want := range map[string]string{"State": "Disconnected", "Name": "WinRM7", "CompressionMode": "XpressCompression"} {
		if got := strings.TrimSpace(found.first(name).text); got != want {
			t.Errorf("enumerated %s = %q, want %q", name, got, want)
		}
	}
	if ru := strings.TrimSpace(found.first("ResourceUri").text); !strings.HasPrefix(ru, "http://schemas.microsoft.com/powershell/") {
		t.Errorf("ResourceUri = %q: Get-PSSession skips it", ru)
	}
	if it := seconds(t, found.first("IdleTimeOut").text); it != 600 {
		t.Errorf("IdleTimeOut after Disconnect -IdleTimeoutSec 600 = %v s", it)
	}

	// Then, per PowerShell shell, its commands.
	filter := `<w:Filter Dialect="http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter"><w:SelectorSet><w:Selector Name="ShellId">` +
		c.shellID + `</w:Selector></w:SelectorSet></w:Filter>`
	r = c2.post(actWinEnumerate, winShellResource+"/Command", false, "",
		`<n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>32000</w:MaxElements>`+filter+`</n:Enumerate>`).mustOK(t, "Enumerate commands")
	if r.doc.first("EndOfSequence").name == "" {
		t.Errorf("command enumeration is not complete in one response:\n%s", r.body)
	}
	if ids := r.doc.all("CommandId"); len(ids) != 1 || !strings.EqualFold(strings.TrimSpace(ids[0].text), running.String()) {
		t.Errorf("enumerated commands = %d, want the running command %v:\n%s", len(ids), running, r.body)
	}

	// Connect-PSSession: connectXml carries SESSION_CAPABILITY and
	// CONNECT_RUNSPACEPOOL, uncompressed.
	c2.shellID, c2.rpid = c.shellID, c.rpid
	c2.compress = strings.TrimSpace(found.first("CompressionMode").text) == "XpressCompression"
	c2.objectID = 100
	connectXML := c2.fragments(
		c2.message(psrp.MsgSessionCapability, psrp.GUID{}, sessionCapability(winpsProtocol)),
		c2.message(psrp.MsgConnectRunspacePool, psrp.GUID{}, `<Obj RefId="0"><MS><I32 N="MinRunspaces">1</I32><I32 N="MaxRunspaces">1</I32></MS></Obj>`),
	)
	r = c2.post(actWinConnect, c2.resource, true, "",
		`<rsp:Connect><connectXml xmlns="http://schemas.microsoft.com/powershell">`+base64.StdEncoding.EncodeToString(connectXML)+`</connectXml></rsp:Connect>`).mustOK(t, "Connect")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(r.doc.first("connectResponseXml").text))
	if err != nil {
		t.Fatalf("connectResponseXml: %v\n%s", err, r.body)
	}
	var in psrp.Reassembler
	msgs, err := in.Write(raw)
	if err != nil {
		t.Fatalf("connectResponseXml is not PSRP fragments (it is never compressed): %v", err)
	}
	if len(msgs) != 2 || msgs[0].Type != psrp.MsgSessionCapability || msgs[1].Type != psrp.MsgRunspacePoolInitData {
		t.Fatalf("connectResponseXml = %v, want SESSION_CAPABILITY, RUNSPACEPOOL_INIT_DATA", msgs)
	}
	if v := fmt.Sprint(prop(decodeObj(t, msgs[0]), "protocolversion")); v != "2.3" {
		t.Errorf("protocolversion = %q", v)
	}
	init := decodeObj(t, msgs[1])
	if intOf(prop(init, "MinRunspaces")) != 1 || intOf(prop(init, "MaxRunspaces")) != 1 {
		t.Errorf("RUNSPACEPOOL_INIT_DATA = %s", msgs[1].Data)
	}

	pool := c2.receivePool(1)
	if pool[0].Type != psrp.MsgApplicationPrivateData {
		t.Fatalf("first pool message after Connect = %v, want APPLICATION_PRIVATE_DATA", pool[0].Type)
	}

	// Receive-PSSession: Connect to the command, then receive what it
	// wrote while nobody was connected.
	c2.post(actWinConnect, c2.resource, true, "", `<rsp:Connect CommandId="`+strings.ToUpper(running.String())+`"/>`).mustOK(t, "Connect command")
	buffered := c2.receiveCommand(running)
	buffered.completed(t, "command run while disconnected")
	if out := buffered.outputs(t); len(out) != 1 {
		t.Fatalf("got %d buffered objects, want 1", len(out))
	}
	c2.signal(running, signalTerminate).mustOK(t, "Signal terminate")
	res := c2.invoke(createPipeline(true, 15, []winCmd{{cmd: "Get-CsOnlineUser", args: []winArg{{"Identity", str("carol@contoso.test")}}}}))
	res.completed(t, "pipeline after Connect")
	if out := res.outputs(t); len(out) != 1 {
		t.Fatalf("got %d objects after Connect, want 1", len(out))
	}
}

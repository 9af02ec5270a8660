package wsman

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate/internal/xmlscantest"
)

// recordedEnvelope is a request or response envelope kept in the repository:
// recorded from a real client or server, or written by psgate's own client.
type recordedEnvelope struct {
	name string
	body []byte
	// hot marks a request the gateway decodes on its hot path; the fast
	// path must take it.
	hot bool
}

// recordedEnvelopes returns every recorded envelope: the client requests of
// testdata/requests and interop/testdata/winps, psgate's own client
// requests, and the WinRM responses and faults (not requests, but
// envelopes all the same).
func recordedEnvelopes(t testing.TB) []recordedEnvelope {
	t.Helper()
	var out []recordedEnvelope
	for _, g := range []struct {
		pattern string
		hot     bool
	}{
		{"testdata/requests/*.xml", true},
		{"../interop/testdata/winps/*.xml", true},
		{"testdata/winrm/*.xml", false},
		{"testdata/golden/*.xml", false},
		{"testdata/faults/*.xml", false},
	} {
		files, err := filepath.Glob(g.pattern)
		if err != nil || len(files) == 0 {
			t.Fatalf("no envelopes match %s", g.pattern)
		}
		for _, f := range files {
			out = append(out, recordedEnvelope{name: f, body: readFile(t, f), hot: g.hot})
		}
	}
	create := clientReq()
	create.ShellID = ""
	create.Options = []Option{{Name: "protocolversion", Value: "2.3", MustComply: true}}
	const cmd = "C0FFEE00-0000-4000-8000-000000000000"
	for name, body := range map[string][]byte{
		"create": EncodeCreateRequest(create, CreateShell{ShellID: testRPID, Name: "Runspace1", InputStreams: []string{"stdin", "pr"},
			OutputStreams: []string{"stdout"}, IdleTimeout: 5 * time.Minute, CreationXML: []byte("frag<&>")}),
		"command":   EncodeCommandRequest(clientReq(), cmd, "", []byte{1, 2, 3}),
		"send":      EncodeSendRequest(clientReq(), Stream{Name: "stdin", CommandID: cmd, End: true, Data: []byte("hi")}),
		"receive":   EncodeReceiveRequest(clientReq(), cmd, "stdout"),
		"signal":    EncodeSignalRequest(clientReq(), cmd, PSSignalCrtlC),
		"delete":    EncodeDeleteRequest(clientReq()),
		"enumerate": EncodeEnumerateRequest(Request{To: "x", ResourceURI: ResourceShellCommand, MessageID: clientMsgID}, "S1"),
	} {
		out = append(out, recordedEnvelope{name: "psgate client " + name, body: body, hot: true})
	}
	slices.SortFunc(out, func(a, b recordedEnvelope) int { return strings.Compare(a.name, b.name) })
	return out
}

// checkFastAgrees fails t unless the fast path agrees with the general one
// on body: a tree scanTree builds is the one parseTree builds, an envelope
// decodeFast returns is the one decodeGeneral returns, and Decode returns
// exactly what decodeGeneral does. It reports whether the fast path took
// the body.
func checkFastAgrees(t *testing.T, body []byte, lim Limits) bool {
	t.Helper()
	dl := lim.withDefaults()
	if len(body) <= dl.MaxEnvelopeSize {
		if got, ok := scanTree(body, dl); ok {
			want, err := parseTree(body, dl)
			if err != nil {
				t.Fatalf("scanTree accepted what parseTree rejects (%v):\n%q", err, body)
			}
			if d := treeDiff(want, got, ""); d != "" {
				t.Fatalf("scanTree and parseTree differ at %s:\n%q", d, body)
			}
		}
	}
	want, wantErr := decodeGeneral(body, lim)
	fast, ok := decodeFast(body, lim)
	if ok {
		if wantErr != nil {
			t.Fatalf("decodeFast accepted what decodeGeneral rejects (%v):\n%q", wantErr, body)
		}
		if diff := cmp.Diff(want, fast); diff != "" {
			t.Fatalf("decodeFast (-general +fast):\n%s\n%q", diff, body)
		}
	}
	got, err := Decode(body, lim)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Decode (-general +Decode):\n%s\n%q", diff, body)
	}
	if errString(err) != errString(wantErr) {
		t.Fatalf("Decode error = %v, general error = %v\n%q", err, wantErr, body)
	}
	return ok
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// treeDiff describes the first difference between two trees, or returns "".
// Element text compares by content: encoding/xml gives nil where the
// scanner may give an empty slice.
func treeDiff(want, got *node, path string) string {
	path += "/" + got.name.Local
	switch {
	case want.name != got.name:
		return fmt.Sprintf("%s: name %v, want %v", path, got.name, want.name)
	case !slices.Equal(want.attrs, got.attrs):
		return fmt.Sprintf("%s: attributes %v, want %v", path, got.attrs, want.attrs)
	case !bytes.Equal(want.text, got.text):
		return fmt.Sprintf("%s: text %q, want %q", path, got.text, want.text)
	case len(want.kids) != len(got.kids):
		return fmt.Sprintf("%s: %d children, want %d", path, len(got.kids), len(want.kids))
	}
	for i := range want.kids {
		if d := treeDiff(want.kids[i], got.kids[i], path); d != "" {
			return d
		}
	}
	return ""
}

// The hot-path requests of every client decode through the fast path, with
// the general decoder's result; the other recorded envelopes agree too.
func TestFastDecodeRecorded(t *testing.T) {
	for _, e := range recordedEnvelopes(t) {
		t.Run(e.name, func(t *testing.T) {
			took := checkFastAgrees(t, e.body, Limits{})
			if e.hot && !took {
				t.Errorf("the fast path declined %s", e.name)
			}
		})
	}
}

// Edits of every recorded envelope, some outside the fast path's subset,
// decode the same through Decode as through decodeGeneral.
func TestFastDecodeVariants(t *testing.T) {
	for _, e := range recordedEnvelopes(t) {
		for i, v := range variants(e.body) {
			t.Run(fmt.Sprintf("%s#%d", e.name, i), func(t *testing.T) {
				checkFastAgrees(t, v, Limits{})
				checkFastAgrees(t, v, Limits{MaxDepth: 5, MaxElements: 40})
			})
		}
	}
}

// variants returns edits of a recorded envelope: xmlscantest's edits of
// the markup, and envelope forms the fast path takes (references, CDATA,
// single quotes, prefix rebinding) or must decline (unknown entities,
// unbound or reserved prefixes, elements duplicated or missing).
func variants(body []byte) [][]byte {
	e := xmlscantest.NewEdits(body)
	e.Markup()
	body = e.Doc
	add, repl := e.Add, e.Replace
	repl("uuid:", "uuid&#58;")
	repl("uuid:", "uuid&#x3a;")
	repl("uuid:", "uuid&#X3a;")
	repl("uuid:", "uuid&colon;")
	repl("uuid:", "uuid&#xD800;")
	repl("uuid:", "uuid&#0;")
	repl("uuid:", "uuid&#1114112;")
	repl("uuid:", "&lt;&gt;&amp;&apos;&quot;")
	repl("uuid:", "]]>")
	repl("uuid:", "]]&gt;")
	repl("uuid:", "\x01")
	repl("uuid:", "\xff")
	repl("uuid:", "é\u2028\U0001F600")
	repl("uuid:", "\uFFFE")
	repl("uuid:", "<![CDATA[uu]]><![CDATA[]]>id<![CDATA[:]]>")
	repl("uuid:", "<![CDATA[<&>\r\n]]>")
	repl(`"en-US"`, `'en-US'`)
	repl(`"en-US"`, `"en&#45;US"`)
	repl(`"en-US"`, "\"en\r\nUS\t\"")
	repl(`"en-US"`, `"en<US"`)
	repl(`"en-US"`, `en-US`)
	repl(`Name="ShellId"`, `Name="ShellId" Name="Other"`)
	repl(`Name="ShellId"`, `name = "ShellId"`)
	repl(`Name="ShellId"`, `x:Name="ShellId"`)
	repl(`Name="ShellId"`, `xml:Name="ShellId"`)
	repl(`Name="ShellId"`, `Name="ShellId"/`)
	repl("Header>", `Header><x:Foo xmlns:x="urn:x" s:mustUnderstand="true">1</x:Foo>`)
	repl("Header>", `Header><Foo xmlns="urn:x"><Bar xmlns="">1</Bar></Foo>`)
	repl("Header>", `Header><Foo xmlns="">1</Foo>`)
	repl("Header>", `Header><Foo xmlns:q="">1</Foo>`)
	repl("Header>", `Header><xml:Foo>1</xml:Foo>`)
	repl("Header>", `Header><Foo xmlns:xml="`+NsXML+`">1</Foo>`)
	repl("Header>", `Header><é>1</é>`)
	repl("Header>", `Header><a:b:c>1</a:b:c>`)
	repl("Header>", `Header><:a>1</:a>`)
	repl("Header>", `Header><?pi x?>`)
	repl("Header>", `Header><!-x-->`)
	repl("Body>", `Body xmlns:rsp="urn:other">`)
	repl("Body>", `Body xmlns="`+NsShell+`">`)
	repl("</", "</ ")
	repl("</", "</x")
	repl("/>", " />")
	repl("/>", "/ >")
	for _, tag := range []string{"Action", "MessageID", "ResourceURI", "Selector", "DesiredStream", "Stream", "Code", "Arguments", "Shell"} {
		re := regexp.MustCompile(`<([A-Za-z]+:)?` + tag + `[ >][^<]*</([A-Za-z]+:)?` + tag + `>`)
		if m := re.Find(body); m != nil {
			i := re.FindIndex(body)[0]
			dup := slices.Concat(body[:i], m, body[i:]) // duplicate element
			add(dup)
			add(slices.Concat(body[:i], body[i+len(m):])) // element removed
		}
	}
	return e.Out
}

// Specific forms: whether the fast path takes them, and (through
// checkFastAgrees) that either way Decode agrees with the general decoder.
func TestFastDecodeForms(t *testing.T) {
	env := func(prolog, header, body string) []byte {
		return []byte(prolog + `<s:Envelope xmlns:s="` + NsSOAP + `" xmlns:a="` + NsAddressing + `" xmlns:w="` + NsWSMan + `" xmlns:rsp="` + NsShell + `">` +
			`<s:Header><a:Action s:mustUnderstand="true">` + ActionReceive + `</a:Action><a:MessageID>uuid:1</a:MessageID>` +
			`<w:ResourceURI>` + ResourceCmd + `</w:ResourceURI>` + header + `</s:Header><s:Body>` + body + `</s:Body></s:Envelope>`)
	}
	receive := `<rsp:Receive><rsp:DesiredStream CommandId="C">stdout</rsp:DesiredStream></rsp:Receive>`
	tests := []struct {
		name string
		body []byte
		fast bool
	}{
		{"plain", env("", "", receive), true},
		{"declaration", env(`<?xml version="1.0" encoding="utf-8"?>`+"\n", "", receive), true},
		{"BOM", env("\xEF\xBB\xBF", "", receive), true},
		{"comments", env("<!-- c -->", "<!-- c -->", receive), true},
		{"CDATA", env("", "", `<rsp:Receive><rsp:DesiredStream><![CDATA[stdout]]> stderr</rsp:DesiredStream></rsp:Receive>`), true},
		{"references", env("", "", `<rsp:Receive><rsp:DesiredStream CommandId="&#67;&amp;">std&#x6F;ut&lt;</rsp:DesiredStream></rsp:Receive>`), true},
		{"CRLF", env("", "\r\n", "\r\n"+receive+"\r\n"), true},
		{"unknown mustUnderstand header", env("", `<x:Foo xmlns:x="urn:x" s:mustUnderstand="true">1</x:Foo>`, receive), true},
		{"default namespace", env("", "", `<Receive xmlns="`+NsShell+`"><DesiredStream>stdout</DesiredStream></Receive>`), true},
		{"prefix rebound", env("", "", `<rsp:Receive xmlns:rsp="urn:other"/><rsp:Receive xmlns:rsp="`+NsShell+`"/>`), true},
		{"duplicate headers", env("", `<a:Action>`+ActionSend+`</a:Action><a:MessageID>uuid:2</a:MessageID>`, `<rsp:Send/>`), true},

		{"UTF-16", xmlscantest.UTF16(string(env("", "", receive)), false, true), false},
		{"DOCTYPE", env(`<!DOCTYPE s:Envelope>`, "", receive), false},
		{"declared entity", env(`<!DOCTYPE x [<!ENTITY e "v">]>`, "&e;", receive), false},
		{"unknown entity", env("", "&nbsp;", receive), false},
		{"surrogate reference", env("", "", `<rsp:Receive><rsp:DesiredStream>&#xD800;</rsp:DesiredStream></rsp:Receive>`), false},
		{"processing instruction", env("", "<?pi?>", receive), false},
		{"unbound prefix", env("", "<x:Foo/>", receive), false},
		{"non-ASCII name", env("", "<é/>", receive), false},
		{"declaration not first", env(" <?xml version=\"1.0\"?>", "", receive), false},
		{"mismatched end tag", env("", "<a:To>x</a:to>", receive), false},
		{"bad duration", env("", "<w:OperationTimeout>soon</w:OperationTimeout>", receive), false},
		{"missing body element", env("", "", ""), false},
		{"too deep", env("", strings.Repeat("<x>", 40)+strings.Repeat("</x>", 40), receive), false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if took := checkFastAgrees(t, tt.body, Limits{}); took != tt.fast {
				t.Errorf("fast path took it = %v, want %v", took, tt.fast)
			}
		})
	}
}

func TestFastDecodeLimits(t *testing.T) {
	body := readFile(t, "testdata/requests/pypsrp-psrp-send.xml")
	for _, lim := range []Limits{
		{MaxEnvelopeSize: len(body)}, {MaxEnvelopeSize: len(body) - 1},
		{MaxDepth: 4}, {MaxDepth: 3},
		{MaxElements: 25}, {MaxElements: 5},
	} {
		t.Run(fmt.Sprintf("%+v", lim), func(t *testing.T) {
			took := checkFastAgrees(t, body, lim)
			_, err := decodeGeneral(body, lim)
			if took != (err == nil) {
				t.Errorf("fast path took it = %v, general error %v", took, err)
			}
		})
	}
}

// The decoded envelope owns its memory: the gateway may reuse the body.
func TestFastDecodeDoesNotAliasBody(t *testing.T) {
	for _, e := range recordedEnvelopes(t) {
		body := bytes.Clone(e.body)
		env, ok := decodeFast(body, Limits{})
		if !ok {
			continue
		}
		want, _ := decodeGeneral(e.body, Limits{})
		for i := range body {
			body[i] = 'X'
		}
		if diff := cmp.Diff(want, env); diff != "" {
			t.Errorf("%s: envelope changed with the body (-want +got):\n%s", e.name, diff)
		}
	}
}

// FuzzFastDecode is the differential check of the fast path: for every
// input and limits, the scanner's tree is parseTree's, decodeFast never
// accepts what decodeGeneral rejects and returns the same envelope, and
// Decode returns exactly decodeGeneral's result.
func FuzzFastDecode(f *testing.F) {
	for _, e := range recordedEnvelopes(f) {
		for _, v := range variants(e.body) {
			f.Add(v, uint8(0), uint16(0))
		}
		f.Add(e.body, uint8(6), uint16(30))
	}
	for _, b := range xmlscantest.Corpus(f, "testdata/fuzz/FuzzDecode") {
		f.Add(b, uint8(0), uint16(0))
	}
	// One Decoder for every input: what an earlier input left in its
	// arrays must never reach a later envelope.
	var d Decoder
	f.Fuzz(func(t *testing.T, body []byte, depth uint8, elements uint16) {
		lim := Limits{MaxEnvelopeSize: 64 << 10, MaxDepth: int(depth), MaxElements: int(elements)}
		checkFastAgrees(t, body, lim)
		checkDecoderAgrees(t, &d, body, lim)
	})
}

// checkDecoderAgrees fails t unless d decodes body as Decode does.
func checkDecoderAgrees(t *testing.T, d *Decoder, body []byte, lim Limits) *Envelope {
	t.Helper()
	want, wantErr := Decode(body, lim)
	got, err := d.Decode(body, lim)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("a reused Decoder (-Decode +Decoder):\n%s\n%q", diff, body)
	}
	if errString(err) != errString(wantErr) {
		t.Fatalf("a reused Decoder's error = %v, Decode's = %v\n%q", err, wantErr, body)
	}
	return got
}

// A Decoder used for one envelope after another returns what Decode does
// for each, and the envelopes it returned earlier stay as they were: the
// arrays it reuses are never shared with an envelope. The requests go
// through it twice, in both orders, so each follows a larger and a smaller
// one, declined and garbled bodies among them.
func TestDecoderReuse(t *testing.T) {
	// Every recorded envelope, and every twentieth of their variants: a few
	// hundred bodies, declined and garbled ones among them.
	var bodies [][]byte
	for _, e := range recordedEnvelopes(t) {
		bodies = append(bodies, e.body)
		for i, v := range variants(e.body) {
			if i%20 == 3 {
				bodies = append(bodies, v)
			}
		}
	}
	if len(bodies) < 200 {
		t.Fatalf("only %d bodies to decode", len(bodies))
	}
	t.Logf("%d bodies", len(bodies))
	var d Decoder
	type kept struct {
		body []byte
		env  *Envelope
	}
	var got []kept
	for pass := range 2 {
		for i := range bodies {
			if pass == 1 {
				i = len(bodies) - 1 - i
			}
			got = append(got, kept{bodies[i], checkDecoderAgrees(t, &d, bodies[i], Limits{})})
		}
	}
	for _, k := range got {
		want, _ := Decode(k.body, Limits{})
		if diff := cmp.Diff(want, k.env); diff != "" {
			t.Fatalf("an envelope changed after later decodes (-want +got):\n%s\n%q", diff, k.body)
		}
	}
}

// The Decoder allocates less than Decode for a hot request.
func BenchmarkDecoder(b *testing.B) {
	body := readFile(b, "testdata/requests/pypsrp-psrp-send.xml")
	b.Run("Decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decode(body, Limits{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Decoder", func(b *testing.B) {
		var d Decoder
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.Decode(body, Limits{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Every string in internStrings found a place in internTable.
func TestInternTable(t *testing.T) {
	for _, s := range internStrings {
		if slot := internTable[internHash(s)]; slot[0] != s && slot[1] != s {
			t.Errorf("%q has no place: its bucket holds %q; change internHash or internBits", s, slot)
		}
		if got := intern([]byte(s)); got != s {
			t.Errorf("intern(%q) = %q", s, got)
		}
	}
}

package clixml

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/internal/xmlscantest"
	"github.com/smnsjas/go-psrpcore/objects"
	"github.com/smnsjas/go-psrpcore/serialization"
)

// recordedDoc is the data of one PSRP message kept in the repository,
// written by a real client or server.
type recordedDoc struct {
	name string
	data []byte
}

// recordedDocs returns every recorded CLIXML document:
//   - testdata/recorded: pypsrp client messages and Windows PowerShell 5.1
//     server messages;
//   - the messages of every pypsrp session in ../psrp/testdata/recorded,
//     both directions (pypsrp and Windows Server 2016);
//   - the SESSION_CAPABILITY and INIT_RUNSPACEPOOL of Windows PowerShell
//     5.1.17763.771's Create request (../interop/testdata/winps);
//   - testdata/clients: what psgate's Windows PowerShell stand-in writes;
//   - messages go-psrpcore's serializer writes.
//
// psgate's own client's messages are in clients_test.go, which can import
// psrp.
func recordedDocs(t testing.TB) []recordedDoc {
	t.Helper()
	var out []recordedDoc
	for _, pattern := range []string{"testdata/recorded/*.xml", "testdata/clients/*.xml"} {
		files, err := filepath.Glob(pattern)
		if err != nil || len(files) == 0 {
			t.Fatalf("no documents match %s", pattern)
		}
		for _, f := range files {
			out = append(out, recordedDoc{name: f, data: readFile(t, f)})
		}
	}
	sessions, _ := filepath.Glob("../psrp/testdata/recorded/*.txt")
	if len(sessions) == 0 {
		t.Fatal("no recorded pypsrp sessions")
	}
	for _, f := range sessions {
		out = append(out, sessionDocs(t, f)...)
	}
	creates, _ := filepath.Glob("../interop/testdata/winps/*.xml")
	if len(creates) == 0 {
		t.Fatal("no recorded Windows PowerShell Create request")
	}
	for _, f := range creates {
		m := regexp.MustCompile(`<creationXml[^>]*>([^<]*)<`).FindSubmatch(readFile(t, f))
		if m == nil {
			t.Fatalf("%s: no creationXml", f)
		}
		blob, err := base64.StdEncoding.DecodeString(string(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, messageDocs(t, f, map[string][]byte{"C": blob}, []string{"C"})...)
	}
	out = append(out, psrpcoreDocs(t)...)
	// The sessions repeat messages (capabilities, states, host
	// responses): keep the first of each.
	seen := map[string]bool{}
	return slices.DeleteFunc(out, func(d recordedDoc) bool {
		dup := seen[string(d.data)]
		seen[string(d.data)] = true
		return dup
	})
}

// variantDocs returns the recorded documents to edit: each file of
// testdata, and one message of each type and direction from the recorded
// sessions, which is plenty for the edits variants makes.
func variantDocs(t testing.TB) []recordedDoc {
	seen := map[string]bool{}
	return slices.DeleteFunc(recordedDocs(t), func(d recordedDoc) bool {
		key := d.name
		if m := reSessionDoc.FindStringSubmatch(d.name); m != nil {
			key = m[1] + m[2] + m[3]
		}
		dup := seen[key]
		seen[key] = true
		return dup
	})
}

// reSessionDoc matches the names messageDocs gives: file, direction,
// number and type.
var reSessionDoc = regexp.MustCompile(`^(.*/)[^/]* ([CS])#\d+ (type .*)$`)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sessionDocs returns the message data of a recorded pypsrp session: lines
// "C <base64>" (client) and "S <base64>" (server) of PSRP fragments.
func sessionDocs(t testing.TB, name string) []recordedDoc {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	streams := map[string][]byte{}
	var order []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		dir, b64, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(dir, "#") {
			continue
		}
		blob, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, seen := streams[dir]; !seen {
			order = append(order, dir)
		}
		streams[dir] = append(streams[dir], blob...)
	}
	return messageDocs(t, name, streams, order)
}

// messageDocs reassembles PSRP fragments ([MS-PSRP] §2.2.4: object and
// fragment ids, start and end flags, blob length, big-endian) into
// messages (§2.2.1: destination, type, runspace pool and pipeline ids,
// then the data) and returns the data of each non-empty one.
func messageDocs(t testing.TB, name string, streams map[string][]byte, order []string) []recordedDoc {
	t.Helper()
	var out []recordedDoc
	for _, dir := range order {
		b := streams[dir]
		partial := map[uint64][]byte{}
		for n := 0; len(b) > 0; {
			if len(b) < 21 {
				t.Fatalf("%s: short fragment", name)
			}
			id, flags, size := binary.BigEndian.Uint64(b), b[16], int(binary.BigEndian.Uint32(b[17:21]))
			if len(b) < 21+size {
				t.Fatalf("%s: short fragment blob", name)
			}
			partial[id] = append(partial[id], b[21:21+size]...)
			b = b[21+size:]
			if flags&2 == 0 {
				continue
			}
			msg := partial[id]
			delete(partial, id)
			if len(msg) < 40 {
				t.Fatalf("%s: short message", name)
			}
			n++
			if data := msg[40:]; len(bytes.TrimSpace(data)) > 0 {
				out = append(out, recordedDoc{
					name: fmt.Sprintf("%s %s#%d type 0x%08X", name, dir, n, binary.LittleEndian.Uint32(msg[4:8])),
					data: data,
				})
			}
		}
	}
	return out
}

// psrpcoreDocs returns client messages as go-psrpcore's serializer writes
// them.
func psrpcoreDocs(t testing.TB) []recordedDoc {
	t.Helper()
	ps := &objects.PowerShell{Commands: []objects.Command{
		{Name: "Get-CsOnlineUser", Parameters: []objects.CommandParameter{{Name: "Identity", Value: "alice@contoso.example"}, {Value: "positional"}}},
		{Name: "Select-Object", Parameters: []objects.CommandParameter{{Name: "First", Value: int32(1)}}},
	}}
	var out []recordedDoc
	for name, v := range map[string]any{
		"create pipeline": serialization.PowerShellToPSObject(ps),
		"pipeline input":  []any{"a", int32(1), true, 2.5, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), []byte{1, 2}},
		"command names":   []string{"Get-*", "Set-Cs*"},
	} {
		data, err := serialization.NewSerializer().SerializeRaw(v)
		if err != nil {
			t.Fatalf("go-psrpcore %s: %v", name, err)
		}
		out = append(out, recordedDoc{name: "go-psrpcore " + name, data: data})
	}
	slices.SortFunc(out, func(a, b recordedDoc) int { return strings.Compare(a.name, b.name) })
	return out
}

// checkFastAgrees fails t unless the fast path agrees with the general one
// on data: whatever unmarshalFast accepts, unmarshalGeneral accepts too,
// with an equal value of the same shape (which parts are one object), and
// Unmarshal returns exactly unmarshalGeneral's value or error. Decoder and
// UnmarshalDocument agree the same way. The general path itself must return
// exactly what the decoder before the fast path did (legacy_test.go), as
// both paths share the code above the tokens. It reports whether the fast path
// took data as Unmarshal's input.
func checkFastAgrees(t *testing.T, data []byte, lim Limits) bool {
	t.Helper()
	want, wantErr := unmarshalGeneral(data, lim)
	// The general path is the decoder as it was (legacy_test.go).
	if old, err := legacyUnmarshal(data, lim); errString(err) != errString(wantErr) {
		t.Fatalf("general error = %v, old decoder's = %v\n%q", wantErr, err, data)
	} else if d := sameValue(old, want); d != "" {
		t.Fatalf("the general path and the old decoder differ: %s\n%q", d, data)
	}
	fast, took := unmarshalFast(data, lim)
	if took {
		if wantErr != nil {
			t.Fatalf("the fast path accepted what the general one rejects (%v):\n%q", wantErr, data)
		}
		if d := sameValue(want, fast); d != "" {
			t.Fatalf("fast and general values differ: %s\n%q", d, data)
		}
	}
	got, err := Unmarshal(data, lim)
	if errString(err) != errString(wantErr) {
		t.Fatalf("Unmarshal error = %v, general error = %v\n%q", err, wantErr, data)
	}
	if d := sameValue(want, got); d != "" {
		t.Fatalf("Unmarshal and the general path differ: %s\n%q", d, data)
	}

	// Decoder: every value and the final error, as the general decoder
	// returns them.
	var wantVals, gotVals []any
	var wantEnd, gotEnd error
	if g, err := newGeneralDecoder(data, lim); err != nil {
		wantEnd = err
	} else {
		wantVals, wantEnd = drain(g.decode)
	}
	if d, err := NewDecoder(data, lim); err != nil {
		gotEnd = err
	} else {
		gotVals, gotEnd = drain(d.Decode)
	}
	if errString(gotEnd) != errString(wantEnd) {
		t.Fatalf("Decoder ends with %v, general decoder with %v\n%q", gotEnd, wantEnd, data)
	}
	if d := sameValue(wantVals, gotVals); d != "" {
		t.Fatalf("Decoder and the general decoder differ: %s\n%q", d, data)
	}
	var oldVals []any
	var oldEnd error
	if d, err := newLegacyDecoder(data, lim); err != nil {
		oldEnd = err
	} else {
		oldVals, oldEnd = drain(d.Decode)
	}
	if errString(oldEnd) != errString(wantEnd) {
		t.Fatalf("the general decoder ends with %v, the old one with %v\n%q", wantEnd, oldEnd, data)
	}
	if d := sameValue(oldVals, wantVals); d != "" {
		t.Fatalf("the general decoder and the old one differ: %s\n%q", d, data)
	}

	// UnmarshalDocument, on data and on data as the document's content.
	for _, doc := range [][]byte{data, slices.Concat([]byte(docStart), data, []byte("</Objs>"))} {
		want, wantErr := unmarshalDocumentGeneral(documentContent(doc), lim)
		got, err := UnmarshalDocument(doc, lim)
		if errString(err) != errString(wantErr) {
			t.Fatalf("UnmarshalDocument error = %v, general error = %v\n%q", err, wantErr, doc)
		}
		if d := sameValue(want, got); d != "" {
			t.Fatalf("UnmarshalDocument and the general path differ: %s\n%q", d, doc)
		}
		old, err := legacyUnmarshalDocument(doc, lim)
		if errString(err) != errString(wantErr) {
			t.Fatalf("UnmarshalDocument's general error = %v, the old one = %v\n%q", wantErr, err, doc)
		}
		if d := sameValue(old, want); d != "" {
			t.Fatalf("UnmarshalDocument's general path and the old one differ: %s\n%q", d, doc)
		}
	}
	return took
}

// drain calls next until it fails, at most 100 times.
func drain(next func() (any, error)) ([]any, error) {
	var vals []any
	for range 100 {
		v, err := next()
		if err != nil {
			return vals, err
		}
		vals = append(vals, v)
	}
	return vals, nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// sameValue describes the first difference between two decoded values, or
// returns "". Values are the same when they are deeply equal (NaNs equal
// by their bits, times by instant and zone) and have the same shape: a
// pointer or a non-empty slice seen twice in one is seen at the same places
// in the other, as a <Ref> makes it.
func sameValue(want, got any) string {
	w := walker{seenA: map[identity]int{}, seenB: map[identity]int{}}
	return w.walk(reflect.ValueOf(want), reflect.ValueOf(got), "value")
}

type identity struct {
	ptr uintptr
	len int
	typ reflect.Type
}

type walker struct {
	seenA, seenB map[identity]int
}

var timeType = reflect.TypeFor[time.Time]()

func (w *walker) walk(a, b reflect.Value, path string) string {
	if a.IsValid() != b.IsValid() {
		return fmt.Sprintf("%s: %v vs %v", path, a, b)
	}
	if !a.IsValid() {
		return ""
	}
	if a.Type() != b.Type() {
		return fmt.Sprintf("%s: type %v, want %v", path, b.Type(), a.Type())
	}
	if a.Type() == timeType {
		ta, tb := a.Interface().(time.Time), b.Interface().(time.Time)
		_, oa := ta.Zone()
		_, ob := tb.Zone()
		if !ta.Equal(tb) || oa != ob || ta.Location().String() != tb.Location().String() {
			return fmt.Sprintf("%s: %v, want %v", path, tb, ta)
		}
		return ""
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Slice:
		if a.IsNil() != b.IsNil() {
			return fmt.Sprintf("%s: nil %v, want nil %v", path, b.IsNil(), a.IsNil())
		}
		if a.IsNil() || a.Kind() == reflect.Slice && a.Len() == 0 {
			if a.Kind() == reflect.Slice && b.Len() != 0 {
				return fmt.Sprintf("%s: length %d, want 0", path, b.Len())
			}
			return ""
		}
		ia := identity{a.Pointer(), 0, a.Type()}
		ib := identity{b.Pointer(), 0, b.Type()}
		if a.Kind() == reflect.Slice {
			ia.len, ib.len = a.Len(), b.Len()
		}
		na, okA := w.seenA[ia]
		nb, okB := w.seenB[ib]
		if okA != okB || na != nb {
			return fmt.Sprintf("%s: shared %v (#%d), want %v (#%d)", path, okB, nb, okA, na)
		}
		if okA {
			return ""
		}
		w.seenA[ia], w.seenB[ib] = len(w.seenA), len(w.seenB)
		if a.Kind() == reflect.Pointer {
			return w.walk(a.Elem(), b.Elem(), path)
		}
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: length %d, want %d", path, b.Len(), a.Len())
		}
		for i := range a.Len() {
			if d := w.walk(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
	case reflect.Interface:
		if a.IsNil() != b.IsNil() {
			return fmt.Sprintf("%s: %v, want %v", path, b, a)
		}
		return w.walk(a.Elem(), b.Elem(), path)
	case reflect.Struct:
		for i := range a.NumField() {
			if d := w.walk(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); d != "" {
				return d
			}
		}
	case reflect.Float32, reflect.Float64:
		if math.Float64bits(a.Float()) != math.Float64bits(b.Float()) {
			return fmt.Sprintf("%s: %v, want %v", path, b.Float(), a.Float())
		}
	case reflect.String:
		if a.String() != b.String() {
			return fmt.Sprintf("%s: %q, want %q", path, b.String(), a.String())
		}
	case reflect.Bool:
		if a.Bool() != b.Bool() {
			return fmt.Sprintf("%s: %v, want %v", path, b.Bool(), a.Bool())
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if a.Int() != b.Int() {
			return fmt.Sprintf("%s: %d, want %d", path, b.Int(), a.Int())
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if a.Uint() != b.Uint() {
			return fmt.Sprintf("%s: %d, want %d", path, b.Uint(), a.Uint())
		}
	default:
		return fmt.Sprintf("%s: cannot compare %v", path, a.Kind())
	}
	return ""
}

// Every recorded document, from clients and servers alike, decodes through
// the fast path to the general path's value; the only ones it declines are
// those the general path rejects (a Windows server's output psgate does not
// read: an <Obj> wrapping an <Obj> in jea_configuration).
func TestFastUnmarshalRecorded(t *testing.T) {
	docs := recordedDocs(t)
	rejected := 0
	for _, doc := range docs {
		t.Run(doc.name, func(t *testing.T) {
			took := checkFastAgrees(t, doc.data, Limits{})
			if _, err := unmarshalGeneral(doc.data, Limits{}); err != nil {
				rejected++
				t.Logf("the general path rejects it: %v", err)
				return
			}
			if !took {
				t.Errorf("the fast path declined %s", doc.name)
			}
		})
	}
	if rejected > 1 {
		t.Errorf("the general path rejects %d recorded documents, expected 1", rejected)
	}
	t.Logf("%d recorded documents, %d rejected by both paths", len(docs), rejected)
}

// The fast path keeps what <Ref> means: the same object, not a copy.
func TestFastUnmarshalRefIdentity(t *testing.T) {
	data := []byte(`<Obj RefId="0"><MS><Obj N="a" RefId="1"><TN RefId="0"><T>X</T></TN><MS><I32 N="n">1</I32></MS></Obj>` +
		`<Ref N="b" RefId="1" /><Obj N="l" RefId="2"><LST><S>x</S></LST></Obj><Ref N="m" RefId="2" />` +
		`<Obj N="c" RefId="3"><TNRef RefId="0" /></Obj></MS></Obj>`)
	v, ok := unmarshalFast(data, Limits{})
	if !ok {
		t.Fatal("the fast path declined")
	}
	o := v.(interface{ Get(string) (any, bool) })
	a, _ := o.Get("a")
	b, _ := o.Get("b")
	if a != b {
		t.Errorf("<Ref> gave %p, want the object %p", b, a)
	}
	l, _ := o.Get("l")
	m, _ := o.Get("m")
	if &l.([]any)[0] != &m.([]any)[0] {
		t.Error("<Ref> to a list gave a copy")
	}
	checkFastAgrees(t, data, Limits{})
}

// Edits of the recorded documents, some outside the fast path's subset,
// decode the same through Unmarshal as through the general path under
// tight limits. (FuzzFastUnmarshal's seeds check them under the default
// limits.)
func TestFastUnmarshalVariants(t *testing.T) {
	for _, doc := range variantDocs(t) {
		for i, v := range variants(doc.data) {
			t.Run(fmt.Sprintf("%s#%d", doc.name, i), func(t *testing.T) {
				checkFastAgrees(t, v, Limits{MaxDepth: 4, MaxObjects: 60, MaxStringLen: 20})
			})
		}
	}
}

// variants returns edits of a document: xmlscantest's edits of the markup,
// and CLIXML forms the fast path takes (references, CDATA, comments and
// white space in values, single quotes) or must decline (unknown entities,
// prefixes, odd RefIds, misplaced elements).
func variants(data []byte) [][]byte {
	e := xmlscantest.NewEdits(data)
	e.Markup()
	repl, replAll := e.Replace, e.ReplaceAll
	replAll(`" `, `"  `)
	replAll(` />`, `/>`)
	replAll(`="`, ` = "`)
	for _, tag := range []string{"S", "T", "ToString", "I32", "B", "Version", "DT", "G"} {
		open, close := "<"+tag+">", "</"+tag+">"
		repl(open, open+"&lt;&gt;&amp;&apos;&quot;")
		repl(open, open+"&#65;&#x42;&#x4a;")
		repl(open, open+"&#X41;")
		repl(open, open+"&nbsp;")
		repl(open, open+"&#xD800;")
		repl(open, open+"&#0;")
		repl(open, open+"<![CDATA[<&>]]>")
		repl(open, open+"<![CDATA[]]>")
		repl(open, open+"a<!-- c -->b")
		repl(open, open+" \r\n\t")
		repl(open, open+"_x0041__x00e9__xD83D__xDE00_")
		repl(open, open+"]]>")
		repl(open, open+"\x01")
		repl(open, open+"\xff")
		repl(open, open+"é\u2028\U0001F600")
		repl(open, open+"\uFFFE")
		repl(open, open+"<x/>")
		repl(close, "</"+tag+" >")
		repl(close, "</"+strings.ToLower(tag)+">")
	}
	repl(`RefId="0"`, `RefId="+0"`)
	repl(`RefId="1"`, `RefId="01"`)
	repl(`RefId="1"`, `RefId="-1"`)
	repl(`RefId="1"`, `RefId="x"`)
	repl(`RefId="1"`, `RefId="9999999999"`)
	repl(`RefId="1"`, `RefId="1" RefId="2"`)
	repl(`RefId="1"`, `RefId='1'`)
	repl(`RefId="1"`, `RefId="&#49;"`)
	repl(`RefId="0"`, `RefId="0" x:RefId="1"`)
	repl(`RefId="0"`, `RefId="0" xmlns="`+Namespace+`"`)
	repl(`RefId="0"`, `RefId="0" xmlns:x="urn:x"`)
	repl(`<Obj `, `<x:Obj xmlns:x="urn:x" `)
	repl(`<Obj RefId="0">`, `<Obj RefId="0"/><Obj RefId="0">`)
	repl(`N="`, `N="_x0020_`)
	repl(`N="`, `N="a&#10;`)
	repl(`N="`, `N="`+"\r\n")
	repl(`N="`, `N=""`)
	repl(`N="`, `x="1" N="`)
	repl(`N="`, `N="x" N="`)
	repl(`N="`, `n="`)
	repl(`N="`, `p:N="`)
	repl(`<Nil `, `<Nil><S>x</S></Nil><Nil `)
	repl(`<Nil `, "<Nil> </Nil><Nil ")
	repl(`<Nil `, "<Nil>x<a><b/></a></Nil><Nil ")
	repl(`<MS>`, `<MS><MS N="PSStandardMembers"><Obj N="DefaultDisplayPropertySet"><LST><S>a</S></LST></Obj></MS>`)
	repl(`<MS>`, `<MS><Ref N="r" RefId="0" />`)
	repl(`<MS>`, `<MS><TNRef RefId="0" />`)
	repl(`<TN RefId="0">`, `<TN RefId="0"><T>Extra</T>`)
	repl(`<TN RefId="0">`, `<TNRef RefId="0"/><TN RefId="0">`)
	e.Append("<Nil/>")
	e.Append("</Obj>")
	return e.Out
}

// Specific forms: whether the fast path takes them and, through
// checkFastAgrees, that either way the result is the general path's.
func TestFastUnmarshalForms(t *testing.T) {
	const obj = `<Obj RefId="0"><MS><S N="a">b</S></MS></Obj>`
	tests := []struct {
		name string
		data string
		fast bool
	}{
		{"plain", obj, true},
		{"declaration", `<?xml version="1.0" encoding="utf-8"?>` + "\n" + obj, true},
		{"BOM", "\xEF\xBB\xBF" + obj, true},
		{"comments", "<!-- c -->" + obj + "<!-- d -->", true},
		{"CDATA", `<S><![CDATA[<x>]]> &amp; y</S>`, true},
		{"CRLF", "<Obj RefId=\"0\">\r\n<MS>\r\n<S N=\"a\">b\r\nc</S></MS></Obj>\r\n", true},
		{"default namespace", `<Obj xmlns="` + Namespace + `" RefId="0"><MS><S N="a">b</S></MS></Obj>`, true},
		{"references", `<S N="&quot;">&lt;&#233;&#x1F600;</S>`, true},
		{"primitive", `<I32>42</I32>`, true},
		{"nil", `<Nil />`, true},
		{"text in Nil", `<Nil>x</Nil>`, true},
		{"escaped names", `<Obj RefId="0"><MS><S N="a_x0020_b">c_x000A_</S></MS></Obj>`, true},
		{"any default namespace", `<S xmlns="urn:other">a</S>`, true}, // local names only
		{"non-ASCII space outside", "\u00a0" + obj, true},             // bytes.TrimSpace on both paths

		{"UTF-16", string(xmlscantest.UTF16(obj, false, true)), false},
		{"us-ascii declaration", `<?xml version="1.0" encoding="us-ascii"?>` + obj, false},
		{"utf-16 declaration", `<?xml version="1.0" encoding="utf-16"?>` + obj, false},
		{"DOCTYPE", `<!DOCTYPE Obj>` + obj, false},
		{"processing instruction", `<?pi x?>` + obj, false},
		{"unknown entity", `<S>&nbsp;</S>`, false},
		{"surrogate reference", `<S>&#xD800;</S>`, false},
		{"prefixed element", `<x:S xmlns:x="urn:x">a</x:S>`, false},
		{"prefixed attribute", `<S xmlns:x="urn:x" x:N="a">b</S>`, false},
		{"signed RefId", `<Obj RefId="+0"><MS /></Obj>`, false},
		{"long RefId", `<Obj RefId="0000000000"><MS /></Obj>`, false},
		{"no value", ``, false},
		{"two values", `<S>a</S><S>b</S>`, false},
		{"unknown element", `<Foo />`, false},
		{"bad number", `<I32>x</I32>`, false},
		{"unknown Ref", `<Ref RefId="3" />`, false},
		{"mismatched end", `<S>a</s>`, false},
		{"truncated", obj[:20], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if took := checkFastAgrees(t, []byte(tt.data), Limits{}); took != tt.fast {
				t.Errorf("the fast path took it = %v, want %v", took, tt.fast)
			}
		})
	}
}

// Limits act the same on both paths: the fast path declines exactly when
// the general one fails.
func TestFastUnmarshalLimits(t *testing.T) {
	data := readFile(t, "testdata/recorded/create_pipeline_host.xml")
	for _, lim := range []Limits{
		{MaxBytes: len(data)}, {MaxBytes: len(data) - 1},
		{MaxDepth: 6}, {MaxDepth: 5}, {MaxDepth: 1},
		{MaxObjects: 120}, {MaxObjects: 40},
		{MaxStringLen: 30}, {MaxStringLen: 29},
	} {
		t.Run(fmt.Sprintf("%+v", lim), func(t *testing.T) {
			took := checkFastAgrees(t, data, lim)
			_, err := unmarshalGeneral(data, lim)
			if took != (err == nil) {
				t.Errorf("the fast path took it = %v, general error %v", took, err)
			}
		})
	}
}

// The decoded value owns its memory: the caller may reuse data.
func TestFastUnmarshalDoesNotAliasData(t *testing.T) {
	for _, doc := range recordedDocs(t) {
		data := bytes.Clone(doc.data)
		v, ok := unmarshalFast(data, Limits{})
		if !ok {
			continue
		}
		want, _ := unmarshalGeneral(doc.data, Limits{})
		for i := range data {
			data[i] = 'X'
		}
		if d := sameValue(want, v); d != "" {
			t.Errorf("%s: value changed with the data: %s", doc.name, d)
		}
	}
}

// FuzzFastUnmarshal is the differential check of the fast path: for every
// input and limits, unmarshalFast never accepts what unmarshalGeneral
// rejects and returns a value of the same content and shape; Unmarshal,
// Decoder and UnmarshalDocument return exactly the general path's results.
func FuzzFastUnmarshal(f *testing.F) {
	for _, doc := range recordedDocs(f) {
		f.Add(doc.data, uint8(0), uint16(0), uint16(0))
		f.Add(doc.data, uint8(5), uint16(50), uint16(16))
	}
	for _, doc := range variantDocs(f) {
		for _, v := range variants(doc.data) {
			f.Add(v, uint8(0), uint16(0), uint16(0))
		}
	}
	for _, b := range xmlscantest.Corpus(f, "testdata/fuzz/FuzzUnmarshal") {
		f.Add(b, uint8(0), uint16(0), uint16(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, depth uint8, objects, strlen uint16) {
		checkFastAgrees(t, data, Limits{MaxBytes: 64 << 10, MaxDepth: int(depth), MaxObjects: int(objects), MaxStringLen: int(strlen)})
	})
}

// BenchmarkUnmarshalDeclined measures what inputs outside the fast path's
// subset cost: declined at once (a DOCTYPE, so the general path's cost
// alone) and near the end (a reference to a surrogate in the last string,
// so both paths' cost).
func BenchmarkUnmarshalDeclined(b *testing.B) {
	data := readFile(b, "testdata/recorded/create_pipeline_merge.xml")
	i := bytes.LastIndex(data, []byte("</S>"))
	for _, bb := range []struct {
		name string
		data []byte
	}{
		{"early", slices.Concat([]byte("<!DOCTYPE Obj>"), data)},
		{"late", slices.Concat(data[:i], []byte("&#xD800;"), data[i:])},
	} {
		b.Run(bb.name, func(b *testing.B) {
			if _, ok := unmarshalFast(bb.data, Limits{}); ok {
				b.Fatal("the fast path took it")
			}
			benchUnmarshal(b, bb.data)
		})
	}
}

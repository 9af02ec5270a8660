package xmlscan

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"
	"unsafe"

	"github.com/psgate/psgate/internal/xmlscantest"
)

// rawTokens returns what encoding/xml reads from src, as clixml and wsman
// configure it (Strict, and a CharsetReader for the labels in utf8Labels),
// in the Scanner's terms: RawToken's tokens without comments and the
// leading declaration. err is set when Token, which also matches end tags
// and notices an unexpected end, fails anywhere in src.
func rawTokens(src []byte, utf8Labels bool) (toks []string, err error) {
	newDecoder := func() *xml.Decoder {
		d := xml.NewDecoder(bytes.NewReader(src))
		d.Strict = true
		if utf8Labels {
			d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
				if testLabel([]byte(label)) {
					return r, nil
				}
				return nil, fmt.Errorf("no charset %q", label)
			}
		}
		return d
	}
	d := newDecoder()
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
	}
	d = newDecoder()
	for i := 0; ; i++ {
		tok, err := d.RawToken()
		if err == io.EOF {
			return append(toks, "EOF"), nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			s := "<" + rawName(t.Name)
			for _, a := range t.Attr {
				s += fmt.Sprintf(" %s=%q", rawName(a.Name), a.Value)
			}
			toks = append(toks, s+">")
		case xml.EndElement:
			toks = append(toks, "</"+rawName(t.Name)+">")
		case xml.CharData:
			toks = append(toks, fmt.Sprintf("%q", []byte(t)))
		case xml.ProcInst:
			if i != 0 || t.Target != "xml" {
				toks = append(toks, "<?"+t.Target)
			}
		case xml.Directive:
			toks = append(toks, "<!"+string(t))
		}
	}
}

func rawName(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// scanTokens returns the Scanner's tokens in rawTokens' form, or ok false
// when it declines.
func scanTokens(src []byte, utf8Labels bool) (toks []string, ok bool) {
	var s Scanner
	if utf8Labels {
		s.UTF8Label = testLabel
	}
	s.Reset(src)
	for {
		t, ok := s.Next()
		if !ok {
			if t2, ok := s.Next(); ok || t2 != nil {
				panic("a decline is not sticky")
			}
			return nil, false
		}
		switch t.Kind {
		case EOF:
			if t2, ok := s.Next(); !ok || t2.Kind != EOF {
				panic("EOF is not sticky")
			}
			return append(toks, "EOF"), true
		case StartElement:
			str := "<" + name(t.Name)
			for _, a := range t.Attr {
				str += fmt.Sprintf(" %s=%q", name(a.Name), a.Value)
			}
			toks = append(toks, str+">")
		case EndElement:
			toks = append(toks, "</"+name(t.Name)+">")
		case CharData:
			if len(t.Data) > 0 && inside(src, t.Data) == t.Decoded {
				panic(fmt.Sprintf("Decoded is %v for data %q", t.Decoded, t.Data))
			}
			if !t.Decoded && cap(t.Data) != len(t.Data) {
				panic("undecoded data has spare capacity")
			}
			toks = append(toks, fmt.Sprintf("%q", t.Data))
		}
	}
}

// inside reports whether b is a slice of src.
func inside(src, b []byte) bool {
	lo, p := uintptr(unsafe.Pointer(unsafe.SliceData(src))), uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return lo <= p && p < lo+uintptr(len(src))
}

func name(n Name) string {
	if len(n.Prefix) == 0 {
		return string(n.Local)
	}
	return string(n.Prefix) + ":" + string(n.Local)
}

func testLabel(label []byte) bool {
	switch strings.ToLower(string(label)) {
	case "us-ascii", "utf8":
		return true
	}
	return false
}

// checkAgrees fails t when the Scanner accepts src and its tokens are not
// encoding/xml's. It reports whether the Scanner accepted src.
func checkAgrees(t *testing.T, src []byte, utf8Labels bool) bool {
	t.Helper()
	got, ok := scanTokens(src, utf8Labels)
	if !ok {
		return false
	}
	want, err := rawTokens(src, utf8Labels)
	if err != nil {
		t.Fatalf("Scanner accepted what encoding/xml rejects (%v):\n%q", err, src)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("tokens differ for %q\nScanner:\n\t%s\nencoding/xml:\n\t%s", src,
			strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	return true
}

const sample = `<Obj RefId="0"><MS><S N="Cmd">Get-Item</S><B N="IsScript">false</B><Nil N="UseLocalScope" /></MS></Obj>`

// scanForms are inputs the Scanner accepts or declines, and so seeds of
// FuzzScan.
var scanForms = []struct {
	name   string
	src    string
	accept bool
}{
	{"sample", sample, true},
	{"declaration", `<?xml version="1.0" encoding="utf-8"?>` + sample, true},
	{"declaration single quotes", `<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>` + "\r\n" + sample, true},
	{"declaration without encoding", `<?xml version="1.0"?>` + sample, true},
	{"comments", "<!-- c --><a><!---->x<!-- - -->y</a><!-- e -->", true},
	{"CDATA", "<a><![CDATA[<&>\r\n]]><![CDATA[]]>]]&gt;</a>", true},
	{"CDATA outside the root", "<![CDATA[x]]><a/>", true},
	{"references", `<a b="&lt;&#60;&#x3c;&#x3C;&quot;&apos;&amp;&gt;">&#x10FFFF;&#9;&#0000065;</a>`, true},
	{"line ends", "<a\r\nb='\r\n\r\t'>\r\r\n\n</a>\r\n", true},
	{"prefixes", `<s:a xmlns:s="urn:s" s:b="1" xmlns="urn:d"><c/></s:a>`, true},
	{"attributes without space", `<a b="1"c='2'/>`, true},
	{"space in tags", "<a  b = \"1\"\t/><c\n></c >", true},
	{"two roots and text", " <a/> x <b/> ", true},
	{"non-ASCII text", "<a b=\"é\">\u2028\U0001F600\uFFFD</a>", true},
	{"duplicate attributes", `<a b="1" b="2"/>`, true},
	{"empty", "", true},

	{"UTF-16 declaration", `<?xml version="1.0" encoding="utf-16"?><a/>`, false},
	{"us-ascii declaration", `<?xml version="1.0" encoding="us-ascii"?><a/>`, false},
	{"version 1.1", `<?xml version="1.1"?><a/>`, false},
	{"bare declaration", `<?xml?><a/>`, false},
	{"declaration not first", ` <?xml version="1.0"?><a/>`, false},
	{"processing instruction", `<a><?pi x?></a>`, false},
	{"DOCTYPE", `<!DOCTYPE a><a/>`, false},
	{"unknown entity", `<a>&nbsp;</a>`, false},
	{"entity without semicolon", `<a>&amp</a>`, false},
	{"upper-case X reference", `<a>&#X41;</a>`, false},
	{"surrogate reference", `<a>&#xD800;</a>`, false},
	{"NUL reference", `<a>&#0;</a>`, false},
	{"control character", "<a>\x01</a>", false},
	{"invalid UTF-8", "<a>\xff</a>", false},
	{"U+FFFE", "<a>\uFFFE</a>", false},
	{"]]> in text", `<a>]]></a>`, false},
	{"< in attribute", `<a b="<"/>`, false},
	{"unquoted attribute", `<a b=1/>`, false},
	{"attribute without value", `<a b/>`, false},
	{"mismatched end", `<a></b>`, false},
	{"mismatched prefix", `<x:a xmlns:x="u" xmlns:y="u"></y:a>`, false},
	{"unclosed", `<a>`, false},
	{"unclosed with text", `<a>x`, false},
	{"end without start", `</a>`, false},
	{"non-ASCII name", `<é/>`, false},
	{"non-ASCII after name", `<aé/>`, false},
	{"two colons", `<a:b:c/>`, false},
	{"leading colon", `<:a/>`, false},
	{"trailing colon", `<a:/>`, false},
	{"name starting with a digit", `<1a/>`, false},
	{"space after <", `< a/>`, false},
	{"bad comment", `<a><!-- a -- b --></a>`, false},
	{"short comment", `<a><!--></a>`, false},
	{"unterminated CDATA", `<a><![CDATA[x</a>`, false},
	{"lone <", `<a><</a>`, false},
	{"trailing <", `<a/><`, false},
}

func TestScanForms(t *testing.T) {
	for _, tt := range scanForms {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkAgrees(t, []byte(tt.src), false); got != tt.accept {
				t.Errorf("accepted = %v, want %v", got, tt.accept)
			}
		})
	}
}

func TestScanUTF8Label(t *testing.T) {
	src := []byte(`<?xml version="1.0" encoding="US-ASCII"?><a/>`)
	if !checkAgrees(t, src, true) {
		t.Error("a label UTF8Label accepts was declined")
	}
	if checkAgrees(t, src, false) {
		t.Error("a label was accepted without UTF8Label")
	}
}

// The Scanner reuses its buffers: tokens stay right across Reset, and a
// decoded attribute value does not overwrite an earlier one of the same tag.
func TestScanReuse(t *testing.T) {
	var s Scanner
	for _, tt := range []struct{ src, want string }{
		{`<a b="&amp;1" c="&amp;2">&lt;x</a>`, "b=&1 c=&2|<x"},
		{`<a b="&lt;3" c="4">y&#x7A;</a>`, "b=<3 c=4|yz"},
	} {
		s.Reset([]byte(tt.src))
		start, _ := s.Next()
		got := fmt.Sprintf("%s=%s %s=%s|", start.Attr[0].Name.Local, start.Attr[0].Value,
			start.Attr[1].Name.Local, start.Attr[1].Value)
		text, _ := s.Next()
		got += string(text.Data)
		if got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.src, got, tt.want)
		}
	}
}

// FuzzScan is the differential check of the Scanner: whenever it accepts
// an input, encoding/xml accepts it too and reads the same tokens.
func FuzzScan(f *testing.F) {
	for _, tt := range scanForms {
		f.Add([]byte(tt.src), false)
	}
	e := xmlscantest.NewEdits([]byte(sample))
	e.Markup()
	for _, v := range e.Out {
		f.Add(v, false)
	}
	f.Add([]byte(`<?xml version="1.0" encoding="utf8"?><s:a xmlns:s="u" s:b="&#x41;&amp;">t<![CDATA[c]]><!--x--></s:a>`), true)
	f.Add([]byte("<a\r\nb='\r\n'>\r\n&lt;</a>"), false)
	f.Fuzz(func(t *testing.T, src []byte, labels bool) {
		checkAgrees(t, src, labels)
	})
}

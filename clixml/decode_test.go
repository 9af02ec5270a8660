package clixml

import (
	"errors"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/psgate/psgate/psobject"
)

// cmpValues compares decoded values: URLs by text, NaN equal to NaN,
// empty and nil slices alike.
var cmpValues = cmp.Options{
	cmp.Comparer(func(a, b *url.URL) bool { return a.String() == b.String() }),
	cmpopts.EquateNaNs(),
	cmpopts.EquateEmpty(),
}

func TestUnmarshalPrimitives(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"<Nil />", nil},
		{"<S>a_x000D__x000A_b &amp; c</S>", "a\r\nb & c"},
		{"<S />", ""},
		{"\ufeff<S>bom</S>", "bom"},
		{`<?xml version="1.0" encoding="utf-8"?><!-- c --><S>decl</S>`, "decl"},
		{"<S><![CDATA[<raw>]]></S>", "<raw>"},
		{"<C>955</C>", psobject.Char('λ')},
		{"<B>True</B>", true},
		{"<B> false </B>", false},
		{"<DT>2018-06-13T23:46:28.00516Z</DT>", time.Date(2018, 6, 13, 23, 46, 28, 5160000, time.UTC)},
		{"<TS>PT9.0269026S</TS>", 9026902600 * time.Nanosecond},
		{"<By>7</By>", uint8(7)},
		{"<SB>-7</SB>", int8(-7)},
		{"<U16>7</U16>", uint16(7)},
		{"<I16>-7</I16>", int16(-7)},
		{"<U32>7</U32>", uint32(7)},
		{"<I32> -7 </I32>", int32(-7)},
		{"<U64>18446744073709551615</U64>", uint64(math.MaxUint64)},
		{"<I64>-9223372036854775808</I64>", int64(math.MinInt64)},
		{"<Sg>1.5</Sg>", float32(1.5)},
		{"<Db>1E+20</Db>", 1e20},
		{"<Db>-INF</Db>", math.Inf(-1)},
		{"<Db>NaN</Db>", math.NaN()},
		{"<D>79228162514264337593543950335</D>", psobject.Decimal("79228162514264337593543950335")},
		{"<BA>AQI\nD</BA>", []byte{1, 2, 3}},
		{"<G>A6A8F5C6-0000-4000-8000-00000000000A</G>", psobject.GUID("a6a8f5c6-0000-4000-8000-00000000000a")},
		{"<Version>5.1.14393.2248</Version>", psobject.Version("5.1.14393.2248")},
		{"<URI>http://x/y</URI>", &url.URL{Scheme: "http", Host: "x", Path: "/y"}},
		{"<URI>http://x/%zz</URI>", "http://x/%zz"},
		{"<XD>&lt;a/&gt;</XD>", "<a/>"},
		{"<SBK>Get-Date</SBK>", psobject.ScriptBlock("Get-Date")},
		{"<SS>/w==</SS>", SecureString{Ciphertext: []byte{0xFF}}},
		{"<LST><I32>1</I32></LST>", []any{int32(1)}},
		{"<DCT><En><S N=\"Key\">a</S><Nil N=\"Value\" /></En></DCT>",
			&psobject.Dict{TypeNames: []string{"System.Collections.Hashtable", "System.Object"}, Entries: []psobject.DictEntry{{Key: "a"}}}},
	}
	for _, tt := range tests {
		got, err := Unmarshal([]byte(tt.in), Limits{})
		if err != nil {
			t.Errorf("Unmarshal(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(got, tt.want, cmpValues); diff != "" {
			t.Errorf("Unmarshal(%q) (-got +want):\n%s", tt.in, diff)
		}
	}
}

func TestUnmarshalObjects(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want any
	}{
		{"object with both property sets",
			`<Obj RefId="0"><TN RefId="0"><T>A.B</T><T>System.Object</T></TN><ToString>txt</ToString>` +
				`<Props><S N="P">p</S></Props><MS><I32 N="M_x0020_1">1</I32></MS></Obj>`,
			&psobject.Object{TypeNames: []string{"A.B", "System.Object"}, Text: "txt",
				Props: []psobject.Property{{Name: "P", Value: "p"}}, Extended: []psobject.Property{{Name: "M 1", Value: int32(1)}}}},
		{"object without type names", `<Obj RefId="0"><MS><B N="x">true</B></MS></Obj>`,
			&psobject.Object{Extended: []psobject.Property{{Name: "x", Value: true}}}},
		{"enum", `<Obj RefId="0"><TN RefId="0"><T>System.Management.Automation.Runspaces.PipelineResultTypes</T><T>System.Enum</T>` +
			`<T>System.ValueType</T><T>System.Object</T></TN><ToString>Output, Error</ToString><I32>3</I32></Obj>`,
			psobject.Enum{Type: "System.Management.Automation.Runspaces.PipelineResultTypes", Name: "Output, Error", Value: 3}},
		{"enum over uint32", `<Obj><TN RefId="0"><T>F</T><T>System.Enum</T></TN><ToString>All</ToString><U32>4294967295</U32></Obj>`,
			psobject.Enum{Type: "F", Name: "All", Value: -1}},
		{"string with notes is the string",
			`<Obj RefId="0"><TN RefId="0"><T>System.String</T><T>System.Object</T></TN><ToString>abc</ToString><S>abc</S><MS><S N="PSPath">x</S></MS></Obj>`,
			"abc"},
		{"list object", `<Obj RefId="0"><TN RefId="0"><T>System.Collections.ArrayList</T></TN><LST><S>a</S><Obj RefId="1"><LST /></Obj></LST></Obj>`,
			[]any{"a", []any{}}},
		{"stack and queue", `<Obj><LST><Obj><STK><I32>1</I32></STK></Obj><Obj><QUE><I32>2</I32></QUE></Obj><Obj><IE /></Obj></LST></Obj>`,
			[]any{[]any{int32(1)}, []any{int32(2)}, []any{}}},
		{"dictionary keeps type names",
			`<Obj RefId="0"><TN RefId="0"><T>System.Management.Automation.PSPrimitiveDictionary</T><T>System.Collections.Hashtable</T>` +
				`<T>System.Object</T></TN><DCT><En><S N="Key">k</S><I32 N="Value">1</I32></En></DCT></Obj>`,
			&psobject.Dict{TypeNames: []string{"System.Management.Automation.PSPrimitiveDictionary", "System.Collections.Hashtable", "System.Object"},
				Entries: []psobject.DictEntry{{Key: "k", Value: int32(1)}}}},
		{"references and type name references",
			`<Obj RefId="0"><LST><Obj RefId="1"><TN RefId="0"><T>X</T></TN><MS><I32 N="a">1</I32></MS></Obj>` +
				`<Ref RefId="1" /><Obj RefId="2"><TNRef RefId="0" /></Obj></LST></Obj>`,
			[]any{&psobject.Object{TypeNames: []string{"X"}, Extended: []psobject.Property{{Name: "a", Value: int32(1)}}},
				&psobject.Object{TypeNames: []string{"X"}, Extended: []psobject.Property{{Name: "a", Value: int32(1)}}},
				&psobject.Object{TypeNames: []string{"X"}}}},
		{"namespaced document elements",
			`<Obj xmlns="http://schemas.microsoft.com/powershell/2004/04" RefId="0"><MS><S N="a">b</S></MS></Obj>`,
			&psobject.Object{Extended: []psobject.Property{{Name: "a", Value: "b"}}}},
		{"whitespace between elements",
			"<Obj RefId=\"0\">\n  <MS>\n    <S N=\"a\"> keep </S>\n  </MS>\n</Obj>\n",
			&psobject.Object{Extended: []psobject.Property{{Name: "a", Value: " keep "}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Unmarshal([]byte(tt.in), Limits{})
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if diff := cmp.Diff(got, tt.want, cmpValues); diff != "" {
				t.Errorf("Unmarshal (-got +want):\n%s", diff)
			}
		})
	}
}

// TestUnmarshalRefIdentity checks that a <Ref> yields the same object, not
// a copy.
func TestUnmarshalRefIdentity(t *testing.T) {
	v, err := Unmarshal([]byte(`<Obj RefId="0"><MS><Obj N="a" RefId="1"><MS /></Obj><Ref N="b" RefId="1" /></MS></Obj>`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	o := asObject(t, v)
	if o.Extended[0].Value != o.Extended[1].Value {
		t.Error("<Ref> decoded to a different object than its target")
	}
}

func TestUnmarshalErrors(t *testing.T) {
	nest := func(n int) string {
		return strings.Repeat(`<Obj><LST>`, n) + strings.Repeat(`</LST></Obj>`, n)
	}
	// Each level refers twice to the level below: 2^40 nodes if expanded.
	var laughs strings.Builder
	laughs.WriteString(`<Obj RefId="0"><LST><Obj RefId="1"><LST><S>x</S></LST></Obj>`)
	for i := 2; i < 42; i++ {
		laughs.WriteString(`<Obj RefId="` + itoa(i) + `"><LST><Ref RefId="` + itoa(i-1) + `" /><Ref RefId="` + itoa(i-1) + `" /></LST></Obj>`)
	}
	laughs.WriteString(`</LST></Obj>`)
	tests := []struct {
		name  string
		in    string
		lim   Limits
		want  string
		limit bool
	}{
		{"empty", "", Limits{}, "no value", false},
		{"two values", "<S>a</S><S>b</S>", Limits{}, "more than one value", false},
		{"text at top level", "hello", Limits{}, "unexpected text", false},
		{"truncated", `<Obj RefId="0"><MS><S N="a">b`, Limits{}, "unexpected EOF", false},
		{"mismatched tags", "<S>a</I32>", Limits{}, "clixml:", false},
		{"unknown element", "<Foo>1</Foo>", Limits{}, "unknown element <Foo>", false},
		{"unknown element in Obj", "<Obj><Foo /></Obj>", Limits{}, "unknown element <Foo> in <Obj>", false},
		{"element in primitive", "<S><S>a</S></S>", Limits{}, "element <S> inside <S>", false},
		{"bad int", "<I32>12x</I32>", Limits{}, "<I32>", false},
		{"int overflow", "<I32>2147483648</I32>", Limits{}, "out of range", false},
		{"bad bool", "<B>yes</B>", Limits{}, "not a boolean", false},
		{"bad guid", "<G>not-a-guid</G>", Limits{}, "not a GUID", false},
		{"bad version", "<Version>1</Version>", Limits{}, "not a version", false},
		{"bad decimal", "<D>1e5</D>", Limits{}, "not a decimal", false},
		{"hex float", "<Db>0x1p3</Db>", Limits{}, "not a number", false},
		{"bad base64", "<BA>***</BA>", Limits{}, "<BA>", false},
		{"bad datetime", "<DT>yesterday</DT>", Limits{}, "xs:dateTime", false},
		{"bad duration", "<TS>1 day</TS>", Limits{}, "xs:duration", false},
		{"unknown ref", `<Obj><LST><Ref RefId="9" /></LST></Obj>`, Limits{}, "unknown or unfinished RefId 9", false},
		{"ref to unfinished object", `<Obj RefId="0"><MS><Ref N="Self" RefId="0" /></MS></Obj>`, Limits{}, "unknown or unfinished RefId 0", false},
		{"ref without id", `<Obj><LST><Ref /></LST></Obj>`, Limits{}, "without RefId", false},
		{"bad ref id", `<Obj RefId="x" />`, Limits{}, "bad RefId", false},
		{"duplicate ref id", `<Obj><LST><Obj RefId="1" /><Obj RefId="1" /></LST></Obj>`, Limits{}, "duplicate RefId 1", false},
		{"unknown tnref", `<Obj><TNRef RefId="3" /></Obj>`, Limits{}, "<TNRef> to unknown RefId 3", false},
		{"duplicate tn id", `<Obj><LST><Obj><TN RefId="0"><T>a</T></TN></Obj><Obj><TN RefId="0"><T>b</T></TN></Obj></LST></Obj>`, Limits{}, "duplicate type name RefId", false},
		{"two type name lists", `<Obj><TN><T>a</T></TN><TN><T>b</T></TN></Obj>`, Limits{}, "two type name lists", false},
		{"junk in TN", `<Obj><TN><S>a</S></TN></Obj>`, Limits{}, "<S> inside <TN>", false},
		{"two collections", `<Obj><LST /><DCT /></Obj>`, Limits{}, "two collections", false},
		{"two base values", `<Obj><S>a</S><S>b</S></Obj>`, Limits{}, "two base values", false},
		{"property without name", `<Obj><MS><S>a</S></MS></Obj>`, Limits{}, "without a name", false},
		{"dict entry without key", `<DCT><En><S N="Value">a</S></En></DCT>`, Limits{}, "without a Key", false},
		{"dict junk", `<DCT><S>a</S></DCT>`, Limits{}, "<S> inside <DCT>", false},
		{"dict entry member", `<DCT><En><S N="Other">a</S></En></DCT>`, Limits{}, `member "Other"`, false},
		{"too deep", nest(40), Limits{}, "nesting deeper than 64", true},
		{"too deep custom", nest(3), Limits{MaxDepth: 4}, "nesting deeper than 4", true},
		{"too many objects", "<Obj><LST>" + strings.Repeat("<S>a</S>", 50) + "</LST></Obj>", Limits{MaxObjects: 20}, "more than 20 values", true},
		{"ref expansion", laughs.String(), Limits{}, "more than 100000 values", true},
		{"too big", "<S>" + strings.Repeat("a", 100) + "</S>", Limits{MaxBytes: 50}, "exceeds 50", true},
		{"string too long", "<S>" + strings.Repeat("a", 100) + "</S>", Limits{MaxStringLen: 10}, "longer than 10 bytes", true},
		{"invalid utf-8", "<S>\xff</S>", Limits{}, "clixml:", false},
		{"control char in xml", "<S>\x01</S>", Limits{}, "clixml:", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Unmarshal([]byte(tt.in), tt.lim)
			if err == nil {
				t.Fatal("Unmarshal succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "clixml: ") {
				t.Errorf("error = %q, want a clixml error containing %q", err, tt.want)
			}
			if got := errors.Is(err, ErrLimit); got != tt.limit {
				t.Errorf("errors.Is(err, ErrLimit) = %v, want %v", got, tt.limit)
			}
		})
	}
}

func itoa(i int) string {
	return string(appendPadded(nil, i, 1))
}

// TestRoundTrip checks that every value type comes back unchanged.
func TestRoundTrip(t *testing.T) {
	u, _ := url.Parse("https://contoso.example/x?y=1#z")
	shared := &psobject.Object{TypeNames: []string{"Psgate.Thing", "System.Object"}, Text: "thing",
		Props: []psobject.Property{{Name: "Id", Value: int64(7)}}}
	values := []any{
		nil, "text", "", true, false, int32(math.MinInt32), int64(math.MaxInt64), uint8(1), int8(-1),
		uint16(2), int16(-2), uint32(3), uint64(math.MaxUint64), float32(-2.5), math.Pi, math.NaN(),
		math.Inf(1), psobject.Decimal("1.10"), psobject.Char(0xD800), psobject.Char('x'),
		time.Date(2026, 11, 25, 22, 28, 23, 123456700, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.FixedZone("", -12*3600)),
		-(36*time.Hour + 100*time.Nanosecond), []byte{}, []byte("bytes"),
		psobject.GUID("00000000-0000-0000-0000-000000000000"), psobject.Version("2.3"), u,
		psobject.ScriptBlock("{ 1 }"), SecureString{Ciphertext: []byte{1, 2}},
		psobject.Enum{Type: "System.ConsoleColor", Name: "Red", Value: 12},
		[]any{"a", []any{int32(1)}, shared},
		&psobject.Dict{TypeNames: []string{"System.Collections.Hashtable", "System.Object"},
			Entries: []psobject.DictEntry{{Key: "k", Value: shared}, {Key: int32(2), Value: []any{}}}},
		&psobject.Object{TypeNames: []string{"Psgate.User", "Psgate.Base", "System.Object"}, Text: "alice",
			Props:    []psobject.Property{{Name: "Thing", Value: shared}, {Name: "Again", Value: shared}},
			Extended: []psobject.Property{{Name: "Note", Value: nil}}},
	}
	for _, v := range values {
		data, err := Marshal(v)
		if err != nil {
			t.Fatalf("Marshal(%#v): %v", v, err)
		}
		got, err := Unmarshal(data, Limits{})
		if err != nil {
			t.Fatalf("Unmarshal(%s): %v", data, err)
		}
		if diff := cmp.Diff(got, v, cmpValues); diff != "" {
			t.Errorf("round trip of %s (-got +want):\n%s", data, diff)
		}
	}
}

func TestDecoderStream(t *testing.T) {
	d, err := NewDecoder([]byte(`<S>a</S> <Obj RefId="0"><TN RefId="0"><T>X</T></TN></Obj><Obj RefId="1"><TNRef RefId="0" /></Obj>`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var got []any
	for {
		v, err := d.Decode()
		if err != nil {
			break
		}
		got = append(got, v)
	}
	want := []any{"a", &psobject.Object{TypeNames: []string{"X"}}, &psobject.Object{TypeNames: []string{"X"}}}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("Decode sequence (-got +want):\n%s", diff)
	}
}

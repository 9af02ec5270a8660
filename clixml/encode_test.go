package clixml

import (
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/psobject"
)

// psobjectWithName returns an object whose type name, ToString and one
// extended property name are all s.
func psobjectWithName(s string) *psobject.Object {
	return &psobject.Object{
		TypeNames: []string{s, "System.Object"},
		Text:      s,
		Extended:  []psobject.Property{{Name: s, Value: int32(1)}},
	}
}

func asObject(t *testing.T, v any) *psobject.Object {
	t.Helper()
	o, ok := v.(*psobject.Object)
	if !ok {
		t.Fatalf("got %T, want *psobject.Object", v)
	}
	return o
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := Marshal(v)
	if err != nil {
		t.Fatalf("Marshal(%#v): %v", v, err)
	}
	return string(b)
}

func TestMarshalPrimitives(t *testing.T) {
	u, _ := url.Parse("https://example.com/a?b=c&d")
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"nil", nil, "<Nil />"},
		{"string", "hi", "<S>hi</S>"},
		{"empty string", "", "<S></S>"},
		{"true", true, "<B>true</B>"},
		{"false", false, "<B>false</B>"},
		{"int32", int32(-7), "<I32>-7</I32>"},
		{"int64", int64(1) << 40, "<I64>1099511627776</I64>"},
		{"small int", 42, "<I32>42</I32>"},
		{"large int", 1 << 40, "<I64>1099511627776</I64>"},
		{"uint8", uint8(255), "<By>255</By>"},
		{"int8", int8(-128), "<SB>-128</SB>"},
		{"uint16", uint16(65535), "<U16>65535</U16>"},
		{"int16", int16(-3), "<I16>-3</I16>"},
		{"uint32", uint32(4000000000), "<U32>4000000000</U32>"},
		{"uint64", uint64(math.MaxUint64), "<U64>18446744073709551615</U64>"},
		{"float32", float32(1.5), "<Sg>1.5</Sg>"},
		{"float64", 0.1, "<Db>0.1</Db>"},
		{"float64 big", 1e20, "<Db>1E+20</Db>"},
		{"float64 tiny", 1e-7, "<Db>1E-07</Db>"},
		{"float64 inf", math.Inf(-1), "<Db>-INF</Db>"},
		{"float64 nan", math.NaN(), "<Db>NaN</Db>"},
		{"decimal", psobject.Decimal("-12.50"), "<D>-12.50</D>"},
		{"char", psobject.Char('A'), "<C>65</C>"},
		{"datetime", time.Date(2026, 3, 4, 5, 6, 7, 800000000, time.UTC), "<DT>2026-03-04T05:06:07.8Z</DT>"},
		{"timespan", 90 * time.Second, "<TS>PT1M30S</TS>"},
		{"bytes", []byte{1, 2, 3}, "<BA>AQID</BA>"},
		{"guid", psobject.GUID("a6a8f5c6-0000-4000-8000-000000000001"), "<G>a6a8f5c6-0000-4000-8000-000000000001</G>"},
		{"version", psobject.Version("1.1.0.1"), "<Version>1.1.0.1</Version>"},
		{"uri", u, "<URI>https://example.com/a?b=c&amp;d</URI>"},
		{"scriptblock", psobject.ScriptBlock("$_.Name -eq 'x'"), "<SBK>$_.Name -eq 'x'</SBK>"},
		{"securestring", SecureString{Ciphertext: []byte{0xFF}}, "<SS>/w==</SS>"},
		{"enum", psobject.Enum{Type: "System.Management.Automation.ProgressRecordType", Name: "Completed", Value: 1},
			`<Obj RefId="0"><TN RefId="0"><T>System.Management.Automation.ProgressRecordType</T><T>System.Enum</T>` +
				`<T>System.ValueType</T><T>System.Object</T></TN><ToString>Completed</ToString><I32>1</I32></Obj>`},
		{"enum without type", psobject.Enum{Value: 3}, "<I32>3</I32>"},
		{"nil object", (*psobject.Object)(nil), "<Nil />"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustMarshal(t, tt.in); got != tt.want {
				t.Errorf("Marshal = %s\nwant      %s", got, tt.want)
			}
		})
	}
}

func TestMarshalObject(t *testing.T) {
	obj := &psobject.Object{
		TypeNames: []string{"Psgate.OnlineUser", "System.Object"},
		Text:      "alice",
		Props:     []psobject.Property{{Name: "Name", Value: "alice"}, {Name: "Enabled", Value: true}},
		Extended:  []psobject.Property{{Name: "Note", Value: nil}},
	}
	want := `<Obj RefId="0"><TN RefId="0"><T>Psgate.OnlineUser</T><T>System.Object</T></TN>` +
		`<ToString>alice</ToString><Props><S N="Name">alice</S><B N="Enabled">true</B></Props>` +
		`<MS><Nil N="Note" /></MS></Obj>`
	if got := mustMarshal(t, obj); got != want {
		t.Errorf("Marshal = %s\nwant      %s", got, want)
	}
}

func TestMarshalRefs(t *testing.T) {
	shared := &psobject.Object{TypeNames: []string{"T.A", "System.Object"}, Props: []psobject.Property{{Name: "X", Value: int32(1)}}}
	other := &psobject.Object{TypeNames: []string{"T.A", "System.Object"}}
	d := &psobject.Dict{Entries: []psobject.DictEntry{{Key: "k", Value: shared}}}
	root := psobject.NewCustom(
		psobject.P("First", shared),
		psobject.P("Second", shared),
		psobject.P("Other", other),
		psobject.P("D1", d),
		psobject.P("D2", d),
	)
	want := `<Obj RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS>` +
		`<Obj N="First" RefId="1"><TN RefId="1"><T>T.A</T><T>System.Object</T></TN><Props><I32 N="X">1</I32></Props></Obj>` +
		`<Ref N="Second" RefId="1" />` +
		`<Obj N="Other" RefId="2"><TNRef RefId="1" /></Obj>` +
		`<Obj N="D1" RefId="3"><TN RefId="2"><T>System.Collections.Hashtable</T><T>System.Object</T></TN><DCT><En><S N="Key">k</S><Ref N="Value" RefId="1" /></En></DCT></Obj>` +
		`<Ref N="D2" RefId="3" /></MS></Obj>`
	if got := mustMarshal(t, root); got != want {
		t.Errorf("Marshal = %s\nwant      %s", got, want)
	}
}

func TestMarshalCollections(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"any slice", []any{"a", int32(1), nil},
			`<Obj RefId="0"><TN RefId="0"><T>System.Object[]</T><T>System.Array</T><T>System.Object</T></TN><LST><S>a</S><I32>1</I32><Nil /></LST></Obj>`},
		{"empty slice", []any{},
			`<Obj RefId="0"><TN RefId="0"><T>System.Object[]</T><T>System.Array</T><T>System.Object</T></TN><LST /></Obj>`},
		{"string slice", []string{"a", "b"},
			`<Obj RefId="0"><TN RefId="0"><T>System.String[]</T><T>System.Array</T><T>System.Object</T></TN><LST><S>a</S><S>b</S></LST></Obj>`},
		{"typed list", List{TypeNames: []string{"System.Collections.ArrayList", "System.Object"}, Items: []any{int32(1)}},
			`<Obj RefId="0"><TN RefId="0"><T>System.Collections.ArrayList</T><T>System.Object</T></TN><LST><I32>1</I32></LST></Obj>`},
		{"queue", List{TypeNames: []string{"System.Collections.Queue", "System.Object"}, Kind: KindQueue, Items: []any{"q"}},
			`<Obj RefId="0"><TN RefId="0"><T>System.Collections.Queue</T><T>System.Object</T></TN><QUE><S>q</S></QUE></Obj>`},
		{"stack", List{Kind: KindStack},
			`<Obj RefId="0"><TN RefId="0"><T>System.Object[]</T><T>System.Array</T><T>System.Object</T></TN><STK /></Obj>`},
		{"enumerable", List{Kind: KindEnumerable, Items: []any{true}},
			`<Obj RefId="0"><TN RefId="0"><T>System.Object[]</T><T>System.Array</T><T>System.Object</T></TN><IE><B>true</B></IE></Obj>`},
		{"dict", &psobject.Dict{Entries: []psobject.DictEntry{{Key: int32(5), Value: "v"}}},
			`<Obj RefId="0"><TN RefId="0"><T>System.Collections.Hashtable</T><T>System.Object</T></TN><DCT><En><I32 N="Key">5</I32><S N="Value">v</S></En></DCT></Obj>`},
		{"empty dict", &psobject.Dict{TypeNames: []string{"X"}},
			`<Obj RefId="0"><TN RefId="0"><T>X</T></TN><DCT /></Obj>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustMarshal(t, tt.in); got != tt.want {
				t.Errorf("Marshal = %s\nwant      %s", got, tt.want)
			}
		})
	}
}

func TestMarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"unsupported type", struct{}{}, "cannot serialize struct {}"},
		{"map", map[string]any{}, "cannot serialize map"},
		{"unnamed property", psobject.NewCustom(psobject.P("", 1)), "property without a name"},
		{"year zero", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), "year out of range"},
		{"nested unsupported", []any{[]int{1}}, "cannot serialize []int"},
		{"bad list kind", List{Kind: 9}, "unknown list kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Marshal(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Marshal error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestMarshalDepthLimit checks that a value nested past MaxDepth is written
// as its display text, as PowerShell does at its serialization depth.
func TestMarshalDepthLimit(t *testing.T) {
	inner := &psobject.Object{TypeNames: []string{"Deep.Thing"}, Text: "deep text"}
	root := psobject.NewCustom(psobject.P("A", psobject.NewCustom(psobject.P("B", inner))))
	e := Encoder{MaxDepth: 2}
	if err := e.Encode(root); err != nil {
		t.Fatal(err)
	}
	got := string(e.Bytes())
	if !strings.Contains(got, `<S N="B">deep text</S>`) {
		t.Errorf("depth-limited output %s lacks the display text of the deep object", got)
	}
	// Self-reference terminates through a <Ref>.
	loop := psobject.NewCustom()
	loop.Extended = append(loop.Extended, psobject.P("Self", loop))
	if got := mustMarshal(t, loop); !strings.Contains(got, `<Ref N="Self" RefId="0" />`) {
		t.Errorf("cyclic object written as %s", got)
	}
}

func TestEncoderReset(t *testing.T) {
	var e Encoder
	o := psobject.NewCustom(psobject.P("A", int32(1)))
	for i := 0; i < 2; i++ {
		e.Reset()
		if err := e.Encode(o); err != nil {
			t.Fatal(err)
		}
		if got := string(e.Bytes()); !strings.HasPrefix(got, `<Obj RefId="0"><TN RefId="0">`) {
			t.Fatalf("message %d starts %s, want RefIds restarted at 0", i, got)
		}
	}
}

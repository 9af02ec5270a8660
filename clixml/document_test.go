package clixml

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/psgate/psgate/psobject"
)

func TestMarshalDocument(t *testing.T) {
	data, err := MarshalDocument(Stream{Name: "Error", Value: "boom\r\n"}, psobject.NewCustom(psobject.P("A", int32(1))), Stream{Name: "x", Value: nil})
	if err != nil {
		t.Fatal(err)
	}
	want := `<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">` +
		`<S S="Error">boom_x000D__x000A_</S>` +
		`<Obj RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS><I32 N="A">1</I32></MS></Obj>` +
		`<Nil S="x" /></Objs>`
	if string(data) != want {
		t.Errorf("MarshalDocument = %s\nwant              %s", data, want)
	}
	if _, err := MarshalDocument(Stream{Value: Stream{}}); err == nil {
		t.Error("nested Stream accepted")
	}
}

func TestUnmarshalDocument(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []any
	}{
		{"stderr as WinRS sends it",
			"#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><S S=\"Error\">Cannot find path_x000D__x000A_</S></Objs>",
			[]any{Stream{Name: "Error", Value: "Cannot find path\r\n"}}},
		{"Export-Clixml with indentation and a declaration",
			"\ufeff<?xml version=\"1.0\"?>\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">\r\n  <S>a</S>\r\n  <Obj RefId=\"0\">\r\n    <MS>\r\n      <I32 N=\"n\">1</I32>\r\n    </MS>\r\n  </Obj>\r\n</Objs>\r\n",
			[]any{"a", &psobject.Object{Extended: []psobject.Property{{Name: "n", Value: int32(1)}}}}},
		{"empty", `<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04" />`, []any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := UnmarshalDocument([]byte(tt.in), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, tt.want, cmpValues); diff != "" {
				t.Errorf("UnmarshalDocument (-got +want):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"", "<S>a</S>", "<Objs><S>a</S></Objs><S>b</S>", "<Objs><Foo/></Objs>"} {
		if _, err := UnmarshalDocument([]byte(bad), Limits{}); err == nil || !strings.HasPrefix(err.Error(), "clixml: ") {
			t.Errorf("UnmarshalDocument(%q) error = %v, want a clixml error", bad, err)
		}
	}
}

func TestDocumentRoundTrip(t *testing.T) {
	objs := []any{Stream{Name: "Error", Value: "e"}, "plain", []any{int32(1)}}
	data, err := MarshalDocument(objs...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalDocument([]byte(StderrPrefix+string(data)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, objs, cmpValues); diff != "" {
		t.Errorf("round trip (-got +want):\n%s", diff)
	}
}

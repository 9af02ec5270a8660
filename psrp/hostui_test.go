package psrp

import (
	"testing"

	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psobject"
)

func TestWriteProgressHostCall(t *testing.T) {
	m, err := NewPipelineHostCall(testRPID, testPID, WriteProgress(3, ProgressRecord{
		Activity: "Import", StatusDescription: "Half", ParentActivityID: -1, PercentComplete: 50, SecondsRemaining: -1,
	}))
	if err != nil {
		t.Fatal(err)
	}
	v, err := clixml.Unmarshal(m.Data, clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	o := v.(*psobject.Object)
	if mi, _ := o.Get("mi"); mi.(psobject.Enum).Value != 20 {
		t.Errorf("mi = %v, want 20 (WriteProgress)", mi)
	}
	mp, _ := o.Get("mp")
	params := mp.([]any)
	if len(params) != 2 || params[0] != int64(3) {
		t.Fatalf("parameters %#v, want Int64 sourceId then the record", params)
	}
	rec := params[1].(*psobject.Object)
	for name, want := range map[string]any{"Activity": "Import", "ActivityId": int32(0), "StatusDescription": "Half",
		"CurrentOperation": nil, "ParentActivityId": int32(-1), "PercentComplete": int32(50), "SecondsRemaining": int32(-1)} {
		if got, _ := rec.Get(name); got != want {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	if typ, _ := rec.Get("Type"); typ.(psobject.Enum).Name != "Processing" {
		t.Errorf("Type = %v", typ)
	}
}

func TestHostColors(t *testing.T) {
	entry := func(key int64, v any) psobject.DictEntry {
		return psobject.DictEntry{Key: int32(key), Value: psobject.NewCustom(psobject.P("T", "System.ConsoleColor"), psobject.P("V", v))}
	}
	tests := []struct {
		entries []psobject.DictEntry
		want    HostColors
	}{
		{[]psobject.DictEntry{entry(0, int32(6)), entry(1, int32(5))}, HostColors{Foreground: 6, Background: 5, Known: true}},
		{[]psobject.DictEntry{entry(0, int32(6))}, HostColors{}},
		{[]psobject.DictEntry{entry(0, int32(16)), entry(1, int32(5))}, HostColors{}},
		{[]psobject.DictEntry{entry(0, "Red"), entry(1, int32(5))}, HostColors{}},
	}
	for i, tt := range tests {
		if got := hostColors(&psobject.Dict{Entries: tt.entries}); got != tt.want {
			t.Errorf("%d: %+v, want %+v", i, got, tt.want)
		}
	}
}

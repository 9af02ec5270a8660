package psobject

import (
	"testing"
	"time"
)

func TestGetIsCaseInsensitiveAndSeesExtended(t *testing.T) {
	o := New([]string{"Psgate.OnlineUser", "System.Object"}, P("DisplayName", "Alice"))
	o.Extended = []Property{P("Note", 1)}
	if v, ok := o.Get("displayname"); !ok || v != "Alice" {
		t.Fatalf("Get(displayname) = %v, %v", v, ok)
	}
	if v, ok := o.Get("NOTE"); !ok || v != 1 {
		t.Fatalf("Get(NOTE) = %v, %v", v, ok)
	}
	if _, ok := o.Get("Missing"); ok {
		t.Fatal("Get(Missing) found something")
	}
	if n, _ := o.PropertyName("DISPLAYNAME"); n != "DisplayName" {
		t.Fatalf("PropertyName = %q, want the declared spelling", n)
	}
	if len(o.Properties()) != 2 || !o.IsA("system.object") || o.String() != "Psgate.OnlineUser" {
		t.Fatalf("Properties/IsA/String wrong: %v %v %q", o.Properties(), o.IsA("system.object"), o.String())
	}
}

func TestFormatAsPowerShellShowsValues(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{nil, ""},
		{true, "True"},
		{int32(-5), "-5"},
		{uint64(18446744073709551615), "18446744073709551615"},
		{2.5, "2.5"},
		{Char('A'), "A"},
		{[]byte{1, 2}, "{1, 2}"},
		{[]any{"a", int32(1), nil}, "{a, 1, }"},
		{Enum{Type: "T", Name: "Completed", Value: 1}, "Completed"},
		{time.Date(2026, 11, 25, 22, 28, 23, 0, time.UTC), "11/25/2026 10:28:23 PM"},
		{90*time.Minute + 1500*time.Millisecond, "01:30:01.5000000"},
		{26*time.Hour + 3*time.Second, "1.02:00:03"},
		{-time.Second, "-00:00:01"},
		{&Object{Text: "custom"}, "custom"},
		{&Dict{}, "System.Collections.Hashtable"},
	}
	for _, tt := range tests {
		if got := Format(tt.v); got != tt.want {
			t.Errorf("Format(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

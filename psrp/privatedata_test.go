package psrp

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/psgate/psgate/psobject"
)

// entry finds a dictionary entry by key, as PSPrimitiveDictionary.TryPathGet
// does (the keys are strings).
func entry(d *psobject.Dict, key string) (any, bool) {
	for _, en := range d.Entries {
		if k, _ := en.Key.(string); strings.EqualFold(k, key) {
			return en.Value, true
		}
	}
	return nil, false
}

// CommandsToSkip travels where Import-PSSession reads it:
// ApplicationPrivateData.ImplicitRemoting.CommandsToSkip, a string[] in a
// nested PSPrimitiveDictionary.
func TestApplicationPrivateDataCommandsToSkip(t *testing.T) {
	skip := []string{"Get-Command", "Out-Default", "prompt"}
	m, err := NewApplicationPrivateData(GUID{1}, PrivateData{CommandsToSkip: skip})
	if err != nil {
		t.Fatal(err)
	}
	apd := prop(t, decode(t, m), "ApplicationPrivateData").(*psobject.Dict)
	if _, ok := entry(apd, "PSVersionTable"); !ok {
		t.Fatal("PSVersionTable is missing")
	}
	ir, ok := entry(apd, "ImplicitRemoting")
	if !ok {
		t.Fatalf("no ImplicitRemoting entry in %v", apd.Entries)
	}
	d, ok := ir.(*psobject.Dict)
	if !ok {
		t.Fatalf("ImplicitRemoting is %T, want a dictionary", ir)
	}
	if len(d.TypeNames) == 0 || d.TypeNames[0] != "System.Management.Automation.PSPrimitiveDictionary" {
		t.Errorf("ImplicitRemoting type names %v: a nested value of a PSPrimitiveDictionary must be one", d.TypeNames)
	}
	v, ok := entry(d, "CommandsToSkip")
	if !ok {
		t.Fatal("ImplicitRemoting has no CommandsToSkip")
	}
	items, ok := v.([]any)
	if !ok {
		t.Fatalf("CommandsToSkip is %T, want a list", v)
	}
	var got []string
	for _, it := range items {
		s, ok := it.(string)
		if !ok {
			t.Fatalf("CommandsToSkip item %#v is not a string", it)
		}
		got = append(got, s)
	}
	if diff := cmp.Diff(skip, got); diff != "" {
		t.Errorf("CommandsToSkip (-sent +decoded):\n%s", diff)
	}
	if !strings.Contains(string(m.Data), "<T>System.String[]</T>") {
		t.Errorf("CommandsToSkip is not typed string[]:\n%s", m.Data)
	}

	// Without a list there is no ImplicitRemoting entry: the client then
	// applies its own default list.
	m, err = NewApplicationPrivateData(GUID{1}, PrivateData{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := entry(prop(t, decode(t, m), "ApplicationPrivateData").(*psobject.Dict), "ImplicitRemoting"); ok {
		t.Error("ImplicitRemoting sent without CommandsToSkip")
	}
}

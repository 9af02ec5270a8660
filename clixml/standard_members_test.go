package clixml

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/psgate/psgate/psobject"
)

// An object's default display property set travels as the instance member
// set PowerShell's serializer writes, and comes back as DisplayProps.
func TestDisplayPropsMemberSet(t *testing.T) {
	o := psobject.New([]string{"Psgate.OnlineUser", "System.Object"},
		psobject.P("DisplayName", "Alice"), psobject.P("Department", "Sales"), psobject.P("Enabled", true))
	o.Extended = []psobject.Property{{Name: "Note", Value: int32(1)}}
	o.DisplayProps = []string{"DisplayName", "Enabled"}

	got := mustMarshal(t, o)
	want := `<Obj RefId="0"><TN RefId="0"><T>Psgate.OnlineUser</T><T>System.Object</T></TN>` +
		`<MS><MS N="PSStandardMembers">` +
		`<Obj N="DefaultDisplayPropertySet" RefId="1"><TN RefId="1"><T>System.Management.Automation.PSPropertySet</T>` +
		`<T>System.Management.Automation.PSMemberInfo</T><T>System.Object</T></TN>` +
		`<ToString>DefaultDisplayPropertySet {DisplayName, Enabled}</ToString>` +
		`<Props><S N="Name">DefaultDisplayPropertySet</S><Obj N="ReferencedPropertyNames" RefId="2"><TN RefId="2">` +
		"<T>System.Collections.ObjectModel.Collection`1[[System.String, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089]]</T>" +
		`<T>System.Object</T></TN><LST><S>DisplayName</S><S>Enabled</S></LST></Obj></Props></Obj></MS></MS>` +
		`<Props><S N="DisplayName">Alice</S><S N="Department">Sales</S><B N="Enabled">true</B></Props>` +
		`<MS><I32 N="Note">1</I32></MS></Obj>`
	if got != want {
		t.Errorf("Marshal:\n got %s\nwant %s", got, want)
	}

	v, err := Unmarshal([]byte(got), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	back := asObject(t, v)
	if diff := cmp.Diff(back.DisplayProps, o.DisplayProps); diff != "" {
		t.Errorf("DisplayProps (-got +want):\n%s", diff)
	}
	// The member set is not a property of the object.
	if diff := cmp.Diff(back.Extended, o.Extended); diff != "" {
		t.Errorf("Extended (-got +want):\n%s", diff)
	}
	if _, ok := back.Get("PSStandardMembers"); ok {
		t.Error("PSStandardMembers decoded as a property")
	}
}

// Objects without a display set keep their old CLIXML, and member sets
// other than PSStandardMembers, or without a usable set, are ignored.
func TestDisplayPropsAbsent(t *testing.T) {
	o := psobject.NewCustom(psobject.P("A", "x"))
	if got, want := mustMarshal(t, o), `<Obj RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS><S N="A">x</S></MS></Obj>`; got != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
	for name, in := range map[string]string{
		"other member set": `<Obj RefId="0"><MS><S N="A">x</S><MS N="Other"><S N="DefaultDisplayPropertySet">A</S></MS></MS></Obj>`,
		"empty set":        `<Obj RefId="0"><MS><S N="A">x</S><MS N="PSStandardMembers" /></MS></Obj>`,
		"not a list":       `<Obj RefId="0"><MS><S N="A">x</S><MS N="PSStandardMembers"><S N="DefaultDisplayPropertySet">A</S></MS></MS></Obj>`,
	} {
		v, err := Unmarshal([]byte(in), Limits{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := asObject(t, v)
		if got.DisplayProps != nil || len(got.Extended) != 1 {
			t.Errorf("%s: DisplayProps %v, Extended %v", name, got.DisplayProps, got.Extended)
		}
	}
	// A member set inside <Props> is not allowed.
	if _, err := Unmarshal([]byte(`<Obj RefId="0"><Props><MS N="PSStandardMembers" /></Props></Obj>`), Limits{}); err == nil {
		t.Error("member set in <Props> accepted")
	}
}

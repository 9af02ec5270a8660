package clixml

import (
	"testing"
	"time"

	"github.com/psgate/psgate/psobject"
)

// benchUser is an object like the ones online-service cmdlets return.
func benchUser() *psobject.Object {
	return &psobject.Object{
		TypeNames: []string{"Deserialized.Psgate.OnlineUser", "Psgate.DirectoryObject", "System.Object"},
		Text:      "alice@contoso.example",
		Props: []psobject.Property{
			{Name: "Identity", Value: "CN=alice,OU=Users,DC=contoso,DC=example"},
			{Name: "UserPrincipalName", Value: "alice@contoso.example"},
			{Name: "DisplayName", Value: "Alice Example"},
			{Name: "ObjectId", Value: psobject.GUID("6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")},
			{Name: "Enabled", Value: true},
			{Name: "LineURI", Value: "tel:+15550100"},
			{Name: "EnterpriseVoiceEnabled", Value: false},
			{Name: "UsageLocation", Value: "US"},
			{Name: "WhenCreated", Value: time.Date(2024, 5, 6, 7, 8, 9, 123456700, time.UTC)},
			{Name: "AssignedPlan", Value: []any{"MCOEV", "MCOSTANDARD"}},
			{Name: "Department", Value: nil},
			{Name: "SipAddress", Value: "sip:alice@contoso.example"},
		},
	}
}

func BenchmarkMarshalUser(b *testing.B) {
	u := benchUser()
	var e Encoder
	b.ReportAllocs()
	for b.Loop() {
		e.Reset()
		if err := e.Encode(u); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(e.Bytes())))
}

func BenchmarkUnmarshalUser(b *testing.B) {
	data, err := Marshal(benchUser())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Unmarshal(data, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

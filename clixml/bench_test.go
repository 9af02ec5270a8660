package clixml

import (
	"os"
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
	benchUnmarshal(b, data)
}

// BenchmarkUnmarshalCreatePipeline decodes the CREATE_PIPELINE of a
// two-command pipeline as pypsrp (recorded against Windows Server 2016)
// and psgate's Windows PowerShell 5.1 stand-in write it: the message the
// gateway decodes for every command.
func BenchmarkUnmarshalCreatePipeline(b *testing.B) {
	for _, bb := range []struct{ name, file string }{
		{"pypsrp", "testdata/recorded/create_pipeline_merge.xml"},
		{"winps-standin", "testdata/clients/winps-standin-create-pipeline.xml"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			data, err := os.ReadFile(bb.file)
			if err != nil {
				b.Fatal(err)
			}
			benchUnmarshal(b, data)
		})
	}
}

func benchUnmarshal(b *testing.B, data []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Unmarshal(data, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

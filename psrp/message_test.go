package psrp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGUID(t *testing.T) {
	g := mustGUID(t, "{00112233-4455-6677-8899-aabbccddeeff}")
	if got, want := g.String(), "00112233-4455-6677-8899-AABBCCDDEEFF"; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	if got, want := string(g.PSObject()), "00112233-4455-6677-8899-aabbccddeeff"; got != want {
		t.Errorf("PSObject() = %s, want %s", got, want)
	}
	// .NET Guid.ToByteArray order: the first three groups little-endian.
	var le [16]byte
	g.putLE(le[:])
	if got, want := hex.EncodeToString(le[:]), "33221100554477668899aabbccddeeff"; got != want {
		t.Errorf("wire bytes = %s, want %s", got, want)
	}
	if back := guidFromLE(le[:]); back != g {
		t.Errorf("guidFromLE = %s, want %s", back, g)
	}
	for _, bad := range []string{"", "00112233-4455-6677-8899-aabbccddeef", "0011223344556677-8899-aabbccddeeff0",
		"00112233-4455-6677-8899-aabbccddeefg", "00112233_4455_6677_8899_aabbccddeeff"} {
		if _, err := ParseGUID(bad); err == nil {
			t.Errorf("ParseGUID(%q) succeeded", bad)
		}
	}
	if !(GUID{}).IsZero() || g.IsZero() {
		t.Error("IsZero wrong")
	}
}

func TestMessageEncode(t *testing.T) {
	rpid := mustGUID(t, "00112233-4455-6677-8899-AABBCCDDEEFF")
	m := Message{Destination: DestinationClient, Type: MsgRunspacePoolState, RPID: rpid, Data: []byte("<S />")}
	got := m.Encode()
	want, _ := hex.DecodeString("01000000" + "05100200" + "33221100554477668899aabbccddeeff" +
		"00000000000000000000000000000000" + "efbbbf" + hex.EncodeToString([]byte("<S />")))
	if !bytes.Equal(got, want) {
		t.Errorf("Encode = %x\nwant     %x", got, want)
	}
	if len(got) != m.EncodedLen() {
		t.Errorf("EncodedLen = %d, want %d", m.EncodedLen(), len(got))
	}
	back, err := DecodeMessage(got)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(back, m); diff != "" {
		t.Errorf("DecodeMessage (-got +want):\n%s", diff)
	}
	// Messages to the server carry no byte order mark; empty data neither.
	toServer := Message{Destination: DestinationServer, Type: MsgEndOfPipelineInput}
	if enc := toServer.Encode(); len(enc) != MessageHeaderSize {
		t.Errorf("END_OF_PIPELINE_INPUT encodes to %d bytes, want %d", len(enc), MessageHeaderSize)
	}
}

func TestDecodeMessage(t *testing.T) {
	hdr := func(dest, typ string) string {
		return dest + typ + "00000000000000000000000000000000" + "00000000000000000000000000000000"
	}
	tests := []struct {
		name    string
		hex     string
		want    Message
		wantErr bool
	}{
		{"unknown type kept", hdr("02000000", "ffff0000"), Message{Destination: DestinationServer, Type: 0xFFFF}, false},
		{"unknown destination kept", hdr("07000000", "02000100"), Message{Destination: 7, Type: MsgSessionCapability}, false},
		{"bom stripped", hdr("01000000", "04100400") + "efbbbf3c532f3e", Message{Destination: DestinationClient, Type: MsgPipelineOutput, Data: []byte("<S/>")}, false},
		{"short", "0100000004100400", Message{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := hex.DecodeString(tt.hex)
			got, err := DecodeMessage(b)
			if tt.wantErr {
				if !errors.Is(err, ErrBadMessage) {
					t.Errorf("error = %v, want ErrBadMessage", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, tt.want, cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })); diff != "" {
				t.Errorf("DecodeMessage (-got +want):\n%s", diff)
			}
		})
	}
}

func TestTypeStrings(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{MsgCreatePipeline.String(), "CREATE_PIPELINE"},
		{MsgRunspacePoolInitData.String(), "RUNSPACEPOOL_INIT_DATA"},
		{MessageType(0x00041001).String(), "MessageType(0x00041001)"},
		{DestinationServer.String(), "Server"},
		{Destination(9).String(), "Destination(9)"},
		{PoolBroken.String(), "Broken"},
		{RunspacePoolState(12).String(), "RunspacePoolState(12)"},
		{PipelineCompleted.String(), "Completed"},
		{PipelineState(-1).String(), "PipelineState(-1)"},
		{HostWriteLine2.String(), "WriteLine2"},
		{HostPopRunspace.String(), "PopRunspace"},
		{HostMethodID(56).String(), "PromptForChoiceMultipleSelection"},
		{HostMethodID(57).String(), "HostMethodID(57)"},
		{CategoryLimitsExceeded.String(), "LimitsExceeded"},
		{CategoryPermissionDenied.String(), "PermissionDenied"},
		{ErrorCategory(99).String(), "NotSpecified"},
		{CommandCmdlet.String(), "Cmdlet"},
		{CommandTypes(3).String(), "3"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	if !MsgPipelineHostResponse.Known() || MessageType(0x00041001).Known() {
		t.Error("Known wrong")
	}
}

func FuzzDecodeMessage(f *testing.F) {
	rec := loadRecording(f, "open_runspace")
	for _, m := range append(rec.client, rec.server...) {
		f.Add(m.Encode())
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			if len(b) >= MessageHeaderSize {
				t.Fatalf("DecodeMessage of %d bytes failed: %v", len(b), err)
			}
			return
		}
		again, err := DecodeMessage(m.Encode())
		if err != nil {
			t.Fatal(err)
		}
		// Only a byte order mark at the start of the data may differ.
		if again.Type != m.Type || again.RPID != m.RPID || again.PID != m.PID ||
			!bytes.Equal(bytes.TrimPrefix(again.Data, utf8BOM), bytes.TrimPrefix(m.Data, utf8BOM)) {
			t.Fatalf("re-encoding changed the message: %v vs %v", again, m)
		}
	})
}

package psrp

import (
	"strings"
	"testing"

	"github.com/smnsjas/go-psrpcore/fragments"
	"github.com/smnsjas/go-psrpcore/messages"
	"github.com/smnsjas/go-psrpcore/objects"
	"github.com/smnsjas/go-psrpcore/serialization"

	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psobject"
)

// These tests run go-psrpcore, the Go client psgate is tested against, on
// what this package produces and the other way round.

// gpcReceive reassembles our fragments with go-psrpcore and returns the
// messages it decodes.
func gpcReceive(t *testing.T, wire []byte) []*messages.Message {
	t.Helper()
	asm := fragments.NewAssembler()
	var out []*messages.Message
	for len(wire) > 0 {
		f, err := fragments.Decode(wire)
		if err != nil {
			t.Fatalf("go-psrpcore cannot decode our fragment: %v", err)
		}
		wire = wire[fragments.HeaderSize+len(f.Data):]
		done, data, err := asm.Add(f)
		if err != nil {
			t.Fatalf("go-psrpcore cannot reassemble: %v", err)
		}
		if done {
			m, err := messages.Decode(data)
			if err != nil {
				t.Fatalf("go-psrpcore cannot decode our message: %v", err)
			}
			out = append(out, m)
		}
	}
	return out
}

func gpcObject(t *testing.T, m *messages.Message) *serialization.PSObject {
	t.Helper()
	objs, err := serialization.NewDeserializer().Deserialize(m.Data)
	if err != nil || len(objs) != 1 {
		t.Fatalf("go-psrpcore cannot deserialize %s: %v", MessageType(m.Type), err)
	}
	o, ok := objs[0].(*serialization.PSObject)
	if !ok {
		t.Fatalf("go-psrpcore decoded %T", objs[0])
	}
	return o
}

func TestGoPSRPCoreReadsServerMessages(t *testing.T) {
	rpid := mustGUID(t, "4E9E4F8A-2B6F-4A1B-9C1E-0123456789AB")
	pid := mustGUID(t, "11111111-2222-3333-4444-555555555555")
	apd, err := NewApplicationPrivateData(rpid, PrivateData{})
	if err != nil {
		t.Fatal(err)
	}
	opened, err := NewRunspacePoolState(rpid, PoolOpened, nil)
	if err != nil {
		t.Fatal(err)
	}
	// go-psrpcore does not undo _xHHHH_ escapes, so control characters and
	// characters outside the BMP reach its users escaped; keep to text it
	// can show.
	user := psobject.New([]string{"Psgate.OnlineUser", "System.Object"}, psobject.P("DisplayName", "Ålice Émile"))
	output, err := NewPipelineOutput(rpid, pid, user)
	if err != nil {
		t.Fatal(err)
	}
	failed, err := NewPipelineState(rpid, pid, PipelineFailed, &ErrorRecord{Message: "denied", Category: CategoryPermissionDenied})
	if err != nil {
		t.Fatal(err)
	}
	f := Fragmenter{MaxBlob: 100}
	var wire []byte
	for _, m := range []Message{NewSessionCapability("2.3"), apd, opened, output, failed} {
		wire = f.AppendFragments(wire, m.Encode())
	}
	got := gpcReceive(t, wire)
	if len(got) != 5 {
		t.Fatalf("go-psrpcore decoded %d messages, want 5", len(got))
	}
	if got[0].Type != messages.MessageType(MsgSessionCapability) || gpcObject(t, got[0]).Properties["protocolversion"] != "2.3" {
		t.Errorf("capability not understood: %+v", gpcObject(t, got[0]).Properties)
	}
	if got[1].RunspaceID.String() != strings.ToLower(rpid.String()) {
		t.Errorf("go-psrpcore read RPID %s, want %s", got[1].RunspaceID, rpid)
	}
	if state := gpcObject(t, got[2]).Properties["RunspaceState"]; state != int32(PoolOpened) {
		t.Errorf("RunspaceState = %v", state)
	}
	out := gpcObject(t, got[3])
	if out.Properties["DisplayName"] != "Ålice Émile" || out.TypeNames[0] != "Psgate.OnlineUser" {
		t.Errorf("output object = %+v", out)
	}
	if got[4].PipelineID.String() != strings.ToLower(pid.String()) {
		t.Errorf("PID %s, want %s", got[4].PipelineID, pid)
	}
	st := gpcObject(t, got[4])
	if st.Properties["PipelineState"] != int32(PipelineFailed) || st.Properties["ExceptionAsErrorRecord"] == nil {
		t.Errorf("pipeline state = %+v", st.Properties)
	}
}

func TestGoPSRPCoreCreatePipeline(t *testing.T) {
	ps := &objects.PowerShell{Commands: []objects.Command{
		{Name: "Get-CsOnlineUser", Parameters: []objects.CommandParameter{{Name: "Identity", Value: "alice@contoso.example"}, {Value: "positional"}}},
		{Name: "Select-Object", Parameters: []objects.CommandParameter{{Name: "First", Value: int32(1)}}},
	}}
	data, err := serialization.NewSerializer().SerializeRaw(serialization.PowerShellToPSObject(ps))
	if err != nil {
		t.Fatal(err)
	}
	msg := messages.NewCreatePipeline([16]byte{1}, [16]byte{2}, data)
	enc, err := msg.Encode()
	if err != nil {
		t.Fatal(err)
	}
	frags, err := fragments.NewFragmenter(64).Fragment(enc)
	if err != nil {
		t.Fatal(err)
	}
	var wire []byte
	for _, f := range frags {
		wire = append(wire, f.Encode()...)
	}
	var r Reassembler
	got, err := r.Write(wire)
	if err != nil || len(got) != 1 {
		t.Fatalf("Write = %v, %v", got, err)
	}
	if got[0].Type != MsgCreatePipeline || got[0].Destination != DestinationServer {
		t.Fatalf("message = %v", got[0])
	}
	cp, err := ParseCreatePipeline(got[0].Data, clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	st := cp.PowerShell.Statements()
	if len(st) != 1 || len(st[0]) != 2 {
		t.Fatalf("statements = %+v", st)
	}
	get := st[0][0]
	if get.Cmd != "Get-CsOnlineUser" || len(get.Args) != 2 || get.Args[0] != (Arg{Name: "Identity", Value: "alice@contoso.example"}) ||
		get.Args[1] != (Arg{Value: "positional"}) {
		t.Errorf("first command = %+v", get)
	}
	if sel := st[0][1]; sel.Cmd != "Select-Object" || sel.Args[0] != (Arg{Name: "First", Value: int32(1)}) {
		t.Errorf("second command = %+v", sel)
	}
}

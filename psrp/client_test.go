package psrp

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate/clixml"
)

var (
	testRPID = GUID{0x76, 0x05, 0x6A, 0x84, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	testPID  = GUID{0xAA, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
)

// The server's parsers read what the client builders write.
func TestClientMessagesParseOnServer(t *testing.T) {
	capab := NewClientSessionCapability(testRPID)
	if capab.Destination != DestinationServer {
		t.Errorf("destination = %v", capab.Destination)
	}
	sc, err := ParseSessionCapability(capab.Data, clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if sc.ProtocolVersion != ClientProtocolVersion {
		t.Errorf("protocol version = %q", sc.ProtocolVersion)
	}

	init, err := NewInitRunspacePool(testRPID, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	ip, err := ParseInitRunspacePool(init.Data, clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if ip.MinRunspaces != 1 || ip.MaxRunspaces != 1 || ip.HostInfo.HasUI() {
		t.Errorf("init = %+v", ip)
	}

	want := CreatePipeline{NoInput: true, PowerShell: PowerShell{Commands: []Command{
		{Cmd: "Get-CsOnlineUser", Args: []Arg{{Name: "Identity", Value: "alice"}, {Value: int32(3)}, {Name: "Verbose", Value: true}}},
		{Cmd: "Select-Object", MergeMyResult: ResultError, MergeToResult: ResultOutput, Args: []Arg{{Name: "Property", Value: []any{"a", "b"}}}},
	}}}
	cp, err := NewCreatePipeline(testRPID, testPID, want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseCreatePipeline(cp.Data, clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got.HostInfo = HostInfo{}
	if diff := cmp.Diff(*got, want); diff != "" {
		t.Errorf("create pipeline (-got +want):\n%s", diff)
	}
	// The wire form survives fragmenting and reassembly.
	var r Reassembler
	msgs, err := r.Write(EncodeFragments(1, cp, 100))
	if err != nil || len(msgs) != 1 || msgs[0].PID != testPID || msgs[0].Type != MsgCreatePipeline {
		t.Fatalf("reassembled %v, %v", msgs, err)
	}
}

// The client's parsers read what the server builders write.
func TestServerMessagesParseOnClient(t *testing.T) {
	rec := &ErrorRecord{Message: "User alice was not found.", ExceptionType: "System.Management.Automation.ItemNotFoundException",
		FullyQualifiedErrorID: "engine.object-not-found", Category: CategoryObjectNotFound, Activity: "Get-CsOnlineUser",
		TargetName: "alice", TargetType: "String", RecommendedAction: "Check the name.", Code: "engine.object-not-found", Target: "alice"}
	m, err := NewErrorRecord(testRPID, testPID, rec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseErrorRecord(m.Data, clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := *rec
	want.Reason = "ItemNotFoundException"
	if diff := cmp.Diff(*got, want); diff != "" {
		t.Errorf("error record (-got +want):\n%s", diff)
	}

	st, err := NewPipelineState(testRPID, testPID, PipelineStopped, PipelineStoppedError())
	if err != nil {
		t.Fatal(err)
	}
	state, reason, err := ParsePipelineState(st.Data, clixml.Limits{})
	if err != nil || state != PipelineStopped || reason == nil || reason.FullyQualifiedErrorID != "PipelineStopped" {
		t.Errorf("pipeline state = %v, %+v, %v", state, reason, err)
	}
	ps, err := NewRunspacePoolState(testRPID, PoolOpened, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s, r, err := ParseRunspacePoolState(ps.Data, clixml.Limits{}); err != nil || s != PoolOpened || r != nil {
		t.Errorf("pool state = %v, %v, %v", s, r, err)
	}
	w, err := NewInformationalRecord(MsgWarningRecord, testRPID, testPID, "careful")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := ParseInformationalRecord(MsgWarningRecord, w.Data, clixml.Limits{}); err != nil || s != "careful" {
		t.Errorf("warning = %q, %v", s, err)
	}
}

// FuzzParseServerMessages: the client-side parsers never panic on
// whatever a server sends.
func FuzzParseServerMessages(f *testing.F) {
	st, _ := NewPipelineState(testRPID, testPID, PipelineFailed, &ErrorRecord{Message: "x", Code: "c"})
	f.Add(st.Data)
	er, _ := NewErrorRecord(testRPID, testPID, &ErrorRecord{Message: "m"})
	f.Add(er.Data)
	f.Add([]byte(`<Obj RefId="0"><MS><I32 N="RunspaceState">2</I32></MS></Obj>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := clixml.Limits{}
		_, _, _ = ParsePipelineState(data, lim)
		_, _, _ = ParseRunspacePoolState(data, lim)
		_, _ = ParseErrorRecord(data, lim)
		_, _ = ParseInformationalRecord(MsgVerboseRecord, data, lim)
		_, _ = ParseInformationRecord(data, lim)
		_, _ = ParsePipelineOutput(data, lim)
	})
}

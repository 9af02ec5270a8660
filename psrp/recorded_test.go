package psrp

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psobject"
)

// The recordings in testdata/recorded are pypsrp sessions with a real
// Windows Server 2016 (PowerShell 5.1). These tests parse the client's
// messages with the Parse* functions and compare the New* builders with
// what the real server sent, structurally (decoded values, so RefIds and
// formatting may differ).

var cmpDecoded = cmp.Options{cmpopts.EquateEmpty()}

// sameAsServer checks that a built message decodes to the same value as
// the real server's message.
func sameAsServer(t *testing.T, built, real Message) {
	t.Helper()
	if built.Type != real.Type {
		t.Fatalf("built %s, real server sent %s", built.Type, real.Type)
	}
	if diff := cmp.Diff(decode(t, built), decode(t, real), cmpDecoded); diff != "" {
		t.Errorf("%s differs from the real server's (-built +real):\n%s", built.Type, diff)
	}
}

func TestRecordedOpenRunspace(t *testing.T) {
	rec := loadRecording(t, "open_runspace")
	if len(rec.client) != 2 || len(rec.server) != 3 {
		t.Fatalf("got %d client and %d server messages, want 2 and 3", len(rec.client), len(rec.server))
	}
	capMsg, init := rec.client[0], rec.client[1]
	if capMsg.Type != MsgSessionCapability || init.Type != MsgInitRunspacePool || capMsg.Destination != DestinationServer {
		t.Fatalf("client sent %v, %v", capMsg, init)
	}
	c, err := ParseSessionCapability(capMsg.Data, clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if c.ProtocolVersion != "2.3" || c.PSVersion != "2.0" || c.SerializationVersion != "1.1.0.1" {
		t.Errorf("capability = %+v", c)
	}
	v, err := NegotiateProtocolVersion(c.ProtocolVersion)
	if err != nil {
		t.Fatal(err)
	}
	ip, err := ParseInitRunspacePool(init.Data, clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := InitRunspacePool{MinRunspaces: 1, MaxRunspaces: 1, ApartmentState: 2,
		HostInfo: HostInfo{IsHostNull: true, IsHostUINull: true, IsHostRawUINull: true, UseRunspaceHost: true}}
	if diff := cmp.Diff(ip, want); diff != "" {
		t.Errorf("INIT_RUNSPACEPOOL (-got +want):\n%s", diff)
	}

	rpid := init.RPID
	sameAsServer(t, NewSessionCapability(v), rec.server[0])
	if !rec.server[0].RPID.IsZero() {
		t.Error("the real server's SESSION_CAPABILITY has a non-zero RPID")
	}
	apd, err := NewApplicationPrivateData(rpid, PrivateData{PSVersion: "5.1.14393.2248", BuildVersion: "10.0.14393.2248"})
	if err != nil {
		t.Fatal(err)
	}
	sameAsServer(t, apd, rec.server[1])
	state, err := NewRunspacePoolState(rpid, PoolOpened, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameAsServer(t, state, rec.server[2])
	for _, m := range rec.server[1:] {
		if m.RPID != rpid || m.Destination != DestinationClient {
			t.Errorf("real server message %v does not echo the client's RPID %s", m, rpid)
		}
	}
}

func TestRecordedHostDefaultData(t *testing.T) {
	data := []byte(`<Obj RefId="0"><MS><I32 N="MinRunspaces">1</I32><I32 N="MaxRunspaces">2</I32>` +
		`<Obj N="HostInfo" RefId="1"><MS><Obj N="_hostDefaultData" RefId="2"><MS><Obj N="data" RefId="3">` +
		`<TN RefId="0"><T>System.Collections.Hashtable</T><T>System.Object</T></TN><DCT>` +
		`<En><I32 N="Key">5</I32><Obj N="Value" RefId="4"><MS><S N="T">System.Management.Automation.Host.Size</S>` +
		`<Obj N="V" RefId="5"><MS><I32 N="width">120</I32><I32 N="height">3000</I32></MS></Obj></MS></Obj></En>` +
		`<En><I32 N="Key">6</I32><Obj N="Value" RefId="6"><MS><S N="T">System.Management.Automation.Host.Size</S>` +
		`<Obj N="V" RefId="7"><MS><I32 N="width">120</I32><I32 N="height">50</I32></MS></Obj></MS></Obj></En>` +
		`</DCT></Obj></MS></Obj><B N="_isHostNull">false</B><B N="_isHostUINull">false</B><B N="_isHostRawUINull">false</B>` +
		`<B N="_useRunspaceHost">false</B></MS></Obj><Nil N="ApplicationArguments" /></MS></Obj>`)
	ip, err := ParseInitRunspacePool(data, clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := HostInfo{BufferWidth: 120, BufferHeight: 3000, WindowWidth: 120, WindowHeight: 50}
	if diff := cmp.Diff(ip.HostInfo, want); diff != "" {
		t.Errorf("HostInfo (-got +want):\n%s", diff)
	}
	if !ip.HostInfo.HasUI() {
		t.Error("HasUI false for a console host")
	}
	// The recorded pypsrp host with raw UI (80x80 buffer).
	rec := loadRecording(t, "pshost_ui_mocked_methods")
	cp, err := ParseCreatePipeline(ofType(rec.client, MsgCreatePipeline)[0].Data, clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if cp.HostInfo.IsHostNull || cp.HostInfo.IsHostUINull {
		t.Errorf("pypsrp with a host sent %+v", cp.HostInfo)
	}
}

func TestRecordedCreatePipeline(t *testing.T) {
	tests := []struct {
		file string
		want func(t *testing.T, c *CreatePipeline)
	}{
		{"execute_ps_failure", func(t *testing.T, c *CreatePipeline) {
			want := [][]Command{{
				{Cmd: "Invoke-Expression", Args: []Arg{{Name: "Command", Value: "Get-ServiceTypo -Name winrm"}}},
				{Cmd: "Out-String", Args: []Arg{{Name: "Stream", Value: nil}}},
			}}
			if diff := cmp.Diff(c.PowerShell.Statements(), want, cmpDecoded); diff != "" {
				t.Errorf("statements (-got +want):\n%s", diff)
			}
			if !c.NoInput || c.AddToHistory || c.RemoteStreamOptions != 15 || c.ApartmentState != 2 || c.PowerShell.ExtraCommands != nil {
				t.Errorf("pipeline flags = %+v", c)
			}
		}},
		{"jea_configuration", func(t *testing.T, c *CreatePipeline) {
			st := c.PowerShell.Statements()
			if len(st) != 1 || st[0][0].Cmd != "Get-Item" || st[0][0].Args[0] != (Arg{Name: "Path", Value: `WSMan:\localhost\Service\AllowUnencrypted`}) {
				t.Errorf("statements = %+v", st)
			}
		}},
		{"multiple_commands", func(t *testing.T, c *CreatePipeline) {
			st := c.PowerShell.Statements()
			if len(st) < 3 || c.PowerShell.ExtraCommands == nil {
				t.Fatalf("got %d statements, want several from ExtraCmds", len(st))
			}
			if diff := cmp.Diff(st[0], c.PowerShell.Commands, cmpDecoded); diff != "" {
				t.Errorf("first ExtraCmds statement differs from Cmds:\n%s", diff)
			}
			setVar := st[0][0]
			if setVar.Cmd != "Set-Variable" || len(setVar.Args) != 2 {
				t.Fatalf("first statement = %+v", setVar)
			}
			if _, ok := setVar.Args[1].Value.(clixml.SecureString); !ok {
				t.Errorf("-Value is %T, want clixml.SecureString", setVar.Args[1].Value)
			}
			if !HasSecureString(setVar.Args[1].Value) {
				t.Error("HasSecureString missed the secure string argument")
			}
			if st[1][0].IsScript != true {
				t.Errorf("second statement %+v should be a script", st[1][0])
			}
			convert := st[2][0]
			if convert.Cmd != "ConvertTo-SecureString" || convert.Args[1] != (Arg{Name: "AsPlainText"}) {
				t.Errorf("third statement = %+v", convert)
			}
		}},
		{"protocol_version_2.1", func(t *testing.T, c *CreatePipeline) {
			if c.NoInput {
				t.Error("NoInput set on a pipeline that takes input")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rec := loadRecording(t, tt.file)
			var parsed []*CreatePipeline
			for _, m := range ofType(rec.client, MsgCreatePipeline) {
				c, err := ParseCreatePipeline(m.Data, clixml.Limits{})
				if err != nil {
					t.Fatalf("%v: %v", m, err)
				}
				if m.PID.IsZero() {
					t.Errorf("CREATE_PIPELINE without a PID")
				}
				parsed = append(parsed, c)
			}
			if len(parsed) == 0 {
				t.Fatal("no CREATE_PIPELINE in the recording")
			}
			tt.want(t, parsed[0])
		})
	}
	// Merged streams (2>&1 and friends) as pypsrp sends them.
	data := []byte(`<Obj RefId="0"><MS><B N="NoInput">true</B><B N="AddToHistory">false</B><Obj N="PowerShell" RefId="1"><MS>` +
		`<B N="IsNested">false</B><Nil N="ExtraCmds" /><Obj N="Cmds" RefId="2"><LST><Obj RefId="3"><MS>` +
		`<S N="Cmd">Get-Thing</S><B N="IsScript">false</B><B N="UseLocalScope">true</B>` +
		`<Obj N="MergeMyResult" RefId="4"><TN RefId="0"><T>System.Management.Automation.Runspaces.PipelineResultTypes</T><T>System.Enum</T></TN><ToString>Error</ToString><I32>2</I32></Obj>` +
		`<I32 N="MergeToResult">1</I32><Obj N="MergePreviousResults" RefId="5"><TNRef RefId="0" /><ToString>Output, Error</ToString><I32>3</I32></Obj>` +
		`<Obj N="Args" RefId="6"><LST><Obj RefId="7"><MS><Nil N="N" /><S N="V">pos</S></MS></Obj>` +
		`<Obj RefId="8"><MS><S N="N">Force</S><Obj N="V" RefId="9"><TN RefId="1"><T>System.Management.Automation.SwitchParameter</T><T>System.ValueType</T><T>System.Object</T></TN>` +
		`<ToString>True</ToString><Props><B N="IsPresent">true</B></Props></Obj></MS></Obj></LST></Obj></MS></Obj></LST></Obj></MS></Obj></MS></Obj>`)
	c, err := ParseCreatePipeline(data, clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := Command{Cmd: "Get-Thing", UseLocalScope: true, MergeMyResult: ResultError, MergeToResult: ResultOutput,
		MergePreviousResults: ResultOutput | ResultError, Args: []Arg{{Value: "pos"}, {Name: "Force", Value: true}}}
	if diff := cmp.Diff(c.PowerShell.Commands[0], want); diff != "" {
		t.Errorf("command (-got +want):\n%s", diff)
	}
	if c.HostInfo != (HostInfo{IsHostNull: true, IsHostUINull: true, IsHostRawUINull: true, UseRunspaceHost: true}) {
		t.Errorf("missing HostInfo read as %+v, want a null host", c.HostInfo)
	}
}

func TestRecordedPipelineInput(t *testing.T) {
	rec := loadRecording(t, "protocol_version_2.1")
	var got []any
	for _, m := range ofType(rec.client, MsgPipelineInput) {
		v, err := ParsePipelineInput(m.Data, clixml.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if len(got) != 3 || got[0] != "message 1" || got[1] != int32(2) {
		t.Errorf("pipeline input = %#v", got)
	}
	end := ofType(rec.client, MsgEndOfPipelineInput)
	if len(end) != 1 || len(end[0].Data) != 0 {
		t.Errorf("END_OF_PIPELINE_INPUT = %v", end)
	}
}

func TestRecordedPipelineMessages(t *testing.T) {
	rec := loadRecording(t, "execute_ps_failure")
	progress := ofType(rec.server, MsgProgressRecord)[0]
	sameAsServer(t, NewProgressRecord(progress.RPID, progress.PID, ProgressRecord{
		Activity: "Preparing modules for first use.", StatusDescription: " ",
		ParentActivityID: -1, PercentComplete: -1, Completed: true, SecondsRemaining: -1,
	}), progress)

	failed := ofType(rec.server, MsgPipelineState)[0]
	realRec := prop(t, decode(t, failed), "ExceptionAsErrorRecord")
	msg := "The term 'Get-ServiceTypo' is not recognized as the name of a cmdlet, function, script file, or operable program. " +
		"Check the spelling of the name, or if a path was included, verify that the path is correct and try again."
	built, err := NewPipelineState(failed.RPID, failed.PID, PipelineFailed, &ErrorRecord{
		Message:               msg,
		ExceptionType:         "System.Management.Automation.CommandNotFoundException",
		FullyQualifiedErrorID: "CommandNotFoundException,Microsoft.PowerShell.Commands.InvokeExpressionCommand",
		Category:              CategoryObjectNotFound,
		Activity:              "Invoke-Expression",
		TargetName:            "Get-ServiceTypo",
		TargetType:            "String",
		Target:                "Get-ServiceTypo",
		Code:                  "engine.command-not-found",
	})
	if err != nil {
		t.Fatal(err)
	}
	ourRec := prop(t, decode(t, built), "ExceptionAsErrorRecord")
	if got := prop(t, decode(t, built), "PipelineState"); got != int32(PipelineFailed) {
		t.Errorf("PipelineState = %v", got)
	}
	// The properties PowerShell's ErrorPackage and pypsrp read must match
	// the real server's.
	for _, name := range []string{"TargetObject", "FullyQualifiedErrorId", "ErrorCategory_Category", "ErrorCategory_Activity",
		"ErrorCategory_Reason", "ErrorCategory_TargetName", "ErrorCategory_TargetType", "ErrorCategory_Message",
		"SerializeExtendedInfo"} {
		if diff := cmp.Diff(prop(t, ourRec, name), prop(t, realRec, name)); diff != "" && name != "SerializeExtendedInfo" {
			t.Errorf("%s (-ours +real):\n%s", name, diff)
		}
	}
	ours, real := ourRec.(*psobject.Object), realRec.(*psobject.Object)
	if diff := cmp.Diff(ours.TypeNames, real.TypeNames); diff != "" || ours.Text != real.Text {
		t.Errorf("record type names or ToString differ (-ours +real):\n%s\n%q vs %q", diff, ours.Text, real.Text)
	}
	ourExc, realExc := prop(t, ours, "Exception").(*psobject.Object), prop(t, real, "Exception").(*psobject.Object)
	if diff := cmp.Diff(ourExc.TypeNames, realExc.TypeNames); diff != "" {
		t.Errorf("exception type names (-ours +real):\n%s", diff)
	}
	if got, want := prop(t, ourExc, "Message"), prop(t, realExc, "Message"); got != want {
		t.Errorf("exception message %q, want %q", got, want)
	}
	if got := prop(t, ours, "psgateErrorCode"); got != "engine.command-not-found" {
		t.Errorf("psgateErrorCode = %v", got)
	}

	meta := loadRecording(t, "get_command_metadata")
	done := ofType(meta.server, MsgPipelineState)[0]
	completed, err := NewPipelineState(done.RPID, done.PID, PipelineCompleted, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameAsServer(t, completed, done)
}

func TestRecordedErrorRecord(t *testing.T) {
	rec := loadRecording(t, "jea_configuration")
	real := ofType(rec.server, MsgErrorRecord)[0]
	realRec := decode(t, real).(*psobject.Object)
	msg := prop(t, realRec, "Exception", "Message").(string)
	built, err := NewErrorRecord(real.RPID, real.PID, &ErrorRecord{
		Message:               msg,
		ExceptionType:         "System.Management.Automation.ProviderNotFoundException",
		FullyQualifiedErrorID: prop(t, realRec, "FullyQualifiedErrorId").(string),
		Category:              CategoryObjectNotFound,
		Activity:              "Get-Item",
		TargetName:            "FileSystem",
		TargetType:            "String",
		Target:                "FileSystem",
		RecommendedAction:     "Ask your administrator for the FileSystem provider.",
	})
	if err != nil {
		t.Fatal(err)
	}
	ours := decode(t, built).(*psobject.Object)
	for _, name := range []string{"writeErrorStream", "TargetObject", "FullyQualifiedErrorId", "ErrorCategory_Category",
		"ErrorCategory_Activity", "ErrorCategory_Reason", "ErrorCategory_TargetName", "ErrorCategory_TargetType", "ErrorCategory_Message"} {
		if diff := cmp.Diff(prop(t, ours, name), prop(t, realRec, name)); diff != "" {
			t.Errorf("%s (-ours +real):\n%s", name, diff)
		}
	}
	if ours.Text != realRec.Text {
		t.Errorf("ToString %q, want %q", ours.Text, realRec.Text)
	}
	if got := prop(t, ours, "ErrorDetails_RecommendedAction"); got != "Ask your administrator for the FileSystem provider." {
		t.Errorf("ErrorDetails_RecommendedAction = %v", got)
	}
	if got := prop(t, ours, "ErrorDetails_Message"); got != msg {
		t.Errorf("ErrorDetails_Message = %v, want the exception message", got)
	}
}

func TestRecordedStreams(t *testing.T) {
	rec := loadRecording(t, "pshost_ui_mocked_methods")
	for _, tt := range []struct {
		t    MessageType
		text string
	}{{MsgVerboseRecord, ""}, {MsgWarningRecord, ""}, {MsgDebugRecord, ""}} {
		real := ofType(rec.server, tt.t)[0]
		text := decode(t, real).(*psobject.Object).Text
		built, err := NewInformationalRecord(tt.t, real.RPID, real.PID, text)
		if err != nil {
			t.Fatal(err)
		}
		sameAsServer(t, built, real)
	}
	if _, err := NewInformationalRecord(MsgErrorRecord, GUID{}, GUID{}, "x"); err == nil {
		t.Error("NewInformationalRecord accepted ERROR_RECORD")
	}

	stream := loadRecording(t, "stream_output_invocation")
	info := ofType(stream.server, MsgInformationRecord)[0]
	realInfo := decode(t, info)
	built, err := NewInformationRecord(info.RPID, info.PID, InformationRecord{
		MessageData:     "information stream",
		Source:          "Write-Information",
		TimeGenerated:   prop(t, realInfo, "TimeGenerated").(time.Time),
		User:            `WIN-NNMU24VVKJ0\vagrant`,
		Computer:        "WIN-NNMU24VVKJ0",
		ProcessID:       prop(t, realInfo, "ProcessId").(uint32),
		NativeThreadID:  prop(t, realInfo, "NativeThreadId").(uint32),
		ManagedThreadID: prop(t, realInfo, "ManagedThreadId").(uint32),
	})
	if err != nil {
		t.Fatal(err)
	}
	sameAsServer(t, built, info)
}

func TestRecordedHostCalls(t *testing.T) {
	rec := loadRecording(t, "pshost_ui_mocked_methods")
	calls := ofType(rec.server, MsgPipelineHostCall)
	for _, real := range calls {
		v := decode(t, real)
		mi := prop(t, v, "mi").(psobject.Enum)
		params := prop(t, v, "mp").([]any)
		if mi.Name != HostMethodID(mi.Value).String() {
			t.Errorf("method %d is %q on the wire, %q here", mi.Value, mi.Name, HostMethodID(mi.Value).String())
		}
		built, err := NewPipelineHostCall(real.RPID, real.PID, HostCall{
			CallID: prop(t, v, "ci").(int64), Method: HostMethodID(mi.Value), Params: params,
		})
		if err != nil {
			t.Fatal(err)
		}
		sameAsServer(t, built, real)
	}
	if len(calls) < 10 {
		t.Errorf("only %d host calls recorded", len(calls))
	}

	responses := ofType(rec.client, MsgPipelineHostResponse)
	first, err := ParseHostResponse(MsgPipelineHostResponse, responses[0].Data, clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if first.CallID != 1 || first.Method != HostReadLine || first.Return != "ReadLine response" || first.Error != nil {
		t.Errorf("ReadLine response = %+v", first)
	}
	secure, err := ParseHostResponse(MsgPipelineHostResponse, responses[1].Data, clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !HasSecureString(secure.Return) {
		t.Errorf("ReadLineAsSecureString response %+v holds no secure string", secure)
	}
	failed, err := ParseHostResponse(MsgRunspacePoolHostResponse, []byte(`<Obj RefId="0"><MS><I64 N="ci">7</I64><I32 N="mi">11</I32>`+
		`<Obj N="me" RefId="1"><TN RefId="0"><T>System.Management.Automation.ErrorRecord</T></TN><ToString>fallback</ToString><MS>`+
		`<Obj N="Exception" RefId="2"><Props><S N="Message">no console</S></Props></Obj></MS></Obj></MS></Obj>`), clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if failed.CallID != 7 || failed.ErrorMessage != "no console" || failed.Return != nil {
		t.Errorf("failed response = %+v", failed)
	}
}

func TestRecordedPoolMessages(t *testing.T) {
	rec := loadRecording(t, "set_runspaces")
	for _, m := range rec.client {
		switch m.Type {
		case MsgSetMaxRunspaces, MsgSetMinRunspaces:
			parse := ParseSetMaxRunspaces
			if m.Type == MsgSetMinRunspaces {
				parse = ParseSetMinRunspaces
			}
			s, err := parse(m.Data, clixml.Limits{})
			if err != nil {
				t.Fatalf("%v: %v", m, err)
			}
			if s.Value == 0 {
				t.Errorf("%v parsed as %+v", m, s)
			}
		case MsgGetAvailableRunspaces:
			if _, err := ParseCallID(m.Type, m.Data, clixml.Limits{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, real := range ofType(rec.server, MsgRunspaceAvailability) {
		v := decode(t, real)
		ci := prop(t, v, "ci").(int64)
		var built Message
		switch resp := prop(t, v, "SetMinMaxRunspacesResponse").(type) {
		case bool:
			built = NewRunspaceAvailability(real.RPID, ci, resp)
		case int32:
			built = NewRunspaceCount(real.RPID, ci, resp)
		default:
			t.Fatalf("response is %T", resp)
		}
		sameAsServer(t, built, real)
	}

	reset := loadRecording(t, "reset_runspace_state")
	resets := ofType(reset.client, MsgResetRunspaceState)
	if len(resets) == 0 {
		t.Fatal("no RESET_RUNSPACE_STATE recorded")
	}
	if ci, err := ParseCallID(MsgResetRunspaceState, resets[0].Data, clixml.Limits{}); err != nil || ci != 0 {
		t.Errorf("RESET_RUNSPACE_STATE ci = %d, %v", ci, err)
	}

	disc := loadRecording(t, "disconnect_runspaces")
	connects := ofType(disc.client, MsgConnectRunspacePool)
	c, err := ParseConnectRunspacePool(connects[0].Data, clixml.Limits{})
	if err != nil || c.HasMinMax {
		t.Errorf("CONNECT_RUNSPACEPOOL <S /> = %+v, %v", c, err)
	}
	c, err = ParseConnectRunspacePool([]byte(`<Obj RefId="0"><MS><I32 N="MinRunspaces">1</I32><I32 N="MaxRunspaces">4</I32></MS></Obj>`), clixml.Limits{})
	if err != nil || c != (ConnectRunspacePool{HasMinMax: true, MinRunspaces: 1, MaxRunspaces: 4}) {
		t.Errorf("CONNECT_RUNSPACEPOOL with sizes = %+v, %v", c, err)
	}
	initData := ofType(disc.server, MsgRunspacePoolInitData)[0]
	sameAsServer(t, NewRunspacePoolInitData(initData.RPID, 1, 1), initData)
}

func TestRecordedKeyExchange(t *testing.T) {
	rec := loadRecording(t, "multiple_commands")
	pk := ofType(rec.client, MsgPublicKey)[0]
	blob, err := ParsePublicKey(pk.Data, clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(blob) != 276 || blob[0] != 0x06 || string(blob[8:12]) != "RSA1" {
		t.Errorf("public key blob: %d bytes, header % x", len(blob), blob[:12])
	}
	real := ofType(rec.server, MsgEncryptedSessionKey)[0]
	realKey := prop(t, decode(t, real), "EncryptedSessionKey").(string)
	enc, err := base64.StdEncoding.DecodeString(realKey)
	if err != nil {
		t.Fatal(err)
	}
	built := NewEncryptedSessionKey(enc)
	sameAsServer(t, built, real)
	if !built.RPID.IsZero() || !real.RPID.IsZero() {
		t.Error("ENCRYPTED_SESSION_KEY must have a zero RPID")
	}
	if req := NewPublicKeyRequest(); string(req.Data) != "<S></S>" || !req.RPID.IsZero() {
		t.Errorf("PUBLIC_KEY_REQUEST = %v %q", req, req.Data)
	}
}

func TestRecordedCommandMetadata(t *testing.T) {
	rec := loadRecording(t, "get_command_metadata")
	reqs := ofType(rec.client, MsgGetCommandMetadata)
	g, err := ParseGetCommandMetadata(reqs[0].Data, clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(g, GetCommandMetadata{Names: []string{"new-pssession*"}, CommandType: CommandAll}); diff != "" {
		t.Errorf("request (-got +want):\n%s", diff)
	}
	g, err = ParseGetCommandMetadata(reqs[2].Data, clixml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Namespace) != 1 || g.Namespace[0] != "Microsoft.WSMan.Management" {
		t.Errorf("namespace = %v", g.Namespace)
	}

	outputs := ofType(rec.server, MsgPipelineOutput)
	count := outputs[0]
	sameAsServer(t, NewCommandMetadataCount(count.RPID, count.PID, 3), count)
	// Rebuild every real command from its own metadata.
	for _, real := range outputs {
		v := decode(t, real).(*psobject.Object)
		if _, isCount := v.Get("Count"); isCount {
			continue
		}
		md := CommandMetadata{
			Name:        prop(t, v, "Name").(string),
			Namespace:   prop(t, v, "Namespace").(string),
			CommandType: CommandTypes(prop(t, v, "CommandType").(psobject.Enum).Value),
		}
		if u, ok := prop(t, v, "HelpUri").(string); ok {
			md.HelpURI = u
		}
		for _, o := range prop(t, v, "OutputType").([]any) {
			md.OutputType = append(md.OutputType, o.(string))
		}
		for _, en := range prop(t, v, "Parameters").(*psobject.Dict).Entries {
			pm := en.Value.(*psobject.Object)
			meta := ParameterMetadata{
				Name:      prop(t, pm, "Name").(string),
				TypeName:  prop(t, pm, "ParameterType").(string),
				IsSwitch:  prop(t, pm, "SwitchParameter").(bool),
				IsDynamic: prop(t, pm, "IsDynamic").(bool),
			}
			for _, a := range prop(t, pm, "Aliases").([]any) {
				meta.Aliases = append(meta.Aliases, a.(string))
			}
			md.Parameters = append(md.Parameters, meta)
		}
		built, err := NewCommandMetadata(real.RPID, real.PID, md)
		if err != nil {
			t.Fatal(err)
		}
		sameAsServer(t, built, real)
		// The real functions report the same common parameters.
		if md.CommandType == CommandFunction {
			if diff := cmp.Diff(md.Parameters[:11], CommonParameters(), cmpDecoded); diff != "" {
				t.Errorf("%s common parameters (-real +ours):\n%s", md.Name, diff)
			}
		}
	}
}

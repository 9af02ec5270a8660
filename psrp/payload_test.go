package psrp

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psobject"
)

func TestNegotiateProtocolVersion(t *testing.T) {
	tests := []struct {
		client, want psobject.Version
		ok           bool
	}{
		{"2.0", "2.0", true},
		{"2.1", "2.1", true},
		{"2.2", "2.2", true},
		{"2.3", "2.3", true},
		{"2.4", "2.3", true},
		{"2.10", "2.3", true},
		{"2.3.0.0", "2.3", true},
		{"1.0", "", false},
		{"3.0", "", false},
		{"2", "", false},
		{"", "", false},
		{"x.y", "", false},
	}
	for _, tt := range tests {
		got, err := NegotiateProtocolVersion(tt.client)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NegotiateProtocolVersion(%q) = %q, %v; want %q ok=%v", tt.client, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrProtocolVersion) {
			t.Errorf("error %v is not ErrProtocolVersion", err)
		}
	}
	if !VersionAtLeast("2.3", 2, 2) || VersionAtLeast("2.1", 2, 2) || !VersionAtLeast("3.0", 2, 9) || VersionAtLeast("bad", 0, 0) {
		t.Error("VersionAtLeast wrong")
	}
}

func TestParseErrors(t *testing.T) {
	lim := clixml.Limits{}
	obj := func(ms string) []byte { return []byte(`<Obj RefId="0"><MS>` + ms + `</MS></Obj>`) }
	tests := []struct {
		name  string
		parse func() error
		want  string
	}{
		{"capability not xml", func() error { _, err := ParseSessionCapability([]byte("<"), lim); return err }, "SESSION_CAPABILITY: clixml:"},
		{"capability not object", func() error { _, err := ParseSessionCapability([]byte("<S>x</S>"), lim); return err }, "data is a string, not an object"},
		{"capability missing version", func() error {
			_, err := ParseSessionCapability(obj(`<Version N="PSVersion">2.0</Version>`), lim)
			return err
		}, "missing property protocolversion"},
		{"capability bad timezone", func() error {
			_, err := ParseSessionCapability(obj(`<Version N="protocolversion">2.3</Version><Version N="PSVersion">2.0</Version>`+
				`<Version N="SerializationVersion">1.1.0.1</Version><S N="TimeZone">x</S>`), lim)
			return err
		}, "TimeZone is a string"},
		{"init wrong type", func() error { _, err := ParseInitRunspacePool(obj(`<S N="MinRunspaces">1</S>`), lim); return err }, "MinRunspaces is a string, not an integer"},
		{"init overflow", func() error {
			_, err := ParseInitRunspacePool(obj(`<I64 N="MinRunspaces">4294967296</I64>`), lim)
			return err
		}, "out of range"},
		{"init hostinfo not object", func() error {
			_, err := ParseInitRunspacePool(obj(`<I32 N="MinRunspaces">1</I32><I32 N="MaxRunspaces">1</I32><S N="HostInfo">x</S>`), lim)
			return err
		}, "HostInfo is a string, not an object"},
		{"init hostinfo incomplete", func() error {
			_, err := ParseInitRunspacePool(obj(`<I32 N="MinRunspaces">1</I32><I32 N="MaxRunspaces">1</I32><Obj N="HostInfo"><MS /></Obj>`), lim)
			return err
		}, "missing property _isHostNull"},
		{"init bad args", func() error {
			_, err := ParseInitRunspacePool(obj(`<I32 N="MinRunspaces">1</I32><I32 N="MaxRunspaces">1</I32><S N="ApplicationArguments">x</S>`), lim)
			return err
		}, "ApplicationArguments is a string"},
		{"pipeline without PowerShell", func() error { _, err := ParseCreatePipeline(obj(`<B N="NoInput">true</B>`), lim); return err }, "missing property PowerShell"},
		{"pipeline without commands", func() error {
			_, err := ParseCreatePipeline(obj(`<Obj N="PowerShell"><MS><Obj N="Cmds"><LST /></Obj></MS></Obj>`), lim)
			return err
		}, "pipeline has no commands"},
		{"pipeline cmds not list", func() error {
			_, err := ParseCreatePipeline(obj(`<Obj N="PowerShell"><MS><S N="Cmds">x</S></MS></Obj>`), lim)
			return err
		}, "Cmds is a string, not a list"},
		{"command not object", func() error {
			_, err := ParseCreatePipeline(obj(`<Obj N="PowerShell"><MS><Obj N="Cmds"><LST><S>x</S></LST></Obj></MS></Obj>`), lim)
			return err
		}, "Cmds holds a string, not a command object"},
		{"command without IsScript", func() error {
			_, err := ParseCreatePipeline(obj(`<Obj N="PowerShell"><MS><Obj N="Cmds"><LST><Obj><MS><S N="Cmd">Get-X</S></MS></Obj></LST></Obj></MS></Obj>`), lim)
			return err
		}, "missing property IsScript"},
		{"empty command", func() error {
			_, err := ParseCreatePipeline(obj(`<Obj N="PowerShell"><MS><Obj N="Cmds"><LST><Obj><MS><S N="Cmd"></S></MS></Obj></LST></Obj></MS></Obj>`), lim)
			return err
		}, "empty command"},
		{"argument not object", func() error {
			_, err := ParseCreatePipeline(obj(`<Obj N="PowerShell"><MS><Obj N="Cmds"><LST><Obj><MS><S N="Cmd">Get-X</S><B N="IsScript">false</B>`+
				`<Obj N="Args"><LST><S>a</S></LST></Obj></MS></Obj></LST></Obj></MS></Obj>`), lim)
			return err
		}, "argument of Get-X is a string"},
		{"argument name not string", func() error {
			_, err := ParseCreatePipeline(obj(`<Obj N="PowerShell"><MS><Obj N="Cmds"><LST><Obj><MS><S N="Cmd">Get-X</S><B N="IsScript">false</B>`+
				`<Obj N="Args"><LST><Obj><MS><I32 N="N">1</I32></MS></Obj></LST></Obj></MS></Obj></LST></Obj></MS></Obj>`), lim)
			return err
		}, "property N is int32, not a string"},
		{"bad merge", func() error {
			_, err := ParseCreatePipeline(obj(`<Obj N="PowerShell"><MS><Obj N="Cmds"><LST><Obj><MS><S N="Cmd">Get-X</S><B N="IsScript">false</B>`+
				`<S N="MergeError">x</S></MS></Obj></LST></Obj></MS></Obj>`), lim)
			return err
		}, "MergeError is a string, not an integer"},
		{"extra statement not object", func() error {
			_, err := ParseCreatePipeline(obj(`<Obj N="PowerShell"><MS><Obj N="Cmds"><LST><Obj><MS><S N="Cmd">a</S><B N="IsScript">true</B></MS></Obj></LST></Obj>`+
				`<Obj N="ExtraCmds"><LST><S>x</S></LST></Obj></MS></Obj>`), lim)
			return err
		}, "ExtraCmds holds a string"},
		{"extra statement empty", func() error {
			_, err := ParseCreatePipeline(obj(`<Obj N="PowerShell"><MS><Obj N="Cmds"><LST><Obj><MS><S N="Cmd">a</S><B N="IsScript">true</B></MS></Obj></LST></Obj>`+
				`<Obj N="ExtraCmds"><LST><Obj><MS><Obj N="Cmds"><LST /></Obj></MS></Obj></LST></Obj></MS></Obj>`), lim)
			return err
		}, "statement 1 has no commands"},
		{"set max without ci", func() error { _, err := ParseSetMaxRunspaces(obj(`<I32 N="MaxRunspaces">2</I32>`), lim); return err }, "missing property ci"},
		{"call id wrong type", func() error { _, err := ParseCallID(MsgGetAvailableRunspaces, obj(`<S N="ci">1</S>`), lim); return err }, "GET_AVAILABLE_RUNSPACES: property ci is a string"},
		{"host response without mi", func() error {
			_, err := ParseHostResponse(MsgPipelineHostResponse, obj(`<I64 N="ci">1</I64>`), lim)
			return err
		}, "missing property mi"},
		{"host response bad me", func() error {
			_, err := ParseHostResponse(MsgPipelineHostResponse, obj(`<I64 N="ci">1</I64><I32 N="mi">11</I32><S N="me">x</S>`), lim)
			return err
		}, "me is a string, not an object"},
		{"public key not base64", func() error { _, err := ParsePublicKey(obj(`<S N="PublicKey">***</S>`), lim); return err }, "PublicKey is not base64"},
		{"metadata names not strings", func() error {
			_, err := ParseGetCommandMetadata(obj(`<Obj N="Name"><LST><I32>1</I32></LST></Obj>`), lim)
			return err
		}, "Name holds int32, not a string"},
		{"metadata argument list", func() error {
			_, err := ParseGetCommandMetadata(obj(`<S N="ArgumentList">x</S>`), lim)
			return err
		}, "ArgumentList is a string, not a list"},
		{"pipeline input not xml", func() error { _, err := ParsePipelineInput([]byte("<S>"), lim); return err }, "PIPELINE_INPUT: clixml:"},
		{"connect not xml", func() error { _, err := ParseConnectRunspacePool([]byte("x"), lim); return err }, "CONNECT_RUNSPACEPOOL: clixml:"},
		{"limit", func() error {
			_, err := ParseCreatePipeline(obj(strings.Repeat(`<S N="x">a</S>`, 50)), clixml.Limits{MaxObjects: 10})
			return err
		}, "limit exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.parse()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if !errors.Is(err, ErrBadMessage) {
				t.Errorf("error %v does not wrap ErrBadMessage", err)
			}
			if !strings.HasPrefix(err.Error(), "psrp: bad message: ") {
				t.Errorf("error %q lacks the psrp prefix", err)
			}
		})
	}
	_, err := ParseCreatePipeline([]byte(`<Obj><MS>`+strings.Repeat(`<S N="x">a</S>`, 50)+`</MS></Obj>`), clixml.Limits{MaxObjects: 10})
	if !errors.Is(err, clixml.ErrLimit) {
		t.Errorf("a limit error %v does not wrap clixml.ErrLimit", err)
	}
}

func TestParseGetCommandMetadata(t *testing.T) {
	tests := []struct {
		name string
		ms   string
		want GetCommandMetadata
	}{
		{"Enter-PSSession probe",
			`<Obj N="Name" RefId="1"><TN RefId="0"><T>System.String[]</T><T>System.Array</T><T>System.Object</T></TN><LST><S>Out-Default</S><S>Exit-PSSession</S></LST></Obj>` +
				`<Obj N="CommandType" RefId="2"><TN RefId="1"><T>System.Management.Automation.CommandTypes</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN>` +
				`<ToString>Alias, Function, Filter, Cmdlet, Configuration</ToString><I32>271</I32></Obj>` +
				`<Nil N="Namespace" /><Nil N="FullyQualifiedModule" /><Nil N="ArgumentList" />`,
			GetCommandMetadata{Names: []string{"Out-Default", "Exit-PSSession"}, CommandType: 271}},
		{"Import-PSSession 5.1",
			`<Obj N="Name" RefId="1"><TN RefId="0"><T>System.String[]</T></TN><LST><S>*</S></LST></Obj><I32 N="CommandType">399</I32>` +
				`<Obj N="Namespace" RefId="2"><TNRef RefId="0" /><LST /></Obj><Nil N="ArgumentList" />`,
			GetCommandMetadata{Names: []string{"*"}, CommandType: 399, Namespace: []string{}}},
		{"nil name", `<Nil N="Name" /><I32 N="CommandType">8</I32>`, GetCommandMetadata{Names: []string{"*"}, CommandType: CommandCmdlet}},
		{"single string name", `<S N="Name">Get-*</S><Obj N="ArgumentList" RefId="1"><LST><I32>1</I32></LST></Obj>`,
			GetCommandMetadata{Names: []string{"Get-*"}, ArgumentList: []any{int32(1)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseGetCommandMetadata([]byte(`<Obj RefId="0"><MS>`+tt.ms+`</MS></Obj>`), clixml.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("(-got +want):\n%s", diff)
			}
			if tt.name == "Import-PSSession 5.1" && got.Namespace == nil {
				t.Error("an empty Namespace list must not read as Nil")
			}
		})
	}
}

func TestNewCommandMetadata(t *testing.T) {
	md := CommandMetadata{
		Name: "Get-CsOnlineUser", Namespace: "MicrosoftTeams", CommandType: CommandFunction,
		OutputType: []string{"Deserialized.Microsoft.Teams.User"},
		Parameters: append([]ParameterMetadata{{Name: "Identity", TypeName: "System.String", Aliases: []string{"Id"}}}, CommonParameters()...),
	}
	m, err := NewCommandMetadata(GUID{1}, GUID{2}, md)
	if err != nil {
		t.Fatal(err)
	}
	v := decode(t, m).(*psobject.Object)
	if got := v.TypeNames[0]; got != "Selected.System.Management.Automation.FunctionInfo" {
		t.Errorf("type name %s", got)
	}
	if got := prop(t, v, "HelpUri"); got != nil {
		t.Errorf("empty HelpUri sent as %v, want Nil", got)
	}
	if got := prop(t, v, "CommandType"); got != (psobject.Enum{Type: "System.Management.Automation.CommandTypes", Name: "Function", Value: 2}) {
		t.Errorf("CommandType = %v", got)
	}
	params := prop(t, v, "Parameters").(*psobject.Dict)
	if len(params.Entries) != 12 || params.Entries[0].Key != "Identity" {
		t.Fatalf("parameters = %v", params.Entries)
	}
	id := params.Entries[0].Value.(*psobject.Object)
	// Import-PSSession reads Name, IsDynamic and SwitchParameter as adapted
	// properties of a ParameterMetadata.
	if id.Props[0].Name != "Name" || prop(t, id, "IsDynamic") != false || prop(t, id, "SwitchParameter") != false {
		t.Errorf("parameter metadata = %+v", id)
	}
	alias := CommandMetadata{Name: "gu", CommandType: CommandAlias, ResolvedCommandName: "Get-CsOnlineUser"}
	m, err = NewCommandMetadata(GUID{1}, GUID{2}, alias)
	if err != nil {
		t.Fatal(err)
	}
	v = decode(t, m).(*psobject.Object)
	if v.TypeNames[0] != "Selected.System.Management.Automation.AliasInfo" || prop(t, v, "ResolvedCommandName") != "Get-CsOnlineUser" {
		t.Errorf("alias metadata = %+v", v)
	}
}

func TestNewRunspacePoolStateBroken(t *testing.T) {
	m, err := NewRunspacePoolState(GUID{9}, PoolBroken, &ErrorRecord{
		Message: "The maximum number of concurrent shells for this tenant has been exceeded.",
		Code:    "admission.tenant-quota-exceeded", Category: CategoryQuotaExceeded,
		FullyQualifiedErrorID: "RemoteRunspaceStateInfoReason",
	})
	if err != nil {
		t.Fatal(err)
	}
	v := decode(t, m).(*psobject.Object)
	// pypsrp takes the first object of the member set as the error record.
	if v.Extended[0].Name != "RunspaceState" || v.Extended[1].Name != "ExceptionAsErrorRecord" {
		t.Fatalf("members = %v", v.Extended)
	}
	rec := v.Extended[1].Value.(*psobject.Object)
	if rec.Text != "The maximum number of concurrent shells for this tenant has been exceeded." {
		t.Errorf("ToString = %q", rec.Text)
	}
	if got := prop(t, rec, "ErrorCategory_Message"); got != "QuotaExceeded: (:) [], Exception" {
		t.Errorf("ErrorCategory_Message = %v", got)
	}
	if _, ok := rec.Get("ErrorDetails_Message"); ok {
		t.Error("ErrorDetails sent without details or a recommended action")
	}
	exc := prop(t, rec, "Exception").(*psobject.Object)
	if diff := cmp.Diff(exc.TypeNames, []string{"System.Exception", "System.Object"}); diff != "" {
		t.Errorf("exception types (-got +want):\n%s", diff)
	}
	// Every property PowerShell's ErrorPackage reads must be present.
	for _, name := range []string{"Exception", "TargetObject", "FullyQualifiedErrorId", "ErrorCategory_Category",
		"ErrorCategory_Activity", "ErrorCategory_Reason", "ErrorCategory_TargetName", "ErrorCategory_TargetType",
		"ErrorCategory_Message", "SerializeExtendedInfo"} {
		if _, ok := rec.Get(name); !ok {
			t.Errorf("error record lacks %s", name)
		}
	}
}

func TestPipelineStoppedError(t *testing.T) {
	m, err := NewPipelineState(GUID{1}, GUID{2}, PipelineStopped, PipelineStoppedError())
	if err != nil {
		t.Fatal(err)
	}
	rec := prop(t, decode(t, m), "ExceptionAsErrorRecord")
	if got := prop(t, rec, "ErrorCategory_Message"); got != "OperationStopped: (:) [], PipelineStoppedException" {
		t.Errorf("ErrorCategory_Message = %v", got)
	}
	exc := prop(t, rec, "Exception").(*psobject.Object)
	want := []string{"System.Management.Automation.PipelineStoppedException", "System.Management.Automation.RuntimeException",
		"System.SystemException", "System.Exception", "System.Object"}
	if diff := cmp.Diff(exc.TypeNames, want); diff != "" {
		t.Errorf("exception types (-got +want):\n%s", diff)
	}
}

func TestHostCallBuilders(t *testing.T) {
	m, err := NewPipelineHostCall(GUID{1}, GUID{2}, WriteLine("PS> hello"))
	if err != nil {
		t.Fatal(err)
	}
	v := decode(t, m)
	if prop(t, v, "ci") != VoidCallID || prop(t, v, "mi").(psobject.Enum).Name != "WriteLine2" {
		t.Errorf("WriteLine = %v", v)
	}
	if diff := cmp.Diff(prop(t, v, "mp"), []any{"PS> hello"}); diff != "" {
		t.Errorf("params (-got +want):\n%s", diff)
	}
	m, err = NewRunspacePoolHostCall(GUID{1}, HostCall{CallID: VoidCallID, Method: HostPopRunspace})
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != MsgRunspacePoolHostCall || !m.PID.IsZero() {
		t.Errorf("pool host call = %v", m)
	}
	if got := prop(t, decode(t, m), "mp"); len(got.([]any)) != 0 {
		t.Errorf("PopRunspace params = %v, want an empty list", got)
	}
	if _, err := NewPipelineHostCall(GUID{}, GUID{}, HostCall{Params: []any{struct{}{}}}); err == nil {
		t.Error("unserializable parameter accepted")
	}
	if _, err := NewPipelineOutput(GUID{}, GUID{}, make(chan int)); err == nil || !strings.HasPrefix(err.Error(), "psrp: PIPELINE_OUTPUT: clixml:") {
		t.Errorf("unserializable output error = %v", err)
	}
}

func TestApplicationPrivateDataDefaults(t *testing.T) {
	m, err := NewApplicationPrivateData(GUID{1}, PrivateData{Extra: []psobject.DictEntry{{Key: "ImplicitRemoting",
		Value: &psobject.Dict{Entries: []psobject.DictEntry{{Key: "Hash", Value: "abc"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	apd := prop(t, decode(t, m), "ApplicationPrivateData").(*psobject.Dict)
	table := apd.Entries[0].Value.(*psobject.Dict)
	want := map[string]any{"PSVersion": DefaultPSVersion, "PSEdition": "Desktop", "BuildVersion": DefaultBuildVersion,
		"PSRemotingProtocolVersion": MaxProtocolVersion, "WSManStackVersion": psobject.Version("3.0")}
	for _, en := range table.Entries {
		if w, ok := want[en.Key.(string)]; ok && en.Value != w {
			t.Errorf("PSVersionTable.%s = %v, want %v", en.Key, en.Value, w)
		}
	}
	if len(apd.Entries) != 2 || apd.Entries[1].Key != "ImplicitRemoting" {
		t.Errorf("extra entries = %v", apd.Entries)
	}
}

func TestHasSecureString(t *testing.T) {
	ss := clixml.SecureString{Ciphertext: []byte{1}}
	tests := []struct {
		v    any
		want bool
	}{
		{nil, false},
		{"x", false},
		{ss, true},
		{[]any{"a", ss}, true},
		{&psobject.Dict{Entries: []psobject.DictEntry{{Key: "k", Value: ss}}}, true},
		{&psobject.Object{Props: []psobject.Property{{Name: "Password", Value: ss}}}, true},
		{&psobject.Object{Extended: []psobject.Property{{Name: "x", Value: []any{}}}}, false},
		{(*psobject.Object)(nil), false},
	}
	for _, tt := range tests {
		if got := HasSecureString(tt.v); got != tt.want {
			t.Errorf("HasSecureString(%#v) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func FuzzParseCreatePipeline(f *testing.F) {
	for _, name := range []string{"execute_ps_failure", "multiple_commands", "jea_configuration"} {
		rec := loadRecording(f, name)
		for _, m := range ofType(rec.client, MsgCreatePipeline) {
			f.Add(m.Data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCreatePipeline(data, clixml.Limits{MaxObjects: 10000, MaxBytes: 1 << 20})
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error %v does not wrap ErrBadMessage", err)
			}
			return
		}
		for _, st := range c.PowerShell.Statements() {
			if len(st) == 0 {
				t.Fatal("accepted an empty statement")
			}
			for _, cmd := range st {
				if cmd.Cmd == "" {
					t.Fatal("accepted an empty command")
				}
			}
		}
	})
}

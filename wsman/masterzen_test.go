package wsman

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/masterzen/winrm"
)

// TestMasterzenRequests decodes requests built by masterzen/winrm itself
// (the version pinned in go.mod), so a client upgrade that changes the
// request shape is caught here.
func TestMasterzenRequests(t *testing.T) {
	const uri = "http://127.0.0.1:5985/wsman"
	p := winrm.DefaultParameters
	decode := func(t *testing.T, s string) *Envelope {
		t.Helper()
		env, err := Decode([]byte(s), Limits{})
		if err != nil {
			t.Fatalf("Decode: %v\n%s", err, s)
		}
		if env.MessageID == "" || env.ResourceURI != ResourceCmd || env.OperationTimeout != time.Minute || env.MaxEnvelopeSize != 153600 {
			t.Errorf("headers: %+v", env)
		}
		return env
	}
	t.Run("open shell", func(t *testing.T) {
		env := decode(t, winrm.NewOpenShellRequest(uri, p).String())
		if env.Action != ActionCreate || env.Shell == nil || !slices.Equal(env.Shell.OutputStreams, []string{"stdout", "stderr"}) {
			t.Errorf("got %+v / %+v", env, env.Shell)
		}
		if o, _ := env.Option("WINRS_CODEPAGE"); o.Value != "65001" {
			t.Errorf("WINRS_CODEPAGE = %q", o.Value)
		}
	})
	t.Run("command with markup in CDATA", func(t *testing.T) {
		cmd, args := `powershell -Command "if (1 -lt 2) { 'a&b' }"`, []string{"<x>", "]]", "a]]b"}
		env := decode(t, winrm.NewExecuteCommandRequest(uri, "S-1", cmd, args, p).String())
		if env.ShellID() != "S-1" || env.CommandLine.Command != cmd || !slices.Equal(env.CommandLine.Arguments, args) {
			t.Errorf("got %+v", env.CommandLine)
		}
	})
	t.Run("send with eof", func(t *testing.T) {
		env := decode(t, winrm.NewSendInputRequest(uri, "S-1", "C-1", []byte("in\x00put"), true, p).String())
		want := []Stream{{Name: "stdin", CommandID: "C-1", End: true, Data: []byte("in\x00put")}}
		if !slices.EqualFunc(env.Send.Streams, want, func(a, b Stream) bool {
			return a.Name == b.Name && a.CommandID == b.CommandID && a.End == b.End && bytes.Equal(a.Data, b.Data)
		}) {
			t.Errorf("streams = %+v", env.Send.Streams)
		}
	})
	t.Run("receive", func(t *testing.T) {
		env := decode(t, winrm.NewGetOutputRequest(uri, "S-1", "C-1", "stdout stderr", p).String())
		if env.Receive.CommandID != "C-1" || !slices.Equal(env.Receive.DesiredStreams, []string{"stdout", "stderr"}) {
			t.Errorf("got %+v", env.Receive)
		}
	})
	t.Run("signal and delete", func(t *testing.T) {
		env := decode(t, winrm.NewSignalRequest(uri, "S-1", "C-1", p).String())
		if !IsTerminateSignal(env.Signal.Code) || env.Signal.CommandID != "C-1" {
			t.Errorf("got %+v", env.Signal)
		}
		if env := decode(t, winrm.NewDeleteShellRequest(uri, "S-1", p).String()); env.Action != ActionDelete || env.ShellID() != "S-1" {
			t.Errorf("got %+v", env)
		}
	})
}

// TestMasterzenParsesResponses runs masterzen's own response parsers on
// psgate's responses.
func TestMasterzenParsesResponses(t *testing.T) {
	h := Header{MessageID: respID, RelatesTo: reqID}
	shellID, err := winrm.ParseOpenShellResponse(string(EncodeCreateResponse(h, "https://gw/wsman",
		ShellInfo{ShellID: "SHELL-9", ResourceURI: ResourceCmd, InputStreams: []string{"stdin"}, OutputStreams: []string{"stdout", "stderr"}})))
	if err != nil || shellID != "SHELL-9" {
		t.Errorf("ParseOpenShellResponse = %q, %v", shellID, err)
	}
	cmd, err := winrm.ParseExecuteCommandResponse(string(EncodeCommandResponse(h, "CMD-9")))
	if err != nil || cmd != "CMD-9" {
		t.Errorf("ParseExecuteCommandResponse = %q, %v", cmd, err)
	}
	for _, tt := range []struct {
		name     string
		r        ReceiveResult
		stdout   string
		stderr   string
		finished bool
		exitCode int
	}{
		{"done", ReceiveResult{Streams: []OutStream{
			{Name: "stdout", CommandID: "CMD-9", Data: []byte("out")}, {Name: "stderr", CommandID: "CMD-9", Data: []byte("err")},
			{Name: "stdout", CommandID: "CMD-9", End: true}, {Name: "stderr", CommandID: "CMD-9", End: true}},
			State: &CommandState{CommandID: "CMD-9", State: StateDone, ExitCode: intPtr(42)}}, "out", "err", true, 42},
		{"running", ReceiveResult{Streams: []OutStream{{Name: "stdout", CommandID: "CMD-9", Data: []byte("partial")}},
			State: &CommandState{CommandID: "CMD-9", State: StateRunning}}, "partial", "", false, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			finished, code, err := winrm.ParseSlurpOutputErrResponse(string(EncodeReceiveResponse(h, tt.r)), &stdout, &stderr)
			if err != nil || finished != tt.finished || code != tt.exitCode || stdout.String() != tt.stdout || stderr.String() != tt.stderr {
				t.Errorf("got finished=%v code=%d stdout=%q stderr=%q err=%v", finished, code, stdout.String(), stderr.String(), err)
			}
		})
	}
}

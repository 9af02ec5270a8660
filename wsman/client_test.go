package wsman

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const clientMsgID = "uuid:5E0C1B8A-0000-4000-8000-000000000001"

func clientReq() Request {
	return Request{
		To:               "http://127.0.0.1:5985/wsman",
		ResourceURI:      PowerShellResourcePrefix + "Microsoft.PowerShell",
		MessageID:        clientMsgID,
		ShellID:          "0B4AB0C3-8E5F-4D2B-9E68-8B2F1C3D4E5F",
		OperationTimeout: 20 * time.Second,
		MaxEnvelopeSize:  512000,
	}
}

// The server's own decoder reads every request the client encoder writes.
func TestClientRequestsDecodeOnServer(t *testing.T) {
	create := clientReq()
	create.ShellID = ""
	create.Options = []Option{{Name: "protocolversion", Value: "2.3", MustComply: true}}
	tests := []struct {
		name  string
		body  []byte
		check func(t *testing.T, env *Envelope)
	}{
		{"create", EncodeCreateRequest(create, CreateShell{ShellID: "ABC", Name: "Runspace1", InputStreams: []string{"stdin", "pr"},
			OutputStreams: []string{"stdout"}, IdleTimeout: 5 * time.Minute, CreationXML: []byte("frag<&>")}),
			func(t *testing.T, env *Envelope) {
				want := &Shell{ShellID: "ABC", Name: "Runspace1", InputStreams: []string{"stdin", "pr"},
					OutputStreams: []string{"stdout"}, IdleTimeout: 5 * time.Minute, CreationXML: []byte("frag<&>")}
				if diff := cmp.Diff(env.Shell, want); diff != "" {
					t.Errorf("shell (-got +want):\n%s", diff)
				}
				if o, ok := env.Option("protocolversion"); !ok || o.Value != "2.3" {
					t.Errorf("protocolversion option = %+v, %v", o, ok)
				}
			}},
		{"command", EncodeCommandRequest(clientReq(), "C0FFEE00-0000-4000-8000-000000000000", "", []byte{1, 2, 3}),
			func(t *testing.T, env *Envelope) {
				if env.CommandLine.CommandID != "C0FFEE00-0000-4000-8000-000000000000" || len(env.CommandLine.Arguments) != 1 || env.CommandLine.Arguments[0] != "AQID" {
					t.Errorf("command line = %+v", env.CommandLine)
				}
				if env.ShellID() != clientReq().ShellID {
					t.Errorf("shell id = %q", env.ShellID())
				}
			}},
		{"send", EncodeSendRequest(clientReq(), Stream{Name: "stdin", CommandID: "X", End: true, Data: []byte("hi")}),
			func(t *testing.T, env *Envelope) {
				want := []Stream{{Name: "stdin", CommandID: "X", End: true, Data: []byte("hi")}}
				if diff := cmp.Diff(env.Send.Streams, want); diff != "" {
					t.Errorf("streams (-got +want):\n%s", diff)
				}
			}},
		{"receive", EncodeReceiveRequest(clientReq(), "X", "stdout"),
			func(t *testing.T, env *Envelope) {
				if env.Receive.CommandID != "X" || env.OperationTimeout != 20*time.Second || env.MaxEnvelopeSize != 512000 {
					t.Errorf("receive = %+v, timeout %v", env.Receive, env.OperationTimeout)
				}
			}},
		{"signal", EncodeSignalRequest(clientReq(), "X", PSSignalCrtlC),
			func(t *testing.T, env *Envelope) {
				if !IsStopSignal(env.Signal.Code) || env.Signal.CommandID != "X" {
					t.Errorf("signal = %+v", env.Signal)
				}
			}},
		{"delete", EncodeDeleteRequest(clientReq()), func(t *testing.T, env *Envelope) {
			if env.Action != ActionDelete {
				t.Errorf("action = %q", env.Action)
			}
		}},
		{"enumerate", EncodeEnumerateRequest(Request{To: "x", ResourceURI: ResourceShellCommand, MessageID: clientMsgID}, "S1"),
			func(t *testing.T, env *Envelope) {
				if id, _ := env.Enumerate.Selector("ShellId"); id != "S1" || !env.Enumerate.OptimizeEnumeration {
					t.Errorf("enumerate = %+v", env.Enumerate)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := Decode(tt.body, Limits{})
			if err != nil {
				t.Fatalf("server cannot decode the request: %v\n%s", err, tt.body)
			}
			if env.MessageID != clientMsgID {
				t.Errorf("MessageID = %q", env.MessageID)
			}
			tt.check(t, env)
		})
	}
}

// The client decoder reads every response the server encoder writes.
func TestDecodeResponseOfServerEncoders(t *testing.T) {
	h := Header{MessageID: "uuid:1", RelatesTo: clientMsgID}
	code := 0
	shell := ShellInfo{ShellID: "S1", Name: "Runspace1", ResourceURI: "r", Owner: "alice@contoso.test", ClientIP: "127.0.0.1",
		IdleTimeout: 15 * time.Minute, PowerShell: true, ShellRunTime: 90 * time.Second, ShellInactivity: 3 * time.Second, State: "Connected"}
	tests := []struct {
		name string
		body []byte
		want *Response
	}{
		{"create", EncodeCreateResponse(h, "http://x/wsman", shell), &Response{ShellID: "S1"}},
		{"command", EncodeCommandResponse(h, "C1"), &Response{CommandID: "C1"}},
		{"receive", EncodeReceiveResponse(h, ReceiveResult{
			Streams: []OutStream{{Name: "stdout", CommandID: "C1", Data: []byte("abc")}},
			State:   &CommandState{CommandID: "C1", State: StateDone, ExitCode: &code},
		}), &Response{Streams: []Stream{{Name: "stdout", CommandID: "C1", Data: []byte("abc")}},
			State: &CommandState{CommandID: "C1", State: StateDone, ExitCode: &code}}},
		{"enumerate", EncodeEnumerateShells(h, []ShellInfo{shell, {ShellID: "S2"}}), &Response{}},
		{"commands", EncodeEnumerateCommands(h, []CommandInfo{{CommandID: "C1"}}), &Response{Commands: []CommandInfo{{CommandID: "C1", State: "Running"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeResponse(tt.body, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got.RelatesTo != clientMsgID {
				t.Errorf("RelatesTo = %q", got.RelatesTo)
			}
			got.Action, got.MessageID, got.RelatesTo = "", "", ""
			if tt.name == "create" || tt.name == "enumerate" {
				if len(got.Shells) == 0 || got.Shells[0].Owner != "alice@contoso.test" || got.Shells[0].ShellRunTime != 90*time.Second || got.Shells[0].State != "Connected" {
					t.Errorf("shells = %+v", got.Shells)
				}
				got.Shells = nil
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("(-got +want):\n%s", diff)
			}
		})
	}
}

func TestDecodeResponseFault(t *testing.T) {
	body := EncodeFault(Header{RelatesTo: clientMsgID}, Fault{Code: "s:Sender", Reason: "gone", WSManCode: 5, ErrorCode: "wsman.shell-not-found",
		Data: []KV{{Key: "resolution", Value: "reconnect"}}})
	_, err := DecodeResponse(body, Limits{})
	var f *Fault
	if !errors.As(err, &f) {
		t.Fatalf("error = %v, want a *Fault", err)
	}
	if f.ErrorCode != "wsman.shell-not-found" || f.Reason != "gone" {
		t.Errorf("fault = %+v", f)
	}
}

// FuzzDecodeResponse: DecodeResponse never panics, fails only with a
// *DecodeError or a *Fault, and returns what the encoding/xml path does.
func FuzzDecodeResponse(f *testing.F) {
	code := 0
	f.Add(EncodeReceiveResponse(Header{MessageID: "uuid:1"}, ReceiveResult{Streams: []OutStream{{Name: "stdout", Data: []byte("x")}},
		State: &CommandState{CommandID: "C", State: StateDone, ExitCode: &code}}))
	f.Add(EncodeCreateResponse(Header{}, "a", ShellInfo{ShellID: "S"}))
	f.Add(EncodeEnumerateShells(Header{}, []ShellInfo{{ShellID: "S"}}))
	for _, e := range recordedEnvelopes(f) {
		f.Add(e.body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := checkResponseAgrees(t, body, Limits{MaxEnvelopeSize: 64 << 10})
		if err != nil {
			var de *DecodeError
			var fe *Fault
			if r != nil || !(errors.As(err, &de) || errors.As(err, &fe)) {
				t.Fatalf("DecodeResponse returned %v, %T %v", r, err, err)
			}
		}
	})
}

// checkResponseAgrees fails t unless DecodeResponse returns for body what
// decodeResponseGeneral does, and returns that.
func checkResponseAgrees(t *testing.T, body []byte, lim Limits) (*Response, error) {
	t.Helper()
	want, wantErr := decodeResponseGeneral(body, lim)
	got, err := DecodeResponse(body, lim)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("DecodeResponse (-general +DecodeResponse):\n%s\n%q", diff, body)
	}
	if errString(err) != errString(wantErr) {
		t.Fatalf("DecodeResponse error = %v, general error = %v\n%q", err, wantErr, body)
	}
	// A reused Decoder: one response before, and the first one's result
	// checked again after, so that neither sees the other's memory.
	var d Decoder
	first, _ := d.DecodeResponse(reuseProbe, Limits{})
	kept := cloneResponse(first)
	again, againErr := d.DecodeResponse(body, lim)
	if diff := cmp.Diff(want, again); diff != "" || errString(againErr) != errString(wantErr) {
		t.Fatalf("Decoder.DecodeResponse after another response (-general +reused), error %v:\n%s\n%q", againErr, diff, body)
	}
	if _, _ = d.DecodeResponse(body, lim); !cmp.Equal(kept, first) {
		t.Fatalf("a response changed when its Decoder decoded others:\n%s", cmp.Diff(kept, first))
	}
	return got, err
}

// reuseProbe is a response with every kind of field, decoded before the
// body under test on the same Decoder.
var reuseProbe = EncodeReceiveResponse(Header{MessageID: "uuid:probe", RelatesTo: "uuid:req"}, ReceiveResult{
	Streams: []OutStream{{Name: "stdout", CommandID: "C0", Data: []byte("probe output")}, {Name: "stderr", CommandID: "C0", Data: []byte("e")}},
	State:   &CommandState{CommandID: "C0", State: StateDone, ExitCode: intPtr(3)},
})

// cloneResponse copies r deeply, its stream data included.
func cloneResponse(r *Response) *Response {
	if r == nil {
		return nil
	}
	c := *r
	c.Streams = nil
	for _, s := range r.Streams {
		s.Data = bytes.Clone(s.Data)
		c.Streams = append(c.Streams, s)
	}
	if r.State != nil {
		st := *r.State
		c.State = &st
	}
	c.Shells = slices.Clone(r.Shells)
	c.Commands = slices.Clone(r.Commands)
	return &c
}

// Every response the server writes takes the fast path, and every recorded
// envelope and variant decodes as a response exactly as through
// encoding/xml.
func TestDecodeResponseFastPath(t *testing.T) {
	golden, err := filepath.Glob("testdata/golden/*.xml")
	if err != nil || len(golden) == 0 {
		t.Fatalf("no golden responses: %v", err)
	}
	for _, f := range golden {
		body := readFile(t, f)
		if _, ok := scanTree(body, Limits{}.withDefaults()); !ok {
			t.Errorf("%s: the fast scanner declines a server response", f)
		}
	}
	n := 0
	for _, e := range recordedEnvelopes(t) {
		for _, v := range append(variants(e.body), e.body) {
			checkResponseAgrees(t, v, Limits{})
			n++
		}
	}
	t.Logf("%d bodies agree", n)

	// And DecodeResponse does take it: a Receive response costs a fraction
	// of encoding/xml's allocations (26 against 188 when written).
	body := readFile(t, "testdata/golden/receive-winrs-done.xml")
	fast := testing.AllocsPerRun(20, func() { _, _ = DecodeResponse(body, Limits{}) })
	general := testing.AllocsPerRun(20, func() { _, _ = decodeResponseGeneral(body, Limits{}) })
	if fast*3 > general {
		t.Errorf("DecodeResponse: %.0f allocations per Receive response, encoding/xml %.0f: not the fast path", fast, general)
	}
}

// TestRequestStartSize: the client's request encoders size their buffer
// once. A request header with every field is within requestStartSize, and
// a Command carrying a CREATE_PIPELINE-sized argument, a Receive, a Send,
// a Signal, a Delete and an Enumerate each cost one allocation: a buffer
// that grew (base64 appended past its capacity) would be a second.
func TestRequestStartSize(t *testing.T) {
	full := clientReq()
	full.Options = []Option{{Name: "protocolversion", Value: "2.3", MustComply: true}, {Name: "WINRS_NOPROFILE", Value: "TRUE"}}
	for _, action := range []string{ActionCommand, ActionReceive, ActionCreate} {
		if got, bound := len(appendRequestStart(nil, action, full)), requestStartSize(action, full); got > bound {
			t.Errorf("%s: request start of %d bytes, requestStartSize %d", action, got, bound)
		}
	}
	arg := bytes.Repeat([]byte{0x5a}, 3000)
	for _, tt := range []struct {
		name   string
		encode func() []byte
	}{
		{"Command", func() []byte { return EncodeCommandRequest(full, "C3D4E5F6-0000-4000-8000-000000000002", "", arg) }},
		{"Receive", func() []byte { return EncodeReceiveRequest(full, "C3D4E5F6-0000-4000-8000-000000000002", "stdout") }},
		{"Send", func() []byte {
			return EncodeSendRequest(full, Stream{Name: "stdin", CommandID: "C3D4E5F6-0000-4000-8000-000000000002", Data: arg})
		}},
		{"Signal", func() []byte {
			return EncodeSignalRequest(full, "C3D4E5F6-0000-4000-8000-000000000002", SignalTerminate)
		}},
		{"Delete", func() []byte { return EncodeDeleteRequest(full) }},
		{"Enumerate", func() []byte { return EncodeEnumerateRequest(full, full.ShellID) }},
	} {
		if n := testing.AllocsPerRun(10, func() { _ = tt.encode() }); n != 1 {
			t.Errorf("%s request: %.0f allocations, want 1 (the buffer grew)", tt.name, n)
		}
	}
}

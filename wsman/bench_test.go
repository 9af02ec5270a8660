package wsman

import (
	"bytes"
	"testing"
)

// BenchmarkDecode decodes the hot-path requests through Decode ("fast",
// which takes the fast path for all of them) and through the general
// decoder alone.
func BenchmarkDecode(b *testing.B) {
	for _, bm := range []struct{ name, file string }{
		{"Command", "testdata/requests/pypsrp-psrp-command.xml"},
		{"Receive", "testdata/requests/pypsrp-winrs-receive.xml"},
		{"Send", "testdata/requests/pypsrp-psrp-send.xml"},
		{"Signal", "testdata/requests/powershell-signal-crtlc.xml"},
		{"CreatePSRP", "testdata/requests/powershell-create.xml"},
	} {
		body := readFile(b, bm.file)
		for _, path := range []struct {
			name   string
			decode func([]byte, Limits) (*Envelope, error)
		}{{"fast", Decode}, {"general", decodeGeneral}} {
			b.Run(bm.name+"/"+path.name, func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := path.decode(body, Limits{}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkEncodeReceiveResponse encodes a typical PSRP pipeline receive:
// two stdout fragments of output and the final state.
func BenchmarkEncodeReceiveResponse(b *testing.B) {
	r := ReceiveResult{
		Streams: []OutStream{
			{Name: "stdout", CommandID: cmdID, Data: bytes.Repeat([]byte("x"), 600)},
			{Name: "stdout", CommandID: cmdID, Data: bytes.Repeat([]byte("y"), 200)},
		},
		State: &CommandState{CommandID: cmdID, State: StateDone, ExitCode: intPtr(0)},
	}
	h := Header{MessageID: respID, RelatesTo: reqID}
	b.ReportAllocs()
	for b.Loop() {
		_ = EncodeReceiveResponse(h, r)
	}
}

// BenchmarkAppendReceiveResponse is BenchmarkEncodeReceiveResponse into a
// reused buffer, as a caller with a buffer pool would encode.
func BenchmarkAppendReceiveResponse(b *testing.B) {
	r := ReceiveResult{
		Streams: []OutStream{
			{Name: "stdout", CommandID: cmdID, Data: bytes.Repeat([]byte("x"), 600)},
			{Name: "stdout", CommandID: cmdID, Data: bytes.Repeat([]byte("y"), 200)},
		},
		State: &CommandState{CommandID: cmdID, State: StateDone, ExitCode: intPtr(0)},
	}
	h := Header{MessageID: respID, RelatesTo: reqID}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendReceiveResponse(buf[:0], h, r)
	}
}

// sink keeps a benchmark's result on the heap, as a caller that sends it
// does; discarded, an inlined encoder's buffer would live on the stack.
var sink []byte

func BenchmarkEncodeCommandResponse(b *testing.B) {
	h := Header{MessageID: respID, RelatesTo: reqID}
	b.ReportAllocs()
	for b.Loop() {
		sink = EncodeCommandResponse(h, cmdID)
	}
}

func BenchmarkEncodeSendResponse(b *testing.B) {
	h := Header{Action: ActionSendResponse, MessageID: respID, RelatesTo: reqID}
	b.ReportAllocs()
	for b.Loop() {
		sink = EncodeEmptyResponse(h, BodySendResponse)
	}
}

func BenchmarkEncodeCreateResponse(b *testing.B) {
	shell := ShellInfo{ShellID: testRPID, ResourceURI: PowerShellResourcePrefix + "Microsoft.PowerShell", Owner: "alice", ClientIP: "192.0.2.1",
		IdleTimeout: 7200e9, InputStreams: []string{"stdin", "pr"}, OutputStreams: []string{"stdout"}, PowerShell: true, MaxIdleTimeout: 43200e9}
	h := Header{MessageID: respID, RelatesTo: reqID}
	b.ReportAllocs()
	for b.Loop() {
		_ = EncodeCreateResponse(h, "https://gw/powershell", shell)
	}
}

func BenchmarkEncodeFault(b *testing.B) {
	f := Fault{Code: "s:Sender", Subcode: "w:QuotaLimit", WSManCode: 2150859173, Reason: "The maximum number of concurrent shells for this user has been exceeded.",
		ErrorCode: "admission.user-quota-exceeded", Data: []KV{{Key: "limit", Value: "3"}}}
	h := Header{MessageID: respID, RelatesTo: reqID}
	b.ReportAllocs()
	for b.Loop() {
		_ = EncodeFault(h, f)
	}
}

func BenchmarkDecodeResponse(b *testing.B) {
	body := EncodeReceiveResponse(Header{MessageID: respID, RelatesTo: reqID}, ReceiveResult{
		Streams: []OutStream{{Name: "stdout", CommandID: cmdID, Data: bytes.Repeat([]byte("x"), 2000)}},
		State:   &CommandState{CommandID: cmdID, State: StateDone, ExitCode: intPtr(0)},
	})
	for _, path := range []struct {
		name   string
		decode func([]byte, Limits) (*Response, error)
	}{{"fast", DecodeResponse}, {"general", decodeResponseGeneral}} {
		b.Run(path.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := path.decode(body, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package wsman

import (
	"bytes"
	"testing"
)

func BenchmarkDecodeReceive(b *testing.B) {
	body := readFile(b, "testdata/requests/pypsrp-winrs-receive.xml")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(body, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeCreatePSRP(b *testing.B) {
	body := readFile(b, "testdata/requests/powershell-create.xml")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(body, Limits{}); err != nil {
			b.Fatal(err)
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

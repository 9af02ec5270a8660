package psrp

import (
	"testing"

	"github.com/psgate/psgate/clixml"
)

// BenchmarkServerPoolOpen times the machine's side of opening a pool:
// SESSION_CAPABILITY and INIT_RUNSPACEPOOL in, three messages out.
func BenchmarkServerPoolOpen(b *testing.B) {
	msgs, err := NewClientPool(transcriptRPID, clixml.Limits{}).Open(1, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for range b.N {
		pool := NewServerPool(ServerConfig{RPID: transcriptRPID})
		for _, m := range msgs {
			if _, err := pool.Receive(m); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkServerPoolPipeline times one pipeline through the machine on
// both ends: the client's CREATE_PIPELINE in, the server's final
// PIPELINE_STATE back to the client, retired.
func BenchmarkServerPoolPipeline(b *testing.B) {
	client := NewClientPool(transcriptRPID, clixml.Limits{})
	server := NewServerPool(ServerConfig{RPID: transcriptRPID})
	msgs, _ := client.Open(1, 1)
	for _, m := range msgs {
		if _, err := server.Receive(m); err != nil {
			b.Fatal(err)
		}
	}
	cp := CreatePipeline{PowerShell: PowerShell{Commands: []Command{{Cmd: "Write-Output", Args: []Arg{{Value: "1"}}}}}}
	b.ReportAllocs()
	for i := range b.N {
		pid := GUID{14: byte(i >> 8), 15: byte(i)}
		pipe, msgs, err := client.Pipeline(pid, cp, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := server.NewPipeline(pid); err != nil {
			b.Fatal(err)
		}
		if _, err := server.ReceivePipeline(pid, msgs[0]); err != nil {
			b.Fatal(err)
		}
		final, err := server.Finish(pid, transcriptRPID, PipelineCompleted, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := pipe.Receive(final); err != nil || !pipe.Done() {
			b.Fatal(err)
		}
		server.Retire(pid)
	}
}

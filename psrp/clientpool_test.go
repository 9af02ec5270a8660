package psrp

import (
	"errors"
	"testing"

	"github.com/psgate/psgate/clixml"
)

// TestClientServerPools runs a ClientPool against a ServerPool in memory:
// both ends step the same machines, so every state the client reaches is
// the one the server reached before it.
func TestClientServerPools(t *testing.T) {
	client := NewClientPool(transcriptRPID, clixml.Limits{})
	server := NewServerPool(ServerConfig{RPID: transcriptRPID})
	msgs, err := client.Open(1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := client.State(); got != PoolOpening {
		t.Fatalf("client state after Open = %v, want Opening", got)
	}
	var answers []Message
	for _, m := range msgs {
		st, err := server.Receive(m)
		if err != nil {
			t.Fatalf("server refused %v: %v", m.Type, err)
		}
		answers = append(answers, st.Send...)
	}
	for _, m := range answers {
		if _, _, err := client.Receive(m); err != nil {
			t.Fatalf("client refused %v: %v", m.Type, err)
		}
	}
	if client.State() != PoolOpened || server.State() != PoolOpened {
		t.Fatalf("client %v, server %v; want both Opened", client.State(), server.State())
	}

	pid := GUID{15: 1}
	pipe, msgs, err := client.Pipeline(pid, CreatePipeline{PowerShell: PowerShell{Commands: []Command{{Cmd: "Get-Date"}}}}, []any{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if err := server.NewPipeline(pid); err != nil {
		t.Fatal(err)
	}
	var events []Event
	for _, m := range msgs {
		st, err := server.ReceivePipeline(pid, m)
		if err != nil {
			t.Fatalf("server refused %v: %v", m.Type, err)
		}
		events = append(events, st.Events...)
	}
	if len(events) != 4 { // start, input, input, end
		t.Fatalf("server events %v, want start, two inputs and the end of input", events)
	}
	out, err := NewPipelineOutput(transcriptRPID, pid, "today")
	if err != nil {
		t.Fatal(err)
	}
	final, err := server.Finish(pid, transcriptRPID, PipelineCompleted, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []Message{out, final} {
		if _, err := pipe.Receive(m); err != nil {
			t.Fatalf("client refused %v: %v", m.Type, err)
		}
	}
	if !pipe.Done() || pipe.State() != PipelineCompleted {
		t.Fatalf("client pipeline %v, want Completed", pipe.State())
	}
	st, _, _ := server.Pipeline(pid)
	if st != pipe.State() {
		t.Errorf("server pipeline %v, client %v", st, pipe.State())
	}
	// Nothing follows the final state, on either end.
	var me *MessageError
	if _, err := pipe.Receive(out); !errors.As(err, &me) {
		t.Errorf("output after the final state: %v, want a *MessageError", err)
	}
	// Messages the server never sends on the pool's stream.
	if _, _, err := client.Receive(msgs[0]); !errors.As(err, &me) {
		t.Errorf("CREATE_PIPELINE on the client's pool stream: %v, want a *MessageError", err)
	}
}

func TestClientPoolBroken(t *testing.T) {
	client := NewClientPool(transcriptRPID, clixml.Limits{})
	if _, err := client.Open(1, 1); err != nil {
		t.Fatal(err)
	}
	broken, err := NewRunspacePoolState(transcriptRPID, PoolBroken, &ErrorRecord{Message: "no"})
	if err != nil {
		t.Fatal(err)
	}
	state, reason, err := client.Receive(broken)
	if err != nil || state != PoolBroken || reason == nil || reason.Message != "no" {
		t.Fatalf("Receive(Broken) = %v, %v, %v", state, reason, err)
	}
	if _, _, err := client.Receive(broken); !errors.Is(err, ErrPoolClosed) {
		t.Errorf("a message after Broken: %v, want ErrPoolClosed", err)
	}
}

// TestMessageRules checks the shared table against the direction comments
// of the MessageType constants: every known type has a row, and only
// SESSION_CAPABILITY travels both ways.
func TestMessageRules(t *testing.T) {
	for mt := range messageTypeNames {
		r, ok := rules[mt]
		if !ok {
			t.Errorf("%v has no rule", mt)
			continue
		}
		if r.toServer == r.toClnt && mt != MsgSessionCapability {
			t.Errorf("%v: toServer %v, toClient %v", mt, r.toServer, r.toClnt)
		}
	}
}

package psrp

import (
	"testing"

	"github.com/psgate/psgate/clixml"
)

// FuzzServerPool drives a ServerPool with random sequences of inputs:
// well-formed and mangled messages of every type, on the pool's stream
// and on pipelines', Commands, Signals, Finishes, Retires, Connects and
// Close. The machine must never panic and must keep its bounds.
func FuzzServerPool(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 1, 0, 2, 1, 1, 10, 0, 1, 1, 13, 0, 4, 1, 4, 5, 1})
	f.Add([]byte{0, 0, 0, 0, 1, 0, 2, 1, 1, 10, 0, 3, 1, 0, 4, 1, 3, 6, 0, 0, 7, 0})
	f.Add([]byte{0, 1, 0x80, 4, 'x', 'y', 'z', '<', 2, 2, 1, 2, 0x80, 3, '<', 'S', '>'})
	payloads := fuzzPayloads(f)
	types := make([]MessageType, 0, len(messageTypeNames))
	for t := range messageTypeNames {
		types = append(types, t)
	}
	// Map iteration order is random: sort so that a corpus entry means
	// the same sequence on every run.
	sortTypes(types)
	f.Fuzz(func(t *testing.T, data []byte) {
		pool := NewServerPool(ServerConfig{RPID: transcriptRPID, Rand: &counter{}, MaxRunspaces: 3})
		next := func() byte {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return b
		}
		message := func(pid GUID) Message {
			mt := types[int(next())%len(types)]
			sel := next()
			var d []byte
			if sel&0x80 != 0 {
				n := min(int(next()), len(data))
				d, data = data[:n], data[n:]
			} else if ps := payloads[mt]; len(ps) > 0 {
				d = ps[int(sel)%len(ps)]
			}
			return Message{Destination: DestinationServer, Type: mt, RPID: transcriptRPID, PID: pid, Data: d}
		}
		for steps := 0; len(data) > 0 && steps < 200; steps++ {
			pid := GUID{15: next() % 6}
			switch next() % 8 {
			case 0:
				_, _ = pool.Receive(message(GUID{}))
			case 1:
				_, _ = pool.ReceivePipeline(pid, message(pid))
			case 2:
				_ = pool.NewPipeline(pid)
			case 3:
				_, _ = pool.Signal(pid, Signal(next()%3))
			case 4:
				_, _ = pool.Finish(pid, pool.RPID(), PipelineState(next()%7), nil)
			case 5:
				pool.Retire(pid)
			case 6:
				_, _, _ = pool.Connect([]Message{message(GUID{}), message(GUID{})})
			case 7:
				if next() == 0xFF {
					pool.Close()
				} else {
					pool.Abandon(pid)
				}
			}
			if n := len(pool.Pipelines()); n > 2*int(pool.cfg.MaxRunspaces) {
				t.Fatalf("the pool holds %d pipelines, more than %d", n, 2*pool.cfg.MaxRunspaces)
			}
			if pool.Running() > len(pool.Pipelines()) {
				t.Fatalf("%d running of %d pipelines", pool.Running(), len(pool.Pipelines()))
			}
			if pool.State().Terminal() && len(pool.Pipelines()) > 0 {
				t.Fatal("a closed pool holds pipelines")
			}
		}
	})
}

// fuzzPayloads returns well-formed payloads of the messages a client
// sends, for the fuzzer to pick.
func fuzzPayloads(f *testing.F) map[MessageType][][]byte {
	m := &machine{}
	out := map[MessageType][][]byte{}
	for _, line := range [][]string{
		{"SESSION_CAPABILITY", "version=2.3"}, {"SESSION_CAPABILITY", "version=2.1"},
		{"INIT_RUNSPACEPOOL", "min=1", "max=2"}, {"PUBLIC_KEY", "bits=1024"},
		{"SET_MAX_RUNSPACES", "value=3"}, {"SET_MIN_RUNSPACES", "value=1"},
		{"GET_AVAILABLE_RUNSPACES"}, {"RESET_RUNSPACE_STATE"},
		{"CONNECT_RUNSPACEPOOL", "min=1", "max=2"}, {"CONNECT_RUNSPACEPOOL"},
		{"CREATE_PIPELINE", "cmd=Get-Date"}, {"CREATE_PIPELINE", "cmd=Get-Date", "input"},
		{"GET_COMMAND_METADATA", "names=*"}, {"PIPELINE_INPUT", "value=x"}, {"PIPELINE_INPUT", "secure"},
	} {
		msg, err := m.build("P1", line)
		if err != nil {
			f.Fatal(err)
		}
		out[msg.Type] = append(out[msg.Type], msg.Data)
	}
	return out
}

func sortTypes(ts []MessageType) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j] < ts[j-1]; j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// FuzzClientPool feeds a ClientPool and a ClientPipeline random server
// messages: they must never panic, and a pipeline that ended stays ended.
func FuzzClientPool(f *testing.F) {
	f.Add(uint32(MsgRunspacePoolState), []byte(`<Obj RefId="0"><MS><I32 N="RunspaceState">2</I32></MS></Obj>`))
	f.Add(uint32(MsgPipelineState), []byte(`<Obj RefId="0"><MS><I32 N="PipelineState">4</I32></MS></Obj>`))
	f.Add(uint32(MsgPipelineOutput), []byte(`<S>x</S>`))
	f.Add(uint32(MsgErrorRecord), []byte(`<Obj RefId="0"><ToString>no</ToString><MS></MS></Obj>`))
	f.Fuzz(func(t *testing.T, typ uint32, data []byte) {
		pool := NewClientPool(transcriptRPID, clixml.Limits{MaxBytes: 1 << 16})
		if _, err := pool.Open(1, 1); err != nil {
			t.Fatal(err)
		}
		m := Message{Destination: DestinationClient, Type: MessageType(typ), RPID: transcriptRPID, Data: data}
		_, _, _ = pool.Receive(m)
		_, _, _ = pool.Receive(m)
		pipe, _, err := pool.Pipeline(GUID{15: 1}, CreatePipeline{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			done := pipe.Done()
			_, _ = pipe.Receive(m)
			if done && !pipe.Done() {
				t.Fatal("an ended pipeline started again")
			}
		}
	})
}

package psrp

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/psgate/psgate/clixml"
)

// TestMachineTakesRecordedClients replays what pypsrp sent real Windows
// servers (testdata/recorded) into a ServerPool: every message is legal in
// the state the machine is in when it arrives, and the machine answers
// with message types the Windows server sent too.
func TestMachineTakesRecordedClients(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "recorded", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		t.Run(name, func(t *testing.T) {
			rec := loadRecording(t, name)
			sent := map[MessageType]bool{
				// The Windows server of key_exchange_timeout never
				// answered PUBLIC_KEY; psgate does at once (see
				// ServerPool.Receive).
				MsgEncryptedSessionKey: true,
			}
			for _, m := range rec.server {
				sent[m.Type] = true
			}
			pool := NewServerPool(ServerConfig{RPID: transcriptRPID, Rand: &counter{}})
			// The host calls the Windows server made that needed an
			// answer, per pipeline, in order: the machine makes them
			// before the client's answers are fed, and must number them
			// as the Windows server did.
			calls := map[GUID][]HostCall{}
			for _, m := range ofType(rec.server, MsgPipelineHostCall) {
				c, err := ParseHostCall(m.Type, m.Data, clixml.Limits{})
				if err != nil {
					t.Fatal(err)
				}
				if c.CallID != VoidCallID {
					calls[m.PID] = append(calls[m.PID], c)
				}
			}
			var capability Message
			for _, m := range rec.client {
				var st Step
				var err error
				switch {
				case m.Type == MsgConnectRunspacePool:
					var resp []Message
					resp, st, err = pool.Connect([]Message{capability, m})
					st.Send = append(resp, st.Send...)
				case m.PID.IsZero():
					if m.Type == MsgSessionCapability {
						capability = m
					}
					st, err = pool.Receive(m)
				default:
					if _, _, ok := pool.Pipeline(m.PID); !ok && !pool.Ended(m.PID) {
						if err := pool.NewPipeline(m.PID); err != nil {
							t.Fatalf("%v: %v", m, err)
						}
					}
					if m.Type == MsgPipelineHostResponse && len(calls[m.PID]) > 0 {
						real := calls[m.PID][0]
						calls[m.PID] = calls[m.PID][1:]
						made, _, err := pool.HostCall(m.PID, m.RPID, real)
						if err != nil || made.CallID != real.CallID {
							t.Fatalf("host call %v: id %d, want the Windows server's %d (%v)", real.Method, made.CallID, real.CallID, err)
						}
					}
					st, err = pool.ReceivePipeline(m.PID, m)
				}
				if err != nil {
					t.Fatalf("%v: %v", m, err)
				}
				for _, out := range st.Send {
					if !sent[out.Type] {
						t.Errorf("the machine answers %v with %v, which the Windows server never sent", m.Type, out.Type)
					}
				}
				// The pipeline ends as soon as it starts: the next
				// pipeline of the recording must find room.
				for _, ev := range st.Events {
					if e, ok := ev.(StartPipeline); ok {
						if _, err := pool.Finish(e.PID, pool.RPID(), PipelineCompleted, nil); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			if pool.State() != PoolOpened {
				t.Errorf("pool %v at the end, want Opened", pool.State())
			}
		})
	}
}

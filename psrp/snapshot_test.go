package psrp

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// moveThroughJSON snapshots the pool, sends the snapshot through JSON as a
// node hand-over does, and restores it with the same configuration.
func moveThroughJSON(t *testing.T, p *ServerPool) (*ServerPool, error) {
	t.Helper()
	snap, err := p.Snapshot()
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(snap)
	if err != nil {
		t.Fatalf("marshal snapshot: %v", err)
	}
	var back PoolSnapshot
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("unmarshal snapshot: %v", err)
	}
	q, err := RestoreServerPool(p.cfg, back)
	if err != nil {
		t.Fatalf("RestoreServerPool(%s) error = %v", b, err)
	}
	again, err := q.Snapshot()
	if err != nil || !reflect.DeepEqual(again, snap) {
		t.Fatalf("snapshot of the restored pool = %+v, %v; want %+v", again, err, snap)
	}
	return q, nil
}

// TestSnapshotContinuesEveryTranscript replays every machine transcript,
// moving the pool to a restored copy after every input where it is idle:
// the client must see exactly what the original pool answered.
func TestSnapshotContinuesEveryTranscript(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "machine", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got, moves := replayMoving(t, string(data))
			if moves == 0 {
				t.Error("the pool never was idle: nothing was moved")
			}
			if got != string(data) {
				t.Errorf("transcript differs after %d moves:\n%s", moves, diffLines(got, string(data)))
			}
		})
	}
}

// replayMoving is replay with a hand-over after every input the pool is
// idle after.
func replayMoving(t *testing.T, script string) (string, int) {
	moves := 0
	out := replayWith(t, script, func(m *machine, line string) {
		q, err := moveThroughJSON(t, m.pool)
		switch {
		case err == nil:
			m.pool = q
			moves++
		case errors.Is(err, ErrPoolBusy) && !m.pool.Idle(), errors.Is(err, ErrPoolClosed) && m.pool.State().Terminal():
		default:
			t.Fatalf("after %q: Snapshot() error = %v", line, err)
		}
	})
	return out, moves
}

// TestSnapshotRefusesBusyPool: a pool holding a pipeline, even one that
// ended but whose last message the client has not collected, stays.
func TestSnapshotRefusesBusyPool(t *testing.T) {
	m := newMachine(t, nil)
	for _, l := range []string{"-> pool SESSION_CAPABILITY version=2.3", "-> pool INIT_RUNSPACEPOOL min=1 max=2", "command P1"} {
		if err := m.do(strings.Fields(l)); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
	}
	if _, err := m.pool.Snapshot(); !errors.Is(err, ErrPoolBusy) {
		t.Fatalf("Snapshot() with a pipeline being created error = %v, want ErrPoolBusy", err)
	}
	for _, l := range []string{"-> P1 CREATE_PIPELINE cmd=Get-CsUser", "finish P1 Completed"} {
		if err := m.do(strings.Fields(l)); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		if _, err := m.pool.Snapshot(); !errors.Is(err, ErrPoolBusy) {
			t.Fatalf("Snapshot() after %q error = %v, want ErrPoolBusy", l, err)
		}
	}
	if err := m.do([]string{"retire", "P1"}); err != nil {
		t.Fatal(err)
	}
	q, err := moveThroughJSON(t, m.pool)
	if err != nil {
		t.Fatalf("Snapshot() of the idle pool error = %v", err)
	}
	// The retired pipeline's late Signal still succeeds on the new node.
	pid, _ := pidOf("P1")
	if _, err := q.Signal(pid, SignalTerminate); err != nil {
		t.Errorf("late Signal after the move error = %v, want nil", err)
	}
	q.Close()
	if _, err := q.Snapshot(); !errors.Is(err, ErrPoolClosed) {
		t.Errorf("Snapshot() of a closed pool error = %v, want ErrPoolClosed", err)
	}
}

// TestRestoreRefusesBadSnapshots: a corrupt or foreign snapshot is
// refused rather than half restored.
func TestRestoreRefusesBadSnapshots(t *testing.T) {
	good := PoolSnapshot{RPID: transcriptRPID.String(), Version: "2.3", State: PoolOpened, MinRS: 1, MaxRS: 1}
	if _, err := RestoreServerPool(ServerConfig{}, good); err != nil {
		t.Fatalf("RestoreServerPool(good) error = %v", err)
	}
	for name, mod := range map[string]func(*PoolSnapshot){
		"rpid":    func(s *PoolSnapshot) { s.RPID = "nope" },
		"closed":  func(s *PoolSnapshot) { s.State = PoolClosed },
		"state":   func(s *PoolSnapshot) { s.State = 42 },
		"version": func(s *PoolSnapshot) { s.Version = "1.0" },
		"retired": func(s *PoolSnapshot) { s.Retired = []string{"x"} },
	} {
		s := good
		mod(&s)
		if _, err := RestoreServerPool(ServerConfig{}, s); err == nil {
			t.Errorf("RestoreServerPool(bad %s) succeeded", name)
		}
	}
}

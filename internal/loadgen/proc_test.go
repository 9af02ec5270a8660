package loadgen

import (
	"os"
	"testing"
	"time"
)

// ProcCPU reads this process's CPU time, which grows while it computes,
// and refuses a process that does not exist.
func TestProcCPU(t *testing.T) {
	before, ok := ProcCPU(os.Getpid())
	if !ok {
		t.Fatal("ProcCPU cannot read this process")
	}
	x := uint64(1)
	for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
		for range 1000 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	after, ok := ProcCPU(os.Getpid())
	if !ok {
		t.Fatal("ProcCPU cannot read this process the second time")
	}
	// 300 ms of wall time computing: at least a tenth of it is this
	// process's, however busy the machine (the ticks are 10 ms).
	if after-before < 30*time.Millisecond {
		t.Errorf("CPU went from %v to %v over 300 ms of computing (x=%d)", before, after, x)
	}
	if _, ok := ProcCPU(1 << 30); ok {
		t.Error("ProcCPU read a process that cannot exist")
	}
}

// The per-core ratio is the floor's CPU per request over psgate's, and
// stays 0 unless both were measured.
func TestCoreRatio(t *testing.T) {
	run := func(reqs int64, cpu time.Duration) RunStats { return RunStats{Requests: reqs, ServerCPU: cpu} }
	row := CapacityRow{
		Gate:  []RunStats{run(1000, 100*time.Millisecond), run(1000, 120*time.Millisecond), run(1000, 500*time.Millisecond)},
		Floor: []RunStats{run(4000, 100*time.Millisecond), run(4000, 100*time.Millisecond), run(4000, 80*time.Millisecond)},
	}
	// Medians: psgate 120 µs a request, the floor 25 µs.
	if got := row.CoreRatio(); got < 0.2083 || got > 0.2084 {
		t.Errorf("CoreRatio = %v, want 25/120", got)
	}
	row.Floor = []RunStats{run(4000, 0)}
	if got := row.CoreRatio(); got != 0 {
		t.Errorf("CoreRatio without the floor's CPU = %v, want 0", got)
	}
}

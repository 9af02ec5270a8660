package interop

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/server/servertest"
)

// TestSIGTERMLetsRunningCommandFinish: psgate serve stopped with SIGTERM
// (systemctl stop, a rolling restart) while a command runs refuses new
// shells at once with server.shutting-down, still serves the running
// command until its client has its output and exit code, then exits.
func TestSIGTERMLetsRunningCommandFinish(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the psgate binary")
	}
	bin, data, addr := psgateBinary(t)
	url := "http://" + addr + "/wsman"
	proc := startPsgate(t, bin, data, addr)
	exited := make(chan error, 1)
	go func() { exited <- proc.Wait() }()
	defer func() {
		_ = proc.Process.Kill()
	}()

	type result struct {
		stdout string
		code   int
		err    error
	}
	ran := make(chan result, 1)
	go func() {
		c := servertest.Masterzen(t, url, server.DemoAdmin, adminPassword)
		out, _, code, err := c.RunWithString("Start-Sleep -Seconds 2; Write-Output finished", "")
		ran <- result{out, code, err}
	}()
	time.Sleep(700 * time.Millisecond) // the command is sleeping now
	if err := proc.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	_, f := create(t, url, server.DemoAdmin, adminPassword, "AFTER-SIGTERM")
	if f == nil || f.ErrorCode != string(psgate.CodeShuttingDown) {
		t.Errorf("a Create during the drain: %+v, want %s", f, psgate.CodeShuttingDown)
	}
	select {
	case r := <-ran:
		if r.err != nil || r.code != 0 || !strings.Contains(r.stdout, "finished") {
			t.Errorf("the command running at SIGTERM: %q, exit %d, %v; want its whole output", r.stdout, r.code, r.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the command running at SIGTERM did not end")
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("psgate exited with %v after SIGTERM, want status 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("psgate did not exit after its last command ended")
	}
}

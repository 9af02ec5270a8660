package interop

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/psgate/psgate/server"

	"github.com/psgate/psgate/internal/freeport"
)

// TestSlotsBackAfterSIGKILL: a psgate process killed with SIGKILL while a
// user holds all three of their shells gives the slots back when it
// restarts on the same address (at once: the new incarnation drops the old
// one's leases), instead of locking the user out for the lease time.
func TestSlotsBackAfterSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the psgate binary")
	}
	bin, data, addr := psgateBinary(t)
	url := "http://" + addr + "/wsman"

	start := func() *exec.Cmd { return startPsgate(t, bin, data, addr) }

	first := start()
	for i := range 3 {
		if _, f := create(t, url, server.DemoAdmin, adminPassword, "KILL-"+string(rune('A'+i))); f != nil {
			t.Fatalf("shell %d: %v", i, f)
		}
	}
	if _, f := create(t, url, server.DemoAdmin, adminPassword, "KILL-D"); f == nil || f.ErrorCode != "admission.user-quota-exceeded" {
		t.Fatalf("a fourth shell was not refused: %+v", f)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()

	second := start()
	defer func() {
		_ = second.Process.Signal(syscall.SIGTERM)
		_ = second.Wait()
	}()
	for i := range 3 {
		if _, f := create(t, url, server.DemoAdmin, adminPassword, "AFTER-"+string(rune('A'+i))); f != nil {
			t.Fatalf("after restart, shell %d refused: %v (the killed process's slots were not reclaimed)", i, f)
		}
	}
}

// psgateBinary builds the psgate binary for tests that run it as a
// separate process (to kill it), and gives it a data directory and a free
// loopback address.
func psgateBinary(t *testing.T) (bin, data, addr string) {
	t.Helper()
	bin = filepath.Join(t.TempDir(), "psgate")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/psgate").CombinedOutput(); err != nil {
		t.Fatalf("build psgate: %v\n%s", err, out)
	}
	return bin, t.TempDir(), freeport.Addr(t)
}

// startPsgate runs the psgate binary on data and addr until it listens.
func startPsgate(t *testing.T, bin, data, addr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--data", data, "--http", addr, "--https", "", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "PSGATE_BOOTSTRAP_PASSWORD="+adminPassword)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return cmd
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("psgate did not start:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

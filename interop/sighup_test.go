package interop

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/psgate/psgate/server"
)

// TestSIGHUPReloadsModules: psgate serve reloads its module folder on
// SIGHUP (systemctl reload): a module added appears in a session opened
// before, a broken one changes nothing, a module removed disappears.
func TestSIGHUPReloadsModules(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the psgate binary")
	}
	bin, data, addr := psgateBinary(t)
	mods := t.TempDir()
	cmd := exec.Command(bin, "serve", "--data", data, "--http", addr, "--https", "", "--modules", mods, "--log-level", "info")
	cmd.Env = append(os.Environ(), "PSGATE_BOOTSTRAP_PASSWORD="+adminPassword)
	var out syncLog
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("psgate did not start:\n%s", out.String())
		}
	}
	url := "http://" + addr + "/wsman"
	sh := openPSRP(t, url, server.DemoAdmin, adminPassword)
	has := func() bool {
		code, _ := sh.run(t, "Get-Command Get-Widget")
		return code == ""
	}
	// hup signals psgate and waits until its log says what the reload did.
	hup := func(want string) {
		t.Helper()
		before := strings.Count(out.String(), want)
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); strings.Count(out.String(), want) == before; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the log after SIGHUP:\n%s", want, out.String())
			}
		}
	}
	if has() {
		t.Fatal("Get-Widget exists before its module was added")
	}

	example, err := os.ReadFile(filepath.Join("..", "examples", "widgets", "widgets.json"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(mods, "widgets.json")
	if err := os.WriteFile(file, example, 0o600); err != nil {
		t.Fatal(err)
	}
	hup("modules reloaded")
	if !has() {
		t.Fatalf("Get-Widget missing in an open session after SIGHUP:\n%s", out.String())
	}

	broken := filepath.Join(mods, "broken.json")
	if err := os.WriteFile(broken, []byte(`{"name": "Broken", "cmdlets": [{"name": "Get-Thing"`), 0o600); err != nil {
		t.Fatal(err)
	}
	hup("modules not reloaded")
	if !has() || !strings.Contains(out.String(), "broken.json") {
		t.Fatalf("a broken module's reload: Get-Widget kept %v, log:\n%s", has(), out.String())
	}

	if err := os.Remove(broken); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	hup("modules reloaded")
	if has() {
		t.Fatal("Get-Widget still served after its module was removed and psgate reloaded")
	}
}

// syncLog is a process's output, written by its copying goroutines and
// read by the test.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

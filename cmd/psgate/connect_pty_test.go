//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns a pseudo-terminal's controller and terminal ends.
func openPTY(t *testing.T) (ptmx, pts *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	pts, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ptmx, pts
}

// ptyRun is psgate running on a pseudo-terminal, as a user at a terminal
// runs it.
type ptyRun struct {
	t *testing.T
	// ptmx is the terminal's master side: what the user types goes there.
	// pts is its slave side: close it to stop reading.
	ptmx, pts *os.File
	// screen is everything the terminal has shown so far.
	screen *syncBuffer
	// done delivers the command's end.
	done <-chan error
	// seen counts the screen bytes waitFor already matched.
	seen int
}

// runOnPTY runs psgate with args on a new pseudo-terminal; the terminal
// is closed when the test ends.
func runOnPTY(t *testing.T, args ...string) *ptyRun {
	t.Helper()
	ptmx, pts := openPTY(t)
	t.Cleanup(func() { ptmx.Close(); pts.Close() })
	screen := &syncBuffer{}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := ptmx.Read(b)
			screen.Write(b[:n])
			if err != nil {
				return
			}
		}
	}()
	root := newRootCmd()
	root.SetIn(pts)
	root.SetOut(pts)
	root.SetErr(pts)
	root.SetArgs(args)
	ended := make(chan error, 1)
	go func() { ended <- root.ExecuteContext(context.Background()) }()
	return &ptyRun{t: t, ptmx: ptmx, pts: pts, screen: screen, done: ended}
}

// waitFor waits until the screen shows want after what it matched before.
func (r *ptyRun) waitFor(want string) {
	r.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		s := r.screen.String()
		if i := strings.Index(s[r.seen:], want); i >= 0 {
			r.seen += i + len(want)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.t.Fatalf("screen never showed %q; it shows:\n%q", want, r.screen.String()[r.seen:])
}

// typeKeys types s on the terminal.
func (r *ptyRun) typeKeys(s string) {
	r.t.Helper()
	if _, err := r.ptmx.Write([]byte(s)); err != nil {
		r.t.Fatal(err)
	}
}

// The interactive shell driven through a pseudo-terminal: prompt, tab
// completion of cmdlets and parameters, history, Ctrl+C stopping the
// running pipeline and abandoning a line at the prompt.
func TestConnectThroughPseudoTerminal(t *testing.T) {
	gw := startGateway(t)
	term := runOnPTY(t, "connect")
	pts, screen, done := term.pts, term.screen, term.done
	waitFor, typeKeys := term.waitFor, term.typeKeys

	waitFor("[contoso] PS> ")
	typeKeys("Get-CsOnlineU\t")
	waitFor("Get-CsOnlineUser")
	typeKeys(" -Ident\t")
	waitFor("Get-CsOnlineUser -Identity")
	typeKeys(" alice@contoso.test | Select-Object DisplayName\r")
	waitFor("Alice Wong")
	waitFor("[contoso] PS> ")

	typeKeys("\x1b[A") // Up: the previous command comes back
	waitFor("Get-CsOnlineUser -Identity alice@contoso.test | Select-Object DisplayName")
	typeKeys("\x15Start-Sleep -Seconds 30\r")
	waitFor("Start-Sleep -Seconds 30")
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	typeKeys("\x03") // Ctrl+C stops the running pipeline
	waitFor("engine.pipeline-stopped")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Ctrl+C took %v", d)
	}
	waitFor("[contoso] PS> ")
	typeKeys("Write-Output abandoned\x03") // Ctrl+C at the prompt drops the line
	waitFor("^C")
	waitFor("[contoso] PS> ")
	typeKeys("exit\r")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("connect did not end after exit")
	}
	pts.Close()
	if strings.Contains(screen.String(), "\nabandoned") {
		t.Errorf("the abandoned line ran")
	}
	if n := gw.Gateway().ShellCount(); n != 0 {
		t.Errorf("%d shells left open", n)
	}
}

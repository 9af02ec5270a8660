package interop

import (
	"io"
	"strings"
	"testing"

	"github.com/masterzen/winrm"

	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/server/servertest"
)

// masterzenClient returns a masterzen/winrm client for the server's HTTP or
// HTTPS listener (masterzen always posts to /wsman).
func masterzenClient(t *testing.T, rawURL, user, pw string) *winrm.Client {
	t.Helper()
	return servertest.Masterzen(t, rawURL, user, pw)
}

func readAll(r io.Reader) string {
	var b strings.Builder
	_, _ = io.Copy(&b, r)
	return b.String()
}

func TestMasterzen(t *testing.T) {
	ts := startServer(t)
	for _, tr := range []struct{ name, url string }{{"http", ts.httpURL}, {"https", ts.httpsURL}} {
		t.Run(tr.name, func(t *testing.T) {
			c := masterzenClient(t, tr.url, server.DemoAdmin, adminPassword)
			stdout, stderr, code, err := c.RunWithString("Get-CsTenant", "")
			if err != nil || code != 0 || !strings.Contains(stdout, "contoso.test") {
				t.Fatalf("RunWithString(Get-CsTenant) = %q, %q, %d, %v", stdout, stderr, code, err)
			}
		})
	}

	c := masterzenClient(t, ts.httpURL, server.DemoAdmin, adminPassword)

	t.Run("powershell", func(t *testing.T) {
		// RunPSWithString sends powershell.exe -EncodedCommand with a
		// "$ProgressPreference = 'SilentlyContinue';" prefix.
		stdout, stderr, code, err := c.RunPSWithString("Get-CsOnlineUser -Identity erin@contoso.test | Select-Object -ExpandProperty Department", "")
		if err != nil || code != 0 || strings.TrimSpace(stdout) != "Sales" {
			t.Fatalf("RunPSWithString = %q, %q, %d, %v", stdout, stderr, code, err)
		}
	})

	t.Run("failing", func(t *testing.T) {
		stdout, stderr, code, err := c.RunWithString("Get-CsOnlineUser -NoSuchParameter", "")
		if err != nil {
			t.Fatal(err)
		}
		if code != 1 || stdout != "" || !strings.Contains(stderr, "A parameter cannot be found that matches parameter name 'NoSuchParameter'.") {
			t.Fatalf("RunWithString(bad parameter) = %q, %q, %d", stdout, stderr, code)
		}
	})

	t.Run("stdin", func(t *testing.T) {
		// RunWithString closes stdin only after the command ends, which no
		// program reading to end of input survives; drive the command
		// directly instead: write the script, close stdin, read stdout.
		sh, err := c.CreateShell()
		if err != nil {
			t.Fatal(err)
		}
		defer sh.Close()
		cmd, err := sh.Execute("powershell", "-Command", "-")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cmd.Stdin.Write([]byte("Get-CsOnlineUser -Identity bob@contoso.test | Select-Object -ExpandProperty Title\r\n")); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Stdin.Close(); err != nil {
			t.Fatal(err)
		}
		out := readAll(cmd.Stdout)
		cmd.Wait()
		if cmd.ExitCode() != 0 || strings.TrimSpace(out) != "Developer" {
			t.Fatalf("script on stdin: exit %d, stdout %q", cmd.ExitCode(), out)
		}
		cmd.Close()
	})

	t.Run("shell reuse and close", func(t *testing.T) {
		sh, err := c.CreateShell()
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			cmd, err := sh.Execute("Get-CsTenant")
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			done := make(chan struct{})
			go func() {
				defer close(done)
				buf := make([]byte, 4096)
				for {
					n, err := cmd.Stdout.Read(buf)
					out.Write(buf[:n])
					if err != nil {
						return
					}
				}
			}()
			cmd.Wait()
			<-done
			if cmd.ExitCode() != 0 || !strings.Contains(out.String(), "contoso") {
				t.Fatalf("command %d on a reused shell: exit %d, %q", i, cmd.ExitCode(), out.String())
			}
			if err := cmd.Close(); err != nil { // Signal terminate
				t.Fatal(err)
			}
		}
		if err := sh.Close(); err != nil { // Delete
			t.Fatal(err)
		}
		if n := ts.Gateway().ShellCount(); n != 0 {
			t.Fatalf("%d shells open after Delete", n)
		}
	})

	t.Run("bad password", func(t *testing.T) {
		// masterzen drops the status of non-200 responses (its Post resets
		// the error in a defer that cannot change the results), so all it
		// can report is that no shell came about; nothing must run.
		bad := masterzenClient(t, ts.httpURL, server.DemoAdmin, "wrong")
		stdout, _, _, err := bad.RunWithString("Get-CsTenant", "")
		if err == nil || strings.Contains(stdout, "contoso") {
			t.Fatalf("bad password: stdout %q, err %v; want an error and no output", stdout, err)
		}
		if n := ts.Gateway().ShellCount(); n != 0 {
			t.Fatalf("%d shells open after a refused Create", n)
		}
	})
}

package interop

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/masterzen/winrm"

	"github.com/psgate/psgate/server"
)

// masterzenClient returns a masterzen/winrm client for the server's HTTP or
// HTTPS listener (masterzen always posts to /wsman).
func masterzenClient(t *testing.T, rawURL, user, pw string) *winrm.Client {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	host, portStr, _ := net.SplitHostPort(u.Host)
	port, _ := strconv.Atoi(portStr)
	ep := winrm.NewEndpoint(host, port, u.Scheme == "https", true, nil, nil, nil, 30*time.Second)
	c, err := winrm.NewClient(ep, user, pw)
	if err != nil {
		t.Fatal(err)
	}
	return c
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
		stdout, stderr, code, err := c.RunWithString("powershell -Command -", "Get-CsOnlineUser -Identity bob@contoso.test | Select-Object -ExpandProperty Title")
		if err != nil || code != 0 || strings.TrimSpace(stdout) != "Developer" {
			t.Fatalf("script on stdin = %q, %q, %d, %v", stdout, stderr, code, err)
		}
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
		bad := masterzenClient(t, ts.httpURL, server.DemoAdmin, "wrong")
		_, _, _, err := bad.RunWithString("Get-CsTenant", "")
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("bad password: err = %v, want an HTTP 401 error", err)
		}
	})
}

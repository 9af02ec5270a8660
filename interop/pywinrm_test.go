package interop

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/store"
)

type pyResult struct {
	Stdout    string `json:"stdout"`
	Stderr    string `json:"stderr"`
	Status    int    `json:"status"`
	Error     string `json:"error"`
	Text      string `json:"text"`
	Code      int    `json:"code"`
	ShellID   string `json:"shell_id"`
	CommandID string `json:"command_id"`
	TimedOut  bool   `json:"timed_out"`
	After     int    `json:"after_status"`
	AfterOut  string `json:"after_stdout"`
}

func pywinrm(t *testing.T, ts *testServer, url, scenario string) pyResult {
	t.Helper()
	py := python(t, "winrm")
	var r pyResult
	runPy(t, py, "pywinrm_client.py", scenario, map[string]string{
		"PSGATE_URL": url, "PSGATE_USER": server.DemoAdmin, "PSGATE_PASSWORD": adminPassword,
	}, &r)
	return r
}

func TestPywinrm(t *testing.T) {
	ts := startServer(t)
	for _, tr := range []struct{ name, url string }{{"http", ts.httpURL}, {"https", ts.httpsURL}} {
		t.Run(tr.name, func(t *testing.T) {
			r := pywinrm(t, ts, tr.url, "run_cmd")
			if r.Status != 0 || !strings.Contains(r.Stdout, "contoso.test") {
				t.Fatalf("run_cmd('Get-CsTenant') = status %d, stdout %q, stderr %q", r.Status, r.Stdout, r.Stderr)
			}
		})
	}

	t.Run("arguments", func(t *testing.T) {
		r := pywinrm(t, ts, ts.httpURL, "run_cmd_args")
		if r.Status != 0 || !strings.Contains(r.Stdout, "Alice Wong") || strings.Contains(r.Stdout, "Bob Kelly") {
			t.Fatalf("Get-CsOnlineUser -Identity alice = status %d, stdout %q, stderr %q", r.Status, r.Stdout, r.Stderr)
		}
	})

	t.Run("run_ps", func(t *testing.T) {
		r := pywinrm(t, ts, ts.httpURL, "run_ps")
		if r.Status != 0 || strings.Count(r.Stdout, "DisplayName") != 2 || !strings.Contains(r.Stdout, "UserPrincipalName : ") {
			t.Fatalf("run_ps = status %d, stdout %q, stderr %q", r.Status, r.Stdout, r.Stderr)
		}
	})

	t.Run("failing command", func(t *testing.T) {
		r := pywinrm(t, ts, ts.httpURL, "failing")
		want := "The term 'Get-Nope' is not recognized as the name of a cmdlet, function, script file, or operable program."
		if r.Status != 1 || !strings.Contains(r.Stderr, want) || r.Stdout != "" {
			t.Fatalf("run_cmd('Get-Nope') = status %d, stdout %q, stderr %q; want exit 1 and %q on stderr", r.Status, r.Stdout, r.Stderr, want)
		}
		if !strings.Contains(r.Stderr, "engine.command-not-found") {
			t.Errorf("stderr lacks the catalog code: %q", r.Stderr)
		}
	})

	t.Run("failing run_ps CLIXML", func(t *testing.T) {
		// powershell.exe writes errors as #< CLIXML; pywinrm turns that back into text.
		r := pywinrm(t, ts, ts.httpURL, "failing_ps")
		if r.Status != 1 || !strings.Contains(r.Stderr, "'Get-Nope' is not recognized") || strings.Contains(r.Stderr, "CLIXML") {
			t.Fatalf("run_ps('Get-Nope') = status %d, stderr %q", r.Status, r.Stderr)
		}
	})

	t.Run("os process refused", func(t *testing.T) {
		r := pywinrm(t, ts, ts.httpURL, "os_process")
		if r.Status != 1 || !strings.Contains(r.Stderr, "never starts operating-system programs") {
			t.Fatalf("run_cmd('ipconfig') = status %d, stderr %q", r.Status, r.Stderr)
		}
	})

	t.Run("protocol flow", func(t *testing.T) {
		r := pywinrm(t, ts, ts.httpURL, "protocol_flow")
		if r.Status != 0 || !strings.Contains(r.Stdout, "Bob Kelly") || len(r.ShellID) != 36 || len(r.CommandID) != 36 {
			t.Fatalf("protocol flow = %+v", r)
		}
		if n := ts.Gateway().ShellCount(); n != 0 {
			t.Fatalf("%d shells still open after Delete", n)
		}
	})

	t.Run("terminate running command", func(t *testing.T) {
		r := pywinrm(t, ts, ts.httpURL, "terminate_running")
		if !r.TimedOut {
			t.Error("an idle Receive did not end with the OperationTimeout fault pywinrm recognises")
		}
		if r.After != 0 || !strings.Contains(r.AfterOut, "contoso") {
			t.Errorf("shell unusable after Signal terminate: status %d, stdout %q", r.After, r.AfterOut)
		}
	})

	t.Run("stdin script", func(t *testing.T) {
		r := pywinrm(t, ts, ts.httpURL, "stdin_script")
		if r.Status != 0 || strings.TrimSpace(r.Stdout) != "Carol Diaz" {
			t.Fatalf("powershell -Command - with stdin = status %d, stdout %q, stderr %q", r.Status, r.Stdout, r.Stderr)
		}
	})

	t.Run("bad password", func(t *testing.T) {
		r := pywinrm(t, ts, ts.httpURL, "bad_password")
		if r.Error != "InvalidCredentialsError" {
			t.Fatalf("bad password = %+v, want InvalidCredentialsError", r)
		}
	})

	t.Run("unknown shell", func(t *testing.T) {
		r := pywinrm(t, ts, ts.httpURL, "unknown_shell")
		if r.Error == "" || !strings.Contains(r.Text, "the shell was not found on the server") {
			t.Fatalf("unknown ShellId = %+v", r)
		}
	})
}

// TestPywinrmLongOutput needs more than one Receive: the output is larger
// than what one envelope of pywinrm's 150 KiB MaxEnvelopeSize carries.
func TestPywinrmLongOutput(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	tn, err := ts.Store().TenantByName(ctx, server.DemoTenant)
	if err != nil {
		t.Fatal(err)
	}
	const extra = 3000
	for i := range extra {
		upn := fmt.Sprintf("user%04d@contoso.test", i)
		if _, err := ts.Store().CreateUser(ctx, store.User{TenantID: tn.ID, UPN: upn, DisplayName: fmt.Sprintf("Bulk User %04d", i),
			SipAddress: "sip:" + upn, Enabled: true}); err != nil {
			t.Fatal(err)
		}
	}
	r := pywinrm(t, ts, ts.httpURL, "long_output")
	if r.Status != 0 {
		t.Fatalf("status %d, stderr %q", r.Status, r.Stderr)
	}
	if len(r.Stdout) < 200_000 {
		t.Fatalf("stdout is %d bytes; want the whole table of %d users", len(r.Stdout), extra+6)
	}
	// One table, as the console shows it: a header once, not per batch.
	if n := strings.Count(r.Stdout, "UserPrincipalName"); n != 1 {
		t.Errorf("the table of %d users has %d headers, want 1", extra+6, n)
	}
	for _, want := range []string{"user0000@contoso.test", "user1500@contoso.test", "user2999@contoso.test", "Alice Wong"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
}

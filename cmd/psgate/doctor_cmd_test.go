package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psgate/psgate/internal/freeport"
)

// With the gateway stopped, doctor says that nothing listens at the
// address and how to start it, instead of suggesting proxies.
func TestDoctorGatewayNotRunning(t *testing.T) {
	addr := freeport.Addr(t)
	t.Setenv("PSGATE_CONFIG_DIR", filepath.Join(t.TempDir(), "config"))
	t.Setenv("PSGATE_ENDPOINT", "")
	t.Setenv("PSGATE_TOKEN_URL", "")
	t.Setenv("PSGATE_USER", "admin@contoso.test")
	t.Setenv("PSGATE_PASSWORD", "not-used")
	stdout, stderr, status, err := execute(t, "doctor", "--endpoint", "http://"+addr+"/wsman")
	if status != exitConnection {
		t.Fatalf("exit %d (%v), want %d\n%s%s", status, err, exitConnection, stdout, stderr)
	}
	want := []string{
		"[failed ] gateway TCP: Nothing is listening on " + addr + ": the connection was refused. Is the gateway running?",
		"code: client.not-listening",
		"fix:  Start the gateway (`psgate serve`), or check the port in the endpoint http://" + addr + "/wsman",
	}
	for _, w := range want {
		if !strings.Contains(stdout, w) {
			t.Errorf("doctor output lacks %q:\n%s", w, stdout)
		}
	}
	if !strings.Contains(stderr, "error[client.not-listening]") {
		t.Errorf("stderr:\n%s", stderr)
	}
}

// execute runs the real root command with args, as main does, and
// returns what it printed, the error and the exit status.
func execute(t *testing.T, args ...string) (stdout, stderr string, status int, err error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(""))
	root.SetArgs(args)
	err = root.ExecuteContext(context.Background())
	status = exitOK
	if err != nil {
		printError(&errOut, err)
		status = exitCode(err)
	}
	return out.String(), errOut.String(), status, err
}

//go:build !connector

package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/server"
)

// psgate token gives a stock client what Microsoft's modern-auth
// connectors gave Windows PowerShell: the user name with 'Bearer <token>'
// as the Basic password. pywinrm stands in for New-PSSession here (no
// Windows on this machine); it sends the same Basic header.
func TestTokenWorksAsBasicPasswordForStockClients(t *testing.T) {
	py := requirePython(t)
	gw := startGateway(t)
	if _, stderr, status := psgateRun(t, "", "login"); status != exitOK {
		t.Fatalf("login: status %d: %s", status, stderr)
	}
	t.Setenv("PSGATE_PASSWORD", "") // from here on only the cached sign-in

	stdout, stderr, status := psgateRun(t, "", "token")
	if status != exitOK {
		t.Fatalf("token: status %d: %s", status, stderr)
	}
	tok := strings.TrimSpace(stdout)
	if strings.Count(tok, ".") != 2 || strings.ContainsAny(tok, " \n") {
		t.Fatalf("token printed %q, want one JWT", stdout)
	}

	script := `import sys, winrm
s = winrm.Session(sys.argv[1], auth=(sys.argv[2], "Bearer " + sys.argv[3]), transport="plaintext")
r = s.run_cmd("Get-CsTenant")
sys.stdout.write(r.std_out.decode())
sys.exit(r.status_code)`
	out, err := exec.Command(py, "-c", script, gw.url, server.DemoAdmin, tok).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Contoso (demo)") {
		t.Fatalf("pywinrm with 'Bearer <psgate token>' as the password: %v\n%s", err, out)
	}

	stdout, stderr, status = psgateRun(t, "", "token", "--output", "json")
	if status != exitOK {
		t.Fatalf("token --output json: status %d: %s", status, stderr)
	}
	var got struct {
		AccessToken string    `json:"access_token"`
		ExpiresAt   time.Time `json:"expires_at"`
		User        string    `json:"user"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("token --output json is not JSON: %v\n%s", err, stdout)
	}
	if got.User != server.DemoAdmin || got.AccessToken == "" || time.Until(got.ExpiresAt) < 50*time.Minute {
		t.Errorf("token --output json = %+v, want the user, a token and an expiry about an hour away", got)
	}
}

func TestTokenWithoutSignInSaysHow(t *testing.T) {
	startGateway(t)
	t.Setenv("PSGATE_PASSWORD", "")
	_, stderr, status := psgateRun(t, "", "token")
	if status == exitOK || !strings.Contains(stderr, "psgate login") {
		t.Fatalf("token before login: status %d, stderr %q; want a failure pointing to psgate login", status, stderr)
	}
}

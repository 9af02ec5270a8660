package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/identity"
	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/server/servertest"
)

// base is the scheme and host of the gateway, where the identity service
// answers too.
func (gw *gateway) base() string { return strings.TrimSuffix(gw.url, "/wsman") }

var userCodeRE = regexp.MustCompile(`open (\S+) and enter the code ([A-Z]{4}-[A-Z]{4})`)

func TestLoginWithDeviceCode(t *testing.T) {
	gw := startGateway(t)
	t.Setenv("PSGATE_USER", "") // the user comes from the sign-in
	root := newRootCmd()
	var out, errOut syncBuffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(""))
	root.SetArgs([]string{"login", "--device-code"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	// The user reads the page and the code, and signs in there.
	var m []string
	for m == nil {
		select {
		case err := <-done:
			t.Fatalf("login ended before the code was approved: %v\n%s", err, errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
		m = userCodeRE.FindStringSubmatch(errOut.String())
	}
	if m[1] != gw.base()+identity.PathDevice {
		t.Errorf("verification page %s, want %s", m[1], gw.base()+identity.PathDevice)
	}
	wrong := approvePage(t, m[1], m[2], server.DemoAdmin, "wrong")
	if !strings.Contains(wrong, "role=\"alert\"") {
		t.Errorf("a wrong password at the page was not refused:\n%s", wrong)
	}
	page := approvePage(t, m[1], m[2], server.DemoAdmin, gatewayPassword)
	if !strings.Contains(page, "You are signed in as <strong>"+server.DemoAdmin) {
		t.Fatalf("verification page:\n%s", page)
	}
	if err := <-done; err != nil {
		t.Fatalf("login: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "Signed in as "+server.DemoAdmin) {
		t.Errorf("stdout %q", out.String())
	}
	// Later commands use the cached tokens: no password, no user flag.
	t.Setenv("PSGATE_PASSWORD", "")
	t.Setenv("PSGATE_ENDPOINT", "")
	stdout, stderr, status := psgateRun(t, "", "run", "Write-Output device")
	if status != exitOK || stdout != "device\n" {
		t.Fatalf("run after device-code login: %d %q %s", status, stdout, stderr)
	}
}

func TestLoginAppOnly(t *testing.T) {
	gw := startGateway(t)
	certFile, keyFile, certPEM := servertest.AppCertificate(t, "app")
	certUPN := servertest.RegisterApp(t, gw.Store(), "reporting", "", certPEM)
	const secret = "Billing-App-S3cret"
	secretUPN := servertest.RegisterApp(t, gw.Store(), "billing", secret, nil)
	tests := []struct {
		name     string
		stdin    string
		args     []string
		wantUser string
	}{
		{"certificate", "", []string{"login", "--client-id", "reporting", "--certificate", certFile, "--key", keyFile}, certUPN},
		{"client secret", secret + "\n", []string{"login", "--client-id", "billing", "--client-secret-stdin"}, secretUPN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PSGATE_CONFIG_DIR", t.TempDir())
			t.Setenv("PSGATE_USER", "")
			t.Setenv("PSGATE_PASSWORD", "")
			out, errOut, status := psgateRun(t, tt.stdin, tt.args...)
			if status != exitOK || !strings.Contains(out, "Signed in as "+tt.wantUser) {
				t.Fatalf("login: %d %q %s", status, out, errOut)
			}
			out, errOut, status = psgateRun(t, "", "run", "Write-Output app-only")
			if status != exitOK || out != "app-only\n" {
				t.Fatalf("run as the application: %d %q %s", status, out, errOut)
			}
		})
	}
	t.Run("no credential", func(t *testing.T) {
		t.Setenv("PSGATE_CONFIG_DIR", t.TempDir())
		t.Setenv("PSGATE_CLIENT_SECRET", "")
		_, errOut, status := psgateRun(t, "", "login", "--client-id", "billing")
		if status != exitAuth || !strings.Contains(errOut, "error[identity.sign-in-unavailable]: Can not use the sign-in method 'app-only (--client-id billing)'") ||
			!strings.Contains(errOut, "fix: Pass the certificate registered with the application") {
			t.Fatalf("login --client-id without a credential: %d %s", status, errOut)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		t.Setenv("PSGATE_CONFIG_DIR", t.TempDir())
		_, errOut, status := psgateRun(t, "nope\n", "login", "--client-id", "billing", "--client-secret-stdin")
		if status != exitAuth || !strings.Contains(errOut, "error[identity.invalid-client]") {
			t.Fatalf("login with a wrong secret: %d %s", status, errOut)
		}
	})
}

// TestLoginRenewsAppTokenWithCertificate checks that an expired app-only
// token is renewed from the certificate remembered by login.
func TestLoginRenewsAppTokenWithCertificate(t *testing.T) {
	gw := startGateway(t)
	certFile, keyFile, certPEM := servertest.AppCertificate(t, "app")
	upn := servertest.RegisterApp(t, gw.Store(), "reporting", "", certPEM)
	t.Setenv("PSGATE_USER", "")
	t.Setenv("PSGATE_PASSWORD", "")
	if _, errOut, status := psgateRun(t, "", "login", "--client-id", "reporting", "--certificate", certFile, "--key", keyFile); status != exitOK {
		t.Fatalf("login: %d %s", status, errOut)
	}
	// Age the cached token.
	path := filepath.Join(os.Getenv("PSGATE_CONFIG_DIR"), "token-contoso.test-"+upn+".json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	aged := regexp.MustCompile(`"access_token": "[^"]*"`).ReplaceAll(data, []byte(`"access_token": "expired"`))
	aged = regexp.MustCompile(`"expires_at": "[^"]*"`).ReplaceAll(aged, []byte(`"expires_at": "2020-01-01T00:00:00Z"`))
	if err := os.WriteFile(path, aged, 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, status := psgateRun(t, "", "run", "Write-Output renewed")
	if status != exitOK || out != "renewed\n" {
		t.Fatalf("run with an expired app token: %d %q %s", status, out, errOut)
	}
}

// passwordOffErr is what the CLI prints when the demo tenant's policy
// refuses password sign-in.
const passwordOffErr = "error[identity.password-auth-disabled]: Tenant 'contoso.test' does not allow password authentication for remote PowerShell; present an access token instead.\n" +
	"fix: Sign in with the device code instead: run `psgate login` in a terminal"

func TestSignInWithoutTerminal(t *testing.T) {
	gw := startGateway(t)
	ctx := context.Background()
	tn, err := gw.Store().TenantByName(ctx, server.DemoTenant)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		allowPasswd bool
		env         map[string]string
		args        []string
		wantStatus  int
		wantErr     string
	}{
		{"login without credentials", true, map[string]string{"PSGATE_PASSWORD": ""}, []string{"login"}, exitAuth, "error[identity.interactive-sign-in-required]: Signing in to tenant 'contoso.test' needs the device-code sign-in"},
		{"run without credentials", true, map[string]string{"PSGATE_PASSWORD": ""}, []string{"run", "Get-CsTenant"}, exitAuth, "error[identity.interactive-sign-in-required]"},
		// A password the tenant refuses is the same error with or without
		// a terminal (see TestPasswordRefusedOnTerminal), naming the tenant
		// and the operator command that allows passwords.
		{"login where passwords are off", false, nil, []string{"login"}, exitAuth, passwordOffErr},
		{"login --password-stdin where passwords are off", false, map[string]string{"PSGATE_PASSWORD": ""}, []string{"login", "--password-stdin"}, exitAuth, passwordOffErr},
		{"run where passwords are off", false, nil, []string{"run", "Get-CsTenant"}, exitAuth, passwordOffErr},
		{"doctor without credentials", true, map[string]string{"PSGATE_PASSWORD": ""}, []string{"doctor"}, exitAuth, "code: identity.interactive-sign-in-required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := tn.Policy
			pol.AllowPasswordAuthentication = tt.allowPasswd
			if err := gw.Store().UpdatePolicy(ctx, tn.ID, pol); err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			out, errOut, status := psgateRun(t, gatewayPassword+"\n", tt.args...)
			if status != tt.wantStatus || !strings.Contains(errOut+out, tt.wantErr) {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s\nwant %q", status, tt.wantStatus, out, errOut, tt.wantErr)
			}
			if !strings.Contains(errOut+out, "psgate login") {
				t.Errorf("the resolution does not name psgate login:\n%s%s", out, errOut)
			}
			if !tt.allowPasswd && !strings.Contains(errOut, "psgate tenant set-policy contoso.test --allow-password-auth") {
				t.Errorf("the resolution does not name the command that allows passwords for the tenant:\n%s", errOut)
			}
		})
	}
}

func TestCorruptTokenCache(t *testing.T) {
	startGateway(t)
	dir := os.Getenv("PSGATE_CONFIG_DIR")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "token-contoso.test-"+server.DemoAdmin+".json")
	if err := os.WriteFile(path, []byte("{\"access_token\": "), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"run", "Get-CsTenant"}, {"doctor"}} {
		out, errOut, status := psgateRun(t, "", args...)
		if status != exitAuth || !strings.Contains(out+errOut, "identity.token-cache-unreadable") ||
			!strings.Contains(out+errOut, "Can not load the token cache "+path) || !strings.Contains(out+errOut, "psgate logout") {
			t.Errorf("%s with a corrupt cache: exit %d\nstdout:\n%s\nstderr:\n%s", args[0], status, out, errOut)
		}
	}
	// logout then login repairs it.
	if _, errOut, status := psgateRun(t, "", "logout"); status != exitOK {
		t.Fatalf("logout: %s", errOut)
	}
	if _, errOut, status := psgateRun(t, "", "login"); status != exitOK {
		t.Fatalf("login: %s", errOut)
	}
}

// approvePage submits the verification page's form and returns the page
// it answers.
func approvePage(t *testing.T, page, code, user, pass string) string {
	t.Helper()
	_, body := servertest.ApproveDevice(t, page, code, user, pass)
	return body
}

package doctor

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/client"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/store"
)

const adminPassword = "Doctor-Pa55word!"

type liveServer struct {
	*server.Server
	httpURL, httpsURL string
}

func startServer(t *testing.T) *liveServer {
	t.Helper()
	s, err := server.New(context.Background(), server.Config{
		DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", HTTPSAddr: "127.0.0.1:0",
		BootstrapPassword: adminPassword, PasswordParams: password.Fast(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, 5*time.Second) }()
	t.Cleanup(func() { cancel(); <-done })
	return &liveServer{Server: s, httpURL: s.Info().HTTPURL, httpsURL: s.Info().HTTPSURL}
}

func (ls *liveServer) tokenURL() string {
	return strings.TrimSuffix(ls.httpURL, "/wsman") + "/oauth2/token"
}

// addUser creates a user with a password and no role.
func (ls *liveServer) addUser(t *testing.T, upn string) {
	t.Helper()
	ctx := context.Background()
	tn, err := ls.Store().TenantByName(ctx, server.DemoTenant)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := password.Hash(adminPassword, password.Fast())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ls.Store().CreateUser(ctx, store.User{TenantID: tn.ID, UPN: upn, DisplayName: upn, Enabled: true, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
}

func diagnose(t *testing.T, target Target) map[string]Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	checks, cleanup := Checks(target)
	results := Run(ctx, checks)
	cleanup(ctx)
	byName := map[string]Result{}
	for _, r := range results {
		byName[r.Name] = r
	}
	return byName
}

// fakeSystem is a Windows machine's client settings.
type fakeSystem struct {
	policy, version string
	basic           bool
	trusted         []string
}

func (f fakeSystem) ExecutionPolicy(context.Context) (string, error)   { return f.policy, nil }
func (f fakeSystem) PowerShellVersion(context.Context) (string, error) { return f.version, nil }
func (f fakeSystem) WinRMClientBasic(context.Context) (bool, string, error) {
	return f.basic, "group policy", nil
}
func (f fakeSystem) TrustedHosts(context.Context) ([]string, error) { return f.trusted, nil }

func TestDoctorDiagnosesEachFailureState(t *testing.T) {
	ls := startServer(t)
	ls.addUser(t, "norole@contoso.test")
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	notWSMan := httptest.NewServer(http.NotFoundHandler())
	defer notWSMan.Close()
	otherTLS := httptest.NewTLSServer(http.NotFoundHandler())
	defer otherTLS.Close()
	_, otherTLSPort, _ := net.SplitHostPort(otherTLS.Listener.Addr().String())
	otherTLSCA := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(otherTLSCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: otherTLS.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	admin := client.Config{Endpoint: ls.httpURL, User: server.DemoAdmin, Password: adminPassword}
	with := func(mod func(*client.Config)) client.Config {
		c := admin
		mod(&c)
		return c
	}
	// Fill the administrator's quota (3 shells) for the quota case.
	fill := func(t *testing.T) {
		for range 3 {
			if _, err := client.Dial(context.Background(), admin); err != nil {
				t.Fatal(err)
			}
		}
	}

	tests := []struct {
		name      string
		setup     func(t *testing.T)
		target    Target
		check     string
		wantCode  psgate.Code
		wantText  string
		wantPass  []string
		wantSkips []string
	}{
		{name: "healthy", target: Target{Config: admin, TokenURL: ls.tokenURL()},
			wantPass: []string{CheckDNS, CheckTCP, CheckTLS, CheckHTTP, CheckClock, CheckIdentity, CheckSignIn, CheckSession, CheckQuota}},
		{name: "wrong password", target: Target{Config: with(func(c *client.Config) { c.Password = "wrong" })},
			check: CheckSignIn, wantCode: psgate.CodeLogonFailed, wantSkips: []string{CheckSession, CheckQuota}},
		{name: "no admin role", target: Target{Config: with(func(c *client.Config) { c.User = "norole@contoso.test" })},
			check: CheckSession, wantCode: psgate.CodeNoAdminRole, wantPass: []string{CheckSignIn}},
		{name: "user quota full", setup: fill, target: Target{Config: admin},
			check: CheckQuota, wantCode: psgate.CodeUserQuotaExceeded, wantText: "You have 3 open sessions"},
		{name: "gateway unreachable", target: Target{Config: with(func(c *client.Config) { c.Endpoint = "http://" + closedAddr + "/wsman" })},
			check: CheckTCP, wantCode: psgate.CodeNotListening, wantText: "Nothing is listening on " + closedAddr + ": the connection was refused. Is the gateway running? Start the gateway (`psgate serve`), or check the port",
			wantPass: []string{CheckDNS}, wantSkips: []string{CheckTLS, CheckHTTP, CheckSignIn}},
		{name: "gateway name does not resolve", target: Target{Config: with(func(c *client.Config) { c.Endpoint = "http://nonexistent.invalid:5985/wsman" })},
			check: CheckDNS, wantCode: psgate.CodeDNSFailed, wantText: "The gateway's name nonexistent.invalid could not be resolved (DNS)",
			wantSkips: []string{CheckTCP, CheckTLS, CheckHTTP, CheckSignIn}},
		{name: "certificate for another name", target: Target{Config: with(func(c *client.Config) {
			// httptest's certificate holds example.com and the loopback
			// addresses, not the name localhost.
			c.Endpoint = "https://localhost:" + otherTLSPort + "/wsman"
			c.TLS.CAFile = otherTLSCA
		})},
			check: CheckTLS, wantCode: psgate.CodeTLSNameMismatch, wantText: "is not valid for the name localhost", wantPass: []string{CheckTCP}},
		{name: "not a WS-Management endpoint", target: Target{Config: with(func(c *client.Config) { c.Endpoint = notWSMan.URL + "/wsman" })},
			check: CheckHTTP, wantCode: psgate.CodeHTTPError, wantText: "answered HTTP 404", wantPass: []string{CheckTCP}},
		{name: "untrusted certificate", target: Target{Config: with(func(c *client.Config) { c.Endpoint = ls.httpsURL })},
			check: CheckTLS, wantCode: psgate.CodeTLSUntrusted, wantText: "unknown authority"},
		{name: "identity service unreachable", target: Target{Config: admin, TokenURL: "http://" + closedAddr + "/oauth2/token"},
			check: CheckIdentity, wantCode: psgate.CodeIdentityUnreachable, wantText: "Make sure a proxy is configured or this machine has a network connection to 127.0.0.1."},
		{name: "windows basic disabled", target: Target{Config: admin, System: fakeSystem{policy: "RemoteSigned", version: "5.1.19041.1", trusted: []string{"127.0.0.1"}}},
			check: CheckWinRMBasic, wantCode: psgate.CodeWinRMBasicDisabled, wantText: "group policy", wantPass: []string{CheckExecutionPolicy, CheckPSVersion, CheckTrustedHosts}},
		{name: "windows restricted and old", target: Target{Config: admin, System: fakeSystem{policy: "Restricted", version: "4.0", basic: true}},
			check: CheckExecutionPolicy, wantCode: psgate.CodeExecutionPolicy},
		{name: "windows old powershell", target: Target{Config: admin, System: fakeSystem{policy: "Unrestricted", version: "4.0", basic: true}},
			check: CheckPSVersion, wantCode: psgate.CodePowerShellVersion, wantText: "'4.0'"},
		{name: "windows trustedhosts", target: Target{Config: admin, System: fakeSystem{policy: "Bypass", version: "7.4.1", basic: true}},
			check: CheckTrustedHosts, wantCode: psgate.CodeTrustedHosts, wantText: "127.0.0.1"},
		{name: "clock skew", target: Target{Config: admin, Now: func() time.Time { return time.Now().Add(time.Hour) }},
			check: CheckClock, wantCode: psgate.CodeClockSkew},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup(t)
				defer closeAll(t, admin)
			}
			got := diagnose(t, tt.target)
			if tt.check != "" {
				r := got[tt.check]
				if r.Status != Failed || r.Code != tt.wantCode {
					t.Fatalf("%s = %+v, want failed with %s", tt.check, r, tt.wantCode)
				}
				if r.Resolution == "" {
					t.Errorf("%s has no resolution", tt.check)
				}
				if !strings.Contains(r.Message+" "+r.Resolution, tt.wantText) {
					t.Errorf("%s: %q / %q does not mention %q", tt.check, r.Message, r.Resolution, tt.wantText)
				}
			}
			for _, name := range tt.wantPass {
				if got[name].Status != Passed {
					t.Errorf("%s = %+v, want passed", name, got[name])
				}
			}
			for _, name := range tt.wantSkips {
				if got[name].Status != Skipped {
					t.Errorf("%s = %+v, want skipped", name, got[name])
				}
			}
		})
	}
}

func closeAll(t *testing.T, cfg client.Config) {
	t.Helper()
	list, err := client.ListSessions(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if err := client.CloseSession(context.Background(), cfg, s.ID); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRunSkipsDependentsAndRunsInParallel(t *testing.T) {
	gate := make(chan struct{})
	checks := []Check{
		{Name: "a", Run: func(context.Context) Result { <-gate; return Fail(errors.New("down")) }},
		{Name: "b", Run: func(context.Context) Result { close(gate); return Pass("ok") }}, // runs while a waits
		{Name: "c", Needs: []string{"a"}, Run: func(context.Context) Result { return Pass("never") }},
		{Name: "d", Needs: []string{"b"}, Run: func(context.Context) Result { return Pass("ok") }},
	}
	got := Run(context.Background(), checks)
	want := []Status{Failed, Passed, Skipped, Passed}
	for i, r := range got {
		if r.Name != checks[i].Name || r.Status != want[i] {
			t.Errorf("result %d = %+v, want %s %s", i, r, checks[i].Name, want[i])
		}
	}
}

// setPolicy changes the demo tenant's policy.
func (ls *liveServer) setPolicy(t *testing.T, mod func(*store.Policy)) {
	t.Helper()
	ctx := context.Background()
	tn, err := ls.Store().TenantByName(ctx, server.DemoTenant)
	if err != nil {
		t.Fatal(err)
	}
	pol := tn.Policy
	mod(&pol)
	if err := ls.Store().UpdatePolicy(ctx, tn.ID, pol); err != nil {
		t.Fatal(err)
	}
}

func TestDoctorTenantStates(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, ls *liveServer, cfg client.Config)
		check    string
		wantCode psgate.Code
	}{
		{"policy off", func(t *testing.T, ls *liveServer, _ client.Config) {
			ls.setPolicy(t, func(p *store.Policy) { p.EnableRemotePowerShellAccess = false })
		}, CheckSession, psgate.CodeTenantAccessDisabled},
		{"tenant quota full", func(t *testing.T, ls *liveServer, cfg client.Config) {
			ls.setPolicy(t, func(p *store.Policy) { p.MaxShellsPerTenant = 1 })
			if _, err := client.Dial(context.Background(), cfg); err != nil {
				t.Fatal(err)
			}
		}, CheckSession, psgate.CodeTenantQuotaExceeded},
		{"locked account", func(t *testing.T, ls *liveServer, cfg client.Config) {
			// Different wrong passwords: a repeated one counts once.
			for i := range 6 {
				cfg.Password = fmt.Sprintf("wrong-%d", i)
				_, _ = client.Dial(context.Background(), cfg)
			}
		}, CheckSignIn, psgate.CodeAccountLocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls := startServer(t)
			cfg := client.Config{Endpoint: ls.httpURL, User: server.DemoAdmin, Password: adminPassword}
			tt.setup(t, ls, cfg)
			got := diagnose(t, Target{Config: cfg})
			r := got[tt.check]
			if r.Status != Failed || r.Code != tt.wantCode || r.Resolution == "" {
				t.Fatalf("%s = %+v, want failed with %s and a resolution", tt.check, r, tt.wantCode)
			}
		})
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/client"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/server"
)

const gatewayPassword = "Connector-Pa55word!"

// gateway is a real psgate server for the connector commands.
type gateway struct {
	*server.Server
	url string
}

func startGateway(t *testing.T) *gateway {
	t.Helper()
	s, err := server.New(context.Background(), server.Config{
		DataDir:           t.TempDir(),
		HTTPAddr:          "127.0.0.1:0",
		BootstrapPassword: gatewayPassword,
		PasswordParams:    password.Fast(),
		Logger:            slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, 5*time.Second) }()
	t.Cleanup(func() { cancel(); <-done })
	// No profile, cache or environment from the developer's machine.
	t.Setenv("PSGATE_CONFIG_DIR", filepath.Join(t.TempDir(), "config"))
	t.Setenv("PSGATE_PASSWORD", gatewayPassword)
	t.Setenv("PSGATE_ENDPOINT", s.Info().HTTPURL)
	t.Setenv("PSGATE_USER", server.DemoAdmin)
	t.Setenv("PSGATE_TOKEN_URL", "")
	return &gateway{Server: s, url: s.Info().HTTPURL}
}

// psgateRun runs the CLI in-process and returns stdout, stderr and the
// exit status main would use.
func psgateRun(t *testing.T, stdin string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := root.ExecuteContext(ctx); err != nil {
		writeRemoteError(&errOut, err)
		return out.String(), errOut.String(), exitCode(err)
	}
	return out.String(), errOut.String(), exitOK
}

func TestRunExitStatusAndOutput(t *testing.T) {
	gw := startGateway(t)
	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		wantStatus int
		wantOut    string
		wantErr    string
	}{
		{"table", nil, []string{"run", "Get-CsOnlineUser -Identity alice@contoso.test | Select-Object UserPrincipalName,DisplayName"},
			exitOK, "UserPrincipalName  DisplayName\n-----------------  -----------\nalice@contoso.test Alice Wong", ""},
		{"list", nil, []string{"run", "Get-CsOnlineUser -Identity alice@contoso.test | Select-Object UserPrincipalName", "--output", "list"},
			exitOK, "UserPrincipalName : alice@contoso.test", ""},
		{"json", nil, []string{"run", "Get-CsOnlineUser -Identity alice@contoso.test | Select-Object UserPrincipalName,DisplayName", "-o", "json"},
			exitOK, `"UserPrincipalName": "alice@contoso.test"`, ""},
		{"csv", nil, []string{"run", "Get-CsOnlineUser -Identity alice@contoso.test | Select-Object UserPrincipalName,DisplayName", "-o", "csv"},
			exitOK, "UserPrincipalName,DisplayName\nalice@contoso.test,Alice Wong\n", ""},
		{"reconnect mode", nil, []string{"run", "Write-Output ok", "--reconnect"}, exitOK, "ok\n", ""},
		{"command error", nil, []string{"run", "Get-Nothing"}, exitCommand, "", "error[engine.command-not-found]"},
		{"wrong password", map[string]string{"PSGATE_PASSWORD": "wrong"}, []string{"run", "Get-CsTenant"}, exitAuth, "", "error[identity.logon-failed]"},
		{"no credentials", map[string]string{"PSGATE_PASSWORD": ""}, []string{"run", "Get-CsTenant"}, exitAuth, "", "psgate login"},
		{"unreachable", nil, []string{"run", "Get-CsTenant", "--endpoint", "http://127.0.0.1:1/wsman"}, exitConnection, "", "error[client.not-listening]: Nothing is listening on 127.0.0.1:1: the connection was refused. Is the gateway running?"},
		{"bad output", nil, []string{"run", "Get-CsTenant", "-o", "yaml"}, exitUsage, "", "--output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			out, errOut, status := psgateRun(t, "", tt.args...)
			if status != tt.wantStatus {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", status, tt.wantStatus, out, errOut)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("stdout:\n%s\nwant it to contain:\n%s", out, tt.wantOut)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr:\n%s\nwant it to contain %q", errOut, tt.wantErr)
			}
		})
	}
	if n := gw.Gateway().ShellCount(); n != 0 {
		t.Errorf("psgate run left %d shells open", n)
	}
}

func TestRunJSONIsValid(t *testing.T) {
	startGateway(t)
	out, errOut, status := psgateRun(t, "", "run", "Get-CsOnlineUser", "-o", "json")
	if status != exitOK {
		t.Fatalf("status %d: %s", status, errOut)
	}
	var users []map[string]any
	if err := json.Unmarshal([]byte(out), &users); err != nil {
		t.Fatalf("output is not a JSON array: %v\n%s", err, out)
	}
	if len(users) < 5 || users[0]["UserPrincipalName"] == nil {
		t.Errorf("users = %v", users)
	}
}

func TestSessionsListAndCloseAll(t *testing.T) {
	gw := startGateway(t)
	out, _, status := psgateRun(t, "", "sessions")
	if status != exitOK || !strings.Contains(out, "No open sessions.") {
		t.Fatalf("empty list: %d %q", status, out)
	}
	// Two sessions left behind by a crashed script.
	for range 2 {
		if _, err := client.Dial(context.Background(), client.Config{Endpoint: gw.url, User: server.DemoAdmin, Password: gatewayPassword}); err != nil {
			t.Fatal(err)
		}
	}
	out, _, status = psgateRun(t, "", "sessions", "list")
	if status != exitOK || strings.Count(out, "Connected") != 2 {
		t.Fatalf("list: %d\n%s", status, out)
	}
	out, _, status = psgateRun(t, "", "sessions", "close", "--all")
	if status != exitOK || strings.Count(out, "closed ") != 2 {
		t.Fatalf("close --all: %d\n%s", status, out)
	}
	if n := gw.Gateway().ShellCount(); n != 0 {
		t.Errorf("%d shells still open", n)
	}
	_, errOut, status := psgateRun(t, "", "sessions", "close", "00000000-0000-4000-8000-000000000000")
	if status != exitConnection || !strings.Contains(errOut, "wsman.shell-not-found") {
		t.Errorf("closing an unknown session: %d %s", status, errOut)
	}
}

func TestConnectShell(t *testing.T) {
	gw := startGateway(t)
	in := "Write-Output hello\n\nGet-Nothing\nGet-CsOnlineUser -Identity alice@contoso.test | Select-Object DisplayName\nexit\nWrite-Output never\n"
	out, errOut, status := psgateRun(t, in, "connect")
	if status != exitOK {
		t.Fatalf("status %d: %s", status, errOut)
	}
	if !strings.HasPrefix(out, "[contoso] PS> hello\n") {
		t.Errorf("stdout does not start with the prompt and output:\n%s", out)
	}
	if !strings.Contains(out, "Alice Wong") || strings.Contains(out, "never") {
		t.Errorf("stdout:\n%s", out)
	}
	if !strings.Contains(errOut, "engine.command-not-found") {
		t.Errorf("stderr:\n%s", errOut)
	}
	if n := gw.Gateway().ShellCount(); n != 0 {
		t.Errorf("connect left %d shells open", n)
	}
}

func TestLoginCachesTokensForLaterCommands(t *testing.T) {
	startGateway(t)
	out, errOut, status := psgateRun(t, "", "login")
	if status != exitOK || !strings.Contains(out, "Signed in as admin@contoso.test") {
		t.Fatalf("login: %d %s %s", status, out, errOut)
	}
	// Later commands need neither password nor flags.
	t.Setenv("PSGATE_PASSWORD", "")
	t.Setenv("PSGATE_ENDPOINT", "")
	t.Setenv("PSGATE_USER", "")
	out, errOut, status = psgateRun(t, "", "run", "Write-Output cached")
	if status != exitOK || out != "cached\n" {
		t.Fatalf("run from the cache: %d %q %s", status, out, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(os.Getenv("PSGATE_CONFIG_DIR"), "token-*.json"))
	if len(files) != 1 {
		t.Fatalf("token files: %v", files)
	}
	if fi, err := os.Stat(files[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode: %v %v", fi.Mode(), err)
	}
	if _, _, status := psgateRun(t, "", "logout"); status != exitOK {
		t.Fatal("logout failed")
	}
	_, errOut, status = psgateRun(t, "", "run", "Write-Output cached")
	if status != exitAuth {
		t.Errorf("run after logout: %d %s", status, errOut)
	}
}

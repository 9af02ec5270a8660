package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/masterzen/winrm"

	"github.com/psgate/psgate/client"
	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/server/servertest"
)

var update = flag.Bool("update", false, "rewrite testdata/output from the connector's output")

// The connector shows command output as PowerShell's console does, with
// the views the server's objects carry: testdata/output holds what
// `psgate run` prints for each command line, checked against PowerShell's
// layout by hand.
func TestRunOutputViews(t *testing.T) {
	newGatewayForOutput(t)
	tests := []struct{ name, line string }{
		{"get-command", "Get-Command"},
		{"get-command-noun", "Get-Command -Noun CsOnlineUser"},
		{"get-help", "Get-Help Get-CsOnlineUser"},
		{"get-help-examples", "Get-Help Get-CsOnlineUser -Examples"},
		{"get-help-detailed", "Get-Help Get-CsOnlineUser -Detailed"},
		{"get-help-full", "Get-Help Get-CsOnlineUser -Full"},
		{"get-help-parameter", "Get-Help Get-CsOnlineUser -Parameter Identity"},
		{"get-csonlineuser", "Get-CsOnlineUser"},
		{"select-object", "Get-CsOnlineUser | Select-Object DisplayName,Department"},
		{"format-table", "Get-CsOnlineUser | Format-Table DisplayName,Department"},
		{"format-list", "Get-CsOnlineUser -Identity alice@contoso.test | Format-List DisplayName,Department"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, status := psgateRun(t, "", "run", tt.line)
			if status != exitOK || errOut != "" {
				t.Fatalf("run %q: status %d, stderr %q", tt.line, status, errOut)
			}
			golden := filepath.Join("testdata", "output", tt.name+".txt")
			if *update {
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(out, string(want)); diff != "" {
				t.Errorf("psgate run %q (-got +want):\n%s", tt.line, diff)
			}
		})
	}
}

// The connector and WinRS (where the server formats) show the same text.
func TestRunOutputMatchesWinRS(t *testing.T) {
	gw := newGatewayForOutput(t)
	c := masterzenClient(t, gw.url)
	for _, line := range []string{
		"Get-Command",
		"Get-CsOnlineUser",
		"Get-Help Get-CsOnlineUser -Full",
		"Get-Help Get-CsOnlineUser -Parameter Identity",
		"Get-CsOnlineUser | Select-Object DisplayName,Department",
	} {
		t.Run(line, func(t *testing.T) {
			winrs, stderr, code, err := c.RunWithString(line, "")
			if err != nil || code != 0 {
				t.Fatalf("WinRS %q: %v, exit %d, %q", line, err, code, stderr)
			}
			out, errOut, status := psgateRun(t, "", "run", line)
			if status != exitOK {
				t.Fatalf("run %q: status %d, stderr %q", line, status, errOut)
			}
			if diff := cmp.Diff(out, strings.ReplaceAll(winrs, "\r\n", "\n")); diff != "" {
				t.Errorf("psgate run vs WinRS %q (-run +winrs):\n%s", line, diff)
			}
		})
	}
}

func newGatewayForOutput(t *testing.T) *gateway {
	t.Helper()
	return startGateway(t)
}

// masterzenClient is a WinRS client signed in as the demo administrator.
func masterzenClient(t *testing.T, rawURL string) *winrm.Client {
	t.Helper()
	return servertest.Masterzen(t, rawURL, server.DemoAdmin, gatewayPassword)
}

// Colours only where asked for or on a terminal, never with NO_COLOR or
// TERM=dumb, and never into a pipe or buffer.
func TestUseColor(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	var buf strings.Builder
	tests := []struct {
		mode string
		vars map[string]string
		want bool
	}{
		{"always", map[string]string{"NO_COLOR": "1"}, true},
		{"never", nil, false},
		{"auto", nil, false}, // a buffer is not a terminal
		{"auto", map[string]string{"NO_COLOR": "1"}, false},
		{"auto", map[string]string{"TERM": "dumb"}, false},
	}
	for _, tt := range tests {
		if got := useColor(tt.mode, &buf, env(tt.vars)); got != tt.want {
			t.Errorf("useColor(%q, %v) = %v, want %v", tt.mode, tt.vars, got, tt.want)
		}
	}
	if err := checkColorMode("sometimes"); err == nil {
		t.Error("--color sometimes accepted")
	}
}

// With colours, table headers are bold green and errors red, as
// PowerShell 7 shows them; the text is otherwise the same.
func TestColoredOutput(t *testing.T) {
	objs := []any{psobject.NewCustom(psobject.P("Name", "alice"), psobject.P("Count", int32(3)))}
	var plain, colored strings.Builder
	if err := writeObjects(&plain, objs, "", 0, false); err != nil {
		t.Fatal(err)
	}
	if err := writeObjects(&colored, objs, "", 0, true); err != nil {
		t.Fatal(err)
	}
	want := "\n\x1b[32;1mName  Count\x1b[0m\n\x1b[32;1m----  -----\x1b[0m\nalice     3\n\n\n"
	if colored.String() != want {
		t.Errorf("colored table = %q, want %q", colored.String(), want)
	}
	if strings.Contains(plain.String(), "\x1b") {
		t.Errorf("plain table has escapes: %q", plain.String())
	}
	var errs strings.Builder
	writeRecord(&errs, client.Record{Stream: client.StreamError, Message: "boom"}, true)
	writeRecord(&errs, client.Record{Stream: client.StreamWarning, Message: "careful"}, true)
	writeRecord(&errs, client.Record{Stream: client.StreamWarning, Message: "plain"}, false)
	if got, want := errs.String(), "\x1b[31;1mERROR: boom\x1b[0m\n\x1b[33;1mWARNING: careful\x1b[0m\nWARNING: plain\n"; got != want {
		t.Errorf("records = %q, want %q", got, want)
	}
}

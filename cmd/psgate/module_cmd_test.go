//go:build !connector

package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestModuleCheckAcceptsTheExample(t *testing.T) {
	example := filepath.Join("..", "..", "examples", "widgets", "widgets.json")
	stdout, stderr, status, err := execute(t, "module", "check", example)
	if status != exitOK || err != nil {
		t.Fatalf("module check %s: status %d, %v\n%s", example, status, err, stderr)
	}
	if want := example + ": ok: module Contoso.Widgets, 4 cmdlets: Get-Widget, New-Widget, Set-Widget, Remove-Widget\n"; stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
}

func TestModuleCheckReportsProblemsWithLines(t *testing.T) {
	file := writeConfig(t, "bad.json", `{
  "name": "Bad.Mod",
  "backends": {"svc": {"baseUrl": "http://127.0.0.1:9"}},
  "cmdlets": [
    {"name": "Get-CsTenant", "synopsis": "Clashes with a tenant cmdlet.", "request": {"method": "GET", "path": "/t"}},
    {"name": "Fetch-Thing", "synopsis": "Bad verb.", "request": {"method": "GET", "path": "/t"}}
  ]
}`, 0o600)
	_, stderr, status, err := execute(t, "module", "check", file)
	if status == exitOK || err == nil {
		t.Fatal("module check accepted a broken module")
	}
	if !strings.Contains(stderr, file+`:6:14: cmdlets[1](Fetch-Thing).name: "Fetch" is not an approved PowerShell verb`) {
		t.Errorf("stderr %q lacks the bad verb with its line", stderr)
	}
	if !strings.Contains(err.Error(), "1 problem; psgate serve would refuse to start") {
		t.Errorf("error %v", err)
	}
	// Once the file is valid, a name taken by a tenant cmdlet is refused.
	file = writeConfig(t, "clash.json", `{
  "name": "Bad.Mod",
  "backends": {"svc": {"baseUrl": "http://127.0.0.1:9"}},
  "cmdlets": [
    {"name": "Get-CsTenant", "synopsis": "Clashes with a tenant cmdlet.", "request": {"method": "GET", "path": "/t"}}
  ]
}`, 0o600)
	_, stderr, status, _ = execute(t, "module", "check", file)
	if status == exitOK || !strings.Contains(stderr, file+":5:5: Get-CsTenant: the name Get-CsTenant is already taken by psgate's Get-CsTenant") {
		t.Errorf("status %d, stderr %q", status, stderr)
	}
}

// psgate serve --modules refuses to start with a broken module, naming
// its line.
func TestServeRefusesABrokenModule(t *testing.T) {
	dir := t.TempDir()
	file := writeConfig(t, "broken.json", `{"name": "Broken.Mod", "backends": {"svc": {"baseUrl": "http://127.0.0.1:9"}},
  "cmdlets": [{"name": "Get-Thing", "synopsis": "x", "request": {"method": "GOT", "path": "/t"}}]}`, 0o600)
	_, _, status, err := execute(t, "serve", "--data", dir, "--http", "127.0.0.1:0", "--https", "", "--modules", filepath.Dir(file))
	if status == exitOK || err == nil || !strings.Contains(err.Error(), file+`:2:76: cmdlets[0](Get-Thing).request.method: unknown method "GOT"`) {
		t.Fatalf("serve --modules with a broken module: status %d, %v", status, err)
	}
}

func TestModuleFromOpenAPI(t *testing.T) {
	spec := filepath.Join("..", "..", "examples", "widgets", "openapi.json")
	out := filepath.Join(t.TempDir(), "gen.json")
	stdout, stderr, status, err := execute(t, "module", "from-openapi", spec, "--prefix", "Contoso", "--out", out)
	if status != exitOK || err != nil || stdout != out+": written; review it, then psgate module check "+out+"\n" || stderr != "" {
		t.Fatalf("from-openapi: status %d, %v\nstdout %q\nstderr %q", status, err, stdout, stderr)
	}
	stdout, _, status, err = execute(t, "module", "check", out)
	if status != exitOK || err != nil || !strings.Contains(stdout, "4 cmdlets: Get-ContosoWidget, New-ContosoWidget, Update-ContosoWidget, Remove-ContosoWidget") {
		t.Errorf("check of the draft: %d %v %q", status, err, stdout)
	}
	if _, _, status, err = execute(t, "module", "from-openapi", spec, "--prefix", "Contoso", "--out", out); status == exitOK || !strings.Contains(fmt.Sprint(err), "never overwrites") {
		t.Errorf("overwriting: %d %v", status, err)
	}
}

//go:build !connector

package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/examples/widgets/widgetsvc"
	"github.com/psgate/psgate/server/servertest"
)

// TestMain lets the test binary stand in for the psgate binary: run under
// the name "psgate" (a link the tour tests put on PATH) it is the command
// itself, so the tests drive exactly what a user runs, without a build.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "psgate" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// tour is a psgate serve process started as a user would start it, with
// the binary on PATH, a fresh HOME and a fresh working directory.
type tour struct {
	dir, home       string
	env             []string
	http, https     string
	banner          string
	serve           *exec.Cmd
	stdout, stderrB *syncBuffer
}

func startTour(t *testing.T) *tour {
	t.Helper()
	return startTourWith(t, false)
}

// startTourWith is startTour; with modules the directory is laid out as
// README's module tour leaves a checkout: examples/ from the repository,
// modules/widgets.json copied from it, the example widget service running
// (here in the test, on a free port the copy names), and psgate serve
// started with --modules modules.
func startTourWith(t *testing.T, modules bool) *tour {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	tr := &tour{dir: filepath.Join(root, "work"), home: filepath.Join(root, "home"), http: freePort(t), https: freePort(t)}
	bin := filepath.Join(root, "bin")
	for _, d := range []string{tr.dir, tr.home, bin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(self, filepath.Join(bin, "psgate")); err != nil {
		t.Fatal(err)
	}
	path := bin + string(os.PathListSeparator) + os.Getenv("PATH")
	if py := os.Getenv("PSGATE_PYTHON"); py != "" {
		// The banner's and README's pywinrm lines say python3.
		path = filepath.Dir(py) + string(os.PathListSeparator) + path
	}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PSGATE_") || strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "PATH=") ||
			strings.HasPrefix(kv, "XDG_") || strings.HasPrefix(kv, "NO_COLOR=") {
			continue
		}
		tr.env = append(tr.env, kv)
	}
	tr.env = append(tr.env, "HOME="+tr.home, "PATH="+path)

	ctx, cancel := context.WithCancel(context.Background())
	// The link's own path: "psgate" alone would be looked up on this
	// process's PATH, which need not have it.
	args := []string{"serve", "--http", tr.http, "--https", tr.https, "--log-level", "warn"}
	if modules {
		tr.layOutModules(t)
		args = append(args, "--modules", "modules")
	}
	tr.serve = exec.CommandContext(ctx, filepath.Join(bin, "psgate"), args...)
	tr.serve.Dir, tr.serve.Env = tr.dir, tr.env
	tr.stdout, tr.stderrB = &syncBuffer{}, &syncBuffer{}
	tr.serve.Stdout, tr.serve.Stderr = tr.stdout, tr.stderrB
	tr.serve.Cancel = func() error { return tr.serve.Process.Signal(os.Interrupt) }
	if err := tr.serve.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = tr.serve.Wait()
	})
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(tr.stdout.String(), "Invoke-Command") {
		if time.Now().After(deadline) {
			t.Fatalf("psgate serve printed no full banner in 60 s:\n%s\n%s", tr.stdout, tr.stderrB)
		}
		time.Sleep(50 * time.Millisecond)
	}
	tr.banner = tr.stdout.String()
	return tr
}

// layOutModules prepares README's module tour in the tour's directory.
func (tr *tour) layOutModules(t *testing.T) {
	t.Helper()
	examples, err := filepath.Abs(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(examples, filepath.Join(tr.dir, "examples")); err != nil {
		t.Fatal(err)
	}
	// The example backend, as `go run ./examples/widgets/backend -insecure`
	// runs it, trusting the tour gateway's tokens.
	svc, err := widgetsvc.New(widgetsvc.Config{Issuer: "https://" + tr.https, Audience: "urn:contoso:widgets",
		HTTPClient: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}})
	if err != nil {
		t.Fatal(err)
	}
	be := httptest.NewServer(svc)
	t.Cleanup(be.Close)
	mod, err := os.ReadFile(filepath.Join(examples, "widgets", "widgets.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(tr.dir, "modules"), 0o755); err != nil {
		t.Fatal(err)
	}
	copied := strings.Replace(string(mod), "http://127.0.0.1:8089/api", be.URL+"/api", 1)
	if err := os.WriteFile(filepath.Join(tr.dir, "modules", "widgets.json"), []byte(copied), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sh runs one command line in bash as the user would type it, in the
// tour's directory, with stdin as given.
func (tr *tour) sh(t *testing.T, line, stdin string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", line)
	cmd.Dir, cmd.Env = tr.dir, tr.env
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// The banner's lines can be pasted as they are: each one is run here
// through bash, as printed. The PowerShell lines need Windows PowerShell
// or pwsh, which this machine cannot run; the interop tests cover what
// they send.
func TestTourBannerLinesPasteAsTheyAre(t *testing.T) {
	requirePython(t)
	tr := startTour(t)
	if strings.Contains(tr.banner, "[::]") || strings.Contains(tr.banner, "0.0.0.0") {
		t.Errorf("the banner names a wildcard address, which no client accepts:\n%s", tr.banner)
	}
	for _, want := range []string{"https://" + tr.https + "/wsman", "http://" + tr.http + "/wsman",
		"Listening on this machine only", "https://" + tr.https + "/powershell"} {
		if !strings.Contains(tr.banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, tr.banner)
		}
	}
	_, after, ok := strings.Cut(tr.banner, "Connect:")
	if !ok {
		t.Fatalf("no Connect section:\n%s", tr.banner)
	}
	expect := map[string]string{"login": "Signed in as admin@contoso.test", "connect": "Contoso (demo)", "winrm": "Contoso (demo)"}
	ran := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(after))
	sc.Scan() // the rest of the "Connect:" line
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "$s = New-PSSession") || strings.HasPrefix(line, "Invoke-Command") {
			continue // PowerShell: no Windows here
		}
		key := ""
		for k := range expect {
			if strings.Contains(line, k) {
				key = k
			}
		}
		if key == "" {
			t.Errorf("banner line not covered by this test: %s", line)
			continue
		}
		out, err := tr.sh(t, line, "Get-CsTenant\nexit\n")
		if err != nil || !strings.Contains(out, expect[key]) {
			t.Errorf("pasted banner line failed (%v), want %q in its output:\n$ %s\n%s", err, expect[key], line, out)
		}
		ran[key] = true
	}
	for k := range expect {
		if !ran[k] {
			t.Errorf("the banner has no %s line:\n%s", k, tr.banner)
		}
	}
}

// The README's tour is run command by command, as written: every line that
// starts with "$ " in a console block, with the default ports changed to
// the test's and standard input giving a new password when one is asked.
func TestTourREADME(t *testing.T) {
	requirePython(t)
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	cmds := consoleCommands(string(readme))
	if len(cmds) < 10 {
		t.Fatalf("found %d tour commands in README.md; the parser or the README changed", len(cmds))
	}
	tr := startTourWith(t, true)
	ports := strings.NewReplacer("127.0.0.1:5985", tr.http, "127.0.0.1:5986", tr.https)
	runLine := regexp.MustCompile(`^psgate run\b`)
	for _, tc := range cmds {
		c := tc.line
		if strings.HasPrefix(c, "./scripts/") {
			continue // set-up and serve themselves: the tour's server stands in for serve.sh
		}
		line := ports.Replace(c)
		out, err := tr.sh(t, line, "Tour-Passw0rd\nTour-Passw0rd\n")
		t.Logf("$ %s\n%s", c, out)
		if err != nil {
			t.Errorf("README command failed (%v):\n$ %s\n%s", err, c, out)
			continue
		}
		if runLine.MatchString(c) && strings.TrimSpace(out) == "" {
			t.Errorf("README command printed nothing:\n$ %s", c)
		}
		for _, want := range tc.output {
			if !strings.Contains(out, want) {
				t.Errorf("README shows %q under\n$ %s\nbut the command printed:\n%s", want, c, out)
			}
		}
	}
}

// consoleCommand is a "$ " line of a README console block and the output
// lines the README shows under it (each must appear in what it prints;
// lines with "..." are elided output and not checked).
type consoleCommand struct {
	line   string
	output []string
}

// consoleCommands returns the commands of the ```console blocks.
func consoleCommands(md string) []consoleCommand {
	var cmds []consoleCommand
	in := false
	for _, line := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(line, "```console"):
			in = true
		case strings.HasPrefix(line, "```"):
			in = false
		case in && strings.HasPrefix(line, "$ "):
			cmds = append(cmds, consoleCommand{line: strings.TrimPrefix(line, "$ ")})
		case in && len(cmds) > 0 && strings.TrimSpace(line) != "" && !strings.Contains(line, "..."):
			c := &cmds[len(cmds)-1]
			c.output = append(c.output, strings.TrimRight(line, " "))
		}
	}
	return cmds
}

func requirePython(t *testing.T) string {
	t.Helper()
	return servertest.Python(t, "winrm")
}

package interop

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/server/servertest"
	"github.com/psgate/psgate/store"
)

const adminPassword = "Interop-Pa55word!"

// testServer is a real psgate server on loopback ports.
type testServer struct {
	*server.Server
	httpURL, httpsURL string
	// dataDir is the server's data directory (its SQLite store).
	dataDir string
	cancel  context.CancelFunc
	done    chan error
}

// startServer runs a server on a fresh data directory until the test ends.
func startServer(t testing.TB) *testServer {
	t.Helper()
	return startServerWith(t, nil)
}

// startServerWith is startServer with a chance to adjust the configuration.
func startServerWith(t testing.TB, adjust func(*server.Config)) *testServer {
	t.Helper()
	ctx := context.Background()
	logw := io.Discard
	if os.Getenv("PSGATE_TEST_LOG") != "" {
		logw = os.Stderr
	}
	cfg := server.Config{
		DataDir:           t.TempDir(),
		HTTPAddr:          "127.0.0.1:0",
		HTTPSAddr:         "127.0.0.1:0",
		BootstrapPassword: adminPassword,
		PasswordParams:    password.Fast(),
		Logger:            slog.New(slog.NewTextHandler(logw, nil)),
	}
	if adjust != nil {
		adjust(&cfg)
	}
	s, err := server.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	ts := &testServer{Server: s, dataDir: cfg.DataDir, cancel: cancel, done: make(chan error, 1)}
	in := s.Info()
	ts.httpURL, ts.httpsURL = in.HTTPURL, in.HTTPSURL
	go func() { ts.done <- s.Run(rctx, 5*time.Second) }()
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) stop() {
	ts.cancel()
	<-ts.done
}

// addUser creates an enabled user with a password in the demo tenant,
// optionally with a role.
func (ts *testServer) addUser(t testing.TB, upn, pw, role string) store.User {
	t.Helper()
	ctx := context.Background()
	st := ts.Store()
	tn, err := st.TenantByName(ctx, server.DemoTenant)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := password.Hash(pw, password.Fast())
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(ctx, store.User{TenantID: tn.ID, UPN: upn, DisplayName: upn, Enabled: true, PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	if role != "" {
		r, err := st.RoleByName(ctx, tn.ID, role)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Assign(ctx, store.Assignment{TenantID: tn.ID, UserID: u.ID, RoleID: r.ID, AssignedBy: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// python returns the interpreter that has the given modules (pywinrm,
// pypsrp); see servertest.Python.
func python(t testing.TB, modules ...string) string {
	t.Helper()
	return servertest.Python(t, modules...)
}

// runPy runs testdata/<script> scenario and decodes the JSON it prints.
func runPy(t testing.TB, py, script, scenario string, env map[string]string, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join("testdata", script), scenario)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("%s %s: %v", script, scenario, err)
		}
		t.Fatalf("%s %s failed: %v\nstdout:\n%s\nstderr:\n%s", script, scenario, err, stdout.String(), stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("%s %s: output is not JSON: %v\n%s\nstderr:\n%s", script, scenario, err, stdout.String(), stderr.String())
	}
}

// soapPost sends a raw body to the gateway and returns status, headers and
// body.
func soapPost(t testing.TB, url, user, pw string, body []byte) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	if user != "" {
		req.SetBasicAuth(user, pw)
	}
	client := &http.Client{Timeout: 90 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

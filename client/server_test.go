package client

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/server"
)

const (
	adminPassword = "Client-Pa55word!"
	psgateAdmin   = server.DemoAdmin
)

// clock is a settable clock for the server, so tests can move shells past
// their lifetime.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// testServer is a real psgate server on loopback ports.
type testServer struct {
	*server.Server
	clock             *clock
	httpURL, httpsURL string
}

// startServer runs a psgate server with a fake clock until the test ends.
func startServer(t testing.TB) *testServer {
	t.Helper()
	return startServerAt(t, time.Now())
}

// startServerAt is startServer with the server's clock starting at start.
func startServerAt(t testing.TB, start time.Time) *testServer {
	t.Helper()
	logw := io.Discard
	if os.Getenv("PSGATE_TEST_LOG") != "" {
		logw = os.Stderr
	}
	clk := &clock{now: start}
	s, err := server.New(context.Background(), server.Config{
		DataDir:           t.TempDir(),
		HTTPAddr:          "127.0.0.1:0",
		HTTPSAddr:         "127.0.0.1:0",
		BootstrapPassword: adminPassword,
		PasswordParams:    password.Fast(),
		Logger:            slog.New(slog.NewTextHandler(logw, nil)),
		Now:               clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	in := s.Info()
	return &testServer{Server: s, clock: clk, httpURL: in.HTTPURL, httpsURL: in.HTTPSURL}
}

// config returns a client configuration for the demo administrator over
// plain HTTP.
func (ts *testServer) config() Config {
	return Config{Endpoint: ts.httpURL, User: server.DemoAdmin, Password: adminPassword}
}

// expireAll moves the clock past the default 60-minute lifetime and lets
// the gateway close every shell.
func (ts *testServer) expireAll(t testing.TB) {
	t.Helper()
	ts.clock.Advance(61 * time.Minute)
	ts.Gateway().Expire(context.Background())
	if n := ts.Gateway().ShellCount(); n != 0 {
		t.Fatalf("%d shells still open after expiry", n)
	}
}

// closeAll closes every shell from the server side, as the lifetime or
// idle janitor does (reason "lifetime" or "idle").
func (ts *testServer) closeAll(t testing.TB, cause psgate.CloseCause) {
	t.Helper()
	ts.Gateway().CloseShells(context.Background(), ts.Gateway().ShellIDs(), psgate.CloseReason{Cause: cause})
	if n := ts.Gateway().ShellCount(); n != 0 {
		t.Fatalf("%d shells still open after closing", n)
	}
}

func dial(t testing.TB, cfg Config) *Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// unlimited lifts the demo tenant's shell creation rate limit, for
// benchmarks that open many sessions.
func (ts *testServer) unlimited(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	tn, err := ts.Store().TenantByName(ctx, server.DemoTenant)
	if err != nil {
		t.Fatal(err)
	}
	pol := tn.Policy
	pol.MaxShellCreationsPerMinute = 1 << 20
	if err := ts.Store().UpdatePolicy(ctx, tn.ID, pol); err != nil {
		t.Fatal(err)
	}
}

package server

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/internal/password"
)

func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.DataDir = t.TempDir()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.BootstrapPassword = "Limits-Test-Pa55"
	cfg.PasswordParams = password.Fast()
	cfg.Logger = slog.New(slog.DiscardHandler)
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, time.Second) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

func dial(t *testing.T, s *Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.httpLn.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// A request body trickled slower than the body budget loses its
// connection: nobody can hold descriptors by never finishing a body.
func TestSlowBodyIsCut(t *testing.T) {
	s := startServer(t, Config{BodyTimeout: 300 * time.Millisecond})
	c := dial(t, s)
	_, err := io.WriteString(c, "POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: 100000\r\n\r\n<")
	if err != nil {
		t.Fatal(err)
	}
	// Keep trickling, well past the budget; the server must end the
	// connection rather than wait for the remaining bytes.
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, c)
		close(closed)
	}()
	for i := 0; i < 100; i++ {
		select {
		case <-closed:
			return
		case <-time.After(100 * time.Millisecond):
		}
		if _, err := c.Write([]byte("s")); err != nil {
			return // the server closed the connection
		}
	}
	t.Fatal("a body trickled for 10 s (budget 300 ms) still held its connection")
}

// The body budget covers the body only: a handler that answers later
// than the budget (as a Receive long-poll does) keeps its request and its
// connection.
func TestBodyBudgetDoesNotCutSlowAnswers(t *testing.T) {
	h := bodyDeadline(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case <-time.After(500 * time.Millisecond):
			io.WriteString(w, "late answer")
		case <-r.Context().Done():
			// The client sees no answer: the test fails below.
		}
	}), 100*time.Millisecond)
	ts := httptest.NewServer(h)
	defer ts.Close()
	for i := 0; i < 2; i++ {
		resp, err := ts.Client().Post(ts.URL, "text/plain", strings.NewReader("body"))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "late answer" {
			t.Fatalf("request %d: %s %q, want the late answer", i, resp.Status, body)
		}
	}
}

// Beyond the connection limit new connections are closed at once, while
// the ones already open keep working.
func TestConnectionLimit(t *testing.T) {
	s := startServer(t, Config{MaxConnections: 2})
	a, b := dial(t, s), dial(t, s)
	probe := func(c net.Conn) bool {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, "GET /.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return false
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	if !probe(a) || !probe(b) {
		t.Fatal("the first two connections were not served")
	}
	if probe(dial(t, s)) {
		t.Fatal("a third connection was served with a limit of 2")
	}
	a.Close()
	time.Sleep(100 * time.Millisecond)
	if !probe(dial(t, s)) {
		t.Fatal("no connection served after one of the two closed")
	}
	if !probe(b) {
		t.Fatal("an established connection stopped working")
	}
}

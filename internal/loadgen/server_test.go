package loadgen_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/server"
)

// startServer runs an in-process gateway on a loopback port (fast
// argon2id, logs discarded) until the test ends; adjust changes its
// configuration.
func startServer(t *testing.T, adjust func(*server.Config)) *server.Server {
	t.Helper()
	cfg := server.Config{
		DataDir:           t.TempDir(),
		HTTPAddr:          "127.0.0.1:0",
		BootstrapPassword: "Load-Pa55word!",
		PasswordParams:    password.Fast(),
		Logger:            slog.New(slog.DiscardHandler),
	}
	if adjust != nil {
		adjust(&cfg)
	}
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, 5*time.Second) }()
	t.Cleanup(func() { cancel(); <-done })
	return srv
}

// logReport logs a run's report as the bench tool prints it.
func logReport(t *testing.T, rep interface{ Write(io.Writer) }) {
	t.Helper()
	var out strings.Builder
	rep.Write(&out)
	t.Logf("report:\n%s", out.String())
}

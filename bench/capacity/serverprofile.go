package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/psgate/psgate/internal/loadgen"
)

// serverProfiler takes a CPU profile of the server over each of psgate's
// measured runs (-server-profile), through its admin listener's
// /debug/pprof/profile: dir/server-PROTOCOL-CLIENTS-rROUND.pprof. A
// profile lasts the run's duration rounded up to a second; the server is
// idle while the floor runs, so a profile that outlasts its run by a
// fraction of a second gains nothing but time.
type serverProfiler struct {
	admin, dir string
	seconds    int

	mu   sync.Mutex
	errs []error
}

func newServerProfiler(admin, dir string, run time.Duration) (*serverProfiler, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("-server-profile: %w", err)
	}
	return &serverProfiler{admin: admin, dir: dir, seconds: max(1, int(math.Ceil(run.Seconds())))}, nil
}

// onGateRun is a loadgen.CapacityConfig.OnGateRun: it starts the
// profile and returns the function that waits for it.
func (p *serverProfiler) onGateRun(ctx context.Context) func(op loadgen.Op, clients, round int) func() {
	return func(op loadgen.Op, clients, round int) func() {
		name := filepath.Join(p.dir, fmt.Sprintf("server-%v-%d-r%d.pprof", op, clients, round+1))
		done := make(chan error, 1)
		go func() { done <- p.fetch(ctx, name) }()
		return func() {
			if err := <-done; err != nil {
				p.mu.Lock()
				p.errs = append(p.errs, err)
				p.mu.Unlock()
			}
		}
	}
}

// err returns the errors of the profiles taken so far.
func (p *serverProfiler) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return errors.Join(p.errs...)
}

// fetch writes one profile of p.seconds to name.
func (p *serverProfiler) fetch(ctx context.Context, name string) error {
	url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", p.admin, p.seconds)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("server profile: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("server profile from %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("server profile from %s: %w", url, err)
	}
	// A profile is gzipped protobuf; anything else is an error page.
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
		return fmt.Errorf("server profile from %s: HTTP %d, not a profile: %.200q", url, resp.StatusCode, body)
	}
	if err := os.WriteFile(name, body, 0o644); err != nil {
		return fmt.Errorf("server profile: %w", err)
	}
	return nil
}

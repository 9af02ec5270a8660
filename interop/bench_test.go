package interop

import (
	"context"
	"testing"
	"time"

	"github.com/psgate/psgate/internal/loadgen"
	"github.com/psgate/psgate/server"
)

// BenchmarkWinRSRoundTrip measures a command on an open WinRS shell over
// loopback HTTP with keep-alive: Command, Receive, Signal (issue target:
// p50 ≤ 1 ms). bench/winrs.sh runs the same against a separate process.
func BenchmarkWinRSRoundTrip(b *testing.B) {
	ts := startServer(b)
	c := loadgen.NewClient(ts.httpURL, server.DemoAdmin, adminPassword)
	shell, err := c.Create()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Delete(shell)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		t := time.Now()
		if err := c.RoundTrip(shell, "Get-CsTenant"); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
	}
	report(b, lat)
}

// BenchmarkShellCreateDelete measures opening and closing a WinRS shell,
// admission (policy, roles, lease, audit) included (target p50 ≤ 1 ms).
func BenchmarkShellCreateDelete(b *testing.B) {
	ts := startServer(b)
	// The demo tenant allows 30 creations a minute; a benchmark creates
	// thousands, so the rate limit is switched off (0) rather than raised:
	// a raised limit would make every admission count thousands of recent
	// creations, which no real policy allows to accumulate.
	ctx := context.Background()
	tn, err := ts.Store().TenantByName(ctx, server.DemoTenant)
	if err != nil {
		b.Fatal(err)
	}
	tn.Policy.MaxShellCreationsPerMinute = 0
	if err := ts.Store().UpdatePolicy(ctx, tn.ID, tn.Policy); err != nil {
		b.Fatal(err)
	}
	c := loadgen.NewClient(ts.httpURL, server.DemoAdmin, adminPassword)
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		t := time.Now()
		id, err := c.Create()
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Delete(id); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
	}
	report(b, lat)
}

func report(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	p := loadgen.Summarise(lat)
	b.ReportMetric(float64(p.P50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(p.P99.Microseconds()), "p99-µs")
}

package client

import (
	"context"
	"sort"
	"testing"
	"time"
)

// BenchmarkRunOpenSession times one command on an open session over
// loopback HTTP and reports the p50 and p99 latency.
func BenchmarkRunOpenSession(b *testing.B) {
	ts := startServer(b)
	s := dial(b, ts.config())
	ctx := context.Background()
	cmd := Script("Write-Output 1")
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		res, err := s.Run(ctx, cmd, RunOptions{})
		lat = append(lat, time.Since(start))
		if err != nil || len(res.Output) != 1 {
			b.Fatalf("run: %v, %v", res, err)
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkDialRunClose times a whole connection: open a session, run one
// command, close.
func BenchmarkDialRunClose(b *testing.B) {
	ts := startServer(b)
	ctx := context.Background()
	ts.unlimited(b)
	cfg := ts.config()
	for range b.N {
		s, err := Dial(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Run(ctx, Script("Get-CsTenant"), RunOptions{}); err != nil {
			b.Fatal(err)
		}
		if err := s.Close(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

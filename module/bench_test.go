package module

import (
	"io"
	"net/http"
	"slices"
	"testing"
	"time"
)

// BenchmarkOverhead compares a module cmdlet (parse, bind, token, call,
// JSON to objects) with the same HTTP call made directly, on one
// connection-pooling client: the difference is what psgate adds to the
// backend's own latency.
func BenchmarkOverhead(b *testing.B) {
	ts := newTokenService(b)
	be := newBackend(b, ts, "urn:contoso:widgets", 50)
	e := newEnv(b, ts, adele, exampleModule(b, be.url, nil))
	e.mustRun(`New-Widget One -Color Green -Size 3`)
	be.takeCalls()
	tok, err := ts.tokens.BackendToken(b.Context(), adele.Principal, adele.Roles, "urn:contoso:widgets")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("direct", func(b *testing.B) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
		var took []time.Duration
		defer func() { reportP50(b, took) }()
		for b.Loop() {
			start := time.Now()
			req, _ := http.NewRequestWithContext(b.Context(), http.MethodGet, be.url+"/api/widgets/w-1", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			took = append(took, time.Since(start))
		}
		be.takeCalls()
	})
	b.Run("cmdlet", func(b *testing.B) {
		var took []time.Duration
		defer func() { reportP50(b, took) }()
		for b.Loop() {
			start := time.Now()
			s := &sink{}
			if err := e.rs.RunScript(b.Context(), `Get-Widget w-1`, nil, s); err != nil || len(s.out) != 1 {
				b.Fatal(err)
			}
			took = append(took, time.Since(start))
		}
		be.takeCalls()
	})
}

// reportP50 reports the median and 99th percentile of the iterations'
// durations, in microseconds: the target is on the p50.
func reportP50(b *testing.B, took []time.Duration) {
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
}

package gateway

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/metrics"
	"github.com/psgate/psgate/wsman"
)

// The action label is one of a closed set whatever URI a client sends.
func TestActionNameIsBounded(t *testing.T) {
	for _, tc := range []struct {
		env  *wsman.Envelope
		want string
	}{
		{nil, "none"},
		{&wsman.Envelope{Identify: true}, "Identify"},
		{&wsman.Envelope{Action: wsman.ActionReceive}, "Receive"},
		{&wsman.Envelope{Action: wsman.ActionCreate}, "Create"},
		{&wsman.Envelope{Action: "http://attacker.example/" + fmt.Sprint(12345)}, "other"},
	} {
		if got := actionName(tc.env); got != tc.want {
			t.Errorf("actionName(%+v) = %q, want %q", tc.env, got, tc.want)
		}
	}
}

// syntheticGateway holds n open shells over tenants tenants, a fifth of
// them disconnected, a third WinRS.
func syntheticGateway(n, tenants int) *Gateway {
	g := &Gateway{shells: newRegistry()}
	for i := range n {
		s := &shell{id: fmt.Sprintf("S-%06d", i), kind: kindPSRP, state: "Connected",
			owner: psgate.Principal{Tenant: fmt.Sprintf("tenant-%04d", (i*7919)%tenants)}}
		if i%3 == 0 {
			s.kind = kindWinRS
		}
		if i%5 == 0 {
			s.state = "Disconnected"
		}
		g.shells.add(s)
	}
	return g
}

func TestShellCounts(t *testing.T) {
	g := syntheticGateway(100, 10)
	total, disconnected := 0, 0
	for _, c := range g.ShellCounts() {
		total += c.Shells
		if c.Disconnected {
			disconnected += c.Shells
		}
	}
	if total != 100 || disconnected != 20 {
		t.Fatalf("ShellCounts: %d shells, %d disconnected; want 100, 20", total, disconnected)
	}
}

// One scrape of the shell gauges as the server wires them, from the
// gateway's registry of 10,000 open shells over 1,000 tenants to the
// encoded exposition. Budget: 100 ms.
func BenchmarkScrapeShells10k(b *testing.B) {
	g := syntheticGateway(10000, 1000)
	m, err := metrics.New(metrics.Config{Shells: func() []metrics.ShellCount {
		counts := g.ShellCounts()
		out := make([]metrics.ShellCount, len(counts))
		for i, c := range counts {
			out[i] = metrics.ShellCount{Tenant: c.Tenant, Kind: c.Kind, Disconnected: c.Disconnected, Shells: c.Shells}
		}
		return out
	}})
	if err != nil {
		b.Fatal(err)
	}
	h := m.Handler()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}

package metrics

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate"
)

// scrape serves one scrape of m and returns its samples by series
// ("name{label="value",...}" as written).
func scrape(t testing.TB, m *Metrics) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: status %d: %s", rec.Code, rec.Body)
	}
	return parseText(t, rec.Body.String())
}

// parseText reads the samples of Prometheus' text format.
func parseText(t testing.TB, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func shells(tenant string, kind psgate.ShellKind, disconnected bool, n int) ShellCount {
	return ShellCount{Tenant: tenant, Kind: kind, Disconnected: disconnected, Shells: n}
}

// Only the tenants with the most shells get their own series; the others
// are summed under "(other)", and the node's totals count everyone.
func TestShellGaugesKeepTopTenants(t *testing.T) {
	counts := []ShellCount{
		shells("alpha", psgate.KindPSRP, false, 5),
		shells("alpha", psgate.KindWinRS, true, 1),
		shells("beta", psgate.KindPSRP, false, 2),
		shells("beta", psgate.KindPSRP, true, 2),
		shells("gamma", psgate.KindWinRS, false, 3),
		shells("delta", psgate.KindPSRP, true, 1),
		shells("omega", psgate.KindWinRS, false, 0), // no shells: no tenant
	}
	m, err := New(Config{Shells: func() []ShellCount { return counts }, TopTenants: 2})
	if err != nil {
		t.Fatal(err)
	}
	got := scrape(t, m)
	want := map[string]float64{
		`psgate_shells{protocol="psrp",state="connected",tenant="alpha"}`:      5,
		`psgate_shells{protocol="winrs",state="disconnected",tenant="alpha"}`:  1,
		`psgate_shells{protocol="winrs",state="connected",tenant="alpha"}`:     0,
		`psgate_shells{protocol="psrp",state="connected",tenant="beta"}`:       2,
		`psgate_shells{protocol="psrp",state="disconnected",tenant="beta"}`:    2,
		`psgate_shells{protocol="winrs",state="connected",tenant="(other)"}`:   3,
		`psgate_shells{protocol="psrp",state="disconnected",tenant="(other)"}`: 1,
		`psgate_shells{protocol="psrp",state="connected",tenant="(other)"}`:    0,
		`psgate_node_shells{protocol="psrp",state="connected"}`:                7,
		`psgate_node_shells{protocol="psrp",state="disconnected"}`:             3,
		`psgate_node_shells{protocol="winrs",state="connected"}`:               3,
		`psgate_node_shells{protocol="winrs",state="disconnected"}`:            1,
		`psgate_shell_tenants`: 4,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	for k := range got {
		for _, hidden := range []string{"gamma", "delta", "omega"} {
			if strings.Contains(k, `tenant="`+hidden+`"`) {
				t.Errorf("tenant %s outside the top 2 has its own series %s", hidden, k)
			}
		}
	}
}

// Equal counts are ranked by name, so the series shown do not change
// from one scrape to the next.
func TestShellGaugesTiesAreStable(t *testing.T) {
	counts := []ShellCount{
		shells("c", psgate.KindPSRP, false, 1),
		shells("a", psgate.KindPSRP, false, 1),
		shells("b", psgate.KindPSRP, false, 1),
	}
	m, err := New(Config{Shells: func() []ShellCount { return counts }, TopTenants: 2})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		got := scrape(t, m)
		for _, tn := range []string{"a", "b"} {
			if got[`psgate_shells{protocol="psrp",state="connected",tenant="`+tn+`"}`] != 1 {
				t.Fatalf("tenant %s not shown: %v", tn, got)
			}
		}
		if _, ok := got[`psgate_shells{protocol="psrp",state="connected",tenant="c"}`]; ok {
			t.Fatal("tenant c shown instead of a or b")
		}
	}
}

// The observers' events land in their counters and histograms with
// bounded labels.
func TestObserverEvents(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m, err := New(Config{
		Lease: func() LeaseState { return LeaseState{Registered: true, Deadline: now.Add(30 * time.Second)} },
		Now:   func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	m.Request("Create", 200)
	m.Request("Create", 200)
	m.Request("none", 401)
	m.Admission(psgate.KindPSRP, "", 3*time.Millisecond)
	m.Admission(psgate.KindPSRP, psgate.CodeUserQuotaExceeded, time.Millisecond)
	m.Pipeline(psgate.KindWinRS, []string{"Get-CsTenant", "Select-Object"}, "", 2*time.Millisecond)
	m.Pipeline(psgate.KindPSRP, []string{"Get-CsTenant"}, psgate.CodePipelineStopped, time.Second)
	m.Pipeline(psgate.KindPSRP, []string{CmdletUnknown}, psgate.CodeCommandNotFound, time.Millisecond)
	m.Renewal(4*time.Millisecond, nil)
	m.Renewal(time.Second, fmt.Errorf("store down"))
	m.TokenIssued("password")
	m.Lockout(ScopeAccount)
	got := scrape(t, m)
	want := map[string]float64{
		`psgate_http_requests_total{action="Create",status="200"}`:                2,
		`psgate_http_requests_total{action="none",status="401"}`:                  1,
		`psgate_admissions_total{protocol="psrp"}`:                                1,
		`psgate_admissions_total{protocol="winrs"}`:                               0,
		`psgate_admission_refusals_total{code="admission.user-quota-exceeded"}`:   1,
		`psgate_admission_duration_seconds_count{result="admitted"}`:              1,
		`psgate_admission_duration_seconds_count{result="refused"}`:               1,
		`psgate_commands_total{cmdlet="Get-CsTenant",outcome="ok"}`:               1,
		`psgate_commands_total{cmdlet="Select-Object",outcome="ok"}`:              1,
		`psgate_commands_total{cmdlet="Get-CsTenant",outcome="stopped"}`:          1,
		`psgate_commands_total{cmdlet="(unknown)",outcome="error"}`:               1,
		`psgate_pipeline_duration_seconds_count{protocol="psrp"}`:                 2,
		`psgate_pipeline_duration_seconds_count{protocol="winrs"}`:                1,
		`psgate_lease_renewal_duration_seconds_count{result="ok"}`:                1,
		`psgate_lease_renewal_duration_seconds_count{result="failed"}`:            1,
		`psgate_tokens_issued_total{grant_type="password"}`:                       1,
		`psgate_lockouts_total{scope="account"}`:                                  1,
		`psgate_lockouts_total{scope="address"}`:                                  0,
		`psgate_lease_registered`:                                                 1,
		`psgate_lease_draining`:                                                   0,
		`psgate_lease_deadline_seconds`:                                           30,
		`psgate_build_info{version="` + psgate.Version + `"}`:                     1,
		`psgate_pipeline_duration_seconds_bucket{protocol="winrs",le="0.0025"}`:   1,
		`psgate_admission_duration_seconds_bucket{result="admitted",le="0.0025"}`: 0,
		`psgate_lease_renewal_duration_seconds_bucket{result="failed",le="+Inf"}`: 1,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	if _, ok := got["go_goroutines"]; !ok {
		t.Error("the Go runtime's metrics are missing")
	}
}

// Two Metrics never share state: each has its own registry.
func TestMetricsAreNotGlobal(t *testing.T) {
	a, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	a.TokenIssued("password")
	if got := scrape(t, b)[`psgate_tokens_issued_total{grant_type="password"}`]; got != 0 {
		t.Fatalf("a token counted in a shows in b: %v", got)
	}
}

// syntheticShells is a node with n shells spread over tenants tenants,
// in every protocol and state.
func syntheticShells(n, tenants int) []ShellCount {
	type key struct {
		tenant       int
		kind         psgate.ShellKind
		disconnected bool
	}
	m := map[key]int{}
	for i := range n {
		k := key{tenant: (i * 7919) % tenants, kind: psgate.KindPSRP, disconnected: i%5 == 0}
		if i%3 == 0 {
			k.kind = psgate.KindWinRS
		}
		// Skew: low-numbered tenants hold more shells.
		if i%2 == 0 {
			k.tenant = k.tenant % (tenants/10 + 1)
		}
		m[k]++
	}
	out := make([]ShellCount, 0, len(m))
	for k, c := range m {
		out = append(out, ShellCount{Tenant: fmt.Sprintf("tenant-%04d", k.tenant), Kind: k.kind, Disconnected: k.disconnected, Shells: c})
	}
	return out
}

// A whole scrape (collect, encode) of a node with 10,000 shells over
// 1,000 tenants; the budget is 100 ms a scrape.
func BenchmarkScrape10kShells1kTenants(b *testing.B) {
	counts := syntheticShells(10000, 1000)
	m, err := New(Config{Shells: func() []ShellCount { return counts }})
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

// The hot-path observer calls, per request and per command.
func BenchmarkObserveRequest(b *testing.B) {
	m, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Request("Receive", 200)
		}
	})
}

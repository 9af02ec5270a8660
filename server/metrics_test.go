package server

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/masterzen/winrm"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/client"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/store"
)

const adminTestPassword = "Metrics-Test-Pa55"

// offsetClock is the real clock moved forward by a test, so that the
// lease keeper's next renewal can be brought forward without waiting.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) Advance(d time.Duration) { c.off.Add(int64(d)) }

// adminServer is a running server with its admin listener.
type adminServer struct {
	*Server
	clock    *offsetClock
	httpURL  string
	adminURL string
}

// startAdminServer runs a server with an admin listener (and adjust's
// changes to its configuration) until the test ends.
func startAdminServer(t *testing.T, adjust func(*Config)) *adminServer {
	t.Helper()
	clk := &offsetClock{}
	logw := io.Discard
	if os.Getenv("PSGATE_TEST_LOG") != "" {
		logw = os.Stderr
	}
	cfg := Config{
		DataDir:           t.TempDir(),
		HTTPAddr:          "127.0.0.1:0",
		AdminAddr:         "127.0.0.1:0",
		BootstrapPassword: adminTestPassword,
		PasswordParams:    password.Fast(),
		Logger:            slog.New(slog.NewTextHandler(logw, nil)),
		Now:               clk.Now,
	}
	if adjust != nil {
		adjust(&cfg)
	}
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, 5*time.Second) }()
	t.Cleanup(func() { cancel(); <-done })
	in := s.Info()
	if in.AdminURL == "" && cfg.AdminAddr != "" {
		t.Fatal("Info().AdminURL is empty with an admin listener")
	}
	return &adminServer{Server: s, clock: clk, httpURL: in.HTTPURL, adminURL: in.AdminURL}
}

// get fetches url and returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// scrapeText fetches the admin listener's /metrics.
func (as *adminServer) scrapeText(t *testing.T) string {
	t.Helper()
	code, body := get(t, as.adminURL+PathMetrics)
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", code, body)
	}
	return body
}

// samples reads the samples of Prometheus' text format by series, as
// written: name{label="value",...}.
func samples(t *testing.T, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
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

// checkSamples fails for every series in want whose value differs.
func checkSamples(t *testing.T, got map[string]float64, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present: %v), want %v", k, g, ok, v)
		}
	}
}

// promtool checks the exposition with Prometheus' own linter. It is
// Debian's prometheus package, which scripts/test.sh installs: missing,
// the test skips on a developer machine and fails under CI=true.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		msg := "promtool not found (apt-get install prometheus, as scripts/test.sh does)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// addTenant creates a tenant whose administrator signs in with a
// password.
func addTenant(t *testing.T, st store.Store, name, upn, pw string) {
	t.Helper()
	hash, err := password.Hash(pw, password.Fast())
	if err != nil {
		t.Fatal(err)
	}
	pol := store.DefaultPolicy()
	pol.AllowPasswordAuthentication = true
	if _, err := st.CreateTenant(context.Background(), store.Tenant{Name: name, Domain: name + ".test", DisplayName: name, Policy: pol},
		store.FirstAdmin{User: store.User{UPN: upn, DisplayName: upn, Enabled: true, PasswordHash: hash}, AssignedBy: "test"}); err != nil {
		t.Fatal(err)
	}
}

// masterzen is the stock Go WinRS client for the plain-HTTP endpoint
// rawURL (servertest.Masterzen, which imports this package).
func masterzen(t *testing.T, rawURL, user, pw string) *winrm.Client {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	c, err := winrm.NewClient(winrm.NewEndpoint(u.Hostname(), port, false, true, nil, nil, nil, 0), user, pw)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func dialPSRP(t *testing.T, endpoint, user, pw string) (*client.Session, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := client.Dial(ctx, client.Config{Endpoint: endpoint, User: user, Password: pw})
	if err == nil {
		t.Cleanup(func() { _ = s.Close(context.Background()) })
	}
	return s, err
}

// Stock and psgate clients open shells in two tenants; the scrape shows
// the shells per tenant (the smaller tenant folded into "(other)" with a
// top of one), the quota refusal by its code, the commands by cmdlet and
// outcome, the requests by action and the token issued; promtool accepts
// the exposition; closing the shells brings the gauges back to zero.
func TestMetricsFromRealClients(t *testing.T) {
	pt := promtool(t)
	as := startAdminServer(t, func(c *Config) { c.MetricsTopTenants = 1 })
	ctx := context.Background()
	const fabAdmin, fabPassword = "admin@fabrikam.test", "Fabrikam-Pa55word"
	addTenant(t, as.Store(), "fabrikam", fabAdmin, fabPassword)

	// contoso's administrator: two PSRP sessions and a WinRS shell fill
	// the default quota of 3; a fourth is refused.
	var sessions []*client.Session
	for range 2 {
		s, err := dialPSRP(t, as.httpURL, DemoAdmin, adminTestPassword)
		if err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, s)
	}
	wc := masterzen(t, as.httpURL, DemoAdmin, adminTestPassword)
	shell, err := wc.CreateShell()
	if err != nil {
		t.Fatalf("WinRS shell: %v", err)
	}
	if _, err := dialPSRP(t, as.httpURL, DemoAdmin, adminTestPassword); psgate.CodeOf(err) != psgate.CodeUserQuotaExceeded {
		t.Fatalf("fourth shell: %v, want %s", err, psgate.CodeUserQuotaExceeded)
	}
	fab, err := dialPSRP(t, as.httpURL, fabAdmin, fabPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sessions[0].Run(ctx, client.Script("Get-CsTenant"), client.RunOptions{}); err != nil {
		t.Fatalf("Get-CsTenant: %v", err)
	}
	if res, err := sessions[1].Run(ctx, client.Script("Get-NoSuchThing"), client.RunOptions{}); err == nil && res.Err() == nil {
		t.Fatal("Get-NoSuchThing ran")
	}
	if _, err := fab.Run(ctx, client.Pipe(client.NewCmd("Get-CsTenant"), client.NewCmd("Select-Object").Param("Property", "DisplayName")), client.RunOptions{}); err != nil {
		t.Fatalf("Get-CsTenant | Select-Object: %v", err)
	}
	// A token from the token endpoint (password grant).
	resp, err := http.PostForm(strings.TrimSuffix(as.httpURL, "/wsman")+"/oauth2/token", url.Values{
		"grant_type": {"password"}, "client_id": {"psgate"}, "username": {DemoAdmin}, "password": {adminTestPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("password grant: %s", resp.Status)
	}

	text := as.scrapeText(t)
	got := samples(t, text)
	checkSamples(t, got, map[string]float64{
		`psgate_shells{protocol="psrp",state="connected",tenant="contoso"}`:  2,
		`psgate_shells{protocol="winrs",state="connected",tenant="contoso"}`: 1,
		`psgate_shells{protocol="psrp",state="connected",tenant="(other)"}`:  1,
		`psgate_node_shells{protocol="psrp",state="connected"}`:              3,
		`psgate_node_shells{protocol="winrs",state="connected"}`:             1,
		`psgate_shell_tenants`:                                                  2,
		`psgate_admissions_total{protocol="psrp"}`:                              3,
		`psgate_admissions_total{protocol="winrs"}`:                             1,
		`psgate_admission_refusals_total{code="admission.user-quota-exceeded"}`: 1,
		`psgate_admission_duration_seconds_count{result="admitted"}`:            4,
		`psgate_admission_duration_seconds_count{result="refused"}`:             1,
		`psgate_commands_total{cmdlet="Get-CsTenant",outcome="ok"}`:             2,
		`psgate_commands_total{cmdlet="Select-Object",outcome="ok"}`:            1,
		`psgate_commands_total{cmdlet="(unknown)",outcome="error"}`:             1,
		`psgate_tokens_issued_total{grant_type="password"}`:                     1,
		`psgate_lease_registered`:                                               1,
		`psgate_lease_draining`:                                                 0,
		`psgate_http_requests_total{action="Create",status="200"}`:              4,
		`psgate_pipeline_duration_seconds_count{protocol="psrp"}`:               3,
		`psgate_pipeline_duration_seconds_count{protocol="winrs"}`:              0,
		`psgate_lockouts_total{scope="account"}`:                                0,
		`psgate_build_info{version="` + psgate.Version + `"}`:                   1,
	})
	for k := range got {
		if strings.Contains(k, `tenant="fabrikam"`) {
			t.Errorf("fabrikam, outside the top 1, has its own series %s", k)
		}
	}
	if n := got[`psgate_http_requests_total{action="Create",status="500"}`]; n != 1 {
		t.Errorf("refused Create counted %v times with status 500, want 1", n)
	}
	if d := got[`psgate_lease_deadline_seconds`]; d <= 0 || d > 45 {
		t.Errorf("psgate_lease_deadline_seconds = %v, want in (0, 45]", d)
	}
	cmd := exec.Command(pt, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}

	// Closing every shell empties the gauges.
	if err := shell.Close(); err != nil {
		t.Fatal(err)
	}
	for _, s := range append(sessions, fab) {
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// A request is counted once its answer is written, a moment after
	// the client has read it.
	deadline := time.Now().Add(5 * time.Second)
	for samples(t, as.scrapeText(t))[`psgate_http_requests_total{action="Delete",status="200"}`] < 4 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	checkSamples(t, samples(t, as.scrapeText(t)), map[string]float64{
		`psgate_shells{protocol="psrp",state="connected",tenant="(other)"}`: 0,
		`psgate_node_shells{protocol="psrp",state="connected"}`:             0,
		`psgate_node_shells{protocol="winrs",state="connected"}`:            0,
		`psgate_shell_tenants`: 0,
		`psgate_http_requests_total{action="Delete",status="200"}`: 4,
	})
}

// waitReady polls /readyz until its status is want, and returns the last
// body.
func waitReady(t *testing.T, url string, want int, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, body := get(t, url)
		if code == want {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %d %q after %v, want %d", url, code, body, within, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// An operator's drain makes the node not ready (with the reason) from its
// next lease renewal; undraining makes it ready again. /healthz answers
// throughout, and pprof is on the admin listener.
func TestReadinessFollowsDrain(t *testing.T) {
	as := startAdminServer(t, nil)
	ctx := context.Background()
	waitReady(t, as.adminURL+PathReadyz, http.StatusOK, 10*time.Second)
	if err := as.Store().SetDraining(ctx, as.adm.NodeID(), true); err != nil {
		t.Fatal(err)
	}
	// The flag reaches the node at its next renewal: bring it forward.
	as.clock.Advance(11 * time.Second)
	body := waitReady(t, as.adminURL+PathReadyz, http.StatusServiceUnavailable, 10*time.Second)
	if !strings.Contains(body, "draining") {
		t.Errorf("/readyz while draining says %q, want the reason", body)
	}
	got := samples(t, as.scrapeText(t))
	if got["psgate_lease_draining"] != 1 {
		t.Errorf("psgate_lease_draining = %v while draining, want 1", got["psgate_lease_draining"])
	}
	if n := got[`psgate_lease_renewal_duration_seconds_count{result="ok"}`]; n < 1 {
		t.Errorf("renewals counted: %v, want at least the one that read the drain", n)
	}
	if code, _ := get(t, as.adminURL+PathHealthz); code != http.StatusOK {
		t.Errorf("/healthz while draining: %d, want 200", code)
	}
	if err := as.Store().SetDraining(ctx, as.adm.NodeID(), false); err != nil {
		t.Fatal(err)
	}
	as.clock.Advance(11 * time.Second)
	waitReady(t, as.adminURL+PathReadyz, http.StatusOK, 10*time.Second)
	if code, body := get(t, as.adminURL+"/debug/pprof/cmdline"); code != http.StatusOK || body == "" {
		t.Errorf("GET /debug/pprof/cmdline: %d %q", code, body)
	}
}

// HealthOnPublic serves the health endpoints on the public listener under
// /psgate, without the store's error text; without it those paths are the
// WS-Man endpoint's.
func TestHealthOnPublicListener(t *testing.T) {
	as := startAdminServer(t, func(c *Config) { c.HealthOnPublic = true })
	base := strings.TrimSuffix(as.httpURL, "/wsman")
	waitReady(t, base+PublicHealth+PathReadyz, http.StatusOK, 10*time.Second)
	if code, body := get(t, base+PublicHealth+PathHealthz); code != http.StatusOK || body != "ok\n" {
		t.Errorf("public healthz: %d %q", code, body)
	}
	plain := startAdminServer(t, func(c *Config) { c.AdminAddr = "" })
	if plain.Info().AdminURL != "" {
		t.Errorf("AdminURL = %q with the admin listener disabled", plain.Info().AdminURL)
	}
	if code, _ := get(t, strings.TrimSuffix(plain.httpURL, "/wsman")+PublicHealth+PathReadyz); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /psgate/readyz without HealthOnPublic: %d, want the gateway's 405", code)
	}
	// The readiness check answers many load balancers with one store
	// ping a second.
	var buf bytes.Buffer
	for range 20 {
		code, body := get(t, base+PublicHealth+PathReadyz)
		if code != http.StatusOK {
			buf.WriteString(body)
		}
	}
	if buf.Len() > 0 {
		t.Errorf("readyz flapped under polling: %s", buf.String())
	}
}

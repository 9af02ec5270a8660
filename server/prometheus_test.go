package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/internal/freeport"
)

// startPrometheus runs a real Prometheus server (Debian's prometheus
// package, which scripts/test.sh installs: missing, the test skips on a
// developer machine and fails under CI=true) scraping target every
// second, and returns its base URL.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		msg := "prometheus not found (apt-get install prometheus, as scripts/test.sh does)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: psgate
    static_configs:
      - targets: [%q]
`, target)), 0o600); err != nil {
		t.Fatal(err)
	}
	// A free port for its web listener.
	addr := freeport.Addr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+conf, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	})
	return "http://" + addr
}

// promQuery runs an instant PromQL query and returns its vector's values
// by the value of label.
func promQuery(base, query, label string) (map[string]string, error) {
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %s: status %q", query, r.Status)
	}
	out := map[string]string{}
	for _, s := range r.Data.Result {
		v, _ := s.Value[1].(string)
		out[s.Metric[label]] = v
	}
	return out, nil
}

// A real Prometheus server scrapes the admin listener, and PromQL reads
// the shells per tenant from it.
func TestPrometheusScrapesShellsPerTenant(t *testing.T) {
	as := startAdminServer(t, nil)
	const fabAdmin, fabPassword = "admin@fabrikam.test", "Fabrikam-Pa55word"
	addTenant(t, as.Store(), "fabrikam", fabAdmin, fabPassword)
	for range 2 {
		if _, err := dialPSRP(t, as.httpURL, DemoAdmin, adminTestPassword); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := dialPSRP(t, as.httpURL, fabAdmin, fabPassword); err != nil {
		t.Fatal(err)
	}
	prom := startPrometheus(t, strings.TrimPrefix(as.adminURL, "http://"))
	query := `sum by (tenant) (psgate_shells{job="psgate",tenant!="(other)"})`
	want := map[string]string{"contoso": "2", "fabrikam": "1"}
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := promQuery(prom, query, "tenant")
		if err == nil && got["contoso"] == want["contoso"] && got["fabrikam"] == want["fabrikam"] && len(got) == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("PromQL %s = %v (%v), want %v", query, got, err, want)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

package identity

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/metrics"
)

// metricValue scrapes m and returns the value of one series, as written
// in the text format.
func metricValue(t *testing.T, m *metrics.Metrics, series string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no series %s in the scrape", series)
	return 0
}

// The token service reports the tokens it issues by grant type, and the
// lock a run of failed sign-ins starts, to the metrics.
func TestObserverCountsTokensAndLockouts(t *testing.T) {
	m, err := metrics.New(metrics.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, behindProxy, func(c *ServiceConfig) { c.Observer = m })
	const stranger = "203.0.113.66"
	if r := f.grantFrom("192.0.2.44", "alice@contoso.test", alicePW); r.Status != http.StatusOK {
		t.Fatalf("sign-in = %s", r.Raw)
	}
	if got := metricValue(t, m, `psgate_tokens_issued_total{grant_type="password"}`); got != 1 {
		t.Errorf("tokens issued (password) = %v, want 1", got)
	}
	var r oauthReply
	for i := range 5 {
		r = f.grantFrom(stranger, "alice@contoso.test", "guess-"+strconv.Itoa(i))
	}
	if psgate.Code(r.Code) != psgate.CodeAccountLocked {
		t.Fatalf("fifth wrong password = %s, want account-locked", r.Raw)
	}
	// Refused while locked: no new lock.
	f.grantFrom(stranger, "alice@contoso.test", "guess-5")
	if got := metricValue(t, m, `psgate_lockouts_total{scope="account"}`); got != 1 {
		t.Errorf("account lockouts = %v, want 1", got)
	}
	if got := metricValue(t, m, `psgate_tokens_issued_total{grant_type="password"}`); got != 1 {
		t.Errorf("tokens issued (password) after refusals = %v, want 1", got)
	}
}

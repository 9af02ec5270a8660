package doctor

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/client"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/server"
)

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"0.1.0", "0.1.0", 0},
		{"0.0.9", "0.1.0", -1},
		{"1.2.10", "1.2.9", 1},
		{"v1.2", "1.2.0", 0},
		{"1.3.0-rc1", "1.3.0", 0},
		{"2", "10.0", -1},
	}
	for _, tt := range tests {
		if got := compareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestDoctorVersionAndProxy(t *testing.T) {
	ls := startServer(t)
	admin := client.Config{Endpoint: ls.httpURL, User: server.DemoAdmin, Password: adminPassword}
	proxied := admin
	proxied.HTTPClient = &http.Client{Transport: &http.Transport{Proxy: func(r *http.Request) (*url.URL, error) {
		if strings.Contains(r.URL.Path, "oauth2") {
			return nil, nil // as NO_PROXY would for the identity service
		}
		return url.Parse("http://ops:s3cret@proxy.example:3128")
	}}}
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	tests := []struct {
		name      string
		target    Target
		check     string
		wantState Status
		wantCode  psgate.Code
		wantText  []string
		notText   string
	}{
		{"current connector", Target{Config: admin, TokenURL: ls.tokenURL()}, CheckVersion, Passed, "",
			[]string{"connector " + psgate.Version, "at least " + psgate.MinConnectorVersion}, ""},
		{"connector too old", Target{Config: admin, TokenURL: ls.tokenURL(), Version: "0.0.1"}, CheckVersion, Failed, psgate.CodeClientTooOld,
			[]string{"version 0.0.1", "requires at least " + psgate.MinConnectorVersion, "Update psgate"}, ""},
		{"no identity service", Target{Config: admin}, CheckVersion, Skipped, "", nil, ""},
		{"no proxy", Target{Config: admin, TokenURL: ls.tokenURL(), Getenv: env(nil)}, CheckProxy, Passed, "",
			[]string{"no proxy variables set", strings.TrimPrefix(strings.TrimSuffix(ls.httpURL, "/wsman"), "http://") + " direct"}, ""},
		{"proxy for the gateway only", Target{Config: proxied, TokenURL: ls.tokenURL(),
			Getenv: env(map[string]string{"HTTPS_PROXY": "http://ops:s3cret@proxy.example:3128", "NO_PROXY": "127.0.0.1"})},
			CheckProxy, Passed, "", []string{"HTTPS_PROXY=http://ops:xxxxx@proxy.example:3128", "NO_PROXY=127.0.0.1",
				"via proxy http://ops:xxxxx@proxy.example:3128", " direct"}, "s3cret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := diagnose(t, tt.target)[tt.check]
			if r.Status != tt.wantState || r.Code != tt.wantCode {
				t.Fatalf("%s = %+v, want %s %s", tt.check, r, tt.wantState, tt.wantCode)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(r.Message+" "+r.Resolution, want) {
					t.Errorf("%s: %q / %q does not mention %q", tt.check, r.Message, r.Resolution, want)
				}
			}
			if tt.notText != "" && strings.Contains(r.Message, tt.notText) {
				t.Errorf("%s shows %q: %s", tt.check, tt.notText, r.Message)
			}
		})
	}
}

func TestDoctorExpiredToken(t *testing.T) {
	ls := startServer(t)
	cache := &client.TokenCache{Dir: t.TempDir()}
	expired := &client.Token{User: server.DemoAdmin, Tenant: "contoso.test", TokenURL: ls.tokenURL(),
		AccessToken: "eyJ.expired.token", ExpiresAt: time.Now().Add(-2 * time.Hour)}
	if err := cache.Save(expired); err != nil {
		t.Fatal(err)
	}
	src := &client.CachedTokenSource{OAuth: &client.OAuth{TokenURL: ls.tokenURL()}, Cache: cache, User: server.DemoAdmin}
	got := diagnose(t, Target{Config: client.Config{Endpoint: ls.httpURL, User: server.DemoAdmin, Tokens: src}, TokenURL: ls.tokenURL()})
	r := got[CheckSignIn]
	if r.Status != Failed || r.Code != psgate.CodeTokenExpired {
		t.Fatalf("%s = %+v, want failed with %s", CheckSignIn, r, psgate.CodeTokenExpired)
	}
	if !strings.Contains(r.Message, "The access token for '"+server.DemoAdmin+"' expired at") || !strings.Contains(r.Resolution, "psgate login") {
		t.Errorf("diagnosis %q, resolution %q", r.Message, r.Resolution)
	}
	for _, name := range []string{CheckSession, CheckQuota} {
		if got[name].Status != Skipped {
			t.Errorf("%s = %+v, want skipped", name, got[name])
		}
	}
}

// fakeClock is the server's clock in the lifetime test.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestDoctorAfterLifetimeReached(t *testing.T) {
	clk := &fakeClock{now: time.Now()}
	s, err := server.New(context.Background(), server.Config{
		DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0",
		BootstrapPassword: adminPassword, PasswordParams: password.Fast(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, 5*time.Second) }()
	t.Cleanup(func() { cancel(); <-done })
	cfg := client.Config{Endpoint: s.Info().HTTPURL, User: server.DemoAdmin, Password: adminPassword}

	sess, err := client.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// An hour of work: time passes in steps the server's timers would
	// take (quota leases are renewed on the way), with a command every 5
	// minutes so that the idle timeout (15 minutes) does not strike first.
	for step := 1; step <= 61*4; step++ {
		clk.Advance(15 * time.Second)
		s.Tick(ctx)
		if step%20 == 0 && step < 60*4 {
			if _, err := sess.Run(ctx, client.Script("Write-Output busy"), client.RunOptions{}); err != nil {
				t.Fatalf("command after %v: %v", time.Duration(step)*15*time.Second, err)
			}
		}
	}
	_, err = sess.Run(ctx, client.Script("Write-Output late"), client.RunOptions{})
	e, ok := psgate.AsError(err)
	if !ok || e.Code != psgate.CodeLifetimeReached {
		t.Fatalf("command after the lifetime: %v, want %s", err, psgate.CodeLifetimeReached)
	}
	if !strings.Contains(e.Message, "reached its lifetime") || !strings.Contains(e.Resolution, "reconnects by itself") {
		t.Errorf("diagnosis %q, resolution %q", e.Message, e.Resolution)
	}
	// Doctor then finds a healthy chain, and reports the lifetime the
	// session reached and that the closed session no longer counts.
	got := diagnose(t, Target{Config: cfg})
	for _, name := range []string{CheckSignIn, CheckSession, CheckQuota} {
		if got[name].Status != Passed {
			t.Errorf("%s = %+v, want passed", name, got[name])
		}
	}
	if q := got[CheckQuota].Message; !strings.Contains(q, "1 of 3 sessions") || !strings.Contains(q, "sessions close after 01:00:00") {
		t.Errorf("quota check %q, want 1 of 3 sessions and the 60-minute lifetime", q)
	}
}

// FuzzCompareVersions checks that any two version strings compare without
// panicking, antisymmetrically.
func FuzzCompareVersions(f *testing.F) {
	f.Add("0.1.0", "0.1.0")
	f.Add("v1.2.10", "1.2.9-rc1")
	f.Add("", "...")
	f.Fuzz(func(t *testing.T, a, b string) {
		if x, y := compareVersions(a, b), compareVersions(b, a); x != -y {
			t.Errorf("compareVersions(%q, %q) = %d but the reverse is %d", a, b, x, y)
		}
	})
}

// TestDoctorProxyFromEnvironment runs the proxy check in a child process
// (Go reads the proxy variables once per process) with HTTPS_PROXY,
// HTTP_PROXY and NO_PROXY set, as a user's shell would.
func TestDoctorProxyFromEnvironment(t *testing.T) {
	if os.Getenv("PSGATE_DOCTOR_PROXY_CHILD") == "1" {
		// Only the proxy check: it resolves routes without contacting
		// anything.
		checks, _ := Checks(Target{
			Config:   client.Config{Endpoint: "https://gw.contoso.example/powershell", User: server.DemoAdmin},
			TokenURL: "https://login.internal.example/oauth2/token",
		})
		for _, c := range checks {
			if c.Name == CheckProxy {
				r := c.Run(context.Background())
				fmt.Println("RESULT", r.Status, r.Message)
			}
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDoctorProxyFromEnvironment$")
	cmd.Env = append(os.Environ(), "PSGATE_DOCTOR_PROXY_CHILD=1",
		"HTTPS_PROXY=http://ops:s3cret@proxy.contoso.example:3128", "HTTP_PROXY=", "NO_PROXY=.internal.example",
		"https_proxy=", "http_proxy=", "no_proxy=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	got := string(out)
	for _, want := range []string{"RESULT passed", "HTTPS_PROXY=http://ops:xxxxx@proxy.contoso.example:3128", "NO_PROXY=.internal.example",
		"gw.contoso.example via proxy http://ops:xxxxx@proxy.contoso.example:3128", "login.internal.example direct"} {
		if !strings.Contains(got, want) {
			t.Errorf("proxy check output does not mention %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "s3cret") {
		t.Errorf("the proxy password is shown:\n%s", got)
	}
}

//go:build !connector

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/config"
	gw "github.com/psgate/psgate/gateway"
	"github.com/psgate/psgate/identity"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/metrics"
	"github.com/psgate/psgate/server"
)

func writeConfig(t *testing.T, name, text string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// The example shipped in dist/ is accepted as it is.
func TestConfigCheckAcceptsTheExampleFile(t *testing.T) {
	example := filepath.Join("..", "..", "dist", "psgate.toml")
	stdout, stderr, status, err := execute(t, "config", "check", example)
	if status != exitOK || err != nil {
		t.Fatalf("config check %s: status %d, %v\n%s", example, status, err, stderr)
	}
	if stdout != example+": ok\n" || stderr != "" {
		t.Errorf("stdout %q, stderr %q", stdout, stderr)
	}
	// And it sets every key there is, so that it documents them all.
	text, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range config.Settings() {
		name := s.Key[strings.LastIndexByte(s.Key, '.')+1:]
		if !strings.Contains(string(text), "\n"+name+" = ") && !strings.Contains(string(text), "\n# "+name+" = ") {
			t.Errorf("dist/psgate.toml lacks %s", s.Key)
		}
	}
}

func TestConfigCheckReportsEveryProblemAndFails(t *testing.T) {
	file := writeConfig(t, "psgate.toml", `[listen]
https = "localhost"
http = "0.0.0.0:5985"
[limits]
body_timeout = "forever"
max_connections = "many"
[tls]
cert = "/nonexistent/cert.pem"
[colour]
mode = "dark"
`, 0o644)
	stdout, stderr, status, err := execute(t, "config", "check", file)
	if status == exitOK || err == nil {
		t.Fatalf("config check of a bad file succeeded:\n%s%s", stdout, stderr)
	}
	for _, want := range []string{
		file + `:2: listen.https: "localhost" is not an address`,
		file + `:5: limits.body_timeout: "forever" is not a duration`,
		file + `:6: limits.max_connections: want a whole number, not a string`,
		file + `:9: unknown table [colour]`,
		// What depends on several values shows too: plain HTTP on the
		// network, a certificate without its key.
		file + ":3: listen.http: refusing plain HTTP on 0.0.0.0:5985",
		file + ":8: tls.cert is set but tls.key is not",
		"error: " + file + ": 6 problems; psgate serve would refuse it",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	_, stderr, status, _ = execute(t, "config", "check", filepath.Join(t.TempDir(), "absent.toml"))
	if status == exitOK || !strings.Contains(stderr, "cannot read the configuration file") {
		t.Errorf("absent file: status %d\n%s", status, stderr)
	}
}

// config show names the layer of every value: default, file:line, env
// and flag, in that order of precedence, and never prints a secret.
func TestConfigShowNamesEverySource(t *testing.T) {
	dsn := writeConfig(t, "dsn", "postgres://psgate:Sup3r-Secret@db.example.com/psgate\n", 0o600)
	file := writeConfig(t, "psgate.toml", `data_dir = "/srv/psgate"
[listen]
https = "127.0.0.1:7001"
[limits]
max_connections = 100
[log]
level = "warn"
`, 0o644)
	t.Setenv("PSGATE_CONFIG", file)
	t.Setenv("PSGATE_LISTEN_HTTPS", "127.0.0.1:7002")
	t.Setenv("PSGATE_STORE_DSN_FILE", dsn)
	t.Setenv("PSGATE_LOG_LEVEL", "debug")
	stdout, stderr, status, err := execute(t, "config", "show", "--log-level", "error")
	if status != exitOK {
		t.Fatalf("config show: %d %v\n%s", status, err, stderr)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n")[1:] {
		f := strings.Fields(line)
		rows[f[0]] = f[1:]
	}
	for key, want := range map[string]string{
		"data_dir":               "/srv/psgate file " + file + ":1",
		"listen.https":           "127.0.0.1:7002 env PSGATE_LISTEN_HTTPS",
		"listen.http":            "127.0.0.1:5985 default",
		"limits.max_connections": "100 file " + file + ":5",
		"log.level":              "error flag --log-level",
		"store.dsn":              "postgres://psgate:xxxxx@db.example.com/psgate env PSGATE_STORE_DSN_FILE (read from " + dsn + ")",
	} {
		if got := strings.Join(rows[key], " "); got != want {
			t.Errorf("%s: %q, want %q", key, got, want)
		}
	}
	if strings.Contains(stdout+stderr, "Sup3r-Secret") {
		t.Errorf("config show prints the store password:\n%s", stdout)
	}

	stdout, _, status, err = execute(t, "config", "show", "--output", "json")
	var values []configValueJSON
	if status != exitOK || json.Unmarshal([]byte(stdout), &values) != nil {
		t.Fatalf("config show --output json: %d %v\n%s", status, err, stdout)
	}
	if len(values) != len(config.Settings())-2 { // less the two *_file keys
		t.Errorf("%d values, want one per setting", len(values))
	}
	for _, v := range values {
		if v.Key == "log.level" && (v.Value != "debug" || v.Source != "env PSGATE_LOG_LEVEL" || v.Flag != "--log-level" || v.Env != "PSGATE_LOG_LEVEL" || v.Default != "info") {
			t.Errorf("log.level: %+v", v)
		}
	}
}

func TestConfigShowWarnsOfAPasswordOnTheCommandLine(t *testing.T) {
	t.Setenv("PSGATE_CONFIG", "")
	stdout, stderr, status, _ := execute(t, "config", "show", "--store", "postgres://psgate:Sup3r-Secret@db/psgate")
	if status != exitOK || !strings.Contains(stderr, "warning: flag --store: store.dsn: the store password is on the command line") {
		t.Errorf("status %d, stderr:\n%s", status, stderr)
	}
	if strings.Contains(stdout+stderr, "Sup3r-Secret") {
		t.Errorf("the password is printed:\n%s", stdout)
	}
	_, stderr, status, _ = execute(t, "config", "show", "--max-connections", "none")
	if status == exitOK || !strings.Contains(stderr, `flag --max-connections: limits.max_connections: "none": want a whole number`) {
		t.Errorf("bad flag: status %d\n%s", status, stderr)
	}
}

// The config package keeps its own copy of the server's defaults (it may
// not import the server); they must agree.
func TestConfigDefaultsAgreeWithTheServer(t *testing.T) {
	if config.DefaultBodyTimeout != server.DefaultBodyTimeout || config.DefaultMaxConnections != server.DefaultMaxConnections ||
		config.DefaultAuditRetention != server.DefaultAuditRetention ||
		config.DefaultPartialShell != gw.DefaultPartialShell || config.DefaultPartialUser != gw.DefaultPartialUser ||
		config.DefaultPartialTenant != gw.DefaultPartialTenant || config.DefaultPartialProcess != gw.DefaultPartialProcess {
		t.Errorf("limits differ from the server's")
	}
	p := password.Default()
	if config.DefaultPasswordMemoryKiB != p.Memory || config.DefaultPasswordIterations != p.Time || config.DefaultPasswordThreads != p.Threads {
		t.Errorf("password hashing defaults differ: %+v", p)
	}
	c, err := config.Load(config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sc := serverConfig(c, nil)
	if sc.PasswordParams != p || sc.MaxEnvelopeSize != 512000 || sc.AuditRetention != server.DefaultAuditRetention {
		t.Errorf("server configuration from the defaults: %+v", sc)
	}
	if config.DefaultAdmin != server.DefaultAdminAddr || config.DefaultTopTenants != metrics.DefaultTopTenants ||
		sc.AdminAddr != server.DefaultAdminAddr || !sc.AdminOptional {
		t.Errorf("admin listener defaults differ: %q (optional %v), top tenants %d", sc.AdminAddr, sc.AdminOptional, config.DefaultTopTenants)
	}
	c2, err := config.Load(config.Options{Flags: map[string]string{"admin-listen": "127.0.0.1:9999"}})
	if err != nil {
		t.Fatal(err)
	}
	if sc := serverConfig(c2, nil); sc.AdminAddr != "127.0.0.1:9999" || sc.AdminOptional {
		t.Errorf("an admin address the operator chose: %q (optional %v), want it required", sc.AdminAddr, sc.AdminOptional)
	}
	for n := password.MinLength - 1; n <= password.MinLength; n++ {
		pw := strings.Repeat("x", n)
		_, err := config.Load(config.Options{Env: func(k string) (string, bool) { return pw, k == "PSGATE_BOOTSTRAP_PASSWORD" }})
		if (err == nil) != (password.CheckNew(pw) == nil) {
			t.Errorf("a bootstrap password of %d characters: config says %v, the password package %v", n, err, password.CheckNew(pw))
		}
	}
	c.AuditRetention = 0
	if serverConfig(c, nil).AuditRetention >= 0 {
		t.Errorf("audit.retention 0 must keep records forever (negative for the server)")
	}
}

// The password_hash bounds reach the running token service. With one hash
// at a time and none waiting, of a burst of wrong passwords sent together
// (for different accounts, so that only the bound applies) while each hash
// takes long, some are refused at once with identity.sign-in-busy; with
// the defaults, none is.
func TestPasswordHashBoundsFromTheConfiguration(t *testing.T) {
	_, domain, _ := strings.Cut(server.DemoAdmin, "@")
	burst := func(t *testing.T, flags map[string]string) (busy int) {
		flags["data"] = t.TempDir()
		flags["http"] = "127.0.0.1:0"
		flags["https"] = ""
		flags["admin-listen"] = ""
		// Hashes of the production memory cost that last a little longer
		// (tens of milliseconds), so that the burst overlaps them.
		flags["password-hash-iterations"] = "3"
		c, err := config.Load(config.Options{Flags: flags,
			Env: func(k string) (string, bool) { return gatewayPassword, k == "PSGATE_BOOTSTRAP_PASSWORD" }})
		if err != nil {
			t.Fatal(err)
		}
		sc := serverConfig(c, slog.New(slog.NewTextHandler(io.Discard, nil)))
		s, err := server.New(context.Background(), sc)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx, 5*time.Second) }()
		defer func() { cancel(); <-done }()
		const n = 4
		codes := make(chan string, n)
		start := make(chan struct{})
		for i := range n {
			go func() {
				<-start
				resp, err := http.PostForm(strings.TrimSuffix(s.Info().HTTPURL, "/wsman")+identity.PathToken, url.Values{"grant_type": {"password"},
					"username": {fmt.Sprintf("nobody%d@%s", i, domain)}, "password": {"wrong"}, "client_id": {identity.DefaultClientID}})
				if err != nil {
					codes <- err.Error()
					return
				}
				defer resp.Body.Close()
				var reply struct {
					Code string `json:"psgate_code"`
				}
				raw, _ := io.ReadAll(resp.Body)
				if json.Unmarshal(raw, &reply) != nil || reply.Code == "" {
					reply.Code = fmt.Sprintf("%s: %s", resp.Status, raw)
				}
				codes <- reply.Code
			}()
		}
		close(start)
		for range n {
			if code := <-codes; code == string(psgate.CodeSignInBusy) {
				busy++
			} else if code != string(psgate.CodeLogonFailed) {
				t.Errorf("a wrong password answered %q", code)
			}
		}
		return busy
	}
	if busy := burst(t, map[string]string{"password-hash-concurrent": "1", "password-hash-queue": "-1", "password-hash-per-address": "10"}); busy == 0 {
		t.Errorf("one hash at a time, none waiting: no sign-in of %d sent together was refused as busy", 4)
	}
	if busy := burst(t, map[string]string{}); busy != 0 {
		t.Errorf("the defaults refused %d sign-ins as busy", busy)
	}
}

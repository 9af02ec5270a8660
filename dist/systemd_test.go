package dist

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	unitFile     = "systemd/psgate.service"
	sysusersFile = "systemd/psgate.sysusers"
	installedBin = "/usr/local/bin/psgate"
	// configFile is the example configuration the unit's ExecStart
	// names once installed as installedConfig.
	configFile      = "psgate.toml"
	installedConfig = "/etc/psgate/psgate.toml"
)

// tool finds one of systemd's programs. Without it the test skips on a
// developer machine and fails under CI=true, where scripts/test.sh
// installs Debian's systemd package.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		msg := fmt.Sprintf("%s not found (Debian package systemd; scripts/test.sh installs it): %v", name, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// unit is a unit file's directives: section → key → values in order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, text string) unit {
	t.Helper()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not a directive: %q", unitFile, n, line)
			}
			u[section][strings.TrimSpace(k)] = append(u[section][strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	return u
}

// last is a directive's effective value (the last one set).
func (u unit) last(section, key string) (string, bool) {
	vs := u[section][key]
	if len(vs) == 0 {
		return "", false
	}
	return vs[len(vs)-1], true
}

// buildPsgate builds the psgate binary of this checkout.
func buildPsgate(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "psgate")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/psgate").CombinedOutput(); err != nil {
		t.Fatalf("build psgate: %v\n%s", err, out)
	}
	return bin
}

// effectiveConfig is what `psgate serve ARGS` would run with, by key, as
// `psgate config show ARGS` reports it.
func effectiveConfig(t *testing.T, bin string, args []string) map[string]string {
	t.Helper()
	out, err := exec.Command(bin, append(append([]string{"config", "show"}, args...), "--output", "json")...).Output()
	if err != nil {
		t.Fatalf("psgate config show %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	var rows []struct{ Key, Value string }
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("psgate config show --output json: %v\n%s", err, out)
	}
	m := map[string]string{}
	for _, r := range rows {
		m[r.Key] = r.Value
	}
	return m
}

// TestSystemdUnit checks dist/systemd/psgate.service as systemd and the
// psgate binary see it: systemd-analyze verify accepts it (with ExecStart
// pointing at a freshly built binary, since verify wants the program to
// exist), the hardening is there and rates as systemd-analyze security's
// "OK", the configuration it names (dist/psgate.toml) passes psgate config
// check and fits the unit (data directory, port, limits), its user is the
// one the sysusers.d entry creates, and its command line starts a gateway
// that stops cleanly, in time, on the unit's KillSignal.
func TestSystemdUnit(t *testing.T) {
	analyze := tool(t, "systemd-analyze")
	raw, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	u := parseUnit(t, text)
	bin := buildPsgate(t)

	execStart, _ := u.last("Service", "ExecStart")
	argv := strings.Fields(execStart)
	if len(argv) < 2 || argv[0] != installedBin || argv[1] != "serve" || flagValue(argv, "--config") != installedConfig {
		t.Fatalf("ExecStart=%s, want %s serve --config %s", execStart, installedBin, installedConfig)
	}

	// The unit as installed, with only the program's path changed, and
	// its command line reading a copy of the example configuration.
	dir := t.TempDir()
	conf, err := os.ReadFile(configFile)
	if err != nil {
		t.Fatal(err)
	}
	confCopy := filepath.Join(dir, "psgate.toml")
	if err := os.WriteFile(confCopy, conf, 0o640); err != nil {
		t.Fatal(err)
	}
	serveArgs := setFlag(argv[1:], "--config", confCopy)
	effective := effectiveConfig(t, bin, serveArgs[1:])
	t.Run("config check", func(t *testing.T) {
		if out, err := exec.Command(bin, "config", "check", confCopy).CombinedOutput(); err != nil {
			t.Errorf("psgate config check %s (the unit's configuration): %v\n%s", configFile, err, out)
		}
	})
	testUnit := filepath.Join(dir, "psgate.service")
	if err := os.WriteFile(testUnit, []byte(strings.ReplaceAll(text, installedBin, bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("verify", func(t *testing.T) {
		out, err := exec.Command(analyze, "verify", testUnit).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	})

	t.Run("hardening", func(t *testing.T) {
		want := map[string]string{
			"User":                    "psgate",
			"ProtectSystem":           "strict",
			"ProtectHome":             "yes",
			"NoNewPrivileges":         "yes",
			"PrivateTmp":              "yes",
			"PrivateDevices":          "yes",
			"StateDirectory":          "psgate",
			"StateDirectoryMode":      "0700",
			"UMask":                   "0077",
			"CapabilityBoundingSet":   "",
			"AmbientCapabilities":     "",
			"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
			"MemoryDenyWriteExecute":  "yes",
			"LockPersonality":         "yes",
			"RestrictNamespaces":      "yes",
			"RestrictSUIDSGID":        "yes",
			"SystemCallArchitectures": "native",
			"Restart":                 "on-failure",
			"KillSignal":              "SIGTERM",
		}
		for k, v := range want {
			if got, ok := u.last("Service", k); !ok || got != v {
				t.Errorf("[Service] %s=%q (set: %v), want %q", k, got, ok, v)
			}
		}
		if f := u["Service"]["SystemCallFilter"]; len(f) == 0 || f[0] != "@system-service" {
			t.Errorf("SystemCallFilter=%v, want @system-service first", f)
		}
		// The data directory the gateway is told to use is the one
		// systemd creates, owns and leaves writable under
		// ProtectSystem=strict.
		if d := effective["data_dir"]; d != "/var/lib/psgate" {
			t.Errorf("the unit's data_dir is %q, want /var/lib/psgate (StateDirectory=psgate)", d)
		}
		// No capability: the ports are unprivileged.
		for _, key := range []string{"listen.https", "listen.http"} {
			addr := effective[key]
			if addr == "" {
				continue
			}
			_, port, err := net.SplitHostPort(addr)
			if p, perr := strconv.Atoi(port); err != nil || perr != nil || p < 1024 {
				t.Errorf("the unit's %s is %q: a port below 1024 needs CAP_NET_BIND_SERVICE, which the unit does not grant", key, addr)
			}
		}
	})

	t.Run("limits", func(t *testing.T) {
		grace, err := time.ParseDuration(effective["limits.shutdown_grace"])
		if err != nil {
			t.Fatalf("limits.shutdown_grace: %v", err)
		}
		if stopAfter := unitDuration(t, u, "TimeoutStopSec"); stopAfter < grace+10*time.Second {
			t.Errorf("TimeoutStopSec=%s: want at least 10s over psgate's shutdown grace %s, so systemd does not kill running commands", stopAfter, grace)
		}
		maxConns, err := strconv.Atoi(effective["limits.max_connections"])
		if err != nil {
			t.Fatalf("limits.max_connections: %v", err)
		}
		nofile, _ := u.last("Service", "LimitNOFILE")
		if n, err := strconv.Atoi(nofile); err != nil || n < maxConns+1024 {
			t.Errorf("LimitNOFILE=%s: want room for --max-connections %d and the store, listeners and outgoing connections", nofile, maxConns)
		}
	})

	t.Run("security", func(t *testing.T) {
		out, err := exec.Command(analyze, "security", "--offline=true", testUnit).CombinedOutput()
		m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+) (\S+)`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("systemd-analyze security --offline=true: %v\n%s", err, out)
		}
		score, _ := strconv.ParseFloat(string(m[1]), 64)
		t.Logf("systemd-analyze security: exposure %s %s", m[1], m[2])
		if score > 2.0 {
			t.Errorf("systemd-analyze security rates the unit %s %s, want 2.0 or less:\n%s", m[1], m[2], out)
		}
	})

	t.Run("sysusers", func(t *testing.T) {
		sysusers := tool(t, "systemd-sysusers")
		conf, err := os.Open(sysusersFile)
		if err != nil {
			t.Fatal(err)
		}
		defer conf.Close()
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(sysusers, "--root="+root, "-")
		cmd.Stdin = conf
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("systemd-sysusers: %v\n%s", err, out)
		}
		passwd, _ := os.ReadFile(filepath.Join(root, "etc", "passwd"))
		user, _ := u.last("Service", "User")
		group, _ := u.last("Service", "Group")
		if !regexp.MustCompile(`(?m)^` + user + `:x:\d+:\d+:[^:]*:/var/lib/psgate:/usr/sbin/nologin$`).Match(passwd) {
			t.Errorf("the sysusers.d entry does not create the unit's user %q (home /var/lib/psgate, no login shell):\n%s", user, passwd)
		}
		groups, _ := os.ReadFile(filepath.Join(root, "etc", "group"))
		if !regexp.MustCompile(`(?m)^` + group + `:x:\d+:`).Match(groups) {
			t.Errorf("the sysusers.d entry does not create the unit's group %q:\n%s", group, groups)
		}
	})

	t.Run("start and stop", func(t *testing.T) {
		// The unit's command line and configuration, on loopback ports
		// of its own and a temporary data directory instead of
		// /var/lib/psgate.
		args := setFlag(serveArgs, "--data", t.TempDir())
		args = setFlag(args, "--https", "127.0.0.1:0")
		args = setFlag(args, "--http", "127.0.0.1:0")
		// The admin listener too: the machine's default port may be
		// another test's.
		args = setFlag(args, "--admin-listen", "127.0.0.1:0")
		stopAfter := unitDuration(t, u, "TimeoutStopSec")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute+stopAfter)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), "PSGATE_BOOTSTRAP_PASSWORD=Service-Pa55word")
		var out bytes.Buffer
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = pw, pw
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pw.Close()
		serving := make(chan bool, 1)
		readAll := make(chan struct{})
		go func() {
			defer close(readAll)
			sc := bufio.NewScanner(pr)
			said := false
			for sc.Scan() {
				out.WriteString(sc.Text() + "\n")
				if !said && strings.HasPrefix(sc.Text(), "psgate is serving") {
					said = true
					serving <- true
				}
			}
			if !said {
				serving <- false
			}
		}()
		select {
		case ok := <-serving:
			if !ok {
				err := cmd.Wait()
				<-readAll
				t.Fatalf("psgate %s exited before serving: %v\n%s", strings.Join(args, " "), err, out.String())
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("psgate %s did not start serving in 30s", strings.Join(args, " "))
		}
		sig, _ := u.last("Service", "KillSignal")
		if sig != "SIGTERM" {
			t.Fatalf("KillSignal=%s", sig)
		}
		start := time.Now()
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		err = cmd.Wait()
		took := time.Since(start)
		<-readAll
		if err != nil || took > stopAfter {
			t.Errorf("after SIGTERM psgate exited with %v in %s; systemd wants a clean exit within TimeoutStopSec=%s\n%s", err, took, stopAfter, out.String())
		}
	})
}

// flagValue is the value of the last --name value or --name=value in args.
func flagValue(args []string, name string) string {
	v := ""
	for i, a := range args {
		if a == name && i+1 < len(args) {
			v = args[i+1]
		} else if strings.HasPrefix(a, name+"=") {
			v = strings.TrimPrefix(a, name+"=")
		}
	}
	return v
}

// setFlag replaces every value of --name in args with v, or appends it.
func setFlag(args []string, name, v string) []string {
	out := make([]string, 0, len(args)+2)
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == name && i+1 < len(args):
			i++
		case strings.HasPrefix(args[i], name+"="):
		default:
			out = append(out, args[i])
		}
	}
	return append(out, name, v)
}

// unitDuration reads a [Service] time span: a Go duration such as 45s,
// or bare seconds.
func unitDuration(t *testing.T, u unit, key string) time.Duration {
	t.Helper()
	v, ok := u.last("Service", key)
	if !ok {
		t.Fatalf("[Service] has no %s", key)
	}
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("[Service] %s=%s: %v", key, v, err)
	}
	return d
}

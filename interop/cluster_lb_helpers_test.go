package interop

// The harness of cluster_lb_test.go: three real `psgate serve` processes on
// one PostgreSQL database, behind a real HAProxy that runs
// dist/haproxy/psgate.cfg (the documented deployment) with the test's
// addresses substituted. Processes are kept by PID and killed by PID.

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/csv"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/postgres"
	"github.com/psgate/psgate/wsman"

	"github.com/psgate/psgate/internal/freeport"
)

// Lease timing of the cluster tests (cluster.md §5.1): short, so that a
// dead node's slots come back within seconds.
const (
	lbLeaseTTL    = 6 * time.Second
	lbLeaseRenew  = 2 * time.Second
	lbLeaseMargin = time.Second
)

// lbConfigFile is the documented HAProxy configuration the tests run.
const lbConfigFile = "../dist/haproxy/psgate.cfg"

// requireTool finds a program the cluster tests cannot do without: missing,
// the test fails under CI (the test command installs it) and skips on a
// developer machine.
func requireTool(t *testing.T, name, why string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s is not installed (%s); scripts/test.sh installs it", name, why)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// lbNode is one `psgate serve` process, restartable on the same data
// directory and addresses.
type lbNode struct {
	name        string // gw1, gw2, gw3: its cluster certificate's name
	data        string
	httpsAddr   string // public listener, behind HAProxy; also the node's name in the store
	adminAddr   string
	clusterAddr string
	logFile     string
	// netns, when set, is the network namespace the node runs in, and
	// dsn its own way to the database (cluster_lb_partition: a link the
	// test can cut).
	netns, dsn string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // the process's exit, once exited is closed
}

// pid is the running process's id (0 when none runs).
func (n *lbNode) pid() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || n.cmd.Process == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// running reports whether n's process runs.
func (n *lbNode) running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return false
	}
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

// url is the node's own WS-Man endpoint (bypassing the balancer).
func (n *lbNode) url() string { return "https://" + n.httpsAddr + "/wsman" }

// lbCluster is three nodes, their database and HAProxy in front of them.
type lbCluster struct {
	t       *testing.T
	bin     string
	dsn     string
	certDir string
	dir     string
	nodes   []*lbNode
	// httpURL and httpsURL are HAProxy's two frontends (…/wsman).
	httpURL, httpsURL string
	statsSock         string
	haproxyLog        string
	haproxy           *exec.Cmd
	haproxyDone       chan struct{}
	db                *postgres.DB
	ca                *testCA
}

type lbOptions struct {
	// dsn is the database; empty takes a fresh one on the test PostgreSQL.
	dsn string
	// partition puts gw3 in its own network namespace (see lbPartition).
	partition *lbPartition
}

// startLBCluster starts the whole rig and tears it down when the test ends.
func startLBCluster(t *testing.T, o lbOptions) *lbCluster {
	t.Helper()
	if testing.Short() {
		t.Skip("runs three psgate processes, PostgreSQL and HAProxy")
	}
	haproxy := requireTool(t, "haproxy", "the cluster tests run the documented HAProxy configuration")
	dsn := o.dsn
	if dsn == "" {
		dsn = postgresDSN(t)
	}
	bin, _, _ := psgateBinary(t)
	c := &lbCluster{t: t, bin: bin, dsn: dsn, dir: t.TempDir(), ca: newTestCA(t)}
	c.certDir = filepath.Join(c.dir, "cluster")
	c.psgate(t, "cluster", "init", "--dir", c.certDir)
	addrs := freeport.Addrs(t, 9)
	for i := range 3 {
		n := &lbNode{
			name:        fmt.Sprintf("gw%d", i+1),
			data:        filepath.Join(c.dir, fmt.Sprintf("gw%d-data", i+1)),
			httpsAddr:   addrs[3*i],
			adminAddr:   addrs[3*i+1],
			clusterAddr: addrs[3*i+2],
			logFile:     filepath.Join(c.dir, fmt.Sprintf("gw%d.log", i+1)),
		}
		host := "127.0.0.1"
		if p := o.partition; p != nil {
			// Every node's internal listener must be reachable from
			// the namespace: the host's ones listen on its side of the
			// peer link.
			host = p.peerHost
			if i == 2 {
				host = p.peerNS
				n.netns, n.dsn = p.ns, p.dsn(dsn)
				n.httpsAddr, n.adminAddr = onHost(n.httpsAddr, host), onHost(n.adminAddr, host)
			}
			n.clusterAddr = onHost(n.clusterAddr, host)
		}
		c.psgate(t, "cluster", "cert", "--dir", c.certDir, "--name", n.name, "--host", host)
		// The public listener's certificate, from the CA HAProxy trusts
		// (psgate's self-signed certificates all have one subject name,
		// so a file of them cannot serve as HAProxy's ca-file).
		cert, key := c.ca.issue(t, n.name)
		if err := os.WriteFile(filepath.Join(c.dir, n.name+"-tls.pem"), cert, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(c.dir, n.name+"-tls-key.pem"), key, 0o600); err != nil {
			t.Fatal(err)
		}
		c.nodes = append(c.nodes, n)
	}
	t.Cleanup(func() {
		if t.Failed() {
			c.dumpLogs()
		}
	})
	t.Cleanup(c.stopAll)
	// The nodes start together, as a fleet does; one of them bootstraps
	// the demo tenant in the shared store.
	for _, n := range c.nodes {
		c.startNode(n)
	}
	for _, n := range c.nodes {
		c.waitReady(n)
	}
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatalf("open the cluster's store: %v", err)
	}
	c.db = db
	t.Cleanup(func() { _ = db.Close() })
	c.startHAProxy(haproxy)
	return c
}

// psgate runs a psgate command and fails the test if it fails.
func (c *lbCluster) psgate(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(c.bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("psgate %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// serveArgs are the flags of a node: the documented cluster set-up with the
// test's addresses and short leases.
func (c *lbCluster) serveArgs(n *lbNode) []string {
	level := "warn"
	if os.Getenv("PSGATE_TEST_LOG") != "" {
		level = "info"
	}
	return []string{"serve",
		"--data", n.data,
		"--http", "", "--https", n.httpsAddr,
		"--tls-cert", filepath.Join(c.dir, n.name+"-tls.pem"),
		"--tls-key", filepath.Join(c.dir, n.name+"-tls-key.pem"),
		"--admin-listen", n.adminAddr,
		"--store", cmp.Or(n.dsn, c.dsn),
		"--health-on-public",
		"--trusted-proxy", "127.0.0.1",
		"--log-level", level,
		// Passwords hashed by the nodes (the demo administrator's) are
		// checked on every request of every node: keep them cheap.
		"--password-hash-memory-kib", "7168", "--password-hash-iterations", "1",
		"--cluster-listen", n.clusterAddr,
		"--cluster-url", "https://" + n.clusterAddr,
		"--cluster-ca", filepath.Join(c.certDir, "ca.pem"),
		"--cluster-cert", filepath.Join(c.certDir, n.name+".pem"),
		"--cluster-key", filepath.Join(c.certDir, n.name+"-key.pem"),
		"--lease-ttl", lbLeaseTTL.String(),
		"--lease-renew", lbLeaseRenew.String(),
		"--lease-margin", lbLeaseMargin.String(),
	}
}

// startNode starts n's process (again).
func (c *lbCluster) startNode(n *lbNode) {
	c.t.Helper()
	logf, err := os.OpenFile(n.logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		c.t.Fatal(err)
	}
	fmt.Fprintf(logf, "==> %s start %s\n", time.Now().UTC().Format(time.RFC3339Nano), n.name)
	cmd := exec.Command(c.bin, c.serveArgs(n)...)
	if n.netns != "" {
		// ip execs the program in the namespace: the PID is psgate's.
		cmd = exec.Command("ip", append([]string{"netns", "exec", n.netns, c.bin}, c.serveArgs(n)...)...)
	}
	cmd.Env = append(os.Environ(), "PSGATE_BOOTSTRAP_PASSWORD="+adminPassword)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		c.t.Fatalf("start %s: %v", n.name, err)
	}
	exited := make(chan struct{})
	n.mu.Lock()
	n.cmd, n.exited, n.err = cmd, exited, nil
	n.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logf.Close()
		n.mu.Lock()
		n.err = err
		n.mu.Unlock()
		close(exited)
	}()
}

// waitReady waits until n's admin /readyz answers 200.
func (c *lbCluster) waitReady(n *lbNode) {
	c.t.Helper()
	n.mu.Lock()
	exited := n.exited
	n.mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	hc := &http.Client{Timeout: 5 * time.Second}
	for {
		resp, err := hc.Get("http://" + n.adminAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-exited:
			c.t.Fatalf("%s exited before it was ready: %v\n%s", n.name, n.err, tail(n.logFile, 40))
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s not ready after 60 s\n%s", n.name, tail(n.logFile, 40))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// signal sends sig to n's process, by its PID.
func (c *lbCluster) signal(n *lbNode, sig syscall.Signal) {
	c.t.Helper()
	pid := n.pid()
	if pid == 0 {
		c.t.Fatalf("%s is not running", n.name)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		c.t.Fatalf("kill -%d %d (%s): %v", sig, pid, n.name, err)
	}
}

// waitExit waits for n's process to end and returns how it ended.
func (c *lbCluster) waitExit(n *lbNode, within time.Duration) error {
	c.t.Helper()
	n.mu.Lock()
	exited := n.exited
	n.mu.Unlock()
	select {
	case <-exited:
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.err
	case <-time.After(within):
		c.t.Fatalf("%s (pid %d) did not exit within %v\n%s", n.name, n.pid(), within, tail(n.logFile, 40))
		return nil
	}
}

// stopAll kills HAProxy and every node, by PID.
func (c *lbCluster) stopAll() {
	if c.haproxy != nil && c.haproxy.Process != nil {
		_ = syscall.Kill(c.haproxy.Process.Pid, syscall.SIGKILL)
		<-c.haproxyDone
	}
	for _, n := range c.nodes {
		if pid := n.pid(); pid != 0 {
			n.mu.Lock()
			exited := n.exited
			n.mu.Unlock()
			select {
			case <-exited:
				continue
			default:
			}
			_ = syscall.Kill(pid, syscall.SIGKILL)
			<-exited
		}
	}
}

// dumpLogs shows the nodes' log records (not their start banners) and what
// HAProxy said besides its request log.
func (c *lbCluster) dumpLogs() {
	keep := func(line string) bool { return strings.HasPrefix(line, "time=") || strings.HasPrefix(line, "==>") }
	for _, n := range c.nodes {
		c.t.Logf("---- %s (%s) log:\n%s", n.name, n.httpsAddr, tailOf(n.logFile, 40, keep))
	}
	if c.haproxyLog != "" {
		c.t.Logf("---- haproxy log:\n%s", tailOf(c.haproxyLog, 20, func(line string) bool { return !strings.HasPrefix(line, "<6>") }))
	}
}

// tail is the last lines of a file.
func tail(file string, lines int) string {
	return tailOf(file, lines, func(string) bool { return true })
}

// tailOf is the last lines of a file that keep accepts.
func tailOf(file string, lines int, keep func(string) bool) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return err.Error()
	}
	var all []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if keep(l) {
			all = append(all, l)
		}
	}
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// renderHAProxyConfig is dist/haproxy/psgate.cfg with the example addresses
// and file names replaced by the test's. Each replaced text must be in the
// file exactly once: a change to the file that the test does not follow
// fails here instead of testing something else.
func renderHAProxyConfig(t *testing.T, subst [][2]string) string {
	t.Helper()
	b, err := os.ReadFile(lbConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(b)
	for _, s := range subst {
		if n := strings.Count(cfg, s[0]); n != 1 {
			t.Fatalf("%s has %q %d times, want once (the test substitutes it)", lbConfigFile, s[0], n)
		}
		cfg = strings.Replace(cfg, s[0], s[1], 1)
	}
	return cfg
}

// startHAProxy renders the documented configuration for this cluster,
// checks it with haproxy -c and runs HAProxy in the foreground until the
// test ends; it returns once HAProxy sees every node up.
func (c *lbCluster) startHAProxy(bin string) {
	t := c.t
	t.Helper()
	two := freeport.Addrs(t, 2)
	httpAddr, httpsAddr := two[0], two[1]
	// The certificate clients see (TLS ends at HAProxy) and the CA of
	// the nodes' certificates, which HAProxy checks when it connects to
	// them.
	crt := filepath.Join(c.dir, "haproxy.pem")
	cert, key := c.ca.issue(t, "psgate-lb")
	if err := os.WriteFile(crt, append(cert, key...), 0o600); err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(c.dir, "psgate-nodes.pem")
	if err := os.WriteFile(caFile, c.ca.pem, 0o644); err != nil {
		t.Fatal(err)
	}
	c.statsSock = filepath.Join(c.dir, "haproxy.sock")
	subst := [][2]string{
		{"bind :5986 ssl crt /etc/haproxy/certs/psgate.pem", "bind " + httpsAddr + " ssl crt " + crt},
		{"bind 127.0.0.1:5985", "bind " + httpAddr},
		{"ca-file /etc/haproxy/psgate-nodes.pem", "ca-file " + caFile},
		{"stats socket /run/haproxy/admin.sock", "stats socket " + c.statsSock},
		// No syslog here: HAProxy logs to its standard error instead.
		{"log /dev/log local0", "log stderr format short local0"},
	}
	for i, n := range c.nodes {
		subst = append(subst, [2]string{fmt.Sprintf("server gw%d 192.0.2.1%d:5986", i+1, i+1), fmt.Sprintf("server gw%d %s", i+1, n.httpsAddr)})
	}
	if os.Geteuid() != 0 {
		// chroot and a change of user need root.
		subst = append(subst, [2]string{"chroot /var/lib/haproxy", "# chroot"}, [2]string{"user haproxy", "# user"}, [2]string{"group haproxy", "# group"})
	}
	cfgFile := filepath.Join(c.dir, "haproxy.cfg")
	if err := os.WriteFile(cfgFile, []byte(renderHAProxyConfig(t, subst)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", "-f", cfgFile).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c -f %s: %v\n%s", cfgFile, err, out)
	}
	c.haproxyLog = filepath.Join(c.dir, "haproxy.log")
	logf, err := os.Create(c.haproxyLog)
	if err != nil {
		t.Fatal(err)
	}
	// -db: stay in the foreground (the file says daemon, for systemd-less
	// installs), so that the test holds its PID.
	cmd := exec.Command(bin, "-db", "-f", cfgFile)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c.haproxy, c.haproxyDone = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(c.haproxyDone)
	}()
	c.httpURL, c.httpsURL = "http://"+httpAddr+"/wsman", "https://"+httpsAddr+"/wsman"
	c.waitServersUp(c.nodes...)
}

// haproxyStats returns HAProxy's `show stat` rows of the psgate backend's
// servers, by server name.
func (c *lbCluster) haproxyStats() (map[string]map[string]string, error) {
	conn, err := net.DialTimeout("unix", c.statsSock, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("haproxy stats socket: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, "show stat\n"); err != nil {
		return nil, fmt.Errorf("haproxy stats socket: %w", err)
	}
	b, err := io.ReadAll(conn)
	if err != nil {
		return nil, fmt.Errorf("haproxy stats socket: %w", err)
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("# "))))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil || len(recs) == 0 {
		return nil, fmt.Errorf("haproxy show stat: %v\n%s", err, b)
	}
	head := recs[0]
	out := map[string]map[string]string{}
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, h := range head {
			if i < len(rec) {
				row[h] = rec[i]
			}
		}
		if row["pxname"] == "psgate" && row["svname"] != "BACKEND" {
			out[row["svname"]] = row
		}
	}
	return out, nil
}

// waitServersUp waits until HAProxy's health checks see the nodes up.
func (c *lbCluster) waitServersUp(nodes ...*lbNode) {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := c.haproxyStats()
		up := 0
		if err == nil {
			for _, n := range nodes {
				if strings.HasPrefix(st[n.name]["status"], "UP") && !strings.Contains(st[n.name]["status"], "/") {
					up++
				}
			}
			if up == len(nodes) {
				return
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("HAProxy does not see the nodes up after 60 s (%v): %v\n%s", err, st, tail(c.haproxyLog, 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// haproxyRequests is how many requests HAProxy sent to the nodes in all.
func (c *lbCluster) haproxyRequests() int {
	c.t.Helper()
	st, err := c.haproxyStats()
	if err != nil {
		c.t.Fatal(err)
	}
	total := 0
	for _, row := range st {
		n, _ := strconv.Atoi(row["req_tot"])
		total += n
	}
	return total
}

// metrics reads a node's Prometheus exposition.
func (c *lbCluster) metrics(n *lbNode) (string, error) {
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get("http://" + n.adminAddr + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// metricSum adds the samples of a metric whose labels contain every one
// of match (`result="ok"`).
func metricSum(exposition, name string, match ...string) float64 {
	var sum float64
	sc := bufio.NewScanner(strings.NewReader(exposition))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue // a longer name
		}
		labels := ""
		if rest[0] == '{' {
			end := strings.Index(rest, "}")
			if end < 0 {
				continue
			}
			labels, rest = rest[1:end], rest[end+1:]
		}
		ok := true
		for _, m := range match {
			if !strings.Contains(labels, m) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

// clusterMetric sums a metric over the running nodes.
func (c *lbCluster) clusterMetric(name string, match ...string) float64 {
	c.t.Helper()
	var sum float64
	for _, n := range c.nodes {
		if !n.running() {
			continue
		}
		m, err := c.metrics(n)
		if err != nil {
			c.t.Fatalf("%s /metrics: %v", n.name, err)
		}
		sum += metricSum(m, name, match...)
	}
	return sum
}

// addUsers creates enabled Tenant Administrators upn(i) for i in [0,n)
// in the demo tenant, with the member password.
func (c *lbCluster) addUsers(t *testing.T, upn func(i int) string, n int) {
	t.Helper()
	ctx := context.Background()
	tn, err := c.db.TenantByName(ctx, server.DemoTenant)
	if err != nil {
		t.Fatal(err)
	}
	role, err := c.db.RoleByName(ctx, tn.ID, store.RoleTenantAdministrator)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := password.Hash(memberPassword, password.Fast())
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		u, err := c.db.CreateUser(ctx, store.User{TenantID: tn.ID, UPN: upn(i), DisplayName: upn(i), Enabled: true, PasswordHash: hash})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.db.Assign(ctx, store.Assignment{TenantID: tn.ID, UserID: u.ID, RoleID: role.ID, AssignedBy: "test"}); err != nil {
			t.Fatal(err)
		}
	}
}

// setPolicy changes the demo tenant's policy.
func (c *lbCluster) setPolicy(t *testing.T, change func(*store.Policy)) {
	t.Helper()
	ctx := context.Background()
	tn, err := c.db.TenantByName(ctx, server.DemoTenant)
	if err != nil {
		t.Fatal(err)
	}
	p := tn.Policy
	change(&p)
	if err := c.db.UpdatePolicy(ctx, tn.ID, p); err != nil {
		t.Fatal(err)
	}
}

// withDB runs fn on a connection of its own to the cluster's database,
// within 20 s.
func (c *lbCluster) withDB(t *testing.T, fn func(ctx context.Context, conn *pgx.Conn) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := fn(ctx, conn); err != nil {
		t.Fatal(err)
	}
}

// sqlInt runs a query returning one integer on the cluster's database.
func (c *lbCluster) sqlInt(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	c.withDB(t, func(ctx context.Context, conn *pgx.Conn) error {
		if err := conn.QueryRow(ctx, query, args...).Scan(&n); err != nil {
			return fmt.Errorf("%s: %w", query, err)
		}
		return nil
	})
	return n
}

// liveLeases counts the lease rows that still hold a slot.
func (c *lbCluster) liveLeases(t *testing.T) int {
	t.Helper()
	return c.sqlInt(t, `SELECT count(*) FROM shell_leases WHERE expires_at > now()`)
}

// leasedShells is the set of shells (upper-case ids) whose leases still
// hold a slot.
func (c *lbCluster) leasedShells(t *testing.T) map[string]bool {
	t.Helper()
	var ids []string
	c.withDB(t, func(ctx context.Context, conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, `SELECT upper(shell_id) FROM shell_leases WHERE expires_at > now()`)
		if err == nil {
			ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		return err
	})
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out
}

// owner returns the node whose lease row holds shellID (nil when none).
func (c *lbCluster) owner(t *testing.T, shellID string) *lbNode {
	t.Helper()
	var name string
	c.withDB(t, func(ctx context.Context, conn *pgx.Conn) error {
		err := conn.QueryRow(ctx, `SELECT n.node_name FROM shell_leases l JOIN gateway_nodes n ON n.node_id = l.node_id
			WHERE upper(l.shell_id) = upper($1) AND l.expires_at > now()`, shellID).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if name == "" {
		return nil
	}
	for _, n := range c.nodes {
		if n.httpsAddr == name {
			return n
		}
	}
	t.Fatalf("shell %s is held by node %q, which is none of the test's", shellID, name)
	return nil
}

// nodeID is the store's id of n's current incarnation.
func (c *lbCluster) nodeID(t *testing.T, n *lbNode) string {
	t.Helper()
	var id string
	c.withDB(t, func(ctx context.Context, conn *pgx.Conn) error {
		if err := conn.QueryRow(ctx, `SELECT node_id FROM gateway_nodes WHERE node_name = $1`, n.httpsAddr).Scan(&id); err != nil {
			return fmt.Errorf("node %s in gateway_nodes: %w", n.name, err)
		}
		return nil
	})
	return id
}

// testCA is a certificate authority for the certificates the nodes and
// HAProxy show on their public listeners.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "psgate test public CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a server certificate for 127.0.0.1 and its key, as PEM.
func (ca *testCA) issue(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost", cn},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
}

// ---------------------------------------------------------------------------
// A WinRS client for load: the requests pywinrm and masterzen send, with
// errors returned instead of failing the test, so that many run at once.

type winrsFault struct {
	status int
	fault  *wsman.Fault
	body   string
}

func (e *winrsFault) Error() string {
	if e.fault != nil {
		return fmt.Sprintf("HTTP %d fault %s: %s", e.status, e.fault.ErrorCode, firstLineOf(e.fault.Reason))
	}
	return fmt.Sprintf("HTTP %d: %s", e.status, firstLineOf(e.body))
}

func firstLineOf(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// faultCode is the catalog code of a WinRS or connector error ("" when it
// has none).
func faultCode(err error) string {
	var wf *winrsFault
	if errors.As(err, &wf) && wf.fault != nil {
		return wf.fault.ErrorCode
	}
	return ""
}

type winrsClient struct {
	url, user, pw string
	hc            *http.Client
	shellID       string
}

func newWinRSClient(url, user, pw string) *winrsClient {
	return &winrsClient{url: url, user: user, pw: pw, hc: &http.Client{
		Timeout:   90 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxIdleConnsPerHost: 2},
	}}
}

var (
	commandIDRE = regexp.MustCompile(`<rsp:CommandId>([^<]+)</rsp:CommandId>`)
	streamRE    = regexp.MustCompile(`<rsp:Stream Name="(stdout|stderr)"[^>]*>([^<]*)</rsp:Stream>`)
)

func (w *winrsClient) post(ctx context.Context, action, shellID, body string) (string, error) {
	env := envelope("uuid:"+strings.ToUpper(newUUID()), action, shellID, body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(env))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	req.SetBasicAuth(w.user, w.pw)
	resp, err := w.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("%s: %w", action[strings.LastIndex(action, "/")+1:], err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("%s: read the answer: %w", action[strings.LastIndex(action, "/")+1:], err)
	}
	if resp.StatusCode != http.StatusOK {
		f, _ := wsman.DecodeFault(b)
		return string(b), &winrsFault{status: resp.StatusCode, fault: f, body: string(b)}
	}
	return string(b), nil
}

const (
	actReceive = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive"
	actSignal  = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal"
)

// create opens the client's shell.
func (w *winrsClient) create(ctx context.Context) error {
	body, err := w.post(ctx, actCreate, "", createBody)
	if err != nil {
		return err
	}
	m := shellIDRE.FindStringSubmatch(body)
	if m == nil {
		return fmt.Errorf("Create answer without a ShellId:\n%s", body)
	}
	w.shellID = m[1]
	return nil
}

// run runs one command line to its end and returns its standard output.
func (w *winrsClient) run(ctx context.Context, line string) (string, error) {
	out, _, err := w.runErr(ctx, line)
	return out, err
}

// runErr is run, also returning the standard error.
func (w *winrsClient) runErr(ctx context.Context, line string) (stdout, stderr string, err error) {
	body, err := w.post(ctx, actCommand, w.shellID, `<rsp:CommandLine><rsp:Command>`+line+`</rsp:Command></rsp:CommandLine>`)
	if err != nil {
		return "", "", err
	}
	m := commandIDRE.FindStringSubmatch(body)
	if m == nil {
		return "", "", fmt.Errorf("CommandResponse without a CommandId:\n%s", body)
	}
	cid := m[1]
	var out, errOut strings.Builder
	for {
		body, err := w.post(ctx, actReceive, w.shellID, `<rsp:Receive><rsp:DesiredStream CommandId="`+cid+`">stdout stderr</rsp:DesiredStream></rsp:Receive>`)
		var wf *winrsFault
		if errors.As(err, &wf) && wf.fault != nil && wf.fault.ErrorCode == "wsman.operation-timeout" {
			continue
		}
		if err != nil {
			return out.String(), errOut.String(), err
		}
		for _, s := range streamRE.FindAllStringSubmatch(body, -1) {
			b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s[2]))
			if err != nil {
				return out.String(), errOut.String(), fmt.Errorf("%s stream: %w", s[1], err)
			}
			if s[1] == "stdout" {
				out.Write(b)
			} else {
				errOut.Write(b)
			}
		}
		if strings.Contains(body, "CommandState/Done") {
			break
		}
	}
	_, err = w.post(ctx, actSignal, w.shellID, `<rsp:Signal CommandId="`+cid+`"><rsp:Code>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate</rsp:Code></rsp:Signal>`)
	return out.String(), errOut.String(), err
}

// close deletes the shell.
func (w *winrsClient) close(ctx context.Context) error {
	if w.shellID == "" {
		return nil
	}
	_, err := w.post(ctx, actDelete, w.shellID, "")
	return err
}

// ---------------------------------------------------------------------------
// A private PostgreSQL cluster, for the test that restarts PostgreSQL: the
// test command's shared server serves the other packages' tests meanwhile.

type privatePG struct {
	bin, dir, data string
	port           int
}

// startPrivatePostgres runs initdb and postgres (as the postgres user,
// which they require) in a fresh directory, and stops it when the test
// ends.
func startPrivatePostgres(t *testing.T, part *lbPartition) (*privatePG, string) {
	t.Helper()
	fail := t.Skip
	if os.Getenv("CI") == "true" {
		fail = t.Fatal
	}
	if os.Geteuid() != 0 {
		fail("a private PostgreSQL cluster needs root (to run initdb as the postgres user)")
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		fail("PostgreSQL's server binaries are not installed (/usr/lib/postgresql/*/bin); scripts/test.sh installs them")
	}
	sort.Strings(bins)
	pg := &privatePG{bin: filepath.Dir(bins[len(bins)-1])}
	u, err := user.Lookup("postgres")
	if err != nil {
		fail("no postgres user: " + err.Error())
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// Not under t.TempDir: its parent is private to root, and postgres
	// must reach the data directory.
	pg.dir, err = os.MkdirTemp("", "psgate-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(pg.dir) })
	if err := os.Chmod(pg.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(pg.dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	pg.data = filepath.Join(pg.dir, "data")
	addr := freeport.Addr(t)
	_, p, _ := net.SplitHostPort(addr)
	pg.port, _ = strconv.Atoi(p)
	pg.run(t, "initdb", "-D", pg.data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
	listen := "127.0.0.1"
	if part != nil {
		// The namespaced node reaches the database over the link the
		// test cuts.
		listen += "," + part.dbHost
		hba, err := os.OpenFile(filepath.Join(pg.data, "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = fmt.Fprintf(hba, "host all all %s/30 trust\n", part.dbHost)
		if cerr := hba.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	pg.run(t, "pg_ctl", "-D", pg.data, "-l", filepath.Join(pg.dir, "log"), "-w", "-t", "60", "-o",
		fmt.Sprintf("-p %d -k %s -c listen_addresses=%s -c fsync=off -c max_connections=200", pg.port, pg.dir, listen), "start")
	t.Cleanup(func() {
		_ = exec.Command("runuser", "-u", "postgres", "--", filepath.Join(pg.bin, "pg_ctl"), "-D", pg.data, "-m", "immediate", "-w", "stop").Run()
	})
	return pg, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.port)
}

// run runs a PostgreSQL program as the postgres user.
func (pg *privatePG) run(t *testing.T, prog string, args ...string) {
	t.Helper()
	cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(pg.bin, prog)}, args...)...)
	cmd.Dir = pg.dir
	// A server started by pg_ctl may hold the output pipes.
	cmd.WaitDelay = 10 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s\n%s", prog, strings.Join(args, " "), err, out, tail(filepath.Join(pg.dir, "log"), 20))
	}
}

// restart is `pg_ctl restart -m mode`, waiting until it accepts
// connections again.
func (pg *privatePG) restart(t *testing.T, mode string) {
	t.Helper()
	// -l again: without it the new postmaster would keep pg_ctl's output
	// pipes open.
	pg.run(t, "pg_ctl", "-D", pg.data, "-l", filepath.Join(pg.dir, "log"), "-m", mode, "-w", "-t", "60", "restart")
}

// ---------------------------------------------------------------------------
// A network partition (cluster.md §5.1): gw3 runs in its own network
// namespace with two veth links to the host, one to the database and one
// to everything else (HAProxy, the other nodes, the test). Setting the
// host end of the database link down cuts gw3 off from the store only, a
// real blackhole (its packets go nowhere; nothing refuses them).

type lbPartition struct {
	ns               string
	dbLink           string // host end of the database link
	dbHost, dbNS     string
	peerHost, peerNS string
}

// newPartition creates the namespace and its links; they go when the test
// ends.
func newPartition(t *testing.T) *lbPartition {
	t.Helper()
	fail := t.Skip
	if os.Getenv("CI") == "true" {
		fail = t.Fatal
	}
	if os.Geteuid() != 0 {
		fail("a network namespace needs root")
	}
	requireTool(t, "ip", "iproute2 makes the network namespace")
	var rnd [2]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("%02x%02x", rnd[0], rnd[1])
	// 10.(200|201).N.0/30: addresses only inside this test's links.
	net3 := int(rnd[0])
	p := &lbPartition{
		ns:     "psgate-lb-" + id,
		dbLink: "lbd" + id + "h",
		dbHost: fmt.Sprintf("10.200.%d.1", net3), dbNS: fmt.Sprintf("10.200.%d.2", net3),
		peerHost: fmt.Sprintf("10.201.%d.1", net3), peerNS: fmt.Sprintf("10.201.%d.2", net3),
	}
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", p.ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", p.ns).Run() })
	for _, l := range []struct{ host, nsEnd, hostAddr, nsAddr string }{
		{p.dbLink, "lbd" + id + "n", p.dbHost, p.dbNS},
		{"lbp" + id + "h", "lbp" + id + "n", p.peerHost, p.peerNS},
	} {
		ip("link", "add", l.host, "type", "veth", "peer", "name", l.nsEnd)
		t.Cleanup(func() { _ = exec.Command("ip", "link", "del", l.host).Run() })
		ip("link", "set", l.nsEnd, "netns", p.ns)
		ip("addr", "add", l.hostAddr+"/30", "dev", l.host)
		ip("link", "set", l.host, "up")
		ip("-n", p.ns, "addr", "add", l.nsAddr+"/30", "dev", l.nsEnd)
		ip("-n", p.ns, "link", "set", l.nsEnd, "up")
	}
	ip("-n", p.ns, "link", "set", "lo", "up")
	return p
}

// cut takes the database link down (up: false) or brings it back.
func (p *lbPartition) set(t *testing.T, up bool) {
	t.Helper()
	state := "down"
	if up {
		state = "up"
	}
	if out, err := exec.Command("ip", "link", "set", "dev", p.dbLink, state).CombinedOutput(); err != nil {
		t.Fatalf("ip link set dev %s %s: %v\n%s", p.dbLink, state, err, out)
	}
}

// dsn is the database as the namespaced node reaches it.
func (p *lbPartition) dsn(base string) string {
	return strings.Replace(base, "@127.0.0.1:", "@"+p.dbHost+":", 1)
}

// onHost is addr's port on host.
func onHost(addr, host string) string {
	_, port, _ := net.SplitHostPort(addr)
	return net.JoinHostPort(host, port)
}

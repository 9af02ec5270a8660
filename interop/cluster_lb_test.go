package interop

// Three psgate nodes on one PostgreSQL database behind a real HAProxy
// running dist/haproxy/psgate.cfg, balancing every request round-robin with
// no affinity (issue 12, cluster.md §5). The harness is in
// cluster_lb_helpers_test.go.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/smnsjas/go-psrpcore/serialization"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/client"
	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/store"
)

// ---------------------------------------------------------------------------
// Load: clients that run one command at a time until told to stop, and
// record every failure instead of failing the test at once.

type loadFailure struct {
	at   time.Time
	code string
	err  string
}

type loadClient struct {
	kind, user string

	mu         sync.Mutex
	shell      string // the shell it opened first
	lastShell  string // the shell it uses now (the connector may replace it)
	ok         int
	failures   []loadFailure
	reconnects int
	notices    []string
	stopped    bool // gave up: its shell is gone
	endErr     string
	done       chan struct{}
}

func (f loadFailure) String() string {
	return fmt.Sprintf("%s [%s] %s", f.at.UTC().Format("15:04:05.000"), f.code, f.err)
}

func (l *loadClient) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := fmt.Sprintf("%s %s shell %s: %d ok, %d failed %v, %d reconnects", l.kind, l.user, l.shell, l.ok, len(l.failures), l.failures, l.reconnects)
	if l.endErr != "" {
		out += "; closing its shell failed: " + l.endErr
	}
	return out
}

// cmdFailed is a command that ran and wrote an error instead of its
// output.
type cmdFailed struct{ what, text string }

func (e *cmdFailed) Error() string { return e.what }

func (l *loadClient) record(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil {
		l.ok++
		return
	}
	code := faultCode(err)
	var cf *cmdFailed
	switch {
	case code != "":
	case errors.As(err, &cf) && strings.Contains(strings.Join(strings.Fields(cf.text), " "), psgate.E(psgate.CodeStoreDown, nil).Message):
		// A cmdlet that could not reach the store wrote the catalog's
		// store.unavailable message.
		code = string(psgate.CodeStoreDown)
	default:
		code = string(psgate.CodeOf(err))
	}
	l.failures = append(l.failures, loadFailure{at: time.Now(), code: code, err: err.Error()})
}

func (l *loadClient) successes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok
}

func (l *loadClient) failed() []loadFailure {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]loadFailure(nil), l.failures...)
}

// loadRun is a set of load clients and the switch that stops them.
type loadRun struct {
	t       *testing.T
	stop    chan struct{}
	stopF   string // pypsrp clients stop when this file exists
	clients []*loadClient
	once    sync.Once
}

func newLoadRun(t *testing.T) *loadRun {
	lr := &loadRun{t: t, stop: make(chan struct{}), stopF: filepath.Join(t.TempDir(), "stop")}
	t.Cleanup(lr.end)
	return lr
}

// end stops every client and waits for them.
func (lr *loadRun) end() {
	lr.once.Do(func() {
		close(lr.stop)
		_ = os.WriteFile(lr.stopF, nil, 0o644)
	})
	for _, l := range lr.clients {
		select {
		case <-l.done:
		case <-time.After(2 * time.Minute):
			lr.t.Errorf("load client did not stop: %s", l)
		}
	}
}

// pause waits d or until the run stops; false when it stopped.
func (lr *loadRun) pause(d time.Duration) bool {
	select {
	case <-lr.stop:
		return false
	case <-time.After(d):
		return true
	}
}

// winrs starts a WinRS client on a shell it opens at url now, running
// Get-CsTenant every `every`. A client whose shell is gone for good
// (node lost, not found) stops.
func (lr *loadRun) winrs(url, user, pw string, every time.Duration) *loadClient {
	lr.t.Helper()
	l := &loadClient{kind: "winrs", user: user, done: make(chan struct{})}
	w := newWinRSClient(url, user, pw)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := w.create(ctx); err != nil {
		lr.t.Fatalf("WinRS Create for %s: %v", user, err)
	}
	l.shell, l.lastShell = w.shellID, w.shellID
	lr.clients = append(lr.clients, l)
	go func() {
		defer close(l.done)
		for lr.pause(every) {
			// 90 s: longer than any answer may take; a hang fails here.
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			out, errOut, err := w.runErr(ctx, "Get-CsTenant")
			cancel()
			if err == nil && !strings.Contains(out, "contoso.test") {
				err = &cmdFailed{what: fmt.Sprintf("Get-CsTenant printed %q, error %q", out, errOut), text: errOut}
			}
			l.record(err)
			if c := faultCode(err); c == string(psgate.CodeNodeLost) || c == string(psgate.CodeShellNotFound) {
				l.mu.Lock()
				l.stopped = true
				l.mu.Unlock()
				return
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := w.close(ctx); err != nil {
			l.mu.Lock()
			l.endErr = err.Error()
			l.mu.Unlock()
		}
	}()
	return l
}

// connector starts a psgate connector session in reconnection mode (as
// `psgate connect`/Enable-CsOnlineSessionForReconnection run it).
func (lr *loadRun) connector(endpoint, user, pw string, every time.Duration) (*loadClient, *client.Reconnecting) {
	lr.t.Helper()
	l := &loadClient{kind: "connector", user: user, done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := client.DialReconnecting(ctx, client.Config{Endpoint: endpoint, User: user, Password: pw,
		TLS: client.TLSConfig{Insecure: true}, NoOpenWait: true}, func(msg string) {
		l.mu.Lock()
		l.notices = append(l.notices, msg)
		l.mu.Unlock()
	})
	if err != nil {
		lr.t.Fatalf("connector Dial for %s: %v", user, err)
	}
	l.shell, l.lastShell = r.Session().ID(), r.Session().ID()
	lr.clients = append(lr.clients, l)
	if every <= 0 {
		// Driven by the test itself.
		close(l.done)
		lr.t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = r.Close(ctx)
		})
		return l, r
	}
	go func() {
		defer close(l.done)
		for lr.pause(every) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			res, err := r.Run(ctx, client.Script("Get-CsTenant"), client.RunOptions{})
			cancel()
			if err == nil && res.Err() != nil {
				err = res.Err()
			} else if err == nil && len(res.Output) != 1 {
				err = fmt.Errorf("Get-CsTenant: %d objects", len(res.Output))
			}
			l.record(err)
			l.mu.Lock()
			l.reconnects = r.Reconnects()
			if s := r.Session(); s != nil {
				l.lastShell = s.ID()
			}
			l.mu.Unlock()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := r.Close(ctx); err != nil {
			l.mu.Lock()
			l.endErr = err.Error()
			l.mu.Unlock()
		}
	}()
	return l, r
}

// pypsrp starts testdata/cluster_lb_client.py: pypsrp with one runspace
// pool, one command every `every`, until the run ends.
func (lr *loadRun) pypsrp(rawURL, user, pw string, every time.Duration) *loadClient {
	lr.t.Helper()
	py := python(lr.t, "pypsrp")
	u, err := url.Parse(rawURL)
	if err != nil {
		lr.t.Fatal(err)
	}
	l := &loadClient{kind: "pypsrp", user: user, done: make(chan struct{})}
	cmd := exec.Command(py, filepath.Join("testdata", "cluster_lb_client.py"))
	cmd.Env = append(os.Environ(), "PSGATE_HOST="+u.Hostname(), "PSGATE_PORT="+u.Port(), "PSGATE_PATH=powershell",
		"PSGATE_USER="+user, "PSGATE_PASSWORD="+pw, "PSGATE_STOP_FILE="+lr.stopF,
		fmt.Sprintf("PSGATE_EVERY=%g", every.Seconds()))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		lr.t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		lr.t.Fatal(err)
	}
	opened := make(chan string, 1)
	go func() {
		defer close(l.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m struct {
				Shell string `json:"shell"`
				OK    *bool  `json:"ok"`
				End   *bool  `json:"end"`
				Error string `json:"error"`
			}
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				l.record(fmt.Errorf("pypsrp client printed %q", sc.Text()))
				continue
			}
			switch {
			case m.Shell != "":
				l.mu.Lock()
				l.shell, l.lastShell = m.Shell, m.Shell
				l.mu.Unlock()
				opened <- m.Shell
			case m.OK != nil && *m.OK:
				l.record(nil)
			case m.OK != nil:
				l.record(fmt.Errorf("%s", m.Error))
			case m.End != nil && !*m.End:
				l.mu.Lock()
				l.endErr = m.Error
				l.mu.Unlock()
			}
		}
		if err := cmd.Wait(); err != nil {
			l.record(fmt.Errorf("pypsrp client exited: %v\n%s", err, stderr.String()))
		}
		close(opened)
	}()
	select {
	case _, ok := <-opened:
		if !ok {
			<-l.done
			lr.t.Fatalf("pypsrp client for %s did not open its pool: %s", user, l)
		}
	case <-time.After(90 * time.Second):
		lr.t.Fatalf("pypsrp client for %s did not open its pool within 90 s", user)
	}
	lr.clients = append(lr.clients, l)
	return l
}

// waitFor waits until cond holds, failing the test after within (a
// generous bound: the condition, not the time, is what is tested).
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitSuccesses waits until every client in ls has at least n successes.
func waitSuccesses(t *testing.T, ls []*loadClient, n int, what string) {
	t.Helper()
	marks := make([]int, len(ls))
	waitProgress(t, ls, marks, n, what, false)
}

// marks are the clients' success counts now.
func marks(ls []*loadClient) []int {
	m := make([]int, len(ls))
	for i, l := range ls {
		m[i] = l.successes()
	}
	return m
}

// waitProgress waits until every client in ls has n successes more than
// marks. With failFast, the first failure of any client ends the test.
func waitProgress(t *testing.T, ls []*loadClient, marks []int, n int, what string, failFast bool) {
	t.Helper()
	const within = 2 * time.Minute
	deadline := time.Now().Add(within)
	for {
		var behind, failed []string
		for i, l := range ls {
			if l.successes() < marks[i]+n {
				behind = append(behind, l.String())
			}
			if failFast && len(l.failed()) != 0 {
				failed = append(failed, l.String())
			}
		}
		switch {
		case len(failed) != 0:
			t.Fatalf("%s: %d clients failed:\n%s", what, len(failed), strings.Join(failed, "\n"))
		case len(behind) == 0:
			return
		case time.Now().After(deadline):
			t.Fatalf("after %v, not yet %s; behind:\n%s", within, what, strings.Join(behind, "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// a. Every client, through the balancer.

// TestClusterLBClients: pypsrp, pywinrm, masterzen, go-psrpcore, the psgate
// connector and the Windows-shaped client each run their usual scenario
// through HAProxy balancing every request round-robin; about two thirds of
// the shell-addressed requests reach a node that does not hold the shell
// and are forwarded to the one that does.
func TestClusterLBClients(t *testing.T) {
	c := startLBCluster(t, lbOptions{})
	admin := server.DemoAdmin
	reqs0 := c.haproxyRequests()
	fwd0 := c.clusterMetric("psgate_forwarded_requests_total", `result="ok"`)
	creates0 := c.clusterMetric("psgate_admissions_total")

	t.Run("pypsrp", func(t *testing.T) {
		for _, tr := range []struct{ name, url string }{{"http", c.httpURL}, {"https", c.httpsURL}} {
			r := pypsrp(t, nil, tr.url, "powershell", "open_close")
			if r["opened"] != "2" || r["closed"] != "3" || !strings.HasPrefix(fmt.Sprint(r["ps_version"]), "5.1") {
				t.Errorf("open/close over %s = %s", tr.name, dump(r))
			}
		}
		if r := pypsrp(t, nil, c.httpURL, "powershell", "cmdlet"); r["count"] != 1.0 || r["display_name"] != "Alice Wong" || r["had_errors"] != false {
			t.Errorf("add_cmdlet/add_parameter = %s", dump(r))
		}
		if r := pypsrp(t, nil, c.httpURL, "powershell", "pipeline_input"); r["count"] != 4.0 || fmt.Sprint(r["first"]) != "[x y]" {
			t.Errorf("pipeline input = %s", dump(r))
		}
		// Disconnect through one node, find the pool and connect to it
		// from a second client through the others.
		if r := pypsrp(t, nil, c.httpURL, "powershell", "disconnect_connect"); r["found"] != true || r["count"] != 1.0 {
			t.Errorf("disconnect/connect = %s", dump(r))
		}
		if r := pypsrp(t, nil, c.httpURL, "wsman", "execute_cmd"); r["rc"] != 0.0 || !strings.Contains(fmt.Sprint(r["stdout"]), "contoso.test") {
			t.Errorf("Client.execute_cmd = %s", dump(r))
		}
	})

	t.Run("pywinrm", func(t *testing.T) {
		for _, u := range []string{c.httpURL, c.httpsURL} {
			if r := pywinrm(t, nil, u, "run_cmd"); r.Status != 0 || !strings.Contains(r.Stdout, "contoso.test") {
				t.Errorf("run_cmd('Get-CsTenant') through %s = status %d, stdout %q, stderr %q", u, r.Status, r.Stdout, r.Stderr)
			}
		}
		if r := pywinrm(t, nil, c.httpURL, "run_ps"); r.Status != 0 || strings.Count(r.Stdout, "DisplayName") != 2 {
			t.Errorf("run_ps = status %d, stdout %q, stderr %q", r.Status, r.Stdout, r.Stderr)
		}
	})

	t.Run("masterzen", func(t *testing.T) {
		for _, u := range []string{c.httpURL, c.httpsURL} {
			mz := masterzenClient(t, u, admin, adminPassword)
			stdout, stderr, code, err := mz.RunWithString("Get-CsTenant", "")
			if err != nil || code != 0 || !strings.Contains(stdout, "contoso.test") {
				t.Errorf("RunWithString(Get-CsTenant) through %s = %q, %q, %d, %v", u, stdout, stderr, code, err)
			}
			stdout, stderr, code, err = mz.RunPSWithString("Get-CsOnlineUser -Identity erin@contoso.test | Select-Object -ExpandProperty Department", "")
			if err != nil || code != 0 || strings.TrimSpace(stdout) != "Sales" {
				t.Errorf("RunPSWithString through %s = %q, %q, %d, %v", u, stdout, stderr, code, err)
			}
		}
	})

	t.Run("go-psrpcore", func(t *testing.T) {
		lbPSRPCore(t, strings.Replace(c.httpURL, "/wsman", "/powershell", 1))
	})

	t.Run("connector", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		s, err := client.Dial(ctx, client.Config{Endpoint: c.httpsURL, User: admin, Password: adminPassword, TLS: client.TLSConfig{Insecure: true}})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			res, err := s.Run(ctx, client.Script("Get-CsOnlineUser -Identity carol@contoso.test"), client.RunOptions{})
			if err != nil || len(res.Output) != 1 {
				t.Fatalf("command %d: %v, %+v", i, err, res)
			}
			if o, ok := res.Output[0].(*psobject.Object); !ok || prop(o, "DisplayName") != "Carol Diaz" {
				t.Fatalf("command %d: output %#v", i, res.Output[0])
			}
		}
		list, err := s.Sessions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, ss := range list {
			found = found || strings.EqualFold(ss.ID, s.ID())
		}
		if !found {
			t.Errorf("the session list through the balancer does not show the session %s: %+v", s.ID(), list)
		}
		if err := s.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})

	t.Run("Windows PowerShell", func(t *testing.T) {
		w := newWinPSClient(t, winURL(c.httpURL, ""), admin, adminPassword)
		w.open("WinRM-LB")
		// The outstanding shell-level Receive of the WinRM client, held
		// by the owner while other requests of the pool arrive at any
		// node.
		poolReceive := w.pending(w.envelope(actWinReceive, w.resource, true, keepAlive, w.receiveBody("")))
		for range 5 {
			o := oneUser(t, w.invoke(remotePipeline(true, invokeCommandPipeline(t, "Get-CsOnlineUser -Identity carol@contoso.test", sbScope{}))), "icm through the balancer")
			if prop(o, "DisplayName") != "Carol Diaz" {
				t.Fatalf("DisplayName = %v, want Carol Diaz", prop(o, "DisplayName"))
			}
		}
		w.delete()
		select {
		case r := <-poolReceive:
			if r.status <= 0 {
				t.Errorf("the outstanding pool Receive failed: %s", r.body)
			}
		case <-time.After(60 * time.Second):
			t.Error("the outstanding pool Receive did not end when the shell was deleted")
		}
	})

	t.Run("WinRS, 20 commands on one keep-alive connection", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		w := newWinRSClient(c.httpURL, admin, adminPassword)
		// One connection to HAProxy for the whole session: HAProxy
		// still balances each request on it.
		var dials atomic.Int32
		w.hc.Transport = &http.Transport{MaxConnsPerHost: 1, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}
		reqs0, fwd0 := c.haproxyRequests(), c.clusterMetric("psgate_forwarded_requests_total", `result="ok"`)
		if err := w.create(ctx); err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			if out, err := w.run(ctx, "Get-CsTenant"); err != nil || !strings.Contains(out, "contoso.test") {
				t.Fatalf("command %d: %q, %v", i, out, err)
			}
		}
		if err := w.close(ctx); err != nil {
			t.Fatal(err)
		}
		shellAddressed := float64(c.haproxyRequests() - reqs0 - 1) // all but the Create
		fwd := c.clusterMetric("psgate_forwarded_requests_total", `result="ok"`) - fwd0
		t.Logf("one connection (%d dialled): %.0f of %.0f shell-addressed requests forwarded (%.0f%%)", dials.Load(), fwd, shellAddressed, 100*fwd/shellAddressed)
		if dials.Load() != 1 {
			t.Errorf("the client dialled HAProxy %d times, want one keep-alive connection", dials.Load())
		}
		if share := fwd / shellAddressed; share < 0.45 || share > 0.9 {
			t.Errorf("%.0f of %.0f requests on one keep-alive connection were forwarded: HAProxy does not balance per request", fwd, shellAddressed)
		}
	})

	// The client's own address reaches the audit log through HAProxy's
	// X-Forwarded-For (the nodes trust HAProxy, 127.0.0.1) and through a
	// forwarding node's Psgate-Client header, whichever node holds the
	// shell and whichever node each request arrived at.
	t.Run("client address", func(t *testing.T) {
		const from = "127.1.2.3"
		w := newWinRSClient(c.httpURL, admin, adminPassword)
		w.hc.Transport.(*http.Transport).DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext
		ctx := context.Background()
		if err := w.create(ctx); err != nil {
			t.Fatal(err)
		}
		for range 4 {
			if out, err := w.run(ctx, "Get-CsTenant"); err != nil || !strings.Contains(out, "contoso.test") {
				t.Fatalf("Get-CsTenant from %s: %q, %v", from, out, err)
			}
		}
		if err := w.close(ctx); err != nil {
			t.Fatal(err)
		}
		// The shell's records: its creation, each command's start and end,
		// and its close.
		n := c.sqlInt(t, `SELECT count(*) FROM audit_log WHERE shell_id = $1 AND client_addr = $2`, w.shellID, from)
		other := c.sqlInt(t, `SELECT count(*) FROM audit_log WHERE shell_id = $1 AND client_addr <> $2`, w.shellID, from)
		if n < 6 || other != 0 {
			t.Errorf("audit records of shell %s: %d from %s, %d from another address; want every one from the client", w.shellID, n, from, other)
		}
	})

	// Every node took a share of the requests, and about two thirds of
	// those addressed to a shell were forwarded to its owner.
	st, err := c.haproxyStats()
	if err != nil {
		t.Fatal(err)
	}
	total := c.haproxyRequests() - reqs0
	for _, n := range c.nodes {
		got := 0
		fmt.Sscan(st[n.name]["req_tot"], &got)
		if float64(got) < 0.2*float64(total) {
			t.Errorf("HAProxy sent %s %d of %d requests: it does not balance per request", n.name, got, total)
		}
	}
	creates := c.clusterMetric("psgate_admissions_total") - creates0
	fwd := c.clusterMetric("psgate_forwarded_requests_total", `result="ok"`) - fwd0
	shellAddressed := float64(total) - creates
	share := fwd / shellAddressed
	t.Logf("%d requests through HAProxy, %.0f Creates, %.0f forwarded to the owner (%.0f%% of %.0f shell-addressed)", total, creates, fwd, 100*share, shellAddressed)
	if share < 0.45 || share > 0.9 {
		t.Errorf("%.0f of %.0f shell-addressed requests were forwarded (%.0f%%), want about two thirds", fwd, shellAddressed, 100*share)
	}
	if bad := c.clusterMetric("psgate_forwarded_requests_total") - c.clusterMetric("psgate_forwarded_requests_total", `result="ok"`); bad != 0 {
		t.Errorf("%.0f forwarded requests did not end ok", bad)
	}
}

// lbPSRPCore runs go-psrpcore's scenario (TestGoPSRPCore) at url: open a
// pool, run two pipelines, close it.
func lbPSRPCore(t *testing.T, url string) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pool, tr := openPSRPCorePool(ctx, t, url)
	defer tr.close()
	for _, who := range []string{"carol", "alice"} {
		pl, err := pool.CreatePipeline("Get-CsOnlineUser -Identity " + who + "@contoso.test")
		if err != nil {
			t.Fatal(err)
		}
		if err := pl.Invoke(ctx); err != nil {
			t.Fatal(err)
		}
		if err := pl.CloseInput(ctx); err != nil {
			t.Fatal(err)
		}
		var objects []any
		done := make(chan struct{})
		go func() {
			defer close(done)
			for msg := range pl.Output() {
				d := serialization.NewDeserializer()
				vals, err := d.Deserialize(msg.Data)
				d.Close()
				if err != nil {
					t.Errorf("deserialize output: %v", err)
					continue
				}
				objects = append(objects, vals...)
			}
		}()
		go func() {
			for range pl.Error() {
			}
		}()
		if err := pl.Wait(); err != nil {
			t.Fatalf("pipeline: %v", err)
		}
		<-done
		if len(objects) != 1 {
			t.Fatalf("%s: got %d objects, want 1: %#v", who, len(objects), objects)
		}
		if o, ok := objects[0].(*serialization.PSObject); !ok || !strings.EqualFold(fmt.Sprint(o.Properties["UserPrincipalName"]), who+"@contoso.test") {
			t.Fatalf("%s: output %#v", who, objects[0])
		}
	}
}

// ---------------------------------------------------------------------------
// b. Racing Creates.

// TestClusterLBRacingCreates: Creates racing through the balancer onto all
// three nodes admit exactly 3 shells per user and 20 per tenant; every
// refusal is the quota fault with its catalog code, and afterwards the lease
// rows are exactly the open shells.
func TestClusterLBRacingCreates(t *testing.T) {
	c := startLBCluster(t, lbOptions{})
	// The creation rate limit would refuse some of the racers first.
	c.setPolicy(t, func(p *store.Policy) { p.MaxShellCreationsPerMinute = 10000 })
	user := func(i int) string { return fmt.Sprintf("race%02d@contoso.test", i) }
	c.addUsers(t, user, 10)

	type outcome struct {
		user, shell, code string
		err               error
	}
	race := func(users []string) []outcome {
		var wg sync.WaitGroup
		out := make([]outcome, len(users))
		start := make(chan struct{})
		for i, u := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := newWinRSClient(c.httpURL, u, memberPassword)
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				<-start
				err := w.create(ctx)
				out[i] = outcome{user: u, shell: w.shellID, code: faultCode(err), err: err}
			}()
		}
		close(start)
		wg.Wait()
		return out
	}
	deleteAll := func(out []outcome) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		for _, o := range out {
			if o.shell != "" {
				w := newWinRSClient(c.httpURL, o.user, memberPassword)
				w.shellID = o.shell
				if err := w.close(ctx); err != nil {
					t.Errorf("Delete %s: %v", o.shell, err)
				}
			}
		}
	}
	check := func(t *testing.T, out []outcome, wantTotal int, wantCode psgate.Code) {
		t.Helper()
		perUser := map[string]int{}
		admitted, refusals := 0, map[string]int{}
		seen := map[string]bool{}
		nodes := map[string]int{}
		for _, o := range out {
			switch {
			case o.shell != "":
				admitted++
				perUser[o.user]++
				if seen[o.shell] {
					t.Errorf("shell %s admitted twice", o.shell)
				}
				seen[o.shell] = true
				if n := c.owner(t, o.shell); n != nil {
					nodes[n.name]++
				} else {
					t.Errorf("admitted shell %s has no lease row", o.shell)
				}
			case o.code != "":
				refusals[o.code]++
			default:
				t.Errorf("Create by %s failed without a catalog code: %v", o.user, o.err)
			}
		}
		for u, n := range perUser {
			if n > 3 {
				t.Errorf("%s got %d shells, the user quota is 3", u, n)
			}
		}
		if admitted != wantTotal {
			t.Errorf("%d shells admitted, want %d (per user %v)", admitted, wantTotal, perUser)
		}
		for code, n := range refusals {
			if code != string(wantCode) && !(wantCode == psgate.CodeTenantQuotaExceeded && code == string(psgate.CodeUserQuotaExceeded)) {
				t.Errorf("%d refusals with %s, want only quota refusals (%s)", n, code, wantCode)
			}
		}
		if got := c.liveLeases(t); got != admitted {
			t.Errorf("%d live lease rows, %d shells admitted", got, admitted)
		}
		if open := int(c.clusterMetric("psgate_node_shells")); open != admitted {
			t.Errorf("the nodes hold %d shells, %d were admitted", open, admitted)
		}
		// Which node wins a race is timing; TestClusterLBClients checks
		// that the balancer spreads requests.
		t.Logf("admitted %d (by node %v), refused %v", admitted, nodes, refusals)
	}

	t.Run("200 Creates by one user admit 3", func(t *testing.T) {
		users := make([]string, 200)
		for i := range users {
			users[i] = user(0)
		}
		out := race(users)
		check(t, out, 3, psgate.CodeUserQuotaExceeded)
		deleteAll(out)
		if got := c.liveLeases(t); got != 0 {
			t.Errorf("%d live lease rows after every shell was deleted", got)
		}
	})

	t.Run("200 Creates by 10 users of one tenant admit 20", func(t *testing.T) {
		var users []string
		for i := range 200 {
			users = append(users, user(i%10))
		}
		out := race(users)
		check(t, out, 20, psgate.CodeTenantQuotaExceeded)
		deleteAll(out)
		if got := c.liveLeases(t); got != 0 {
			t.Errorf("%d live lease rows after every shell was deleted", got)
		}
	})
}

// ---------------------------------------------------------------------------
// c. kill -9 of a node.

// TestClusterLBKillNode: a node killed with SIGKILL while clients run
// commands through the balancer. Its clients get session.node-lost at once,
// the other nodes' clients see no failure, the dead node's quota slots come
// back when its leases expire (within the lease TTL), and the connector
// replaces its lost session by itself on another node.
func TestClusterLBKillNode(t *testing.T) {
	c := startLBCluster(t, lbOptions{})
	c.setPolicy(t, func(p *store.Policy) { p.MaxShellCreationsPerMinute = 10000 })
	user := func(i int) string { return fmt.Sprintf("kill%d@contoso.test", i) }
	c.addUsers(t, user, 4) // kill0..kill2 run the load, kill3 fills its quota
	lr := newLoadRun(t)

	// The connector's session decides the victim: the node that holds it.
	conn, rc := lr.connector(c.httpURL, server.DemoAdmin, adminPassword, 0)
	victim := c.owner(t, conn.shell)
	if victim == nil {
		t.Fatalf("the connector's shell %s has no lease", conn.shell)
	}
	// kill3 holds all three of their slots on the victim.
	for i := range 3 {
		w := newWinRSClient(victim.url(), user(3), memberPassword)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := w.create(ctx)
		cancel()
		if err != nil {
			t.Fatalf("kill3's shell %d on %s: %v", i, victim.name, err)
		}
	}
	// Nine WinRS clients through the balancer: three shells on each node.
	var onVictim, others []*loadClient
	for i := range 9 {
		l := lr.winrs(c.httpURL, user(i%3), memberPassword, 200*time.Millisecond)
		if c.owner(t, l.shell) == victim {
			onVictim = append(onVictim, l)
		} else {
			others = append(others, l)
		}
	}
	if len(onVictim) == 0 || len(others) == 0 {
		t.Fatalf("the balancer put %d of 9 shells on %s: it does not balance", len(onVictim), victim.name)
	}
	waitSuccesses(t, lr.clients[1:], 3, "every load client ran three commands before the kill")

	victimID := c.nodeID(t, victim)
	killedAt, killWall := c.sqlTime(t), time.Now()
	c.signal(victim, syscall.SIGKILL)
	_ = c.waitExit(victim, 30*time.Second)
	t.Logf("killed %s (%d of its shells under load); %d load shells on the other nodes", victim.name, len(onVictim), len(others))

	// The victim's clients: a clear catalog error, not a hang. A request
	// the dead node was serving when it died (forwarded to it, its
	// connection reset) may be answered cluster.owner-unreachable (503,
	// Retry-After: the entry node cannot tell a reset from a dead peer);
	// the next one is session.node-lost, and the client stops there.
	waitFor(t, 2*time.Minute, "every client of the killed node was told session.node-lost", func() bool {
		for _, l := range onVictim {
			l.mu.Lock()
			stopped := l.stopped
			l.mu.Unlock()
			if !stopped {
				return false
			}
		}
		return true
	})
	unreachable := 0
	for _, l := range onVictim {
		f := l.failed()
		if last := f[len(f)-1]; last.code != string(psgate.CodeNodeLost) {
			t.Errorf("a client of the killed node ended with %s, want %s", last, psgate.CodeNodeLost)
		}
		for _, x := range f[:len(f)-1] {
			if x.code != "cluster.owner-unreachable" {
				t.Errorf("a client of the killed node got %s before %s", x, psgate.CodeNodeLost)
			}
			unreachable++
		}
	}
	t.Logf("%d requests in flight at the kill were answered cluster.owner-unreachable, then every client of %s got %s", unreachable, victim.name, psgate.CodeNodeLost)

	// The connector carries on in a new session on another node.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	res, err := rc.Run(ctx, client.Script("Get-CsTenant"), client.RunOptions{})
	cancel()
	if err != nil || len(res.Output) != 1 {
		t.Errorf("the connector's first command after the kill: %v (notices %v)", err, conn.notices)
	} else {
		if rc.Reconnects() != 1 || len(conn.notices) != 1 || !strings.Contains(conn.notices[0], string(psgate.CodeNodeLost)) {
			t.Errorf("connector: %d reconnects, notices %q; want one, naming %s", rc.Reconnects(), conn.notices, psgate.CodeNodeLost)
		}
		if n := c.owner(t, rc.Session().ID()); n == nil || n == victim {
			t.Errorf("the connector's new session %s is on %v, want a live node", rc.Session().ID(), n)
		}
	}

	// The victim's slots: its lease rows expire no later than the TTL
	// after the kill (store clock), and then count no more: kill3 may
	// open a shell again.
	if late := c.sqlInt(t, `SELECT count(*) FROM shell_leases WHERE node_id = $1 AND expires_at > $2::timestamptz + $3::interval`,
		victimID, killedAt, (lbLeaseTTL + time.Second).String()); late != 0 {
		t.Errorf("%d of the killed node's leases run longer than the TTL (%v) after the kill", late, lbLeaseTTL)
	}
	var reclaimed time.Time
	waitFor(t, 2*time.Minute, "kill3 could open a shell again after the killed node's leases expired", func() bool {
		w := newWinRSClient(c.httpURL, user(3), memberPassword)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err := w.create(ctx)
		if err == nil {
			reclaimed = time.Now()
			_ = w.close(ctx)
			return true
		}
		if code := faultCode(err); code != string(psgate.CodeUserQuotaExceeded) {
			t.Errorf("kill3's Create while the killed node's leases live: %v, want %s", err, psgate.CodeUserQuotaExceeded)
		}
		return false
	})
	// The rest of its leases (renewed later than kill3's) follow.
	waitFor(t, 2*time.Minute, "every lease of the killed node expired", func() bool {
		return c.sqlInt(t, `SELECT count(*) FROM shell_leases WHERE node_id = $1 AND expires_at > now()`, victimID) == 0
	})
	t.Logf("kill3's slots were back %v after the kill (lease TTL %v)", reclaimed.Sub(killWall).Round(time.Millisecond), lbLeaseTTL)

	// The other nodes' clients never failed, before or after.
	waitProgress(t, others, marks(others), 3, "the other nodes' clients ran three more commands", false)
	lr.end()
	for _, l := range others {
		l.mu.Lock()
		failed := len(l.failures) != 0 || l.endErr != ""
		l.mu.Unlock()
		if failed {
			t.Errorf("a client of a live node failed: %s", l)
		}
	}
	if got, open := c.liveLeases(t), int(c.clusterMetric("psgate_node_shells")); got != open {
		t.Errorf("%d live lease rows, the live nodes hold %d shells", got, open)
	}
}

// ---------------------------------------------------------------------------
// d. PostgreSQL restarted under load.

// TestClusterLBPostgresRestart: the cluster's PostgreSQL restarted (fast
// shutdown) while clients run commands: no shell is closed for an outage
// shorter than TTL − margin, and afterwards the lease rows are exactly the
// open shells and the quotas still hold exactly.
func TestClusterLBPostgresRestart(t *testing.T) {
	pg, dsn := startPrivatePostgres(t, nil)
	c := startLBCluster(t, lbOptions{dsn: dsn})
	c.setPolicy(t, func(p *store.Policy) { p.MaxShellCreationsPerMinute = 10000 })
	user := func(i int) string { return fmt.Sprintf("pg%d@contoso.test", i) }
	c.addUsers(t, user, 4)
	lr := newLoadRun(t)
	var load []*loadClient
	for i := range 6 {
		load = append(load, lr.winrs(c.httpURL, user(i%3), memberPassword, 200*time.Millisecond))
	}
	conn, _ := lr.connector(c.httpURL, server.DemoAdmin, adminPassword, 200*time.Millisecond)
	load = append(load, conn)
	waitSuccesses(t, load, 3, "every client ran three commands before the restart")
	before := c.liveLeases(t)

	for _, mode := range []string{"fast", "immediate"} {
		m := marks(load)
		pg.restart(t, mode)
		t.Logf("PostgreSQL restarted (-m %s)", mode)
		// Every client goes on in its own shell.
		waitProgress(t, load, m, 3, "every client ran three more commands after the restart", false)
	}
	storeDown := 0
	for _, l := range load {
		l.mu.Lock()
		lost := l.stopped || l.lastShell != l.shell || l.reconnects != 0
		l.mu.Unlock()
		if lost {
			t.Errorf("a client lost its shell in a PostgreSQL restart: %s", l)
		}
		for _, f := range l.failed() {
			// The store is needed for nothing a running shell does but
			// sign-in checks; an outage may refuse those, no more.
			if f.code != string(psgate.CodeStoreDown) {
				t.Errorf("%s failed with %s during the restart: %s", l.kind, f.code, f.err)
			}
			storeDown++
		}
	}
	t.Logf("%d commands (Get-CsTenant reads the store) reported store.unavailable during the two outages", storeDown)
	if after := c.liveLeases(t); after != before {
		t.Errorf("%d live lease rows before the restarts, %d after", before, after)
	}
	if got, open := c.liveLeases(t), int(c.clusterMetric("psgate_node_shells")); got != open {
		t.Errorf("%d live lease rows, the nodes hold %d shells", got, open)
	}
	// The quota is still exact: 50 racing Creates by a user with no
	// shell admit 3.
	var mu sync.Mutex
	admitted, refusals := 0, map[string]int{}
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWinRSClient(c.httpURL, user(3), memberPassword)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			err := w.create(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				admitted++
				return
			}
			refusals[faultCode(err)+" "+firstLineOf(err.Error())]++
		}()
	}
	wg.Wait()
	if admitted != 3 || len(refusals) != 1 {
		t.Errorf("after the restarts, 50 racing Creates by one user: %d admitted, refusals %v; want 3 and only %s", admitted, refusals, psgate.CodeUserQuotaExceeded)
	}
	lr.end()
}

// ---------------------------------------------------------------------------
// e. Rolling restart.

// TestClusterLBRollingRestart: the three nodes are restarted one after the
// other (SIGTERM, wait for the exit, start again, wait until HAProxy sends
// it requests) while 30 clients — pypsrp, the connector and WinRS — run one
// command a second the whole time. Idle shells are handed over to a live
// node on drain: no command fails and no client gets a new shell.
func TestClusterLBRollingRestart(t *testing.T) {
	c := startLBCluster(t, lbOptions{})
	c.setPolicy(t, func(p *store.Policy) {
		p.MaxShellsPerTenant = 40
		p.MaxShellCreationsPerMinute = 10000
	})
	user := func(i int) string { return fmt.Sprintf("roll%02d@contoso.test", i) }
	c.addUsers(t, user, 10)
	lr := newLoadRun(t)
	for i := range 10 {
		u := user(i)
		lr.pypsrp(c.httpURL, u, memberPassword, time.Second)
		lr.connector(c.httpURL, u, memberPassword, time.Second)
		lr.winrs(c.httpURL, u, memberPassword, time.Second)
	}
	waitSuccesses(t, lr.clients, 2, "every client ran two commands before the restarts")
	shells0 := c.liveLeases(t)
	if shells0 != 30 {
		t.Fatalf("%d live leases for 30 clients", shells0)
	}

	for _, n := range c.nodes {
		held := c.sqlInt(t, `SELECT count(*) FROM shell_leases l JOIN gateway_nodes g ON g.node_id = l.node_id
			WHERE g.node_name = $1 AND l.expires_at > now()`, n.httpsAddr)
		c.signal(n, syscall.SIGTERM)
		if err := c.waitExit(n, 2*time.Minute); err != nil {
			t.Errorf("%s exited with %v after SIGTERM, want status 0", n.name, err)
		}
		c.startNode(n)
		c.waitReady(n)
		c.waitServersUp(n)
		t.Logf("restarted %s (it held %d shells)", n.name, held)
		waitProgress(t, lr.clients, marks(lr.clients), 2, "every client ran two more commands after the restart of "+n.name, true)
	}
	// The same 30 shells hold the 30 slots: none was closed and reopened.
	leased := c.leasedShells(t)
	for _, l := range lr.clients {
		if !leased[strings.ToUpper(l.shell)] {
			t.Errorf("after the restarts, no lease holds the shell of %s", l)
		}
	}
	if len(leased) != 30 {
		t.Errorf("%d live leases after the restarts, want the 30 clients' shells", len(leased))
	}
	lr.end()
	for _, l := range lr.clients {
		l.mu.Lock()
		newShell := l.lastShell != l.shell || l.reconnects != 0
		failed := len(l.failures) != 0 || l.stopped || l.endErr != ""
		l.mu.Unlock()
		if failed || newShell {
			t.Errorf("rolling restart: %s", l)
		}
	}
}

// sqlTime is the store clock now, as text PostgreSQL reads back.
func (c *lbCluster) sqlTime(t *testing.T) string {
	t.Helper()
	var now string
	c.withDB(t, func(ctx context.Context, conn *pgx.Conn) error {
		return conn.QueryRow(ctx, `SELECT clock_timestamp()::text`).Scan(&now)
	})
	return now
}

// ---------------------------------------------------------------------------
// f. A node cut off from the database.

// TestClusterLBPartition: gw3 loses its link to PostgreSQL (the link goes
// down: a blackhole, not a refusal) while clients still reach it. It stops
// admitting at once, leaves the balancer's rotation, and closes its shells
// before their leases expire, so that the other nodes, which admit
// replacements only once those leases expired, never exceed a quota. When
// the link is back it registers again.
func TestClusterLBPartition(t *testing.T) {
	part := newPartition(t)
	_, dsn := startPrivatePostgres(t, part)
	c := startLBCluster(t, lbOptions{dsn: dsn, partition: part})
	c.setPolicy(t, func(p *store.Policy) { p.MaxShellCreationsPerMinute = 10000 })
	user := func(i int) string { return fmt.Sprintf("part%d@contoso.test", i) }
	c.addUsers(t, user, 3) // part0 fills its quota on gw3, part1 runs load, part2 probes
	cut := c.nodes[2]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	var held []*winrsClient
	for i := range 3 {
		w := newWinRSClient(cut.url(), user(0), memberPassword)
		if err := w.create(ctx); err != nil {
			t.Fatalf("part0's shell %d on %s: %v", i, cut.name, err)
		}
		held = append(held, w)
	}
	lr := newLoadRun(t)
	var others []*loadClient
	for range 3 {
		l := lr.winrs(c.nodes[0].url(), user(1), memberPassword, 200*time.Millisecond)
		others = append(others, l)
	}
	waitSuccesses(t, others, 3, "the load on gw1 ran three commands")
	cutID := c.nodeID(t, cut)

	part.set(t, false)
	t.Logf("cut %s off from the database", cut.name)
	// Renewals stopped: these are the leases' last expiry times.
	var expiry time.Time
	c.withDB(t, func(ctx context.Context, conn *pgx.Conn) error {
		return conn.QueryRow(ctx, `SELECT min(expires_at) FROM shell_leases WHERE node_id = $1`, cutID).Scan(&expiry)
	})

	// It admits nothing: a Create sent to it gets a catalog refusal.
	probe := newWinRSClient(cut.url(), user(2), memberPassword)
	if err := probe.create(ctx); err == nil {
		t.Errorf("%s admitted a shell while cut off from the database", cut.name)
	} else if faultCode(err) == "" {
		t.Errorf("a Create on the cut-off node: %v, want a catalog fault", err)
	} else {
		t.Logf("a Create on the cut-off node: %s", faultCode(err))
	}

	// It closes its shells before their leases expire (its log says
	// when; the machine's clock is the database's).
	var closedAt time.Time
	closeRE := regexp.MustCompile(`time=(\S+) level=ERROR msg="lease renewal deadline passed`)
	waitFor(t, 2*time.Minute, cut.name+" logged that it closes its shells", func() bool {
		b, _ := os.ReadFile(cut.logFile)
		if m := closeRE.FindSubmatch(b); m != nil {
			var err error
			closedAt, err = time.Parse(time.RFC3339Nano, string(m[1]))
			return err == nil
		}
		return false
	})
	t.Logf("%s closed its shells %v before their leases expired", cut.name, expiry.Sub(closedAt).Round(time.Millisecond))
	if !closedAt.Before(expiry) {
		t.Errorf("%s closed its shells at %s, after their leases expired at %s", cut.name, closedAt.Format(time.RFC3339Nano), expiry.Format(time.RFC3339Nano))
	}
	// Their client is told.
	if _, err := held[0].run(ctx, "Get-CsTenant"); faultCode(err) == "" {
		t.Errorf("a command on a shell the cut-off node closed: %v, want a catalog fault", err)
	} else {
		t.Logf("a command on a closed shell: %s", faultCode(err))
	}
	// It leaves the balancer's rotation.
	waitFor(t, time.Minute, "HAProxy took the cut-off node out of its rotation", func() bool {
		st, err := c.haproxyStats()
		return err == nil && strings.HasPrefix(st[cut.name]["status"], "DOWN")
	})

	// The other nodes admit part0 again only once those leases expired.
	waitFor(t, 2*time.Minute, "part0 could open a shell on gw1 again", func() bool {
		w := newWinRSClient(c.nodes[0].url(), user(0), memberPassword)
		err := w.create(ctx)
		if err == nil {
			if now := time.Now(); now.Before(expiry) {
				t.Errorf("gw1 admitted part0's fourth shell at %s, before the cut-off node's leases expired at %s", now.Format(time.RFC3339Nano), expiry.Format(time.RFC3339Nano))
			}
			return true
		}
		if code := faultCode(err); code != string(psgate.CodeUserQuotaExceeded) {
			t.Errorf("part0's Create on gw1: %v, want %s until the leases expire", err, psgate.CodeUserQuotaExceeded)
		}
		return false
	})

	// The link back: it rejoins the rotation and admits again.
	part.set(t, true)
	c.waitReady(cut)
	c.waitServersUp(cut)
	refusals := map[string]int{}
	waitFor(t, 2*time.Minute, cut.name+" admitted a shell again after the link came back", func() bool {
		err := newWinRSClient(cut.url(), user(2), memberPassword).create(ctx)
		if err != nil {
			refusals[faultCode(err)]++
		}
		return err == nil
	})
	t.Logf("after the link came back, %s refused %v before it admitted again", cut.name, refusals)
	lr.end()
	for _, l := range others {
		if f := l.failed(); len(f) != 0 {
			t.Errorf("a client of gw1 failed during the partition: %s", l)
		}
	}
}

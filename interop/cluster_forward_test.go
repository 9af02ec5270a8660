package interop

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psgate/psgate/client"
	"github.com/psgate/psgate/cluster"
	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/server/servertest"
)

// clusterNodes starts n nodes on one PostgreSQL database, linked by
// internal listeners with certificates from a fresh cluster authority.
func clusterNodes(t *testing.T, n int, adjust func(i int, c *server.Config)) []*testServer {
	t.Helper()
	dsn := postgresDSN(t)
	dir := t.TempDir()
	if err := cluster.Init(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	nodes := make([]*testServer, n)
	for i := range nodes {
		name := "node" + string(rune('a'+i))
		cert, key, err := cluster.Issue(dir, name, nil, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = startServerWith(t, func(c *server.Config) {
			c.StoreDSN = dsn
			c.Cluster = server.ClusterConfig{Listen: "127.0.0.1:0", CA: filepath.Join(dir, cluster.CAFile), Cert: cert, Key: key}
			if adjust != nil {
				adjust(i, c)
			}
		})
	}
	return nodes
}

// roundRobin is a load balancer without affinity: each request goes to
// the next node, whatever connection or cookie it came with.
func roundRobin(t *testing.T, urls ...string) (string, *atomic.Int64) {
	t.Helper()
	var next, served atomic.Int64
	targets := make([]*url.URL, len(urls))
	for i, u := range urls {
		p, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		targets[i] = p
	}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		to := targets[int(next.Add(1))%len(targets)]
		r.SetURL(&url.URL{Scheme: to.Scheme, Host: to.Host})
		r.Out.URL.Path = to.Path
		served.Add(1)
	}}
	lb := httptest.NewServer(rp)
	t.Cleanup(lb.Close)
	return lb.URL + "/wsman", &served
}

// TestClusterForwardsToTheShellsNode: two nodes with an internal link
// serve a client whose every request may land on either node, as behind a
// round-robin balancer without affinity: commands run, Enumerate on one
// node lists the shells of both, and Delete through the other node frees
// the slot.
func TestClusterForwardsToTheShellsNode(t *testing.T) {
	nodes := clusterNodes(t, 2, nil)
	a, b := nodes[0], nodes[1]
	lb, served := roundRobin(t, a.httpURL, b.httpURL)

	// masterzen opens a shell, runs the command, reads its output and
	// deletes the shell: four or more requests, alternating nodes.
	c := servertest.Masterzen(t, lb, server.DemoAdmin, adminPassword)
	for i := range 4 {
		out, _, code, err := c.RunWithString("Write-Output forwarded-"+string(rune('0'+i)), "")
		if err != nil || code != 0 || !strings.Contains(out, "forwarded-"+string(rune('0'+i))) {
			t.Fatalf("run %d through the balancer: %q, exit %d, %v", i, out, code, err)
		}
	}
	if served.Load() < 16 {
		t.Fatalf("the balancer saw %d requests, want at least 16", served.Load())
	}

	// A shell opened on A is reachable, listed and closed through B.
	onA, f := create(t, a.httpURL, server.DemoAdmin, adminPassword, "FW-A")
	if f != nil {
		t.Fatal(f)
	}
	status, _, body := soapPost(t, b.httpURL, server.DemoAdmin, adminPassword, envelope("FW-CMD", actCommand, onA,
		`<rsp:CommandLine><rsp:Command>Get-CsTenant</rsp:Command></rsp:CommandLine>`))
	if status != http.StatusOK || !strings.Contains(body, "CommandId") {
		t.Fatalf("Command on node B for node A's shell: HTTP %d\n%s", status, body)
	}
	status, _, body = soapPost(t, b.httpURL, server.DemoAdmin, adminPassword, enumerateShells("FW-ENUM"))
	if status != http.StatusOK || !strings.Contains(body, onA) {
		t.Fatalf("Enumerate on node B does not list node A's shell %s: HTTP %d\n%s", onA, status, body)
	}
	// Another user of the tenant neither sees nor reaches it.
	a.addUser(t, "other@contoso.test", memberPassword, "Tenant Administrator")
	_, _, body = soapPost(t, b.httpURL, "other@contoso.test", memberPassword, enumerateShells("FW-ENUM2"))
	if strings.Contains(body, onA) {
		t.Fatalf("another user's Enumerate lists the shell:\n%s", body)
	}
	_, _, body = soapPost(t, b.httpURL, "other@contoso.test", memberPassword, envelope("FW-X", actDelete, onA, ""))
	if !strings.Contains(body, "session.not-found") && !strings.Contains(body, "shell was not found") {
		t.Fatalf("another user's Delete of the shell through node B:\n%s", body)
	}
	if status, _, body := soapPost(t, b.httpURL, server.DemoAdmin, adminPassword, envelope("FW-DEL", actDelete, onA, "")); status != http.StatusOK {
		t.Fatalf("Delete on node B for node A's shell: HTTP %d\n%s", status, body)
	}
	_, _, body = soapPost(t, a.httpURL, server.DemoAdmin, adminPassword, envelope("FW-GONE", actCommand, onA,
		`<rsp:CommandLine><rsp:Command>Get-CsTenant</rsp:Command></rsp:CommandLine>`))
	if !strings.Contains(body, "shell was not found") {
		t.Fatalf("the shell deleted through node B still answers on node A:\n%s", body)
	}
}

// TestClusterAffinityCookie: with the affinity cookie on, a Create's
// answer names the node, for balancers that persist on it.
func TestClusterAffinityCookie(t *testing.T) {
	nodes := clusterNodes(t, 1, func(_ int, c *server.Config) { c.Cluster.AffinityCookie = true })
	status, h, body := soapPost(t, nodes[0].httpURL, server.DemoAdmin, adminPassword, envelope("AFF", actCreate, "", createBody))
	if status != http.StatusOK {
		t.Fatalf("Create: HTTP %d\n%s", status, body)
	}
	ck := h.Get("Set-Cookie")
	if !strings.HasPrefix(ck, "psgate_node=") || !strings.Contains(ck, nodes[0].Info().Node) || !strings.Contains(ck, "HttpOnly") {
		t.Fatalf("Create's Set-Cookie = %q, want psgate_node naming %s", ck, nodes[0].Info().Node)
	}
}

func enumerateShells(msgID string) []byte {
	return []byte(strings.Replace(string(envelope(msgID, "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", "",
		`<wsen:Enumerate xmlns:wsen="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><w:OptimizeEnumeration/><w:MaxElements>32000</w:MaxElements></wsen:Enumerate>`)),
		"http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd", "http://schemas.microsoft.com/wbem/wsman/1/windows/shell", 1))
}

// flakyLink is a TCP relay in front of a node's internal listener that
// drops its first connections as they arrive: a network fault between the
// nodes, while the node itself is fine.
type flakyLink struct {
	ln      net.Listener
	target  atomic.Value // string: host:port
	drop    atomic.Int64
	dropped atomic.Int64
}

func newFlakyLink(t *testing.T, drop int64) *flakyLink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &flakyLink{ln: ln}
	f.drop.Store(drop)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if f.dropped.Load() < f.drop.Load() {
				f.dropped.Add(1)
				c.Close()
				continue
			}
			go func() {
				defer c.Close()
				to, _ := f.target.Load().(string)
				up, err := net.Dial("tcp", to)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c) }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	return f
}

// TestClusterOwnerUnreachableIsRetried: when the link to a shell's node
// fails, the node the request reached answers cluster.owner-unreachable at
// once (503, Retry-After), and the psgate connector sends the request
// again instead of losing its session.
func TestClusterOwnerUnreachableIsRetried(t *testing.T) {
	link := newFlakyLink(t, 1)
	nodes := clusterNodes(t, 2, func(i int, c *server.Config) {
		if i == 0 {
			c.Cluster.URL = "https://" + link.ln.Addr().String()
		}
	})
	a, b := nodes[0], nodes[1]
	link.target.Store(a.InternalAddr())

	// Node B cannot reach node A for the first request.
	onA, f := create(t, a.httpURL, server.DemoAdmin, adminPassword, "UNR-A")
	if f != nil {
		t.Fatal(f)
	}
	status, h, body := soapPost(t, b.httpURL, server.DemoAdmin, adminPassword, envelope("UNR-1", actCommand, onA,
		`<rsp:CommandLine><rsp:Command>Get-CsTenant</rsp:Command></rsp:CommandLine>`))
	if status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || !strings.Contains(body, "cluster.owner-unreachable") {
		t.Fatalf("a request for node A's shell while the link fails: HTTP %d, Retry-After %q\n%s", status, h.Get("Retry-After"), body)
	}
	status, _, body = soapPost(t, b.httpURL, server.DemoAdmin, adminPassword, envelope("UNR-2", actCommand, onA,
		`<rsp:CommandLine><rsp:Command>Get-CsTenant</rsp:Command></rsp:CommandLine>`))
	if status != http.StatusOK {
		t.Fatalf("the same request once the link works: HTTP %d\n%s", status, body)
	}

	// The connector: its session lives on A, every other request lands on
	// B, and the link drops B's next connection.
	link.drop.Store(link.dropped.Load() + 1)
	b.Server.Peers().Close() // B's idle connection to A goes, so B dials again
	lb, _ := roundRobin(t, b.httpURL, a.httpURL)
	s, err := client.Dial(context.Background(), client.Config{Endpoint: lb, User: server.DemoAdmin, Password: adminPassword})
	if err != nil {
		t.Fatalf("connector through the balancer: %v", err)
	}
	defer s.Close(context.Background())
	res, err := s.Run(context.Background(), client.Script("Write-Output after-the-fault"), client.RunOptions{})
	if err == nil {
		err = res.Err()
	}
	if err != nil {
		t.Fatalf("a command while the link to the session's node failed once: %v", err)
	}
	if link.dropped.Load() < link.drop.Load() {
		t.Fatalf("the link dropped %d connections, want %d: the fault was not exercised", link.dropped.Load(), link.drop.Load())
	}
}

// TestClusterForwardedRequestSentAgain: a load balancer resends a request
// whose node died before relaying the owner's answer (HAProxy's retry-on
// empty-response); the owner answers the same request (same MessageID)
// as it did, instead of running the Command twice or handing the
// Receive's output out a second time.
func TestClusterForwardedRequestSentAgain(t *testing.T) {
	nodes := clusterNodes(t, 2, nil)
	a, b := nodes[0], nodes[1]
	onA, f := create(t, a.httpURL, server.DemoAdmin, adminPassword, "AGAIN-A")
	if f != nil {
		t.Fatal(f)
	}
	command := envelope("AGAIN-CMD", actCommand, onA, `<rsp:CommandLine><rsp:Command>Get-CsTenant</rsp:Command></rsp:CommandLine>`)
	_, _, first := soapPost(t, b.httpURL, server.DemoAdmin, adminPassword, command)
	_, _, again := soapPost(t, b.httpURL, server.DemoAdmin, adminPassword, command)
	cid := regexp.MustCompile(`CommandId>([^<]+)<`).FindStringSubmatch(first)
	if cid == nil || again != first {
		t.Fatalf("the same Command sent twice through node B:\n%s\n---\n%s", first, again)
	}
	receive := envelope("AGAIN-RCV", actReceive, onA, `<rsp:Receive><rsp:DesiredStream CommandId="`+cid[1]+`">stdout stderr</rsp:DesiredStream></rsp:Receive>`)
	var out string
	for i := 0; !strings.Contains(out, "CommandState/Done"); i++ {
		// Each poll is a new request (a new MessageID), as clients send.
		_, _, out = soapPost(t, b.httpURL, server.DemoAdmin, adminPassword,
			[]byte(strings.Replace(string(receive), "AGAIN-RCV", fmt.Sprintf("AGAIN-RCV-%d", i), 1)))
		if i > 50 {
			t.Fatalf("the command never ended:\n%s", out)
		}
		if strings.Contains(out, "CommandState/Done") {
			// The last poll, sent again: the same answer, output and all.
			_, _, again := soapPost(t, b.httpURL, server.DemoAdmin, adminPassword,
				[]byte(strings.Replace(string(receive), "AGAIN-RCV", fmt.Sprintf("AGAIN-RCV-%d", i), 1)))
			if again != out {
				t.Fatalf("the final Receive sent again:\n%s\n--- first answered\n%s", again, out)
			}
		}
	}
	// A new request for the ended command is refused as before.
	_, _, late := soapPost(t, b.httpURL, server.DemoAdmin, adminPassword, []byte(strings.Replace(string(receive), "AGAIN-RCV", "AGAIN-RCV-NEW", 1)))
	if !strings.Contains(late, "wsman.command-not-found") && !strings.Contains(late, "command identifier that does not exist") {
		t.Fatalf("a new Receive for the ended command:\n%s", late)
	}
}

package gateway_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/gateway"
	"github.com/psgate/psgate/store"
)

// peerSeen wraps an Authenticator and records the connection peer each
// request was authenticated with.
type peerSeen struct {
	gateway.Authenticator
	peers *[]string
}

func (p peerSeen) Authenticate(ctx context.Context, r *http.Request) (psgate.Principal, error) {
	*p.peers = append(*p.peers, r.RemoteAddr)
	return p.Authenticator.Authenticate(ctx, r)
}

// The client address the gateway audits is the one its ClientAddr
// resolver names (behind a trusted proxy, the client, not the proxy); on a
// request another node forwarded, it is the client that node named, and
// authentication sees that client as the peer too, so that sign-ins are
// counted against the client rather than against the forwarding node.
func TestClientAddress(t *testing.T) {
	w := newWorld(t)
	var peers []string
	g := w.gateway(t, func(c *gateway.Config) {
		c.Auth = peerSeen{Authenticator: c.Auth, peers: &peers}
		c.ClientAddr = func(r *http.Request) string {
			if r.RemoteAddr == "192.0.2.1:4000" { // a trusted proxy naming its client
				return "198.51.100.9"
			}
			// Any other peer is the client, as for the real resolver.
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			return host
		}
	})
	send := func(serve func(http.ResponseWriter, *http.Request), shellID, remote string, header http.Header) string {
		create := replaceGroup(reCreateID, w.template(t, "pypsrp-psrp-create.xml"), shellID)
		r := httptest.NewRequest(http.MethodPost, "http://gw.test/wsman", bytes.NewReader(create))
		r.RemoteAddr = remote
		r.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
		for k, v := range header {
			r.Header[k] = v
		}
		r.SetBasicAuth("alice", fuzzPassword)
		rec := httptest.NewRecorder()
		serve(rec, r)
		if rec.Code != http.StatusOK {
			t.Fatalf("Create: %d %s", rec.Code, rec.Body)
		}
		m := reAnsweredID.FindStringSubmatch(rec.Body.String())
		if m == nil {
			t.Fatalf("no ShellId in %s", rec.Body)
		}
		return m[1]
	}
	addrOf := func(shellID string) string {
		recs, err := w.st.SearchAudit(context.Background(), store.AuditFilter{ShellID: shellID})
		if err != nil || len(recs) == 0 {
			t.Fatalf("audit of %s: %v, %d records", shellID, err, len(recs))
		}
		for _, r := range recs[1:] {
			if r.ClientAddr != recs[0].ClientAddr {
				t.Fatalf("shell %s audited from %q and %q", shellID, recs[0].ClientAddr, r.ClientAddr)
			}
		}
		return recs[0].ClientAddr
	}

	id := send(g.ServeHTTP, "EEEEEEEE-0000-4000-8000-000000000001", "192.0.2.1:4000", nil)
	if got := addrOf(id); got != "198.51.100.9" {
		t.Errorf("through the proxy: audited from %q, want the client the proxy named, 198.51.100.9", got)
	}
	post(g, "alice", deleteBody(id))

	id = send(g.ServePeer, "EEEEEEEE-0000-4000-8000-000000000002", "10.0.0.2:5986", http.Header{gateway.HeaderClient: {"203.0.113.7"}})
	if got := addrOf(id); got != "203.0.113.7" {
		t.Errorf("forwarded by a node: audited from %q, want the client the node named, 203.0.113.7", got)
	}
	if got := peers[len(peers)-1]; got != "203.0.113.7:0" {
		t.Errorf("a forwarded request was authenticated with peer %q, want the client 203.0.113.7", got)
	}
	post(g, "alice", deleteBody(id))
}

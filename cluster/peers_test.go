package cluster

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/gateway"
	"github.com/psgate/psgate/store/sqlite"

	"github.com/psgate/psgate/internal/freeport"
)

// linked returns Peers with a node certificate of a fresh authority, and
// that authority's TLS for a peer's internal listener.
func linked(t *testing.T) (*Peers, *TLS) {
	t.Helper()
	dir := t.TempDir()
	now := time.Now()
	if err := Init(dir, now); err != nil {
		t.Fatal(err)
	}
	var sides [2]*TLS
	for i, name := range []string{"self", "owner"} {
		c, k, err := Issue(dir, name, nil, now)
		if err != nil {
			t.Fatal(err)
		}
		if sides[i], err = LoadTLS(filepath.Join(dir, CAFile), c, k); err != nil {
			t.Fatal(err)
		}
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "psgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p, err := New(Config{Store: st, Self: func() (string, string) { return "self-id", "self:5985" }, TLS: sides[0], DialTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p, sides[1]
}

func forwardTo(t *testing.T, p *Peers, url string) (*httptest.ResponseRecorder, error) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://lb.example/wsman", strings.NewReader("<s:Envelope/>"))
	r.Header.Set("Authorization", "Basic eDp5")
	w := httptest.NewRecorder()
	err := p.Forward(w, r, []byte("<s:Envelope/>"), gateway.Forwarded{Shell: "S1", Client: "192.0.2.7", Address: "http://lb.example/wsman"},
		gateway.Location{Node: "owner:5985", NodeID: "owner-id", URL: url, Self: "self:5985"})
	return w, err
}

func TestForwardReachesTheOwnerOverMutualTLS(t *testing.T) {
	p, ownerTLS := linked(t)
	var got *http.Request
	owner := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Header().Set("Content-Type", "application/soap+xml")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("<answer/>"))
	}))
	owner.TLS = ownerTLS.Server
	owner.Config.ErrorLog = log.New(io.Discard, "", 0)
	owner.StartTLS()
	defer owner.Close()

	w, err := forwardTo(t, p, owner.URL)
	if err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusOK || w.Body.String() != "<answer/>" {
		t.Fatalf("forwarded answer: %d %q", w.Code, w.Body.String())
	}
	if got.Header.Get("Authorization") != "Basic eDp5" || got.Header.Get(gateway.HeaderClient) != "192.0.2.7" ||
		got.Header.Get(gateway.HeaderForwardedBy) != "self:5985" || got.Host != "lb.example" {
		t.Fatalf("the owner got headers %v, host %q", got.Header, got.Host)
	}
	// Nobody without a cluster certificate reaches the internal listener.
	plain := &http.Client{Transport: &http.Transport{TLSClientConfig: ownerTLS.Client.Clone()}}
	plain.Transport.(*http.Transport).TLSClientConfig.Certificates = nil
	if resp, err := plain.Get(owner.URL); err == nil {
		resp.Body.Close()
		t.Fatal("a client without a certificate reached the internal listener")
	}
}

func TestForwardToAGoneOrSilentOwner(t *testing.T) {
	p, ownerTLS := linked(t)

	// Nothing listens: the node died (its registration lives on).
	dead := "https://" + freeport.Addr(t)
	w, err := forwardTo(t, p, dead)
	if psgate.CodeOf(err) != psgate.CodeNodeLost || w.Body.Len() != 0 {
		t.Fatalf("forward to a closed port: %v (wrote %q), want session.node-lost", err, w.Body.String())
	}

	// A node that accepts but never answers: unreachable, not lost, and
	// no hang.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	_, err = forwardTo(t, p, "https://"+silent.Addr().String())
	var pe *psgate.Error
	if !errors.As(err, &pe) || pe.Code != psgate.CodeOwnerUnreachable {
		t.Fatalf("forward to a silent node: %v, want cluster.owner-unreachable", err)
	}
	if v, _ := pe.Value("retry_after"); v == "" {
		t.Fatal("cluster.owner-unreachable without a retry time")
	}

	// The owner no longer holds the shell: the sender looks again.
	moved := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(gateway.StatusMisdirected)
	}))
	moved.TLS = ownerTLS.Server
	moved.StartTLS()
	defer moved.Close()
	w, err = forwardTo(t, p, moved.URL)
	if !errors.Is(err, gateway.ErrMisdirected) || !bytes.Equal(w.Body.Bytes(), nil) {
		t.Fatalf("forward to a node that no longer holds the shell: %v", err)
	}

	// Without an internal link: the old answer, naming both nodes.
	p.client = nil
	_, err = forwardTo(t, p, moved.URL)
	if psgate.CodeOf(err) != psgate.CodeOtherNode {
		t.Fatalf("forward without an internal link: %v, want session.other-node", err)
	}
}

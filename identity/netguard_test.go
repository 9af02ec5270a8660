package identity

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestPublicAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "2001:4860:4860::8888": true,
		"10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "127.0.0.1": false, "::1": false,
		"169.254.169.254": false, // a cloud's instance metadata service
		"fe80::1":         false, "100.64.0.1": false, "fc00::1": false, "0.0.0.0": false, "::": false,
		"224.0.0.1": false, "255.255.255.255": false,
	} {
		if got := publicAddr(netip.MustParseAddr(addr).Unmap()); got != want {
			t.Errorf("publicAddr(%s) = %v, want %v", addr, got, want)
		}
	}
	if publicAddr(netip.MustParseAddr("::ffff:10.0.0.1").Unmap()) {
		t.Error("an IPv4-mapped private address counts as public")
	}
}

// A provider on the gateway's own network is not fetched unless the
// operator allows it, and the refusal says how.
func TestFederationClientRefusesPrivateAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("{}"))
	}))
	defer srv.Close()

	_, err := FederationClient(false).Get(srv.URL)
	if !isPrivateAddress(err) {
		t.Fatalf("GET of a loopback provider: %v, want a private-address refusal", err)
	}
	f := newFederation(nil, FederationClient(false), nil, 0, nil)
	_, err = f.get(t.Context(), srv.URL)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1") || !strings.Contains(err.Error(), "identity.federation_private_networks") {
		t.Fatalf("the federation fetch's error does not say what to change: %v", err)
	}
	if fe, ok := err.(*fetchError); !ok || fe.unreachable {
		t.Fatalf("a refused private address reads as a network failure: %#v", err)
	}

	resp, err := FederationClient(true).Get(srv.URL)
	if err != nil {
		t.Fatalf("GET with private networks allowed: %v", err)
	}
	resp.Body.Close()
}

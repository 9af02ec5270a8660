package identity

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// PrivateAddressError is a refused connection to an identity provider on
// a private, loopback or link-local address: a tenant administrator who
// sets a provider must not make the gateway reach into the operator's
// network (server-side request forgery).
type PrivateAddressError struct {
	Addr netip.Addr
}

func (e *PrivateAddressError) Error() string {
	return fmt.Sprintf("%s is a private, loopback or link-local address, which the gateway does not contact for identity providers unless the operator allows it (identity.federation_private_networks)", e.Addr)
}

// FederationClient returns the HTTP client that fetches federated
// providers' discovery documents and key sets. Unless allowPrivate, it
// connects only to public addresses: the check runs on the address being
// dialled, after name resolution, so a name that resolves (or re-resolves)
// to an internal address is refused too.
func FederationClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("identity: dial %s: %w", address, err)
			}
			if a := ap.Addr().Unmap(); !publicAddr(a) {
				return &PrivateAddressError{Addr: a}
			}
			return nil
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = d.DialContext
	// A proxy would be dialled instead of the provider, and the check
	// would see the proxy's address: providers are fetched directly.
	tr.Proxy = nil
	return &http.Client{Timeout: 10 * time.Second, Transport: tr}
}

// sharedAddressSpace is 100.64.0.0/10 (carrier-grade NAT, RFC 6598).
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// publicAddr reports whether a is a unicast address of the public
// internet.
func publicAddr(a netip.Addr) bool {
	return a.IsValid() && a.IsGlobalUnicast() && !a.IsPrivate() && !sharedAddressSpace.Contains(a)
}

// isPrivateAddress reports whether err is a refusal by FederationClient.
func isPrivateAddress(err error) bool {
	var pe *PrivateAddressError
	return errors.As(err, &pe)
}

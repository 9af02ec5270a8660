package identity

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// maxForwardedHops bounds how many X-Forwarded-For entries are read.
const maxForwardedHops = 32

// clientAddress is the address sign-ins are counted against: the peer of
// the connection, or, when the peer is one of the trusted proxies, the
// rightmost address in X-Forwarded-For that is not itself a trusted proxy
// (each proxy appends the address it received the request from, so
// everything left of the first untrusted hop is the client's to invent).
// A forwarded entry that is not an IP address stops the walk at the last
// trusted hop: a client must not escape its count with garbage.
func clientAddress(r *http.Request, trusted []netip.Prefix) string {
	peer := remoteAddr(r)
	if len(trusted) == 0 {
		return peer
	}
	ip, err := netip.ParseAddr(peer)
	if err != nil || !isTrusted(ip, trusted) {
		return peer
	}
	hops := forwardedFor(r.Header)
	addr := ip
	for i := len(hops) - 1; i >= 0 && i >= len(hops)-maxForwardedHops; i-- {
		hop, err := parseHop(hops[i])
		if err != nil {
			break
		}
		addr = hop
		if !isTrusted(hop, trusted) {
			break
		}
	}
	return addr.String()
}

// forwardedFor lists the X-Forwarded-For entries of every such header,
// leftmost first.
func forwardedFor(h http.Header) []string {
	var hops []string
	for _, v := range h.Values("X-Forwarded-For") {
		for _, hop := range strings.Split(v, ",") {
			hops = append(hops, strings.TrimSpace(hop))
		}
	}
	return hops
}

// parseHop reads one X-Forwarded-For entry: an IP address, possibly with
// a port or in brackets.
func parseHop(s string) (netip.Addr, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), nil
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		return netip.Addr{}, err
	}
	return a.Unmap().WithZone(""), nil
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	ip = ip.Unmap()
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// remoteAddr is the peer address of r, without the port.
func remoteAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// addressKey is the counting key of a client address: the IP itself, or
// its /64 for IPv6, where one client controls a whole /64. It is "" when
// the address is unknown.
func addressKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return ""
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return "a:" + p.Addr().String()
	}
	return "a:" + ip.String()
}

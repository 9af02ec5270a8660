// Package freeport finds loopback addresses for tests that pass a port to
// something that binds it later: another process (psgate serve, HAProxy,
// Prometheus) or a later step of the same test.
//
// A port taken from 127.0.0.1:0 and released is a poor choice for that:
// the kernel hands ports from the same ephemeral range to every other
// socket bound to port 0 and to every outgoing connection, so on a busy
// test machine another test or a database connection can take it before
// the intended listener binds it (CI saw "address is in use" exactly so).
// The ports here come from below the ephemeral range, which the kernel
// never hands out on its own, and are checked free before they are
// returned.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// The ports chosen from when the ephemeral range cannot be read, and the
// lowest port ever chosen (below it live well-known services such as
// PostgreSQL on 5432).
const (
	defaultLow  = 20000
	defaultHigh = 32767
	floor       = 10000
)

// Addr returns a 127.0.0.1 address whose port nothing listens on, outside
// the kernel's ephemeral range.
func Addr(t testing.TB) string {
	t.Helper()
	return Addrs(t, 1)[0]
}

// Addrs returns n distinct such addresses.
func Addrs(t testing.TB, n int) []string {
	t.Helper()
	lo, hi := span()
	seen := make(map[int]bool, n)
	out := make([]string, 0, n)
	for tries := 0; len(out) < n; tries++ {
		if tries > 200*n {
			t.Fatalf("freeport: no free port in %d-%d after %d tries", lo, hi, tries)
		}
		p := lo + rand.IntN(hi-lo+1)
		if seen[p] {
			continue
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue // taken
		}
		ln.Close()
		seen[p] = true
		out = append(out, addr)
	}
	return out
}

// span is the range ports are chosen from: [20000, first ephemeral port),
// or, when the ephemeral range starts too low for that, the ports above
// it.
func span() (lo, hi int) {
	first, last, err := ephemeral()
	switch {
	case err != nil:
		return defaultLow, defaultHigh
	case first-1 >= defaultLow+1000:
		return defaultLow, first - 1
	case first-1 >= floor+1000:
		return floor, first - 1
	case last < 65535-1000:
		return last + 1, 65535
	default:
		return defaultLow, defaultHigh // nothing outside it; better than failing
	}
}

// ephemeral reads the kernel's ephemeral port range (Linux).
func ephemeral() (first, last int, err error) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("ip_local_port_range: %q", b)
	}
	if first, err = strconv.Atoi(f[0]); err != nil {
		return 0, 0, err
	}
	if last, err = strconv.Atoi(f[1]); err != nil {
		return 0, 0, err
	}
	return first, last, nil
}

package freeport

import (
	"net"
	"strconv"
	"testing"
)

// The addresses are distinct, bindable, and never in the range the kernel
// gives to port-0 sockets and outgoing connections.
func TestAddrsOutsideEphemeralRange(t *testing.T) {
	first, last, err := ephemeral()
	if err != nil {
		t.Skipf("no ephemeral range to compare with: %v", err)
	}
	addrs := Addrs(t, 50)
	seen := map[string]bool{}
	for _, a := range addrs {
		if seen[a] {
			t.Fatalf("%s returned twice", a)
		}
		seen[a] = true
		_, ps, err := net.SplitHostPort(a)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := strconv.Atoi(ps)
		if p >= first && p <= last {
			t.Errorf("%s is in the ephemeral range %d-%d", a, first, last)
		}
		ln, err := net.Listen("tcp", a)
		if err != nil {
			t.Errorf("%s cannot be bound: %v", a, err)
			continue
		}
		ln.Close()
	}
}

// A port something listens on is never returned.
func TestAddrSkipsTakenPorts(t *testing.T) {
	lo, hi := span()
	var held []net.Listener
	defer func() {
		for _, ln := range held {
			ln.Close()
		}
	}()
	// Hold most of a small slice of the range, then check none of the held
	// ports comes back over many draws.
	taken := map[string]bool{}
	for p := lo; p < lo+200 && p <= hi; p++ {
		a := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		ln, err := net.Listen("tcp", a)
		if err != nil {
			continue
		}
		held = append(held, ln)
		taken[a] = true
	}
	for range 2000 {
		if a := Addr(t); taken[a] {
			t.Fatalf("Addr returned %s, which is listened on", a)
		}
	}
}

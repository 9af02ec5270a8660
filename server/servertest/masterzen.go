package servertest

import (
	"net"
	"net/url"
	"strconv"
	"testing"

	"github.com/masterzen/winrm"
)

// Masterzen returns a masterzen/winrm client (the stock Go WinRS client)
// for the server's HTTP or HTTPS listener at rawURL, signed in with user
// and password. masterzen always posts to /wsman and skips certificate
// checks here.
func Masterzen(t testing.TB, rawURL, user, password string) *winrm.Client {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	host, portStr, _ := net.SplitHostPort(u.Host)
	port, _ := strconv.Atoi(portStr)
	ep := winrm.NewEndpoint(host, port, u.Scheme == "https", true, nil, nil, nil, 0)
	c, err := winrm.NewClient(ep, user, password)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

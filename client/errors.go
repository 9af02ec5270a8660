package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/wsman"
)

// Network layers named in the "layer" datum of network errors.
const (
	LayerDNS  = "DNS"
	LayerTCP  = "TCP"
	LayerTLS  = "TLS"
	LayerHTTP = "HTTP"
)

// ClassifyNetworkError turns a transport failure reaching rawURL into a
// catalog error naming, in its user's words, the layer that failed and
// what to do next:
//
//   - client.dns-failed: the host name does not resolve;
//   - client.not-listening: the connection was refused, nothing listens
//     on that address (is the gateway running?);
//   - client.connect-timeout: nothing answered (a filtering firewall);
//   - client.tls-untrusted, client.tls-name-mismatch, client.tls-expired:
//     the certificate is not trusted, is for another name, or is out of
//     its validity period;
//   - client.connect-failed for anything else, naming the layer.
//
// Each carries the "layer" datum (DNS, TCP, TLS or HTTP). The cause stays
// in the error's chain. Context cancellation is returned as is.
func ClassifyNetworkError(rawURL string, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	host, port := hostPort(rawURL)
	c := networkLayer(err)
	addr := net.JoinHostPort(host, port)
	if c.addr != "" {
		addr = c.addr
	}
	args := psgate.Args{"host": host, "port": port, "addr": addr, "layer": c.layer, "detail": c.detail, "url": rawURL}
	code := c.code
	if code == "" {
		code = psgate.CodeConnectFailed
	}
	return psgate.Wrap(code, args, err).With("layer", c.layer)
}

// hostPort is the host and port of rawURL, the port defaulting by scheme.
func hostPort(rawURL string) (host, port string) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return rawURL, ""
	}
	host, port = u.Hostname(), u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return host, port
}

// netFailure is what networkLayer found: the catalog code (empty for
// client.connect-failed), the layer, a detail in words and, for a failed
// connection, the address it went to.
type netFailure struct {
	code   psgate.Code
	layer  string
	detail string
	addr   string
}

// networkLayer finds which layer err comes from.
func networkLayer(err error) netFailure {
	var (
		dnsErr   *net.DNSError
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		pin      *pinError
		recErr   tls.RecordHeaderError
		alertErr tls.AlertError
		opErr    *net.OpError
	)
	switch {
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return netFailure{psgate.CodeDNSFailed, LayerDNS, "the name " + dnsErr.Name + " could not be resolved (no such host)", ""}
		}
		if dnsErr.IsTimeout {
			return netFailure{psgate.CodeDNSFailed, LayerDNS, "the DNS server did not answer in time for " + dnsErr.Name, ""}
		}
		return netFailure{psgate.CodeDNSFailed, LayerDNS, "resolving " + dnsErr.Name + ": " + dnsErr.Err, ""}
	case errors.As(err, &unknown):
		return netFailure{psgate.CodeTLSUntrusted, LayerTLS, "it is signed by an unknown authority", ""}
	case errors.As(err, &hostErr):
		return netFailure{psgate.CodeTLSNameMismatch, LayerTLS, certNames(hostErr), ""}
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			return netFailure{psgate.CodeTLSExpired, LayerTLS, invalid.Error(), ""}
		}
		return netFailure{psgate.CodeTLSUntrusted, LayerTLS, invalid.Error(), ""}
	case errors.As(err, &pin):
		return netFailure{psgate.CodeTLSUntrusted, LayerTLS, pin.Error(), ""}
	case errors.As(err, &verify):
		return netFailure{psgate.CodeTLSUntrusted, LayerTLS, verify.Err.Error(), ""}
	case errors.As(err, &recErr):
		return netFailure{"", LayerTLS, "the server does not speak TLS on this port (is the endpoint http://?)", ""}
	case errors.As(err, &alertErr):
		return netFailure{"", LayerTLS, "the TLS handshake failed: " + alertErr.Error(), ""}
	case errors.As(err, &opErr) && opErr.Op == "dial":
		addr := addrOf(opErr)
		switch {
		case refused(opErr):
			return netFailure{psgate.CodeNotListening, LayerTCP, "nothing is listening on " + addr + " (connection refused)", addr}
		case opErr.Timeout() || errors.Is(err, context.DeadlineExceeded):
			return netFailure{psgate.CodeConnectTimeout, LayerTCP, "no answer from " + addr + " (timed out)", addr}
		}
		return netFailure{"", LayerTCP, "connecting to " + addr + ": " + rootCause(opErr.Err), addr}
	case errors.As(err, &opErr) && opErr.Op == "remote error":
		return netFailure{"", LayerTLS, opErr.Error(), ""}
	case errors.Is(err, context.DeadlineExceeded):
		return netFailure{"", LayerHTTP, "the request timed out", ""}
	}
	msg := err.Error()
	if strings.Contains(msg, "HTTP response to HTTPS client") {
		return netFailure{"", LayerTLS, "the server does not speak TLS on this port (is the endpoint http://?)", ""}
	}
	if strings.Contains(msg, "tls: ") {
		return netFailure{"", LayerTLS, rootCause(err), ""}
	}
	return netFailure{"", LayerHTTP, rootCause(err), ""}
}

// refused reports a connection refused by the peer (an RST: nothing
// listens on the port, or a firewall rejects).
func refused(e *net.OpError) bool {
	if errors.Is(e, syscall.ECONNREFUSED) {
		return true
	}
	// Windows: WSAECONNREFUSED, "...the target machine actively refused it."
	return strings.Contains(e.Err.Error(), "actively refused")
}

// certNames says which names a certificate holds, for a name mismatch.
func certNames(e x509.HostnameError) string {
	if e.Certificate == nil {
		return e.Error()
	}
	names := e.Certificate.DNSNames
	for _, ip := range e.Certificate.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return "the certificate names no host"
	}
	return "it is valid for " + strings.Join(names, ", ") + " only"
}

func addrOf(e *net.OpError) string {
	if e.Addr != nil {
		return e.Addr.String()
	}
	return "the server"
}

// rootCause is the innermost error's text.
func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// faultError maps a WS-Man fault to its catalog error: the pg:Error code
// when psgate sent one, else by HTTP status.
func faultError(f *wsman.Fault, status int) *psgate.Error {
	if f.ErrorCode != "" && psgate.Lookup(psgate.Code(f.ErrorCode)).Code == psgate.Code(f.ErrorCode) {
		e := &psgate.Error{Code: psgate.Code(f.ErrorCode), Message: strings.TrimSpace(f.Reason)}
		for _, kv := range f.Data {
			if kv.Key == "resolution" {
				e.Resolution = kv.Value
				continue
			}
			e.Data = append(e.Data, psgate.KV{Key: kv.Key, Value: kv.Value})
		}
		if e.Message == "" {
			e.Message = psgate.E(e.Code, nil).Message
		}
		return e
	}
	if status == http.StatusUnauthorized {
		e := psgate.E(psgate.CodeAuthRequired, nil)
		e.Err = f
		return e
	}
	// A fault from another WinRM server, or a code this connector does
	// not know yet: keep the server's words.
	return &psgate.Error{Code: psgate.CodeInternal, Message: strings.TrimSpace(f.Reason), Err: f}
}

// httpError maps a response that is not a SOAP envelope.
func httpError(rawURL string, resp *http.Response, body []byte) *psgate.Error {
	if resp.StatusCode == http.StatusUnauthorized {
		return psgate.E(psgate.CodeAuthRequired, nil)
	}
	detail := ""
	if s := strings.TrimSpace(string(body)); s != "" && len(s) < 300 && !strings.ContainsAny(s, "<>") {
		detail = " (" + firstLine(s) + ")"
	}
	return HTTPError(rawURL, resp.Status, detail)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

// HTTPError is client.http-error: rawURL answered with status (such as
// "404 Not Found"); detail, when not empty, follows it (" (reason)").
func HTTPError(rawURL, status, detail string) *psgate.Error {
	return psgate.E(psgate.CodeHTTPError, psgate.Args{"url": rawURL, "status": status, "detail": detail}).
		With("layer", LayerHTTP)
}

// sessionGone reports whether err means the server no longer has the
// session: a new session is needed.
func sessionGone(err error) bool {
	switch psgate.CodeOf(err) {
	case psgate.CodeLifetimeReached, psgate.CodeIdleTimeoutReached, psgate.CodeShellNotFound,
		psgate.CodeSessionRemoved, psgate.CodeNodeLost, psgate.CodeShuttingDown, psgate.CodePoolBroken:
		return true
	}
	return false
}

// connectionLost reports whether err is a network failure after which the
// session may still exist but the request's fate is unknown.
func connectionLost(err error) bool {
	switch psgate.CodeOf(err) {
	case psgate.CodeConnectFailed, psgate.CodeNotListening, psgate.CodeDNSFailed,
		psgate.CodeConnectTimeout, psgate.CodeHTTPError:
		return true
	}
	return false
}

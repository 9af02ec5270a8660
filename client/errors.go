package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/wsman"
)

// Network layers named in client.connect-failed.
const (
	LayerDNS  = "DNS"
	LayerTCP  = "TCP"
	LayerTLS  = "TLS"
	LayerHTTP = "HTTP"
)

// ClassifyNetworkError turns a transport failure reaching rawURL into a
// catalog error: client.tls-untrusted for a certificate this machine does
// not trust, else client.connect-failed naming the layer that failed. The
// cause stays in the error's chain. Context cancellation is returned as is.
func ClassifyNetworkError(rawURL string, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	host := rawURL
	if u, perr := url.Parse(rawURL); perr == nil && u.Host != "" {
		host = u.Hostname()
	}
	layer, detail, untrusted := networkLayer(err)
	if untrusted {
		return psgate.Wrap(psgate.CodeTLSUntrusted, psgate.Args{"host": host, "detail": detail, "url": rawURL}, err)
	}
	return psgate.Wrap(psgate.CodeConnectFailed, psgate.Args{"host": host, "layer": layer, "detail": detail, "url": rawURL}, err).
		With("layer", layer)
}

// networkLayer finds which layer err comes from.
func networkLayer(err error) (layer, detail string, untrusted bool) {
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
			return LayerDNS, "the name " + dnsErr.Name + " could not be resolved", false
		}
		return LayerDNS, "resolving " + dnsErr.Name + ": " + dnsErr.Err, false
	case errors.As(err, &unknown):
		return LayerTLS, "it is signed by an unknown authority", true
	case errors.As(err, &hostErr):
		return LayerTLS, "it is not valid for the name " + hostErr.Host, true
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			return LayerTLS, "it has expired or is not yet valid", true
		}
		return LayerTLS, invalid.Error(), true
	case errors.As(err, &pin):
		return LayerTLS, pin.Error(), true
	case errors.As(err, &verify):
		return LayerTLS, verify.Err.Error(), true
	case errors.As(err, &recErr):
		return LayerTLS, "the server does not speak TLS on this port (is the endpoint http://?)", false
	case errors.As(err, &alertErr):
		return LayerTLS, "the TLS handshake failed: " + alertErr.Error(), false
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return LayerTCP, "connecting to " + addrOf(opErr) + ": " + rootCause(opErr.Err), false
	case errors.As(err, &opErr) && opErr.Op == "remote error":
		return LayerTLS, opErr.Error(), false
	case errors.Is(err, context.DeadlineExceeded):
		return LayerHTTP, "the request timed out", false
	}
	msg := err.Error()
	if strings.Contains(msg, "HTTP response to HTTPS client") {
		return LayerTLS, "the server does not speak TLS on this port (is the endpoint http://?)", false
	}
	if strings.Contains(msg, "tls: ") {
		return LayerTLS, rootCause(err), false
	}
	return LayerHTTP, rootCause(err), false
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
	host := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		host = u.Hostname()
	}
	detail := fmt.Sprintf("the server answered HTTP %s", resp.Status)
	if s := strings.TrimSpace(string(body)); s != "" && len(s) < 300 && !strings.ContainsAny(s, "<>") {
		detail += " (" + firstLine(s) + ")"
	}
	return psgate.E(psgate.CodeConnectFailed, psgate.Args{"host": host, "layer": LayerHTTP, "detail": detail, "url": rawURL}).
		With("layer", LayerHTTP)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
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
	return psgate.CodeOf(err) == psgate.CodeConnectFailed
}

package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/psgate/psgate"

	"github.com/psgate/psgate/internal/freeport"
)

func TestConnectFailuresNameTheLayer(t *testing.T) {
	ts := startServer(t)
	// A port with nothing listening.
	closedPort := freeport.Addr(t)
	notWSMan := httptest.NewServer(http.NotFoundHandler())
	defer notWSMan.Close()

	cert := ts.Info().CertFile
	tests := []struct {
		name      string
		cfg       Config
		wantCode  psgate.Code
		wantLayer string
		wantText  string
	}{
		{"dns", Config{Endpoint: "http://nonexistent.invalid/wsman"}, psgate.CodeDNSFailed, LayerDNS, "The gateway's name nonexistent.invalid could not be resolved"},
		{"nothing listening", Config{Endpoint: "http://" + closedPort + "/wsman"}, psgate.CodeNotListening, LayerTCP,
			"Nothing is listening on " + closedPort + ": the connection was refused. Is the gateway running?"},
		{"http", Config{Endpoint: notWSMan.URL + "/wsman"}, psgate.CodeHTTPError, LayerHTTP, notWSMan.URL + "/wsman answered HTTP 404 Not Found"},
		{"tls to plain http", Config{Endpoint: strings.Replace(ts.httpURL, "http://", "https://", 1)}, psgate.CodeConnectFailed, LayerTLS, "does not speak TLS"},
		{"untrusted", Config{Endpoint: ts.httpsURL}, psgate.CodeTLSUntrusted, LayerTLS, "unknown authority"},
		{"wrong pin", Config{Endpoint: ts.httpsURL, TLS: TLSConfig{Fingerprint: strings.Repeat("AB:", 31) + "AB"}}, psgate.CodeTLSUntrusted, LayerTLS, "does not match"},
		{"ca file", Config{Endpoint: ts.httpsURL, TLS: TLSConfig{CAFile: cert}}, "", "", ""},
		{"pinned", Config{Endpoint: ts.httpsURL, TLS: TLSConfig{Fingerprint: ts.Info().Fingerprint}}, "", "", ""},
		{"wrong password", Config{Endpoint: ts.httpURL, Password: "nope"}, psgate.CodeLogonFailed, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.User = psgateAdmin
			if cfg.Password == "" {
				cfg.Password = adminPassword
			}
			s, err := Dial(testCtx(t), cfg)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				_ = s.Close(context.Background())
				return
			}
			e, ok := psgate.AsError(err)
			if !ok || e.Code != tt.wantCode {
				t.Fatalf("error = %v, want code %s", err, tt.wantCode)
			}
			if layer, _ := e.Value("layer"); layer != tt.wantLayer {
				t.Errorf("layer = %q, want %q (%v)", layer, tt.wantLayer, e)
			}
			if !strings.Contains(e.Message, tt.wantText) {
				t.Errorf("message %q does not mention %q", e.Message, tt.wantText)
			}
		})
	}
}

func TestBadCAFile(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bad, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Dial(context.Background(), Config{Endpoint: "https://127.0.0.1:1/wsman", User: "u", Password: "p", TLS: TLSConfig{CAFile: bad}})
	if err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("error = %v", err)
	}
}

// Failures that cannot be produced on loopback in a test (a filtering
// firewall, an expired certificate) are classified from the errors the
// standard library returns for them.
func TestClassifyNetworkErrorSynthetic(t *testing.T) {
	dial := func(err error) error {
		return &url.Error{Op: "Post", URL: "https://127.0.0.1:5986/wsman", Err: &net.OpError{Op: "dial", Net: "tcp",
			Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5986}, Err: err}}
	}
	tests := []struct {
		name     string
		err      error
		wantCode psgate.Code
		wantText string
	}{
		{"timeout", dial(os.ErrDeadlineExceeded), psgate.CodeConnectTimeout,
			"Connecting to 127.0.0.1:5986 timed out: nothing answered, not even a refusal. A firewall or network filter is probably dropping the connection: check that port 5986 of 127.0.0.1 is open"},
		{"refused", dial(syscall.ECONNREFUSED), psgate.CodeNotListening,
			"Nothing is listening on 127.0.0.1:5986: the connection was refused. Is the gateway running? Start the gateway (`psgate serve`)"},
		{"expired", &tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Reason: x509.Expired, Detail: "current time is after 2020-01-01"}},
			psgate.CodeTLSExpired, "renew the gateway's certificate"},
		{"name mismatch", x509.HostnameError{Certificate: &x509.Certificate{DNSNames: []string{"gw.contoso.test"}}, Host: "127.0.0.1"},
			psgate.CodeTLSNameMismatch, "The certificate of 127.0.0.1 is not valid for the name 127.0.0.1: it is valid for gw.contoso.test only."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok := psgate.AsError(ClassifyNetworkError("https://127.0.0.1:5986/wsman", tt.err))
			if !ok || e.Code != tt.wantCode {
				t.Fatalf("error = %v, want code %s", e, tt.wantCode)
			}
			if got := e.Message + " " + e.Resolution; !strings.Contains(got, tt.wantText) {
				t.Errorf("%q does not contain %q", got, tt.wantText)
			}
		})
	}
}

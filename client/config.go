package client

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/psgate/psgate"
)

// Config says where and how to connect. Endpoint and User are required,
// and one of Password and Tokens.
type Config struct {
	// Endpoint is the gateway URL, e.g. https://gw.example.com/powershell
	// or http://127.0.0.1:5985/wsman.
	Endpoint string
	// User is the user principal name, e.g. admin@contoso.test.
	User string
	// Password authenticates with the user's password (where the tenant
	// allows it). Ignored when Tokens is set.
	Password string
	// Tokens supplies access tokens, sent as the Basic password
	// "Bearer <token>". When the gateway answers identity.token-expired,
	// the request is sent once more with a refreshed token.
	Tokens TokenSource
	// TLS controls certificate checks for https endpoints. Ignored when
	// HTTPClient is set.
	TLS TLSConfig
	// HTTPClient sends the requests; nil builds one from TLS.
	HTTPClient *http.Client
	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
	// Configuration is the PowerShell session configuration; empty means
	// "Microsoft.PowerShell".
	Configuration string
	// OperationTimeout is how long the server may hold a Receive without
	// output before the client asks again; 0 means 20s.
	OperationTimeout time.Duration
	// IdleTimeout asks the server for a shorter idle timeout; 0 takes the
	// server's.
	IdleTimeout time.Duration
	// NoOpenWait skips the Receive that waits for the runspace pool's
	// Opened state after Create, saving a round trip. psgate gateways
	// open the pool while answering Create (a pool that cannot open fails
	// the Create), so this is safe with them; other WinRM servers may
	// need the wait. `psgate run` sets it.
	NoOpenWait bool
}

// TokenSource supplies access tokens.
type TokenSource interface {
	// Token returns a valid access token. With refresh set, the gateway
	// refused the last token as expired: the source must obtain a new one
	// (refresh grant) rather than return a cached one.
	Token(ctx context.Context, refresh bool) (string, error)
}

// TLSConfig controls how the gateway's certificate is checked.
type TLSConfig struct {
	// CAFile names a PEM file of CA (or self-signed) certificates trusted
	// in addition to the system roots.
	CAFile string
	// Fingerprint pins the SHA-256 fingerprint of the server's leaf
	// certificate (hex, colons optional, as `psgate serve` prints it);
	// when set, only that certificate is accepted and chain checks are
	// skipped.
	Fingerprint string
	// Insecure accepts any certificate. For tests only.
	Insecure bool
}

const (
	defaultConfiguration    = "Microsoft.PowerShell"
	defaultOperationTimeout = 20 * time.Second
)

func (c Config) withDefaults() (Config, error) {
	if c.Endpoint == "" {
		return c, errors.New("client: Config.Endpoint is required")
	}
	if !strings.HasPrefix(c.Endpoint, "http://") && !strings.HasPrefix(c.Endpoint, "https://") {
		return c, fmt.Errorf("client: endpoint %q must start with http:// or https://", c.Endpoint)
	}
	if c.Configuration == "" {
		c.Configuration = defaultConfiguration
	}
	if c.OperationTimeout <= 0 {
		c.OperationTimeout = defaultOperationTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.HTTPClient == nil {
		tc, err := c.TLS.config()
		if err != nil {
			return c, err
		}
		c.HTTPClient = newHTTPClient(tc)
	}
	return c, nil
}

// newHTTPClient returns a client with connection reuse and the dial and
// handshake timeouts an interactive tool wants.
func newHTTPClient(tc *tls.Config) *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tc,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: tr}
}

// config builds the tls.Config of t.
func (t TLSConfig) config() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("client: read CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client: CA file %s holds no PEM certificate", t.CAFile)
		}
		tc.RootCAs = pool
	}
	switch {
	case t.Fingerprint != "":
		want, err := parseFingerprint(t.Fingerprint)
		if err != nil {
			return nil, err
		}
		tc.InsecureSkipVerify = true // replaced by the pin check below
		tc.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("client: the server sent no certificate")
			}
			got := sha256.Sum256(raw[0])
			if got != want {
				return &pinError{got: hex.EncodeToString(got[:])}
			}
			return nil
		}
	case t.Insecure:
		tc.InsecureSkipVerify = true
	}
	return tc, nil
}

// pinError is a certificate that does not match the pinned fingerprint.
type pinError struct{ got string }

func (e *pinError) Error() string {
	return "certificate fingerprint " + strings.ToUpper(e.got) + " does not match the pinned fingerprint"
}

func parseFingerprint(s string) ([32]byte, error) {
	var fp [32]byte
	h := strings.NewReplacer(":", "", " ", "", "-", "").Replace(strings.TrimSpace(s))
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != len(fp) {
		return fp, psgate.E(psgate.CodeTLSUntrusted, psgate.Args{"host": "(pinned)", "detail": "the pinned fingerprint " + s + " is not a SHA-256 fingerprint", "url": ""})
	}
	copy(fp[:], b)
	return fp, nil
}

// HTTP returns the HTTP client requests go through: HTTPClient, or one
// built from TLS. Use it to reach the identity service with the same trust
// settings.
func (c Config) HTTP() (*http.Client, error) {
	if c.HTTPClient != nil {
		return c.HTTPClient, nil
	}
	tc, err := c.TLS.config()
	if err != nil {
		return nil, err
	}
	return newHTTPClient(tc), nil
}

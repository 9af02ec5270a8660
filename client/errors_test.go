package client

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psgate/psgate"
)

func TestConnectFailuresNameTheLayer(t *testing.T) {
	ts := startServer(t)
	// A port with nothing listening.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().String()
	ln.Close()
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
		{"dns", Config{Endpoint: "http://psgate-no-such-host.invalid/wsman"}, psgate.CodeConnectFailed, LayerDNS, "could not be resolved"},
		{"tcp", Config{Endpoint: "http://" + closedPort + "/wsman"}, psgate.CodeConnectFailed, LayerTCP, "connecting to"},
		{"http", Config{Endpoint: notWSMan.URL + "/wsman"}, psgate.CodeConnectFailed, LayerHTTP, "404"},
		{"tls to plain http", Config{Endpoint: strings.Replace(ts.httpURL, "http://", "https://", 1)}, psgate.CodeConnectFailed, LayerTLS, "does not speak TLS"},
		{"untrusted", Config{Endpoint: ts.httpsURL}, psgate.CodeTLSUntrusted, "", "unknown authority"},
		{"wrong pin", Config{Endpoint: ts.httpsURL, TLS: TLSConfig{Fingerprint: strings.Repeat("AB:", 31) + "AB"}}, psgate.CodeTLSUntrusted, "", "does not match"},
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

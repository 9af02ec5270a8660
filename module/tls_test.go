package module

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate"
)

// TestBackendTLS checks the backend's caFile and client certificate: an
// untrusted certificate is refused with a message that names caFile; a
// trusted one, with a client certificate the backend requires, works.
func TestBackendTLS(t *testing.T) {
	ts := newTokenService(t)
	be := newBackend(t, ts, "urn:contoso:widgets", 50)
	srv := httptest.NewUnstartedServer(be.handler())
	clientCert, clientKey := selfSigned(t, "psgate-gateway")
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(clientCert)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	write("client.pem", clientCert)
	write("client.key", clientKey)
	text, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	load := func(backend string) *Module {
		t.Helper()
		s := strings.Replace(string(text), `"baseUrl": "http://127.0.0.1:8089/api",`, backend, 1)
		file := filepath.Join(dir, "widgets.json")
		write("widgets.json", []byte(s))
		m, err := Load(file)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	untrusted := load(`"baseUrl": "` + srv.URL + `/api",`)
	if _, err := newEnv(t, ts, adele, untrusted).run(`Get-Widget`); psgate.CodeOf(err) != psgate.CodeBackendUnreachable || !strings.Contains(err.Error(), "not trusted (see caFile") {
		t.Errorf("untrusted certificate: %v", err)
	}
	noClientCert := load(`"baseUrl": "` + srv.URL + `/api", "caFile": "ca.pem",`)
	if _, err := newEnv(t, ts, adele, noClientCert).run(`Get-Widget`); psgate.CodeOf(err) != psgate.CodeBackendUnreachable {
		t.Errorf("no client certificate: %v", err)
	}
	mutual := load(`"baseUrl": "` + srv.URL + `/api", "caFile": "ca.pem", "clientCertificate": "client.pem", "clientKey": "client.key",`)
	e := newEnv(t, ts, adele, mutual)
	e.mustRun(`New-Widget One -Color Red`)
	if s := e.mustRun(`Get-Widget`); len(s.out) != 1 {
		t.Errorf("over mutual TLS: %v", s.out)
	}
}

// selfSigned returns a self-signed client certificate and its key, PEM.
func selfSigned(t *testing.T, name string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// Package servertest has fixtures for tests that run a psgate server:
// registering app-only clients, making their certificates, and playing the
// user on the device-code verification page.
package servertest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/store"
)

// RegisterApp registers an application in the demo tenant whose service
// principal holds the Tenant Administrator role, with a client secret
// (when secret is not empty) and/or a certificate, and returns the
// principal's UPN.
func RegisterApp(t testing.TB, st store.Store, clientID, secret string, certPEM []byte) string {
	t.Helper()
	ctx := context.Background()
	tn, err := st.TenantByName(ctx, server.DemoTenant)
	if err != nil {
		t.Fatal(err)
	}
	upn := "app-" + clientID + "@" + server.DemoDomain
	u, err := st.CreateUser(ctx, store.User{TenantID: tn.ID, UPN: upn, DisplayName: clientID, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	role, err := st.RoleByName(ctx, tn.ID, store.RoleTenantAdministrator)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Assign(ctx, store.Assignment{TenantID: tn.ID, UserID: u.ID, RoleID: role.ID, AssignedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	c := store.OAuthClient{ClientID: clientID, TenantID: tn.ID, Name: clientID, UserID: u.ID, CertificatePEM: certPEM}
	if secret != "" {
		if c.SecretHash, err = password.Hash(secret, password.Fast()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.CreateOAuthClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	return upn
}

// AppCertificate writes a self-signed ECDSA certificate named cn and its
// PKCS#8 key as PEM files, and returns their paths and the certificate.
func AppCertificate(t testing.TB, cn string) (certFile, keyFile string, certPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	certFile, keyFile = filepath.Join(dir, "app.pem"), filepath.Join(dir, "app.key")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, certPEM
}

// ApproveDevice plays the user at the verification page (its full URL, as
// the device authorization shows it): it posts the page's form (code, user
// name, password) and returns the answer's status and page.
func ApproveDevice(t testing.TB, page, userCode, user, pass string) (int, string) {
	t.Helper()
	resp, err := http.PostForm(page, url.Values{"user_code": {userCode}, "username": {user}, "password": {pass}})
	if err != nil {
		t.Fatalf("verification page: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

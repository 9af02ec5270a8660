package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// selfSigned returns a key and its self-signed certificate, valid from
// notBefore to notAfter.
func selfSigned(t *testing.T, cn string, notBefore, notAfter time.Time) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestClientCredentialsWithPrivateKeyJWT(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	sp := f.mustUser(f.contoso, "app-automation@contoso.test", "")
	key, cert := selfSigned(t, "automation", now.Add(-time.Hour), now.Add(24*time.Hour))
	f.mustClient(store.OAuthClient{ClientID: "automation", TenantID: f.contoso.ID, Name: "Automation", UserID: sp.ID}, "", cert)
	oldKey, oldCert := selfSigned(t, "expired", now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	f.mustClient(store.OAuthClient{ClientID: "expired-cert", TenantID: f.contoso.ID, Name: "Old", UserID: sp.ID}, "", oldCert)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}

	assertion := func(k *ecdsa.PrivateKey, clientID string, edit func(*jwt.Claims)) string {
		c := jwt.Claims{
			Issuer:   clientID,
			Subject:  clientID,
			Audience: jwt.Audience{f.svc.Issuer() + PathToken},
			Expiry:   jwt.NewNumericDate(f.clock.Now().Add(5 * time.Minute)),
			IssuedAt: jwt.NewNumericDate(f.clock.Now()),
			ID:       randomID(12),
		}
		if edit != nil {
			edit(&c)
		}
		return sign(t, jose.ES256, k, "", "JWT", c)
	}
	form := func(clientID, a string) url.Values {
		v := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {clientAssertionType}, "client_assertion": {a}}
		if clientID != "" {
			v.Set("client_id", clientID)
		}
		return v
	}
	used := assertion(key, "automation", nil)

	tests := []struct {
		name   string
		form   url.Values
		status int
		reason string
	}{
		{"valid", form("automation", used), 200, ""},
		{"replayed", form("automation", used), 401, "already used"},
		{"client_id from the assertion's sub", form("", assertion(key, "automation", nil)), 200, ""},
		{"audience is the issuer", form("automation", assertion(key, "automation", func(c *jwt.Claims) { c.Audience = jwt.Audience{f.svc.Issuer()} })), 200, ""},
		{"signed by another key", form("automation", assertion(other, "automation", nil)), 401, "does not match the application's certificate"},
		{"wrong audience", form("automation", assertion(key, "automation", func(c *jwt.Claims) { c.Audience = jwt.Audience{"https://elsewhere"} })), 401, "audience"},
		{"expired", form("automation", assertion(key, "automation", func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(f.clock.Now().Add(-5 * time.Minute)) })), 401, "expired"},
		{"lives too long", form("automation", assertion(key, "automation", func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(f.clock.Now().Add(5 * time.Hour)) })), 401, "more than an hour"},
		{"no jti", form("automation", assertion(key, "automation", func(c *jwt.Claims) { c.ID = "" })), 401, "no jti"},
		{"iss is not the client", form("automation", assertion(key, "automation", func(c *jwt.Claims) { c.Issuer = "someone" })), 401, "iss and sub"},
		{"expired certificate", form("expired-cert", assertion(oldKey, "expired-cert", nil)), 401, "no valid certificate"},
		{"wrong assertion type", url.Values{"grant_type": {"client_credentials"}, "client_id": {"automation"},
			"client_assertion_type": {"urn:other"}, "client_assertion": {assertion(key, "automation", nil)}}, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.token(tt.form)
			if r.Status != tt.status {
				t.Fatalf("client credentials = %d %s, want %d", r.Status, r.Raw, tt.status)
			}
			if tt.status == 401 && (r.Error != "invalid_client" || !strings.Contains(r.Data["reason"], tt.reason)) {
				t.Errorf("refusal = %s, want invalid_client saying %q", r.Raw, tt.reason)
			}
			if tt.status != 200 {
				return
			}
			p, err := f.authenticate("Bearer "+r.AccessToken, "")
			if err != nil || p.Method != psgate.AuthApp || p.UPN != "app-automation@contoso.test" {
				t.Fatalf("app token at the gateway = %+v, %v", p, err)
			}
		})
	}
}

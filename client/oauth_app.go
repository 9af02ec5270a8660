package client

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// AppCredentials authenticate a registered application for app-only
// sign-in (the client credentials grant): a client secret, or a private
// key whose certificate is registered with the application
// (private_key_jwt).
type AppCredentials struct {
	ClientID string
	// Secret is the client secret; empty when Key is set.
	Secret string
	// Key signs client assertions; nil when Secret is set.
	Key crypto.Signer
}

// LoadAppCertificate returns the credentials of clientID from a PEM
// certificate and its PEM private key (RSA or ECDSA).
func LoadAppCertificate(clientID, certFile, keyFile string) (AppCredentials, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return AppCredentials{}, fmt.Errorf("client: app certificate: %w", err)
	}
	key, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return AppCredentials{}, errors.New("client: app certificate: the private key cannot sign")
	}
	return AppCredentials{ClientID: clientID, Key: key}, nil
}

// assertionLifetime is how long a client assertion is valid.
const assertionLifetime = 5 * time.Minute

// ClientCredentials signs in as the application (app-only). The token's
// User is the application's service principal, from the token's subject.
func (o *OAuth) ClientCredentials(ctx context.Context, app AppCredentials) (*Token, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {app.ClientID}}
	switch {
	case app.Key != nil:
		assertion, err := o.clientAssertion(ctx, app)
		if err != nil {
			return nil, err
		}
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", assertion)
	case app.Secret != "":
		form.Set("client_secret", app.Secret)
	default:
		return nil, errors.New("client: app sign-in needs a client secret or a certificate key")
	}
	t, err := o.grant(ctx, form)
	if err != nil {
		return nil, err
	}
	t.ClientID = app.ClientID
	t.User = SubjectOf(t.AccessToken)
	t.Tenant = TenantOf(t.User)
	return t, nil
}

// clientAssertion signs a private_key_jwt assertion (RFC 7523 section 3)
// for the token endpoint and, when discovery answers, the issuer.
func (o *OAuth) clientAssertion(ctx context.Context, app AppCredentials) (string, error) {
	alg, err := signingAlg(app.Key)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: app.Key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("client: client assertion: %w", err)
	}
	aud := jwt.Audience{o.TokenURL}
	if issuer, _, err := o.Discover(ctx); err == nil && issuer != "" {
		aud = append(aud, issuer)
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", fmt.Errorf("client: client assertion: %w", err)
	}
	now := o.now()
	claims := jwt.Claims{
		Issuer:    app.ClientID,
		Subject:   app.ClientID,
		Audience:  aud,
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
		Expiry:    jwt.NewNumericDate(now.Add(assertionLifetime)),
		ID:        hex.EncodeToString(jti[:]),
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("client: client assertion: %w", err)
	}
	return s, nil
}

func signingAlg(key crypto.Signer) (jose.SignatureAlgorithm, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return jose.RS256, nil
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return jose.ES256, nil
		case elliptic.P384():
			return jose.ES384, nil
		case elliptic.P521():
			return jose.ES512, nil
		}
	}
	return "", fmt.Errorf("client: client assertion: keys of type %T are not supported (use RSA or ECDSA)", key)
}

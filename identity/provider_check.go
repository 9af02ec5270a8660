package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/psgate/psgate"
)

// ProviderInfo is what CheckProvider found at an OpenID Connect provider.
type ProviderInfo struct {
	Issuer                string        `json:"issuer"`
	DiscoveryURL          string        `json:"discoveryUrl"`
	JWKSURI               string        `json:"jwksUri"`
	AuthorizationEndpoint string        `json:"authorizationEndpoint,omitempty"`
	TokenEndpoint         string        `json:"tokenEndpoint,omitempty"`
	Keys                  []ProviderKey `json:"keys"`
}

// ProviderKey is one signing key a provider publishes.
type ProviderKey struct {
	KeyID string `json:"kid"`
	// Algorithm is the key's "alg", empty when the provider does not
	// restrict it.
	Algorithm string `json:"alg,omitempty"`
	// Type is the key type: RSA, EC or OKP.
	Type string `json:"kty"`
}

// CheckProvider checks, the way sign-ins will, that issuer is a usable
// OpenID Connect provider: its URL is https (or http on loopback), its
// discovery document names it as issuer and points to a key set, and the
// key set holds at least one signing key psgate can read. client nil is
// http.DefaultClient; each fetch is bounded to 10 seconds.
//
// The error is a *psgate.Error: CodeProviderUnreachable for network
// failures and 5xx answers, CodeFederationMisconfig for anything else.
func CheckProvider(ctx context.Context, client *http.Client, issuer string) (ProviderInfo, error) {
	if client == nil {
		client = http.DefaultClient
	}
	f := newFederation(nil, client, time.Now, 0, slog.New(slog.NewTextHandler(io.Discard, nil)))
	info, err := f.check(ctx, issuer)
	var fe *fetchError
	if errors.As(err, &fe) {
		return ProviderInfo{}, fe.catalog(issuer)
	}
	if err != nil {
		return ProviderInfo{}, psgate.Wrap(psgate.CodeFederationMisconfig, psgate.Args{"issuer": issuer, "reason": err.Error()}, err)
	}
	return info, nil
}

// check is fetchKeys keeping what an operator needs to see. The errors
// are *fetchError.
func (f *federation) check(ctx context.Context, issuer string) (ProviderInfo, error) {
	if err := checkProviderURL(issuer, issuer); err != nil {
		return ProviderInfo{}, &fetchError{layer: "the issuer URL " + issuer + " " + err.Error(), err: err}
	}
	discovery := strings.TrimRight(issuer, "/") + PathDiscovery
	body, err := f.get(ctx, discovery)
	if err != nil {
		return ProviderInfo{}, err
	}
	md, err := parseProviderMetadata(body, issuer)
	if err != nil {
		return ProviderInfo{}, &fetchError{layer: "the discovery document " + discovery + " " + err.Error(), err: err}
	}
	var endpoints struct {
		Authorization string `json:"authorization_endpoint"`
		Token         string `json:"token_endpoint"`
	}
	_ = json.Unmarshal(body, &endpoints) // parseProviderMetadata decoded it already
	body, err = f.get(ctx, md.JWKSURI)
	if err != nil {
		return ProviderInfo{}, err
	}
	keys, err := parseJWKS(body)
	if err != nil {
		return ProviderInfo{}, &fetchError{layer: "the key set " + md.JWKSURI + " " + err.Error(), err: err}
	}
	info := ProviderInfo{
		Issuer: md.Issuer, DiscoveryURL: discovery, JWKSURI: md.JWKSURI,
		AuthorizationEndpoint: endpoints.Authorization, TokenEndpoint: endpoints.Token,
	}
	for _, k := range keys {
		info.Keys = append(info.Keys, ProviderKey{KeyID: k.KeyID, Algorithm: k.Algorithm, Type: keyType(k.Key)})
	}
	return info, nil
}

// keyType names a public key's JWK type.
func keyType(k any) string {
	switch k.(type) {
	case *rsa.PublicKey:
		return "RSA"
	case *ecdsa.PublicKey:
		return "EC"
	case ed25519.PublicKey:
		return "OKP"
	}
	return "?"
}

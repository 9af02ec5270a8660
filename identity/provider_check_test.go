package identity

import (
	"context"
	"errors"
	"testing"

	"github.com/psgate/psgate"
)

func TestCheckProvider(t *testing.T) {
	idp := newOIDCProvider(t)
	kid := idp.rotate()
	ctx := context.Background()
	client := idp.srv.Client()

	info, err := CheckProvider(ctx, client, idp.issuer())
	if err != nil {
		t.Fatalf("CheckProvider: %v", err)
	}
	if info.Issuer != idp.issuer() || info.JWKSURI != idp.issuer()+"/keys" || info.TokenEndpoint != idp.issuer()+"/token" {
		t.Errorf("info = %+v", info)
	}
	if len(info.Keys) != 2 || info.Keys[1].KeyID != kid || info.Keys[1].Algorithm != "RS256" || info.Keys[1].Type != "RSA" {
		t.Errorf("keys = %+v, want two RSA RS256 keys, the last %s", info.Keys, kid)
	}

	code := func(err error) psgate.Code {
		var pe *psgate.Error
		if !errors.As(err, &pe) {
			t.Fatalf("error %v (%T) is not a *psgate.Error", err, err)
		}
		return pe.Code
	}
	idp.issuerOverride.Store("https://someone-else.example")
	if _, err := CheckProvider(ctx, client, idp.issuer()); code(err) != psgate.CodeFederationMisconfig {
		t.Errorf("issuer mismatch: %v, want %s", err, psgate.CodeFederationMisconfig)
	}
	idp.issuerOverride.Store("")
	idp.down.Store(true)
	if _, err := CheckProvider(ctx, client, idp.issuer()); code(err) != psgate.CodeProviderUnreachable {
		t.Errorf("provider answering 503: %v, want %s", err, psgate.CodeProviderUnreachable)
	}
	idp.down.Store(false)
	if _, err := CheckProvider(ctx, client, "http://idp.example"); code(err) != psgate.CodeFederationMisconfig {
		t.Errorf("http issuer off loopback: %v, want %s", err, psgate.CodeFederationMisconfig)
	}
	if _, err := CheckProvider(ctx, nil, idp.issuer()); code(err) != psgate.CodeProviderUnreachable {
		t.Errorf("untrusted certificate: %v, want %s", err, psgate.CodeProviderUnreachable)
	}
}

package oidctest

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func TestIDToken(t *testing.T) {
	p := Start(t, "psgate-test", map[string]map[string]any{"alice": {"preferred_username": "alice@contoso.test"}})
	tok := p.IDToken(t, "alice")
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("ID token %q is not a JWS", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Iss, Aud, Sub     string
		PreferredUsername string `json:"preferred_username"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	if claims.Iss != p.Issuer || claims.Aud != "psgate-test" || claims.Sub != "alice" || claims.PreferredUsername != "alice@contoso.test" {
		t.Errorf("claims = %s", raw)
	}
}

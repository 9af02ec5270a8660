package identity

import (
	"strings"
	"testing"

	"github.com/psgate/psgate"
)

func FuzzParseAuthorization(f *testing.F) {
	f.Add("Basic YWxpY2VAY29udG9zby50ZXN0OkJlYXJlciBleUo=")
	f.Add("Bearer eyJhbGciOiJFUzI1NiJ9.e30.sig")
	f.Add("Negotiate TlRMTVNTUAABAAAA")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			if c := psgate.CodeOf(err); c != psgate.CodeAuthRequired && c != psgate.CodeBasicRequired {
				t.Fatalf("parseAuthorization(%q) error code %s", h, c)
			}
			return
		}
		if !a.bearer && a.user == "" {
			t.Fatalf("parseAuthorization(%q) = %+v: a password without a user", h, a)
		}
		if a.bearer && a.password != "" {
			t.Fatalf("parseAuthorization(%q) = %+v: bearer with a password", h, a)
		}
	})
}

func FuzzVerifyAccessToken(f *testing.F) {
	fx := newFixture(f)
	valid := fx.signIn("alice@contoso.test", alicePW).AccessToken
	f.Add(valid, "alice@contoso.test")
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.", "")
	f.Add("a.b.c", `contoso\alice`)
	f.Fuzz(func(t *testing.T, tok, user string) {
		p, err := fx.svc.VerifyAccessToken(fx.ctx, tok, Hint{User: user})
		if err == nil {
			// Only the real token may pass, and only as alice.
			if tok != valid || p.UPN != "alice@contoso.test" {
				t.Fatalf("VerifyAccessToken(%q, %q) accepted %+v", tok, user, p)
			}
			return
		}
		if _, ok := psgate.AsError(err); !ok {
			t.Fatalf("VerifyAccessToken(%q) error %v is not a catalog error", tok, err)
		}
		if c := psgate.CodeOf(err); c.Area() != "identity" {
			t.Fatalf("VerifyAccessToken(%q) error code %s", tok, c)
		}
	})
}

func FuzzNormalizeUserCode(f *testing.F) {
	f.Add("BCDF-GHJK")
	f.Add("bcdf ghjk")
	f.Add("ÄBCD-FGHJ")
	f.Fuzz(func(t *testing.T, s string) {
		got := normalizeUserCode(s)
		if got == "" {
			return
		}
		if len(got) != userCodeLen || strings.Trim(got, userCodeAlphabet) != "" {
			t.Fatalf("normalizeUserCode(%q) = %q", s, got)
		}
		if again := normalizeUserCode(formatUserCode(got)); again != got {
			t.Fatalf("normalizeUserCode(formatUserCode(%q)) = %q", got, again)
		}
	})
}

func FuzzParseProviderDocuments(f *testing.F) {
	f.Add([]byte(`{"issuer":"https://idp.example","jwks_uri":"https://idp.example/keys"}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"k1","use":"sig"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if md, err := parseProviderMetadata(body, "https://idp.example"); err == nil {
			if md.Issuer != "https://idp.example" || checkProviderURL(md.JWKSURI, md.Issuer) != nil {
				t.Fatalf("parseProviderMetadata(%q) = %+v", body, md)
			}
		}
		keys, err := parseJWKS(body)
		if err != nil {
			return
		}
		for _, k := range keys {
			if !k.Valid() || !k.IsPublic() || k.Use == "enc" {
				t.Fatalf("parseJWKS(%q) kept %+v", body, k)
			}
		}
	})
}

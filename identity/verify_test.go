package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/psgate/psgate"
)

// serviceKey returns the service's current signing key, so that tests can
// sign tokens with claims the token endpoint would never issue.
func (f *fixture) serviceKey() *signingKey {
	f.t.Helper()
	sk, err := f.svc.keys.signer(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return sk
}

// aliceClaims are valid claims for alice, as the token endpoint issues.
func (f *fixture) aliceClaims() accessClaims {
	now := f.clock.Now()
	return accessClaims{
		Claims: jwt.Claims{
			Issuer:    f.svc.Issuer(),
			Subject:   "alice@contoso.test",
			Audience:  jwt.Audience{DefaultAudience},
			Expiry:    jwt.NewNumericDate(now.Add(time.Hour)),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        randomID(8),
		},
		TenantID: f.contoso.ID, Tenant: "contoso", UserID: f.alice.ID, ClientID: DefaultClientID, IdentityType: idtypUser,
	}
}

func sign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid, typ string, claims any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestTokensRefused(t *testing.T) {
	f := newFixture(t)
	sk := f.serviceKey()
	priv := mustPrivate(t, sk)
	kid := sk.rec.KID
	good := func(edit func(*accessClaims)) string {
		c := f.aliceClaims()
		if edit != nil {
			edit(&c)
		}
		return sign(t, jose.ES256, priv, kid, accessTokenType, c)
	}
	valid := good(nil)
	parts := strings.Split(valid, ".")
	attacker, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	pubJWK, err := sk.public.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()

	tests := []struct {
		name   string
		token  string
		code   psgate.Code
		reason string
	}{
		{"valid", valid, "", ""},
		{"expired within the clock skew", good(func(c *accessClaims) { c.Expiry = jwt.NewNumericDate(now.Add(-30 * time.Second)) }), "", ""},
		{"tampered payload", parts[0] + "." + b64(strings.Replace(mustDecode(t, parts[1]), `"uid":`+itoa(f.alice.ID), `"uid":`+itoa(f.bob.ID), 1)) + "." + parts[2],
			psgate.CodeTokenInvalid, "signature does not verify"},
		{"tampered signature", parts[0] + "." + parts[1] + "." + flip(parts[2]), psgate.CodeTokenInvalid, "signature does not verify"},
		{"expired", good(func(c *accessClaims) { c.Expiry = jwt.NewNumericDate(now.Add(-2 * time.Minute)) }),
			psgate.CodeTokenExpired, "The access token for 'alice@contoso.test' expired at " + now.Add(-2*time.Minute).Format(time.RFC3339)},
		{"no expiry", good(func(c *accessClaims) { c.Expiry = nil }), psgate.CodeTokenInvalid, "no expiry"},
		{"not yet valid", good(func(c *accessClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(10 * time.Minute)) }),
			psgate.CodeTokenInvalid, "not valid before"},
		{"issued in the future", good(func(c *accessClaims) { c.IssuedAt = jwt.NewNumericDate(now.Add(10 * time.Minute)) }),
			psgate.CodeTokenInvalid, "issued in the future"},
		{"wrong audience", good(func(c *accessClaims) { c.Audience = jwt.Audience{"urn:someone-else"} }),
			psgate.CodeTokenInvalid, "audience"},
		{"wrong issuer", good(func(c *accessClaims) { c.Issuer = "https://evil.example" }),
			psgate.CodeTokenInvalid, `issued by "https://evil.example", which neither this gateway nor any tenant trusts`},
		{"no tenant", good(func(c *accessClaims) { c.TenantID = 0 }), psgate.CodeTokenInvalid, "names no tenant"},
		{"not an access token", sign(t, jose.ES256, priv, kid, "JWT", f.aliceClaims()), psgate.CodeTokenInvalid, "not an access token"},
		{"alg none", b64(`{"alg":"none","typ":"at+jwt"}`) + "." + parts[1] + ".", psgate.CodeTokenInvalid, `"none"`},
		{"HS256 keyed with the public key PEM", sign(t, jose.HS256, pubPEM, kid, accessTokenType, f.aliceClaims()),
			psgate.CodeTokenInvalid, `"HS256"`},
		{"HS256 keyed with the public JWK", sign(t, jose.HS256, pubJWK, kid, accessTokenType, f.aliceClaims()),
			psgate.CodeTokenInvalid, `"HS256"`},
		{"another key claiming our kid", sign(t, jose.ES256, attacker, kid, accessTokenType, f.aliceClaims()),
			psgate.CodeTokenInvalid, "signature does not verify"},
		{"unknown kid", sign(t, jose.ES256, attacker, "nope", accessTokenType, f.aliceClaims()),
			psgate.CodeTokenInvalid, `unknown or expired key "nope"`},
		{"ES384 header on an ES256 key", sign(t, jose.ES384, mustP384(t), kid, accessTokenType, f.aliceClaims()),
			psgate.CodeTokenInvalid, "ES384"},
		{"garbage", "not-a-token", psgate.CodeTokenInvalid, "not a signed JWT"},
		{"uid of a user of another tenant", good(func(c *accessClaims) { c.UserID = f.bob.ID }), psgate.CodeLogonFailed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := f.authenticate("Bearer "+tt.token, "")
			if codeOf(err) != tt.code {
				t.Fatalf("Authenticate = %+v, %v; want code %q", p, err, tt.code)
			}
			if err != nil && !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
			if err == nil && (p.UPN != "alice@contoso.test" || p.Method != psgate.AuthBearer) {
				t.Errorf("principal = %+v, want alice by bearer", p)
			}
		})
	}
}

func mustPrivate(t *testing.T, sk *signingKey) *ecdsa.PrivateKey {
	t.Helper()
	block, _ := pem.Decode(sk.rec.PrivatePEM)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*ecdsa.PrivateKey)
}

func mustP384(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustDecode(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// flip changes the first character of a base64url string.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func itoa[N ~int64](n N) string { return strconv.FormatInt(int64(n), 10) }

func TestExpiredTokenFromCache(t *testing.T) {
	f := newFixture(t)
	tok := f.signIn("alice@contoso.test", alicePW)
	if _, err := f.authenticate(basic("alice@contoso.test", "Bearer "+tok.AccessToken), ""); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour + 2*time.Minute)
	_, err := f.authenticate(basic("alice@contoso.test", "Bearer "+tok.AccessToken), "")
	if codeOf(err) != psgate.CodeTokenExpired {
		t.Fatalf("cached token after expiry: %v, want token-expired", err)
	}
	e, _ := psgate.AsError(err)
	if at, ok := e.Value("expired_at"); !ok || at == "" {
		t.Errorf("token-expired error lacks expired_at: %+v", e.Data)
	}
}

func TestDisablingUserTakesEffectWithinAMinute(t *testing.T) {
	f := newFixture(t)
	tok := f.signIn("alice@contoso.test", alicePW)
	authz := basic("alice@contoso.test", "Bearer "+tok.AccessToken)
	if _, err := f.authenticate(authz, ""); err != nil {
		t.Fatal(err)
	}
	f.alice.Enabled = false
	if _, err := f.db.UpdateUser(f.ctx, f.alice); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	_, err := f.authenticate(authz, "")
	if codeOf(err) != psgate.CodeLogonFailed {
		t.Fatalf("a minute after disabling the user: %v, want logon-failed", err)
	}
	_, err = f.authenticate("Bearer "+tok.AccessToken, "")
	if codeOf(err) != psgate.CodeLogonFailed {
		t.Fatalf("plain Bearer a minute after disabling the user: %v, want logon-failed", err)
	}
}

package identity

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/psgate/psgate/internal/password"
)

func newRequest(authz string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/wsman", nil)
	req.RemoteAddr = "192.0.2.10:50000"
	req.Header.Set("Authorization", authz)
	return req
}

// BenchmarkAuthenticateBearer is the gateway's per-request cost for a
// token it has seen before (the signing key and the verified token are
// cached): the budget is 20 µs.
func BenchmarkAuthenticateBearer(b *testing.B) {
	f := newFixture(b)
	tok := f.signIn("alice@contoso.test", alicePW).AccessToken
	for _, bm := range []struct{ name, authz string }{
		{"basic", basic("alice@contoso.test", "Bearer "+tok)},
		{"bearer", "Bearer " + tok},
	} {
		b.Run(bm.name, func(b *testing.B) {
			req := newRequest(bm.authz)
			if _, err := f.auth.Authenticate(f.ctx, req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.auth.Authenticate(f.ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyUncached is the first request with a token: signature
// (ES256), claims and user checks, with the signing key cached.
func BenchmarkVerifyUncached(b *testing.B) {
	f := newFixture(b)
	tok := f.signIn("alice@contoso.test", alicePW).AccessToken
	h := Hint{User: "alice@contoso.test"}
	now := f.clock.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.svc.verify(f.ctx, tok, h, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPasswordSignIn is one password sign-in (password grant or a
// Basic password the cache has not seen) at the production argon2id cost.
func BenchmarkPasswordSignIn(b *testing.B) {
	f := newFixture(b)
	hash, err := password.Hash(alicePW, password.Default())
	if err != nil {
		b.Fatal(err)
	}
	if err := f.db.SetPassword(f.ctx, f.alice.ID, hash, f.clock.Now()); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := f.svc.cred.check(f.ctx, "alice@contoso.test", alicePW, "192.0.2.1"); err != nil {
			b.Fatal(err)
		}
	}
}

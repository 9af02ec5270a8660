package identity

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psgate/psgate"
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
		if _, _, err := f.svc.cred.check(f.ctx, "alice@contoso.test", alicePW, "192.0.2.1", viaPasswordGrant); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPasswordBurstRSS sends bursts of 300 concurrent wrong
// passwords at the production argon2id cost, each from its own address
// behind the trusted proxy, while a bearer-token user keeps working, and
// reports the process's peak RSS (VmHWM: run it alone, with -run '^$'),
// how many sign-ins were hashed or refused, and the slowest bearer
// request during the burst. The numbers are for the record, not
// assertions.
func BenchmarkPasswordBurstRSS(b *testing.B) {
	f := newFixture(b, behindProxy, func(c *ServiceConfig) { c.PasswordParams = password.Default() })
	tok := f.signIn("alice@contoso.test", alicePW).AccessToken
	bearer := newRequest(basic("alice@contoso.test", "Bearer "+tok))
	const burst = 300
	var hashed, refused int
	var slowest time.Duration
	round := 0
	for b.Loop() {
		round++
		var wg sync.WaitGroup
		codes := make(chan psgate.Code, burst)
		for i := range burst {
			wg.Go(func() {
				addr := "10." + strconv.Itoa(round%256) + "." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)
				r := f.grantFrom(addr, "user"+strconv.Itoa(i)+"@contoso.test", "guess-"+strconv.Itoa(round)+"-"+strconv.Itoa(i))
				codes <- psgate.Code(r.Code)
			})
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
	bearerLoop:
		for {
			start := time.Now()
			if _, err := f.auth.Authenticate(f.ctx, bearer); err != nil {
				b.Fatal(err)
			}
			slowest = max(slowest, time.Since(start))
			select {
			case <-done:
				break bearerLoop
			case <-time.After(time.Millisecond):
			}
		}
		close(codes)
		for c := range codes {
			if c == psgate.CodeLogonFailed {
				hashed++
			} else {
				refused++
			}
		}
	}
	b.ReportMetric(float64(vmHWM(b))/1024, "peak-RSS-MiB")
	b.ReportMetric(float64(hashed)/float64(round), "hashed/burst")
	b.ReportMetric(float64(refused)/float64(round), "refused/burst")
	b.ReportMetric(float64(slowest)/float64(time.Millisecond), "slowest-bearer-ms")
}

// vmHWM is the process's peak resident set size in KiB, from
// /proc/self/status; 0 where there is none.
func vmHWM(tb testing.TB) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				tb.Fatalf("VmHWM %q: %v", v, err)
			}
			return n
		}
	}
	return 0
}

package identity

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/sqlite"
)

// behindProxy configures the service as deployed behind a reverse proxy
// on the loopback: the tests' requests come from 127.0.0.1 and name the
// client in X-Forwarded-For.
func behindProxy(c *ServiceConfig) {
	c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
}

func (f *fixture) grantFrom(addr, user, pw string) oauthReply {
	f.t.Helper()
	return f.postFrom(addr, PathToken, url.Values{"grant_type": {"password"}, "username": {user}, "password": {pw}})
}

// Every spelling of one account, whatever the entry point, spends one
// lockout budget: the lockout counts the account the name resolves to,
// not the name as typed.
func TestSpellingsShareOneLockout(t *testing.T) {
	f := newFixture(t, behindProxy)
	const stranger = "198.51.100.7"
	spellings := []string{
		"ALICE@CONTOSO.TEST",
		"ａｌｉｃｅ@ｃｏｎｔｏｓｏ.ｔｅｓｔ", // full-width: NFKC folds it
		`CONTOSO\alice`,
		`contoso\ alice`,
		" alice @contoso.test\t",
		"ali\u200bce@contoso.test", // a zero-width space
	}
	for i, user := range spellings[:4] {
		if r := f.grantFrom(stranger, user, "wrong-"+strconv.Itoa(i)); psgate.Code(r.Code) != psgate.CodeLogonFailed {
			t.Fatalf("failure %d with %q = %s, want logon-failed", i+1, user, r.Raw)
		}
	}
	// The fifth failure, on the gateway's Basic path with yet another
	// spelling, locks the account.
	req := httptest.NewRequest(http.MethodPost, "/wsman", nil)
	req.RemoteAddr = "127.0.0.1:40000"
	req.Header.Set("X-Forwarded-For", stranger)
	req.Header.Set("Authorization", basic(spellings[4], "wrong-4"))
	if _, err := f.auth.Authenticate(f.ctx, req); codeOf(err) != psgate.CodeAccountLocked {
		t.Fatalf("fifth failure over Basic: %v, want account-locked", err)
	}
	for _, user := range append(spellings, "alice@contoso.test") {
		if r := f.grantFrom(stranger, user, alicePW); psgate.Code(r.Code) != psgate.CodeAccountLocked {
			t.Errorf("right password spelled %q while locked = %s, want account-locked", user, r.Raw)
		}
	}
	// Every spelling names alice: once the lock ends, each signs her in.
	f.clock.Advance(time.Minute + time.Second)
	for _, user := range spellings {
		r := f.grantFrom(stranger, user, alicePW)
		if r.Status != http.StatusOK {
			t.Fatalf("right password spelled %q = %s", user, r.Raw)
		}
		p, err := f.authenticate("Bearer "+r.AccessToken, "")
		if err != nil || p.UserID != f.alice.ID {
			t.Fatalf("token of %q = %+v, %v; want alice", user, p, err)
		}
	}

	// An unknown name behaves the same: its spellings share one budget
	// and get the same answers as a real account's.
	unknown := []string{"ZED@contoso.test", "ｚｅｄ@contoso.test", "zed @contoso.test", `CONTOSO\zed`}
	for i, user := range unknown {
		if r := f.grantFrom(stranger, user, "wrong-"+strconv.Itoa(i)); psgate.Code(r.Code) != psgate.CodeLogonFailed {
			t.Fatalf("unknown failure %d with %q = %s, want logon-failed", i+1, user, r.Raw)
		}
	}
	if r := f.grantFrom(stranger, " zed@contoso.test", "wrong-4"); psgate.Code(r.Code) != psgate.CodeAccountLocked ||
		r.Header.Get("Retry-After") != "60" {
		t.Fatalf("unknown name's fifth failure = %s, want account-locked like a real account", r.Raw)
	}
}

// blockingHash stands in for argon2id: each hash waits for release, so
// that a test sees how many run at once without timing anything.
type blockingHash struct {
	release chan struct{}
	running atomic.Int64
	peak    atomic.Int64
	calls   atomic.Int64
}

func (b *blockingHash) install(c *credentials) {
	c.verify = func(string, string) (bool, error) { b.hash(); return false, nil }
	c.burn = func(string, password.Params) { b.hash() }
}

func (b *blockingHash) hash() {
	b.calls.Add(1)
	n := b.running.Add(1)
	for p := b.peak.Load(); n > p && !b.peak.CompareAndSwap(p, n); p = b.peak.Load() {
	}
	<-b.release
	b.running.Add(-1)
}

// A burst of 300 concurrent wrong passwords hashes at most
// HashLimits.Concurrent passwords at once; sign-ins beyond the queue are
// refused while the admitted ones are still hashing, and bearer tokens
// and token refreshes are served meanwhile.
func TestPasswordBurstIsBounded(t *testing.T) {
	const burst = 300
	limits := HashLimits{Concurrent: 2, Queue: 6, PerAddress: 2}
	tests := []struct {
		name     string
		addr     func(i int) string
		admitted int
		code     psgate.Code
		status   int
	}{
		// Through the trusted proxy, from 300 addresses: only the global
		// bound applies.
		{"many addresses", func(i int) string { return "10.1." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256) },
			limits.Concurrent + limits.Queue, psgate.CodeSignInBusy, http.StatusServiceUnavailable},
		// From one address: its share is PerAddress.
		{"one address", func(int) string { return "10.2.0.1" }, limits.PerAddress, psgate.CodeTooManyPending, http.StatusTooManyRequests},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, behindProxy, func(c *ServiceConfig) { c.Hashes = limits })
			tok := f.signIn("alice@contoso.test", alicePW)
			bh := &blockingHash{release: make(chan struct{})}
			bh.install(f.svc.cred)
			released := false
			defer func() {
				if !released {
					close(bh.release)
				}
			}()

			replies := make(chan oauthReply, burst)
			for i := range burst {
				go func() {
					replies <- f.grantFrom(tt.addr(i), "user"+strconv.Itoa(i)+"@contoso.test", "guess-"+strconv.Itoa(i))
				}()
			}
			// Every refusal arrives while the admitted sign-ins are
			// still hashing: none of them waited for a hash.
			refused := burst - tt.admitted
			// Not a timing bound: only a guard against waiting forever
			// when more sign-ins than the bound wait for a hash.
			hang := time.NewTimer(time.Minute)
			defer hang.Stop()
			for n := range refused {
				var r oauthReply
				select {
				case r = <-replies:
				case <-hang.C:
					t.Fatalf("only %d of %d refusals came back while %d hashes are held: sign-ins beyond the bound are waiting",
						n, refused, bh.running.Load())
				}
				if r.Status != tt.status || psgate.Code(r.Code) != tt.code || r.Header.Get("Retry-After") != "1" {
					t.Fatalf("reply %d while hashes are held = %d %v %s, want %d %s with Retry-After: 1",
						n+1, r.Status, r.Header, r.Raw, tt.status, tt.code)
				}
			}
			if got := bh.calls.Load(); got > int64(tt.admitted) {
				t.Fatalf("%d hashes started for %d admitted sign-ins", got, tt.admitted)
			}
			// Still holding every hash: a bearer token is verified and a
			// refresh token redeemed.
			if p, err := f.authenticate(basic("alice@contoso.test", "Bearer "+tok.AccessToken), ""); err != nil || p.UserID != f.alice.ID {
				t.Fatalf("bearer token during the burst: %+v, %v", p, err)
			}
			r := f.postFrom(tt.addr(0), PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
			if r.Status != http.StatusOK {
				t.Fatalf("token refresh during the burst = %s", r.Raw)
			}
			if got := bh.running.Load(); got == 0 {
				t.Fatal("no hash was held while the bearer token was checked: the test proves nothing")
			}

			close(bh.release)
			released = true
			for range tt.admitted {
				if r := <-replies; psgate.Code(r.Code) != psgate.CodeLogonFailed {
					t.Errorf("admitted sign-in = %s, want logon-failed", r.Raw)
				}
			}
			if peak := bh.peak.Load(); peak > int64(limits.Concurrent) {
				t.Errorf("%d hashes ran at once, bound %d", peak, limits.Concurrent)
			}
			if got := bh.calls.Load(); got != int64(tt.admitted) {
				t.Errorf("%d hashes for %d admitted sign-ins", got, tt.admitted)
			}
			t.Logf("%d sign-ins: %d hashed (at most %d at once), %d refused with %s", burst, bh.calls.Load(), bh.peak.Load(), refused, tt.code)
		})
	}
}

// A stranger's failures lock the account for unfamiliar locations only;
// the owner keeps signing in from where they signed in before. A wrong
// password repeated counts once, and a lock lasts longer each time.
func TestSmartLockout(t *testing.T) {
	f := newFixture(t, behindProxy)
	const home, stranger, other = "192.0.2.44", "203.0.113.66", "203.0.113.99"
	if r := f.grantFrom(home, "alice@contoso.test", alicePW); r.Status != http.StatusOK {
		t.Fatalf("sign-in from home = %s", r.Raw)
	}

	// The same wrong password, again and again, is one failure.
	for i := range 12 {
		if r := f.grantFrom(stranger, "alice@contoso.test", "Summer2026!"); psgate.Code(r.Code) != psgate.CodeLogonFailed {
			t.Fatalf("repeat %d of one wrong password = %s, want logon-failed", i+1, r.Raw)
		}
	}
	for i := range 3 {
		if r := f.grantFrom(stranger, "alice@contoso.test", "guess-"+strconv.Itoa(i)); psgate.Code(r.Code) != psgate.CodeLogonFailed {
			t.Fatalf("distinct wrong password %d = %s, want logon-failed", i+2, r.Raw)
		}
	}
	r := f.grantFrom(stranger, "alice@contoso.test", "guess-3")
	if psgate.Code(r.Code) != psgate.CodeAccountLocked || r.Header.Get("Retry-After") != "60" {
		t.Fatalf("fifth distinct wrong password = %s, want account-locked for a minute", r.Raw)
	}

	for _, addr := range []string{stranger, other} {
		if r := f.grantFrom(addr, "alice@contoso.test", alicePW); psgate.Code(r.Code) != psgate.CodeAccountLocked {
			t.Errorf("right password from unfamiliar %s while locked = %s, want account-locked", addr, r.Raw)
		}
	}
	// The owner, at home, is not locked out by the stranger.
	if r := f.grantFrom(home, "alice@contoso.test", alicePW); r.Status != http.StatusOK {
		t.Fatalf("right password from home while a stranger locked the account = %s", r.Raw)
	}
	// Nor over the gateway's Basic path.
	req := httptest.NewRequest(http.MethodPost, "/wsman", nil)
	req.RemoteAddr = "127.0.0.1:40000"
	req.Header.Set("X-Forwarded-For", home)
	req.Header.Set("Authorization", basic(`CONTOSO\alice`, alicePW))
	if _, err := f.auth.Authenticate(f.ctx, req); err != nil {
		t.Fatalf("Basic password from home while locked for strangers: %v", err)
	}

	// Each further lock lasts twice as long: 1m, 2m, 4m.
	for lock, want := range []string{"120", "240"} {
		f.clock.Advance(10 * time.Minute)
		var r oauthReply
		for i := range 5 {
			r = f.grantFrom(stranger, "alice@contoso.test", "round-"+strconv.Itoa(lock)+"-"+strconv.Itoa(i))
		}
		if psgate.Code(r.Code) != psgate.CodeAccountLocked || r.Header.Get("Retry-After") != want {
			t.Fatalf("lock %d = Retry-After %q %s, want account-locked for %ss", lock+2, r.Header.Get("Retry-After"), r.Raw, want)
		}
	}

	// The owner's own typos lock only the familiar side.
	f.clock.Advance(10 * time.Minute)
	for i := range 5 {
		r = f.grantFrom(home, "alice@contoso.test", "typo-"+strconv.Itoa(i))
	}
	if psgate.Code(r.Code) != psgate.CodeAccountLocked {
		t.Fatalf("five typos from home = %s, want account-locked", r.Raw)
	}

	// The operator's unlock clears both sides.
	if _, err := Unlock(f.ctx, f.db, f.alice, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if r := f.grantFrom(home, "alice@contoso.test", alicePW); r.Status != http.StatusOK {
		t.Fatalf("right password from home after unlock = %s", r.Raw)
	}
}

func TestClientAddress(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name, peer, xff, want string
	}{
		{"untrusted peer: the header is ignored", "198.51.100.1:1234", "192.0.2.1", "198.51.100.1"},
		{"trusted peer, one hop", "10.0.0.1:1234", "192.0.2.1", "192.0.2.1"},
		{"rightmost untrusted hop", "10.0.0.1:1234", "203.0.113.5, 192.0.2.1, 10.0.0.7", "192.0.2.1"},
		{"client-invented hops left of it", "10.0.0.1:1234", "1.1.1.1, 2.2.2.2, 192.0.2.1", "192.0.2.1"},
		{"garbage stops at the last trusted hop", "10.0.0.1:1234", "192.0.2.1, not-an-ip", "10.0.0.1"},
		{"garbage left of the client", "10.0.0.1:1234", "not-an-ip, 192.0.2.1", "192.0.2.1"},
		{"all hops trusted", "10.0.0.1:1234", "10.0.0.9, 10.0.0.8", "10.0.0.9"},
		{"no header", "10.0.0.1:1234", "", "10.0.0.1"},
		{"IPv6 with port", "[fd00::1]:443", "[2001:db8::5]:5555", "2001:db8::5"},
		{"IPv4 with port", "10.0.0.1:1234", "192.0.2.1:5555", "192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			r.RemoteAddr = tt.peer
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if got := clientAddress(r, trusted); got != tt.want {
				t.Errorf("clientAddress(peer %s, X-Forwarded-For %q) = %s, want %s", tt.peer, tt.xff, got, tt.want)
			}
		})
	}
}

// Per-address limits see the client behind a trusted proxy, never a
// client's own X-Forwarded-For; requests without credentials count
// nothing; a valid refresh token works from a blocked address.
func TestAddressLimitsBehindProxy(t *testing.T) {
	lockout := func(c *ServiceConfig) { c.Lockout = LockoutPolicy{AddressThreshold: 3} }
	t.Run("trusted proxy", func(t *testing.T) {
		f := newFixture(t, behindProxy, lockout)
		tok := f.signIn("alice@contoso.test", alicePW)
		const guesser = "198.51.100.7"
		for i := range 2 {
			f.grantFrom(guesser, "user"+strconv.Itoa(i)+"@contoso.test", "x"+strconv.Itoa(i))
		}
		r := f.grantFrom(guesser, "user9@contoso.test", "x9")
		if psgate.Code(r.Code) != psgate.CodeSignInThrottled || !strings.Contains(r.Description, "came from "+guesser) {
			t.Fatalf("third failure from %s = %s, want sign-in-throttled naming it", guesser, r.Raw)
		}
		// The guesser cannot escape by prepending an address of its own:
		// the proxy appends the address it saw.
		if r := f.grantFrom("192.0.2.200, "+guesser, "alice@contoso.test", alicePW); psgate.Code(r.Code) != psgate.CodeSignInThrottled {
			t.Fatalf("spoofed X-Forwarded-For = %s, want still throttled", r.Raw)
		}
		// Another client of the same proxy is not blocked.
		if r := f.grantFrom("198.51.100.8", "alice@contoso.test", alicePW); r.Status != http.StatusOK {
			t.Fatalf("other client behind the proxy = %s", r.Raw)
		}
		// A refresh token from the blocked address still works.
		if r := f.postFrom(guesser, PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}); r.Status != http.StatusOK {
			t.Fatalf("refresh from a blocked address = %s", r.Raw)
		}
	})
	t.Run("familiar location", func(t *testing.T) {
		// Behind a NAT the guesser and the owner share an address: its
		// block stops strangers, not an account that signed in from it.
		f := newFixture(t, behindProxy, lockout)
		const nat = "198.51.100.20"
		if r := f.grantFrom(nat, "alice@contoso.test", alicePW); r.Status != http.StatusOK {
			t.Fatalf("first sign-in from %s = %s", nat, r.Raw)
		}
		for i := range 3 {
			f.grantFrom(nat, "user"+strconv.Itoa(i)+"@contoso.test", "x"+strconv.Itoa(i))
		}
		if r := f.grantFrom(nat, "user9@contoso.test", "x9"); psgate.Code(r.Code) != psgate.CodeSignInThrottled {
			t.Fatalf("a stranger at %s after three failures = %s, want sign-in-throttled", nat, r.Raw)
		}
		if r := f.grantFrom(nat, "alice@contoso.test", alicePW); r.Status != http.StatusOK {
			t.Fatalf("the owner at the blocked %s, familiar to her account = %s, want a token", nat, r.Raw)
		}
	})
	t.Run("untrusted peer", func(t *testing.T) {
		f := newFixture(t, lockout, func(c *ServiceConfig) {
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		})
		for i := range 2 {
			f.grantFrom("192.0.2."+strconv.Itoa(i+1), "user"+strconv.Itoa(i)+"@contoso.test", "x"+strconv.Itoa(i))
		}
		r := f.grantFrom("192.0.2.3", "user9@contoso.test", "x9")
		if psgate.Code(r.Code) != psgate.CodeSignInThrottled || !strings.Contains(r.Description, "came from 127.0.0.1") {
			t.Fatalf("third failure, each claiming another address = %s, want 127.0.0.1 throttled", r.Raw)
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		f := newFixture(t, lockout)
		for i := range 10 {
			n := strconv.Itoa(i)
			f.token(url.Values{"grant_type": {"password"}, "username": {"alice@contoso.test"}})   // no password
			f.token(url.Values{"grant_type": {"client_credentials"}, "client_id": {"junk-" + n}}) // no secret
			f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"junk-" + n}})  // junk refresh token
			f.post(PathDeviceCode, url.Values{"client_id": {"junk-" + n}}, "", "")                // unknown client
			req := httptest.NewRequest(http.MethodPost, "/wsman", nil)
			req.RemoteAddr = "127.0.0.1:40000"
			req.Header.Set("Authorization", basic("user"+n+"@contoso.test", "")) // empty password
			if _, err := f.auth.Authenticate(f.ctx, req); codeOf(err) != psgate.CodeLogonFailed {
				t.Fatalf("Basic with an empty password: %v, want logon-failed", err)
			}
		}
		if r := f.token(url.Values{"grant_type": {"password"}, "username": {"alice@contoso.test"}, "password": {alicePW}}); r.Status != http.StatusOK {
			t.Fatalf("sign-in after 50 requests without credentials = %s", r.Raw)
		}
	})
}

// One address flooding the device authorization endpoint gets its share
// of pending codes and no more; under pressure, codes nobody polls are
// dropped to make room, and codes in use survive.
func TestDeviceCodeFlood(t *testing.T) {
	f := newFixture(t, behindProxy, func(c *ServiceConfig) {
		c.DeviceCodes = DeviceCodeLimits{Pending: 20, PerAddress: 5}
	})
	start := func(addr string) oauthReply {
		return f.postFrom(addr, PathDeviceCode, url.Values{"client_id": {DefaultClientID}})
	}
	for i := range 5 {
		if r := start("198.51.100.7"); r.Status != http.StatusOK {
			t.Fatalf("code %d from the flooder = %s", i+1, r.Raw)
		}
	}
	r := start("198.51.100.7")
	if r.Status != http.StatusTooManyRequests || psgate.Code(r.Code) != psgate.CodeTooManyPending || r.Header.Get("Retry-After") == "" {
		t.Fatalf("sixth code from one address = %d %s, want 429 too-many-pending with Retry-After", r.Status, r.Raw)
	}
	legit := f.startDeviceFrom("192.0.2.10")

	// A flood from many addresses fills the table.
	for a := 0; ; a++ {
		r := start("198.51.101." + strconv.Itoa(a/5))
		if r.Status == http.StatusServiceUnavailable {
			break
		}
		if r.Status != http.StatusOK || a > 40 {
			t.Fatalf("flood code %d = %s", a, r.Raw)
		}
	}
	// The legitimate client keeps polling; the flooders do not.
	f.clock.Advance(15 * time.Second)
	if r := f.pollDevice(legit.DeviceCode, DefaultClientID); r.Error != "authorization_pending" {
		t.Fatalf("poll = %s", r.Raw)
	}
	f.clock.Advance(20 * time.Second)
	if r := f.pollDevice(legit.DeviceCode, DefaultClientID); r.Error != "authorization_pending" {
		t.Fatalf("poll = %s", r.Raw)
	}
	// Someone else now gets a code: the idle ones made room, with a
	// shorter life while the table is under pressure.
	dc := f.startDeviceFrom("192.0.2.11")
	if dc.ExpiresIn > 300 {
		t.Errorf("a code issued under pressure lives %ds, want at most 300", dc.ExpiresIn)
	}
	// The code in use survived and completes.
	if p := f.approveDevice(legit.UserCode, "alice@contoso.test", alicePW); p.status != http.StatusOK {
		t.Fatalf("approving the polled code = %d %s", p.status, p.body)
	}
	f.clock.Advance(5 * time.Second)
	if r := f.pollDevice(legit.DeviceCode, DefaultClientID); r.Status != http.StatusOK {
		t.Fatalf("poll after approval = %s", r.Raw)
	}
}

func (f *fixture) startDeviceFrom(addr string) deviceCodeResponse {
	f.t.Helper()
	r := f.postFrom(addr, PathDeviceCode, url.Values{"client_id": {DefaultClientID}})
	if r.Status != http.StatusOK {
		f.t.Fatalf("device authorization from %s = %d %s", addr, r.Status, r.Raw)
	}
	var dc deviceCodeResponse
	if err := json.Unmarshal([]byte(r.Raw), &dc); err != nil {
		f.t.Fatal(err)
	}
	return dc
}

// Failed sign-ins leave auth.failed records in the store's audit log,
// naming the account only when it is one.
func TestFailedSignInsAudited(t *testing.T) {
	f := newFixture(t, func(c *ServiceConfig) {
		c.Lockout = LockoutPolicy{AccountThreshold: 2}
		c.Audit = c.Store.(*sqlite.DB)
	})
	sp := f.mustUser(f.contoso, "app@contoso.test", "")
	f.mustClient(store.OAuthClient{ClientID: "app", TenantID: f.contoso.ID, UserID: sp.ID}, "app-secret", nil)

	f.token(url.Values{"grant_type": {"password"}, "username": {"alice@contoso.test"}, "password": {"wrong-1"}})
	f.token(url.Values{"grant_type": {"password"}, "username": {"ALICE@contoso.test"}, "password": {"wrong-2"}})
	f.token(url.Values{"grant_type": {"password"}, "username": {"Typed-Password-In-Name"}, "password": {"x"}})
	f.post(PathToken, url.Values{"grant_type": {"client_credentials"}}, "app", "not-the-secret")

	recs, err := f.db.SearchAudit(f.ctx, store.AuditFilter{Action: store.ActionAuthFailed})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		tenant     psgate.TenantID
		upn, code  string
		detail     string
		clientAddr string
	}
	var got []row
	for i := len(recs) - 1; i >= 0; i-- { // oldest first
		r := recs[i]
		got = append(got, row{r.TenantID, r.UPN, r.Code, r.Detail, r.ClientAddr})
	}
	want := []row{
		{f.contoso.ID, "alice@contoso.test", string(psgate.CodeLogonFailed), "password grant: wrong password", "127.0.0.1"},
		{f.contoso.ID, "alice@contoso.test", string(psgate.CodeAccountLocked), "password grant: wrong password; the account is locked until", "127.0.0.1"},
		{0, "", string(psgate.CodeLogonFailed), "password grant: unknown user name", "127.0.0.1"},
		{f.contoso.ID, "", string(psgate.CodeInvalidClient), "client authentication: application 'app'", "127.0.0.1"},
	}
	if len(got) != len(want) {
		t.Fatalf("audit records = %+v, want %d", got, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.tenant != w.tenant || g.upn != w.upn || g.code != w.code || !strings.HasPrefix(g.detail, w.detail) || g.clientAddr != w.clientAddr {
			t.Errorf("audit record %d = %+v, want %+v", i+1, g, w)
		}
	}
	for _, r := range recs {
		if strings.Contains(strings.ToLower(r.UPN+r.Detail), "typed-password") {
			t.Errorf("the audit log holds an unknown user name: %+v", r)
		}
	}
}

// A valid token cannot tell an unknown tenant domain from a tenant it
// has no access to: both are answered alike.
func TestTenantProbeAnswersAlike(t *testing.T) {
	f := newFixture(t)
	tok := f.signIn("alice@contoso.test", alicePW).AccessToken
	probe := func(authz, target string) string {
		_, err := f.authenticate(authz, target)
		e, ok := psgate.AsError(err)
		if !ok {
			t.Fatalf("probe %s %s: %v, want a refusal", authz[:10], target, err)
		}
		return string(e.Code) + " " + e.Message + " " + e.Resolution
	}
	pairs := []struct{ exists, missing string }{
		{probe(basic("x@fabrikam.test", "Bearer "+tok), ""), probe(basic("x@nowhere.test", "Bearer "+tok), "")},
		{probe(basic(`fabrikam\x`, "Bearer "+tok), ""), probe(basic(`nowhere\x`, "Bearer "+tok), "")},
		{probe("Bearer "+tok, "/wsman?AdminDomain=fabrikam.test"), probe("Bearer "+tok, "/wsman?AdminDomain=nowhere.test")},
	}
	for _, p := range pairs {
		if strings.ReplaceAll(p.exists, "fabrikam", "nowhere") != p.missing {
			t.Errorf("existing tenant: %s\nunknown tenant:  %s\nwant the same answer", p.exists, p.missing)
		}
	}
}

// Why a federated token was refused reaches the operator's log, with the
// issuer, audience and claim as attributes.
func TestFederatedRefusalLogged(t *testing.T) {
	idp := newOIDCProvider(t)
	f := newFixture(t, func(c *ServiceConfig) { c.HTTPClient = idp.srv.Client() })
	f.federate(idp, true)
	for _, tt := range []struct {
		name  string
		edit  func(map[string]any)
		attrs []string
	}{
		{"wrong audience", func(c map[string]any) { c["aud"] = "someone-else" },
			[]string{"code=identity.federated-token-invalid", "issuer=" + idp.issuer(), "audience=[someone-else]"}},
		{"no user claim", func(c map[string]any) { delete(c, "email") },
			[]string{"code=identity.federated-token-invalid", "claim=email", "tenant=fabrikam"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := f.bobClaims(idp)
			tt.edit(c)
			if _, err := f.authenticate("Bearer "+idp.idToken(c), ""); codeOf(err) != psgate.CodeFederatedTokenInvalid {
				t.Fatalf("Authenticate: %v, want federated-token-invalid", err)
			}
			var line string
			for _, l := range strings.Split(f.logs.String(), "\n") {
				if strings.Contains(l, `msg="federated token refused"`) && strings.Contains(l, tt.attrs[len(tt.attrs)-1]) {
					line = l
				}
			}
			for _, a := range tt.attrs {
				if !strings.Contains(line, a) {
					t.Errorf("no log line of the refusal with %s in:\n%s", a, f.logs.String())
				}
			}
		})
	}
}

// While strangers' guesses fill every shared hashing slot and the queue,
// the owner signing in from a familiar place is not refused and does not
// wait behind them: familiar sign-ins have a lane of their own
// (HashLimits.Familiar). Found by the load run under attack, where
// legitimate password grants queued behind the attacker's hashes.
func TestOwnerSignsInDuringAFlood(t *testing.T) {
	limits := HashLimits{Concurrent: 1, Queue: 3, PerAddress: 4}
	f := newFixture(t, behindProxy, func(c *ServiceConfig) { c.Hashes = limits })
	const home = "10.9.0.1"
	if r := f.grantFrom(home, "alice@contoso.test", alicePW); r.Status != http.StatusOK {
		t.Fatalf("first sign-in from home = %s", r.Raw)
	}
	// From here on every hash but the owner's right password blocks.
	release := make(chan struct{})
	var held atomic.Int64
	realVerify := f.svc.cred.verify
	f.svc.cred.verify = func(pw, encoded string) (bool, error) {
		if pw == alicePW {
			return realVerify(pw, encoded)
		}
		held.Add(1)
		<-release
		return false, nil
	}
	f.svc.cred.burn = func(string, password.Params) { held.Add(1); <-release }
	defer close(release)
	replies := make(chan oauthReply, 10)
	for i := range 10 {
		go func() {
			replies <- f.grantFrom("10.8.0."+strconv.Itoa(i+1), "user"+strconv.Itoa(i)+"@contoso.test", "guess")
		}()
	}
	// Six of the ten are refused at once (one hashing, three queued).
	for range 10 - limits.Concurrent - limits.Queue {
		if r := <-replies; psgate.Code(r.Code) != psgate.CodeSignInBusy {
			t.Fatalf("a guess beyond the bound = %s, want sign-in-busy", r.Raw)
		}
	}
	if held.Load() == 0 {
		t.Fatal("no stranger's hash is held: the test proves nothing")
	}
	if r := f.grantFrom(home, "alice@contoso.test", alicePW); r.Status != http.StatusOK {
		t.Errorf("the owner at home while strangers fill the bound = %d %s, want signed in", r.Status, r.Raw)
	}
	// A sign-in from an unfamiliar place still meets the full bound.
	if r := f.grantFrom("10.7.0.1", "alice@contoso.test", alicePW); r.Status == http.StatusOK {
		t.Errorf("a sign-in from a new place jumped the full queue: %s", r.Raw)
	}
}

// The service applies the hashing defaults and so do the credentials it
// builds: "none" (a negative Queue or Familiar) must survive both.
func TestHashLimitsDefaultsTwice(t *testing.T) {
	l := HashLimits{Concurrent: 2, Queue: -1, Familiar: -1}.withDefaults().withDefaults()
	if g := newHashGate(l); g.slots != 2 || g.queue != 0 {
		t.Errorf("Queue -1 after defaults twice: %d slots, %d queued; want 2 and none", g.slots, g.queue)
	}
	if g := newHashGate(l); g.famQueue != 0 {
		t.Error("Familiar -1 after defaults twice gives familiar sign-ins precedence")
	}
	d := HashLimits{}.withDefaults().withDefaults()
	if g := newHashGate(d); g.famQueue == 0 || g.slots != d.Concurrent+1 || d.Queue != 64*d.Concurrent {
		t.Errorf("defaults twice = %+v, want a reserved slot and 64 queued per slot", d)
	}
}

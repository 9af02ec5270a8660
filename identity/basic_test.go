package identity

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/password"
)

func TestAuthenticate(t *testing.T) {
	f := newFixture(t)
	alice := f.signIn("alice@contoso.test", alicePW).AccessToken
	bobTok := f.deviceSignIn("bob@fabrikam.test", bobPW)
	tests := []struct {
		name   string
		authz  string
		target string
		code   psgate.Code
		text   string
		method psgate.AuthMethod
		upn    string
	}{
		{"Basic user + Bearer token", basic("alice@contoso.test", "Bearer "+alice), "", "", "", psgate.AuthBearer, "alice@contoso.test"},
		{"Basic user in another case", basic("ALICE@Contoso.Test", "bearer "+alice), "", "", "", psgate.AuthBearer, "alice@contoso.test"},
		{"Basic TENANT\\user + Bearer", basic(`CONTOSO\alice`, "Bearer "+alice), "", "", "", psgate.AuthBearer, "alice@contoso.test"},
		{"plain Bearer header", "Bearer " + alice, "", "", "", psgate.AuthBearer, "alice@contoso.test"},
		{"AdminDomain of the token's tenant", "Bearer " + alice, "/wsman?AdminDomain=contoso.test", "", "", psgate.AuthBearer, "alice@contoso.test"},
		{"Basic user is someone else", basic("erin@contoso.test", "Bearer "+alice), "", psgate.CodeTokenUserMismatch,
			"The user name 'erin@contoso.test' in the Basic header does not match the token's subject 'alice@contoso.test'.", "", ""},
		{"Basic user of another tenant", basic("bob@fabrikam.test", "Bearer "+alice), "", psgate.CodeTokenWrongTenant,
			"The access token was issued for tenant 'contoso', not for tenant 'fabrikam.test' that this request addresses.", "", ""},
		{"TENANT\\user of another tenant", basic(`fabrikam\alice`, "Bearer "+alice), "", psgate.CodeTokenWrongTenant, "not for tenant 'fabrikam'", "", ""},
		{"AdminDomain of another tenant", "Bearer " + alice, "/wsman?AdminDomain=fabrikam.test", psgate.CodeTokenWrongTenant, "not for tenant 'fabrikam.test'", "", ""},
		{"password where the tenant allows it", basic("alice@contoso.test", alicePW), "", "", "", psgate.AuthPassword, "alice@contoso.test"},
		{"password where the tenant forbids it", basic("bob@fabrikam.test", bobPW), "", psgate.CodePasswordAuthDisabled, "Tenant 'fabrikam'", "", ""},
		{"token where the tenant forbids passwords", basic("bob@fabrikam.test", "Bearer "+bobTok), "", "", "", psgate.AuthBearer, "bob@fabrikam.test"},
		{"wrong password", basic("alice@contoso.test", "nope"), "", psgate.CodeLogonFailed, "Logon failed for the user 'alice@contoso.test'.", "", ""},
		{"empty bearer", basic("alice@contoso.test", "Bearer "), "", psgate.CodeTokenInvalid, "empty", "", ""},
		{"no Authorization", "", "", psgate.CodeAuthRequired, "", "", ""},
		{"Basic without colon", "Basic " + "YWxpY2U=", "", psgate.CodeAuthRequired, "", "", ""},
		{"Basic not base64", "Basic %%%", "", psgate.CodeAuthRequired, "", "", ""},
		{"Negotiate", "Negotiate TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==", "", psgate.CodeBasicRequired,
			"The client offered Negotiate authentication.", "", ""},
		{"Kerberos", "Kerberos YIIB", "", psgate.CodeBasicRequired, "Kerberos", "", ""},
		{"NTLM", "NTLM TlRMTVNTUAAB", "", psgate.CodeBasicRequired, "NTLM", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := f.authenticate(tt.authz, tt.target)
			if codeOf(err) != tt.code {
				t.Fatalf("Authenticate = %+v, %v; want code %q", p, err, tt.code)
			}
			if err != nil {
				if _, ok := err.(*psgate.Error); !ok {
					t.Errorf("error %T is not a *psgate.Error", err)
				}
				if !strings.Contains(err.Error(), tt.text) {
					t.Errorf("error %q does not say %q", err, tt.text)
				}
				return
			}
			if p.Method != tt.method || p.UPN != tt.upn {
				t.Errorf("principal = %+v, want %s by %s", p, tt.upn, tt.method)
			}
		})
	}
	t.Run("Basic required explains the fix", func(t *testing.T) {
		_, err := f.authenticate("Negotiate abc", "")
		e, _ := psgate.AsError(err)
		if e == nil || !strings.Contains(e.Message, "'Bearer <token>' as the password") ||
			!strings.Contains(e.Resolution, `winrm set winrm/config/client/auth @{Basic="true"}`) {
			t.Fatalf("basic-auth-required = %+v", e)
		}
		if st := e.Entry().HTTPStatus; st != http.StatusUnauthorized {
			t.Errorf("status = %d, want 401", st)
		}
	})
}

// deviceSignIn gets a token for user through the device flow, which works
// even where the tenant forbids the password grant.
func (f *fixture) deviceSignIn(user, pw string) string {
	f.t.Helper()
	dc := f.startDevice(url.Values{"client_id": {DefaultClientID}})
	if page := f.approveDevice(dc.UserCode, user, pw); page.status != http.StatusOK {
		f.t.Fatalf("device approval for %s = %d %s", user, page.status, page.body)
	}
	r := f.pollDevice(dc.DeviceCode, DefaultClientID)
	if r.Status != 200 {
		f.t.Fatalf("device token for %s = %d %s", user, r.Status, r.Raw)
	}
	return r.AccessToken
}

func TestLockout(t *testing.T) {
	f := newFixture(t)
	grant := func(user, pw string) oauthReply {
		return f.token(url.Values{"grant_type": {"password"}, "username": {user}, "password": {pw}})
	}
	for i := range 4 {
		if r := grant("alice@contoso.test", "wrong-"+itoa(int64(i))); psgate.Code(r.Code) != psgate.CodeLogonFailed {
			t.Fatalf("failure %d = %s, want logon-failed", i+1, r.Raw)
		}
	}
	r := grant("alice@contoso.test", "wrong-5")
	until := f.clock.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	if psgate.Code(r.Code) != psgate.CodeAccountLocked || !strings.Contains(r.Description, "It unlocks at "+until+" (in 1m0s)") ||
		r.Data["locked_until"] != until || r.Header.Get("Retry-After") != "60" {
		t.Fatalf("fifth failure = %s %v, want account-locked until %s, Retry-After 60", r.Raw, r.Header, until)
	}
	if r := grant("alice@contoso.test", alicePW); psgate.Code(r.Code) != psgate.CodeAccountLocked {
		t.Fatalf("right password while locked = %s, want account-locked", r.Raw)
	}
	// The gateway's Basic path shares the lock.
	if _, err := f.authenticate(basic("alice@contoso.test", alicePW), ""); codeOf(err) != psgate.CodeAccountLocked {
		t.Fatalf("Basic password while locked: %v, want account-locked", err)
	}
	// An unknown user locks exactly like a real one.
	for i := range 4 {
		grant("nobody@contoso.test", "wrong-"+itoa(int64(i)))
	}
	if r := grant("nobody@contoso.test", "wrong-5"); psgate.Code(r.Code) != psgate.CodeAccountLocked {
		t.Fatalf("unknown user's fifth failure = %s, want account-locked", r.Raw)
	}
	f.clock.Advance(time.Minute + time.Second)
	if r := grant("alice@contoso.test", alicePW); r.Status != 200 {
		t.Fatalf("right password after the lock = %s", r.Raw)
	}

	t.Run("per address", func(t *testing.T) {
		f := newFixture(t, func(c *ServiceConfig) { c.Lockout = LockoutPolicy{AddressThreshold: 6} })
		for i := range 5 {
			r := f.token(url.Values{"grant_type": {"password"}, "username": {"user" + itoa(int64(i)) + "@contoso.test"}, "password": {"x"}})
			if psgate.Code(r.Code) != psgate.CodeLogonFailed {
				t.Fatalf("failure %d = %s", i, r.Raw)
			}
		}
		r := f.token(url.Values{"grant_type": {"password"}, "username": {"user9@contoso.test"}, "password": {"x"}})
		if r.Status != http.StatusTooManyRequests || psgate.Code(r.Code) != psgate.CodeSignInThrottled ||
			!strings.Contains(r.Description, "Too many failed sign-ins came from 127.0.0.1") {
			t.Fatalf("sixth failure from one address = %d %s, want sign-in-throttled", r.Status, r.Raw)
		}
		// Even alice's right password is refused from that address.
		if r := f.token(url.Values{"grant_type": {"password"}, "username": {"alice@contoso.test"}, "password": {alicePW}}); psgate.Code(r.Code) != psgate.CodeSignInThrottled {
			t.Fatalf("right password from a blocked address = %s", r.Raw)
		}
	})
}

func TestUnknownUserAnswersLikeWrongPassword(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes with the production argon2id cost")
	}
	f := newFixture(t)
	// Production cost, so that a missing hash would show.
	hash, err := password.Hash(alicePW, password.Default())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetPassword(f.ctx, f.alice.ID, hash, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	auth, err := NewAuthenticator(Config{Dir: f.db, Now: f.clock.Now, CacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	try := func(user, pw string) (time.Duration, error) {
		req := httptest.NewRequest(http.MethodPost, "/wsman", nil)
		req.Header.Set("Authorization", basic(user, pw))
		start := time.Now()
		_, err := auth.Authenticate(context.Background(), req)
		return time.Since(start), err
	}
	var wrong, unknown []time.Duration
	for i := range 4 {
		// A new wrong password each time: a repeated one is answered
		// without hashing, for known and unknown users alike.
		pw := "wrong-password-" + itoa(int64(i))
		d, errW := try("alice@contoso.test", pw)
		wrong = append(wrong, d)
		d, errU := try("zed@contoso.test", pw)
		unknown = append(unknown, d)
		ew, _ := psgate.AsError(errW)
		eu, _ := psgate.AsError(errU)
		if ew == nil || eu == nil || ew.Code != psgate.CodeLogonFailed || eu.Code != ew.Code ||
			strings.Replace(eu.Message, "zed@", "alice@", 1) != ew.Message || eu.Resolution != ew.Resolution {
			t.Fatalf("wrong password = %v; unknown user = %v; want the same logon-failed answer", errW, errU)
		}
	}
	// The fastest run is the cost without scheduling noise (the machine
	// may be busy with other tests).
	mw, mu := slices.Min(wrong), slices.Min(unknown)
	t.Logf("fastest: wrong password %v, unknown user %v", mw, mu)
	if raceEnabled {
		return
	}
	if mu < mw/2 || mu > mw*2 {
		t.Errorf("unknown user takes %v, wrong password %v: the timing tells them apart", mu, mw)
	}
}

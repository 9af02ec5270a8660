package identity

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate"
)

func (f *fixture) startDevice(form url.Values) deviceCodeResponse {
	f.t.Helper()
	r := f.post(PathDeviceCode, form, "", "")
	if r.Status != http.StatusOK {
		f.t.Fatalf("device authorization = %d %s", r.Status, r.Raw)
	}
	var dc deviceCodeResponse
	if err := json.Unmarshal([]byte(r.Raw), &dc); err != nil {
		f.t.Fatal(err)
	}
	return dc
}

func (f *fixture) pollDevice(code, clientID string) oauthReply {
	f.t.Helper()
	return f.token(url.Values{"grant_type": {grantDeviceCode}, "device_code": {code}, "client_id": {clientID}})
}

type page struct {
	status int
	header http.Header
	body   string
}

// approveDevice submits the verification page's form.
func (f *fixture) approveDevice(userCode, user, pw string) page {
	f.t.Helper()
	form := url.Values{"user_code": {userCode}, "username": {user}, "password": {pw}}
	resp, err := f.client.PostForm(f.srv.URL+PathDevice, form)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header, string(b)}
}

func TestDeviceFlow(t *testing.T) {
	f := newFixture(t)
	dc := f.startDevice(url.Values{"client_id": {DefaultClientID}, "scope": {"psgate"}})
	if len(dc.UserCode) != 9 || dc.UserCode[4] != '-' || dc.Interval != 5 || dc.ExpiresIn != 900 ||
		dc.VerificationURI != f.svc.Issuer()+PathDevice || !strings.HasSuffix(dc.VerificationURIComplete, "?user_code="+dc.UserCode) {
		t.Fatalf("device authorization = %+v", dc)
	}

	r := f.pollDevice(dc.DeviceCode, DefaultClientID)
	if r.Status != 400 || r.Error != "authorization_pending" {
		t.Fatalf("first poll = %d %s, want authorization_pending", r.Status, r.Raw)
	}
	r = f.pollDevice(dc.DeviceCode, DefaultClientID)
	if r.Error != "slow_down" || r.Data["interval"] != "10" {
		t.Fatalf("poll without waiting = %s, want slow_down with interval 10", r.Raw)
	}
	f.clock.Advance(10 * time.Second)

	// The verification page.
	resp, err := f.client.Get(dc.VerificationURIComplete)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `value="`+dc.UserCode+`"`) || !strings.Contains(string(b), `type="password"`) {
		t.Fatalf("verification page = %d %s", resp.StatusCode, b)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("verification page CSP = %q", csp)
	}

	p := f.approveDevice(dc.UserCode, "alice@contoso.test", "wrong")
	if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "Logon failed for the user &#39;alice@contoso.test&#39;") {
		t.Fatalf("wrong password on the page = %d %s", p.status, p.body)
	}
	if strings.Contains(p.body, "wrong") && strings.Contains(p.body, `value="wrong"`) {
		t.Error("the page echoes the password")
	}
	p = f.approveDevice("BBBB-BBBB", "alice@contoso.test", alicePW)
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "not valid or has expired") {
		t.Fatalf("unknown code on the page = %d %s", p.status, p.body)
	}
	// Lower case and without the dash is fine.
	typed := strings.ToLower(strings.ReplaceAll(dc.UserCode, "-", ""))
	p = f.approveDevice(typed, "alice@contoso.test", alicePW)
	if p.status != http.StatusOK || !strings.Contains(p.body, "You are signed in as <strong>alice@contoso.test</strong>") {
		t.Fatalf("sign-in on the page = %d %s", p.status, p.body)
	}
	if p := f.approveDevice(dc.UserCode, "alice@contoso.test", alicePW); p.status != http.StatusBadRequest {
		t.Errorf("approving a code twice = %d, want 400", p.status)
	}

	r = f.pollDevice(dc.DeviceCode, "other-client")
	if r.Status != 401 || r.Error != "invalid_client" {
		t.Fatalf("poll by an unknown client = %d %s", r.Status, r.Raw)
	}
	r = f.pollDevice(dc.DeviceCode, DefaultClientID)
	if r.Status != 200 || r.AccessToken == "" || r.RefreshToken == "" || r.Scope != "psgate" {
		t.Fatalf("poll after approval = %d %s", r.Status, r.Raw)
	}
	pr, err := f.authenticate(basic("alice@contoso.test", "Bearer "+r.AccessToken), "")
	if err != nil || pr.UPN != "alice@contoso.test" {
		t.Fatalf("device token at the gateway = %+v, %v", pr, err)
	}
	if r := f.pollDevice(dc.DeviceCode, DefaultClientID); r.Error != "invalid_grant" {
		t.Errorf("redeeming the device code twice = %s, want invalid_grant", r.Raw)
	}

	t.Run("expired", func(t *testing.T) {
		dc := f.startDevice(url.Values{})
		f.clock.Advance(16 * time.Minute)
		if p := f.approveDevice(dc.UserCode, "alice@contoso.test", alicePW); p.status != http.StatusBadRequest {
			t.Errorf("approving an expired code = %d, want 400", p.status)
		}
		r := f.pollDevice(dc.DeviceCode, DefaultClientID)
		if r.Error != "expired_token" || psgate.Code(r.Code) != psgate.CodeDeviceCodeExpired {
			t.Fatalf("poll after expiry = %s, want expired_token", r.Raw)
		}
	})
	t.Run("expired and swept", func(t *testing.T) {
		// The service's sweeper may run between expiry and the client's
		// next poll: the client must still hear that its code expired.
		dc := f.startDevice(url.Values{})
		f.clock.Advance(16 * time.Minute)
		f.svc.devices.sweep(f.clock.Now())
		r := f.pollDevice(dc.DeviceCode, DefaultClientID)
		if r.Error != "expired_token" || psgate.Code(r.Code) != psgate.CodeDeviceCodeExpired {
			t.Fatalf("poll after expiry and a sweep = %s, want expired_token", r.Raw)
		}
	})
	t.Run("tenant without password grant", func(t *testing.T) {
		// Interactive sign-in is modern authentication: allowed where the
		// password grant and Basic passwords are not.
		tok := f.deviceSignIn("bob@fabrikam.test", bobPW)
		if _, err := f.authenticate(basic("bob@fabrikam.test", "Bearer "+tok), ""); err != nil {
			t.Fatal(err)
		}
	})
}

func TestNormalizeUserCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"BCDF-GHJK", "BCDFGHJK"},
		{"bcdf ghjk", "BCDFGHJK"},
		{"BCDFGHJK", "BCDFGHJK"},
		{"BCDF-GHJ", ""},
		{"ABCD-EFGH", ""}, // vowels are never in a code
		{"BCDF-GHJ1", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := normalizeUserCode(tt.in); got != tt.want {
			t.Errorf("normalizeUserCode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

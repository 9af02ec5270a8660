package interop

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/server"
)

// The tests in this file drive psgate's token service (package identity)
// on the server's own listeners, then connect stock clients with the
// access token inside Basic authentication: user name, and
// "Bearer <token>" as the password, as the Skype for Business Online
// connector did.

// oauthReply is a token endpoint answer, success or error.
type oauthReply struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
	Code         string `json:"psgate_code"`
}

func insecureClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
}

// base is the listener's root URL for a gateway URL ending in /wsman.
func base(wsmanURL string) string { return strings.TrimSuffix(wsmanURL, "/wsman") }

// tokenServiceMissing skips (fails under CI) when the server does not
// serve the token service: the gateway, mounted at "/", then answers
// with a SOAP fault or 405 instead of the token service's JSON.
func tokenServiceMissing(t *testing.T, status int, contentType, what string) {
	t.Helper()
	if strings.HasPrefix(contentType, "application/json") || strings.HasPrefix(contentType, "text/html") {
		return
	}
	msg := fmt.Sprintf("%s: HTTP %d (%s): the server does not mount the identity token service", what, status, contentType)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// postForm posts a form and returns the status, the content type and the
// body.
func postForm(t *testing.T, rawURL string, form url.Values) (int, string, []byte) {
	t.Helper()
	resp, err := insecureClient().PostForm(rawURL, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

func tokenRequest(t *testing.T, wsmanURL string, form url.Values) (int, oauthReply) {
	t.Helper()
	status, ct, b := postForm(t, base(wsmanURL)+"/oauth2/token", form)
	tokenServiceMissing(t, status, ct, "POST /oauth2/token")
	var r oauthReply
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("token endpoint answered %d with non-JSON: %s", status, b)
	}
	return status, r
}

// signInAdmin runs the password grant for the demo administrator (the
// demo tenant allows passwords).
func signInAdmin(t *testing.T, ts *testServer) oauthReply {
	t.Helper()
	status, r := tokenRequest(t, ts.httpURL, url.Values{"grant_type": {"password"}, "client_id": {"psgate"},
		"username": {server.DemoAdmin}, "password": {adminPassword}})
	if status != http.StatusOK || r.AccessToken == "" || r.TokenType != "Bearer" {
		t.Fatalf("password grant = %d %+v", status, r)
	}
	return r
}

func pywinrmBearer(t *testing.T, url, user, token, scenario string) pyResult {
	t.Helper()
	py := python(t, "winrm")
	var r pyResult
	runPy(t, py, "pywinrm_client.py", scenario, map[string]string{
		"PSGATE_URL": url, "PSGATE_USER": user, "PSGATE_PASSWORD": "Bearer " + token,
	}, &r)
	return r
}

func pypsrpBearer(t *testing.T, rawURL, path, user, token, scenario string) map[string]any {
	t.Helper()
	py := python(t, "pypsrp")
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	ssl := "0"
	if u.Scheme == "https" {
		ssl = "1"
	}
	var out map[string]any
	runPy(t, py, "pypsrp_client.py", scenario, map[string]string{
		"PSGATE_HOST": u.Hostname(), "PSGATE_PORT": u.Port(), "PSGATE_SSL": ssl, "PSGATE_PATH": path,
		"PSGATE_USER": user, "PSGATE_PASSWORD": "Bearer " + token,
	}, &out)
	return out
}

func TestTokenServiceDiscovery(t *testing.T) {
	ts := startServer(t)
	for _, u := range []string{ts.httpURL, ts.httpsURL} {
		resp, err := insecureClient().Get(base(u) + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		tokenServiceMissing(t, resp.StatusCode, resp.Header.Get("Content-Type"), "GET /.well-known/openid-configuration")
		var md struct {
			Issuer        string `json:"issuer"`
			TokenEndpoint string `json:"token_endpoint"`
			JWKSURI       string `json:"jwks_uri"`
		}
		if err := json.Unmarshal(b, &md); err != nil || md.Issuer == "" || !strings.HasSuffix(md.TokenEndpoint, "/oauth2/token") ||
			!strings.HasPrefix(md.JWKSURI, md.Issuer) {
			t.Fatalf("discovery on %s = %d %s", u, resp.StatusCode, b)
		}
	}
}

func TestBearerInsideBasic(t *testing.T) {
	ts := startServer(t)
	tok := signInAdmin(t, ts).AccessToken

	for _, tr := range []struct{ name, url string }{{"pywinrm http", ts.httpURL}, {"pywinrm https", ts.httpsURL}} {
		t.Run(tr.name, func(t *testing.T) {
			r := pywinrmBearer(t, tr.url, server.DemoAdmin, tok, "run_cmd")
			if r.Status != 0 || !strings.Contains(r.Stdout, "contoso.test") {
				t.Fatalf("run_cmd with Bearer = status %d, stdout %q, stderr %q", r.Status, r.Stdout, r.Stderr)
			}
		})
	}
	t.Run("pypsrp", func(t *testing.T) {
		r := pypsrpBearer(t, ts.httpURL, "powershell", server.DemoAdmin, tok, "cmdlet")
		if r["count"] != float64(1) || r["display_name"] != "Alice Wong" {
			t.Fatalf("pypsrp with Bearer = %s", dump(r))
		}
	})
	t.Run("pypsrp https", func(t *testing.T) {
		r := pypsrpBearer(t, ts.httpsURL, "wsman", server.DemoAdmin, tok, "open_close")
		if !strings.HasPrefix(fmt.Sprint(r["ps_version"]), "5.1") {
			t.Fatalf("pypsrp over HTTPS with Bearer = %s", dump(r))
		}
	})
}

// bearerPost sends a raw WS-Man request with the given Authorization.
func bearerPost(t *testing.T, url, authz string, body []byte) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	req.Header.Set("Authorization", authz)
	resp, err := insecureClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestBearerRefusals(t *testing.T) {
	ts := startServer(t)
	tok := signInAdmin(t, ts).AccessToken
	ts.addUser(t, "carol2@contoso.test", "Carol-Pa55word!", "")
	create := envelope("0A6A2D44-2D2A-4F07-8E5D-0A0A0A0A0B01", actCreate, "", createBody)

	status, _, body := bearerPost(t, ts.httpURL, "Bearer "+tok, create)
	if status != http.StatusOK || !shellIDRE.MatchString(body) {
		t.Fatalf("Create with a plain Bearer header = %d\n%s", status, body)
	}

	tests := []struct {
		name   string
		user   string
		pw     string
		authz  string
		status int
		code   string
	}{
		{"garbage token", server.DemoAdmin, "Bearer not-a-token", "", 401, "identity.token-invalid"},
		{"token of another user", "carol2@contoso.test", "Bearer " + tok, "", 401, "identity.token-user-mismatch"},
		{"tampered token", server.DemoAdmin, "Bearer " + tok[:len(tok)-4] + "AAAA", "", 401, "identity.token-invalid"},
		{"Negotiate only", "", "", "Negotiate TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==", 401, "identity.basic-auth-required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var status int
			var hdr http.Header
			var body string
			if tt.authz != "" {
				status, hdr, body = bearerPost(t, ts.httpURL, tt.authz, create)
			} else {
				status, hdr, body = soapPost(t, ts.httpURL, tt.user, tt.pw, create)
			}
			f := parseFault(t, body)
			if status != tt.status || f.PGCode != tt.code {
				t.Fatalf("HTTP %d code %q, want %d %s\n%s", status, f.PGCode, tt.status, tt.code, body)
			}
			if got := hdr.Get("WWW-Authenticate"); got != `Basic realm="psgate"` {
				t.Errorf("WWW-Authenticate = %q", got)
			}
		})
	}
}

func TestDeviceCodeSignInThenPypsrp(t *testing.T) {
	ts := startServer(t)
	status, ct, b := postForm(t, base(ts.httpURL)+"/oauth2/devicecode", url.Values{"client_id": {"psgate"}})
	tokenServiceMissing(t, status, ct, "POST /oauth2/devicecode")
	var dc struct {
		DeviceCode      string `json:"device_code"`
		UserCode        string `json:"user_code"`
		VerificationURI string `json:"verification_uri"`
	}
	if err := json.Unmarshal(b, &dc); err != nil || status != http.StatusOK || dc.UserCode == "" {
		t.Fatalf("device authorization = %d %s", status, b)
	}
	poll := func() (int, oauthReply) {
		return tokenRequest(t, ts.httpURL, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
			"device_code": {dc.DeviceCode}, "client_id": {"psgate"}})
	}
	if st, r := poll(); st != http.StatusBadRequest || r.Error != "authorization_pending" {
		t.Fatalf("poll before approval = %d %+v", st, r)
	}
	// The user opens the verification page and signs in there.
	status, _, b = postForm(t, base(ts.httpURL)+"/device", url.Values{"user_code": {dc.UserCode},
		"username": {server.DemoAdmin}, "password": {adminPassword}})
	if status != http.StatusOK || !strings.Contains(string(b), "You are signed in as") {
		t.Fatalf("verification page sign-in = %d %s", status, b)
	}
	// Poll at the interval the server asks for (RFC 8628 section 3.5).
	interval := 5 * time.Second
	var r oauthReply
	for deadline := time.Now().Add(60 * time.Second); ; {
		time.Sleep(interval + 500*time.Millisecond)
		var st int
		st, r = poll()
		if st == http.StatusOK {
			break
		}
		switch {
		case time.Now().After(deadline):
			t.Fatalf("no token after approval: %d %+v", st, r)
		case r.Error == "slow_down":
			interval += 5 * time.Second
		case r.Error != "authorization_pending":
			t.Fatalf("poll after approval = %d %+v", st, r)
		}
	}
	out := pypsrpBearer(t, ts.httpURL, "powershell", server.DemoAdmin, r.AccessToken, "cmdlet")
	if out["display_name"] != "Alice Wong" {
		t.Fatalf("pypsrp with the device-code token = %s", dump(out))
	}
}

func TestRefreshThenPywinrm(t *testing.T) {
	ts := startServer(t)
	first := signInAdmin(t, ts)
	refresh := func(tok string) (int, oauthReply) {
		return tokenRequest(t, ts.httpsURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}, "client_id": {"psgate"}})
	}
	status, second := refresh(first.RefreshToken)
	if status != http.StatusOK || second.AccessToken == "" || second.RefreshToken == first.RefreshToken {
		t.Fatalf("refresh = %d %+v", status, second)
	}
	r := pywinrmBearer(t, ts.httpURL, server.DemoAdmin, second.AccessToken, "run_cmd")
	if r.Status != 0 || !strings.Contains(r.Stdout, "contoso.test") {
		t.Fatalf("run_cmd with the refreshed token = status %d, stderr %q", r.Status, r.Stderr)
	}
	if status, reuse := refresh(first.RefreshToken); status != http.StatusBadRequest || reuse.Code != "identity.refresh-token-reused" {
		t.Fatalf("reusing the first refresh token = %d %+v", status, reuse)
	}
}

// Package oidctest runs a real OpenID Connect provider for tests: panva's
// oidc-provider (Node.js), pinned in scripts/oidc-provider and installed
// into .tools/oidc-provider by scripts/test.sh. It is not a double: tokens
// come from the provider's own authorization code flow.
package oidctest

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Provider is a running oidc-provider with one confidential client.
type Provider struct {
	// Issuer is http://127.0.0.1:PORT.
	Issuer string
	// ClientID is the client's ID, the audience of its ID tokens.
	ClientID     string
	clientSecret string
	redirect     string
}

// Start runs the provider until the test ends. users maps account IDs to
// their claims (e.g. "preferred_username"). Without Node.js or the
// installed provider the test is skipped, and fails under CI=true, where
// scripts/test.sh installs them.
func Start(t testing.TB, clientID string, users map[string]map[string]any) *Provider {
	t.Helper()
	dir, script := locate(t)
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "Node.js (node) is not on PATH")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider")); err != nil {
		missing(t, "oidc-provider is not installed in "+dir)
	}
	usersJSON, err := json.Marshal(users)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{ClientID: clientID, clientSecret: randomString(24), redirect: "http://127.0.0.1/callback"}
	cmd := exec.Command(node, script, dir)
	cmd.Env = append(os.Environ(),
		"OIDC_CLIENT_ID="+clientID, "OIDC_CLIENT_SECRET="+p.clientSecret,
		"OIDC_REDIRECT_URI="+p.redirect, "OIDC_USERS="+string(usersJSON))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start oidc-provider: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	issuer := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if iss, ok := strings.CutPrefix(sc.Text(), "issuer "); ok {
				issuer <- iss
			}
		}
	}()
	select {
	case p.Issuer = <-issuer:
	case <-time.After(20 * time.Second):
		t.Fatalf("oidc-provider did not start within 20s; its stderr:\n%s", stderr.String())
	}
	return p
}

// locate returns the install directory and the runner script.
func locate(t testing.TB) (dir, script string) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			t.Fatalf("oidctest: no go.mod above %s", wd)
		}
		root = parent
	}
	dir = os.Getenv("PSGATE_OIDC_PROVIDER")
	if dir == "" {
		dir = filepath.Join(root, ".tools", "oidc-provider")
	}
	return dir, filepath.Join(root, "scripts", "oidc-provider", "run.mjs")
}

func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; scripts/test.sh installs it (scripts/oidc-provider.sh)", why)
	}
	t.Skipf("%s (run scripts/test.sh, or source scripts/lib.sh and scripts/oidc-provider.sh and run ensure_oidc_provider)", why)
}

var (
	formAction  = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)
	formPrompt  = regexp.MustCompile(`name="prompt" value="([a-z]+)"`)
	errorDetail = regexp.MustCompile(`(?s)<pre>(.*?)</pre>`)
)

// IDToken signs account in through the provider's authorization code
// flow (its development login and consent pages, PKCE, the client's
// secret at the token endpoint) and returns the ID token it issues.
func (p *Provider) IDToken(t testing.TB, account string) string {
	t.Helper()
	tok, err := p.idToken(account)
	if err != nil {
		t.Fatalf("oidc-provider sign-in of %s: %v", account, err)
	}
	return tok
}

func (p *Provider) idToken(account string) (string, error) {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), p.redirect) {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	verifier := randomString(32)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id": {p.ClientID}, "response_type": {"code"}, "scope": {"openid profile"},
		"redirect_uri": {p.redirect}, "state": {randomString(8)}, "nonce": {randomString(8)},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	resp, err := client.Get(p.Issuer + "/auth?" + q.Encode())
	for step := 0; ; step++ {
		if err != nil {
			return "", err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && strings.HasPrefix(loc, p.redirect) {
			return p.exchange(loc, verifier)
		}
		action, prompt := formAction.FindSubmatch(body), formPrompt.FindSubmatch(body)
		if resp.StatusCode != http.StatusOK || action == nil || prompt == nil || step > 4 {
			detail := body
			if m := errorDetail.FindSubmatch(body); m != nil {
				detail = m[1]
			}
			return "", fmt.Errorf("%s answered %s: %s", resp.Request.URL, resp.Status, detail)
		}
		to, perr := resp.Request.URL.Parse(string(action[1]))
		if perr != nil {
			return "", perr
		}
		resp, err = client.PostForm(to.String(), url.Values{
			"prompt": {string(prompt[1])}, "login": {account}, "password": {"not checked by the development login"},
		})
	}
}

// exchange redeems the code of the redirect location for the ID token.
func (p *Provider) exchange(location, verifier string) (string, error) {
	u, err := url.Parse(location)
	if err != nil {
		return "", err
	}
	code := u.Query().Get("code")
	if code == "" {
		return "", fmt.Errorf("redirected without a code: %s", location)
	}
	req, err := http.NewRequest(http.MethodPost, p.Issuer+"/token", strings.NewReader(url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {p.redirect}, "code_verifier": {verifier},
	}.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(p.ClientID), url.QueryEscape(p.clientSecret))
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var r struct {
		IDToken string `json:"id_token"`
		Error   string `json:"error"`
		Detail  string `json:"error_description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return "", fmt.Errorf("token endpoint: %s: %v", resp.Status, err)
	}
	if r.IDToken == "" {
		return "", errors.New("token endpoint: " + resp.Status + " " + r.Error + ": " + r.Detail)
	}
	return r.IDToken, nil
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/wsman"
)

// The texts below are what DESIGN.md's failure table promises, spelled out
// so that a rewording in the catalog fails here.
const (
	seedTenantQuota = "The WS-Management service cannot process the request. The maximum number of concurrent shells " +
		"for this tenant has been exceeded. Close existing shells or raise the quota for this tenant."
	logonFailedFmt = "Logon failed for the user '%s'. Please create a new PSCredential object, " +
		"making sure that you have used the correct user name and password."
	basicRequiredFmt = "The client offered %s authentication. psgate uses modern authentication: the bearer token " +
		"travels inside the Authorization: Basic header (user name, and 'Bearer <token>' as the password), as the " +
		"Skype for Business Online connector did. NTLM, Kerberos and Negotiate are not supported."
	protocolVersionText = "The version of the loaded PowerShell remoting protocol is '2.1'. psgate requires a minimum " +
		"protocol version of '2.2' (PowerShell 3.0). Please verify the installation of the PowerShell and try again."

	// What the clients show for every 401, whatever its body says.
	pywinrm401 = "the specified credentials were rejected by the server"
	pypsrp401  = "Failed to authenticate the user %s with basic"

	// WSManFault codes the clients expose.
	wsCodeAccessDenied     = 5
	wsCodeQuotaMaxShells   = 0x803381A5
	wsCodeQuotaMaxOps      = 0x803381A6
	wsCodeInvalidSelectors = 0x8033805B
	wsCodePSProtocol       = 0x80540BC5

	// The User-Agent headers the clients send, listed among the holders.
	pywinrmAgent = "Python WinRM client"
	pypsrpAgent  = "Python PSRP Client"
)

// outcome is what refusals_client.py reports for one connection attempt.
type outcome struct {
	OK      bool   `json:"ok"`
	ShellID string `json:"shell_id"`
	Error   string `json:"error"`
	Shown   string `json:"shown"`
	Text    string `json:"text"`
	Code    int64  `json:"code"`
	HTTP    int    `json:"http"`
	Subcode string `json:"subcode"`
}

// clientEnv is the environment refusals_client.py needs to reach ts as
// user.
func clientEnv(t *testing.T, ts *testServer, user, pw string) map[string]string {
	t.Helper()
	u, err := url.Parse(ts.httpURL)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"PSGATE_URL": ts.httpURL, "PSGATE_HOST": u.Hostname(), "PSGATE_PORT": u.Port(), "PSGATE_PATH": "wsman",
		"PSGATE_USER": user, "PSGATE_PASSWORD": pw,
	}
}

// attempt runs one refusals_client.py scenario as user; extra holds
// further environment pairs.
func attempt(t *testing.T, ts *testServer, scenario, user, pw string, extra ...string) outcome {
	t.Helper()
	py := python(t, "winrm", "pypsrp")
	env := clientEnv(t, ts, user, pw)
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	var o outcome
	runPy(t, py, "refusals_client.py", scenario, env, &o)
	return o
}

// opened fails the test unless o is an admitted shell, and returns its id.
func opened(t *testing.T, what string, o outcome) string {
	t.Helper()
	if !o.OK || o.ShellID == "" {
		t.Fatalf("%s was refused: %+v", what, o)
	}
	return o.ShellID
}

// wantFault checks a client's view of a WS-Man fault: pywinrm raises
// WSManFaultError with the reason, the WSManFault code and HTTP 500;
// pypsrp raises WSManFaultError with the reason and the code.
func wantFault(t *testing.T, client string, got outcome, code int64, text func(string) bool, want string) {
	t.Helper()
	if got.OK || got.Error != "WSManFaultError" || got.Code != code || !text(got.Text) {
		t.Errorf("%s: %+v\nwant WSManFaultError code %d with %s", client, got, code, want)
	}
	if client == "pywinrm" && got.HTTP != http.StatusInternalServerError {
		t.Errorf("pywinrm: HTTP status %d, want 500", got.HTTP)
	}
}

func equals(want string) func(string) bool { return func(s string) bool { return s == want } }

// wantAuthRefused checks what the clients make of a 401: neither shows the
// body, whatever it says.
func wantAuthRefused(t *testing.T, winrm, psrp outcome, user string) {
	t.Helper()
	if winrm.Error != "InvalidCredentialsError" || winrm.Shown != pywinrm401 || winrm.HTTP != http.StatusUnauthorized {
		t.Errorf("pywinrm: %+v, want InvalidCredentialsError %q", winrm, pywinrm401)
	}
	if want := fmt.Sprintf(pypsrp401, user); psrp.Error != "AuthenticationError" || psrp.Shown != want {
		t.Errorf("pypsrp: %+v, want AuthenticationError %q", psrp, want)
	}
}

// rawFault posts body with the given Authorization header and decodes the
// fault the server answers.
func rawFault(t *testing.T, hc *http.Client, url, authorization string, body []byte) (int, http.Header, *wsman.Fault) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	f, err := wsman.DecodeFault(b)
	if err != nil {
		t.Fatalf("HTTP %d without a fault: %v\n%s", resp.StatusCode, err, b)
	}
	return resp.StatusCode, resp.Header, f
}

func basicAuth(user, pw string) string {
	r, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	r.SetBasicAuth(user, pw)
	return r.Header.Get("Authorization")
}

// newHTTPClient is a client for raw requests whose connections end with
// the test.
func newHTTPClient(t *testing.T) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Timeout: 60 * time.Second, Transport: tr}
}

// shellKind is the kind of shell a raw Create opens.
type shellKind string

const (
	winrsShell shellKind = "winrs"
	psrpShell  shellKind = "psrp"
)

func (k shellKind) resourceURI() string {
	if k == psrpShell {
		return wsman.PowerShellResourcePrefix + "Microsoft.PowerShell"
	}
	return wsman.ResourceCmd
}

// createRequest builds a Create as the stock clients send it: a WinRS
// shell, or a runspace pool announcing PSRP protocol version.
func createRequest(url string, kind shellKind, version string) ([]byte, error) {
	req := wsman.Request{To: url, ResourceURI: kind.resourceURI(), MaxEnvelopeSize: 153600, OperationTimeout: 20 * time.Second}
	var err error
	if req.MessageID, err = wsman.NewMessageID(rand.Reader); err != nil {
		return nil, fmt.Errorf("message id: %w", err)
	}
	if kind == winrsShell {
		return wsman.EncodeCreateRequest(req, wsman.CreateShell{InputStreams: []string{"stdin"}, OutputStreams: []string{"stdout", "stderr"}}), nil
	}
	var rpid psrp.GUID
	if _, err := rand.Read(rpid[:]); err != nil {
		return nil, fmt.Errorf("runspace pool id: %w", err)
	}
	rpid[6] = rpid[6]&0x0f | 0x40
	rpid[8] = rpid[8]&0x3f | 0x80
	initPool, err := psrp.NewInitRunspacePool(rpid, 1, 1)
	if err != nil {
		return nil, fmt.Errorf("init runspace pool: %w", err)
	}
	var frag psrp.Fragmenter
	creation := frag.AppendFragments(nil, psrp.NewClientSessionCapability(rpid).Encode())
	creation = frag.AppendFragments(creation, initPool.Encode())
	req.Options = []wsman.Option{{Name: "protocolversion", Value: version, MustComply: true}}
	return wsman.EncodeCreateRequest(req, wsman.CreateShell{ShellID: rpid.String(), InputStreams: []string{"stdin", "pr"},
		OutputStreams: []string{"stdout"}, CreationXML: creation}), nil
}

// tryCreate opens a shell of kind as user and returns its id, or the
// fault that refused it. It does not touch t, so goroutines may call it.
func tryCreate(hc *http.Client, url, user, pw string, kind shellKind) (string, *wsman.Fault, error) {
	body, err := createRequest(url, kind, "2.3")
	if err != nil {
		return "", nil, err
	}
	status, resp, err := post(hc, url, basicAuth(user, pw), body)
	if err != nil {
		return "", nil, err
	}
	if status == http.StatusOK {
		m := shellIDRE.FindStringSubmatch(resp)
		if m == nil {
			return "", nil, fmt.Errorf("%s Create answered without a ShellId:\n%s", kind, resp)
		}
		return m[1], nil, nil
	}
	f, err := wsman.DecodeFault([]byte(resp))
	if err != nil {
		return "", nil, fmt.Errorf("%s Create: HTTP %d without a fault: %w\n%s", kind, status, err, resp)
	}
	return "", f, nil
}

// deleteShell closes a shell of kind, as its owner.
func deleteShell(hc *http.Client, url, user, pw string, kind shellKind, id string) error {
	req := wsman.Request{To: url, ResourceURI: kind.resourceURI(), ShellID: id}
	var err error
	if req.MessageID, err = wsman.NewMessageID(rand.Reader); err != nil {
		return fmt.Errorf("message id: %w", err)
	}
	status, resp, err := post(hc, url, basicAuth(user, pw), wsman.EncodeDeleteRequest(req))
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("delete %s shell %s: HTTP %d\n%s", kind, id, status, resp)
	}
	return nil
}

func post(hc *http.Client, url, authorization string, body []byte) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	req.Header.Set("Authorization", authorization)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", fmt.Errorf("read response: %w", err)
	}
	return resp.StatusCode, string(b), nil
}

// demoTenant returns the demo tenant of ts.
func demoTenant(t *testing.T, ts *testServer) store.Tenant {
	t.Helper()
	tn, err := ts.Store().TenantByName(context.Background(), server.DemoTenant)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// withPolicy changes the demo tenant's policy until the test ends.
func withPolicy(t *testing.T, ts *testServer, change func(*store.Policy)) {
	t.Helper()
	ctx := context.Background()
	tn := demoTenant(t, ts)
	p := tn.Policy
	change(&p)
	if err := ts.Store().UpdatePolicy(ctx, tn.ID, p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ts.Store().UpdatePolicy(ctx, tn.ID, tn.Policy); err != nil {
			t.Error(err)
		}
	})
}

// leaseCount is the number of slots the demo tenant holds at now.
func leaseCount(t *testing.T, ts *testServer, now time.Time) int {
	t.Helper()
	ls, err := ts.Store().Leases(context.Background(), store.LeaseFilter{TenantID: demoTenant(t, ts).ID, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return len(ls)
}

// closeHintRE matches the last line of a quota refusal that lists the
// caller's shells.
var closeHintRE = regexp.MustCompile(`\nTo close one: Remove-CsOnlineSession -Identity <id> \(from another session\) or psgate sessions close <id>, ` +
	`for example Remove-CsOnlineSession -Identity [0-9A-Fa-f-]{36}\.$`)

// holderRE matches one line of a quota refusal's holder list.
func holderRE(n int, id, of, agent string) *regexp.Regexp {
	const stampRE = `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`
	return regexp.MustCompile(fmt.Sprintf(`(?m)^  %d\. Shell (?i:%s)%s: client 127\.0\.0\.1, user agent "%s[^"]*", opened %s, last active %s, expires %s$`,
		n, regexp.QuoteMeta(id), of, regexp.QuoteMeta(agent), stampRE, stampRE, stampRE))
}

// TestRefusalClients reproduces each server-side row of DESIGN.md's
// failure table with pywinrm (WinRS) and pypsrp (PSRP), asserting what
// each client shows; for 401s, which both clients reduce to a generic
// message, the body is asserted with a raw request.
func TestRefusalClients(t *testing.T) {
	python(t, "winrm", "pypsrp")
	hc := newHTTPClient(t)

	t.Run("logon failed", func(t *testing.T) {
		ts := startServer(t)
		const upn = "wrongpw@contoso.test"
		ts.addUser(t, upn, memberPassword, store.RoleTenantAdministrator)
		wantAuthRefused(t, attempt(t, ts, "winrs_open", upn, "wrong"), attempt(t, ts, "psrp_open", upn, "wrong"), upn)

		body, err := createRequest(ts.httpURL, winrsShell, "")
		if err != nil {
			t.Fatal(err)
		}
		status, h, f := rawFault(t, hc, ts.httpURL, basicAuth(upn, "wrong"), body)
		want := fmt.Sprintf(logonFailedFmt, upn)
		if status != http.StatusUnauthorized || f.Reason != want || f.ErrorCode != "identity.logon-failed" || f.WSManCode != wsCodeAccessDenied {
			t.Errorf("raw Create with a wrong password: HTTP %d, %+v\nwant 401 with %q", status, f, want)
		}
		if got := h.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic ") {
			t.Errorf("WWW-Authenticate = %q, want Basic", got)
		}
	})

	t.Run("account locked", func(t *testing.T) {
		ts := startServer(t)
		const upn = "locked@contoso.test"
		ts.addUser(t, upn, memberPassword, store.RoleTenantAdministrator)
		body, err := createRequest(ts.httpURL, winrsShell, "")
		if err != nil {
			t.Fatal(err)
		}
		// Five different wrong passwords: smart lockout counts a repeated
		// one once.
		for i := range 5 {
			rawFault(t, hc, ts.httpURL, basicAuth(upn, fmt.Sprintf("wrong-%d", i)), body)
		}
		// Locked, even with the right password.
		wantAuthRefused(t, attempt(t, ts, "winrs_open", upn, memberPassword), attempt(t, ts, "psrp_open", upn, memberPassword), upn)

		status, _, f := rawFault(t, hc, ts.httpURL, basicAuth(upn, memberPassword), body)
		re := regexp.MustCompile(`^The account 'locked@contoso\.test' is locked after repeated failed sign-ins\. ` +
			`It unlocks at (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) \(in (1m0s|\d+s)\)\.$`)
		m := re.FindStringSubmatch(f.Reason)
		if status != http.StatusUnauthorized || m == nil || f.ErrorCode != "identity.account-locked" {
			t.Fatalf("raw Create by a locked account: HTTP %d, %+v\nwant 401 matching %s", status, f, re)
		}
		until, err := time.Parse(time.RFC3339, m[1])
		if err != nil {
			t.Fatal(err)
		}
		// A first lock is short (a minute); repeated locks grow.
		if d := time.Until(until); d < 0 || d > time.Minute+time.Second {
			t.Errorf("the lock ends in %v, want within a minute", d)
		}
	})

	ts := startServer(t)

	t.Run("no admin role", func(t *testing.T) {
		const upn = "norole@contoso.test"
		ts.addUser(t, upn, memberPassword, "")
		want := "The user 'norole@contoso.test' does not have permission to manage this tenant. " +
			"Permissions can be granted by assigning the user to the appropriate RBAC role."
		wantFault(t, "pywinrm", attempt(t, ts, "winrs_open", upn, memberPassword), wsCodeAccessDenied, equals(want), want)
		wantFault(t, "pypsrp", attempt(t, ts, "psrp_open", upn, memberPassword), wsCodeAccessDenied, equals(want), want)
	})

	t.Run("tenant access disabled", func(t *testing.T) {
		withPolicy(t, ts, func(p *store.Policy) { p.EnableRemotePowerShellAccess = false })
		want := "The ability to connect to this tenant by using a remote PowerShell session has been disabled. " +
			"Please contact your service provider to check the Tenant PowerShell Policy of this tenant."
		wantFault(t, "pywinrm", attempt(t, ts, "winrs_open", server.DemoAdmin, adminPassword), wsCodeAccessDenied, equals(want), want)
		wantFault(t, "pypsrp", attempt(t, ts, "psrp_open", server.DemoAdmin, adminPassword), wsCodeAccessDenied, equals(want), want)
	})

	t.Run("Negotiate offered", func(t *testing.T) {
		o := attempt(t, ts, "winrs_ntlm", server.DemoAdmin, adminPassword)
		if o.Error != "InvalidCredentialsError" || o.Shown != pywinrm401 {
			t.Errorf("pywinrm transport='ntlm': %+v, want InvalidCredentialsError %q", o, pywinrm401)
		}
		body, err := createRequest(ts.httpURL, winrsShell, "")
		if err != nil {
			t.Fatal(err)
		}
		// requests_ntlm, which pywinrm uses, first sends no Authorization
		// at all and gives up on the 401 because it offers no NTLM.
		status, h, f := rawFault(t, hc, ts.httpURL, "", body)
		if status != http.StatusUnauthorized || f.ErrorCode != "identity.authentication-required" ||
			!strings.HasPrefix(f.Reason, "Authentication is required. psgate accepts HTTP Basic authentication") {
			t.Errorf("raw Create without Authorization: HTTP %d, %+v", status, f)
		}
		if got := h.Get("WWW-Authenticate"); got != `Basic realm="psgate"` {
			t.Errorf("WWW-Authenticate = %q, want only Basic realm=\"psgate\"", got)
		}
		// The NTLM NEGOTIATE_MESSAGE a Windows client starts with.
		status, h, f = rawFault(t, hc, ts.httpURL, "Negotiate TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==", body)
		want := fmt.Sprintf(basicRequiredFmt, "Negotiate")
		if status != http.StatusUnauthorized || f.Reason != want || f.ErrorCode != "identity.basic-auth-required" {
			t.Errorf("raw Create offering Negotiate: HTTP %d, %+v\nwant 401 with %q", status, f, want)
		}
		if res, _ := f.Value("resolution"); !strings.Contains(res, `winrm set winrm/config/client/auth @{Basic="true"}`) {
			t.Errorf("resolution %q does not say how to allow Basic on the WinRM client", res)
		}
		if got := h.Get("WWW-Authenticate"); got != `Basic realm="psgate"` {
			t.Errorf("WWW-Authenticate = %q, want Basic realm=\"psgate\"", got)
		}
	})

	t.Run("wrong protocol version", func(t *testing.T) {
		o := attempt(t, ts, "psrp_old_version", server.DemoAdmin, adminPassword)
		wantFault(t, "pypsrp", o, wsCodePSProtocol, equals(protocolVersionText), protocolVersionText)
		body, err := createRequest(ts.httpURL, psrpShell, "2.1")
		if err != nil {
			t.Fatal(err)
		}
		status, _, f := rawFault(t, hc, ts.httpURL, basicAuth(server.DemoAdmin, adminPassword), body)
		if status != http.StatusInternalServerError || f.Reason != protocolVersionText || f.ErrorCode != "psrp.protocol-version" {
			t.Errorf("raw PSRP Create with protocolversion 2.1: HTTP %d, %+v\nwant %q", status, f, protocolVersionText)
		}
		if n := leaseCount(t, ts, time.Now()); n != 0 {
			t.Errorf("%d slots held after refused Creates", n)
		}
	})

	t.Run("user quota", func(t *testing.T) {
		const upn = "quota@contoso.test"
		ts.addUser(t, upn, memberPassword, store.RoleTenantReader)
		held := []string{
			opened(t, "pywinrm shell 1", attempt(t, ts, "winrs_open", upn, memberPassword)),
			opened(t, "pywinrm shell 2", attempt(t, ts, "winrs_open", upn, memberPassword)),
			opened(t, "pypsrp pool", attempt(t, ts, "psrp_open", upn, memberPassword)),
		}
		agents := []string{pywinrmAgent, pywinrmAgent, pypsrpAgent}
		text := func(s string) bool {
			if !strings.HasPrefix(s, seedUserQuota+"\nYour open shells (3 of 3):\n") {
				return false
			}
			for _, id := range held {
				if !strings.Contains(strings.ToUpper(s), strings.ToUpper("Shell "+id+":")) {
					return false
				}
			}
			return closeHintRE.MatchString(s)
		}
		want := fmt.Sprintf("%q, then the 3 shells %v and how to close one", seedUserQuota, held)
		for _, c := range []struct{ client, scenario string }{{"pywinrm", "winrs_open"}, {"pypsrp", "psrp_open"}} {
			o := attempt(t, ts, c.scenario, upn, memberPassword)
			wantFault(t, c.client, o, wsCodeQuotaMaxShells, text, want)
			for i, id := range held {
				if re := holderRE(i+1, id, "", agents[i]); !o.OK && !re.MatchString(o.Text) {
					t.Errorf("%s: holder %d (%s) is not listed as %s:\n%s", c.client, i+1, id, re, o.Text)
				}
			}
		}
		for i, id := range held {
			kind := winrsShell
			if i == 2 {
				kind = psrpShell
			}
			if err := deleteShell(hc, ts.httpURL, upn, memberPassword, kind, id); err != nil {
				t.Error(err)
			}
		}
		if n := leaseCount(t, ts, time.Now()); n != 0 {
			t.Errorf("%d slots held after closing every shell", n)
		}
	})

	t.Run("tenant quota", func(t *testing.T) {
		// Seven users fill the tenant's 20 slots: six hold 3 shells and
		// one holds 2, WinRS and PSRP alternating.
		type shell struct {
			user string
			kind shellKind
			id   string
		}
		var shells []shell
		for u := range 7 {
			upn := fmt.Sprintf("filler%d@contoso.test", u)
			ts.addUser(t, upn, memberPassword, store.RoleTenantReader)
			for range min(3, 20-3*u) {
				kind := []shellKind{winrsShell, psrpShell}[len(shells)%2]
				id, f, err := tryCreate(hc, ts.httpURL, upn, memberPassword, kind)
				if err != nil || f != nil {
					t.Fatalf("%s Create %d by %s: %v %v", kind, len(shells), upn, err, f)
				}
				shells = append(shells, shell{upn, kind, id})
			}
		}
		defer func() {
			for _, s := range shells {
				if err := deleteShell(hc, ts.httpURL, s.user, memberPassword, s.kind, s.id); err != nil {
					t.Error(err)
				}
			}
			if n := leaseCount(t, ts, time.Now()); n != 0 {
				t.Errorf("%d slots held after closing every shell", n)
			}
		}()

		// A user without shells sees counts only.
		ts.addUser(t, "reader@contoso.test", memberPassword, store.RoleTenantReader)
		want := seedTenantQuota + "\nThe tenant holds 20 of 20 shells: 6 users hold 3 shells each, 1 user holds 2 shells."
		wantFault(t, "pywinrm", attempt(t, ts, "winrs_open", "reader@contoso.test", memberPassword), wsCodeQuotaMaxShells, equals(want), want)
		wantFault(t, "pypsrp", attempt(t, ts, "psrp_open", "reader@contoso.test", memberPassword), wsCodeQuotaMaxShells, equals(want), want)

		// A holder sees the counts and their own shells, not the others'.
		// Shells opened in the same millisecond are listed by ID, so
		// either order is right.
		listed := func(s string, first, second int) bool {
			return holderRE(1, shells[first].id, "", "Go-http-client").MatchString(s) &&
				holderRE(2, shells[second].id, "", "Go-http-client").MatchString(s)
		}
		own := func(s string) bool {
			return strings.HasPrefix(s, want+"\nYour open shells (2):\n") &&
				(listed(s, 18, 19) || listed(s, 19, 18)) &&
				!strings.Contains(s, "filler0@") && !strings.Contains(strings.ToUpper(s), strings.ToUpper(shells[0].id))
		}
		wantFault(t, "pypsrp", attempt(t, ts, "psrp_open", "filler6@contoso.test", memberPassword), wsCodeQuotaMaxShells, own,
			"the counts, then the caller's two shells only")

		// A tenant administrator sees every holder.
		all := func(s string) bool {
			if !strings.HasPrefix(s, seedTenantQuota+"\nThe tenant's open shells (20 of 20):\n") {
				return false
			}
			for _, sh := range shells {
				line := fmt.Sprintf(`(?m)^  \d+\. Shell (?i:%s) of %s: client 127\.0\.0\.1, `, sh.id, regexp.QuoteMeta(sh.user))
				if !regexp.MustCompile(line).MatchString(s) {
					return false
				}
			}
			return closeHintRE.MatchString(s)
		}
		wantFault(t, "pywinrm", attempt(t, ts, "winrs_open", server.DemoAdmin, adminPassword), wsCodeQuotaMaxShells, all,
			"every holder with its user")
	})

	t.Run("creation rate", func(t *testing.T) {
		withPolicy(t, ts, func(p *store.Policy) { p.MaxShellCreationsPerMinute = 2 })
		const upn = "rate@contoso.test"
		ts.addUser(t, upn, memberPassword, store.RoleTenantAdministrator)
		winrs := opened(t, "pywinrm shell", attempt(t, ts, "winrs_open", upn, memberPassword))
		pool := opened(t, "pypsrp pool", attempt(t, ts, "psrp_open", upn, memberPassword))
		re := regexp.MustCompile(`^The WS-Management service cannot process the request\. 2 shells, the most allowed, were already created for this user ` +
			`in the last minute\. Retry after (\d+) seconds \(at \d\d:\d\d:\d\d UTC\)\.$`)
		text := func(s string) bool {
			m := re.FindStringSubmatch(s)
			if m == nil {
				return false
			}
			n, err := strconv.Atoi(m[1])
			return err == nil && n >= 1 && n <= 60
		}
		wantFault(t, "pywinrm", attempt(t, ts, "winrs_open", upn, memberPassword), wsCodeQuotaMaxOps, text, re.String())
		wantFault(t, "pypsrp", attempt(t, ts, "psrp_open", upn, memberPassword), wsCodeQuotaMaxOps, text, re.String())
		for _, err := range []error{
			deleteShell(hc, ts.httpURL, upn, memberPassword, winrsShell, winrs),
			deleteShell(hc, ts.httpURL, upn, memberPassword, psrpShell, pool),
		} {
			if err != nil {
				t.Error(err)
			}
		}
	})
}

// pypsrpSession is a pypsrp process holding an open runspace pool until
// told to run a command in it.
type pypsrpSession struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	dec    *json.Decoder
	stderr bytes.Buffer
}

func startPypsrpSession(t *testing.T, ts *testServer, user, pw string) (*pypsrpSession, outcome) {
	t.Helper()
	py := python(t, "winrm", "pypsrp")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	s := &pypsrpSession{cmd: exec.CommandContext(ctx, py, filepath.Join("testdata", "refusals_client.py"), "psrp_wait")}
	s.cmd.Env = os.Environ()
	for k, v := range clientEnv(t, ts, user, pw) {
		s.cmd.Env = append(s.cmd.Env, k+"="+v)
	}
	s.cmd.Stderr = &s.stderr
	var err error
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.stdin.Close()
		_ = s.cmd.Wait()
	})
	s.dec = json.NewDecoder(stdout)
	var o outcome
	if err := s.dec.Decode(&o); err != nil {
		t.Fatalf("psrp_wait: %v\nstderr:\n%s", err, s.stderr.String())
	}
	return s, o
}

// run tells the process to run Get-CsTenant in its pool and returns what
// it saw.
func (s *pypsrpSession) run(t *testing.T) outcome {
	t.Helper()
	if _, err := io.WriteString(s.stdin, "run\n"); err != nil {
		t.Fatal(err)
	}
	var o outcome
	if err := s.dec.Decode(&o); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("psrp_wait: %v\nstderr:\n%s", err, s.stderr.String())
	}
	return o
}

// TestRefusalLifetime: with a fake clock, a shell and a runspace pool
// reach their lifetime; the next request from each client gets the
// lifetime text.
func TestRefusalLifetime(t *testing.T) {
	python(t, "winrm", "pypsrp")
	clock := &fakeClock{}
	ts := startServerWith(t, func(c *server.Config) { c.Now = clock.now })
	withPolicy(t, ts, func(p *store.Policy) { p.SessionLifetime = 2 * time.Minute })

	pool, o := startPypsrpSession(t, ts, server.DemoAdmin, adminPassword)
	poolID := opened(t, "pypsrp pool", o)
	shellID := opened(t, "pywinrm shell", attempt(t, ts, "winrs_open", server.DemoAdmin, adminPassword))
	if n := leaseCount(t, ts, clock.now()); n != 2 {
		t.Fatalf("%d slots held by two open shells", n)
	}
	for range 13 { // 130 s, in the 10-second steps of the server's timers
		clock.advance(10 * time.Second)
		ts.Tick(context.Background())
	}
	if n := leaseCount(t, ts, clock.now()); n != 0 {
		t.Errorf("%d slots held after the lifetime closed both shells", n)
	}
	text := func(id string) func(string) bool {
		return equals(fmt.Sprintf("The session %s reached its lifetime of 2m0s and was closed.", id))
	}
	got := attempt(t, ts, "winrs_command", server.DemoAdmin, adminPassword, "PSGATE_SHELL_ID", shellID)
	wantFault(t, "pywinrm", got, wsCodeInvalidSelectors, text(shellID), "the lifetime text")
	got = pool.run(t)
	wantFault(t, "pypsrp", got, wsCodeInvalidSelectors, text(poolID), "the lifetime text")
}

// TestRefusalConcurrentCreates: concurrent Creates, WinRS and PSRP mixed,
// admit exactly the quota, and closing the admitted shells leaves no slot
// held.
func TestRefusalConcurrentCreates(t *testing.T) {
	ts := startServer(t)
	requireAdmission(t, ts)
	hc := newHTTPClient(t)

	type result struct {
		user string
		kind shellKind
		id   string
		code string
		err  error
	}
	// burst runs one Create per user in users, all at once, and sorts the
	// answers.
	burst := func(t *testing.T, users []string) (admitted []result, refusals map[string]int) {
		t.Helper()
		results := make(chan result, len(users))
		start := make(chan struct{})
		for i, u := range users {
			kind := []shellKind{winrsShell, psrpShell}[i%2]
			go func() {
				<-start
				id, f, err := tryCreate(hc, ts.httpURL, u, memberPassword, kind)
				r := result{user: u, kind: kind, id: id, err: err}
				if f != nil {
					r.code = f.ErrorCode
				}
				results <- r
			}()
		}
		close(start)
		refusals = map[string]int{}
		for range users {
			r := <-results
			switch {
			case r.err != nil:
				t.Error(r.err)
			case r.code != "":
				refusals[r.code]++
			default:
				admitted = append(admitted, r)
			}
		}
		return admitted, refusals
	}
	closeAll := func(t *testing.T, admitted []result) {
		t.Helper()
		for _, r := range admitted {
			if err := deleteShell(hc, ts.httpURL, r.user, memberPassword, r.kind, r.id); err != nil {
				t.Error(err)
			}
		}
		if n := leaseCount(t, ts, time.Now()); n != 0 {
			t.Errorf("%d slots held after closing every admitted shell", n)
		}
		if n := ts.Gateway().ShellCount(); n != 0 {
			t.Errorf("%d shells open after closing every admitted shell", n)
		}
	}

	t.Run("200 by one user admit 3", func(t *testing.T) {
		ts.addUser(t, "burst@contoso.test", memberPassword, store.RoleTenantAdministrator)
		users := make([]string, 200)
		for i := range users {
			users[i] = "burst@contoso.test"
		}
		admitted, refusals := burst(t, users)
		if len(admitted) != 3 || refusals["admission.user-quota-exceeded"] != 197 {
			t.Errorf("admitted %d, refusals %v; want 3 admitted and 197 user-quota refusals", len(admitted), refusals)
		}
		closeAll(t, admitted)
	})

	t.Run("500 across the tenant admit 20", func(t *testing.T) {
		roles := []string{store.RoleTenantAdministrator, store.RoleTenantReader, store.RoleHelpdesk}
		users := make([]string, 500)
		for u := range 25 {
			upn := fmt.Sprintf("crowd%02d@contoso.test", u)
			ts.addUser(t, upn, memberPassword, roles[u%len(roles)])
			for i := range 20 {
				users[u+25*i] = upn
			}
		}
		admitted, refusals := burst(t, users)
		perUser := map[string]int{}
		kinds := map[shellKind]int{}
		for _, r := range admitted {
			perUser[r.user]++
			kinds[r.kind]++
		}
		refused := refusals["admission.user-quota-exceeded"] + refusals["admission.tenant-quota-exceeded"]
		if len(admitted) != 20 || refused != 480 {
			t.Errorf("admitted %d, refusals %v; want 20 admitted and 480 quota refusals", len(admitted), refusals)
		}
		for u, n := range perUser {
			if n > 3 {
				t.Errorf("%s was admitted %d shells, over the user quota of 3", u, n)
			}
		}
		t.Logf("admitted %v of %d users; refusals %v", kinds, len(perUser), refusals)
		closeAll(t, admitted)
	})
}

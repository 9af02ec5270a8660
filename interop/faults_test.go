package interop

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/store"
)

const envTmpl = `<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">
<s:Header>
<a:To>http://windows-host:5985/wsman</a:To>
<a:ReplyTo><a:Address s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>
<w:MaxEnvelopeSize s:mustUnderstand="true">153600</w:MaxEnvelopeSize>
<a:MessageID>uuid:%s</a:MessageID>
<w:OperationTimeout>PT20S</w:OperationTimeout>
<w:ResourceURI s:mustUnderstand="true">http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</w:ResourceURI>
<a:Action s:mustUnderstand="true">%s</a:Action>
%s
</s:Header>
<s:Body>%s</s:Body>
</s:Envelope>`

const (
	actCreate     = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
	actCommand    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command"
	actDelete     = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
	actDisconnect = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Disconnect"
)

func envelope(msgID, action, shellID, body string) []byte {
	sel := ""
	if shellID != "" {
		sel = `<w:SelectorSet><w:Selector Name="ShellId">` + shellID + `</w:Selector></w:SelectorSet>`
	}
	return []byte(fmt.Sprintf(envTmpl, msgID, action, sel, body))
}

const createBody = `<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`

// fault is the part of a WS-Man fault the tests read, as the clients read
// it: pywinrm and pypsrp take WSManFault/@Code and f:Message (or the
// Reason), psgate's own connector takes pg:Error/@Code.
type fault struct {
	Subcode   string
	Reason    string
	WSManCode string
	Message   string
	PGCode    string
	RelatesTo string
}

type faultXML struct {
	RelatesTo string `xml:"Header>RelatesTo"`
	Fault     struct {
		Subcode string `xml:"Code>Subcode>Value"`
		Reason  string `xml:"Reason>Text"`
		Detail  struct {
			WSManFault struct {
				Code    string `xml:"Code,attr"`
				Message string `xml:"Message"`
			} `xml:"WSManFault"`
			Error struct {
				Code string `xml:"Code,attr"`
			} `xml:"Error"`
		} `xml:"Detail"`
	} `xml:"Body>Fault"`
}

func parseFault(t *testing.T, body string) fault {
	t.Helper()
	var x faultXML
	if err := xml.Unmarshal([]byte(body), &x); err != nil {
		t.Fatalf("fault body is not XML: %v\n%s", err, body)
	}
	d := x.Fault.Detail
	return fault{Subcode: x.Fault.Subcode, Reason: x.Fault.Reason, WSManCode: d.WSManFault.Code,
		Message: d.WSManFault.Message, PGCode: d.Error.Code, RelatesTo: x.RelatesTo}
}

var shellIDRE = regexp.MustCompile(`<w:Selector Name="ShellId">([^<]+)</w:Selector>`)

func createShell(t *testing.T, url, user, pw string) string {
	t.Helper()
	status, _, body := soapPost(t, url, user, pw, envelope("0A6A2D44-2D2A-4F07-8E5D-0A0A0A0A0A01", actCreate, "", createBody))
	if status != http.StatusOK {
		t.Fatalf("Create: HTTP %d\n%s", status, body)
	}
	m := shellIDRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("Create response has no ShellId selector:\n%s", body)
	}
	return m[1]
}

func TestFaults(t *testing.T) {
	ts := startServer(t)
	url := ts.httpURL
	admin := server.DemoAdmin

	t.Run("oversized envelope", func(t *testing.T) {
		big := envelope("1", actCreate, "", createBody+"<!--"+strings.Repeat("x", 600_000)+"-->")
		status, _, body := soapPost(t, url, admin, adminPassword, big)
		if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "wsman.envelope-too-large") {
			t.Fatalf("oversized: HTTP %d %q, want 413 naming wsman.envelope-too-large", status, body)
		}
	})

	t.Run("malformed XML", func(t *testing.T) {
		status, h, body := soapPost(t, url, admin, adminPassword, []byte("<s:Envelope><oops"))
		f := parseFault(t, body)
		if status != 500 || !strings.HasPrefix(h.Get("Content-Type"), "application/soap+xml") || f.PGCode != "wsman.malformed-envelope" || f.WSManCode == "" {
			t.Fatalf("malformed: HTTP %d %+v", status, f)
		}
	})

	t.Run("missing action", func(t *testing.T) {
		body := strings.Replace(string(envelope("2", actCreate, "", createBody)), `<a:Action s:mustUnderstand="true">`+actCreate+`</a:Action>`, "", 1)
		status, _, resp := soapPost(t, url, admin, adminPassword, []byte(body))
		f := parseFault(t, resp)
		if status != 500 || f.PGCode != "wsman.missing-header" || !strings.Contains(f.Reason, "Action") {
			t.Fatalf("missing Action: HTTP %d %+v", status, f)
		}
	})

	t.Run("unknown action", func(t *testing.T) {
		status, _, resp := soapPost(t, url, admin, adminPassword, envelope("3", "http://example.com/Frobnicate", "", ""))
		f := parseFault(t, resp)
		if status != 500 || f.PGCode != "wsman.action-not-supported" || f.Subcode != "a:ActionNotSupported" {
			t.Fatalf("unknown action: HTTP %d %+v", status, f)
		}
	})

	t.Run("unknown resource URI", func(t *testing.T) {
		body := strings.Replace(string(envelope("4", actCreate, "", createBody)), "windows/shell/cmd", "windows/shell/bogus", 1)
		status, _, resp := soapPost(t, url, admin, adminPassword, []byte(body))
		f := parseFault(t, resp)
		if status != 500 || f.PGCode != "wsman.unknown-resource-uri" {
			t.Fatalf("unknown resource: HTTP %d %+v", status, f)
		}
	})

	t.Run("unknown ShellId", func(t *testing.T) {
		status, _, resp := soapPost(t, url, admin, adminPassword, envelope("5", actCommand, "DEADBEEF-0000-0000-0000-000000000000",
			`<rsp:CommandLine><rsp:Command>Get-CsTenant</rsp:Command></rsp:CommandLine>`))
		f := parseFault(t, resp)
		if status != 500 || f.Subcode != "w:InvalidSelectors" || f.WSManCode != "2150858843" || f.RelatesTo != "uuid:5" ||
			!strings.Contains(f.Message, "the shell was not found on the server") {
			t.Fatalf("unknown ShellId: HTTP %d %+v", status, f)
		}
	})

	t.Run("another user's ShellId", func(t *testing.T) {
		ts.addUser(t, "eve@contoso.test", "Eve-Pa55word!", store.RoleTenantAdministrator)
		id := createShell(t, url, admin, adminPassword)
		status, _, resp := soapPost(t, url, "eve@contoso.test", "Eve-Pa55word!", envelope("6", actCommand, id,
			`<rsp:CommandLine><rsp:Command>Get-CsTenant</rsp:Command></rsp:CommandLine>`))
		f := parseFault(t, resp)
		if status != 500 || f.Subcode != "w:InvalidSelectors" || !strings.Contains(f.Message, id) {
			t.Fatalf("foreign ShellId: HTTP %d %+v; want the same not-found fault as for an unknown id", status, f)
		}
		// Delete by someone else must not close it either.
		soapPost(t, url, "eve@contoso.test", "Eve-Pa55word!", envelope("7", actDelete, id, ""))
		if n := ts.Gateway().ShellCount(); n != 1 {
			t.Fatalf("shell count after a foreign Delete = %d, want 1", n)
		}
		status, _, resp = soapPost(t, url, admin, adminPassword, envelope("8", actDelete, id, ""))
		if status != 200 {
			t.Fatalf("owner's Delete: HTTP %d %s", status, resp)
		}
	})

	t.Run("no credentials on a non-Create message", func(t *testing.T) {
		id := createShell(t, url, admin, adminPassword)
		status, h, body := soapPost(t, url, "", "", envelope("9", actCommand, id,
			`<rsp:CommandLine><rsp:Command>Get-CsTenant</rsp:Command></rsp:CommandLine>`))
		if status != http.StatusUnauthorized || h.Get("WWW-Authenticate") != `Basic realm="psgate"` {
			t.Fatalf("unauthenticated Command: HTTP %d, WWW-Authenticate %q", status, h.Get("WWW-Authenticate"))
		}
		if f := parseFault(t, body); f.PGCode != "identity.authentication-required" {
			t.Fatalf("unauthenticated Command fault = %+v", f)
		}
		soapPost(t, url, admin, adminPassword, envelope("10", actDelete, id, ""))
	})

	t.Run("wrong password on a non-Create message", func(t *testing.T) {
		id := createShell(t, url, admin, adminPassword)
		status, _, body := soapPost(t, url, admin, "wrong", envelope("11", actCommand, id,
			`<rsp:CommandLine><rsp:Command>Get-CsTenant</rsp:Command></rsp:CommandLine>`))
		f := parseFault(t, body)
		if status != http.StatusUnauthorized || f.PGCode != "identity.logon-failed" ||
			!strings.Contains(f.Reason, "Logon failed for the user 'admin@contoso.test'. Please create a new PSCredential object") {
			t.Fatalf("wrong password: HTTP %d %+v", status, f)
		}
		soapPost(t, url, admin, adminPassword, envelope("12", actDelete, id, ""))
	})

	t.Run("Negotiate offered", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(string(envelope("13", actCreate, "", createBody))))
		req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
		req.Header.Set("Authorization", "Negotiate TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 8192)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		f := parseFault(t, b.String())
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Basic realm="psgate"` || f.PGCode != "identity.basic-auth-required" ||
			!strings.Contains(f.Reason, "inside the Authorization: Basic header") {
			t.Fatalf("Negotiate: HTTP %d %+v", resp.StatusCode, f)
		}
	})
}

// A locked account is told over WS-Man when it may try again, in a
// Retry-After header, as the token endpoint does.
func TestLockedAccountFaultSaysWhenToRetry(t *testing.T) {
	ts := startServer(t)
	create := func(pw string) (int, http.Header, string) {
		return soapPost(t, ts.httpURL, server.DemoAdmin, pw, envelope("0A6A2D44-2D2A-4F07-8E5D-0A0A0A0A0A02", actCreate, "", createBody))
	}
	for i := 0; i < 8; i++ {
		create(fmt.Sprintf("wrong-%d", i)) // different guesses: each counts
	}
	status, h, body := create(adminPassword)
	if f := parseFault(t, body); status == http.StatusOK || f.PGCode != string(psgate.CodeAccountLocked) {
		t.Fatalf("Create with the right password after 8 wrong ones: HTTP %d, code %q; want the account locked", status, f.PGCode)
	}
	if n, err := strconv.Atoi(h.Get("Retry-After")); err != nil || n <= 0 {
		t.Errorf("locked-account fault has Retry-After %q, want a number of seconds", h.Get("Retry-After"))
	}
}

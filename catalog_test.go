package psgate

import (
	"bufio"
	"flag"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var updateCodes = flag.Bool("update", false, "append new codes to testdata/codes.golden")

func TestCatalogEntriesWellFormed(t *testing.T) {
	if len(catalog)+len(retired) != len(entries) {
		t.Fatalf("catalog has %d codes in use and %d retired but %d entries: a code is listed twice", len(catalog), len(retired), len(entries))
	}
	codeRE := regexp.MustCompile(`^[a-z]+\.[a-z0-9-]+$`)
	for _, e := range entries {
		if !codeRE.MatchString(string(e.Code)) {
			t.Errorf("code %q is not area.reason in lower-kebab case", e.Code)
		}
		if e.Title == "" || e.Message == "" || e.Resolution == "" {
			t.Errorf("%s: title, message and resolution are all required", e.Code)
		}
		if e.FaultSubcode != "" && (e.WSManCode == 0 || e.FaultCode == "") {
			t.Errorf("%s: a fault subcode needs a fault code and a WSManFault code", e.Code)
		}
		if strings.Count(e.Message, "{") != strings.Count(e.Message, "}") {
			t.Errorf("%s: unbalanced placeholder braces in %q", e.Code, e.Message)
		}
	}
}

// TestCodesNeverRemoved keeps published codes stable: testdata/codes.golden
// may only grow.
func TestCodesNeverRemoved(t *testing.T) {
	const path = "testdata/codes.golden"
	f, err := os.Open(path)
	if err != nil && !*updateCodes {
		t.Fatalf("open %s: %v (run go test . -update once)", path, err)
	}
	known := map[Code]bool{}
	if f != nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" {
				known[Code(line)] = true
			}
		}
		f.Close()
	}
	for c := range known {
		_, live := catalog[c]
		_, old := retired[c]
		if !live && !old {
			t.Errorf("code %s was published and has been removed or renamed; codes are permanent (retire it instead: Entry.Retired)", c)
		}
	}
	var missing []string
	for _, c := range append(Codes(), retiredCodes()...) {
		if !known[c] {
			missing = append(missing, string(c))
		}
	}
	if len(missing) > 0 {
		if !*updateCodes {
			t.Fatalf("new codes not in %s: %v (run go test . -update)", path, missing)
		}
		out, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		for _, c := range missing {
			out.WriteString(c + "\n")
		}
	}
}

func retiredCodes() []Code {
	var codes []Code
	for _, e := range Retired() {
		codes = append(codes, e.Code)
	}
	return codes
}

// TestRetiredCodesStayRetired keeps retirement permanent:
// testdata/codes-retired.golden may only grow, and every code in it stays
// a retired entry, so it is neither raised again nor reused with another
// meaning.
func TestRetiredCodesStayRetired(t *testing.T) {
	const path = "testdata/codes-retired.golden"
	b, err := os.ReadFile(path)
	if err != nil && !*updateCodes {
		t.Fatalf("read %s: %v (run go test . -update once)", path, err)
	}
	listed := map[Code]bool{}
	for line := range strings.Lines(string(b)) {
		if c := Code(strings.TrimSpace(line)); c != "" {
			listed[c] = true
		}
	}
	for c := range listed {
		if _, ok := retired[c]; !ok {
			t.Errorf("code %s was retired and is now in use or gone; a retired code is never reused", c)
		}
	}
	var missing []string
	for _, c := range retiredCodes() {
		if !listed[c] {
			missing = append(missing, string(c))
		}
	}
	if len(missing) > 0 {
		if !*updateCodes {
			t.Fatalf("retired codes not in %s: %v (run go test . -update)", path, missing)
		}
		out, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		for _, c := range missing {
			out.WriteString(c + "\n")
		}
	}
	for _, e := range Retired() {
		if e.Title == "" || e.Message == "" {
			t.Errorf("%s: a retired entry keeps its title and message for the docs", e.Code)
		}
		if !strings.HasSuffix(e.Retired, ".") {
			t.Errorf("%s: the retirement reason %q is not a sentence", e.Code, e.Retired)
		}
	}
}

// A retired code cannot be raised: E and Wrap panic as for an unknown
// code, and Codes and Lookup do not offer it.
func TestRetiredCodesCannotBeRaised(t *testing.T) {
	if len(retired) == 0 {
		t.Skip("no retired codes")
	}
	for _, e := range Retired() {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("E(%s) did not panic", e.Code)
				}
			}()
			E(e.Code, nil)
		}()
		if slices.Contains(Codes(), e.Code) {
			t.Errorf("Codes() lists the retired %s", e.Code)
		}
		if Lookup(e.Code).Code != CodeInternal {
			t.Errorf("Lookup(%s) found the retired entry", e.Code)
		}
	}
}

// The original connector guide's texts are a compatibility contract.
func TestGuideTexts(t *testing.T) {
	tests := []struct {
		code Code
		args Args
		want string
	}{
		{CodeLogonFailed, Args{"upn": "kenmyer@litwareinc.com"},
			"Logon failed for the user 'kenmyer@litwareinc.com'. Please create a new PSCredential object, making sure that you have used the correct user name and password."},
		{CodeNoAdminRole, Args{"upn": "user@foo.com"},
			"The user 'user@foo.com' does not have permission to manage this tenant. Permissions can be granted by assigning the user to the appropriate RBAC role."},
		{CodeTenantAccessDisabled, nil,
			"The ability to connect to this tenant by using a remote PowerShell session has been disabled. Please contact your service provider to check the Tenant PowerShell Policy of this tenant."},
		{CodeUserQuotaExceeded, nil,
			"The WS-Management service cannot process the request. The maximum number of concurrent shells for this user has been exceeded. Close existing shells or raise the quota for this user."},
		{CodeTenantQuotaExceeded, nil,
			"The WS-Management service cannot process the request. The maximum number of concurrent shells for this tenant has been exceeded. Close existing shells or raise the quota for this tenant."},
		{CodeIdentityUnreachable, Args{"url": "https://id.example/", "host": "id.example"},
			"Failed to connect to the identity service at https://id.example/. Make sure a proxy is configured or this machine has a network connection to id.example."},
		{CodeCommandNotFound, Args{"name": "Get-Foo"},
			"The term 'Get-Foo' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again."},
	}
	for _, tt := range tests {
		if got := E(tt.code, tt.args).Message; got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.code, got, tt.want)
		}
	}
}

func TestExpandKeepsUnknownPlaceholders(t *testing.T) {
	if got := expand("a {x} b {y}", Args{"x": "1"}); got != "a 1 b {y}" {
		t.Fatalf("expand = %q", got)
	}
	if got := expand("open {", nil); got != "open {" {
		t.Fatalf("expand = %q", got)
	}
}

func TestErrorCarriesCodeThroughWrapping(t *testing.T) {
	base := E(CodeShellNotFound, Args{"shell": "X"})
	wrapped := &wrapErr{base}
	if CodeOf(wrapped) != CodeShellNotFound {
		t.Fatalf("CodeOf(wrapped) = %s", CodeOf(wrapped))
	}
	if CodeOf(os.ErrNotExist) != CodeInternal {
		t.Fatal("an error without a code must map to server.internal")
	}
	if v, ok := base.With("limit", "3").Value("limit"); !ok || v != "3" {
		t.Fatal("With/Value lost the detail")
	}
}

type wrapErr struct{ err error }

func (w *wrapErr) Error() string { return "wrapped: " + w.err.Error() }
func (w *wrapErr) Unwrap() error { return w.err }

// TestCatalogWording keeps internal vocabulary and foreign example domains
// out of what users read: the catalog's titles, messages, resolutions and
// guide sections (which docs/errors.md and psgate errors print).
func TestCatalogWording(t *testing.T) {
	for _, e := range entries {
		for field, text := range map[string]string{"title": e.Title, "message": e.Message, "resolution": e.Resolution, "guide section": e.GuideSection, "retirement reason": e.Retired} {
			lower := strings.ToLower(text)
			if strings.Contains(lower, "seed") {
				t.Errorf("%s: the %s says \"seed\": %q", e.Code, field, text)
			}
			if strings.Contains(lower, "contoso.com") || strings.Contains(lower, "fabrikam.com") {
				t.Errorf("%s: the %s uses a .com example domain (the demo tenant is contoso.test): %q", e.Code, field, text)
			}
		}
	}
}

package module

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/engine/builtin"
	"github.com/psgate/psgate/examples/widgets/widgetsvc"
	"github.com/psgate/psgate/identity"
	"github.com/psgate/psgate/internal/password"
	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/store/sqlite"
	"github.com/psgate/psgate/store/sqlite/sqlitetest"
)

// tokenService is psgate's real token service on a loopback listener,
// serving its JWKS.
type tokenService struct {
	tokens *identity.Service
	issuer string
}

func newTokenService(t testing.TB) *tokenService {
	t.Helper()
	db := sqlitetest.Open(t, sqlite.Options{})
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	svc, err := identity.NewService(identity.ServiceConfig{Store: db, Issuer: issuer, PasswordParams: password.Fast()})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = svc.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return &tokenService{tokens: svc, issuer: issuer}
}

// backend is the example widget service, as the operator would run it,
// behind a switch the tests use to make it fail.
type backend struct {
	url   string
	svc   *widgetsvc.Service
	mu    sync.Mutex
	calls []widgetsvc.Call
	// fail answers the matching requests itself.
	fail func(r *http.Request) (status int, header http.Header, body string, ok bool)
	// delay is waited before each answer (the paging test's slow pages).
	delay time.Duration
}

func newBackend(t testing.TB, ts *tokenService, audience string, pageSize int, opts ...func(*widgetsvc.Config)) *backend {
	t.Helper()
	b := &backend{}
	cfg := widgetsvc.Config{
		Issuer: ts.issuer, Audience: audience, PageSize: pageSize,
		Observe: func(c widgetsvc.Call) { b.mu.Lock(); b.calls = append(b.calls, c); b.mu.Unlock() },
	}
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := widgetsvc.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b.svc = svc
	srv := httptest.NewServer(b.handler())
	t.Cleanup(srv.Close)
	b.url = srv.URL
	return b
}

// backendServer returns an unstarted server for the backend, for a test
// to configure (ConnState) and start.
func backendServer(t testing.TB, b *backend) *httptest.Server {
	srv := httptest.NewUnstartedServer(b.handler())
	t.Cleanup(srv.Close)
	return srv
}

// handler is the widget service behind the failure switch.
func (b *backend) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		fail, delay := b.fail, b.delay
		b.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		if fail != nil {
			if status, h, body, ok := fail(r); ok {
				b.mu.Lock()
				b.calls = append(b.calls, widgetsvc.Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Status: status})
				b.mu.Unlock()
				for k, v := range h {
					w.Header()[k] = v
				}
				w.WriteHeader(status)
				fmt.Fprint(w, body)
				return
			}
		}
		b.svc.ServeHTTP(w, r)
	})
}

func (b *backend) takeCalls() []widgetsvc.Call {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.calls
	b.calls = nil
	return c
}

func (b *backend) setFail(f func(r *http.Request) (int, http.Header, string, bool)) {
	b.mu.Lock()
	b.fail = f
	b.mu.Unlock()
}

// exampleModule loads the example module with its base URL pointed at
// the test's backend.
func exampleModule(t testing.TB, baseURL string, edit func(string) string) *Module {
	t.Helper()
	text, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(text), "http://127.0.0.1:8089/api", baseURL+"/api", 1)
	if edit != nil {
		s = edit(s)
	}
	file := filepath.Join(t.TempDir(), "widgets.json")
	if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var adele = engine.Caller{
	Principal: psgate.Principal{TenantID: 7, Tenant: "contoso", UserID: 42, UPN: "adele@contoso.test", Method: psgate.AuthBearer, ExpiresAt: time.Now().Add(time.Hour)},
	ShellID:   "shell-1",
	Roles:     []string{"Tenant Administrator"},
}

// env is a runspace whose catalog holds the built-ins and a module.
type env struct {
	t  testing.TB
	rs *engine.Runspace
}

func newEnv(t testing.TB, ts *tokenService, caller engine.Caller, mods ...*Module) *env {
	t.Helper()
	cat := engine.NewCatalog()
	if err := builtin.Register(cat); err != nil {
		t.Fatal(err)
	}
	if _, err := Register(cat, mods, Config{Tokens: ts.tokens, MaxRetryWait: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, rs: engine.NewRunspace(engine.RunspaceConfig{Catalog: cat, Caller: caller})}
}

// sink records what a pipeline produces.
type sink struct {
	mu      sync.Mutex
	out     []any
	errs    []*engine.ErrorRecord
	host    []string
	verbose []string
	onOut   func(n int)
}

func (s *sink) Output(o any) {
	s.mu.Lock()
	s.out = append(s.out, o)
	n := len(s.out)
	s.mu.Unlock()
	if s.onOut != nil {
		s.onOut(n)
	}
}
func (s *sink) Error(r *engine.ErrorRecord) { s.errs = append(s.errs, r) }
func (s *sink) Warning(string)              {}
func (s *sink) Verbose(m string)            { s.verbose = append(s.verbose, m) }
func (s *sink) Debug(string)                {}
func (s *sink) Information(r engine.InformationRecord) {
	if r.Host != nil {
		s.host = append(s.host, r.Host.Text)
	}
}
func (s *sink) Progress(engine.ProgressRecord) {}

func (e *env) run(line string) (*sink, error) {
	e.t.Helper()
	s := &sink{}
	err := e.rs.RunScript(e.t.Context(), line, nil, s)
	return s, err
}

func (e *env) mustRun(line string) *sink {
	e.t.Helper()
	s, err := e.run(line)
	if err != nil {
		e.t.Fatalf("%s: %v", line, err)
	}
	if len(s.errs) > 0 {
		e.t.Fatalf("%s: error records %v", line, s.errs[0].Message())
	}
	return s
}

func prop(t *testing.T, o any, name string) any {
	t.Helper()
	obj, ok := o.(*psobject.Object)
	if !ok {
		t.Fatalf("output %T is not an object", o)
	}
	v, ok := obj.Get(name)
	if !ok {
		t.Fatalf("object %v has no property %s", obj.TypeNames, name)
	}
	return v
}

func TestWidgetsEndToEnd(t *testing.T) {
	ts := newTokenService(t)
	be := newBackend(t, ts, "urn:contoso:widgets", 2)
	e := newEnv(t, ts, adele, exampleModule(t, be.url, nil))

	// New-Widget: mandatory and positional parameters, a string[] and an
	// int in the JSON body, and the answer typed as declared.
	s := e.mustRun(`New-Widget Alpha -Color red -Size 2 -Tags a,b`)
	w := s.out[0].(*psobject.Object)
	if w.TypeName() != "Contoso.Widget" || w.String() != "Alpha" || fmt.Sprint(w.DisplayProps) != "[Id Name Color Size]" {
		t.Errorf("New-Widget wrote %v %q display %v", w.TypeNames, w.String(), w.DisplayProps)
	}
	if c := prop(t, w, "Color"); c != "Red" {
		t.Errorf("Color = %v: ValidateSet gives the set's spelling", c)
	}
	if _, ok := prop(t, w, "CreatedAt").(time.Time); !ok {
		t.Errorf("CreatedAt is %T, want a DateTime", prop(t, w, "CreatedAt"))
	}
	if v := prop(t, w, "Size"); v != int32(2) {
		t.Errorf("Size = %#v, want Int32 2", v)
	}
	if v := fmt.Sprint(prop(t, w, "Tags")); v != "[a b]" {
		t.Errorf("Tags = %v", v)
	}
	owner, ok := prop(t, w, "Owner").(*psobject.Object)
	if !ok || !owner.IsA("System.Management.Automation.PSCustomObject") {
		t.Fatalf("Owner = %#v, want a nested PSCustomObject", prop(t, w, "Owner"))
	}
	if upn, _ := owner.Get("Upn"); upn != "adele@contoso.test" {
		t.Errorf("the backend saw the caller %v", upn)
	}
	calls := be.takeCalls()
	if len(calls) != 1 || calls[0].Caller == nil || calls[0].Caller.TenantID != 7 || calls[0].Caller.Tenant != "contoso" ||
		fmt.Sprint(calls[0].Caller.Roles) != "[Tenant Administrator]" || calls[0].Caller.Subject != "adele@contoso.test" {
		t.Fatalf("backend calls = %+v", calls)
	}
	for _, line := range []string{`New-Widget Beta -Color Blue -Size 5`, `New-Widget Gamma -Color Red -Size 7`, `New-Widget Delta -Color Red`} {
		e.mustRun(line)
	}
	be.takeCalls()

	// Get-Widget: query parameters, paging (page size 2), by Id.
	s = e.mustRun(`Get-Widget -Color Red`)
	if len(s.out) != 3 {
		t.Fatalf("Get-Widget -Color Red wrote %d objects", len(s.out))
	}
	if calls := be.takeCalls(); len(calls) != 2 || calls[0].Query != "color=Red" || !strings.Contains(calls[1].Query, "cursor=2") {
		t.Errorf("paged calls = %+v", calls)
	}
	s = e.mustRun(`Get-Widget -MinSize 5`)
	if len(s.out) != 2 {
		t.Errorf("Get-Widget -MinSize 5 wrote %d objects", len(s.out))
	}
	s = e.mustRun(`Get-Widget w-2`)
	if len(s.out) != 1 || prop(t, s.out[0], "Name") != "Beta" {
		t.Errorf("Get-Widget w-2 = %v", s.out)
	}
	be.takeCalls()

	// A pipeline between module cmdlets: Id binds by property name;
	// -WhatIf reaches no backend.
	s = e.mustRun(`Get-Widget -Color Red | Set-Widget -Size 3 -WhatIf`)
	if len(s.host) != 3 || s.host[0] != `What if: Performing the operation "Set widget" on target "w-1".` {
		t.Errorf("WhatIf wrote %q", s.host)
	}
	for _, c := range be.takeCalls() {
		if c.Method != http.MethodGet {
			t.Errorf("-WhatIf made a %s %s call", c.Method, c.Path)
		}
	}
	s = e.mustRun(`Get-Widget -Color Red | Set-Widget -Size 3`)
	if len(s.out) != 3 || prop(t, s.out[2], "Size") != int32(3) {
		t.Errorf("Set-Widget in a pipeline wrote %v", s.out)
	}
	// Pages stream: the first page's widgets are set before the second
	// page is asked for.
	if calls := be.takeCalls(); len(calls) != 5 || calls[1].Method != http.MethodPatch || calls[1].Path != "/api/widgets/w-1" ||
		calls[3].Query != "color=Red&cursor=2" {
		t.Errorf("pipeline calls = %+v", calls)
	}
	s = e.mustRun(`Get-Widget -Color Red | Select-Object -First 1`)
	if len(s.out) != 1 {
		t.Errorf("Select-Object -First 1 wrote %d", len(s.out))
	}
	if calls := be.takeCalls(); len(calls) != 1 {
		t.Errorf("Select-Object -First 1 after the first page made %d calls, want 1 (no further page)", len(calls))
	}
	e.mustRun(`Remove-Widget w-4`)
	if _, err := e.run(`Get-Widget w-4 -ErrorAction Stop`); psgate.CodeOf(err) != psgate.CodeBackendNotFound {
		t.Errorf("Get-Widget of a removed widget: %v", err)
	}
}

func TestBindingAndValidation(t *testing.T) {
	ts := newTokenService(t)
	be := newBackend(t, ts, "urn:contoso:widgets", 50)
	e := newEnv(t, ts, adele, exampleModule(t, be.url, nil))
	e.mustRun(`New-Widget One -Color Green`)
	be.takeCalls()
	tests := []struct {
		line string
		code psgate.Code
		want string
	}{
		{`Get-Widget x-1`, psgate.CodeParameterValidation, `Cannot validate argument on parameter 'Id'. The argument "x-1" does not match the "^w-[0-9]+$" pattern.`},
		{`Get-Widget -Color Purple`, psgate.CodeParameterValidation, `Purple`},
		{`Get-Widget -MinSize 11`, psgate.CodeParameterValidation, `11`},
		{`New-Widget -Color Red`, psgate.CodeMissingMandatory, `Name`},
		{`Set-Widget w-1 -Size many`, psgate.CodeParameterBinding, `many`},
	}
	for _, tt := range tests {
		_, err := e.run(tt.line)
		var te *engine.TerminatingError
		if !errors.As(err, &te) || te.Record.Err.Code != tt.code || !strings.Contains(te.Record.Message(), tt.want) {
			t.Errorf("%s: %v, want %s with %q", tt.line, err, tt.code, tt.want)
		}
	}
	if calls := be.takeCalls(); len(calls) != 0 {
		t.Errorf("refused bindings reached the backend: %+v", calls)
	}
	// ValueFromPipeline and switch, bool, datetime, long and double
	// parameters, from a module of their own.
	text := `{
  "name": "Test.Kinds",
  "backends": {"svc": {"baseUrl": "` + be.url + `/api", "audience": "urn:contoso:widgets"}},
  "cmdlets": [{
    "name": "Get-Widget",
    "synopsis": "Gets a widget by value from the pipeline.",
    "parameters": [
      {"name": "Id", "valueFromPipeline": true, "mandatory": true},
      {"name": "Force", "type": "switch"},
      {"name": "Deep", "type": "bool"},
      {"name": "Since", "type": "datetime"},
      {"name": "Big", "type": "long"},
      {"name": "Ratio", "type": "double"},
      {"name": "Names", "type": "string[]", "aliases": ["N"]}
    ],
    "request": {"method": "GET", "path": "/widgets/{id}",
      "query": {"force": "Force", "deep": "Deep", "since": "Since", "big": "Big", "ratio": "Ratio", "name": "Names"}}
  }]
}`
	m, err := Parse("kinds.json", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	e2 := newEnv(t, ts, adele, m)
	s := e2.mustRun(`Write-Output w-1 | Get-Widget -Force -Deep $false -Since 2026-01-02T03:04:05Z -Big 5000000000 -Ratio 0.5 -N a,b`)
	if len(s.out) != 1 {
		t.Fatalf("wrote %v", s.out)
	}
	calls := be.takeCalls()
	if len(calls) != 1 || calls[0].Path != "/api/widgets/w-1" ||
		calls[0].Query != "big=5000000000&deep=false&force=true&name=a&name=b&ratio=0.5&since=2026-01-02T03%3A04%3A05Z" {
		t.Errorf("calls = %+v", calls)
	}
}

func TestHTTPErrors(t *testing.T) {
	ts := newTokenService(t)
	be := newBackend(t, ts, "urn:contoso:widgets", 50)
	e := newEnv(t, ts, adele, exampleModule(t, be.url, nil))
	e.mustRun(`New-Widget One -Color Green`)
	tests := []struct {
		name        string
		status      int
		header      http.Header
		body        string
		line        string
		code        psgate.Code
		cat         engine.Category
		terminating bool
		want        string
	}{
		{name: "404", line: `Get-Widget w-99`, code: psgate.CodeBackendNotFound, cat: engine.CategoryObjectNotFound,
			want: `The widgets service found no such object: There is no widget "w-99" in tenant contoso.`},
		{name: "409", line: `New-Widget One -Color Red`, code: psgate.CodeBackendConflict, cat: engine.CategoryResourceExists,
			want: `A widget named "One" already exists (w-1).`},
		{name: "422 with field messages", status: 422, body: `{"detail": "The widget is not valid.", "errors": [{"field": "size", "message": "must be from 1 to 10"}]}`,
			line: `Set-Widget w-1 -Size 3`, code: psgate.CodeBackendInvalid, cat: engine.CategoryInvalidArgument,
			want: `refused the request as invalid: The widget is not valid. size: must be from 1 to 10`},
		{name: "400 map of fields", status: 400, body: `{"message": "Bad", "errors": {"color": ["unknown"]}}`,
			line: `Set-Widget w-1 -Size 3`, code: psgate.CodeBackendInvalid, cat: engine.CategoryInvalidArgument, want: `Bad. color: unknown`},
		{name: "403", line: `Remove-Widget w-1`, code: psgate.CodeBackendDenied, cat: engine.CategoryPermissionDenied, want: `Only a Tenant Administrator`},
		{name: "429", status: 429, header: http.Header{"Retry-After": {"30"}}, line: `Get-Widget`, code: psgate.CodeBackendBusy,
			cat: engine.CategoryLimitsExceeded, terminating: true, want: `busy (HTTP 429) and asks to retry after 30 seconds`},
		{name: "503", status: 503, line: `Get-Widget`, code: psgate.CodeBackendBusy, cat: engine.CategoryLimitsExceeded, terminating: true, want: `retry after a few seconds`},
		{name: "500", status: 500, body: "<html>oops</html>", line: `Get-Widget`, code: psgate.CodeBackendFailed, cat: engine.CategoryResourceUnavailable, terminating: true,
			want: `failed to answer the request (HTTP 500): Internal Server Error.`},
		{name: "not JSON", status: 200, body: "hello", line: `Get-Widget`, code: psgate.CodeBackendBadResponse, cat: engine.CategoryInvalidResult, terminating: true, want: "not JSON"},
		{name: "next link elsewhere", status: 200, body: `{"items": [], "nextLink": "https://evil.example/steal"}`, line: `Get-Widget`,
			code: psgate.CodeBackendBadResponse, cat: engine.CategoryInvalidResult, terminating: true, want: "leaves the backend's origin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caller := adele
			if tt.name == "403" {
				caller.Roles = []string{"Helpdesk"}
			}
			e := e
			if tt.name == "403" {
				e = newEnv(t, ts, caller, exampleModule(t, be.url, nil))
			}
			be.setFail(nil)
			if tt.status != 0 {
				be.setFail(func(*http.Request) (int, http.Header, string, bool) { return tt.status, tt.header, tt.body, true })
			}
			defer be.setFail(nil)
			s, err := e.run(tt.line)
			var rec *engine.ErrorRecord
			if tt.terminating {
				var te *engine.TerminatingError
				if !errors.As(err, &te) {
					t.Fatalf("%s: %v, %d records: want a terminating error", tt.line, err, len(s.errs))
				}
				rec = te.Record
			} else {
				if err != nil || len(s.errs) != 1 {
					t.Fatalf("%s: %v, records %v: want one non-terminating error", tt.line, err, s.errs)
				}
				rec = s.errs[0]
			}
			if rec.Err.Code != tt.code || rec.Category != tt.cat || !strings.Contains(rec.Message(), tt.want) {
				t.Errorf("record %s %s %q, want %s %s containing %q", rec.Err.Code, rec.Category, rec.Message(), tt.code, tt.cat, tt.want)
			}
			if !strings.HasSuffix(rec.FullyQualifiedErrorID, ","+strings.Fields(tt.line)[0]) {
				t.Errorf("FullyQualifiedErrorID %q", rec.FullyQualifiedErrorID)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	ts := newTokenService(t)
	be := newBackend(t, ts, "urn:contoso:widgets", 50)
	e := newEnv(t, ts, adele, exampleModule(t, be.url, nil))
	e.mustRun(`New-Widget One -Color Green`)
	be.takeCalls()
	var mu sync.Mutex
	failures := 0
	flaky := func(n int) func(*http.Request) (int, http.Header, string, bool) {
		mu.Lock()
		failures = n
		mu.Unlock()
		return func(*http.Request) (int, http.Header, string, bool) {
			mu.Lock()
			defer mu.Unlock()
			if failures == 0 {
				return 0, nil, "", false
			}
			failures--
			return 503, http.Header{"Retry-After": {"0"}}, "", true
		}
	}
	// GET is idempotent: two 503s, then the answer (retries: 2).
	be.setFail(flaky(2))
	s := e.mustRun(`Get-Widget`)
	if len(s.out) != 1 {
		t.Errorf("Get-Widget after two 503s wrote %d", len(s.out))
	}
	if calls := be.takeCalls(); len(calls) != 3 {
		t.Errorf("GET made %d calls, want 3", len(calls))
	}
	// Bounded: three 503s exhaust the retries.
	be.setFail(flaky(3))
	if _, err := e.run(`Get-Widget`); psgate.CodeOf(err) != psgate.CodeBackendBusy {
		t.Errorf("three 503s: %v", err)
	}
	if calls := be.takeCalls(); len(calls) != 3 {
		t.Errorf("GET made %d calls, want 3 (1 + 2 retries)", len(calls))
	}
	// POST and PATCH are never repeated.
	for _, line := range []string{`New-Widget Two -Color Red`, `Set-Widget w-1 -Size 2`} {
		be.setFail(flaky(1))
		if _, err := e.run(line); psgate.CodeOf(err) != psgate.CodeBackendBusy {
			t.Errorf("%s after a 503: %v", line, err)
		}
		if calls := be.takeCalls(); len(calls) != 1 {
			t.Errorf("%s made %d calls, want exactly 1", line, len(calls))
		}
	}
	// A connection failure is not repeated for POST either.
	be.setFail(nil)
	dead := exampleModule(t, "http://127.0.0.1:1", nil)
	e2 := newEnv(t, ts, adele, dead)
	if _, err := e2.run(`New-Widget Three -Color Red`); psgate.CodeOf(err) != psgate.CodeBackendUnreachable {
		t.Errorf("unreachable backend: %v", err)
	}
}

func TestPagingStopped(t *testing.T) {
	ts := newTokenService(t)
	be := newBackend(t, ts, "urn:contoso:widgets", 1)
	e := newEnv(t, ts, adele, exampleModule(t, be.url, nil))
	for i := range 6 {
		e.mustRun(fmt.Sprintf(`New-Widget W%d -Color Red`, i))
	}
	be.takeCalls()
	be.mu.Lock()
	be.delay = 50 * time.Millisecond
	be.mu.Unlock()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s := &sink{onOut: func(n int) {
		if n == 2 {
			cancel() // Ctrl+C after the second page's object
		}
	}}
	err := e.rs.RunScript(ctx, `Get-Widget`, nil, s)
	if psgate.CodeOf(err) != psgate.CodePipelineStopped {
		t.Errorf("stopped pipeline: %v", err)
	}
	time.Sleep(200 * time.Millisecond) // a further page request would arrive by now
	if calls := be.takeCalls(); len(calls) != 2 {
		t.Errorf("the backend saw %d page requests, want 2 (none after the stop): %+v", len(calls), calls)
	}
}

func TestTokenRefused(t *testing.T) {
	ts := newTokenService(t)
	// The backend expects another audience than the module's.
	be := newBackend(t, ts, "urn:contoso:other", 50)
	e := newEnv(t, ts, adele, exampleModule(t, be.url, nil))
	_, err := e.run(`Get-Widget`)
	var te *engine.TerminatingError
	if !errors.As(err, &te) || te.Record.Err.Code != psgate.CodeBackendDenied || te.Record.Category != engine.CategoryPermissionDenied {
		t.Fatalf("wrong audience: %v", err)
	}
	calls := be.takeCalls()
	if len(calls) != 1 || calls[0].Caller != nil || !strings.Contains(calls[0].Refusal, "aud") {
		t.Errorf("backend calls = %+v", calls)
	}
	// An expired token is refused: the backend's clock is 10 minutes
	// ahead, past the token's 5-minute life and its minute of leeway.
	late := newBackend(t, ts, "urn:contoso:widgets", 50, func(c *widgetsvc.Config) {
		c.Now = func() time.Time { return time.Now().Add(10 * time.Minute) }
	})
	if _, err := newEnv(t, ts, adele, exampleModule(t, late.url, nil)).run(`Get-Widget`); psgate.CodeOf(err) != psgate.CodeBackendDenied {
		t.Errorf("expired token: %v", err)
	}
	if calls := late.takeCalls(); len(calls) != 1 || !strings.Contains(calls[0].Refusal, "exp") {
		t.Errorf("backend calls = %+v", calls)
	}
	// A token from another issuer (another psgate) is refused too.
	other := newTokenService(t)
	e = newEnv(t, other, adele, exampleModule(t, be.url, func(s string) string {
		return strings.Replace(s, "urn:contoso:widgets", "urn:contoso:other", 1)
	}))
	if _, err := e.run(`Get-Widget`); psgate.CodeOf(err) != psgate.CodeBackendDenied {
		t.Errorf("other issuer: %v", err)
	}
	if calls := be.takeCalls(); len(calls) != 1 || calls[0].Caller != nil {
		t.Errorf("backend calls = %+v", calls)
	}
}

// clock is a settable clock for the circuit breaker.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestCircuitBreaker(t *testing.T) {
	ts := newTokenService(t)
	be := newBackend(t, ts, "urn:contoso:widgets", 50)
	clk := &clock{t: time.Now()}
	cat := engine.NewCatalog()
	if _, err := Register(cat, []*Module{exampleModule(t, be.url, nil)}, Config{Tokens: ts.tokens, MaxRetryWait: time.Millisecond, Now: clk.now}); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, rs: engine.NewRunspace(engine.RunspaceConfig{Catalog: cat, Caller: adele})}
	be.setFail(func(*http.Request) (int, http.Header, string, bool) { return 500, nil, "", true })
	for i := range breakerThreshold {
		if _, err := e.run(`New-Widget W -Color Red`); psgate.CodeOf(err) != psgate.CodeBackendFailed {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	be.takeCalls()
	// Open: calls fail at once and reach nothing.
	_, err := e.run(`Get-Widget`)
	if psgate.CodeOf(err) != psgate.CodeBackendUnreachable || !strings.Contains(err.Error(), "paused calls to it for 30 seconds after 5 failed calls in a row") {
		t.Errorf("open breaker: %v", err)
	}
	if calls := be.takeCalls(); len(calls) != 0 {
		t.Errorf("an open breaker let %d calls through", len(calls))
	}
	// After the cooldown, one trial; it fails, so the breaker opens again.
	clk.advance(breakerCooldown + time.Second)
	if _, err := e.run(`New-Widget W -Color Red`); psgate.CodeOf(err) != psgate.CodeBackendFailed {
		t.Errorf("trial call: %v", err)
	}
	if _, err := e.run(`New-Widget W -Color Red`); !strings.Contains(fmt.Sprint(err), "paused") {
		t.Errorf("after a failed trial: %v", err)
	}
	// The backend recovers: the next trial succeeds and closes the breaker.
	be.setFail(nil)
	be.takeCalls()
	clk.advance(breakerCooldown + time.Second)
	e.mustRun(`New-Widget W -Color Red`)
	e.mustRun(`Get-Widget`)
	if calls := be.takeCalls(); len(calls) != 2 {
		t.Errorf("closed breaker: %d calls, want 2", len(calls))
	}
}

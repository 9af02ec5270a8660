package interop

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psgate/psgate/examples/widgets/widgetsvc"
	"github.com/psgate/psgate/module"
	"github.com/psgate/psgate/server"
	"github.com/psgate/psgate/store"
)

// moduleRig is a psgate server loading the example widgets module, and
// the example widget service (the operator's side) it calls, which
// verifies every token against the server's JWKS.
type moduleRig struct {
	ts  *testServer
	svc *widgetsvc.Service
	mu  sync.Mutex
	// calls are the backend's requests with when each arrived.
	calls []moduleCall
	delay time.Duration
}

type moduleCall struct {
	at     time.Time
	method string
	path   string
	query  string
	status int
	tenant string
}

// startModuleRig starts the backend, then the server with the example
// module pointed at it. Requests for widgets w-403, w-409, w-422, w-429
// and w-503 get that status, as a backend in trouble would answer.
func startModuleRig(t *testing.T, pageSize int) *moduleRig {
	t.Helper()
	rig := &moduleRig{}
	backend := httptest.NewUnstartedServer(nil)
	text, err := os.ReadFile(filepath.Join("..", "examples", "widgets", "widgets.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mod := strings.Replace(string(text), "http://127.0.0.1:8089/api", "http://"+backend.Listener.Addr().String()+"/api", 1)
	if err := os.WriteFile(filepath.Join(dir, "widgets.json"), []byte(mod), 0o600); err != nil {
		t.Fatal(err)
	}
	rig.ts = startServerWith(t, func(c *server.Config) { c.ModuleDir = dir })
	in := rig.ts.Info()
	rig.svc, err = widgetsvc.New(widgetsvc.Config{
		Issuer: in.Issuer, Audience: "urn:contoso:widgets", PageSize: pageSize,
		HTTPClient: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: rig.ts.CertPool()}}},
		Observe: func(c widgetsvc.Call) {
			tenant := ""
			if c.Caller != nil {
				tenant = c.Caller.Tenant
			}
			rig.mu.Lock()
			rig.calls = append(rig.calls, moduleCall{at: time.Now(), method: c.Method, path: c.Path, query: c.Query, status: c.Status, tenant: tenant})
			rig.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	backend.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rig.mu.Lock()
		delay := rig.delay
		rig.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		var status int
		if _, err := fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/api/widgets/w-"), "%d", &status); err == nil && status >= 403 && status <= 503 && status != 404 {
			rig.mu.Lock()
			rig.calls = append(rig.calls, moduleCall{at: start, method: r.Method, path: r.URL.Path, status: status})
			rig.mu.Unlock()
			switch status {
			case 429:
				w.Header().Set("Retry-After", "30")
			case 503:
				w.Header().Set("Retry-After", "20")
			}
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"title": %q, "detail": "Injected %d.", "errors": [{"field": "size", "message": "must be from 1 to 10"}]}`, http.StatusText(status), status)
			return
		}
		rig.svc.ServeHTTP(w, r)
	})
	backend.Start()
	t.Cleanup(backend.Close)
	return rig
}

func (rig *moduleRig) takeCalls() []moduleCall {
	rig.mu.Lock()
	defer rig.mu.Unlock()
	c := rig.calls
	rig.calls = nil
	return c
}

// modulePy runs a scenario of testdata/module_client.py as the demo
// administrator over HTTP.
func modulePy(t *testing.T, rig *moduleRig, scenario string) map[string]any {
	t.Helper()
	return rigPy(t, rig, "module_client.py", scenario)
}

// rigPy runs a scenario of a pypsrp script in testdata against the rig's
// gateway as the demo administrator over HTTP.
func rigPy(t *testing.T, rig *moduleRig, script, scenario string) map[string]any {
	t.Helper()
	py := python(t, "pypsrp")
	u, err := url.Parse(rig.ts.httpURL)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	runPy(t, py, script, scenario, map[string]string{
		"PSGATE_HOST": u.Hostname(), "PSGATE_PORT": u.Port(), "PSGATE_SSL": "0", "PSGATE_PATH": "powershell",
		"PSGATE_USER": server.DemoAdmin, "PSGATE_PASSWORD": adminPassword,
	}, &out)
	return out
}

func TestModuleCmdletsWithPypsrp(t *testing.T) {
	rig := startModuleRig(t, 2)
	r := modulePy(t, rig, "widgets")
	if fmt.Sprint(r["names"]) != "[Get-Widget New-Widget Remove-Widget Set-Widget]" {
		t.Errorf("Get-Command *-Widget = %v", r["names"])
	}
	created := r["created"].([]any)
	if len(created) != 3 || created[0].(map[string]any)["id"] != "w-1" || fmt.Sprint(created[0].(map[string]any)["errors"]) != "[]" {
		t.Errorf("New-Widget = %s", dump(created))
	}
	if r["red_count"] != 2.0 || fmt.Sprint(r["types"]) != "[Deserialized.Contoso.Widget Deserialized.System.Object]" && fmt.Sprint(r["types"]) != "[Contoso.Widget System.Object]" {
		t.Errorf("Get-Widget -Color Red = %d objects of %v", r["red_count"], r["types"])
	}
	if r["size"] != 2.0 || !strings.HasPrefix(fmt.Sprint(r["created_at"]), "20") || fmt.Sprint(r["tags"]) != "[t1 t2]" || r["owner_upn"] != server.DemoAdmin {
		t.Errorf("typed properties = %s", dump(r))
	}
	if fmt.Sprint(r["whatif"]) != `[What if: Performing the operation "Set widget" on target "w-1". What if: Performing the operation "Set widget" on target "w-3".]` {
		t.Errorf("-WhatIf = %v", r["whatif"])
	}
	if fmt.Sprint(r["set_sizes"]) != "[3 3]" {
		t.Errorf("Set-Widget -Size 3 = %v", r["set_sizes"])
	}
	// The default view shows the display properties only.
	table := fmt.Sprint(r["table"])
	if !strings.Contains(table, "Id") || !strings.Contains(table, "Color") || strings.Contains(table, "CreatedAt") {
		t.Errorf("Format-Table = %q", table)
	}
	// What the operator's service received: the caller's tenant on every
	// call, and no PATCH from the -WhatIf pipeline.
	var patches int
	for _, c := range rig.takeCalls() {
		if c.tenant != server.DemoTenant {
			t.Errorf("call %s %s for tenant %q", c.method, c.path, c.tenant)
		}
		if c.method == http.MethodPatch {
			patches++
		}
	}
	if patches != 2 {
		t.Errorf("%d PATCH calls, want 2 (none from -WhatIf)", patches)
	}
	// The command audit records module cmdlets as any other, with the
	// parameters and the outcome. Each command has one record, written
	// "started" before it runs and completed shortly after it ends.
	var recs []store.AuditRecord
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		recs = recs[:0]
		for _, r := range auditedRecords(t, rig.ts.Store(), "Set-Widget") {
			if r.Outcome != "started" {
				recs = append(recs, r)
			}
		}
		if len(recs) >= 2 || time.Now().After(deadline) {
			break
		}
	}
	if len(recs) != 2 {
		t.Fatalf("%d completed Set-Widget audit records, want 2 (one per pipeline)", len(recs))
	}
	for _, r := range recs {
		if r.Outcome != store.OutcomeOK || !strings.Contains(r.Parameters, "Size") || r.UPN != server.DemoAdmin {
			t.Errorf("audit record %+v", r)
		}
	}
}

func TestModuleErrorsWithPypsrp(t *testing.T) {
	rig := startModuleRig(t, 50)
	r := modulePy(t, rig, "error_classes")
	tests := []struct {
		id, fqid, reason string
		category         float64
		state            string // 4 Completed (non-terminating), 5 Failed
		message          string
	}{
		{"w-404", "ObjectNotFound,Get-Widget", "ItemNotFoundException", 13, "4", `The widgets service found no such object: There is no widget "w-404" in tenant contoso.`},
		{"w-403", "PermissionDenied,Get-Widget", "UnauthorizedAccessException", 18, "4", "The widgets service does not allow this request: Injected 403."},
		{"w-409", "ResourceExists,Get-Widget", "InvalidOperationException", 20, "4", "refused the change because of a conflict: Injected 409."},
		{"w-422", "InvalidArgument,Get-Widget", "ArgumentException", 5, "4", "refused the request as invalid: Injected 422. size: must be from 1 to 10"},
		{"w-429", "BackendBusy,Get-Widget", "InvalidOperationException", 29, "5", "busy (HTTP 429) and asks to retry after 30 seconds"},
		{"w-503", "BackendBusy,Get-Widget", "InvalidOperationException", 29, "5", "busy (HTTP 503) and asks to retry after 20 seconds"},
		{"pattern", "ParameterArgumentValidationError,Get-Widget", "ParameterBindingValidationException", 6, "5", `The argument "x-1" does not match the "^w-[0-9]+$" pattern`},
	}
	for _, tt := range tests {
		rec, _ := r[tt.id].(map[string]any)
		if rec == nil {
			t.Errorf("%s: no error record: %s", tt.id, dump(r))
			continue
		}
		if rec["fqid"] != tt.fqid || rec["category"] != tt.category || rec["reason"] != tt.reason || rec["state"] != tt.state || !strings.Contains(fmt.Sprint(rec["message"]), tt.message) {
			t.Errorf("%s as pypsrp sees it = %s\nwant fqid %s, category %v, reason %s, state %s, message containing %q", tt.id, dump(rec), tt.fqid, tt.category, tt.reason, tt.state, tt.message)
		}
	}
	// GET is idempotent: a Retry-After beyond the bound is reported at
	// once rather than waited for, so each busy answer was asked once.
	counts := map[string]int{}
	for _, c := range rig.takeCalls() {
		counts[c.path]++
	}
	if counts["/api/widgets/w-429"] != 1 || counts["/api/widgets/w-503"] != 1 {
		t.Errorf("backend calls per path = %v", counts)
	}
}

func TestModulePagingStoppedByPypsrp(t *testing.T) {
	rig := startModuleRig(t, 1)
	tn, err := rig.ts.Store().TenantByName(context.Background(), server.DemoTenant)
	if err != nil {
		t.Fatal(err)
	}
	rig.svc.Seed(int64(tn.ID), tn.Name, 30)
	rig.mu.Lock()
	rig.delay = 200 * time.Millisecond // 30 pages: 6 s unless stopped
	rig.mu.Unlock()
	r := modulePy(t, rig, "stop_paging")
	if r["state"] != "3" {
		t.Errorf("pipeline state after stop = %v, want 3 (Stopped)", r["state"])
	}
	time.Sleep(time.Second) // a page requested after the stop would arrive by now
	stoppedAt := time.Unix(0, int64(r["stopped_at"].(float64)*1e9))
	calls := rig.takeCalls()
	var pages int
	for _, c := range calls {
		if c.path == "/api/widgets" {
			pages++
		}
		// The backend's Observe runs when a page is answered; one
		// requested before the stop may finish just after it.
		if c.at.After(stoppedAt.Add(rig.delay + 300*time.Millisecond)) {
			t.Errorf("page %s?%s answered at %v, after the stop at %v", c.path, c.query, c.at.Format(time.StampMilli), stoppedAt.Format(time.StampMilli))
		}
	}
	if pages == 0 || pages >= 30 {
		t.Errorf("the backend answered %d pages, want some but not all 30", pages)
	}
}

// TestBrokenModuleRefusesStart checks that serve does not start with a
// broken module, and says where the problem is.
func TestBrokenModuleRefusesStart(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(file, []byte(`{
  "name": "Broken.Mod",
  "backends": {"svc": {"baseUrl": "http://127.0.0.1:9"}},
  "cmdlets": [{"name": "Get-Thing", "synopsis": "x", "request": {"method": "GET", "path": "/t/{Nope}"}}]
}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := server.New(context.Background(), server.Config{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", ModuleDir: dir})
	var me *module.Error
	if !errors.As(err, &me) || !strings.Contains(err.Error(), file+":4:91: cmdlets[0](Get-Thing).request.path: the placeholder {Nope} names no declared parameter") {
		t.Fatalf("server.New = %v", err)
	}
}

package module

import (
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/engine/builtin"
)

// TestConcurrentCallsReuseConnections runs 1,000 cmdlet calls from 100
// runspaces at once: none fails, and the backend sees far fewer new
// connections than calls (the transport pools them per backend).
func TestConcurrentCallsReuseConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 calls")
	}
	ts := newTokenService(t)
	be := newBackend(t, ts, "urn:contoso:widgets", 50)
	// Count the backend's new connections.
	var conns atomic.Int64
	srv := backendServer(t, be)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	m := exampleModule(t, srv.URL, nil)
	cat := engine.NewCatalog()
	if err := builtin.Register(cat); err != nil {
		t.Fatal(err)
	}
	if _, err := Register(cat, []*Module{m}, Config{Tokens: ts.tokens}); err != nil {
		t.Fatal(err)
	}
	seed := engine.NewRunspace(engine.RunspaceConfig{Catalog: cat, Caller: adele})
	if err := seed.RunScript(t.Context(), `New-Widget One -Color Red`, nil, &sink{}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var failures atomic.Int64
	for shell := range 100 {
		caller := adele
		caller.ShellID = fmt.Sprintf("shell-%d", shell)
		rs := engine.NewRunspace(engine.RunspaceConfig{Catalog: cat, Caller: caller})
		wg.Go(func() {
			for range 10 {
				s := &sink{}
				if err := rs.RunScript(t.Context(), `Get-Widget w-1`, nil, s); err != nil || len(s.out) != 1 || len(s.errs) != 0 {
					failures.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := failures.Load(); n > 0 {
		t.Errorf("%d of 1000 calls failed", n)
	}
	if n := conns.Load(); n > 200 {
		t.Errorf("the backend saw %d new connections for 1001 calls: connections are not reused", n)
	}
	t.Logf("1001 calls over %d connections", conns.Load())
}

// TestTenantsAreApart checks that the backend learns the tenant from the
// token alone: another tenant's caller sees none of the first's widgets.
func TestTenantsAreApart(t *testing.T) {
	ts := newTokenService(t)
	be := newBackend(t, ts, "urn:contoso:widgets", 50)
	m := exampleModule(t, be.url, nil)
	newEnv(t, ts, adele, m).mustRun(`New-Widget One -Color Red`)
	other := adele
	other.Principal = psgate.Principal{TenantID: 8, Tenant: "fabrikam", UserID: 43, UPN: "megan@fabrikam.test", Method: psgate.AuthBearer}
	e := newEnv(t, ts, other, m)
	if s := e.mustRun(`Get-Widget`); len(s.out) != 0 {
		t.Errorf("fabrikam sees contoso's widgets: %v", s.out)
	}
	if _, err := e.run(`Get-Widget w-1 -ErrorAction Stop`); psgate.CodeOf(err) != psgate.CodeBackendNotFound {
		t.Errorf("fabrikam reading contoso's w-1: %v", err)
	}
}

// TestReloadUnderLoad reloads the module twenty times while 20 runspaces
// call its cmdlets: no call fails, whichever definition it started with;
// a broken reload in the middle changes nothing.
func TestReloadUnderLoad(t *testing.T) {
	ts := newTokenService(t)
	be := newBackend(t, ts, "urn:contoso:widgets", 50)
	srv := backendServer(t, be)
	srv.Start()
	m := exampleModule(t, srv.URL, nil)
	cat := engine.NewCatalog()
	if err := builtin.Register(cat); err != nil {
		t.Fatal(err)
	}
	reg, err := Register(cat, []*Module{m}, Config{Tokens: ts.tokens})
	if err != nil {
		t.Fatal(err)
	}
	seed := engine.NewRunspace(engine.RunspaceConfig{Catalog: cat, Caller: adele})
	if err := seed.RunScript(t.Context(), `New-Widget One -Color Red`, nil, &sink{}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var calls, failures atomic.Int64
	for shell := range 20 {
		caller := adele
		caller.ShellID = fmt.Sprintf("shell-%d", shell)
		rs := engine.NewRunspace(engine.RunspaceConfig{Catalog: cat, Caller: caller})
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := &sink{}
				calls.Add(1)
				if err := rs.RunScript(t.Context(), `Get-Widget w-1 | Set-Widget -Size 3`, nil, s); err != nil || len(s.errs) != 0 {
					failures.Add(1)
				}
			}
		})
	}
	// The same module under another file: a changed definition each time.
	for i := range 20 {
		// Let calls run between reloads.
		for before := calls.Load(); calls.Load() < before+5; {
			runtime.Gosched()
		}
		next := exampleModule(t, srv.URL, nil)
		if i == 10 {
			// A module that takes a built-in's name is refused whole.
			clash := exampleModule(t, srv.URL, func(s string) string { return strings.Replace(s, `"Get-Widget"`, `"Get-Command"`, 1) })
			if err := reg.Reload([]*Module{clash}); err == nil {
				t.Error("a reload taking Get-Command's name succeeded")
			}
		}
		if err := reg.Reload([]*Module{next}); err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
	}
	close(stop)
	wg.Wait()
	if n := failures.Load(); n > 0 {
		t.Errorf("%d of %d calls failed while the module was reloaded", n, calls.Load())
	}
	if c, ok := cat.Lookup("Get-Widget"); !ok || c == nil {
		t.Error("Get-Widget is gone after the reloads")
	}
	t.Logf("%d calls during 21 reloads", calls.Load())
}

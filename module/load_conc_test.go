package module

import (
	"fmt"
	"net"
	"net/http"
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

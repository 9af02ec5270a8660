package admission

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// burst runs the requests at once and returns how many were admitted and
// the codes of the refusals.
func burst(a *Admitter, reqs []psgate.ShellRequest, releaseEvery int) (int, map[psgate.Code]int) {
	ctx := context.Background()
	var mu sync.Mutex
	admitted, codes := 0, map[psgate.Code]int{}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, req := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, _, err := a.Admit(ctx, req)
			if err == nil && releaseEvery > 0 && i%releaseEvery == 0 {
				a.Release(ctx, req.ShellID, psgate.CloseReason{Cause: psgate.CloseClient})
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				codes[codeOf(err)]++
				return
			}
			admitted++
		}()
	}
	close(start)
	wg.Wait()
	return admitted, codes
}

func TestConcurrentAdmitsOneUserAdmitsExactlyThree(t *testing.T) {
	e := newEnv(t)
	a := e.admitter(t)
	u := e.addUser(t, e.tenant, "eager", store.RoleTenantAdministrator)
	reqs := make([]psgate.ShellRequest, 200)
	for i := range reqs {
		reqs[i] = e.request(e.tenant, u, shellID(i))
		if i%2 == 1 {
			reqs[i].Kind = store.KindPSRP
		}
	}
	admitted, codes := burst(a, reqs, 0)
	if admitted != 3 {
		t.Errorf("admitted %d of 200, want 3", admitted)
	}
	if codes[psgate.CodeUserQuotaExceeded] != 197 {
		t.Errorf("refusals = %v, want 197 × %s", codes, psgate.CodeUserQuotaExceeded)
	}
	if n := e.liveCount(t, e.tenant.ID, u.ID); n != 3 {
		t.Errorf("store holds %d leases, want 3", n)
	}
	if n := len(e.audits(t, e.tenant.ID, store.ActionSessionOpen)); n != 3 {
		t.Errorf("%d session.open records, want 3", n)
	}
	if n := len(e.audits(t, e.tenant.ID, store.ActionSessionRefused)); n != 197 {
		t.Errorf("%d session.refused records, want 197", n)
	}
}

func TestConcurrentAdmitsOneTenantAdmitsExactlyTwenty(t *testing.T) {
	e := newEnv(t)
	a := e.admitter(t)
	var reqs []psgate.ShellRequest
	for u := range 100 {
		user := e.addUser(t, e.tenant, fmt.Sprintf("user%03d", u), store.RoleTenantReader)
		for k := range 5 {
			reqs = append(reqs, e.request(e.tenant, user, shellID(u*5+k)))
		}
	}
	admitted, codes := burst(a, reqs, 0)
	if admitted != 20 {
		t.Errorf("admitted %d of 500, want 20", admitted)
	}
	if got := codes[psgate.CodeTenantQuotaExceeded] + codes[psgate.CodeUserQuotaExceeded]; got != 480 || len(codes) > 2 {
		t.Errorf("refusals = %v, want 480 quota refusals", codes)
	}
	if n := e.liveCount(t, e.tenant.ID, 0); n != 20 {
		t.Errorf("store holds %d leases, want 20", n)
	}
}

// 1,000 concurrent attempts over several tenants, some releasing at once:
// no store error reaches a caller.
func TestThousandConcurrentAdmitsNoBusyErrors(t *testing.T) {
	e := newEnv(t)
	a := e.admitter(t)
	var reqs []psgate.ShellRequest
	for tn := range 5 {
		tenant := e.tenant
		if tn > 0 {
			tenant = e.addTenant(t, fmt.Sprintf("tenant%d", tn), store.DefaultPolicy())
		}
		for u := range 40 {
			user := e.addUser(t, tenant, fmt.Sprintf("u%02d", u), store.RoleTenantAdministrator)
			for k := range 5 {
				reqs = append(reqs, e.request(tenant, user, fmt.Sprintf("T%d-U%02d-%d", tn, u, k)))
			}
		}
	}
	admitted, codes := burst(a, reqs, 7)
	if codes[psgate.CodeStoreDown] != 0 || codes[psgate.CodeInternal] != 0 {
		t.Errorf("refusals = %v: store errors reached callers", codes)
	}
	for code := range codes {
		if code != psgate.CodeTenantQuotaExceeded && code != psgate.CodeUserQuotaExceeded {
			t.Errorf("unexpected refusal code %q (%d)", code, codes[code])
		}
	}
	if admitted < 100 {
		t.Errorf("admitted %d, want at least 20 per tenant", admitted)
	}
	t.Logf("admitted %d, refused %v", admitted, codes)
}

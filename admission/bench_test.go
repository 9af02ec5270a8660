package admission

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// BenchmarkAdmit measures one admission on SQLite: tenant policy, roles
// and RBAC compilation, the creation-rate count, the atomic lease acquire
// and the audit write. Each iteration also releases the shell (audited),
// outside the measured latency. It reports the Admit latency's p50 and p99
// (the target: p50 ≤ 1 ms).
func BenchmarkAdmit(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b)
	a := e.admitter(b)
	users := make([]store.User, 50)
	for i := range users {
		users[i] = e.addUser(b, e.tenant, fmt.Sprintf("bench%02d", i), store.RoleTenantAdministrator, store.RoleHelpdesk)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// 100 ms of fake time per admission: each user creates a shell
		// every 5 s, under the default 30 per minute.
		e.clock.Advance(100 * time.Millisecond)
		if i%50 == 0 {
			a.Tick(ctx, e.clock.Now(), held(a, e.clock.Now()))
		}
		req := e.request(e.tenant, users[i%len(users)], shellID(i))
		start := time.Now()
		_, _, err := a.Admit(ctx, req)
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatalf("Admit(%d) error = %v", i, err)
		}
		a.Release(ctx, req.ShellID, psgate.CloseReason{Cause: psgate.CloseClient})
	}
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
}

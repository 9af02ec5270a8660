package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// Clock is the suite's fake clock. It starts at the real time (whole
// milliseconds) and moves only when advanced.
type Clock struct {
	mu    sync.Mutex
	start time.Time
	now   time.Time
}

// NewClock returns a clock set to the current time.
func NewClock() *Clock {
	now := time.Now().Truncate(time.Millisecond)
	return &Clock{start: now, now: now}
}

// Now returns the clock's time. Pass it as the store's Options.Now.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Offset returns how far the clock has been advanced. A store that reads a
// database clock adds it to that clock, so that tests can expire leases
// without sleeping.
func (c *Clock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now.Sub(c.start)
}

// Opener returns a new, empty, migrated store for one test. The store's
// clock must follow c: its Now (SQLite) or database clock plus c.Offset()
// (PostgreSQL). The opener registers the store's Close with t.Cleanup.
type Opener func(t *testing.T, c *Clock) store.Store

// Run runs the whole suite against the implementation that open returns.
func Run(t *testing.T, open Opener) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Tenants", tenantTests},
		{"Users", userTests},
		{"Roles", roleTests},
		{"Leases", leaseTests},
		{"Nodes", nodeTests},
		{"Audit", auditTests},
		{"Identity", identityTests},
		{"Generation", generationTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tt := range g.tests {
				t.Run(tt.name, func(t *testing.T) {
					c := NewClock()
					tt.fn(t, &env{s: open(t, c), clock: c, ctx: t.Context()})
				})
			}
		})
	}
}

type test struct {
	name string
	fn   func(t *testing.T, e *env)
}

// env is one test's store and clock with helpers.
type env struct {
	s     store.Store
	clock *Clock
	ctx   context.Context
}

func (e *env) tenant(t *testing.T, name string) store.Tenant {
	t.Helper()
	tn, err := e.s.CreateTenant(e.ctx, store.Tenant{Name: name, Domain: name + ".test", DisplayName: name, Policy: store.DefaultPolicy()})
	if err != nil {
		t.Fatalf("CreateTenant(%s) error = %v", name, err)
	}
	return tn
}

func (e *env) user(t *testing.T, tenantID psgate.TenantID, upn string) store.User {
	t.Helper()
	u, err := e.s.CreateUser(e.ctx, store.User{TenantID: tenantID, UPN: upn, DisplayName: upn, Enabled: true})
	if err != nil {
		t.Fatalf("CreateUser(%s) error = %v", upn, err)
	}
	return u
}

func (e *env) role(t *testing.T, tenantID psgate.TenantID, name string) store.Role {
	t.Helper()
	r, err := e.s.RoleByName(e.ctx, tenantID, name)
	if err != nil {
		t.Fatalf("RoleByName(%s) error = %v", name, err)
	}
	return r
}

// wantErr fails unless errors.Is(err, want); want nil means no error.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Fatalf("%s error = %v, want %v", what, err, want)
	}
}

// quotaErr returns err as a *store.QuotaError or fails.
func quotaErr(t *testing.T, err error) *store.QuotaError {
	t.Helper()
	var qe *store.QuotaError
	if !errors.As(err, &qe) {
		t.Fatalf("error = %v, want *store.QuotaError", err)
	}
	return qe
}

// shellID returns a distinct shell ID for test n.
func shellID(n int) string {
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
}

// diff compares records, treating nil and empty slices and maps alike.
func diff(got, want any) string {
	return cmp.Diff(got, want, cmpopts.EquateEmpty())
}

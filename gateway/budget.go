package gateway

import (
	"errors"
	"fmt"
	"sync"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/psrp"
)

// PartialBudget bounds the memory the gateway holds for PowerShell remoting
// data a client sent and the server has not processed yet: messages whose
// start fragments arrived but not their end, and PIPELINE_INPUT waiting
// for its pipeline. Without it, one signed-in user with a few shells could
// hold gigabytes by starting messages and never finishing them. A zero
// field means its default.
type PartialBudget struct {
	// Shell bounds one shell (its runspace pool and all its pipelines).
	// Zero means 64 MiB.
	Shell int64
	// User bounds all the shells of one user. Zero means 128 MiB.
	User int64
	// Tenant bounds all the shells of one tenant. Zero means 512 MiB.
	Tenant int64
	// Process bounds the whole gateway. Zero means 1 GiB.
	Process int64
}

// Default partial-data budgets.
const (
	DefaultPartialShell   = 64 << 20
	DefaultPartialUser    = 128 << 20
	DefaultPartialTenant  = 512 << 20
	DefaultPartialProcess = 1 << 30
)

func (b PartialBudget) withDefaults() PartialBudget {
	def := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&b.Shell, DefaultPartialShell)
	def(&b.User, DefaultPartialUser)
	def(&b.Tenant, DefaultPartialTenant)
	def(&b.Process, DefaultPartialProcess)
	return b
}

func (b PartialBudget) validate() error {
	if b.Shell < 0 || b.User < 0 || b.Tenant < 0 || b.Process < 0 {
		return fmt.Errorf("gateway: PartialBudget %+v: budgets cannot be negative (zero means the default)", b)
	}
	return nil
}

// PartialUsage is a snapshot of the accountant: what is held now, the most
// ever held, and how often a budget refused bytes.
type PartialUsage struct {
	// Bytes is held now by the whole gateway.
	Bytes int64
	// Peak is the most Bytes ever was.
	Peak int64
	// Shells counts the shells holding bytes now.
	Shells int
	// Tenants and Users hold the bytes per tenant and per user (only
	// those holding some).
	Tenants map[psgate.TenantID]int64
	Users   map[UserRef]int64
	// Refused counts refusals per budget ("shell", "user", "tenant",
	// "process").
	Refused map[string]int64
}

// UserRef names a user of a tenant.
type UserRef struct {
	TenantID psgate.TenantID
	UserID   psgate.UserID
}

// accountant is the gateway's one ledger of partial data, shared by every
// shell: each shell charges its own account, and every charge is checked
// against the shell's, its user's, its tenant's and the process's budget
// at once.
type accountant struct {
	lim PartialBudget

	mu      sync.Mutex
	bytes   int64
	peak    int64
	tenants map[psgate.TenantID]int64
	users   map[UserRef]int64
	accts   map[*account]struct{} // accounts holding bytes
	refused map[string]int64
}

func newAccountant(lim PartialBudget) *accountant {
	return &accountant{
		lim:     lim,
		tenants: make(map[psgate.TenantID]int64),
		users:   make(map[UserRef]int64),
		accts:   make(map[*account]struct{}),
		refused: make(map[string]int64),
	}
}

// open returns the account of shell s. The shell must close it when it
// closes: close returns whatever it still holds.
func (a *accountant) open(s *shell) *account {
	return &account{a: a, shellID: s.id, user: UserRef{s.owner.TenantID, s.owner.UserID}}
}

func (a *accountant) usage() PartialUsage {
	a.mu.Lock()
	defer a.mu.Unlock()
	u := PartialUsage{
		Bytes: a.bytes, Peak: a.peak, Shells: len(a.accts),
		Tenants: make(map[psgate.TenantID]int64, len(a.tenants)),
		Users:   make(map[UserRef]int64, len(a.users)),
		Refused: make(map[string]int64, len(a.refused)),
	}
	for k, v := range a.tenants {
		u.Tenants[k] = v
	}
	for k, v := range a.users {
		u.Users[k] = v
	}
	for k, v := range a.refused {
		u.Refused[k] = v
	}
	return u
}

// account is one shell's share of the ledger; it implements psrp.Budget
// for the shell's reassemblers and pipeline inputs. A nil account charges
// nothing.
type account struct {
	a       *accountant
	shellID string
	user    UserRef
	// held and closed are guarded by a.mu.
	held   int64
	closed bool
}

var _ psrp.Budget = (*account)(nil)

// Reserve charges n bytes to the shell, its user, its tenant and the
// process, or refuses them (charging nothing) with the catalog error of
// the first budget they would pass.
func (c *account) Reserve(n int) error {
	if n <= 0 || c == nil {
		return nil
	}
	a := c.a
	a.mu.Lock()
	defer a.mu.Unlock()
	if c.closed {
		// The shell is closing: the request fails as any request
		// racing the close does.
		return psgate.E(psgate.CodeShellNotFound, psgate.Args{"shell": c.shellID})
	}
	m := int64(n)
	checks := []struct {
		budget, scope string
		held, limit   int64
	}{
		{"per-shell", "this shell", c.held, a.lim.Shell},
		{"per-user", "your shells", a.users[c.user], a.lim.User},
		{"per-tenant", "the shells of your tenant", a.tenants[c.user.TenantID], a.lim.Tenant},
		{"per-process", "all the shells of this server", a.bytes, a.lim.Process},
	}
	for _, ck := range checks {
		if ck.held+m > ck.limit {
			a.refused[ck.budget[len("per-"):]]++
			return psgate.E(psgate.CodePartialBudget, psgate.Args{
				"budget": ck.budget, "scope": ck.scope, "limit": formatBytes(ck.limit), "shell": c.shellID})
		}
	}
	if c.held == 0 {
		a.accts[c] = struct{}{}
	}
	c.held += m
	a.users[c.user] += m
	a.tenants[c.user.TenantID] += m
	a.bytes += m
	a.peak = max(a.peak, a.bytes)
	return nil
}

// Release returns n bytes charged earlier. After close it does nothing:
// close already returned everything.
func (c *account) Release(n int) {
	if n <= 0 || c == nil {
		return
	}
	a := c.a
	a.mu.Lock()
	defer a.mu.Unlock()
	if c.closed {
		return
	}
	c.releaseLocked(min(int64(n), c.held))
}

// close returns everything the shell still holds and refuses further
// charges, so that nothing leaks whatever the order in which the shell's
// parts are torn down.
func (c *account) close() {
	if c == nil {
		return
	}
	a := c.a
	a.mu.Lock()
	defer a.mu.Unlock()
	if c.closed {
		return
	}
	c.releaseLocked(c.held)
	c.closed = true
}

func (c *account) releaseLocked(m int64) {
	a := c.a
	c.held -= m
	a.bytes -= m
	if a.users[c.user] -= m; a.users[c.user] <= 0 {
		delete(a.users, c.user)
	}
	if a.tenants[c.user.TenantID] -= m; a.tenants[c.user.TenantID] <= 0 {
		delete(a.tenants, c.user.TenantID)
	}
	if c.held == 0 {
		delete(a.accts, c)
	}
}

// formatBytes renders a budget for users: whole MiB or GiB when exact.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// PartialUsage reports the partial data the gateway holds now (see
// PartialBudget), for tests and metrics.
func (g *Gateway) PartialUsage() PartialUsage { return g.partial.usage() }

// fragmentError maps a reassembly error to its catalog error: a budget's
// refusal keeps its own code, anything else is a broken fragment stream.
// Both close the shell.
func fragmentError(err error) error {
	if errors.Is(err, psrp.ErrOverBudget) {
		if e, ok := psgate.AsError(err); ok {
			return e
		}
	}
	return psgate.Wrap(psgate.CodeBadFragment, psgate.Args{"detail": err.Error()}, err)
}

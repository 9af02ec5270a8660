package store

import (
	"context"
	"time"

	"github.com/psgate/psgate"
)

// Tenant is one customer organisation.
type Tenant struct {
	ID psgate.TenantID
	// Name is the short name, e.g. "contoso". Stored lower-case; unique
	// together with Domain (a name may not equal another tenant's domain).
	Name string
	// Domain is the tenant's DNS domain, e.g. "contoso.test". Stored
	// lower-case.
	Domain      string
	DisplayName string
	Policy      Policy
	CreatedAt   time.Time
}

// Policy is the tenant-wide remote PowerShell policy.
type Policy struct {
	// EnableRemotePowerShellAccess allows the tenant's users to open
	// shells at all.
	EnableRemotePowerShellAccess bool
	// MaxShellsPerUser is the default per-user shell limit; a user's
	// User.MaxShells overrides it when non-zero.
	MaxShellsPerUser int
	// MaxShellsPerTenant limits the open and disconnected shells of the
	// whole tenant.
	MaxShellsPerTenant int
	// SessionLifetime closes a shell this long after it was opened.
	SessionLifetime time.Duration
	// IdleTimeout closes a shell that saw no request for this long.
	IdleTimeout time.Duration
	// MaxShellCreationsPerMinute limits how many shells one user may
	// create per minute.
	MaxShellCreationsPerMinute int
	// AllowPasswordAuthentication permits the password grant for the
	// tenant's users.
	AllowPasswordAuthentication bool
}

// DefaultPolicy returns the policy of a new tenant.
func DefaultPolicy() Policy {
	return Policy{
		EnableRemotePowerShellAccess: true,
		MaxShellsPerUser:             3,
		MaxShellsPerTenant:           20,
		SessionLifetime:              60 * time.Minute,
		IdleTimeout:                  15 * time.Minute,
		MaxShellCreationsPerMinute:   30,
		AllowPasswordAuthentication:  false,
	}
}

// FirstAdmin is an administrator created with a tenant. User.TenantID is
// set by CreateTenant.
type FirstAdmin struct {
	User       User
	AssignedBy string
}

// Tenants stores tenants and their policies.
type Tenants interface {
	// CreateTenant stores t and returns it with ID and CreatedAt set (a
	// zero CreatedAt is taken from the store clock), with its first
	// administrators, each a user of t holding the built-in Tenant
	// Administrator role: all in one transaction, or nothing. It returns
	// ErrInvalid without a name or domain (or an administrator without
	// UPN) and ErrConflict when the name or domain, or an administrator's
	// UPN, is taken.
	CreateTenant(ctx context.Context, t Tenant, admins ...FirstAdmin) (Tenant, error)
	// Tenant returns the tenant with the given ID or ErrNotFound.
	Tenant(ctx context.Context, id psgate.TenantID) (Tenant, error)
	// TenantByName finds a tenant by name or domain, case-insensitively,
	// or returns ErrNotFound.
	TenantByName(ctx context.Context, nameOrDomain string) (Tenant, error)
	// ListTenants returns all tenants ordered by ID.
	ListTenants(ctx context.Context) ([]Tenant, error)
	// UpdatePolicy replaces the tenant's policy; ErrNotFound if absent.
	UpdatePolicy(ctx context.Context, id psgate.TenantID, p Policy) error
	// DeleteTenant removes the tenant with its users, roles, assignments,
	// leases and identity material (audit records are kept).
	DeleteTenant(ctx context.Context, id psgate.TenantID) error
}

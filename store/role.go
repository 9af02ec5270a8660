package store

import (
	"context"
	"time"

	"github.com/psgate/psgate"
)

// Names of the built-in roles seeded by the first migration. Built-in
// roles have TenantID 0 and are visible to every tenant:
//
//   - Tenant Administrator: every cmdlet ("*").
//   - Tenant Reader: "Get-*" and "Search-*".
//   - Helpdesk: Get-CsOnlineUser; Set-CsUser limited to the parameters
//     Identity, EnterpriseVoiceEnabled and LineURI; Get-CsOnlineSession;
//     Remove-CsOnlineSession. Enough to look a user up, fix their voice
//     settings and end a stuck session, nothing tenant-wide.
const (
	RoleTenantAdministrator = "Tenant Administrator"
	RoleTenantReader        = "Tenant Reader"
	RoleHelpdesk            = "Helpdesk"
)

// Role is a named set of RBAC entries. Evaluating them is not the store's
// job; the store only keeps them.
type Role struct {
	ID int64
	// TenantID is 0 for a built-in role, visible to all tenants.
	TenantID    psgate.TenantID
	Name        string
	Description string
	BuiltIn     bool
	Entries     []RoleEntry
}

// RoleEntry allows (or with Deny, forbids) one cmdlet or cmdlet pattern.
type RoleEntry struct {
	// Cmdlet is a cmdlet name or a wildcard pattern such as "Get-*".
	Cmdlet string
	// Parameters lists the parameter names allowed; nil or empty allows
	// all, and "*" is allowed as an element.
	Parameters []string
	// AllowedValues optionally restricts the values of a parameter.
	AllowedValues map[string][]string
	Deny          bool
}

// Assignment grants a role to a user of a tenant.
type Assignment struct {
	TenantID   psgate.TenantID
	UserID     psgate.UserID
	RoleID     int64
	AssignedAt time.Time
	// AssignedBy names who made the assignment (a UPN or "bootstrap").
	AssignedBy string
}

// Roles stores roles and their assignments.
type Roles interface {
	// ListRoles returns the built-in roles and the tenant's own, ordered
	// by ID.
	ListRoles(ctx context.Context, tenantID psgate.TenantID) ([]Role, error)
	// RoleByName finds a built-in or tenant role by name,
	// case-insensitively, or returns ErrNotFound.
	RoleByName(ctx context.Context, tenantID psgate.TenantID, name string) (Role, error)
	// CreateRole stores a tenant role (r.TenantID must be set; BuiltIn is
	// ignored). ErrConflict when the name is taken by the tenant or by a
	// built-in role.
	CreateRole(ctx context.Context, r Role) (Role, error)
	// DeleteRole removes a tenant role and its assignments. Built-in roles
	// cannot be deleted (ErrConflict); another tenant's role is
	// ErrNotFound.
	DeleteRole(ctx context.Context, tenantID psgate.TenantID, roleID int64) error
	// Assign grants a role. ErrNotFound when the user is not the tenant's
	// or the role is not visible to it; ErrConflict when already assigned.
	// A zero AssignedAt is taken from the store clock.
	Assign(ctx context.Context, a Assignment) error
	// Revoke removes an assignment. It returns ErrLastAdmin, atomically,
	// when it would leave the tenant without a Tenant Administrator, and
	// ErrNotFound when there is no such assignment.
	Revoke(ctx context.Context, tenantID psgate.TenantID, userID psgate.UserID, roleID int64) error
	// RolesOf returns the roles assigned to the user, with entries.
	RolesOf(ctx context.Context, tenantID psgate.TenantID, userID psgate.UserID) ([]Role, error)
	// Assignments lists the tenant's assignments ordered by user and role.
	Assignments(ctx context.Context, tenantID psgate.TenantID) ([]Assignment, error)
}

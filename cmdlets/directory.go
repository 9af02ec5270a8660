package cmdlets

import (
	"context"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// Directory is what the cmdlets read and write in the store. *sqlite.DB
// and the PostgreSQL store implement it.
type Directory interface {
	// Tenant returns the tenant with the given ID or store.ErrNotFound.
	Tenant(ctx context.Context, id psgate.TenantID) (store.Tenant, error)
	// ListUsers returns the tenant's users matching f, ordered by ID.
	ListUsers(ctx context.Context, tenantID psgate.TenantID, f store.UserFilter) ([]store.User, error)
	// User returns the user with the given ID or store.ErrNotFound.
	User(ctx context.Context, id psgate.UserID) (store.User, error)
	// UpdateUser replaces the profile fields of u.ID (see store.Users).
	UpdateUser(ctx context.Context, u store.User) (store.User, error)

	// ListRoles returns the built-in roles and the tenant's own.
	ListRoles(ctx context.Context, tenantID psgate.TenantID) ([]store.Role, error)
	// RoleByName finds a role visible to the tenant, or store.ErrNotFound.
	RoleByName(ctx context.Context, tenantID psgate.TenantID, name string) (store.Role, error)
	// Assign grants a role (store.ErrConflict when already assigned).
	Assign(ctx context.Context, a store.Assignment) error
	// Revoke removes an assignment (store.ErrLastAdmin, store.ErrNotFound).
	Revoke(ctx context.Context, tenantID psgate.TenantID, userID psgate.UserID, roleID int64) error
	// RolesOf returns the roles assigned to the user, with entries.
	RolesOf(ctx context.Context, tenantID psgate.TenantID, userID psgate.UserID) ([]store.Role, error)
	// Assignments lists the tenant's assignments.
	Assignments(ctx context.Context, tenantID psgate.TenantID) ([]store.Assignment, error)

	// Leases returns the live leases matching f.
	Leases(ctx context.Context, f store.LeaseFilter) ([]store.Lease, error)
	// Lease returns the live lease of a shell or store.ErrNotFound.
	Lease(ctx context.Context, shellID string) (store.Lease, error)
	// ReleaseLease frees a shell's slot; nodeID "" whoever owns it.
	ReleaseLease(ctx context.Context, shellID, nodeID string) error

	// SearchAudit returns matching audit records, newest first.
	SearchAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditRecord, error)
}

// SessionCloser closes a shell hosted by this process. The gateway
// implements it; CloseSession reports whether the shell was found here
// (a shell of another node is closed by that node when its lease renewal
// fails).
type SessionCloser interface {
	CloseSession(ctx context.Context, shellID, by string) bool
}

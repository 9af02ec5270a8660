package store

import (
	"context"
	"time"

	"github.com/psgate/psgate"
)

// User is a tenant's user account.
type User struct {
	ID       psgate.UserID
	TenantID psgate.TenantID
	// ObjectID is the user's GUID; the store generates one when empty.
	ObjectID string
	// UPN is the user principal name, unique across tenants and compared
	// case-insensitively; the store keeps it lower-case.
	UPN                    string
	DisplayName            string
	SipAddress             string
	Department             string
	Title                  string
	UsageLocation          string
	LineURI                string
	EnterpriseVoiceEnabled bool
	Enabled                bool
	// PasswordHash is an opaque PHC string produced by the caller; the
	// store never hashes. Empty means no password.
	PasswordHash string
	// MaxShells overrides the tenant's Policy.MaxShellsPerUser when
	// non-zero.
	MaxShells         int
	PasswordChangedAt time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// UserFilter narrows ListUsers. Zero fields do not filter.
type UserFilter struct {
	// Identity matches a user exactly by UPN, ObjectID or SIP address
	// (with or without the "sip:" prefix), case-insensitively.
	Identity string
	// Contains matches a substring of the UPN or display name,
	// case-insensitively.
	Contains string
	// AfterID returns only users with a larger ID (paging).
	AfterID psgate.UserID
	// Limit caps the result; 0 means 1000.
	Limit int
}

// Grant is a role a new user holds from the start.
type Grant struct {
	RoleID     int64
	AssignedBy string
}

// Users stores user accounts.
type Users interface {
	// CreateUser stores u, holding the roles grants name, and returns it
	// with ID, ObjectID and times set: the user and its roles are stored
	// in one transaction, or nothing is. ErrInvalid without UPN,
	// ErrNotFound for an unknown tenant or a role that is neither
	// built-in nor the tenant's, ErrConflict when the UPN or ObjectID is
	// taken.
	CreateUser(ctx context.Context, u User, grants ...Grant) (User, error)
	// User returns the user with the given ID or ErrNotFound.
	User(ctx context.Context, id psgate.UserID) (User, error)
	// UserByUPN finds a user by UPN, case-insensitively, or returns
	// ErrNotFound.
	UserByUPN(ctx context.Context, upn string) (User, error)
	// ListUsers returns the tenant's users matching f, ordered by ID.
	ListUsers(ctx context.Context, tenantID psgate.TenantID, f UserFilter) ([]User, error)
	// UpdateUser replaces the profile fields of u.ID (UPN, names, voice
	// settings, Enabled, MaxShells) and sets UpdatedAt. TenantID,
	// ObjectID, the password and CreatedAt are kept. Returns the stored
	// user.
	UpdateUser(ctx context.Context, u User) (User, error)
	// SetPassword replaces the user's password hash.
	SetPassword(ctx context.Context, userID psgate.UserID, hash string, changedAt time.Time) error
	// DeleteUser removes the user with its assignments, leases and
	// tokens. It returns ErrLastAdmin when the user is the tenant's last
	// Tenant Administrator.
	DeleteUser(ctx context.Context, userID psgate.UserID) error
}

package store

import (
	"errors"
	"fmt"
)

// Sentinel errors. Implementations wrap them with context; test with
// errors.Is.
var (
	// ErrNotFound reports that the requested record does not exist (or, for
	// leases, is no longer live).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict reports a uniqueness violation, or a state that forbids
	// the operation (an already used refresh token, a lease held by
	// another node, a built-in role).
	ErrConflict = errors.New("store: conflict")
	// ErrInvalid reports a record that misses a required field.
	ErrInvalid = errors.New("store: invalid record")
	// ErrLastAdmin refuses to remove the last holder of the
	// "Tenant Administrator" role in a tenant.
	ErrLastAdmin = errors.New("store: last tenant administrator")
	// ErrUnavailable reports that the store cannot be reached or stayed
	// busy after retries. The caller should fail closed.
	ErrUnavailable = errors.New("store: unavailable")
)

// Quota scopes reported by QuotaError.
const (
	QuotaScopeUser   = "user"
	QuotaScopeTenant = "tenant"
)

// QuotaError refuses a lease because a shell limit is reached.
type QuotaError struct {
	// Scope is QuotaScopeUser or QuotaScopeTenant.
	Scope string
	// Limit is the limit that was reached; Count the number of live leases
	// counted against it.
	Limit, Count int
	// Holders are the live leases counted: the user's for the user scope,
	// the whole tenant's for the tenant scope. The caller decides what to
	// show to whom.
	Holders []Lease
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("store: %s shell quota reached (%d of %d)", e.Scope, e.Count, e.Limit)
}

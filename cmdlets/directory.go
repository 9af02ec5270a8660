package cmdlets

import (
	"context"

	"github.com/psgate/psgate/store"
)

// Directory is what the cmdlets read from the store. *sqlite.DB and the
// PostgreSQL store implement it.
type Directory interface {
	// Tenant returns the tenant with the given ID or store.ErrNotFound.
	Tenant(ctx context.Context, id int64) (store.Tenant, error)
	// ListUsers returns the tenant's users matching f, ordered by ID.
	ListUsers(ctx context.Context, tenantID int64, f store.UserFilter) ([]store.User, error)
}

package identity

import (
	"context"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// Directory is what authentication reads from the store.
type Directory interface {
	UserByUPN(ctx context.Context, upn string) (store.User, error)
	Tenant(ctx context.Context, id psgate.TenantID) (store.Tenant, error)
	TenantByName(ctx context.Context, nameOrDomain string) (store.Tenant, error)
}

// Lockouts counts failed sign-ins; store.Lockouts satisfies it.
type Lockouts interface {
	RecordLoginFailure(ctx context.Context, key string, now time.Time, window time.Duration, threshold int, lockFor time.Duration) (store.LoginFailure, error)
	ClearLoginFailures(ctx context.Context, key string) error
	LoginLocksUntil(ctx context.Context, now time.Time, keys ...string) ([]time.Time, error)
	PurgeLoginFailures(ctx context.Context, before time.Time) (int64, error)
}

// Store is what the token service reads and writes. The SQLite and
// PostgreSQL stores satisfy it.
type Store interface {
	Directory
	Lockouts
	User(ctx context.Context, id psgate.UserID) (store.User, error)
	ListTenants(ctx context.Context) ([]store.Tenant, error)

	SigningKeys(ctx context.Context) ([]store.SigningKey, error)
	AddSigningKey(ctx context.Context, k store.SigningKey) error
	RetireSigningKey(ctx context.Context, kid string, at time.Time) error

	SaveRefreshToken(ctx context.Context, t store.RefreshToken) error
	UseRefreshToken(ctx context.Context, id string, now time.Time) (store.RefreshToken, error)
	RevokeRefreshFamily(ctx context.Context, familyID string) error
	PurgeRefreshTokens(ctx context.Context, before time.Time) (int, error)

	OAuthClient(ctx context.Context, clientID string) (store.OAuthClient, error)
	Federation(ctx context.Context, tenantID psgate.TenantID) (store.Federation, error)
}

package store

import (
	"context"
	"time"

	"github.com/psgate/psgate"
)

// SigningKey is a token signing key of the token service.
type SigningKey struct {
	KID string
	// Alg is the JOSE algorithm, e.g. "ES256".
	Alg string
	// PrivatePEM is the PEM-encoded private key.
	PrivatePEM []byte
	CreatedAt  time.Time
	// NotBefore is when the key starts signing; RetireAt (zero: never)
	// when it stops. Verification may continue past RetireAt; that is the
	// token service's decision.
	NotBefore time.Time
	RetireAt  time.Time
}

// RefreshToken is the stored half of an OAuth refresh token. The token
// itself is never stored, only a hash of it (ID).
type RefreshToken struct {
	// ID is the hash of the token.
	ID string
	// FamilyID groups the tokens rotated from one grant; reuse of a used
	// token revokes the whole family.
	FamilyID  string
	TenantID  psgate.TenantID
	UserID    psgate.UserID
	ClientID  string
	Scope     string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt and RevokedAt are zero while unused and not revoked.
	UsedAt    time.Time
	RevokedAt time.Time
}

// OAuthClient is a registered application.
type OAuthClient struct {
	ClientID string
	TenantID psgate.TenantID
	Name     string
	// SecretHash is an opaque PHC string, empty for certificate clients.
	SecretHash string
	// CertificatePEM authenticates private_key_jwt clients.
	CertificatePEM []byte
	// UserID is the application's service principal user, or 0.
	UserID    psgate.UserID
	CreatedAt time.Time
}

// LoginFailure counts failed logins for one key: an account "u:<upn>" or a
// client address "a:<ip>".
type LoginFailure struct {
	Key      string
	Failures int
	FirstAt  time.Time
	// LockedUntil is zero when the key is not locked.
	LockedUntil time.Time
}

// Federation trusts an external identity provider for a tenant.
type Federation struct {
	TenantID psgate.TenantID
	Issuer   string
	Audience string
	// UserClaim names the token claim that holds the user's UPN.
	UserClaim string
	Enabled   bool
}

// Keys stores signing keys.
type Keys interface {
	// SigningKeys returns all keys, oldest first.
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	// AddSigningKey stores a key; ErrConflict when the KID exists. A zero
	// CreatedAt is the store clock.
	AddSigningKey(ctx context.Context, k SigningKey) error
	// RetireSigningKey sets the key's RetireAt.
	RetireSigningKey(ctx context.Context, kid string, at time.Time) error
}

// RefreshTokens stores refresh tokens for rotation with reuse detection.
type RefreshTokens interface {
	// SaveRefreshToken stores a new token; ErrConflict when the ID exists.
	SaveRefreshToken(ctx context.Context, t RefreshToken) error
	// UseRefreshToken atomically marks the token used at now and returns
	// it. A token already used or revoked is returned with ErrConflict
	// (reuse: revoke its family); an unknown or expired one is
	// ErrNotFound.
	UseRefreshToken(ctx context.Context, id string, now time.Time) (RefreshToken, error)
	// RevokeRefreshFamily revokes every token of the family.
	RevokeRefreshFamily(ctx context.Context, familyID string) error
	// RevokeUserTokens revokes every token of the user.
	RevokeUserTokens(ctx context.Context, userID psgate.UserID) error
	// PurgeRefreshTokens deletes tokens that expired before the given time
	// and returns how many.
	PurgeRefreshTokens(ctx context.Context, before time.Time) (int, error)
}

// OAuthClients stores registered applications.
type OAuthClients interface {
	// CreateOAuthClient stores c; ErrConflict when the ClientID exists,
	// ErrNotFound for an unknown tenant or user.
	CreateOAuthClient(ctx context.Context, c OAuthClient) (OAuthClient, error)
	// OAuthClient returns the client or ErrNotFound.
	OAuthClient(ctx context.Context, clientID string) (OAuthClient, error)
	// ListOAuthClients returns the tenant's clients (tenantID 0: all)
	// ordered by ClientID.
	ListOAuthClients(ctx context.Context, tenantID psgate.TenantID) ([]OAuthClient, error)
	// DeleteOAuthClient removes the client.
	DeleteOAuthClient(ctx context.Context, clientID string) error
}

// Lockouts counts failed logins and locks keys out.
type Lockouts interface {
	// RecordLoginFailure counts a failure at now. Failures older than
	// window start a new count; reaching threshold locks the key until
	// now+lockFor and starts a new count. It returns the updated row.
	RecordLoginFailure(ctx context.Context, key string, now time.Time, window time.Duration, threshold int, lockFor time.Duration) (LoginFailure, error)
	// ClearLoginFailures forgets the key (after a successful login).
	ClearLoginFailures(ctx context.Context, key string) error
	// LoginLocksUntil returns when each key's lock ends, in one read: the
	// i-th time is the i-th key's, the zero time when it is not locked at
	// now. A sign-in needs four keys before it may hash a password.
	LoginLocksUntil(ctx context.Context, now time.Time, keys ...string) ([]time.Time, error)
	// PurgeLoginFailures deletes the rows whose lock ended and whose
	// count began before before, and returns how many. Wrong passwords
	// for made-up names must not grow the table for ever.
	PurgeLoginFailures(ctx context.Context, before time.Time) (int64, error)
}

// Federations stores per-tenant identity federation settings.
type Federations interface {
	// SetFederation creates or replaces the tenant's federation.
	SetFederation(ctx context.Context, f Federation) error
	// Federation returns the tenant's federation or ErrNotFound.
	Federation(ctx context.Context, tenantID psgate.TenantID) (Federation, error)
}

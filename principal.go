package psgate

import "time"

// AuthMethod says how a request proved its identity.
type AuthMethod string

// Authentication methods.
const (
	AuthPassword  AuthMethod = "password"  // Basic user name and password
	AuthBearer    AuthMethod = "bearer"    // an access token, in Basic or Bearer
	AuthApp       AuthMethod = "app"       // app-only (client credentials) token
	AuthFederated AuthMethod = "federated" // a token from a tenant's own OIDC provider
)

// Principal is an authenticated caller.
type Principal struct {
	TenantID TenantID
	// Tenant is the tenant's name, e.g. "contoso".
	Tenant string
	UserID UserID
	// UPN is the user principal name, lower-case.
	UPN    string
	Method AuthMethod
	// ExpiresAt is when the credential stops being valid (a token's exp);
	// zero for passwords.
	ExpiresAt time.Time
	// TokenID is the access token's jti, for audit; empty for passwords.
	TokenID string
}

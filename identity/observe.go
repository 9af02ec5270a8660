package identity

// Observer is told of the token service's and the sign-in checks' events
// as they happen, for metrics. Its methods must be cheap, must not block
// and must be safe for concurrent use. The metrics package implements it.
type Observer interface {
	// TokenIssued is called for every access token issued, with its
	// grant type: "password", "refresh_token", "client_credentials" or
	// "device_code".
	TokenIssued(grantType string)
	// Lockout is called when a failed sign-in starts a lock: scope is
	// "account", "address" (a client address blocked after failures on
	// several accounts) or "device_code" (an address blocked from
	// entering device codes).
	Lockout(scope string)
}

// Lockout scopes.
const (
	lockAccount    = "account"
	lockAddress    = "address"
	lockDeviceCode = "device_code"
)

// noObserver observes nothing.
type noObserver struct{}

func (noObserver) TokenIssued(string) {}
func (noObserver) Lockout(string)     {}

// grantLabel is a served grant type's short name.
func grantLabel(gt string) string {
	if gt == grantDeviceCode {
		return "device_code"
	}
	return gt
}

package store

// Store is the whole persistent state of psgate.
type Store interface {
	Tenants
	Users
	Roles
	Nodes
	Leases
	Audit
	Keys
	RefreshTokens
	OAuthClients
	Lockouts
	Federations
	Generations
	// Close releases the store's resources.
	Close() error
}

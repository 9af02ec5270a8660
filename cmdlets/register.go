package cmdlets

import (
	"fmt"
	"net/http"

	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/identity"
)

// Option configures Register.
type Option func(*config)

// config is what the cmdlets share besides the directory.
type config struct {
	closer SessionCloser
	// providers fetches identity providers for the provider cmdlets'
	// checks.
	providers *http.Client
}

// WithSessionCloser lets Remove-CsOnlineSession close a removed shell at
// once when it lives in this process. Without it (or with nil) the lease
// is still released and the hosting node closes the shell when it next
// renews its leases.
func WithSessionCloser(c SessionCloser) Option {
	return func(cfg *config) { cfg.closer = c }
}

// WithProviderClient sets the HTTP client the identity provider cmdlets
// check a provider with: the gateway's own (identity.FederationClient),
// so that a tenant administrator reaches no further than sign-ins do.
// Without it they use identity.FederationClient(false): public addresses
// only.
func WithProviderClient(c *http.Client) Option {
	return func(cfg *config) { cfg.providers = c }
}

// Register adds the tenant admin cmdlets to c; they read and write the
// directory through dir, always for the caller's own tenant.
func Register(c *engine.Catalog, dir Directory, opts ...Option) error {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.providers == nil {
		cfg.providers = identity.FederationClient(false)
	}
	if err := c.Register(commands(dir, cfg)...); err != nil {
		return fmt.Errorf("cmdlets: %w", err)
	}
	return nil
}

// commands returns the tenant admin cmdlets.
func commands(dir Directory, cfg config) []*engine.Command {
	return []*engine.Command{
		getCsTenant(dir),
		getCsOnlineUser(dir),
		setCsUser(dir, cfg.closer),
		getCsAdminRole(dir),
		grantCsAdminRole(dir),
		revokeCsAdminRole(dir),
		getCsTenantPowerShellPolicy(dir),
		getCsOnlineSession(dir),
		removeCsOnlineSession(dir, cfg.closer),
		searchCsAdminAuditLog(dir),
		testCsAdminPermission(dir),
		getCsTenantIdentityProvider(dir, cfg.providers),
		setCsTenantIdentityProvider(dir, cfg.providers),
		removeCsTenantIdentityProvider(dir),
	}
}

package cmdlets

import (
	"fmt"

	"github.com/psgate/psgate/engine"
)

// Option configures Register.
type Option func(*config)

// config is what the cmdlets share besides the directory.
type config struct {
	closer SessionCloser
}

// WithSessionCloser lets Remove-CsOnlineSession close a removed shell at
// once when it lives in this process. Without it (or with nil) the lease
// is still released and the hosting node closes the shell when it next
// renews its leases.
func WithSessionCloser(c SessionCloser) Option {
	return func(cfg *config) { cfg.closer = c }
}

// Register adds the tenant admin cmdlets to c; they read and write the
// directory through dir, always for the caller's own tenant.
func Register(c *engine.Catalog, dir Directory, opts ...Option) error {
	var cfg config
	for _, o := range opts {
		o(&cfg)
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
		getCsTenantIdentityProvider(dir),
		setCsTenantIdentityProvider(dir),
		removeCsTenantIdentityProvider(dir),
	}
}

package cmdlets

import (
	"fmt"

	"github.com/psgate/psgate/engine"
)

// Register adds the tenant admin cmdlets to c; they read the directory
// through dir, always for the caller's own tenant.
func Register(c *engine.Catalog, dir Directory) error {
	if err := c.Register(commands(dir)...); err != nil {
		return fmt.Errorf("cmdlets: %w", err)
	}
	return nil
}

// commands returns the tenant admin cmdlets.
func commands(dir Directory) []*engine.Command {
	return []*engine.Command{
		getCsTenant(dir),
		getCsOnlineUser(dir),
	}
}

//go:build !connector

package main

import "github.com/spf13/cobra"

// serverCommands are the gateway and operator commands. A build with the
// tag "connector" leaves them (and the server, SQLite and PostgreSQL code)
// out: that binary is what administrators install, and it starts faster.
func serverCommands() []*cobra.Command {
	return []*cobra.Command{newServeCmd(), newTenantCmd(), newUserCmd(), newRoleCmd(), newSessionCmd(), newNodeCmd(), newAuditCmd(), newLimitsCmd(), newStoreCmd(), newConfigCmd(), newModuleCmd(), newClusterCmd()}
}

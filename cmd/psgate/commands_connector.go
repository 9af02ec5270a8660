//go:build connector

package main

import "github.com/spf13/cobra"

// serverCommands is empty in the connector-only build.
func serverCommands() []*cobra.Command { return nil }

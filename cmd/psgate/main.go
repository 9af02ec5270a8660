// Command psgate is the psgate gateway (psgate serve), its operator CLI and
// the connector administrators use to reach it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	if err := root.ExecuteContext(ctx); err != nil {
		printError(os.Stderr, err)
		os.Exit(exitCode(err))
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "psgate",
		Short:         "Remote PowerShell administration endpoint for multi-tenant online services",
		Long:          "psgate serves tenant administration cmdlets over WS-Management (WinRS and PowerShell remoting) to stock clients, and is the connector administrators use to reach it.",
		Version:       psgate.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newErrorsCmd())
	root.AddCommand(serverCommands()...)
	root.AddCommand(newRunCmd(), newConnectCmd(), newSessionsCmd(), newLoginCmd(), newLogoutCmd(), newDoctorCmd())
	return root
}

// printError prints a catalog error as `error[code]: message` and its fix,
// or any other error as it is.
func printError(w *os.File, err error) {
	if e, ok := psgate.AsError(err); ok {
		fmt.Fprintf(w, "error[%s]: %s\n", e.Code, e.Message)
		if e.Resolution != "" {
			fmt.Fprintf(w, "fix: %s\n", e.Resolution)
		}
		return
	}
	fmt.Fprintf(w, "error: %v\n", err)
}

// Exit codes distinguish the failing area, so scripts can react.
const (
	exitOK         = 0
	exitCommand    = 1 // a command ran and failed
	exitUsage      = 2
	exitAuth       = 3
	exitConnection = 4
	exitAdmission  = 5
	exitInternal   = 6
)

func exitCode(err error) int {
	e, ok := psgate.AsError(err)
	if !ok {
		return exitUsage
	}
	switch e.Code.Area() {
	case "engine":
		return exitCommand
	case "identity":
		return exitAuth
	case "client", "wsman", "psrp", "session":
		return exitConnection
	case "admission":
		return exitAdmission
	}
	return exitInternal
}

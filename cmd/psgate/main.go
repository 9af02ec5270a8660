// Command psgate is the psgate gateway (psgate serve), its operator CLI and
// the connector administrators use to reach it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
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
	root.AddCommand(newRunCmd(), newConnectCmd(), newSessionsCmd(), newLoginCmd(), newLogoutCmd(), newDoctorCmd(), newTokenCmd())
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{cmd: c.CommandPath(), msg: err.Error()}
	})
	root.SetHelpCommand(newHelpCmd())
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	strictArgs(root)
	return root
}

// newHelpCmd is `psgate help [command]`; unlike cobra's, it refuses a
// command that does not exist instead of printing the root help.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			target := c.Root()
			for _, name := range args {
				next := findSub(target, name)
				if next == nil {
					return unknownCommand(target, name)
				}
				target = next
			}
			return target.Help()
		},
	}
}

// findSub is c's subcommand called name or one of its aliases.
func findSub(c *cobra.Command, name string) *cobra.Command {
	for _, sub := range c.Commands() {
		if sub.Name() == name || sub.HasAlias(name) {
			return sub
		}
	}
	return nil
}

// usageError is a mistake in the command line: an unknown command, a
// stray argument, a bad flag. It exits with exitUsage.
type usageError struct {
	cmd string // the command whose help explains the usage
	msg string
}

func (e *usageError) Error() string { return e.msg }

// strictArgs makes every command refuse what it does not understand, so
// that no mistake succeeds silently: cobra prints help and exits 0 for an
// unknown subcommand of a command group, and lets a command without an
// Args validator take any argument. A group (a command with subcommands
// and nothing to run) prints its help when called alone and refuses
// anything else as an unknown command, suggesting the closest ones; a
// command that declares no Args takes none.
func strictArgs(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		strictArgs(c)
	}
	cmd.SuggestionsMinimumDistance = 2
	if len(cmd.SuggestFor) == 0 {
		cmd.SuggestFor = verbSynonyms[cmd.Name()]
	}
	if cmd.HasSubCommands() && !cmd.Runnable() {
		cmd.Args = cobra.NoArgs
		cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	}
	if cmd.Args == nil {
		cmd.Args = cobra.NoArgs
	}
	validate := cmd.Args
	cmd.Args = func(c *cobra.Command, args []string) error {
		err := validate(c, args)
		if err == nil {
			return nil
		}
		if c.HasAvailableSubCommands() && len(args) > 0 {
			return unknownCommand(c, args[0])
		}
		return &usageError{cmd: c.CommandPath(), msg: fmt.Sprintf("%s: %s", c.CommandPath(), argsProblem(c, args, err))}
	}
}

// verbSynonyms are words users type for a command's verb, suggested as
// that verb when the command has no subcommand by that name.
var verbSynonyms = map[string][]string{
	"list":       {"ls", "get"},
	"close":      {"rm", "delete", "kill", "end", "stop"},
	"delete":     {"remove", "rm", "del", "destroy"},
	"add":        {"create", "new"},
	"create":     {"add", "new"},
	"assign":     {"grant", "add"},
	"revoke":     {"remove", "unassign"},
	"search":     {"find", "query", "list", "ls", "show"},
	"set-policy": {"set", "policy", "update"},
	"show":       {"get", "describe"},
	"passwd":     {"password", "reset-password"},
}

// argsProblem says in words what is wrong with args.
func argsProblem(c *cobra.Command, args []string, err error) string {
	// cobra.NoArgs says "unknown command"; for a command without
	// subcommands the argument is simply not expected.
	if strings.HasPrefix(err.Error(), "unknown command") {
		return fmt.Sprintf("unexpected argument %q: %s takes no arguments, only flags", args[0], c.Name())
	}
	got := "none"
	if len(args) > 0 {
		q := make([]string, len(args))
		for i, a := range args {
			q[i] = fmt.Sprintf("%q", a)
		}
		got = strings.Join(q, " ")
	}
	return fmt.Sprintf("%s (got %s); usage: %s", err, got, c.UseLine())
}

// unknownCommand is the error for a subcommand c does not have, naming
// the closest ones (by prefix, edit distance or a known synonym) or else
// all of them.
func unknownCommand(c *cobra.Command, typed string) error {
	msg := fmt.Sprintf("unknown command %q for %q", typed, c.CommandPath())
	if s := c.SuggestionsFor(typed); len(s) > 0 {
		msg += "; did you mean " + quoteList(s, "or") + "?"
	} else {
		var names []string
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				names = append(names, sub.Name())
			}
		}
		msg += "; its commands are " + quoteList(names, "and")
	}
	return &usageError{cmd: c.CommandPath(), msg: msg}
}

// quoteList writes "a", "b" or "c".
func quoteList(items []string, conj string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " " + conj + " " + q[len(q)-1]
}

// printError prints a catalog error as `error[code]: message` and its fix,
// a usage error with where to read the usage, or any other error as it is.
func printError(w io.Writer, err error) {
	if e, ok := psgate.AsError(err); ok {
		fmt.Fprintf(w, "error[%s]: %s\n", e.Code, e.Message)
		if e.Resolution != "" {
			fmt.Fprintf(w, "fix: %s\n", e.Resolution)
		}
		return
	}
	fmt.Fprintf(w, "error: %v\n", err)
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", ue.cmd)
	}
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
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	e, ok := psgate.AsError(err)
	if !ok {
		return exitUsage
	}
	switch e.Code.Area() {
	case "engine", "module":
		// A command ran and failed: in psgate's engine, or at the
		// operator's backend behind a module cmdlet.
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

package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate/client"
)

// sessionsLong says what psgate sessions is, and how it differs from the
// operator's psgate session.
const sessionsLong = `List or close your own sessions (shells) through the gateway, signed in as
yourself (psgate login, or --user with $PSGATE_PASSWORD). Each user may hold a
few open sessions at once; close the ones a crashed script left behind.

This is the connector's command: it works from any machine that reaches the
gateway and sees only your sessions. Operators on the gateway host use
"psgate session" instead, which reads the store directly and shows every
session of every tenant.`

func newSessionsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sessions",
		Short: "List or close your own sessions through the gateway (connector)",
		Long:  sessionsLong,
		Example: `  psgate sessions                   # the same as psgate sessions list
  psgate sessions list --output json
  psgate sessions close 6F0A2C1E-...
  psgate sessions close --all`,
		Args: cobra.NoArgs,
	}
	list := newSessionsListCmd()
	cmd.RunE = list.RunE
	cmd.Flags().AddFlagSet(list.Flags())
	cmd.AddCommand(list, newSessionsCloseCmd())
	return cmd
}

func newSessionsListCmd() *cobra.Command {
	var (
		remote *remoteOpts
		out    outputFlag
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List your open sessions",
		Long:  sessionsLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.check(cmd); err != nil {
				return err
			}
			cfg, err := remote.config(cmd.InOrStdin())
			if err != nil {
				return err
			}
			list, err := client.ListSessions(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if out.isJSON() {
				if list == nil {
					list = []client.SessionInfo{}
				}
				return writeJSON(w, list)
			}
			if len(list) == 0 {
				fmt.Fprintln(w, "No open sessions.")
				return nil
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATE\tOPEN FOR\tIDLE\tCLIENT")
			for _, s := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.State, s.Runtime.Round(time.Second), s.Idle.Round(time.Second), s.ClientIP)
			}
			return tw.Flush()
		},
	}
	remote = addRemoteFlags(cmd)
	addOutputFlag(cmd, false, &out)
	return cmd
}

func newSessionsCloseCmd() *cobra.Command {
	var (
		remote *remoteOpts
		all    bool
	)
	cmd := &cobra.Command{
		Use:        "close [ID...] [--all]",
		Aliases:    []string{"remove"},
		SuggestFor: []string{"rm", "delete", "kill", "end", "stop"},
		Short:      "Close your sessions by ID, or all of them",
		Long:       sessionsLong,
		Args:       cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return &usageError{cmd: cmd.CommandPath(), msg: "name the sessions to close, or pass --all"}
			}
			cfg, err := remote.config(cmd.InOrStdin())
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			ids := args
			if all {
				list, err := client.ListSessions(ctx, cfg)
				if err != nil {
					return err
				}
				for _, s := range list {
					ids = append(ids, s.ID)
				}
			}
			for _, id := range ids {
				if err := client.CloseSession(ctx, cfg, id); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "closed %s\n", id)
			}
			if all && len(ids) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "No open sessions.")
			}
			return nil
		},
	}
	remote = addRemoteFlags(cmd)
	cmd.Flags().BoolVar(&all, "all", false, "close every one of your sessions")
	return cmd
}

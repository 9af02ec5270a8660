package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate/client"
)

func newSessionsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sessions",
		Short: "List or close your own sessions on the gateway",
		Long: `List or close your own sessions (shells) on the gateway. Each user may hold a few
open sessions at once; close the ones a crashed script left behind.`,
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
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List your open sessions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := remote.config(cmd.InOrStdin())
			if err != nil {
				return err
			}
			list, err := client.ListSessions(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				b, err := json.MarshalIndent(list, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(out, string(b))
				return err
			}
			if len(list) == 0 {
				fmt.Fprintln(out, "No open sessions.")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATE\tOPEN FOR\tIDLE\tCLIENT")
			for _, s := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.State, s.Runtime.Round(time.Second), s.Idle.Round(time.Second), s.ClientIP)
			}
			return tw.Flush()
		},
	}
	remote = addRemoteFlags(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newSessionsCloseCmd() *cobra.Command {
	var (
		remote *remoteOpts
		all    bool
	)
	cmd := &cobra.Command{
		Use:   "close [ID...] [--all]",
		Short: "Close sessions by ID, or all of them",
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return errors.New("name the sessions to close, or pass --all")
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

//go:build !connector

package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate/store"
)

// sessionJSON is a live session (lease) in --output json.
type sessionJSON struct {
	ShellID    string    `json:"shellId"`
	Tenant     string    `json:"tenant"`
	User       string    `json:"user"`
	Kind       string    `json:"kind"`
	State      string    `json:"state"`
	ClientAddr string    `json:"clientAddress"`
	UserAgent  string    `json:"userAgent"`
	NodeID     string    `json:"nodeId"`
	OpenedAt   time.Time `json:"openedAt"`
	LastActive time.Time `json:"lastActive"`
	ExpiresAt  time.Time `json:"expiresAt"`
}

func newSessionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "session",
		Short: "List and end live sessions (the shells holding quota slots)",
	}
	o := addAdminFlags(cmd)
	cmd.AddCommand(newSessionListCmd(o), newSessionRemoveCmd(o))
	return cmd
}

func newSessionListCmd(o *adminOpts) *cobra.Command {
	var tenant, user string
	cmd := &cobra.Command{
		Use:   "list [--tenant TENANT] [--user UPN]",
		Short: "List live sessions, of every tenant unless filtered",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return o.withStore(ctx, false, func(st store.Store) error {
				var f store.LeaseFilter
				if tenant != "" {
					t, err := resolveTenant(ctx, st, tenant)
					if err != nil {
						return err
					}
					f.TenantID = t.ID
				}
				if user != "" {
					u, _, err := resolveUser(ctx, st, user, tenant)
					if err != nil {
						return err
					}
					f.TenantID, f.UserID = u.TenantID, u.ID
				}
				ls, err := st.Leases(ctx, f)
				if err != nil {
					return storeFailed("list sessions", err)
				}
				names := map[int64]string{}
				out := make([]sessionJSON, 0, len(ls))
				for _, l := range ls {
					name, ok := names[l.TenantID]
					if !ok {
						t, err := st.Tenant(ctx, l.TenantID)
						if err != nil {
							return storeFailed("read tenant", err)
						}
						name, names[l.TenantID] = t.Name, t.Name
					}
					last := l.LastActiveAt
					if last.IsZero() {
						last = l.OpenedAt
					}
					out = append(out, sessionJSON{
						ShellID: l.ShellID, Tenant: name, User: l.UPN, Kind: l.Kind, State: l.State,
						ClientAddr: l.ClientAddr, UserAgent: l.UserAgent, NodeID: l.NodeID,
						OpenedAt: l.OpenedAt, LastActive: last, ExpiresAt: l.ExpiresAt,
					})
				}
				return o.print(cmd.OutOrStdout(), out, func(w io.Writer) {
					tableRow(w, "SHELL ID", "TENANT", "USER", "KIND", "STATE", "CLIENT", "OPENED", "LAST ACTIVE", "EXPIRES")
					for _, s := range out {
						tableRow(w, s.ShellID, s.Tenant, s.User, s.Kind, s.State, orDash(s.ClientAddr),
							tableTime(s.OpenedAt), tableTime(s.LastActive), tableTime(s.ExpiresAt))
					}
				})
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "only this tenant's sessions (name, domain or ID)")
	cmd.Flags().StringVar(&user, "user", "", "only this user's sessions (UPN)")
	return cmd
}

func newSessionRemoveCmd(o *adminOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "remove SHELL-ID",
		Short: "End a session: free its slot at once; its gateway closes the shell",
		Long: `End a session. Its quota slot is freed at once, so the user can open a new shell
immediately; the gateway hosting the shell closes it when it next renews its
leases (within the lease renewal interval), and the client is told the session
was closed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return o.withStore(ctx, false, func(st store.Store) error {
				l, err := st.Lease(ctx, args[0])
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("no live session %q (psgate session list shows them)", args[0])
				}
				if err != nil {
					return storeFailed("read session", err)
				}
				if err := st.ReleaseLease(ctx, l.ShellID, ""); err != nil && !errors.Is(err, store.ErrNotFound) {
					return storeFailed("end session", err)
				}
				if err := auditOperator(ctx, st, l.TenantID, "session.remove", fmt.Sprintf("ended session %s of %s", l.ShellID, l.UPN)); err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), map[string]string{"shellId": l.ShellID, "user": l.UPN}, func(w io.Writer) {
					fmt.Fprintf(w, "Ended session %s of %s; its slot is free.\n", l.ShellID, l.UPN)
				})
			})
		},
	}
}

//go:build !connector

package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate"
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
	// ExpiresAt is when the gateway closes the session: at the end of its
	// lifetime or at its idle deadline, whichever comes first; EndsBy
	// says which ("lifetime" or "idle"), or is empty when the tenant sets
	// neither limit.
	ExpiresAt      time.Time `json:"expiresAt,omitzero"`
	EndsBy         string    `json:"endsBy,omitempty"`
	LifetimeEndsAt time.Time `json:"lifetimeEndsAt,omitzero"`
	IdleDeadline   time.Time `json:"idleDeadline,omitzero"`
	// LeaseRenewBy is when the quota slot is freed unless the hosting
	// gateway renews it (it does while it runs).
	LeaseRenewBy time.Time `json:"leaseRenewBy"`
}

// sessionLong says what psgate session is, and how it differs from the
// connector's psgate sessions.
const sessionLong = `List and close live sessions (the shells holding quota slots) of every tenant,
reading the gateway's store directly: run it on the gateway host (--data) or
against the shared PostgreSQL store (--store). It needs no sign-in, only access
to the store.

This is the operator's command. Administrators who want to see or close their
own sessions from their machine use "psgate sessions" instead, which goes
through the gateway with their sign-in.`

func newSessionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "session",
		Short: "List and close any tenant's live sessions from the store (operator)",
		Long:  sessionLong,
	}
	o := addAdminFlags(cmd)
	cmd.AddCommand(newSessionListCmd(o), newSessionCloseCmd(o))
	return cmd
}

func newSessionListCmd(o *adminOpts) *cobra.Command {
	var tenant, user string
	cmd := &cobra.Command{
		Use:   "list [--tenant TENANT] [--user UPN]",
		Short: "List live sessions, of every tenant unless filtered",
		Long: sessionLong + `

EXPIRES is when the gateway closes the session: the end of its lifetime
(opened + the tenant's SessionLifetime) or its idle deadline (last activity +
IdleTimeout), whichever comes first, as the tenant policy sets them now. Last
activity is reported by the gateway at each lease renewal, so it may lag by
that interval; a shell disconnected with a longer idle timeout
(Disconnect-PSSession -IdleTimeoutSec) and a sign-in token that expires sooner
can move the end.`,
		Args: cobra.NoArgs,
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
				tenants := map[psgate.TenantID]store.Tenant{}
				out := make([]sessionJSON, 0, len(ls))
				for _, l := range ls {
					t, ok := tenants[l.TenantID]
					if !ok {
						if t, err = st.Tenant(ctx, l.TenantID); err != nil {
							return storeFailed("read tenant", err)
						}
						tenants[l.TenantID] = t
					}
					out = append(out, toSessionJSON(l, t))
				}
				now := time.Now()
				return o.print(cmd.OutOrStdout(), out, func(w io.Writer) {
					tableRow(w, "SHELL ID", "TENANT", "USER", "KIND", "STATE", "CLIENT", "OPENED", "LAST ACTIVE", "IDLE", "EXPIRES")
					for _, s := range out {
						tableRow(w, s.ShellID, s.Tenant, s.User, s.Kind, s.State, orDash(s.ClientAddr),
							tableTime(s.OpenedAt), tableTime(s.LastActive), idleFor(now, s.LastActive), sessionExpiry(s))
					}
				})
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "only this tenant's sessions (name, domain or ID)")
	cmd.Flags().StringVar(&user, "user", "", "only this user's sessions (UPN)")
	return cmd
}

// toSessionJSON describes the lease l of tenant t, with the session's end
// computed as the gateway does (admission grants the tenant's
// SessionLifetime and IdleTimeout; the gateway closes the shell at the
// first one reached).
func toSessionJSON(l store.Lease, t store.Tenant) sessionJSON {
	last := l.LastActiveAt
	if last.IsZero() {
		last = l.OpenedAt
	}
	s := sessionJSON{
		ShellID: l.ShellID, Tenant: t.Name, User: l.UPN, Kind: l.Kind, State: l.State,
		ClientAddr: l.ClientAddr, UserAgent: l.UserAgent, NodeID: l.NodeID,
		OpenedAt: l.OpenedAt, LastActive: last, LeaseRenewBy: l.ExpiresAt,
	}
	if d := t.Policy.SessionLifetime; d > 0 {
		s.LifetimeEndsAt = l.OpenedAt.Add(d)
		s.ExpiresAt, s.EndsBy = s.LifetimeEndsAt, "lifetime"
	}
	if d := t.Policy.IdleTimeout; d > 0 {
		s.IdleDeadline = last.Add(d)
		if s.ExpiresAt.IsZero() || s.IdleDeadline.Before(s.ExpiresAt) {
			s.ExpiresAt, s.EndsBy = s.IdleDeadline, "idle"
		}
	}
	return s
}

// sessionExpiry is the EXPIRES cell: the time and which limit ends it.
func sessionExpiry(s sessionJSON) string {
	if s.ExpiresAt.IsZero() {
		return "-"
	}
	return tableTime(s.ExpiresAt) + " (" + s.EndsBy + ")"
}

// idleFor is the IDLE cell: how long since the last activity, to the
// second.
func idleFor(now, last time.Time) string {
	if last.IsZero() {
		return "-"
	}
	d := now.Sub(last).Round(time.Second)
	if d < 0 {
		d = 0
	}
	return d.String()
}

func newSessionCloseCmd(o *adminOpts) *cobra.Command {
	return &cobra.Command{
		Use:        "close SHELL-ID",
		Aliases:    []string{"remove"},
		SuggestFor: []string{"rm", "delete", "kill", "end", "stop"},
		Short:      "Close a session: free its slot at once; its gateway closes the shell",
		Long: `Close a session of any tenant. Its quota slot is freed at once, so the user can
open a new shell immediately; the gateway hosting the shell closes it when it
next renews its leases (within the lease renewal interval), and the client is
told the session was closed. (The old name, psgate session remove, still works.)`,
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

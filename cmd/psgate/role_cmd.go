//go:build !connector

package main

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// roleJSON is a role in --output json.
type roleJSON struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	BuiltIn     bool              `json:"builtIn"`
	Entries     []store.RoleEntry `json:"entries"`
	Members     []string          `json:"members"`
}

func newRoleCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "role",
		Short: "List roles and assign or revoke them",
	}
	o := addAdminFlags(cmd)
	cmd.AddCommand(newRoleListCmd(o), newRoleAssignCmd(o, false), newRoleAssignCmd(o, true))
	return cmd
}

func newRoleListCmd(o *adminOpts) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "list --tenant TENANT",
		Short: "List the roles of a tenant, what they allow and who holds them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return o.withTenant(ctx, tenant, func(st store.Store, t store.Tenant) error {
				roles, err := st.ListRoles(ctx, t.ID)
				if err != nil {
					return storeFailed("list roles", err)
				}
				as, err := st.Assignments(ctx, t.ID)
				if err != nil {
					return storeFailed("list role assignments", err)
				}
				members := map[int64][]string{}
				upns := map[psgate.UserID]string{}
				for _, a := range as {
					upn, ok := upns[a.UserID]
					if !ok {
						u, err := st.User(ctx, a.UserID)
						if err != nil {
							return storeFailed("read role member", err)
						}
						upn, upns[a.UserID] = u.UPN, u.UPN
					}
					members[a.RoleID] = append(members[a.RoleID], upn)
				}
				out := make([]roleJSON, 0, len(roles))
				for _, r := range roles {
					m := append([]string{}, members[r.ID]...)
					sort.Strings(m)
					entries := r.Entries
					if entries == nil {
						entries = []store.RoleEntry{}
					}
					out = append(out, roleJSON{Name: r.Name, Description: r.Description, BuiltIn: r.BuiltIn || r.TenantID == 0, Entries: entries, Members: m})
				}
				return o.print(cmd.OutOrStdout(), out, func(w io.Writer) {
					tableRow(w, "ROLE", "SCOPE", "ALLOWS", "MEMBERS")
					for _, r := range out {
						scope := "tenant"
						if r.BuiltIn {
							scope = "built-in"
						}
						tableRow(w, r.Name, scope, entrySummary(r.Entries), orDash(strings.Join(r.Members, ", ")))
					}
				})
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "the tenant (name, domain or ID; required)")
	return cmd
}

// entrySummary renders role entries on one line: "Get-*, Set-CsUser
// (Identity, LineURI), deny Remove-*".
func entrySummary(es []store.RoleEntry) string {
	parts := make([]string, 0, len(es))
	for _, e := range es {
		s := e.Cmdlet
		if e.Deny {
			s = "deny " + s
		}
		if len(e.Parameters) > 0 {
			s += " (" + strings.Join(e.Parameters, ", ") + ")"
		}
		parts = append(parts, s)
	}
	return orDash(strings.Join(parts, ", "))
}

// newRoleAssignCmd is role assign or (revoke true) role revoke.
func newRoleAssignCmd(o *adminOpts, revoke bool) *cobra.Command {
	use, short := "assign UPN ROLE", "Assign a role to a user"
	if revoke {
		use, short = "revoke UPN ROLE", "Revoke a role from a user (never the tenant's last administrator)"
	}
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Example: "  psgate role " + strings.Fields(use)[0] + " alex.wilber@contoso.test \"Tenant Reader\"",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return o.withStore(ctx, false, func(st store.Store) error {
				u, t, err := resolveUser(ctx, st, args[0], "")
				if err != nil {
					return err
				}
				r, err := findRole(ctx, st, t, args[1])
				if err != nil {
					return err
				}
				action, verb := "role.assign", "Assigned"
				if revoke {
					action, verb = "role.revoke", "Revoked"
					err = st.Revoke(ctx, t.ID, u.ID, r.ID)
					switch {
					case errors.Is(err, store.ErrLastAdmin):
						return psgate.E(psgate.CodeLastAdmin, psgate.Args{"upn": u.UPN, "tenant": t.Name})
					case errors.Is(err, store.ErrNotFound):
						return fmt.Errorf("%s does not hold the role %q", u.UPN, r.Name)
					}
				} else {
					err = st.Assign(ctx, store.Assignment{TenantID: t.ID, UserID: u.ID, RoleID: r.ID, AssignedBy: operatorName()})
					if errors.Is(err, store.ErrConflict) {
						return fmt.Errorf("%s already holds the role %q", u.UPN, r.Name)
					}
				}
				if err != nil {
					return storeFailed(action, err)
				}
				if err := auditOperator(ctx, st, t.ID, action, fmt.Sprintf("%s the role %s: %s", strings.ToLower(verb), r.Name, u.UPN)); err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), map[string]string{"upn": u.UPN, "role": r.Name, "action": strings.TrimPrefix(action, "role.")}, func(w io.Writer) {
					prep := "to"
					if revoke {
						prep = "from"
					}
					fmt.Fprintf(w, "%s the role %s %s %s. It applies from the user's next command, in open sessions too.\n", verb, r.Name, prep, u.UPN)
				})
			})
		},
	}
}

//go:build !connector

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/identity"
	"github.com/psgate/psgate/store"
)

// userJSON is a user in --output json.
type userJSON struct {
	ID                     psgate.UserID `json:"id"`
	Tenant                 string        `json:"tenant"`
	UPN                    string        `json:"upn"`
	ObjectID               string        `json:"objectId"`
	DisplayName            string        `json:"displayName"`
	Department             string        `json:"department,omitempty"`
	Title                  string        `json:"title,omitempty"`
	UsageLocation          string        `json:"usageLocation,omitempty"`
	LineURI                string        `json:"lineUri,omitempty"`
	EnterpriseVoiceEnabled bool          `json:"enterpriseVoiceEnabled"`
	Enabled                bool          `json:"enabled"`
	HasPassword            bool          `json:"hasPassword"`
	MaxShells              int           `json:"maxShells,omitempty"`
	Roles                  []string      `json:"roles"`
	CreatedAt              time.Time     `json:"createdAt"`
}

func toUserJSON(u store.User, tenant string, roles []string) userJSON {
	if roles == nil {
		roles = []string{}
	}
	return userJSON{
		ID: u.ID, Tenant: tenant, UPN: u.UPN, ObjectID: u.ObjectID, DisplayName: u.DisplayName,
		Department: u.Department, Title: u.Title, UsageLocation: u.UsageLocation, LineURI: u.LineURI,
		EnterpriseVoiceEnabled: u.EnterpriseVoiceEnabled, Enabled: u.Enabled, HasPassword: u.PasswordHash != "",
		MaxShells: u.MaxShells, Roles: roles, CreatedAt: u.CreatedAt,
	}
}

// roleNames returns the names of a user's roles.
func roleNames(ctx context.Context, st store.Store, u store.User) ([]string, error) {
	rs, err := st.RolesOf(ctx, u.TenantID, u.ID)
	if err != nil {
		return nil, storeFailed("read roles", err)
	}
	names := make([]string, 0, len(rs))
	for _, r := range rs {
		names = append(names, r.Name)
	}
	return names, nil
}

func newUserCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Add, list and change the users of a tenant",
	}
	o := addAdminFlags(cmd)
	cmd.AddCommand(newUserAddCmd(o), newUserListCmd(o), newUserSetCmd(o), newUserPasswdCmd(o),
		newUserEnableCmd(o, false), newUserEnableCmd(o, true), newUserUnlockCmd(o))
	return cmd
}

func newUserAddCmd(o *adminOpts) *cobra.Command {
	var (
		tenant, display, role string
		maxShells             int
		noPassword, pwStdin   bool
		disabled              bool
	)
	cmd := &cobra.Command{
		Use:   "add UPN [--tenant TENANT] [--role ROLE]",
		Short: "Add a user to a tenant",
		Long: `Add a user. The tenant is the one whose domain ends the UPN unless --tenant names
it. The password comes from --password-stdin, $PSGATE_PASSWORD or a prompt;
--no-password creates a user who signs in through federation only.`,
		Example: `  psgate user add adele.vance@contoso.test --display-name "Adele Vance" --role "Tenant Reader"
  echo "$PW" | psgate user add helpdesk@contoso.test --role Helpdesk --password-stdin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			upn := strings.ToLower(strings.TrimSpace(args[0]))
			local, domain, ok := strings.Cut(upn, "@")
			if !ok || local == "" || !strings.Contains(domain, ".") || strings.ContainsAny(upn, " /\\") {
				return fmt.Errorf("UPN %q: want name@domain, for example adele.vance@contoso.test", args[0])
			}
			if maxShells < 0 {
				return fmt.Errorf("--max-shells %d: use 0 (the tenant's limit) or more", maxShells)
			}
			if tenant == "" {
				tenant = domain
			}
			var hash string
			if !noPassword {
				var err error
				if hash, err = o.readPasswordHash(cmd, pwStdin); err != nil {
					return err
				}
			}
			if display == "" {
				display = upn
			}
			ctx := cmd.Context()
			return o.withTenant(ctx, tenant, func(st store.Store, t store.Tenant) error {
				var r store.Role
				if role != "" {
					var err error
					if r, err = findRole(ctx, st, t, role); err != nil {
						return err
					}
				}
				// The user and its role are stored together or not
				// at all.
				var grants []store.Grant
				if role != "" {
					grants = append(grants, store.Grant{RoleID: r.ID, AssignedBy: operatorName()})
				}
				u, err := st.CreateUser(ctx, store.User{
					TenantID: t.ID, UPN: upn, DisplayName: display, Enabled: !disabled, PasswordHash: hash, MaxShells: maxShells,
				}, grants...)
				if errors.Is(err, store.ErrConflict) {
					return fmt.Errorf("the user %s exists already (psgate user list --tenant %s)", upn, t.Name)
				}
				if err != nil {
					return storeFailed("create user", err)
				}
				var roles []string
				detail := "created user " + u.UPN
				if role != "" {
					roles = []string{r.Name}
					detail += " with the role " + r.Name
				}
				if err := auditOperator(ctx, st, t.ID, "user.add", detail); err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), toUserJSON(u, t.Name, roles), func(w io.Writer) {
					fmt.Fprintf(w, "Added user %s to tenant %s", u.UPN, t.Name)
					if role != "" {
						fmt.Fprintf(w, " with the role %s", r.Name)
					}
					fmt.Fprintln(w, ".")
				})
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&tenant, "tenant", "", "the tenant (name, domain or ID; default: the UPN's domain)")
	f.StringVar(&display, "display-name", "", "the user's display name (default: the UPN)")
	f.StringVar(&role, "role", "", "assign this role, e.g. \"Tenant Administrator\"")
	f.IntVar(&maxShells, "max-shells", 0, "the user's own shell limit (0: the tenant's MaxShellsPerUser)")
	f.BoolVar(&pwStdin, "password-stdin", false, "read the password from standard input")
	f.BoolVar(&noPassword, "no-password", false, "create the user without a password")
	f.BoolVar(&disabled, "disabled", false, "create the user disabled")
	return cmd
}

func newUserListCmd(o *adminOpts) *cobra.Command {
	var tenant, contains string
	cmd := &cobra.Command{
		Use:   "list --tenant TENANT",
		Short: "List a tenant's users with their roles",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return o.withTenant(ctx, tenant, func(st store.Store, t store.Tenant) error {
				out := []userJSON{}
				f := store.UserFilter{Contains: contains, Limit: 1000}
				for {
					page, err := st.ListUsers(ctx, t.ID, f)
					if err != nil {
						return storeFailed("list users", err)
					}
					for _, u := range page {
						roles, err := roleNames(ctx, st, u)
						if err != nil {
							return err
						}
						out = append(out, toUserJSON(u, t.Name, roles))
					}
					if len(page) < f.Limit {
						break
					}
					f.AfterID = page[len(page)-1].ID
				}
				return o.print(cmd.OutOrStdout(), out, func(w io.Writer) {
					tableRow(w, "UPN", "DISPLAY NAME", "ENABLED", "PASSWORD", "MAX SHELLS", "ROLES")
					for _, u := range out {
						ms := "tenant"
						if u.MaxShells > 0 {
							ms = fmt.Sprint(u.MaxShells)
						}
						tableRow(w, u.UPN, u.DisplayName, yesNo(u.Enabled), yesNo(u.HasPassword), ms, orDash(strings.Join(u.Roles, ", ")))
					}
				})
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "the tenant (name, domain or ID; required)")
	cmd.Flags().StringVar(&contains, "contains", "", "only users whose UPN or display name contains this text")
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newUserSetCmd(o *adminOpts) *cobra.Command {
	var (
		u         store.User
		maxShells int
	)
	fields := []string{"display-name", "department", "title", "usage-location", "line-uri", "voice", "enabled", "max-shells"}
	cmd := &cobra.Command{
		Use:     "set UPN [flags]",
		Short:   "Change a user's profile, voice settings or shell limit",
		Example: `  psgate user set adele.vance@contoso.test --voice --line-uri tel:+14255550100 --max-shells 5`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			if !anyChanged(cmd, fields...) {
				return fmt.Errorf("nothing to change: pass at least one of --%s", strings.Join(fields, ", --"))
			}
			if maxShells < 0 {
				return fmt.Errorf("--max-shells %d: use 0 (the tenant's limit) or more", maxShells)
			}
			if f.Changed("usage-location") && u.UsageLocation != "" && len(u.UsageLocation) != 2 {
				return fmt.Errorf("--usage-location %q: want a two-letter country code such as US", u.UsageLocation)
			}
			if f.Changed("line-uri") && u.LineURI != "" && !strings.HasPrefix(strings.ToLower(u.LineURI), "tel:") {
				return fmt.Errorf("--line-uri %q: want a tel URI such as tel:+14255550100", u.LineURI)
			}
			ctx := cmd.Context()
			return o.withStore(ctx, false, func(st store.Store) error {
				cur, t, err := resolveUser(ctx, st, args[0], "")
				if err != nil {
					return err
				}
				var changes []string
				set := func(flag string, apply func()) {
					if f.Changed(flag) {
						apply()
						changes = append(changes, flag+"="+f.Lookup(flag).Value.String())
					}
				}
				set("display-name", func() { cur.DisplayName = u.DisplayName })
				set("department", func() { cur.Department = u.Department })
				set("title", func() { cur.Title = u.Title })
				set("usage-location", func() { cur.UsageLocation = strings.ToUpper(u.UsageLocation) })
				set("line-uri", func() { cur.LineURI = u.LineURI })
				set("voice", func() { cur.EnterpriseVoiceEnabled = u.EnterpriseVoiceEnabled })
				set("enabled", func() { cur.Enabled = u.Enabled })
				set("max-shells", func() { cur.MaxShells = maxShells })
				upd, err := st.UpdateUser(ctx, cur)
				if err != nil {
					return storeFailed("update user", err)
				}
				if err := auditOperator(ctx, st, t.ID, "user.set", upd.UPN+": "+strings.Join(changes, ", ")); err != nil {
					return err
				}
				roles, err := roleNames(ctx, st, upd)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), toUserJSON(upd, t.Name, roles), func(w io.Writer) {
					fmt.Fprintf(w, "Updated user %s: %s.\n", upd.UPN, strings.Join(changes, ", "))
				})
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&u.DisplayName, "display-name", "", "display name")
	f.StringVar(&u.Department, "department", "", "department")
	f.StringVar(&u.Title, "title", "", "job title")
	f.StringVar(&u.UsageLocation, "usage-location", "", "two-letter country code, e.g. US")
	f.StringVar(&u.LineURI, "line-uri", "", "phone number as a tel URI, e.g. tel:+14255550100 (empty removes it)")
	f.BoolVar(&u.EnterpriseVoiceEnabled, "voice", false, "enable Enterprise Voice (--voice=false disables it)")
	f.BoolVar(&u.Enabled, "enabled", true, "allow sign-in (--enabled=false blocks it)")
	f.IntVar(&maxShells, "max-shells", 0, "the user's own shell limit, overriding the tenant's MaxShellsPerUser (0: the tenant's)")
	return cmd
}

func newUserPasswdCmd(o *adminOpts) *cobra.Command {
	var pwStdin bool
	cmd := &cobra.Command{
		Use:   "passwd UPN",
		Short: "Set a user's password",
		Long: `Set a user's password, read from --password-stdin, $PSGATE_PASSWORD or a prompt
(typed twice, not echoed). The user's refresh tokens are revoked.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return o.withStore(ctx, false, func(st store.Store) error {
				u, t, err := resolveUser(ctx, st, args[0], "")
				if err != nil {
					return err
				}
				hash, err := o.readPasswordHash(cmd, pwStdin)
				if err != nil {
					return err
				}
				if err := st.SetPassword(ctx, u.ID, hash, time.Now()); err != nil {
					return storeFailed("set password", err)
				}
				if err := st.RevokeUserTokens(ctx, u.ID); err != nil {
					return storeFailed("revoke refresh tokens", err)
				}
				if err := auditOperator(ctx, st, t.ID, "user.passwd", "set the password of "+u.UPN); err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), map[string]string{"upn": u.UPN, "tenant": t.Name}, func(w io.Writer) {
					fmt.Fprintf(w, "Set the password of %s.\n", u.UPN)
				})
			})
		},
	}
	cmd.Flags().BoolVar(&pwStdin, "password-stdin", false, "read the password from standard input")
	return cmd
}

// newUserEnableCmd is user disable (disable true) or user enable.
func newUserEnableCmd(o *adminOpts, disable bool) *cobra.Command {
	use, short := "enable UPN", "Allow a disabled user to sign in again"
	if disable {
		use, short = "disable UPN", "Block a user from signing in and end their sessions"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return o.withStore(ctx, false, func(st store.Store) error {
				u, t, err := resolveUser(ctx, st, args[0], "")
				if err != nil {
					return err
				}
				u.Enabled = !disable
				if u, err = st.UpdateUser(ctx, u); err != nil {
					return storeFailed("update user", err)
				}
				ended := 0
				if disable {
					if err := st.RevokeUserTokens(ctx, u.ID); err != nil {
						return storeFailed("revoke refresh tokens", err)
					}
					if ended, err = releaseUserLeases(ctx, st, u); err != nil {
						return err
					}
				}
				verb := map[bool]string{true: "disable", false: "enable"}[disable]
				if err := auditOperator(ctx, st, t.ID, "user."+verb, fmt.Sprintf("%sd %s, ended %d sessions", verb, u.UPN, ended)); err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), map[string]any{"upn": u.UPN, "enabled": u.Enabled, "sessionsEnded": ended}, func(w io.Writer) {
					if disable {
						fmt.Fprintf(w, "Disabled %s and ended %d sessions.\n", u.UPN, ended)
					} else {
						fmt.Fprintf(w, "Enabled %s.\n", u.UPN)
					}
				})
			})
		},
	}
}

// releaseUserLeases frees every slot of the user; the gateways close the
// shells when their renewal finds the lease gone.
func releaseUserLeases(ctx context.Context, st store.Store, u store.User) (int, error) {
	ls, err := st.Leases(ctx, store.LeaseFilter{TenantID: u.TenantID, UserID: u.ID})
	if err != nil {
		return 0, storeFailed("list sessions", err)
	}
	n := 0
	for _, l := range ls {
		err := st.ReleaseLease(ctx, l.ShellID, "")
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return n, storeFailed("end session "+l.ShellID, err)
		}
		n++
	}
	return n, nil
}

func newUserUnlockCmd(o *adminOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "unlock UPN",
		Short: "Clear a user's failed sign-ins and lockout",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return o.withStore(ctx, false, func(st store.Store) error {
				u, t, err := resolveUser(ctx, st, args[0], "")
				if err != nil {
					return err
				}
				// Both lockouts (familiar and unfamiliar locations) and the
				// failures counted towards them, under the account's key.
				until, err := identity.Unlock(ctx, st, u, time.Now())
				if err != nil {
					return storeFailed("clear lockout", err)
				}
				if err := auditOperator(ctx, st, t.ID, "user.unlock", "unlocked "+u.UPN); err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), map[string]any{"upn": u.UPN, "wasLocked": !until.IsZero()}, func(w io.Writer) {
					if until.IsZero() {
						fmt.Fprintf(w, "%s was not locked; its failed sign-ins are cleared.\n", u.UPN)
					} else {
						fmt.Fprintf(w, "Unlocked %s (it was locked until %s).\n", u.UPN, tableTime(until))
					}
				})
			})
		},
	}
}

// findRole finds a role visible to the tenant, listing the roles there
// are when the name is unknown.
func findRole(ctx context.Context, st store.Store, t store.Tenant, name string) (store.Role, error) {
	r, err := st.RoleByName(ctx, t.ID, strings.TrimSpace(name))
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return store.Role{}, storeFailed("find role", err)
	}
	roles, lerr := st.ListRoles(ctx, t.ID)
	if lerr != nil {
		return store.Role{}, storeFailed("list roles", lerr)
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = fmt.Sprintf("%q", r.Name)
	}
	return store.Role{}, fmt.Errorf("tenant %s has no role %q: use one of %s", t.Name, name, strings.Join(names, ", "))
}

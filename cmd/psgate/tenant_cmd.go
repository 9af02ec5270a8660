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
	"github.com/psgate/psgate/store"
)

// tenantJSON is a tenant in --output json.
type tenantJSON struct {
	ID          psgate.TenantID `json:"id"`
	Name        string          `json:"name"`
	Domain      string          `json:"domain"`
	DisplayName string          `json:"displayName"`
	CreatedAt   time.Time       `json:"createdAt"`
	Policy      policyJSON      `json:"policy"`
	// Users and Sessions are counted by tenant show.
	Users    *int `json:"users,omitempty"`
	Sessions *int `json:"sessions,omitempty"`
}

// policyJSON is a tenant policy in --output json; durations are Go
// duration strings ("1h0m0s").
type policyJSON struct {
	EnableRemotePowerShellAccess bool   `json:"enableRemotePowerShellAccess"`
	MaxShellsPerUser             int    `json:"maxShellsPerUser"`
	MaxShellsPerTenant           int    `json:"maxShellsPerTenant"`
	SessionLifetime              string `json:"sessionLifetime"`
	IdleTimeout                  string `json:"idleTimeout"`
	MaxShellCreationsPerMinute   int    `json:"maxShellCreationsPerMinute"`
	AllowPasswordAuthentication  bool   `json:"allowPasswordAuthentication"`
}

func toTenantJSON(t store.Tenant) tenantJSON {
	p := t.Policy
	return tenantJSON{
		ID: t.ID, Name: t.Name, Domain: t.Domain, DisplayName: t.DisplayName, CreatedAt: t.CreatedAt,
		Policy: policyJSON{
			EnableRemotePowerShellAccess: p.EnableRemotePowerShellAccess,
			MaxShellsPerUser:             p.MaxShellsPerUser,
			MaxShellsPerTenant:           p.MaxShellsPerTenant,
			SessionLifetime:              p.SessionLifetime.String(),
			IdleTimeout:                  p.IdleTimeout.String(),
			MaxShellCreationsPerMinute:   p.MaxShellCreationsPerMinute,
			AllowPasswordAuthentication:  p.AllowPasswordAuthentication,
		},
	}
}

func newTenantCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tenant",
		Short: "Create, list, show, configure and delete tenants",
		Long: `Manage the tenants of a psgate store: the data directory of a gateway (--data,
which may be running) or a PostgreSQL store shared by gateway nodes (--store).`,
	}
	o := addAdminFlags(cmd)
	cmd.AddCommand(newTenantCreateCmd(o), newTenantListCmd(o), newTenantShowCmd(o),
		newTenantSetPolicyCmd(o), newTenantDeleteCmd(o), newTenantFederationCmd(o))
	return cmd
}

func newTenantCreateCmd(o *adminOpts) *cobra.Command {
	var (
		domain, display, admin string
		pwStdin                bool
	)
	cmd := &cobra.Command{
		Use:   "create NAME --domain DOMAIN [--admin UPN]",
		Short: "Create a tenant, optionally with its first administrator",
		Long: `Create a tenant with the default policy (psgate limits shows it). With --admin,
also create its first user with the Tenant Administrator role; the password
comes from --password-stdin, $PSGATE_PASSWORD or a prompt.`,
		Example: `  psgate tenant create contoso --domain contoso.test --display-name "Contoso Ltd." --admin admin@contoso.test`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := strings.ToLower(strings.TrimSpace(args[0]))
			if err := checkTenantName(name, domain); err != nil {
				return err
			}
			if admin != "" && !strings.HasSuffix(strings.ToLower(admin), "@"+strings.ToLower(domain)) {
				return fmt.Errorf("--admin %q: the administrator's UPN must end with @%s", admin, domain)
			}
			var hash string
			if admin != "" {
				var err error
				if hash, err = o.readPasswordHash(cmd, pwStdin); err != nil {
					return err
				}
			}
			if display == "" {
				display = name
			}
			ctx := cmd.Context()
			return o.withStore(ctx, true, func(st store.Store) error {
				// The tenant and its first administrator are created
				// together or not at all.
				var admins []store.FirstAdmin
				if admin != "" {
					admins = append(admins, store.FirstAdmin{
						User:       store.User{UPN: admin, DisplayName: admin, Enabled: true, PasswordHash: hash},
						AssignedBy: operatorName(),
					})
				}
				t, err := st.CreateTenant(ctx, store.Tenant{Name: name, Domain: domain, DisplayName: display, Policy: store.DefaultPolicy()}, admins...)
				if errors.Is(err, store.ErrConflict) {
					if admin != "" {
						return fmt.Errorf("a tenant named %q or with the domain %q, or the user %s, exists already (psgate tenant list, psgate user list); nothing was created", name, domain, admin)
					}
					return fmt.Errorf("a tenant named %q or with the domain %q exists already (psgate tenant list)", name, domain)
				}
				if err != nil {
					return storeFailed("create tenant", err)
				}
				if err := auditOperator(ctx, st, t.ID, "tenant.create", "created tenant "+t.Name); err != nil {
					return err
				}
				if admin != "" {
					if err := auditOperator(ctx, st, t.ID, "user.add", fmt.Sprintf("created user %s with the role %s",
						strings.ToLower(admin), store.RoleTenantAdministrator)); err != nil {
						return err
					}
				}
				return o.print(cmd.OutOrStdout(), toTenantJSON(t), func(w io.Writer) {
					fmt.Fprintf(w, "Created tenant %s (ID %d, domain %s).\n", t.Name, t.ID, t.Domain)
					if admin != "" {
						fmt.Fprintf(w, "Created administrator %s with the role %s.\n", strings.ToLower(admin), store.RoleTenantAdministrator)
					}
				})
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&domain, "domain", "", "the tenant's DNS domain, e.g. contoso.test (required)")
	f.StringVar(&display, "display-name", "", "the tenant's display name (default: the name)")
	f.StringVar(&admin, "admin", "", "also create this user as the tenant's first Tenant Administrator")
	f.BoolVar(&pwStdin, "password-stdin", false, "read the administrator's password from standard input")
	_ = cmd.MarkFlagRequired("domain")
	return cmd
}

// checkTenantName refuses names and domains the gateway could not route.
func checkTenantName(name, domain string) error {
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("tenant name %q: use lower-case letters, digits and hyphens", name)
		}
	}
	if name == "" || len(name) > 63 {
		return fmt.Errorf("tenant name %q: use 1 to 63 characters", name)
	}
	if !strings.Contains(domain, ".") || strings.ContainsAny(domain, " @/\\:") {
		return fmt.Errorf("--domain %q: want a DNS domain such as contoso.test", domain)
	}
	return nil
}

func newTenantListCmd(o *adminOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the tenants",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return o.withStore(ctx, false, func(st store.Store) error {
				ts, err := st.ListTenants(ctx)
				if err != nil {
					return storeFailed("list tenants", err)
				}
				out := make([]tenantJSON, 0, len(ts))
				for _, t := range ts {
					out = append(out, toTenantJSON(t))
				}
				return o.print(cmd.OutOrStdout(), out, func(w io.Writer) {
					tableRow(w, "ID", "NAME", "DOMAIN", "DISPLAY NAME", "REMOTE PS", "SHELLS/USER", "SHELLS/TENANT", "CREATED")
					for _, t := range ts {
						tableRow(w, t.ID, t.Name, t.Domain, t.DisplayName, yesNo(t.Policy.EnableRemotePowerShellAccess),
							t.Policy.MaxShellsPerUser, t.Policy.MaxShellsPerTenant, tableTime(t.CreatedAt))
					}
				})
			})
		},
	}
}

func newTenantShowCmd(o *adminOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "show TENANT",
		Short: "Show a tenant, its policy and how many users and sessions it has",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return o.withStore(ctx, false, func(st store.Store) error {
				t, err := resolveTenant(ctx, st, args[0])
				if err != nil {
					return err
				}
				users, err := countUsers(ctx, st, t.ID)
				if err != nil {
					return err
				}
				ls, err := st.Leases(ctx, store.LeaseFilter{TenantID: t.ID})
				if err != nil {
					return storeFailed("list sessions", err)
				}
				j := toTenantJSON(t)
				sessions := len(ls)
				j.Users, j.Sessions = &users, &sessions
				return o.print(cmd.OutOrStdout(), j, func(w io.Writer) {
					p := t.Policy
					tableRow(w, "ID:", t.ID)
					tableRow(w, "Name:", t.Name)
					tableRow(w, "Domain:", t.Domain)
					tableRow(w, "Display name:", t.DisplayName)
					tableRow(w, "Created:", tableTime(t.CreatedAt))
					tableRow(w, "Users:", users)
					tableRow(w, "Live sessions:", fmt.Sprintf("%d of %d", sessions, p.MaxShellsPerTenant))
					tableRow(w, "EnableRemotePowerShellAccess:", p.EnableRemotePowerShellAccess)
					tableRow(w, "MaxShellsPerUser:", p.MaxShellsPerUser)
					tableRow(w, "MaxShellsPerTenant:", p.MaxShellsPerTenant)
					tableRow(w, "SessionLifetime:", p.SessionLifetime)
					tableRow(w, "IdleTimeout:", p.IdleTimeout)
					tableRow(w, "MaxShellCreationsPerMinute:", p.MaxShellCreationsPerMinute)
					tableRow(w, "AllowPasswordAuthentication:", p.AllowPasswordAuthentication)
				})
			})
		},
	}
}

// countUsers counts a tenant's users a page at a time.
func countUsers(ctx context.Context, st store.Store, tenantID psgate.TenantID) (int, error) {
	n := 0
	f := store.UserFilter{Limit: 1000}
	for {
		page, err := st.ListUsers(ctx, tenantID, f)
		if err != nil {
			return 0, storeFailed("list users", err)
		}
		n += len(page)
		if len(page) < f.Limit {
			return n, nil
		}
		f.AfterID = page[len(page)-1].ID
	}
}

func newTenantSetPolicyCmd(o *adminOpts) *cobra.Command {
	var (
		p       store.Policy
		maxRate int
	)
	cmd := &cobra.Command{
		Use:   "set-policy TENANT [flags]",
		Short: "Change a tenant's remote PowerShell policy",
		Long: `Change the settings given as flags and keep the others. The change applies to
new sessions; open sessions keep the limits they were admitted with.`,
		Example: `  psgate tenant set-policy contoso --max-shells-per-user 5 --idle-timeout 30m
  psgate tenant set-policy contoso --remote-powershell=false`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			if !anyChanged(cmd, policyFlags()...) {
				return fmt.Errorf("nothing to change: pass at least one of --%s", strings.Join(policyFlags(), ", --"))
			}
			ctx := cmd.Context()
			return o.withStore(ctx, false, func(st store.Store) error {
				t, err := resolveTenant(ctx, st, args[0])
				if err != nil {
					return err
				}
				np := t.Policy
				var changes []string
				set := func(flag string, apply func()) {
					if f.Changed(flag) {
						apply()
						changes = append(changes, flag+"="+f.Lookup(flag).Value.String())
					}
				}
				set("remote-powershell", func() { np.EnableRemotePowerShellAccess = p.EnableRemotePowerShellAccess })
				set("max-shells-per-user", func() { np.MaxShellsPerUser = p.MaxShellsPerUser })
				set("max-shells-per-tenant", func() { np.MaxShellsPerTenant = p.MaxShellsPerTenant })
				set("session-lifetime", func() { np.SessionLifetime = p.SessionLifetime })
				set("idle-timeout", func() { np.IdleTimeout = p.IdleTimeout })
				set("max-creations-per-minute", func() { np.MaxShellCreationsPerMinute = maxRate })
				set("allow-password-auth", func() { np.AllowPasswordAuthentication = p.AllowPasswordAuthentication })
				if err := checkPolicy(np); err != nil {
					return err
				}
				if err := st.UpdatePolicy(ctx, t.ID, np); err != nil {
					return storeFailed("update policy", err)
				}
				if err := auditOperator(ctx, st, t.ID, "tenant.set-policy", "set "+strings.Join(changes, ", ")); err != nil {
					return err
				}
				t.Policy = np
				return o.print(cmd.OutOrStdout(), toTenantJSON(t), func(w io.Writer) {
					fmt.Fprintf(w, "Updated the policy of tenant %s: %s.\n", t.Name, strings.Join(changes, ", "))
				})
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&p.EnableRemotePowerShellAccess, "remote-powershell", true, "EnableRemotePowerShellAccess: allow the tenant's users to open shells")
	f.IntVar(&p.MaxShellsPerUser, "max-shells-per-user", 0, "MaxShellsPerUser: open or disconnected shells per user (1 or more)")
	f.IntVar(&p.MaxShellsPerTenant, "max-shells-per-tenant", 0, "MaxShellsPerTenant: open or disconnected shells of the whole tenant (1 or more)")
	f.DurationVar(&p.SessionLifetime, "session-lifetime", 0, "SessionLifetime: how long a shell may live, e.g. 60m")
	f.DurationVar(&p.IdleTimeout, "idle-timeout", 0, "IdleTimeout: how long a shell may stay idle, e.g. 15m")
	f.IntVar(&maxRate, "max-creations-per-minute", 0, "MaxShellCreationsPerMinute: shells one user may open per minute (0: no limit)")
	f.BoolVar(&p.AllowPasswordAuthentication, "allow-password-auth", false, "AllowPasswordAuthentication: allow sign-in with a password")
	return cmd
}

// policyFlags names the flags of tenant set-policy.
func policyFlags() []string {
	return []string{
		"remote-powershell", "max-shells-per-user", "max-shells-per-tenant", "session-lifetime",
		"idle-timeout", "max-creations-per-minute", "allow-password-auth",
	}
}

func anyChanged(cmd *cobra.Command, names ...string) bool {
	for _, n := range names {
		if cmd.Flags().Changed(n) {
			return true
		}
	}
	return false
}

// checkPolicy refuses a policy the gateway could not enforce sensibly.
func checkPolicy(p store.Policy) error {
	switch {
	case p.MaxShellsPerUser < 1:
		return fmt.Errorf("--max-shells-per-user %d: use 1 or more (set --remote-powershell=false to refuse all shells)", p.MaxShellsPerUser)
	case p.MaxShellsPerTenant < 1:
		return fmt.Errorf("--max-shells-per-tenant %d: use 1 or more", p.MaxShellsPerTenant)
	case p.MaxShellsPerUser > p.MaxShellsPerTenant:
		return fmt.Errorf("MaxShellsPerUser %d is above MaxShellsPerTenant %d: a user could never use them all", p.MaxShellsPerUser, p.MaxShellsPerTenant)
	case p.SessionLifetime < time.Minute:
		return fmt.Errorf("--session-lifetime %s: use at least 1m", p.SessionLifetime)
	case p.IdleTimeout < time.Minute:
		return fmt.Errorf("--idle-timeout %s: use at least 1m", p.IdleTimeout)
	case p.IdleTimeout > p.SessionLifetime:
		return fmt.Errorf("IdleTimeout %s is longer than SessionLifetime %s: the idle timeout would never apply", p.IdleTimeout, p.SessionLifetime)
	case p.MaxShellCreationsPerMinute < 0:
		return fmt.Errorf("--max-creations-per-minute %d: use 0 (no limit) or more", p.MaxShellCreationsPerMinute)
	}
	return nil
}

func newTenantDeleteCmd(o *adminOpts) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete TENANT --yes",
		Short: "Delete a tenant with its users, roles and sessions (audit records are kept)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return o.withStore(ctx, false, func(st store.Store) error {
				t, err := resolveTenant(ctx, st, args[0])
				if err != nil {
					return err
				}
				users, err := countUsers(ctx, st, t.ID)
				if err != nil {
					return err
				}
				if !yes {
					return fmt.Errorf("deleting tenant %s removes its %d users, their roles and sessions; pass --yes to confirm", t.Name, users)
				}
				if err := st.DeleteTenant(ctx, t.ID); err != nil {
					return storeFailed("delete tenant", err)
				}
				if err := auditOperator(ctx, st, t.ID, "tenant.delete", fmt.Sprintf("deleted tenant %s with %d users", t.Name, users)); err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), map[string]any{"deleted": t.Name, "users": users}, func(w io.Writer) {
					fmt.Fprintf(w, "Deleted tenant %s and its %d users.\n", t.Name, users)
				})
			})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm the deletion")
	return cmd
}

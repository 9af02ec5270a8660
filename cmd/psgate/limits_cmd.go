//go:build !connector

package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate/store"
)

// limitSpec is one row of the limits table. The defaults come from one
// place, store.DefaultPolicy; a tenant's policy overrides them and a
// user's MaxShells overrides MaxShellsPerUser.
type limitSpec struct {
	name string
	get  func(store.Policy) any
}

func limitSpecs() []limitSpec {
	return []limitSpec{
		{"EnableRemotePowerShellAccess", func(p store.Policy) any { return p.EnableRemotePowerShellAccess }},
		{"MaxShellsPerUser", func(p store.Policy) any { return p.MaxShellsPerUser }},
		{"MaxShellsPerTenant", func(p store.Policy) any { return p.MaxShellsPerTenant }},
		{"SessionLifetime", func(p store.Policy) any { return p.SessionLifetime }},
		{"IdleTimeout", func(p store.Policy) any { return p.IdleTimeout }},
		{"MaxShellCreationsPerMinute", func(p store.Policy) any { return p.MaxShellCreationsPerMinute }},
		{"AllowPasswordAuthentication", func(p store.Policy) any { return p.AllowPasswordAuthentication }},
	}
}

// limitJSON is one effective limit in --output json.
type limitJSON struct {
	Setting string `json:"setting"`
	Value   string `json:"value"`
	Default string `json:"default"`
	// Source is "default", "tenant <name>" or "user <upn>".
	Source string `json:"source"`
	// InUse counts what the limit is measured against now, when it
	// applies to a count (shells, creations in the last minute).
	InUse *int `json:"inUse,omitempty"`
}

func newLimitsCmd() *cobra.Command {
	var tenant, user string
	cmd := &cobra.Command{
		Use:   "limits [--tenant TENANT] [--user UPN]",
		Short: "Show the effective limits of a tenant or user and where each comes from",
		Long: `Show the effective remote PowerShell limits and where each value comes from:
the built-in default, the tenant's policy, or the user's own shell limit. With
--tenant or --user, also show how much of each count is in use now.`,
		Example: `  psgate limits
  psgate limits --tenant contoso
  psgate limits --user adele.vance@contoso.test`,
		Args: cobra.NoArgs,
	}
	o := addAdminFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		if tenant == "" && user == "" {
			if err := o.checkOutput(); err != nil {
				return err
			}
			return printLimits(cmd.OutOrStdout(), o, effectiveLimits(nil, nil, nil))
		}
		return o.withStore(ctx, false, func(st store.Store) error {
			var (
				t   store.Tenant
				u   *store.User
				err error
			)
			if user != "" {
				uu, ut, err := resolveUser(ctx, st, user, tenant)
				if err != nil {
					return err
				}
				u, t = &uu, ut
			} else if t, err = resolveTenant(ctx, st, tenant); err != nil {
				return err
			}
			use, err := usage(ctx, st, t, u)
			if err != nil {
				return err
			}
			return printLimits(cmd.OutOrStdout(), o, effectiveLimits(&t, u, use))
		})
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "the tenant (name, domain or ID)")
	cmd.Flags().StringVar(&user, "user", "", "the user (UPN); the tenant is the user's")
	return cmd
}

// usage counts what the limits measure now.
func usage(ctx context.Context, st store.Store, t store.Tenant, u *store.User) (map[string]int, error) {
	ls, err := st.Leases(ctx, store.LeaseFilter{TenantID: t.ID})
	if err != nil {
		return nil, storeFailed("list sessions", err)
	}
	use := map[string]int{"MaxShellsPerTenant": len(ls)}
	if u == nil {
		return use, nil
	}
	n := 0
	for _, l := range ls {
		if l.UserID == u.ID {
			n++
		}
	}
	use["MaxShellsPerUser"] = n
	c, err := st.CountCreations(ctx, t.ID, u.ID, time.Minute, time.Time{})
	if err != nil {
		return nil, storeFailed("count shell creations", err)
	}
	use["MaxShellCreationsPerMinute"] = c
	return use, nil
}

// effectiveLimits resolves every limit: the defaults alone (t nil), a
// tenant's, or a user's.
func effectiveLimits(t *store.Tenant, u *store.User, use map[string]int) []limitJSON {
	def := store.DefaultPolicy()
	out := make([]limitJSON, 0, len(limitSpecs()))
	for _, s := range limitSpecs() {
		d := s.get(def)
		l := limitJSON{Setting: s.name, Value: limitValue(d), Default: limitValue(d), Source: "default"}
		if t != nil {
			if v := s.get(t.Policy); v != d {
				l.Value, l.Source = limitValue(v), "tenant "+t.Name
			}
		}
		if u != nil && s.name == "MaxShellsPerUser" && u.MaxShells > 0 {
			l.Value, l.Source = limitValue(u.MaxShells), "user "+u.UPN
		}
		if n, ok := use[s.name]; ok {
			l.InUse = &n
		}
		out = append(out, l)
	}
	return out
}

func limitValue(v any) string {
	switch v := v.(type) {
	case time.Duration:
		return v.String()
	case bool:
		if v {
			return "True"
		}
		return "False"
	}
	return fmt.Sprint(v)
}

func printLimits(w io.Writer, o *adminOpts, ls []limitJSON) error {
	return o.print(w, ls, func(w io.Writer) {
		tableRow(w, "SETTING", "VALUE", "IN USE", "SOURCE", "DEFAULT")
		for _, l := range ls {
			inUse := "-"
			if l.InUse != nil {
				inUse = fmt.Sprint(*l.InUse)
			}
			tableRow(w, l.Setting, l.Value, inUse, l.Source, l.Default)
		}
	})
}

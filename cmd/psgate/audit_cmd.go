//go:build !connector

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// auditJSON is an audit record in --output json.
type auditJSON struct {
	ID         int64           `json:"id"`
	Time       time.Time       `json:"time"`
	TenantID   psgate.TenantID `json:"tenantId"`
	Tenant     string          `json:"tenant,omitempty"`
	User       string          `json:"user"`
	Action     string          `json:"action"`
	Cmdlet     string          `json:"cmdlet,omitempty"`
	Parameters string          `json:"parameters,omitempty"`
	Outcome    string          `json:"outcome"`
	Code       string          `json:"code,omitempty"`
	DurationMS float64         `json:"durationMs"`
	ClientAddr string          `json:"clientAddress,omitempty"`
	ShellID    string          `json:"shellId,omitempty"`
	CommandID  string          `json:"commandId,omitempty"`
	Detail     string          `json:"detail,omitempty"`
}

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Search and purge the audit log",
	}
	o := addAdminFlags(cmd)
	cmd.AddCommand(newAuditSearchCmd(o), newAuditPurgeCmd(o))
	return cmd
}

func newAuditPurgeCmd(o *adminOpts) *cobra.Command {
	var before string
	cmd := &cobra.Command{
		Use:   "purge --before TIME",
		Short: "Delete the audit records older than a time, in every tenant",
		Long: `Delete the audit records older than --before, in every tenant. --before is an
RFC 3339 time, a date, or an age (90d, 2160h). The gateway also purges records
older than its --audit-retention by itself. The purge is itself audited.`,
		Example: `  psgate audit purge --before 90d
  psgate audit purge --before 2026-01-01`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if before == "" {
				return errors.New("--before is required: the records older than it are deleted (e.g. --before 90d)")
			}
			t, err := parseWhen("--before", before, time.Now())
			if err != nil {
				return err
			}
			return o.withStore(cmd.Context(), false, func(st store.Store) error {
				n, err := store.PurgeBefore(cmd.Context(), st, t, store.PurgeBatch, nil)
				if err != nil {
					return storeFailed("purge the audit log", err)
				}
				detail := fmt.Sprintf("deleted %d records older than %s", n, t.UTC().Format(time.RFC3339))
				if err := auditOperator(cmd.Context(), st, 0, "audit.purge", detail); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Deleted %d audit records older than %s.\n", n, t.UTC().Format(time.RFC3339))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&before, "before", "", "delete the records older than this time or age (90d)")
	return cmd
}

func newAuditSearchCmd(o *adminOpts) *cobra.Command {
	var (
		tenant, user, action, since, until, shell string
		limit                                     int
	)
	cmd := &cobra.Command{
		Use:   "search [--tenant TENANT] [--user UPN] [--action ACTION] [--since TIME] [--until TIME]",
		Short: "Search the audit log, newest first",
		Long: `Search the audit log, newest first, across every tenant unless --tenant is given.
Actions: session.open, session.close, session.refused, command, auth.failed and
the operator's own changes (operator.*); end --action with * to match a prefix.
Times are RFC 3339 (2026-05-01T12:00:00Z), a date (2026-05-01) or a duration
meaning that long ago (24h).`,
		Example: `  psgate audit search --tenant contoso --action 'session.*' --since 24h`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			f := store.AuditFilter{UPN: user, Action: action, ShellID: shell, Limit: limit}
			var err error
			if f.Since, err = parseWhen("--since", since, now); err != nil {
				return err
			}
			if f.Until, err = parseWhen("--until", until, now); err != nil {
				return err
			}
			if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
				return fmt.Errorf("--until %s is not after --since %s", until, since)
			}
			if limit < 1 {
				return fmt.Errorf("--limit %d: use 1 or more", limit)
			}
			ctx := cmd.Context()
			return o.withStore(ctx, false, func(st store.Store) error {
				if tenant != "" {
					t, err := resolveTenant(ctx, st, tenant)
					if err != nil {
						return err
					}
					f.TenantID = t.ID
				}
				recs, err := st.SearchAudit(ctx, f)
				if err != nil {
					return storeFailed("search audit log", err)
				}
				names, err := tenantNames(ctx, st, recs)
				if err != nil {
					return err
				}
				out := make([]auditJSON, 0, len(recs))
				for _, r := range recs {
					out = append(out, auditJSON{
						ID: r.ID, Time: r.Time, TenantID: r.TenantID, Tenant: names[r.TenantID], User: r.UPN, Action: r.Action, Cmdlet: r.Cmdlet,
						Parameters: r.Parameters, Outcome: r.Outcome, Code: r.Code,
						DurationMS: float64(r.Duration) / float64(time.Millisecond),
						ClientAddr: r.ClientAddr, ShellID: r.ShellID, CommandID: r.CommandID, Detail: r.Detail,
					})
				}
				return o.print(cmd.OutOrStdout(), out, func(w io.Writer) {
					tableRow(w, "TIME", "TENANT", "USER", "ACTION", "CMDLET", "OUTCOME", "CODE", "DETAIL")
					for _, r := range out {
						tableRow(w, tableTime(r.Time), tenantCell(r), orDash(r.User), r.Action, orDash(r.Cmdlet), orDash(r.Outcome),
							orDash(r.Code), orDash(oneLine(r.Detail, 60)))
					}
				})
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&tenant, "tenant", "", "only this tenant's records (name, domain or ID)")
	f.StringVar(&user, "user", "", "only this user's records (UPN)")
	f.StringVar(&action, "action", "", "only this action, or a prefix ending in *")
	f.StringVar(&shell, "shell", "", "only the records of this shell id")
	f.StringVar(&since, "since", "", "only records at or after this time")
	f.StringVar(&until, "until", "", "only records before this time")
	f.IntVar(&limit, "limit", 100, "at most this many records")
	return cmd
}

// tenantNames maps the tenant IDs of recs to tenant names. A tenant
// deleted since is named by its ID.
func tenantNames(ctx context.Context, st store.Store, recs []store.AuditRecord) (map[psgate.TenantID]string, error) {
	names := map[psgate.TenantID]string{}
	for _, r := range recs {
		if _, ok := names[r.TenantID]; ok || r.TenantID == 0 {
			continue
		}
		t, err := st.Tenant(ctx, r.TenantID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			names[r.TenantID] = ""
		case err != nil:
			return nil, storeFailed("read tenant", err)
		default:
			names[r.TenantID] = t.Name
		}
	}
	return names, nil
}

// tenantCell is the TENANT cell: the name, the ID of a deleted tenant
// ("#12"), or "-" for a record of no tenant.
func tenantCell(r auditJSON) string {
	switch {
	case r.Tenant != "":
		return r.Tenant
	case r.TenantID != 0:
		return "#" + strconv.FormatInt(int64(r.TenantID), 10)
	}
	return "-"
}

// parseWhen reads an RFC 3339 time, a date or a duration before now.
func parseWhen(flag, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := parseAge(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%s %q: want an RFC 3339 time (2026-05-01T12:00:00Z), a date (2026-05-01) or a duration ago (24h, 90d)", flag, s)
}

// parseAge reads a Go duration (36h, 90m) or a whole number of days or
// weeks (90d, 2w), as operators write retention periods.
func parseAge(s string) (time.Duration, error) {
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.ParseUint(n, 10, 16)
			if err != nil {
				return 0, fmt.Errorf("%q: want a whole number of days or weeks (90d, 2w)", s)
			}
			return time.Duration(v) * unit, nil
		}
	}
	return time.ParseDuration(s)
}

// oneLine shortens text for a table cell.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

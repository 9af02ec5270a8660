package cmdlets

import (
	"context"
	"math"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/store"
)

// defaultAuditResultSize is how many records Search-CsAdminAuditLog
// returns without -ResultSize.
const defaultAuditResultSize = 1000

func searchCsAdminAuditLog(dir Directory) *engine.Command {
	return &engine.Command{
		Name:     "Search-CsAdminAuditLog",
		Synopsis: "Searches your tenant's administration audit log.",
		Description: "The Search-CsAdminAuditLog cmdlet returns the audit records of your tenant, " +
			"newest first: every session opened, closed or refused and every command run, " +
			"with the user, the cmdlet and its parameters (secrets redacted), the outcome and " +
			"error code, the duration, the client address and the shell and command ids.\n\n" +
			"Only your tenant's records are returned. Without -ResultSize at most 1000 " +
			"records are returned.",
		OutputType: []string{TypeAdminAuditRecord},
		Parameters: []engine.Parameter{
			{
				Name: "User", Type: engine.TypeString, Position: engine.NotPositional, ValidateNotNullOrEmpty: true,
				Help: "Returns only the records of this user (user principal name).",
			},
			{
				Name: "Action", Type: engine.TypeString, Position: engine.NotPositional, ValidateNotNullOrEmpty: true,
				Help: "Returns only the records of this action: session.open, session.close, session.refused, " +
					"command or auth.failed; end it with * to match a prefix (session.*).",
			},
			{
				Name: "StartTime", Type: engine.TypeDateTime, Position: engine.NotPositional,
				Help: "Returns only the records at or after this time.",
			},
			{
				Name: "EndTime", Type: engine.TypeDateTime, Position: engine.NotPositional,
				Help: "Returns only the records before this time.",
			},
			{
				Name: "ResultSize", Type: engine.TypeInt, Position: engine.NotPositional,
				ValidateRange: &engine.Range{Min: 1, Max: math.MaxInt32},
				Help:          "The maximum number of records to return (default 1000).",
			},
		},
		Examples: []engine.Example{
			{
				Code:    "Search-CsAdminAuditLog -User alice@contoso.test -ResultSize 20",
				Remarks: "Shows the last 20 records of Alice Wong.",
			},
			{
				Code:    "Search-CsAdminAuditLog -Action session.refused -StartTime 2026-05-01",
				Remarks: "Shows the sessions refused since May 1, 2026.",
			},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			return runSearchCsAdminAuditLog(ctx, inv, dir)
		},
	}
}

func runSearchCsAdminAuditLog(ctx context.Context, inv *engine.Invocation, dir Directory) error {
	f := store.AuditFilter{
		TenantID: inv.Caller.TenantID,
		UPN:      inv.String("User"),
		Action:   inv.String("Action"),
		Limit:    defaultAuditResultSize,
	}
	if f.TenantID == 0 {
		// Tenant 0 would search every tenant: never from a session.
		return terminating(inv, psgate.E(psgate.CodeTenantNotFound, psgate.Args{"tenant": tenantLabel(inv.Caller)}),
			engine.CategoryObjectNotFound, "TenantNotFound")
	}
	f.Since, _ = inv.Time("StartTime")
	f.Until, _ = inv.Time("EndTime")
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return terminating(inv, psgate.E(psgate.CodeParameterValidation, psgate.Args{
			"name": "EndTime", "detail": "EndTime must be after StartTime.",
		}), engine.CategoryInvalidArgument, "ParameterArgumentValidationError")
	}
	if n, ok := inv.Int("ResultSize"); ok {
		f.Limit = int(n)
	}
	recs, err := dir.SearchAudit(ctx, f)
	if err != nil {
		return storeError(inv, "search audit log", err)
	}
	for _, r := range recs {
		if r.TenantID == inv.Caller.TenantID {
			inv.Write(AdminAuditRecordObject(r))
		}
	}
	return nil
}

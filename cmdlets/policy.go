package cmdlets

import (
	"context"
	"errors"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/store"
)

func getCsTenantPowerShellPolicy(dir Directory) *engine.Command {
	return &engine.Command{
		Name:     "Get-CsTenantPowerShellPolicy",
		Synopsis: "Gets your tenant's remote PowerShell policy.",
		Description: "The Get-CsTenantPowerShellPolicy cmdlet shows the remote PowerShell policy " +
			"your service provider set for your tenant: whether remote PowerShell is enabled " +
			"(EnableRemotePowerShellAccess), how many shells one user and the whole tenant " +
			"may hold open at once (MaxShellsPerUser, MaxShellsPerTenant), how long a session " +
			"may live and stay idle (SessionLifetime, IdleTimeout), how many shells one user " +
			"may open per minute (MaxShellCreationsPerMinute) and whether users may sign in " +
			"with a password (AllowPasswordAuthentication).\n\n" +
			"The policy is read-only for tenant administrators; ask your service provider to " +
			"change it. A user's own shell limit may differ from MaxShellsPerUser when the " +
			"provider set one for that user.",
		OutputType: []string{TypeTenantPowerShellPolicy},
		Examples: []engine.Example{
			{Code: "Get-CsTenantPowerShellPolicy", Remarks: "Shows the remote PowerShell policy of your tenant."},
			{
				Code:    "Get-CsTenantPowerShellPolicy | Select-Object MaxShellsPerUser, MaxShellsPerTenant",
				Remarks: "Shows the concurrent shell limits.",
			},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			id := inv.Caller.TenantID
			t, err := dir.Tenant(ctx, id)
			if errors.Is(err, store.ErrNotFound) || err == nil && t.ID != id {
				return terminating(inv, psgate.E(psgate.CodeTenantNotFound, psgate.Args{"tenant": tenantLabel(inv.Caller)}),
					engine.CategoryObjectNotFound, "TenantNotFound")
			}
			if err != nil {
				return storeError(inv, "read tenant", err)
			}
			inv.Write(TenantPowerShellPolicyObject(t))
			return nil
		},
	}
}

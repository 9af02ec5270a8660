package cmdlets

import (
	"context"
	"errors"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/store"
)

func getCsTenant(dir Directory) *engine.Command {
	return &engine.Command{
		Name:     "Get-CsTenant",
		Synopsis: "Gets your tenant: its identity, domains and remote PowerShell policy.",
		Description: "The Get-CsTenant cmdlet returns the tenant you are signed in to: its " +
			"identity (TenantId), display name, short name, domains and creation date, " +
			"together with the tenant's remote PowerShell policy: whether remote " +
			"PowerShell is enabled, the maximum number of concurrent shells per user and " +
			"per tenant, and how long a session may live and stay idle.\n\n" +
			"The cmdlet only ever returns your own tenant. The default view is a list; " +
			"pipe the result to Format-List * to see every property.",
		OutputType: []string{TypeTenant},
		Examples: []engine.Example{
			{
				Code:    "Get-CsTenant",
				Remarks: "Shows your tenant and its remote PowerShell policy.",
			},
			{
				Code:    "Get-CsTenant | Select-Object DisplayName, MaxShellsPerUser, MaxShellsPerTenant",
				Remarks: "Shows the concurrent shell limits of your tenant.",
			},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			return runGetCsTenant(ctx, inv, dir)
		},
	}
}

func runGetCsTenant(ctx context.Context, inv *engine.Invocation, dir Directory) error {
	id := inv.Caller.TenantID
	t, err := dir.Tenant(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && t.ID != id {
		// The caller's tenant was deleted while the shell was open (or the
		// directory answered for another tenant, which must never show).
		return terminating(inv, psgate.E(psgate.CodeTenantNotFound, psgate.Args{"tenant": tenantLabel(inv.Caller)}),
			engine.CategoryObjectNotFound, "TenantNotFound")
	}
	if err != nil {
		return storeError(inv, "read tenant", err)
	}
	inv.Write(TenantObject(t))
	return nil
}

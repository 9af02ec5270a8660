package cmdlets

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/store"
)

func getCsAdminRole(dir Directory) *engine.Command {
	return &engine.Command{
		Name:     "Get-CsAdminRole",
		Synopsis: "Gets the management roles of your tenant and who holds them.",
		Description: "The Get-CsAdminRole cmdlet returns the management roles you can assign in " +
			"your tenant: the built-in roles (Tenant Administrator, Tenant Reader, Helpdesk) " +
			"and your tenant's own roles. Each role shows its entries (the cmdlets and " +
			"parameters it allows or denies, with any allowed-value restrictions) and its " +
			"Members, the users of your tenant who hold it.\n\n" +
			"Use Grant-CsAdminRole and Revoke-CsAdminRole to change who holds a role, and " +
			"Test-CsAdminPermission to see which role allows a cmdlet.",
		OutputType: []string{TypeAdminRole},
		Parameters: []engine.Parameter{
			{
				Name: "Identity", Type: engine.TypeString, Position: 0, ValidateNotNullOrEmpty: true,
				Help: "The name of the role to get, for example \"Tenant Administrator\". Wildcards are allowed. Without it, every role is returned.",
			},
		},
		Examples: []engine.Example{
			{Code: "Get-CsAdminRole", Remarks: "Lists the roles of your tenant with their members."},
			{
				Code:    "Get-CsAdminRole -Identity Helpdesk | Select-Object -ExpandProperty Entries",
				Remarks: "Shows what the Helpdesk role allows.",
			},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			return runGetCsAdminRole(ctx, inv, dir)
		},
	}
}

func runGetCsAdminRole(ctx context.Context, inv *engine.Invocation, dir Directory) error {
	tenant := inv.Caller.TenantID
	roles, err := dir.ListRoles(ctx, tenant)
	if err != nil {
		return storeError(inv, "list roles", err)
	}
	members, err := roleMembers(ctx, inv, dir)
	if err != nil {
		return err
	}
	match := func(string) bool { return true }
	identity := inv.String("Identity")
	if inv.Bound("Identity") {
		if engine.HasWildcard(identity) {
			w, err := engine.CompileWildcard(identity, false)
			if err != nil {
				return terminating(inv, psgate.E(psgate.CodeParameterValidation, psgate.Args{
					"name": "Identity", "detail": err.Error(),
				}), engine.CategoryInvalidArgument, "ParameterArgumentValidationError")
			}
			match = w.Match
		} else {
			match = func(s string) bool { return strings.EqualFold(s, identity) }
		}
	}
	found := false
	for _, r := range roles {
		if r.TenantID != 0 && r.TenantID != tenant || !match(r.Name) {
			continue
		}
		found = true
		inv.Write(AdminRoleObject(r, members[r.ID]))
	}
	if !found && inv.Bound("Identity") && !engine.HasWildcard(identity) {
		inv.WriteError(notFound(inv, identity))
	}
	return nil
}

// roleMembers returns the UPNs of the caller's tenant's users by role ID.
func roleMembers(ctx context.Context, inv *engine.Invocation, dir Directory) (map[int64][]string, error) {
	tenant := inv.Caller.TenantID
	as, err := dir.Assignments(ctx, tenant)
	if err != nil {
		return nil, storeError(inv, "list role assignments", err)
	}
	upns := map[psgate.UserID]string{}
	out := map[int64][]string{}
	for _, a := range as {
		if a.TenantID != tenant {
			continue
		}
		upn, ok := upns[a.UserID]
		if !ok {
			u, err := dir.User(ctx, a.UserID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, storeError(inv, "read role member", err)
			}
			if u.TenantID != tenant {
				continue
			}
			upn, upns[a.UserID] = u.UPN, u.UPN
		}
		out[a.RoleID] = append(out[a.RoleID], upn)
	}
	for _, list := range out {
		sort.Strings(list)
	}
	return out, nil
}

// roleAssignmentParams are the parameters of Grant- and Revoke-CsAdminRole.
func roleAssignmentParams(verb string) []engine.Parameter {
	return []engine.Parameter{
		{
			Name: "Identity", Type: engine.TypeString, Position: 0, Mandatory: true,
			ValueFromPipelineByPropertyName: true, ValidateNotNullOrEmpty: true,
			Help: "The user to " + verb + ": user principal name, SIP address, object id or a display name that matches one user.",
		},
		{
			Name: "Role", Type: engine.TypeString, Position: 1, Mandatory: true, ValidateNotNullOrEmpty: true,
			Help: "The name of the role, for example \"Tenant Reader\" (Get-CsAdminRole lists them).",
		},
	}
}

func grantCsAdminRole(dir Directory) *engine.Command {
	return &engine.Command{
		Name:     "Grant-CsAdminRole",
		Synopsis: "Assigns a management role to a user of your tenant.",
		Description: "The Grant-CsAdminRole cmdlet gives a user of your tenant a management role. " +
			"The user's next session shows the cmdlets the role allows; sessions already " +
			"open keep the roles they started with. Assigning a role the user already holds " +
			"is an error. The cmdlet writes nothing on success.",
		OutputType:            []string{"None"},
		SupportsShouldProcess: true,
		Parameters:            roleAssignmentParams("give the role to"),
		Examples: []engine.Example{
			{
				Code:    "Grant-CsAdminRole -Identity bob@contoso.test -Role \"Tenant Reader\"",
				Remarks: "Lets Bob Kelly run the Get- and Search- cmdlets.",
			},
			{
				Code:    "Grant-CsAdminRole -Identity carol@contoso.test -Role \"Tenant Administrator\" -WhatIf",
				Remarks: "Shows what would be assigned, without assigning it.",
			},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			return reported(runGrantCsAdminRole(ctx, inv, dir))
		},
	}
}

func runGrantCsAdminRole(ctx context.Context, inv *engine.Invocation, dir Directory) error {
	u, err := resolveUser(ctx, inv, dir, inv.String("Identity"))
	if err != nil {
		return err
	}
	r, err := resolveRole(ctx, inv, dir, inv.String("Role"))
	if err != nil {
		return err
	}
	if !inv.ShouldProcess(u.UPN, fmt.Sprintf("Grant role '%s'", r.Name)) {
		return nil
	}
	err = dir.Assign(ctx, store.Assignment{TenantID: inv.Caller.TenantID, UserID: u.ID, RoleID: r.ID, AssignedBy: inv.Caller.UPN})
	switch {
	case errors.Is(err, store.ErrConflict):
		inv.WriteError(invalidOperation("RoleAlreadyAssigned", u.UPN,
			fmt.Sprintf("The user '%s' already holds the role '%s'.", u.UPN, r.Name)))
		return nil
	case errors.Is(err, store.ErrNotFound):
		inv.WriteError(notFound(inv, u.UPN))
		return nil
	case err != nil:
		return storeError(inv, "assign role", err)
	}
	inv.WriteVerbose(fmt.Sprintf("Granted the role '%s' to %s.", r.Name, u.UPN))
	return nil
}

func revokeCsAdminRole(dir Directory) *engine.Command {
	return &engine.Command{
		Name:     "Revoke-CsAdminRole",
		Synopsis: "Removes a management role from a user of your tenant.",
		Description: "The Revoke-CsAdminRole cmdlet takes a management role away from a user of " +
			"your tenant. The tenant's last Tenant Administrator keeps the role: grant it to " +
			"another user first. Revoking a role the user does not hold is an error. The " +
			"cmdlet writes nothing on success; the user's sessions already open keep the " +
			"roles they started with.",
		OutputType:            []string{"None"},
		SupportsShouldProcess: true,
		Parameters:            roleAssignmentParams("take the role from"),
		Examples: []engine.Example{
			{
				Code:    "Revoke-CsAdminRole -Identity bob@contoso.test -Role \"Tenant Reader\"",
				Remarks: "Takes the Tenant Reader role away from Bob Kelly.",
			},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			return reported(runRevokeCsAdminRole(ctx, inv, dir))
		},
	}
}

func runRevokeCsAdminRole(ctx context.Context, inv *engine.Invocation, dir Directory) error {
	u, err := resolveUser(ctx, inv, dir, inv.String("Identity"))
	if err != nil {
		return err
	}
	r, err := resolveRole(ctx, inv, dir, inv.String("Role"))
	if err != nil {
		return err
	}
	if !inv.ShouldProcess(u.UPN, fmt.Sprintf("Revoke role '%s'", r.Name)) {
		return nil
	}
	err = dir.Revoke(ctx, inv.Caller.TenantID, u.ID, r.ID)
	switch {
	case errors.Is(err, store.ErrLastAdmin):
		inv.WriteError(engine.NewErrorRecord(psgate.E(psgate.CodeLastAdmin, psgate.Args{
			"upn": u.UPN, "tenant": tenantLabel(inv.Caller),
		}), "LastAdministrator", engine.CategoryInvalidOperation, u.UPN))
		return nil
	case errors.Is(err, store.ErrNotFound):
		inv.WriteError(invalidOperation("RoleNotAssigned", u.UPN,
			fmt.Sprintf("The user '%s' does not hold the role '%s'.", u.UPN, r.Name)))
		return nil
	case err != nil:
		return storeError(inv, "revoke role", err)
	}
	inv.WriteVerbose(fmt.Sprintf("Revoked the role '%s' from %s.", r.Name, u.UPN))
	return nil
}

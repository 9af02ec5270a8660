package cmdlets

import (
	"context"
	"strings"

	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/rbac"
)

func testCsAdminPermission(dir Directory) *engine.Command {
	return &engine.Command{
		Name:     "Test-CsAdminPermission",
		Synopsis: "Says whether a user's roles allow a cmdlet or parameter, and which role decides.",
		Description: "The Test-CsAdminPermission cmdlet explains role-based access: for a cmdlet, " +
			"or one of its parameters, it says whether it is allowed, which of the user's " +
			"roles grant it (GrantedBy), which deny it (DeniedBy; a deny wins over any " +
			"allow), which values the parameter is restricted to, and a sentence saying why.\n\n" +
			"Without -User it answers for you, from the roles you hold now (a role granted " +
			"after your session opened shows here before your next session shows its " +
			"cmdlets). Use it when a cmdlet is \"not recognized\" or a parameter is refused.",
		OutputType: []string{TypeAdminPermission},
		Parameters: []engine.Parameter{
			{
				Name: "Cmdlet", Type: engine.TypeString, Position: 0, Mandatory: true, ValidateNotNullOrEmpty: true,
				Help: "The cmdlet to test, for example Set-CsUser.",
			},
			{
				Name: "Parameter", Type: engine.TypeString, Position: 1, ValidateNotNullOrEmpty: true,
				Help: "A parameter of the cmdlet to test, for example LineURI (without the hyphen).",
			},
			{
				Name: "User", Type: engine.TypeString, Position: engine.NotPositional, ValidateNotNullOrEmpty: true,
				Help: "The user whose roles to test (user principal name or another identity). Defaults to you; only a tenant administrator may name another user.",
			},
		},
		Examples: []engine.Example{
			{
				Code:    "Test-CsAdminPermission -Cmdlet Set-CsUser -Parameter Department",
				Remarks: "Says whether you may change a user's department, and which role decides.",
			},
			{
				Code:    "Test-CsAdminPermission -Cmdlet Grant-CsAdminRole -User bob@contoso.test",
				Remarks: "Says whether Bob Kelly may assign roles.",
			},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			return reported(runTestCsAdminPermission(ctx, inv, dir))
		},
	}
}

func runTestCsAdminPermission(ctx context.Context, inv *engine.Invocation, dir Directory) error {
	userID, upn := inv.Caller.UserID, inv.Caller.UPN
	if inv.Bound("User") {
		u, err := resolveUser(ctx, inv, dir, inv.String("User"))
		if err != nil {
			return err
		}
		if u.ID != inv.Caller.UserID {
			admin, err := isTenantAdmin(ctx, inv, dir)
			if err != nil {
				return err
			}
			if !admin {
				inv.WriteError(forbidden(u.UPN, "only a tenant administrator can test the permissions of other users; run Test-CsAdminPermission without -User to test your own"))
				return errReported
			}
		}
		userID, upn = u.ID, u.UPN
	}
	roles, err := dir.RolesOf(ctx, inv.Caller.TenantID, userID)
	if err != nil {
		return storeError(inv, "read roles", err)
	}
	cmdlet := strings.TrimSpace(inv.String("Cmdlet"))
	if inv.Runspace != nil {
		if cmd, ok := inv.Runspace.Catalog().Lookup(cmdlet); ok {
			cmdlet = cmd.Name
		}
	}
	param := strings.TrimPrefix(strings.TrimSpace(inv.String("Parameter")), "-")
	x := rbac.Compile(roles).Explain(cmdlet, param)
	inv.Write(AdminPermissionObject(upn, x))
	return nil
}

package cmdlets

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/store"
)

func getCsOnlineSession(dir Directory) *engine.Command {
	return &engine.Command{
		Name:     "Get-CsOnlineSession",
		Synopsis: "Gets the open remote PowerShell sessions of your tenant.",
		Description: "The Get-CsOnlineSession cmdlet lists the remote PowerShell sessions (shells) " +
			"that hold a slot against your tenant's limits: each session's identity (the shell " +
			"id), user, client address and user agent, kind (psrp or winrs), state (connected " +
			"or disconnected), when it was opened and last active, and when its slot expires. " +
			"IsCurrentSession marks the session you run the cmdlet in.\n\n" +
			"A tenant administrator sees every session of the tenant; other users see only " +
			"their own. When a new connection is refused because a shell limit is reached, " +
			"use this cmdlet to find the sessions to end with Remove-CsOnlineSession.",
		OutputType: []string{TypeOnlineSession},
		Parameters: []engine.Parameter{
			{
				Name: "User", Type: engine.TypeString, Position: 0, ValidateNotNullOrEmpty: true,
				Help: "Returns only the sessions of this user (user principal name). Only a tenant administrator may name another user.",
			},
		},
		Examples: []engine.Example{
			{Code: "Get-CsOnlineSession", Remarks: "Lists the sessions you may see: all of the tenant's for an administrator, your own otherwise."},
			{
				Code:    "Get-CsOnlineSession -User alice@contoso.test | Format-List",
				Remarks: "Shows every detail of Alice Wong's sessions.",
			},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			return runGetCsOnlineSession(ctx, inv, dir)
		},
	}
}

func runGetCsOnlineSession(ctx context.Context, inv *engine.Invocation, dir Directory) error {
	admin, err := isTenantAdmin(ctx, inv, dir)
	if err != nil {
		return err
	}
	user := inv.String("User")
	if user != "" && !admin && !strings.EqualFold(user, inv.Caller.UPN) {
		return terminating(inv, psgate.E(psgate.CodeForbidden, psgate.Args{
			"reason": "only a tenant administrator can see the sessions of other users; run Get-CsOnlineSession without -User to see your own",
		}), engine.CategoryPermissionDenied, "AccessDenied")
	}
	f := store.LeaseFilter{TenantID: inv.Caller.TenantID}
	if !admin {
		f.UserID = inv.Caller.UserID
	}
	leases, err := dir.Leases(ctx, f)
	if err != nil {
		return storeError(inv, "list sessions", err)
	}
	for _, l := range leases {
		if l.TenantID != inv.Caller.TenantID || !admin && l.UserID != inv.Caller.UserID {
			continue
		}
		if user != "" && !strings.EqualFold(l.UPN, user) {
			continue
		}
		inv.Write(OnlineSessionObject(l, l.ShellID != "" && strings.EqualFold(l.ShellID, inv.Caller.ShellID)))
	}
	return nil
}

func removeCsOnlineSession(dir Directory, closer SessionCloser) *engine.Command {
	return &engine.Command{
		Name:     "Remove-CsOnlineSession",
		Synopsis: "Ends a remote PowerShell session and frees its slot.",
		Description: "The Remove-CsOnlineSession cmdlet ends a remote PowerShell session of your " +
			"tenant: its slot against the shell limits is freed at once and the shell is " +
			"closed; the next request its client sends is told the session was closed.\n\n" +
			"You can remove your own sessions, which is how you recover when a new " +
			"connection is refused because you hold the maximum number of shells. A tenant " +
			"administrator can remove any session of the tenant. Get-CsOnlineSession lists " +
			"the sessions and can be piped to this cmdlet: Get-CsOnlineSession | " +
			"Where-Object IsCurrentSession -eq $false | Remove-CsOnlineSession ends all your " +
			"sessions except the one you are using.",
		OutputType:            []string{"None"},
		SupportsShouldProcess: true,
		Parameters: []engine.Parameter{
			{
				Name: "Identity", Type: engine.TypeString, Position: 0, Mandatory: true,
				ValueFromPipelineByPropertyName: true, ValidateNotNullOrEmpty: true,
				Help: "The identity of the session (its shell id), as Get-CsOnlineSession shows it.",
			},
		},
		Examples: []engine.Example{
			{
				Code:    "Remove-CsOnlineSession -Identity 5C1B2E7A-3F4D-4E0B-9A61-2D8C7E5F1A30",
				Remarks: "Ends one session.",
			},
			{
				Code:    "Remove-CsOnlineSession -Identity 5C1B2E7A-3F4D-4E0B-9A61-2D8C7E5F1A30 -WhatIf",
				Remarks: "Shows which session and user would be ended, without ending it.",
			},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			return reported(runRemoveCsOnlineSession(ctx, inv, dir, closer))
		},
	}
}

func runRemoveCsOnlineSession(ctx context.Context, inv *engine.Invocation, dir Directory, closer SessionCloser) error {
	id := inv.String("Identity")
	l, err := dir.Lease(ctx, id)
	if canon := strings.ToUpper(strings.Trim(strings.TrimSpace(id), "{}")); errors.Is(err, store.ErrNotFound) && canon != id {
		// Shell ids are GUIDs, which the gateway keeps in upper case: any
		// case, and braces, name the same shell.
		l, err = dir.Lease(ctx, canon)
	}
	if errors.Is(err, store.ErrNotFound) || err == nil && l.TenantID != inv.Caller.TenantID {
		inv.WriteError(notFound(inv, id))
		return nil
	}
	if err != nil {
		return storeError(inv, "read session", err)
	}
	if l.UserID != inv.Caller.UserID {
		admin, err := isTenantAdmin(ctx, inv, dir)
		if err != nil {
			return err
		}
		if !admin {
			inv.WriteError(forbidden(id, "you can remove only your own sessions; a tenant administrator can remove any session of the tenant"))
			return nil
		}
	}
	if !inv.ShouldProcess(fmt.Sprintf("%s (%s)", l.ShellID, l.UPN), "Remove-CsOnlineSession") {
		return nil
	}
	if err := dir.ReleaseLease(ctx, l.ShellID, ""); errors.Is(err, store.ErrNotFound) {
		inv.WriteError(notFound(inv, id))
		return nil
	} else if err != nil {
		return storeError(inv, "release session", err)
	}
	closed := closer != nil && closer.CloseSession(ctx, l.ShellID, inv.Caller.UPN)
	if closed {
		inv.WriteVerbose(fmt.Sprintf("Closed session %s of %s.", l.ShellID, l.UPN))
	} else {
		inv.WriteVerbose(fmt.Sprintf("Freed the slot of session %s of %s; its node closes the shell.", l.ShellID, l.UPN))
	}
	return nil
}

package cmdlets

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/store"
)

// lineURIPattern accepts E.164 numbers with an optional extension, as
// Teams and Skype for Business store them: tel:+14255550100;ext=100.
var lineURIPattern = regexp.MustCompile(`^(?i:tel:)\+?[0-9]{3,15}(;ext=[0-9]{1,10})?$`)

func setCsUser(dir Directory, closer SessionCloser) *engine.Command {
	str := func(name, help string) engine.Parameter {
		return engine.Parameter{Name: name, Type: engine.TypeString, Position: engine.NotPositional, Help: help}
	}
	return &engine.Command{
		Name:     "Set-CsUser",
		Synopsis: "Changes the voice settings and profile of a user of your tenant.",
		Description: "The Set-CsUser cmdlet changes a user of the tenant you are signed in to: " +
			"whether the user is enabled for Enterprise Voice, the phone number (LineURI), " +
			"the display name, department, title and usage location, and whether the " +
			"account is enabled for sign-in. Only the parameters you pass are changed.\n\n" +
			"Like Microsoft's cmdlet it writes nothing by default; use -PassThru to get the " +
			"updated user. -WhatIf shows what would change without changing it. The user " +
			"can be piped from Get-CsOnlineUser.",
		OutputType:            []string{TypeOnlineUser},
		SupportsShouldProcess: true,
		Parameters: []engine.Parameter{
			{
				Name: "Identity", Type: engine.TypeString, Position: 0, Mandatory: true,
				ValueFromPipelineByPropertyName: true, ValidateNotNullOrEmpty: true,
				Help: "The user to change: user principal name, SIP address, object id or a display name that matches one user.",
			},
			{
				Name: "EnterpriseVoiceEnabled", Type: engine.TypeBool, Position: engine.NotPositional,
				Help: "$true enables the user for Enterprise Voice (calls to and from the phone network); $false disables it.",
			},
			str("LineURI", "The user's phone number as a tel URI, for example tel:+14255550100 or tel:+14255550100;ext=100. An empty string removes it."),
			str("DisplayName", "The name shown for the user in the directory."),
			str("Department", "The user's department."),
			str("Title", "The user's job title."),
			str("UsageLocation", "The two-letter country code (ISO 3166-1) of where the user uses the service, for example US."),
			{
				Name: "Enabled", Type: engine.TypeBool, Position: engine.NotPositional,
				Help: "$false blocks the user from signing in to PowerShell; $true allows it again.",
			},
			{
				Name: "PassThru", Type: engine.TypeSwitch, Position: engine.NotPositional,
				Help: "Writes the updated user to the pipeline.",
			},
		},
		Examples: []engine.Example{
			{
				Code:    "Set-CsUser -Identity alice@contoso.test -EnterpriseVoiceEnabled $true -LineURI tel:+14255550100",
				Remarks: "Enables Alice Wong for Enterprise Voice and gives her a phone number.",
			},
			{
				Code:    "Set-CsUser -Identity bob@contoso.test -Department Sales -WhatIf",
				Remarks: "Shows what would change, without changing it.",
			},
			{
				Code:    "Set-CsUser -Identity carol@contoso.test -Enabled $false -PassThru",
				Remarks: "Blocks Carol Diaz from signing in and shows the updated user.",
			},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			return reported(runSetCsUser(ctx, inv, dir, closer))
		},
	}
}

func runSetCsUser(ctx context.Context, inv *engine.Invocation, dir Directory, closer SessionCloser) error {
	if inv.Bound("LineURI") {
		if v := inv.String("LineURI"); v != "" && !lineURIPattern.MatchString(v) {
			return terminating(inv, psgate.E(psgate.CodeParameterValidation, psgate.Args{
				"name": "LineURI", "detail": "'" + v + "' is not a tel URI; use tel:+<country code><number>, for example tel:+14255550100.",
			}), engine.CategoryInvalidArgument, "ParameterArgumentValidationError")
		}
	}
	if inv.Bound("UsageLocation") {
		if v := inv.String("UsageLocation"); v != "" && !isCountryCode(v) {
			return terminating(inv, psgate.E(psgate.CodeParameterValidation, psgate.Args{
				"name": "UsageLocation", "detail": "'" + v + "' is not a two-letter country code such as US or DE.",
			}), engine.CategoryInvalidArgument, "ParameterArgumentValidationError")
		}
	}
	identity := inv.String("Identity")
	u, err := resolveUser(ctx, inv, dir, identity)
	if err != nil {
		return err
	}
	wasEnabled := u.Enabled
	changed := applyUserChanges(inv, &u)
	if !inv.ShouldProcess(u.UPN, "Set-CsUser") {
		return nil
	}
	if changed {
		if u, err = dir.UpdateUser(ctx, u); err != nil {
			return storeError(inv, "update user", err)
		}
	}
	if wasEnabled && !u.Enabled {
		if err := endSessions(ctx, inv, dir, closer, u); err != nil {
			return err
		}
	}
	if inv.Switch("PassThru") && u.TenantID == inv.Caller.TenantID {
		inv.Write(OnlineUserObject(u))
	}
	return nil
}

// applyUserChanges copies the bound parameters into u and reports whether
// anything differs.
func applyUserChanges(inv *engine.Invocation, u *store.User) bool {
	changed := false
	setString := func(name string, field *string) {
		if inv.Bound(name) && inv.String(name) != *field {
			*field, changed = inv.String(name), true
		}
	}
	setBool := func(name string, field *bool) {
		if v, ok := inv.Params[name].(bool); ok && v != *field {
			*field, changed = v, true
		}
	}
	setBool("EnterpriseVoiceEnabled", &u.EnterpriseVoiceEnabled)
	setBool("Enabled", &u.Enabled)
	if inv.Bound("LineURI") {
		v := inv.String("LineURI")
		if strings.HasPrefix(strings.ToLower(v), "tel:") {
			v = "tel:" + v[4:]
		}
		if v != u.LineURI {
			u.LineURI, changed = v, true
		}
	}
	setString("DisplayName", &u.DisplayName)
	setString("Department", &u.Department)
	setString("Title", &u.Title)
	if inv.Bound("UsageLocation") {
		if v := strings.ToUpper(inv.String("UsageLocation")); v != u.UsageLocation {
			u.UsageLocation, changed = v, true
		}
	}
	return changed
}

func isCountryCode(s string) bool {
	if len(s) != 2 {
		return false
	}
	for _, c := range strings.ToUpper(s) {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// endSessions ends the sessions of a user whose account was just
// disabled: their slots are freed at once, the shells of this node are
// closed, and the other nodes close theirs when their lease renewal finds
// the slot gone. (Until then every command in them is refused: the
// gateway re-reads the account before each command.) The caller's own
// shell keeps running the current command and is closed by the renewal.
func endSessions(ctx context.Context, inv *engine.Invocation, dir Directory, closer SessionCloser, u store.User) error {
	leases, err := dir.Leases(ctx, store.LeaseFilter{TenantID: u.TenantID, UserID: u.ID})
	if err != nil {
		return storeError(inv, "list sessions", err)
	}
	for _, l := range leases {
		if err := dir.ReleaseLease(ctx, l.ShellID, ""); err != nil && !errors.Is(err, store.ErrNotFound) {
			return storeError(inv, "release session", err)
		}
		if l.ShellID != inv.Caller.ShellID && closer != nil && closer.CloseSession(ctx, l.ShellID, inv.Caller.UPN) {
			inv.WriteVerbose(fmt.Sprintf("Closed session %s of %s.", l.ShellID, u.UPN))
		}
	}
	return nil
}

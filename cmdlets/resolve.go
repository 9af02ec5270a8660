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

// errReported tells a cmdlet that the failure was already written as a
// non-terminating error record and it should go on with the next input.
var errReported = errors.New("cmdlets: reported")

// resolveUser finds exactly one user of the caller's tenant by identity.
// No match writes an ObjectNotFound record and an ambiguous display name
// an InvalidOperation record; both return errReported.
func resolveUser(ctx context.Context, inv *engine.Invocation, dir Directory, identity string) (store.User, error) {
	users, err := findUsers(ctx, inv, dir, identity)
	if err != nil {
		return store.User{}, err
	}
	switch len(users) {
	case 0:
		inv.WriteError(notFound(inv, identity))
		return store.User{}, errReported
	case 1:
		return users[0], nil
	}
	upns := make([]string, len(users))
	for i, u := range users {
		upns[i] = u.UPN
	}
	inv.WriteError(invalidOperation("AmbiguousIdentity", identity, fmt.Sprintf(
		"The identity '%s' matches %d users (%s); use a user principal name.",
		identity, len(users), strings.Join(upns, ", "))))
	return store.User{}, errReported
}

// resolveRole finds a role visible to the caller's tenant by name; an
// unknown name writes an ObjectNotFound record naming the roles there are.
func resolveRole(ctx context.Context, inv *engine.Invocation, dir Directory, name string) (store.Role, error) {
	tenant := inv.Caller.TenantID
	r, err := dir.RoleByName(ctx, tenant, name)
	if err == nil && (r.TenantID == 0 || r.TenantID == tenant) {
		return r, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Role{}, storeError(inv, "find role", err)
	}
	rec := notFound(inv, name)
	if roles, err := dir.ListRoles(ctx, tenant); err == nil {
		names := make([]string, 0, len(roles))
		for _, r := range roles {
			if r.TenantID == 0 || r.TenantID == tenant {
				names = append(names, "'"+r.Name+"'")
			}
		}
		rec.Err.Resolution = "Use one of the roles " + strings.Join(names, ", ") + " (Get-CsAdminRole lists them)."
	}
	inv.WriteError(rec)
	return store.Role{}, errReported
}

// isTenantAdmin reports whether the caller holds the Tenant Administrator
// role, as the store says now (not as the session started).
func isTenantAdmin(ctx context.Context, inv *engine.Invocation, dir Directory) (bool, error) {
	roles, err := dir.RolesOf(ctx, inv.Caller.TenantID, inv.Caller.UserID)
	if err != nil {
		return false, storeError(inv, "read caller roles", err)
	}
	for _, r := range roles {
		if strings.EqualFold(r.Name, store.RoleTenantAdministrator) && (r.TenantID == 0 || r.TenantID == inv.Caller.TenantID) {
			return true, nil
		}
	}
	return false, nil
}

// invalidOperation is a non-terminating InvalidOperation record.
func invalidOperation(errorID string, target any, detail string) *engine.ErrorRecord {
	return engine.NewErrorRecord(psgate.E(psgate.CodeInvalidOperation, psgate.Args{"detail": detail}),
		errorID, engine.CategoryInvalidOperation, target)
}

// forbidden is a non-terminating PermissionDenied record.
func forbidden(target any, reason string) *engine.ErrorRecord {
	return engine.NewErrorRecord(psgate.E(psgate.CodeForbidden, psgate.Args{"reason": reason}),
		"AccessDenied", engine.CategoryPermissionDenied, target)
}

// reported swallows errReported: the record is written, the cmdlet goes on.
func reported(err error) error {
	if errors.Is(err, errReported) {
		return nil
	}
	return err
}

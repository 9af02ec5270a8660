package rbac

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/store"
)

// RoleLister lists the roles visible to a tenant: the built-in roles and
// the tenant's own (store.Roles.ListRoles).
type RoleLister interface {
	ListRoles(ctx context.Context, tenantID psgate.TenantID) ([]store.Role, error)
}

// Authorizer trims a runspace to one caller's roles: it implements the
// engine's Authorizer. The admission package wraps it to re-read the roles
// before every pipeline (SetRoles) and to audit commands.
type Authorizer struct {
	rights   atomic.Pointer[rights]
	tenantID psgate.TenantID
	// lister finds, for a refusal, the tenant's roles that would allow
	// the refused call; nil leaves that out of the message.
	lister RoleLister
}

// rights are a caller's roles as last read.
type rights struct {
	roles []store.Role
	perms *Permissions
	names []string
}

func newRights(roles []store.Role) *rights {
	names := make([]string, 0, len(roles))
	for _, r := range roles {
		names = appendUnique(names, r.Name)
	}
	return &rights{roles: roles, perms: Compile(roles), names: names}
}

var _ engine.Authorizer = (*Authorizer)(nil)

// NewAuthorizer returns the authorizer for a user of tenantID who holds
// roles. lister (may be nil) is asked, when a call is refused, which of the
// tenant's roles would allow it.
func NewAuthorizer(roles []store.Role, tenantID psgate.TenantID, lister RoleLister) *Authorizer {
	a := &Authorizer{tenantID: tenantID, lister: lister}
	a.rights.Store(newRights(roles))
	return a
}

// Roles names the caller's roles.
func (a *Authorizer) Roles() []string { return append([]string(nil), a.rights.Load().names...) }

// Permissions returns the caller's compiled permissions.
func (a *Authorizer) Permissions() *Permissions { return a.rights.Load().perms }

// Visible reports whether the caller's runspace shows cmd.
func (a *Authorizer) Visible(cmd *engine.Command) bool {
	return cmd != nil && a.Permissions().Visible(cmd.Name)
}

// Explain says which of the caller's roles grant or deny the command or
// its parameter.
func (a *Authorizer) Explain(cmdlet, parameter string) Explanation {
	return a.Permissions().Explain(cmdlet, parameter)
}

// SetRoles replaces the caller's roles, as re-read from the store; the
// next check uses them. It is safe to call while commands run.
func (a *Authorizer) SetRoles(roles []store.Role) {
	if cur := a.rights.Load(); !reflect.DeepEqual(cur.roles, roles) {
		a.rights.Store(newRights(roles))
	}
}

// Authorize refuses a call the caller's roles do not allow: a hidden
// command is "not recognized" (engine.command-not-found), a bound
// parameter outside the roles is engine.parameter-denied and a value
// outside AllowedValues engine.parameter-value-denied. The message names
// the tenant's roles that would allow the call.
func (a *Authorizer) Authorize(ctx context.Context, cmd *engine.Command, inv *engine.Invocation) error {
	if cmd == nil {
		return psgate.E(psgate.CodeCommandNotFound, psgate.Args{"name": ""})
	}
	perms := a.Permissions()
	if !perms.Visible(cmd.Name) {
		return psgate.E(psgate.CodeCommandNotFound, psgate.Args{"name": cmd.Name})
	}
	if inv == nil || len(inv.Params) == 0 {
		return nil
	}
	names := make([]string, 0, len(inv.Params))
	for name := range inv.Params {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if perms.AllowsParameter(cmd.Name, name) {
			continue
		}
		roles := a.rolesAllowing(ctx, func(ps *Permissions) bool { return ps.AllowsParameter(cmd.Name, name) })
		return psgate.E(psgate.CodeParameterDenied, psgate.Args{
			"name": name, "command": cmd.Name, "allowed_by": allowedBy(roles),
		}).With("parameter", name).With("allowed-by", strings.Join(roles, ", "))
	}
	for _, name := range names {
		v := inv.Params[name]
		bad, denied := perms.deniedValue(cmd.Name, name, v)
		if !denied {
			continue
		}
		roles := a.rolesAllowing(ctx, func(ps *Permissions) bool { return ps.AllowsValue(cmd.Name, name, bad) })
		hint := ""
		if vs := perms.allowedValues(cmd.Name, name); len(vs) > 0 {
			hint = " Your roles allow " + quoteList(vs) + "."
		}
		return psgate.E(psgate.CodeValueDenied, psgate.Args{
			"value": bad, "name": name, "command": cmd.Name, "allowed_by": hint + allowedBy(roles),
		}).With("parameter", name).With("allowed-by", strings.Join(roles, ", "))
	}
	return nil
}

// rolesAllowing returns the names of the tenant's roles that, on their
// own, pass ok. Failures to list roles leave the list empty: the call is
// refused either way.
func (a *Authorizer) rolesAllowing(ctx context.Context, ok func(*Permissions) bool) []string {
	if a.lister == nil {
		return nil
	}
	roles, err := a.lister.ListRoles(ctx, a.tenantID)
	if err != nil {
		return nil
	}
	var out []string
	for _, r := range roles {
		if ok(Compile([]store.Role{r})) {
			out = append(out, r.Name)
		}
	}
	return out
}

// allowedBy is the sentence appended to a refusal: which roles would allow
// the call.
func allowedBy(roles []string) string {
	switch len(roles) {
	case 0:
		return " No role of this tenant allows it."
	case 1:
		return " Role '" + roles[0] + "' allows it."
	}
	return " R" + roleList(roles)[1:] + " allow it."
}

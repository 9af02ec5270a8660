package cmdlets

import (
	"sort"
	"strings"

	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/rbac"
	"github.com/psgate/psgate/store"
)

// Type names of the administration objects.
const (
	TypeAdminRole              = "Psgate.AdminRole"
	TypeAdminRoleEntry         = "Psgate.AdminRoleEntry"
	TypeTenantPowerShellPolicy = "Psgate.TenantPowerShellPolicy"
	TypeOnlineSession          = "Psgate.OnlineSession"
	TypeAdminAuditRecord       = "Psgate.AdminAuditRecord"
	TypeAdminPermission        = "Psgate.AdminPermission"
)

// AdminRoleObject converts a role and the UPNs of its members in the
// caller's tenant to the object Get-CsAdminRole writes.
func AdminRoleObject(r store.Role, members []string) *psobject.Object {
	entries := make([]any, 0, len(r.Entries))
	for _, e := range r.Entries {
		entries = append(entries, roleEntryObject(e))
	}
	scope := "Tenant"
	if r.BuiltIn || r.TenantID == 0 {
		scope = "BuiltIn"
	}
	m := make([]any, len(members))
	for i, u := range members {
		m[i] = u
	}
	o := psobject.New([]string{TypeAdminRole, "System.Object"},
		psobject.P("Identity", r.Name),
		psobject.P("Name", r.Name),
		psobject.P("Description", r.Description),
		psobject.P("Scope", scope),
		psobject.P("IsBuiltIn", r.BuiltIn || r.TenantID == 0),
		psobject.P("Entries", entries),
		psobject.P("Members", m),
	)
	o.Text = r.Name
	o.DisplayProps = []string{"Name", "Scope", "Members", "Description"}
	return o
}

// roleEntryObject shows one role entry; its text reads like
// "allow Set-CsUser -Identity, -LineURI (LineURI: tel:+1425*)".
func roleEntryObject(e store.RoleEntry) *psobject.Object {
	params := make([]any, len(e.Parameters))
	for i, p := range e.Parameters {
		params[i] = p
	}
	keys := make([]string, 0, len(e.AllowedValues))
	for k := range e.AllowedValues {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var values []any
	var b strings.Builder
	if e.Deny {
		b.WriteString("deny ")
	} else {
		b.WriteString("allow ")
	}
	b.WriteString(e.Cmdlet)
	if len(e.Parameters) > 0 {
		b.WriteString(" -" + strings.Join(e.Parameters, ", -"))
	}
	for _, k := range keys {
		v := k + ": " + strings.Join(e.AllowedValues[k], ", ")
		values = append(values, v)
		b.WriteString(" (" + v + ")")
	}
	action := "Allow"
	if e.Deny {
		action = "Deny"
	}
	o := psobject.New([]string{TypeAdminRoleEntry, "System.Object"},
		psobject.P("Action", action),
		psobject.P("Cmdlet", e.Cmdlet),
		psobject.P("Parameters", params),
		psobject.P("AllowedValues", values),
	)
	o.Text = b.String()
	return o
}

// TenantPowerShellPolicyObject converts a tenant's policy to the object
// Get-CsTenantPowerShellPolicy writes (a list view).
func TenantPowerShellPolicyObject(t store.Tenant) *psobject.Object {
	p := t.Policy
	o := psobject.New([]string{TypeTenantPowerShellPolicy, "System.Object"},
		psobject.P("Identity", "Global"),
		psobject.P("Tenant", t.Name),
		psobject.P("EnableRemotePowerShellAccess", p.EnableRemotePowerShellAccess),
		psobject.P("MaxShellsPerUser", int32(p.MaxShellsPerUser)),
		psobject.P("MaxShellsPerTenant", int32(p.MaxShellsPerTenant)),
		psobject.P("SessionLifetime", p.SessionLifetime),
		psobject.P("IdleTimeout", p.IdleTimeout),
		psobject.P("MaxShellCreationsPerMinute", int32(p.MaxShellCreationsPerMinute)),
		psobject.P("AllowPasswordAuthentication", p.AllowPasswordAuthentication),
	)
	o.Text = "Global"
	o.DisplayProps = []string{
		"Identity", "EnableRemotePowerShellAccess", "MaxShellsPerUser", "MaxShellsPerTenant",
		"SessionLifetime", "IdleTimeout", "MaxShellCreationsPerMinute", "AllowPasswordAuthentication",
	}
	return o
}

// OnlineSessionObject converts a lease to the object Get-CsOnlineSession
// writes; current marks the caller's own shell.
func OnlineSessionObject(l store.Lease, current bool) *psobject.Object {
	last := l.LastActiveAt
	if last.IsZero() {
		last = l.OpenedAt
	}
	o := psobject.New([]string{TypeOnlineSession, "System.Object"},
		psobject.P("Identity", l.ShellID),
		psobject.P("User", l.UPN),
		psobject.P("ClientAddress", l.ClientAddr),
		psobject.P("UserAgent", l.UserAgent),
		psobject.P("Kind", l.Kind),
		psobject.P("State", l.State),
		psobject.P("Name", l.Name),
		psobject.P("OpenedAt", timeOrNil(l.OpenedAt)),
		psobject.P("LastActive", timeOrNil(last)),
		psobject.P("ExpiresAt", timeOrNil(l.ExpiresAt)),
		psobject.P("IsCurrentSession", current),
	)
	o.Text = l.ShellID
	o.DisplayProps = []string{"Identity", "User", "ClientAddress", "LastActive"}
	return o
}

// AdminAuditRecordObject converts an audit record to the object
// Search-CsAdminAuditLog writes.
func AdminAuditRecordObject(r store.AuditRecord) *psobject.Object {
	op := r.Cmdlet
	if op == "" {
		op = r.Action
	}
	o := psobject.New([]string{TypeAdminAuditRecord, "System.Object"},
		psobject.P("Identity", r.ID),
		psobject.P("Time", timeOrNil(r.Time)),
		psobject.P("User", r.UPN),
		psobject.P("Operation", op),
		psobject.P("Action", r.Action),
		psobject.P("Cmdlet", r.Cmdlet),
		psobject.P("Parameters", r.Parameters),
		psobject.P("Outcome", r.Outcome),
		psobject.P("ErrorCode", r.Code),
		psobject.P("Duration", r.Duration),
		psobject.P("ClientAddress", r.ClientAddr),
		psobject.P("ShellId", r.ShellID),
		psobject.P("CommandId", r.CommandID),
		psobject.P("Detail", r.Detail),
	)
	o.DisplayProps = []string{"Time", "User", "Operation", "Outcome"}
	return o
}

// AdminPermissionObject converts an explanation for a user to the object
// Test-CsAdminPermission writes (a list view).
func AdminPermissionObject(upn string, x rbac.Explanation) *psobject.Object {
	o := psobject.New([]string{TypeAdminPermission, "System.Object"},
		psobject.P("User", upn),
		psobject.P("Cmdlet", x.Cmdlet),
		psobject.P("Parameter", x.Parameter),
		psobject.P("Allowed", x.Allowed),
		psobject.P("GrantedBy", stringsAny(x.GrantedBy)),
		psobject.P("DeniedBy", stringsAny(x.DeniedBy)),
		psobject.P("AllowedValues", stringsAny(x.AllowedValues)),
		psobject.P("Reason", x.Reason),
	)
	o.Text = x.Reason
	o.DisplayProps = []string{"User", "Cmdlet", "Parameter", "Allowed", "GrantedBy", "DeniedBy", "AllowedValues", "Reason"}
	return o
}

func stringsAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

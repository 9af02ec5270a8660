package rbac

import (
	"fmt"
	"strings"
)

// Explanation says why the roles allow or refuse a command or one of its
// parameters. It backs Test-CsAdminPermission.
type Explanation struct {
	Cmdlet string
	// Parameter is empty when the question is about the command itself.
	Parameter string
	Allowed   bool
	// AlwaysVisible is set for the commands every session has.
	AlwaysVisible bool
	// GrantedBy names the roles with an entry that allows it; DeniedBy the
	// roles with a deny entry that forbids it (deny wins).
	GrantedBy []string
	DeniedBy  []string
	// AllowedValues lists the value patterns Parameter is restricted to;
	// nil means any value.
	AllowedValues []string
	// Reason is one sentence for people.
	Reason string
}

// Explain says which roles grant or deny the command, or, when parameter
// is not empty, that parameter of the command.
func (ps *Permissions) Explain(cmdlet, parameter string) Explanation {
	x := Explanation{Cmdlet: cmdlet, Parameter: parameter}
	if ps.isBuiltin(cmdlet) {
		x.AlwaysVisible, x.Allowed = true, true
		x.Reason = fmt.Sprintf("%s is available in every session, whatever the roles.", cmdlet)
		return x
	}
	for _, r := range ps.allow {
		if r.cmdlet.match(cmdlet) && (parameter == "" || r.namesParam(parameter)) {
			x.GrantedBy = appendUnique(x.GrantedBy, r.role)
		}
	}
	for _, r := range ps.deny {
		if !r.cmdlet.match(cmdlet) {
			continue
		}
		if r.wholeCmdlet() || parameter != "" && r.deniesParam(parameter) {
			x.DeniedBy = appendUnique(x.DeniedBy, r.role)
		}
	}
	subject, object := cmdlet, cmdlet
	if parameter != "" {
		subject = fmt.Sprintf("Parameter '%s' of %s", parameter, cmdlet)
		object = "p" + subject[1:]
		if ps.common[strings.ToLower(parameter)] && ps.Visible(cmdlet) {
			x.Allowed = true
			x.Reason = fmt.Sprintf("%s is a common parameter, allowed wherever the command is.", subject)
			return x
		}
	}
	if parameter == "" {
		x.Allowed = ps.Visible(cmdlet)
	} else {
		x.Allowed = ps.AllowsParameter(cmdlet, parameter)
		if x.Allowed {
			x.AllowedValues = ps.allowedValues(cmdlet, parameter)
		}
	}
	switch {
	case x.Allowed:
		x.Reason = fmt.Sprintf("%s is allowed by %s.", subject, roleList(x.GrantedBy))
		if len(x.AllowedValues) > 0 {
			x.Reason = strings.TrimSuffix(x.Reason, ".") + ", with the values " + quoteList(x.AllowedValues) + "."
		}
	case len(x.DeniedBy) > 0 && len(x.GrantedBy) > 0:
		x.Reason = fmt.Sprintf("%s is denied by %s, which wins over the allow of %s.",
			subject, roleList(x.DeniedBy), roleList(x.GrantedBy))
	case len(x.DeniedBy) > 0:
		x.Reason = fmt.Sprintf("%s is denied by %s.", subject, roleList(x.DeniedBy))
	case parameter != "" && !ps.Visible(cmdlet):
		x.Reason = fmt.Sprintf("None of your roles allows %s.", cmdlet)
	default:
		x.Reason = fmt.Sprintf("None of your roles allows %s.", object)
	}
	return x
}

// roleList renders role names: "role 'A'", "roles 'A' and 'B'",
// "roles 'A', 'B' and 'C'".
func roleList(names []string) string {
	switch len(names) {
	case 0:
		return "no role"
	case 1:
		return "role '" + names[0] + "'"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	return "roles " + strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

// quoteList renders values as 'a', 'b'.
func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = "'" + v + "'"
	}
	return strings.Join(q, ", ")
}

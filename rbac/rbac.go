package rbac

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/store"
)

// AlwaysVisible returns the commands every session may see and run
// whatever its roles: discovery, formatting and output commands that
// PowerShell clients and the engine rely on. Keys are command names or
// wildcard patterns. Invoke-Expression is here because the engine
// authorizes the commands it runs one by one.
func AlwaysVisible() map[string]bool {
	return map[string]bool{
		"Get-Command":       true,
		"Get-Help":          true,
		"Get-FormatData":    true,
		"Get-Date":          true,
		"Select-Object":     true,
		"Where-Object":      true,
		"Sort-Object":       true,
		"Group-Object":      true,
		"Measure-Object":    true,
		"Format-*":          true,
		"Out-*":             true,
		"Write-*":           true,
		"Invoke-Expression": true,
		"Exit-PSSession":    true,
		"prompt":            true,
		// The console host's Tab key; it completes only what the
		// caller may see.
		"TabExpansion2": true,
		// Test-CsAdminPermission explains refusals, which tell users to
		// run it; it answers about other users to administrators only.
		"Test-CsAdminPermission": true,
		"Start-Sleep":            true,
	}
}

// commonParameters returns PowerShell's common parameters, lower-cased.
// Every role allows them: they change how a command reports or asks, not
// what it does.
func commonParameters() map[string]bool {
	return map[string]bool{
		"verbose": true, "debug": true, "erroraction": true, "warningaction": true,
		"informationaction": true, "progressaction": true, "errorvariable": true,
		"warningvariable": true, "informationvariable": true, "outvariable": true,
		"outbuffer": true, "pipelinevariable": true, "whatif": true, "confirm": true,
	}
}

// pattern is a case-insensitive command, parameter or value pattern.
type pattern struct {
	text string
	w    *engine.Wildcard // nil: compared literally
}

// newPattern compiles s as a PowerShell wildcard. A pattern that does not
// compile (an unterminated "[") is compared literally.
func newPattern(s string) pattern {
	s = strings.TrimSpace(s)
	if engine.HasWildcard(s) {
		if w, err := engine.CompileWildcard(s, false); err == nil {
			return pattern{text: s, w: w}
		}
	}
	return pattern{text: s}
}

func (p pattern) match(s string) bool {
	if p.w != nil {
		return p.w.Match(s)
	}
	return strings.EqualFold(p.text, s)
}

func matchAny(ps []pattern, s string) bool {
	for _, p := range ps {
		if p.match(s) {
			return true
		}
	}
	return false
}

// rule is one compiled role entry.
type rule struct {
	role   string
	cmdlet pattern
	// params are the listed parameters; anyParam is set by "*".
	params   []pattern
	anyParam bool
	// values restricts values by lower-cased parameter name.
	values map[string][]pattern
	deny   bool
}

func compileRule(role string, e store.RoleEntry) rule {
	r := rule{role: role, cmdlet: newPattern(e.Cmdlet), deny: e.Deny}
	for _, p := range e.Parameters {
		if strings.TrimSpace(p) == "*" {
			r.anyParam = true
			continue
		}
		r.params = append(r.params, newPattern(p))
	}
	if !r.deny && len(e.Parameters) == 0 {
		r.anyParam = true // an allow entry without a list allows every parameter
	}
	for name, vs := range e.AllowedValues {
		key := strings.ToLower(strings.TrimSpace(name))
		if r.values == nil {
			r.values = map[string][]pattern{}
		}
		for _, v := range vs {
			r.values[key] = append(r.values[key], newPattern(v))
		}
	}
	return r
}

// wholeCmdlet reports whether a deny rule hides the command itself.
func (r rule) wholeCmdlet() bool {
	return r.deny && len(r.params) == 0 && !r.anyParam && len(r.values) == 0
}

// namesParam reports whether the rule's parameter list covers name.
func (r rule) namesParam(name string) bool {
	return r.anyParam || matchAny(r.params, name)
}

// valuePatterns returns the rule's value patterns for a parameter; nil
// when it constrains none.
func (r rule) valuePatterns(param string) []pattern {
	return r.values[strings.ToLower(param)]
}

// deniesParam reports whether a deny rule forbids the parameter outright.
// A parameter with listed values is denied only for those values.
func (r rule) deniesParam(param string) bool {
	return r.deny && r.namesParam(param) && r.valuePatterns(param) == nil
}

// Permissions are the effective rights of a set of roles. Deny entries win
// over allow entries of any role.
type Permissions struct {
	builtin []pattern
	common  map[string]bool
	allow   []rule
	deny    []rule
}

// Compile evaluates roles into permissions. The semantics of a role entry:
//
//   - An allow entry grants every command matching its Cmdlet pattern. Its
//     Parameters list the parameters it allows (empty, or containing "*":
//     all of them); AllowedValues restricts a parameter's values to the
//     listed wildcard patterns, compared case-insensitively. Rights are the
//     union of the allow entries: a value is allowed when any entry that
//     allows the parameter leaves it unrestricted or lists a matching
//     pattern.
//   - A deny entry with neither Parameters nor AllowedValues hides the
//     command. Otherwise it forbids each listed parameter ("*": all), and
//     for a parameter with AllowedValues, only the listed values (the keys
//     of AllowedValues count as listed). Denials override every allow.
//   - The commands of AlwaysVisible and PowerShell's common parameters are
//     allowed whatever the roles say.
func Compile(roles []store.Role) *Permissions {
	f := fixedRights()
	ps := &Permissions{builtin: f.builtin, common: f.common}
	for _, role := range roles {
		for _, e := range role.Entries {
			if strings.TrimSpace(e.Cmdlet) == "" {
				continue
			}
			r := compileRule(role.Name, e)
			if r.deny {
				ps.deny = append(ps.deny, r)
			} else {
				ps.allow = append(ps.allow, r)
			}
		}
	}
	return ps
}

// fixed is the part of every Permissions that no role changes: the
// patterns of AlwaysVisible and the common parameters. Every Permissions
// shares the one compiled copy and only reads it: compiled for each, it
// was two thirds of the memory of an idle shell's rights.
type fixed struct {
	builtin []pattern
	common  map[string]bool
}

var fixedRights = sync.OnceValue(func() fixed {
	f := fixed{common: commonParameters()}
	for name := range AlwaysVisible() {
		f.builtin = append(f.builtin, newPattern(name))
	}
	return f
})

// isBuiltin reports whether cmdlet is always visible.
func (ps *Permissions) isBuiltin(cmdlet string) bool {
	return matchAny(ps.builtin, cmdlet)
}

// Visible reports whether the roles show the command.
func (ps *Permissions) Visible(cmdlet string) bool {
	if ps.isBuiltin(cmdlet) {
		return true
	}
	for _, r := range ps.deny {
		if r.wholeCmdlet() && r.cmdlet.match(cmdlet) {
			return false
		}
	}
	for _, r := range ps.allow {
		if r.cmdlet.match(cmdlet) {
			return true
		}
	}
	return false
}

// unrestricted reports whether the parameter of a visible command escapes
// role checks (built-in command or common parameter).
func (ps *Permissions) unrestricted(cmdlet, param string) bool {
	return ps.isBuiltin(cmdlet) || ps.common[strings.ToLower(param)]
}

// AllowsParameter reports whether the roles allow binding the parameter
// of the command.
func (ps *Permissions) AllowsParameter(cmdlet, param string) bool {
	if !ps.Visible(cmdlet) {
		return false
	}
	if ps.unrestricted(cmdlet, param) {
		return true
	}
	for _, r := range ps.deny {
		if r.cmdlet.match(cmdlet) && r.deniesParam(param) {
			return false
		}
	}
	for _, r := range ps.allow {
		if r.cmdlet.match(cmdlet) && r.namesParam(param) {
			return true
		}
	}
	return false
}

// AllowsValue reports whether the roles allow the parameter of the command
// with this value. A list value is allowed when each element is.
func (ps *Permissions) AllowsValue(cmdlet, param string, value any) bool {
	_, denied := ps.deniedValue(cmdlet, param, value)
	return !denied && ps.AllowsParameter(cmdlet, param)
}

// deniedValue returns the first element of value that the roles forbid for
// an allowed parameter.
func (ps *Permissions) deniedValue(cmdlet, param string, value any) (string, bool) {
	if ps.unrestricted(cmdlet, param) {
		return "", false
	}
	for _, s := range valueStrings(value) {
		if !ps.valueAllowed(cmdlet, param, s) {
			return s, true
		}
	}
	return "", false
}

func (ps *Permissions) valueAllowed(cmdlet, param, s string) bool {
	for _, r := range ps.deny {
		if r.cmdlet.match(cmdlet) && matchAny(r.valuePatterns(param), s) {
			return false
		}
	}
	for _, r := range ps.allow {
		if !r.cmdlet.match(cmdlet) || !r.namesParam(param) {
			continue
		}
		vs := r.valuePatterns(param)
		if vs == nil || matchAny(vs, s) {
			return true
		}
	}
	return false
}

// allowedValues returns the value patterns the parameter is restricted to,
// or nil when some allow entry leaves it unrestricted.
func (ps *Permissions) allowedValues(cmdlet, param string) []string {
	if ps.unrestricted(cmdlet, param) {
		return nil
	}
	var out []string
	for _, r := range ps.allow {
		if !r.cmdlet.match(cmdlet) || !r.namesParam(param) {
			continue
		}
		vs := r.valuePatterns(param)
		if vs == nil {
			return nil
		}
		for _, v := range vs {
			out = appendUnique(out, v.text)
		}
	}
	return out
}

// valueStrings renders a bound parameter value as the strings compared
// with AllowedValues: one per element of a list, booleans as True/False.
func valueStrings(v any) []string {
	switch v := v.(type) {
	case nil:
		return []string{""}
	case string:
		return []string{v}
	case []string:
		if len(v) == 0 {
			return []string{""}
		}
		return v
	case []any:
		if len(v) == 0 {
			return []string{""}
		}
		out := make([]string, 0, len(v))
		for _, e := range v {
			out = append(out, valueStrings(e)...)
		}
		return out
	case bool:
		if v {
			return []string{"True"}
		}
		return []string{"False"}
	case time.Time:
		return []string{v.Format(time.RFC3339Nano)}
	default:
		return []string{fmt.Sprint(v)}
	}
}

func appendUnique(list []string, s string) []string {
	for _, e := range list {
		if strings.EqualFold(e, s) {
			return list
		}
	}
	return append(list, s)
}

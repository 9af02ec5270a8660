package rbac

import (
	"testing"

	"github.com/psgate/psgate/store"
)

// FuzzRBAC checks the evaluator's invariants on arbitrary patterns, names
// and values: no panics, deny wins over allow, Explain agrees with the
// checks, and an allowed value implies an allowed parameter.
func FuzzRBAC(f *testing.F) {
	f.Add("Set-*", "Set-CsUser", "Department", "Sales", "Sales*")
	f.Add("*", "Get-Command", "Name", "", "")
	f.Add("Get-[Cs", "Get-[Cs", "*", "x", "[")
	f.Fuzz(func(t *testing.T, pat, name, param, value, allowedValue string) {
		allow := store.Role{Name: "A", Entries: []store.RoleEntry{{
			Cmdlet: pat, Parameters: []string{param},
			AllowedValues: map[string][]string{param: {allowedValue}},
		}}}
		deny := store.Role{Name: "D", Entries: []store.RoleEntry{{Cmdlet: pat, Deny: true}}}

		ps := Compile([]store.Role{allow})
		visible := ps.Visible(name)
		if x := ps.Explain(name, ""); x.Allowed != visible {
			t.Errorf("Explain(%q).Allowed = %v, Visible = %v", name, x.Allowed, visible)
		}
		paramOK := ps.AllowsParameter(name, param)
		if x := ps.Explain(name, param); x.Allowed != paramOK {
			t.Errorf("Explain(%q, %q).Allowed = %v, AllowsParameter = %v", name, param, x.Allowed, paramOK)
		}
		if ps.AllowsValue(name, param, value) && !paramOK {
			t.Errorf("AllowsValue(%q, %q, %q) without AllowsParameter", name, param, value)
		}
		if paramOK && !visible {
			t.Errorf("parameter %q of invisible %q allowed", param, name)
		}

		both := Compile([]store.Role{allow, deny})
		if visible && both.Visible(name) && !both.isBuiltin(name) {
			t.Errorf("pattern %q: %q stays visible although denied", pat, name)
		}
		_ = NewAuthorizer([]store.Role{allow, deny}, 1, nil).Explain(name, param)
	})
}

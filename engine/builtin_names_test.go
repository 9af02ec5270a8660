package engine_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/psgate/psgate/engine"
)

// BuiltinNames lists exactly what RegisterBuiltins adds to a catalog, names
// then aliases, and nothing a service registers next to it.
func TestBuiltinNamesAreTheRegisteredBuiltins(t *testing.T) {
	c := engine.NewCatalog()
	if err := engine.RegisterBuiltins(c); err != nil {
		t.Fatal(err)
	}
	var want, aliases []string
	for _, cmd := range c.Commands() {
		want = append(want, cmd.Name)
		aliases = append(aliases, cmd.Aliases...)
	}
	want = append(want, aliases...)
	got := engine.BuiltinNames()
	if !slices.Equal(got, want) {
		t.Fatalf("BuiltinNames() = %v, want the registered built-ins and aliases %v", got, want)
	}
	for _, name := range []string{"Out-Default", "Exit-PSSession", "Select-Object", "Get-Command", "prompt"} {
		if !slices.ContainsFunc(got, func(n string) bool { return strings.EqualFold(n, name) }) {
			t.Errorf("BuiltinNames() lacks %s", name)
		}
	}
	got[0] = "changed"
	if engine.BuiltinNames()[0] == "changed" {
		t.Error("BuiltinNames returns its shared slice: a caller can change the list")
	}
}

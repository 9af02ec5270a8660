package builtin_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/engine/builtin"
)

// Names lists exactly what Register adds to a catalog, names
// then aliases, and nothing a service registers next to it.
func TestNamesAreTheRegisteredBuiltins(t *testing.T) {
	c := engine.NewCatalog()
	if err := builtin.Register(c); err != nil {
		t.Fatal(err)
	}
	var want, aliases []string
	for _, cmd := range c.Commands() {
		want = append(want, cmd.Name)
		aliases = append(aliases, cmd.Aliases...)
	}
	want = append(want, aliases...)
	got := builtin.Names()
	if !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want the registered built-ins and aliases %v", got, want)
	}
	for _, name := range []string{"Out-Default", "Exit-PSSession", "Select-Object", "Get-Command", "prompt"} {
		if !slices.ContainsFunc(got, func(n string) bool { return strings.EqualFold(n, name) }) {
			t.Errorf("Names() lacks %s", name)
		}
	}
	got[0] = "changed"
	if builtin.Names()[0] == "changed" {
		t.Error("Names returns its shared slice: a caller can change the list")
	}
}

package engine

import (
	"context"
	"strings"
	"testing"
)

func noop(context.Context, *Invocation) error { return nil }

func TestCatalogRegisterValidation(t *testing.T) {
	tests := []struct {
		name string
		cmd  *Command
		want string // substring of the error; "" for success
	}{
		{"ok", &Command{Name: "Get-Thing", Run: noop, Parameters: []Parameter{{Name: "Name", Type: TypeString, Position: 0}}}, ""},
		{"no run", &Command{Name: "Get-Thing"}, "no Run function"},
		{"bad name", &Command{Name: "Get Thing", Run: noop}, "invalid command name"},
		{"path name", &Command{Name: `C:\x.exe`, Run: noop}, "invalid command name"},
		{"os program", &Command{Name: "cmd", Run: noop}, "invalid command name"},
		{"dup param", &Command{Name: "Get-Thing", Run: noop, Parameters: []Parameter{
			{Name: "Name", Type: TypeString, Position: NotPositional}, {Name: "name", Type: TypeString, Position: NotPositional}}}, `the name "name" is already used by parameter Name`},
		{"alias clash", &Command{Name: "Get-Thing", Run: noop, Parameters: []Parameter{
			{Name: "Name", Type: TypeString, Position: NotPositional}, {Name: "Other", Type: TypeString, Position: NotPositional, Aliases: []string{"NAME"}}}}, "already used by parameter Name"},
		{"common clash", &Command{Name: "Get-Thing", Run: noop, Parameters: []Parameter{{Name: "Verbose", Type: TypeSwitch, Position: NotPositional}}}, "common parameter Verbose"},
		{"whatif without shouldprocess", &Command{Name: "Get-Thing", Run: noop, Parameters: []Parameter{{Name: "WhatIf", Type: TypeSwitch, Position: NotPositional}}}, ""},
		{"whatif with shouldprocess", &Command{Name: "Set-Thing", Run: noop, SupportsShouldProcess: true, Parameters: []Parameter{{Name: "WhatIf", Type: TypeSwitch, Position: NotPositional}}}, "common parameter WhatIf"},
		{"same position", &Command{Name: "Get-Thing", Run: noop, Parameters: []Parameter{
			{Name: "A", Type: TypeString, Position: 0}, {Name: "B", Type: TypeString, Position: 0}}}, "both have position 0"},
		{"same position other sets", &Command{Name: "Get-Thing", Run: noop, Parameters: []Parameter{
			{Name: "A", Type: TypeString, Position: 0, Sets: []string{"X"}}, {Name: "B", Type: TypeString, Position: 0, Sets: []string{"Y"}}}}, ""},
		{"validateset on int", &Command{Name: "Get-Thing", Run: noop, Parameters: []Parameter{{Name: "N", Type: TypeInt, Position: NotPositional, ValidateSet: []string{"1"}}}}, "ValidateSet needs a string type"},
		{"validaterange on string", &Command{Name: "Get-Thing", Run: noop, Parameters: []Parameter{{Name: "S", Type: TypeString, Position: NotPositional, ValidateRange: &Range{0, 1}}}}, "ValidateRange needs a numeric type"},
		{"inverted range", &Command{Name: "Get-Thing", Run: noop, Parameters: []Parameter{{Name: "N", Type: TypeInt, Position: NotPositional, ValidateRange: &Range{5, 1}}}}, "minimum 5 is above maximum 1"},
		{"positional switch", &Command{Name: "Get-Thing", Run: noop, Parameters: []Parameter{{Name: "Force", Type: TypeSwitch, Position: 0}}}, "a switch cannot be positional"},
		{"zero type", &Command{Name: "Get-Thing", Run: noop, Parameters: []Parameter{{Name: "X", Position: NotPositional}}}, "unknown type 0"},
		{"bad default set", &Command{Name: "Get-Thing", Run: noop, DefaultParameterSet: "Nope", Parameters: []Parameter{{Name: "X", Type: TypeString, Position: NotPositional, Sets: []string{"Yes"}}}}, `default parameter set "Nope" has no parameters`},
		{"two pipeline params", &Command{Name: "Get-Thing", Run: noop, Parameters: []Parameter{
			{Name: "A", Type: TypeString, Position: NotPositional, ValueFromPipeline: true}, {Name: "B", Type: TypeString, Position: NotPositional, ValueFromPipeline: true}}}, "both take pipeline input by value"},
	}
	for _, tt := range tests {
		err := NewCatalog().Register(tt.cmd)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Register: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: Register = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestCatalogNamesAndLookup(t *testing.T) {
	c := NewCatalog()
	if err := c.Register(&Command{Name: "Get-Zeta", Run: noop}, &Command{Name: "get-alpha", Aliases: []string{"ga"}, Run: noop}); err != nil {
		t.Fatal(err)
	}
	if err := c.Register(&Command{Name: "GET-ZETA", Run: noop}); err == nil || !strings.Contains(err.Error(), "already used by Get-Zeta") {
		t.Errorf("duplicate name: got %v", err)
	}
	if err := c.Register(&Command{Name: "Get-New", Run: noop}, &Command{Name: "GA", Run: noop}); err == nil {
		t.Error("alias clash: got nil")
	}
	if _, ok := c.Lookup("Get-New"); ok {
		t.Error("a failed Register added a command")
	}
	if cmd, ok := c.Lookup("GA"); !ok || cmd.Name != "get-alpha" {
		t.Errorf("Lookup(GA) = %v, %v", cmd, ok)
	}
	if cmd, ok := c.Lookup("get-ZETA"); !ok || cmd.Name != "Get-Zeta" {
		t.Errorf("Lookup(get-ZETA) = %v, %v", cmd, ok)
	}
	var names []string
	for _, cmd := range c.Commands() {
		names = append(names, cmd.Name)
	}
	if got := strings.Join(names, ","); got != "get-alpha,Get-Zeta" {
		t.Errorf("Commands() = %s", got)
	}
}

// Replace swaps a set of commands (a reloaded module) in one step, or
// changes nothing.
func TestCatalogReplace(t *testing.T) {
	c := NewCatalog()
	builtin := &Command{Name: "Get-Builtin", Run: noop}
	v1a, v1b := &Command{Name: "Get-Widget", Aliases: []string{"gw"}, Run: noop}, &Command{Name: "Remove-Widget", Run: noop}
	if err := c.Register(builtin, v1a, v1b); err != nil {
		t.Fatal(err)
	}
	// The new set reuses a name of the old one and drops another.
	v2a, v2b := &Command{Name: "get-widget", Run: noop}, &Command{Name: "Set-Widget", Aliases: []string{"sw"}, Run: noop}
	if err := c.Replace([]*Command{v1a, v1b}, v2a, v2b); err != nil {
		t.Fatal(err)
	}
	if cmd, ok := c.Lookup("Get-Widget"); !ok || cmd != v2a {
		t.Errorf("Get-Widget after Replace = %v", cmd)
	}
	for _, gone := range []string{"gw", "Remove-Widget"} {
		if _, ok := c.Lookup(gone); ok {
			t.Errorf("%s survived Replace", gone)
		}
	}
	var names []string
	for _, cmd := range c.Commands() {
		names = append(names, cmd.Name)
	}
	if got := strings.Join(names, ","); got != "Get-Builtin,get-widget,Set-Widget" {
		t.Errorf("Commands() after Replace = %s", got)
	}
	// A new set that takes a name it does not own changes nothing.
	if err := c.Replace([]*Command{v2a, v2b}, &Command{Name: "Get-Builtin", Run: noop}); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("Replace taking a built-in's name: %v", err)
	}
	if cmd, ok := c.Lookup("sw"); !ok || cmd != v2b {
		t.Error("a failed Replace removed the old set")
	}
}

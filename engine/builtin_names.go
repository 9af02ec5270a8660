package engine

import "sync"

// BuiltinNames returns the names of the built-in commands, the ones
// RegisterBuiltins registers, sorted case-insensitively, followed by their
// aliases. They are PowerShell's own utility commands (Select-Object,
// Out-Default, Get-Command...), not a service's: a server tells
// Import-PSSession to skip them so that they never shadow the client's
// local commands and aliases.
func BuiltinNames() []string {
	return append([]string(nil), builtinNames()...)
}

var builtinNames = sync.OnceValue(func() []string {
	c := NewCatalog()
	if err := RegisterBuiltins(c); err != nil {
		// RegisterBuiltins fails only on a broken built-in, which its
		// own tests catch.
		panic(err)
	}
	cmds := c.Commands()
	names := make([]string, 0, len(cmds))
	var aliases []string
	for _, cmd := range cmds {
		names = append(names, cmd.Name)
		aliases = append(aliases, cmd.Aliases...)
	}
	return append(names, aliases...)
})

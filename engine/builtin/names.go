package builtin

import (
	"sync"

	"github.com/psgate/psgate/engine"
)

// Names returns the names of the built-in commands, the ones Register
// registers, sorted case-insensitively, followed by their
// aliases. They are PowerShell's own utility commands (Select-Object,
// Out-Default, Get-Command...), not a service's: a server tells
// Import-PSSession to skip them so that they never shadow the client's
// local commands and aliases.
func Names() []string {
	return append([]string(nil), registeredNames()...)
}

var registeredNames = sync.OnceValue(func() []string {
	c := engine.NewCatalog()
	if err := Register(c); err != nil {
		// Register fails only on a broken built-in, which its own
		// tests catch.
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

package client

import (
	"fmt"
	"strings"

	"github.com/psgate/psgate/psrp"
)

// Command is what Session.Run runs: a command line (run as a script), or a
// pipeline of structured commands.
type Command struct {
	// Script is a command line, sent as script text.
	Script string
	// Pipeline is used when Script is empty.
	Pipeline []Cmd
}

// Script returns a Command running line as a script.
func Script(line string) Command { return Command{Script: line} }

// Pipe returns a Command running cmds as one pipeline.
func Pipe(cmds ...Cmd) Command { return Command{Pipeline: cmds} }

// Cmd is one structured command of a pipeline.
type Cmd struct {
	Name   string
	Params []Param
}

// Param is a parameter of a Cmd: a named value, a switch (Value true), or
// a positional argument (Name empty).
type Param struct {
	Name  string
	Value any
}

// NewCmd starts a structured command, e.g.
// NewCmd("Get-CsOnlineUser").Param("Identity", "alice@contoso.test").
func NewCmd(name string) Cmd { return Cmd{Name: name} }

// Param returns c with the named parameter added.
func (c Cmd) Param(name string, value any) Cmd {
	c.Params = append(append([]Param(nil), c.Params...), Param{Name: name, Value: value})
	return c
}

// Switch returns c with the switch parameter name set.
func (c Cmd) Switch(name string) Cmd { return c.Param(name, true) }

// Arg returns c with a positional argument added.
func (c Cmd) Arg(value any) Cmd { return c.Param("", value) }

// String renders the command for messages, approximately as PowerShell
// would print it.
func (c Command) String() string {
	if c.Script != "" || len(c.Pipeline) == 0 {
		return c.Script
	}
	parts := make([]string, len(c.Pipeline))
	for i, cmd := range c.Pipeline {
		var b strings.Builder
		b.WriteString(cmd.Name)
		for _, p := range cmd.Params {
			switch {
			case p.Name == "":
				fmt.Fprintf(&b, " %v", p.Value)
			case p.Value == true:
				fmt.Fprintf(&b, " -%s", p.Name)
			default:
				fmt.Fprintf(&b, " -%s %v", p.Name, p.Value)
			}
		}
		parts[i] = b.String()
	}
	return strings.Join(parts, " | ")
}

// pipeline converts c to the PSRP pipeline.
func (c Command) pipeline() psrp.PowerShell {
	if c.Script != "" {
		return psrp.PowerShell{Commands: []psrp.Command{{Cmd: c.Script, IsScript: true}}}
	}
	cmds := make([]psrp.Command, len(c.Pipeline))
	for i, cmd := range c.Pipeline {
		pc := psrp.Command{Cmd: cmd.Name}
		for _, p := range cmd.Params {
			pc.Args = append(pc.Args, psrp.Arg{Name: p.Name, Value: p.Value})
		}
		cmds[i] = pc
	}
	return psrp.PowerShell{Commands: cmds}
}

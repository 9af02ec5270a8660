package engine

import (
	"sort"
	"strings"
)

// Syntax returns the command's syntax, one line per parameter set, as
// Get-Command -Syntax and Get-Help show it:
//
//	Get-CsOnlineUser [[-Identity] <string>] [-Filter <string>] [<CommonParameters>]
func (cmd *Command) Syntax() []string {
	sets := cmd.SyntaxSets()
	lines := make([]string, 0, len(sets))
	for _, s := range sets {
		lines = append(lines, cmd.syntaxLine(s))
	}
	return lines
}

// SyntaxSets returns the names of the command's parameter sets in the
// order its syntax lists them: the default set first, then the others by
// name ("" for a command with a single set).
func (cmd *Command) SyntaxSets() []string {
	sets := parameterSets(cmd)
	// PowerShell lists the default set first, then the others by name.
	if len(sets) > 1 {
		rest := append([]string(nil), sets...)
		if cmd.DefaultParameterSet != "" {
			rest = rest[1:]
		}
		sort.Strings(rest)
		if cmd.DefaultParameterSet != "" {
			rest = append([]string{cmd.DefaultParameterSet}, rest...)
		}
		sets = rest
	}
	return sets
}

func (cmd *Command) syntaxLine(set string) string {
	parts := []string{cmd.Name}
	for _, p := range cmd.SyntaxParameters(set) {
		parts = append(parts, paramSyntax(p))
	}
	if cmd.SupportsShouldProcess {
		parts = append(parts, "[-WhatIf]", "[-Confirm]")
	}
	parts = append(parts, "[<CommonParameters>]")
	return strings.Join(parts, " ")
}

// SyntaxParameters returns the parameters of a set in syntax order: the
// positional ones by position, then the named ones, mandatory first and
// switches last.
func (cmd *Command) SyntaxParameters(set string) []*Parameter {
	var positional, named []*Parameter
	for i := range cmd.Parameters {
		p := &cmd.Parameters[i]
		if !p.inSet(set) {
			continue
		}
		if p.Position != NotPositional {
			positional = append(positional, p)
		} else {
			named = append(named, p)
		}
	}
	sort.SliceStable(positional, func(i, j int) bool { return positional[i].Position < positional[j].Position })
	// Mandatory named parameters come before optional ones, switches last.
	sort.SliceStable(named, func(i, j int) bool { return namedRank(named[i]) < namedRank(named[j]) })
	return append(positional, named...)
}

func namedRank(p *Parameter) int {
	switch {
	case p.Mandatory:
		return 0
	case p.Type == TypeSwitch:
		return 2
	}
	return 1
}

// paramSyntax renders one parameter: [-Name] <type>, [[-Name] <type>],
// -Name <type>, [-Name <type>], [-Switch].
func paramSyntax(p *Parameter) string {
	name := "-" + p.Name
	if p.Type == TypeSwitch {
		if p.Mandatory {
			return name
		}
		return "[" + name + "]"
	}
	typ := "<" + p.Type.ShortName() + ">"
	if len(p.ValidateSet) > 0 {
		typ = "{" + strings.Join(p.ValidateSet, " | ") + "}"
	}
	if p.Position != NotPositional {
		name = "[" + name + "]"
	}
	s := name + " " + typ
	if !p.Mandatory {
		s = "[" + s + "]"
	}
	return s
}

package engine

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/psgate/psgate/engine/syntax"
)

// Catalog is a set of commands a Runspace can run. Build one per service
// (NewCatalog, then Register the built-ins and the service's cmdlets) and
// share it between runspaces: it is safe for concurrent use.
type Catalog struct {
	mu     sync.RWMutex
	byName map[string]*Command // lower-case name or alias
	list   []*Command          // sorted by name
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog {
	return &Catalog{byName: map[string]*Command{}}
}

// Register validates commands and adds them. It fails, adding none of
// them, when a name or alias is already taken (names are
// case-insensitive) or when a command's metadata is inconsistent:
// duplicate parameter names or aliases, a parameter that shadows a common
// parameter (Verbose, ErrorAction, WhatIf...), two positional parameters
// at the same position in one parameter set, ValidateSet on a non-string
// parameter, ValidateRange on a non-numeric one, a positional switch, a
// DefaultParameterSet no parameter belongs to, or a missing Run.
func (c *Catalog) Register(cmds ...*Command) error {
	return c.Replace(nil, cmds...)
}

// Replace removes the commands of old (as registered earlier; others are
// ignored) and adds cmds in one step: a runspace looking commands up sees
// either the old set or the new one. It fails, changing nothing, on the
// same grounds as Register, the names of old being free for cmds. Commands
// already running keep running.
func (c *Catalog) Replace(old []*Command, cmds ...*Command) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	gone := make(map[*Command]bool, len(old))
	for _, cmd := range old {
		gone[cmd] = true
	}
	taken := map[string]string{}
	for _, cmd := range cmds {
		if cmd == nil {
			return fmt.Errorf("engine: register: nil command")
		}
		if err := validateCommand(cmd); err != nil {
			return fmt.Errorf("engine: register %s: %w", cmd.Name, err)
		}
		for _, n := range append([]string{cmd.Name}, cmd.Aliases...) {
			key := strings.ToLower(n)
			if other, ok := c.byName[key]; ok && !gone[other] {
				return fmt.Errorf("engine: register %s: the name %q is already used by %s", cmd.Name, n, other.Name)
			}
			if other, ok := taken[key]; ok {
				return fmt.Errorf("engine: register %s: the name %q is already used by %s", cmd.Name, n, other)
			}
			taken[key] = cmd.Name
		}
	}
	if len(gone) > 0 {
		for key, cmd := range c.byName {
			if gone[cmd] {
				delete(c.byName, key)
			}
		}
		kept := c.list[:0:0]
		for _, cmd := range c.list {
			if !gone[cmd] {
				kept = append(kept, cmd)
			}
		}
		c.list = kept
	}
	for _, cmd := range cmds {
		for _, n := range append([]string{cmd.Name}, cmd.Aliases...) {
			c.byName[strings.ToLower(n)] = cmd
		}
		c.list = append(c.list, cmd)
	}
	sort.Slice(c.list, func(i, j int) bool {
		return strings.ToLower(c.list[i].Name) < strings.ToLower(c.list[j].Name)
	})
	return nil
}

// Lookup finds a command by name or alias, case-insensitively.
func (c *Catalog) Lookup(name string) (*Command, bool) {
	c.mu.RLock()
	cmd, ok := c.byName[strings.ToLower(name)]
	c.mu.RUnlock()
	return cmd, ok
}

// Commands returns the registered commands sorted by name.
func (c *Catalog) Commands() []*Command {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]*Command(nil), c.list...)
}

// validCommandName accepts Verb-Noun style names: letters, digits, - and
// _, starting with a letter. Names of operating-system programs are
// refused so the engine's refusal of them stays unambiguous.
func validCommandName(name string) bool {
	if name == "" || !isLetterOrUnderscore(name[0]) || syntax.IsProgram(name) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isLetterOrUnderscore(c) && !(c >= '0' && c <= '9') && c != '-' {
			return false
		}
	}
	return !strings.HasSuffix(name, "-")
}

func isLetterOrUnderscore(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func validateCommand(cmd *Command) error {
	if !validCommandName(cmd.Name) {
		return fmt.Errorf("invalid command name %q: use Verb-Noun (letters, digits, hyphens)", cmd.Name)
	}
	for _, a := range cmd.Aliases {
		if a != "?" && !validCommandName(a) {
			return fmt.Errorf("invalid alias %q", a)
		}
	}
	if cmd.Run == nil {
		return fmt.Errorf("no Run function")
	}
	seen := map[string]string{}
	for _, c := range commonParameters {
		if !c.shouldProcess || cmd.SupportsShouldProcess {
			for _, n := range append([]string{c.name}, c.aliases...) {
				seen[strings.ToLower(n)] = "common parameter " + c.name
			}
		}
	}
	sets := map[string]bool{}
	for i := range cmd.Parameters {
		p := &cmd.Parameters[i]
		if !syntax.IsParameterName(p.Name) || strings.ContainsAny(p.Name, " :-") {
			return fmt.Errorf("invalid parameter name %q", p.Name)
		}
		for _, n := range append([]string{p.Name}, p.Aliases...) {
			key := strings.ToLower(n)
			if other, ok := seen[key]; ok {
				return fmt.Errorf("parameter %s: the name %q is already used by %s", p.Name, n, other)
			}
			seen[key] = "parameter " + p.Name
		}
		if p.Type < TypeString || p.Type > TypeDouble {
			return fmt.Errorf("parameter %s: unknown type %d", p.Name, p.Type)
		}
		if len(p.ValidateSet) > 0 && p.Type != TypeString && p.Type != TypeStringArray {
			return fmt.Errorf("parameter %s: ValidateSet needs a string type, not %s", p.Name, p.Type)
		}
		if p.ValidateRange != nil {
			if p.Type != TypeInt && p.Type != TypeLong && p.Type != TypeDouble {
				return fmt.Errorf("parameter %s: ValidateRange needs a numeric type, not %s", p.Name, p.Type)
			}
			if p.ValidateRange.Min > p.ValidateRange.Max {
				return fmt.Errorf("parameter %s: ValidateRange minimum %d is above maximum %d", p.Name, p.ValidateRange.Min, p.ValidateRange.Max)
			}
		}
		if p.Position < NotPositional {
			return fmt.Errorf("parameter %s: invalid position %d", p.Name, p.Position)
		}
		if p.Type == TypeSwitch && p.Position != NotPositional {
			return fmt.Errorf("parameter %s: a switch cannot be positional", p.Name)
		}
		for _, s := range p.Sets {
			if s == "" {
				return fmt.Errorf("parameter %s: empty parameter set name", p.Name)
			}
			sets[s] = true
		}
	}
	if cmd.DefaultParameterSet != "" && !sets[cmd.DefaultParameterSet] {
		return fmt.Errorf("default parameter set %q has no parameters", cmd.DefaultParameterSet)
	}
	for _, set := range parameterSets(cmd) {
		positions := map[int]string{}
		pipeline := ""
		for _, p := range cmd.Parameters {
			if !p.inSet(set) {
				continue
			}
			if p.Position != NotPositional {
				if other, ok := positions[p.Position]; ok {
					return fmt.Errorf("parameters %s and %s both have position %d in parameter set %q", other, p.Name, p.Position, setLabel(set))
				}
				positions[p.Position] = p.Name
			}
			if p.ValueFromPipeline {
				if pipeline != "" {
					return fmt.Errorf("parameters %s and %s both take pipeline input by value in parameter set %q", pipeline, p.Name, setLabel(set))
				}
				pipeline = p.Name
			}
		}
	}
	return nil
}

// allSets is the name PowerShell reports for a command's single set.
const allSets = "__AllParameterSets"

func setLabel(set string) string {
	if set == "" {
		return allSets
	}
	return set
}

// parameterSets lists a command's named parameter sets in order of first
// use, or {""} when it has none.
func parameterSets(cmd *Command) []string {
	var sets []string
	seen := map[string]bool{}
	if cmd.DefaultParameterSet != "" {
		sets = append(sets, cmd.DefaultParameterSet)
		seen[cmd.DefaultParameterSet] = true
	}
	for _, p := range cmd.Parameters {
		for _, s := range p.Sets {
			if !seen[s] {
				seen[s] = true
				sets = append(sets, s)
			}
		}
	}
	if len(sets) == 0 {
		return []string{""}
	}
	return sets
}

// inSet reports whether the parameter belongs to set ("" is the single
// implicit set).
func (p *Parameter) inSet(set string) bool {
	if len(p.Sets) == 0 || set == "" {
		return true
	}
	for _, s := range p.Sets {
		if s == set {
			return true
		}
	}
	return false
}

// Verb returns the part of the name before the first hyphen.
func (cmd *Command) Verb() string {
	verb, _, _ := strings.Cut(cmd.Name, "-")
	return verb
}

// Noun returns the part of the name after the first hyphen.
func (cmd *Command) Noun() string {
	_, noun, _ := strings.Cut(cmd.Name, "-")
	return noun
}

// Parameter returns the named parameter (not an alias), case-insensitively.
func (cmd *Command) Parameter(name string) (*Parameter, bool) {
	for i := range cmd.Parameters {
		if strings.EqualFold(cmd.Parameters[i].Name, name) {
			return &cmd.Parameters[i], true
		}
	}
	return nil, false
}

var typeNames = map[Type]string{
	TypeString:      "System.String",
	TypeStringArray: "System.String[]",
	TypeInt:         "System.Int32",
	TypeLong:        "System.Int64",
	TypeBool:        "System.Boolean",
	TypeSwitch:      "System.Management.Automation.SwitchParameter",
	TypeDateTime:    "System.DateTime",
	TypeTimeSpan:    "System.TimeSpan",
	TypeObject:      "System.Object",
	TypeObjectArray: "System.Object[]",
	TypeDouble:      "System.Double",
}

// String returns the .NET type name, e.g. "System.Int32".
func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return "System.Object"
}

// ShortName returns the type as PowerShell's syntax help shows it:
// string, string[], int, switch...
func (t Type) ShortName() string {
	switch t {
	case TypeString:
		return "string"
	case TypeStringArray:
		return "string[]"
	case TypeInt:
		return "int"
	case TypeLong:
		return "long"
	case TypeBool:
		return "bool"
	case TypeSwitch:
		return "switch"
	case TypeDateTime:
		return "datetime"
	case TypeTimeSpan:
		return "timespan"
	case TypeObjectArray:
		return "Object[]"
	case TypeDouble:
		return "double"
	}
	return "Object"
}

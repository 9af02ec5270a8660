package syntax

import (
	"strconv"
	"strings"
)

// Script is a parsed command line: statements run in order.
type Script struct {
	Statements []Pipeline
}

// Pipeline is one statement: commands joined by |.
type Pipeline struct {
	Commands []Command
}

// Command is one command of a pipeline with its arguments.
type Command struct {
	// Name is the command name as written.
	Name string
	Args []Argument
	Pos  Pos
}

// Argument is a parameter or a positional value of a command.
type Argument struct {
	// Name is the parameter name without the dash as written (it may be a
	// prefix or an alias), or "" for a positional value.
	Name string
	// Value is the argument's value: string, int32, int64, float64,
	// Decimal, bool, nil or []any (a comma list or @() array).
	Value any
	// HasValue is false for a parameter written without a value (-Force,
	// or -Name followed by its value as the next, positional, argument).
	HasValue bool
	Pos      Pos
}

// Decimal is a decimal literal (1.5d), kept as its canonical text.
type Decimal string

// Pos is a position in a command line, 1-based; Column counts characters.
type Pos struct {
	Line, Column int
}

func (p Pos) String() string {
	return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Column)
}

// ErrorKind tells what an Error refuses.
type ErrorKind uint8

const (
	// KindSyntax is text that is not well formed; Error.Detail says why,
	// as PowerShell's parser would.
	KindSyntax ErrorKind = iota + 1
	// KindNotAllowed is a construct outside the language (variables,
	// script blocks, expressions...); Error.Construct names it.
	KindNotAllowed
	// KindProgram is `& program` naming an operating-system program;
	// Error.Name is the program.
	KindProgram
)

// Error is text the parser refused.
type Error struct {
	Kind ErrorKind
	// Pos is where the problem is. For a filter, Line is 1 and Column
	// counts characters from the start of the filter.
	Pos Pos
	// Detail is the syntax error's text (KindSyntax).
	Detail string
	// Construct names the refused construct (KindNotAllowed).
	Construct string
	// Name is the refused program (KindProgram).
	Name string
	// Resolution, when set, is how to write what was meant instead.
	Resolution string
}

func (e *Error) Error() string {
	var what string
	switch e.Kind {
	case KindNotAllowed:
		what = e.Construct + " is not allowed"
	case KindProgram:
		what = "the program " + e.Name + " is not allowed"
	default:
		what = e.Detail
	}
	return "syntax: " + e.Pos.String() + ": " + what
}

// String returns the statements as the parser understood them: command
// names and arguments, values written as literals. It parses back to the
// same script.
func (s *Script) String() string {
	var b strings.Builder
	for i, st := range s.Statements {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(st.String())
	}
	return b.String()
}

// String renders a pipeline as a command line.
func (p Pipeline) String() string {
	var b strings.Builder
	for i, c := range p.Commands {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(c.Name)
		for _, a := range c.Args {
			b.WriteByte(' ')
			if a.Name != "" {
				b.WriteString("-" + a.Name)
				if !a.HasValue {
					continue
				}
				b.WriteByte(':')
			}
			b.WriteString(argumentText(a.Value))
		}
	}
	return b.String()
}

// argumentText writes an argument value back in command-line syntax: a
// literal, or a comma list of them (@() when empty, (,x) for one element).
func argumentText(v any) string {
	if list, ok := v.([]any); ok {
		if len(list) == 0 {
			return "@()"
		}
		parts := make([]string, len(list))
		for i, e := range list {
			parts[i] = argumentText(e)
			if _, nested := e.([]any); nested {
				parts[i] = "(" + parts[i] + ")"
			}
		}
		if len(parts) == 1 {
			return "(," + parts[0] + ")"
		}
		return strings.Join(parts, ",")
	}
	return Literal(v)
}

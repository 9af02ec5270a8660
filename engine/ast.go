package engine

import (
	"strconv"

	"github.com/psgate/psgate"
)

// Script is a parsed command line: statements run in order.
type Script struct {
	Statements []Pipeline
}

// Pipeline is one statement: commands joined by |.
type Pipeline struct {
	Commands []CommandCall
}

// CommandCall is one command of a pipeline with its arguments.
type CommandCall struct {
	// Name is the command name as written. When IsScript is true (a
	// structured PSRP command), Name holds script text instead, which is
	// parsed and run as a script.
	Name     string
	IsScript bool
	Args     []Argument
	// MergeErrorToOutput sends the command's error records down the
	// output stream (PSRP MergeMyResult Error→Output, 2>&1).
	MergeErrorToOutput bool
	Pos                Pos
}

// Argument is a parameter or a positional value of a command.
type Argument struct {
	// Name is the parameter name without the dash as written (it may be a
	// prefix or an alias), or "" for a positional value.
	Name string
	// Value is the argument's value: string, int32, int64, float64,
	// psobject.Decimal, bool, nil or []any (a comma list or @() array).
	// Structured commands may carry any psobject value.
	Value any
	// HasValue is false for a parameter written without a value (-Force,
	// or -Name followed by its value as the next, positional, argument).
	HasValue bool
	Pos      Pos
}

// Pos is a position in a command line, 1-based; Column counts characters.
type Pos struct {
	Line, Column int
}

func (p Pos) String() string {
	return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Column)
}

// ParseError is a command line the parser refused: a syntax error
// (CodeParseError) or a construct outside the command-only language
// (CodeLanguageNotAllowed).
type ParseError struct {
	Pos Pos
	Err *psgate.Error
}

func (e *ParseError) Error() string { return "engine: parse " + e.Pos.String() + ": " + e.Err.Error() }

// Unwrap exposes the catalog error.
func (e *ParseError) Unwrap() error { return e.Err }

package engine

import (
	"strconv"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine/syntax"
	"github.com/psgate/psgate/psobject"
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
	Pos                syntax.Pos
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
	Pos      syntax.Pos
}

// ParseError is a command line the parser refused: a syntax error
// (CodeParseError), a construct outside the command-only language
// (CodeLanguageNotAllowed) or `& program` (CodeOSProcessRefused).
type ParseError struct {
	Pos syntax.Pos
	Err *psgate.Error
}

func (e *ParseError) Error() string { return "engine: parse " + e.Pos.String() + ": " + e.Err.Error() }

// Unwrap exposes the catalog error.
func (e *ParseError) Unwrap() error { return e.Err }

// Parse parses a command line in psgate's command-only syntax (see package
// syntax) into the pipelines a Runspace runs. The error is a *ParseError.
func Parse(text string) (*Script, error) {
	statements, err := parseStatements(text)
	if err != nil {
		return nil, err
	}
	return &Script{Statements: statements}, nil
}

// parseStatements parses a command line into the runtime's pipelines.
// The commands of all statements share one backing array, as do their
// arguments: a parse costs three allocations more than the syntax tree.
func parseStatements(text string) ([]Pipeline, error) {
	s, err := syntax.Parse(text)
	if err != nil {
		return nil, parseError(err)
	}
	ncalls, nargs := 0, 0
	for _, st := range s.Statements {
		ncalls += len(st.Commands)
		for _, c := range st.Commands {
			nargs += len(c.Args)
		}
	}
	statements := make([]Pipeline, len(s.Statements))
	calls := make([]CommandCall, 0, ncalls)
	var args []Argument
	if nargs > 0 {
		args = make([]Argument, 0, nargs)
	}
	for i, st := range s.Statements {
		first := len(calls)
		for _, c := range st.Commands {
			call := CommandCall{Name: c.Name, Pos: c.Pos}
			if len(c.Args) > 0 {
				from := len(args)
				for _, a := range c.Args {
					args = append(args, Argument{Name: a.Name, Value: literalValue(a.Value), HasValue: a.HasValue, Pos: a.Pos})
				}
				call.Args = args[from:len(args):len(args)]
			}
			calls = append(calls, call)
		}
		statements[i].Commands = calls[first:len(calls):len(calls)]
	}
	return statements, nil
}

// literalValue is a literal of the language as a runtime value: a
// syntax.Decimal becomes a psobject.Decimal, in lists too.
func literalValue(v any) any {
	switch x := v.(type) {
	case syntax.Decimal:
		return psobject.Decimal(x)
	case []any:
		for i, e := range x {
			x[i] = literalValue(e)
		}
	}
	return v
}

// parseError turns the parser's refusal into a *ParseError with its
// catalog error.
func parseError(err error) error {
	se, ok := err.(*syntax.Error)
	if !ok {
		return err
	}
	var e *psgate.Error
	switch se.Kind {
	case syntax.KindNotAllowed:
		e = psgate.E(psgate.CodeLanguageNotAllowed, psgate.Args{"construct": se.Construct})
	case syntax.KindProgram:
		e = psgate.E(psgate.CodeOSProcessRefused, psgate.Args{"name": se.Name})
	default:
		e = psgate.E(psgate.CodeParseError, psgate.Args{
			"detail": se.Detail,
			"line":   strconv.Itoa(se.Pos.Line),
			"column": strconv.Itoa(se.Pos.Column),
		})
	}
	if se.Resolution != "" {
		e.Resolution = se.Resolution
	}
	return &ParseError{Pos: se.Pos, Err: e}
}

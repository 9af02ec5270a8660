package syntax

import (
	"regexp"
	"strconv"
	"strings"
)

// OpKind is a comparison operator without its case prefix.
type OpKind uint8

// Comparison operators.
const (
	OpEq OpKind = iota + 1
	OpNe
	OpGt
	OpGe
	OpLt
	OpLe
	OpLike
	OpNotLike
	OpMatch
	OpNotMatch
	OpContains
	OpNotContains
	OpIn
	OpNotIn
)

var opNames = map[string]OpKind{
	"eq": OpEq, "ne": OpNe, "gt": OpGt, "ge": OpGe, "lt": OpLt, "le": OpLe,
	"like": OpLike, "notlike": OpNotLike, "match": OpMatch, "notmatch": OpNotMatch,
	"contains": OpContains, "notcontains": OpNotContains, "in": OpIn, "notin": OpNotIn,
}

// Op is a parsed comparison operator such as -ceq.
type Op struct {
	Kind OpKind
	// CaseSensitive is set by the c prefix (-ceq); strings compare
	// case-insensitively otherwise.
	CaseSensitive bool
	// Name is the operator as written, lower case, without the dash.
	Name string
}

// ParseOp parses an operator name with or without its leading dash:
// "eq", "-ceq", "-INotLike". ok is false for anything else.
func ParseOp(op string) (o Op, ok bool) {
	name := strings.ToLower(strings.TrimPrefix(op, "-"))
	if k, ok := opNames[name]; ok {
		return Op{Kind: k, Name: name}, true
	}
	if len(name) > 1 && (name[0] == 'c' || name[0] == 'i') {
		if k, ok := opNames[name[1:]]; ok {
			return Op{Kind: k, CaseSensitive: name[0] == 'c', Name: name}, true
		}
	}
	return Op{}, false
}

// CompileMatch compiles the pattern of -match and -notmatch: a Go
// regular expression, case-insensitive unless caseSensitive (-cmatch).
func CompileMatch(pattern string, caseSensitive bool) (*regexp.Regexp, error) {
	expr := pattern
	if !caseSensitive {
		expr = "(?i)" + pattern
	}
	return regexp.Compile(expr)
}

// literalString is a literal's value as a string, as the [string] cast
// gives it: "" for $null, True and False for booleans, numbers in
// invariant form.
func literalString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return FormatDouble(x)
	case Decimal:
		return string(x)
	}
	return ""
}

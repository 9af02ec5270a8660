package engine

import (
	"strings"
)

// This file exports PowerShell's value semantics (LanguagePrimitives in
// .NET) for commands written outside the runtime: the built-ins (package
// builtin) and the tenant cmdlets. They are the conversions binding,
// comparisons and filters use, so a command sees values as the runtime
// does.

// ToText converts a value to a string the way PowerShell's [string] cast
// does: invariant culture, $null as "", collections joined with spaces.
func ToText(v any) string { return toText(v) }

// AsList returns the elements of a collection value ([]any, []string and
// other slices); strings, byte slices and objects are not collections.
func AsList(v any) ([]any, bool) { return asList(v) }

// IsTrue is PowerShell's truthiness: $null, "", 0, $false and empty
// collections are false.
func IsTrue(v any) bool { return isTrue(v) }

// TypeName returns the .NET type name of a value as PowerShell names it,
// e.g. "System.Int32"; an object's first type name.
func TypeName(v any) string { return dotnetType(v) }

// ToDouble converts v to a Double as PowerShell converts an operand to a
// number: numbers, $null (0), booleans (0 or 1), chars, enums and numeric
// strings (hexadecimal and exponents allowed). ok is false otherwise.
func ToDouble(v any) (f float64, ok bool) {
	n, ok := toNumber(v)
	if !ok {
		return 0, false
	}
	return n.float(), true
}

// ToInteger returns v as an integer when it is one: a value of an integral
// type, or a string holding an integer (surrounding blanks and hexadecimal
// allowed). Floating-point values and other strings are not integers.
func ToInteger(v any) (int64, bool) {
	var n number
	var ok bool
	if s, isText := v.(string); isText {
		n, ok = parseNumberText(strings.TrimSpace(s))
	} else {
		n, ok = numberOf(v)
	}
	if !ok || n.isFloat {
		return 0, false
	}
	return n.i, true
}

// Order compares two values the way Sort-Object orders them: $null
// first; numbers as numbers whichever side is a string; then PowerShell's
// comparison of the right value converted to the left one's type; values
// that cannot be compared so are ordered by their text. Strings compare
// case-insensitively unless caseSensitive.
func Order(a, b any, caseSensitive bool) int {
	// Numbers compare as numbers whichever side is the string.
	if _, isStr := a.(string); isStr && isNumeric(b) {
		if c, err := orderValues(b, a, caseSensitive); err == nil {
			return -c
		}
	}
	c, err := orderValues(a, b, caseSensitive)
	if err != nil {
		return compareText(toText(a), toText(b), caseSensitive)
	}
	return c
}

// Operator is a comparison operator parsed once, to evaluate against
// many values (Where-Object).
type Operator struct{ op cmpOp }

// ParseOperator parses an operator name as Compare takes it (-eq, ne,
// -clike...). The error is Compare's for an unknown operator.
func ParseOperator(op string) (Operator, error) {
	o, ok := parseOp(op)
	if !ok {
		return Operator{}, unknownOperator(op)
	}
	return Operator{op: o}, nil
}

// Compare evaluates `left -op right` as Compare does.
func (o Operator) Compare(left, right any) (bool, error) {
	return o.op.eval(left, right, nil)
}

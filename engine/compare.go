package engine

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine/syntax"
	"github.com/psgate/psgate/psobject"
)

// cmpOp is a comparison operator of the language, evaluated here.
type cmpOp syntax.Op

// parseOp parses an operator name with or without its leading dash.
func parseOp(op string) (cmpOp, bool) {
	o, ok := syntax.ParseOp(op)
	return cmpOp(o), ok
}

// Compare evaluates `left -op right` with PowerShell's semantics and
// reports whether the result is true.
//
// op is an operator name with or without the dash (-eq, ne, -clike, -iin):
// eq ne gt ge lt le like notlike match notmatch contains notcontains in
// notin, each also with a c (case-sensitive) or i (case-insensitive)
// prefix; string comparisons are case-insensitive by default. The right
// operand is converted to the left operand's type, as PowerShell does: 5
// -eq "5" is true, "5" -eq 5.0 compares strings. When left is a
// collection, -eq and the other scalar operators are true when any element
// satisfies them (PowerShell filters the collection). Wildcards for -like
// are * ? [a-z]; -match uses Go regular expressions.
//
// A failed conversion makes -eq false (and -ne true); for ordering
// operators it is an error, as are an unknown operator, an invalid
// wildcard pattern and an invalid regular expression. Errors are
// *psgate.Error with CodeInvalidOperation and PowerShell's wording.
func Compare(left any, op string, right any) (bool, error) {
	o, ok := parseOp(op)
	if !ok {
		return false, unknownOperator(op)
	}
	return o.eval(left, right, nil)
}

func unknownOperator(op string) error {
	return psgate.E(psgate.CodeInvalidOperation, psgate.Args{
		"detail": fmt.Sprintf("Unknown comparison operator '%s'. Use -eq, -ne, -gt, -ge, -lt, -le, -like, -notlike, -match, -notmatch, -contains, -notcontains, -in or -notin.", op),
	})
}

// eval evaluates the operator; re, when non-nil, is the compiled pattern
// of a constant right operand of -match.
func (o cmpOp) eval(left, right any, re *regexp.Regexp) (bool, error) {
	switch o.Kind {
	case syntax.OpContains, syntax.OpNotContains:
		found, err := o.containsAny(left, right)
		return found != (o.Kind == syntax.OpNotContains), err
	case syntax.OpIn, syntax.OpNotIn:
		found, err := o.containsAny(right, left)
		return found != (o.Kind == syntax.OpNotIn), err
	}
	if list, ok := asList(left); ok {
		for _, e := range list {
			ok, err := o.scalar(e, right, re)
			if err != nil {
				return false, err
			}
			if ok {
				return true, nil
			}
		}
		return false, nil
	}
	return o.scalar(left, right, re)
}

// containsAny reports whether any element of coll equals item.
func (o cmpOp) containsAny(coll, item any) (bool, error) {
	list, ok := asList(coll)
	if !ok {
		list = []any{coll}
	}
	for _, e := range list {
		if equalValues(e, item, o.CaseSensitive) {
			return true, nil
		}
	}
	return false, nil
}

// scalar evaluates the operator for a single left value.
func (o cmpOp) scalar(left, right any, re *regexp.Regexp) (bool, error) {
	switch o.Kind {
	case syntax.OpEq:
		return equalValues(left, right, o.CaseSensitive), nil
	case syntax.OpNe:
		return !equalValues(left, right, o.CaseSensitive), nil
	case syntax.OpLike, syntax.OpNotLike:
		w, err := CompileWildcard(toText(right), o.CaseSensitive)
		if err != nil {
			return false, err
		}
		return w.Match(toText(left)) != (o.Kind == syntax.OpNotLike), nil
	case syntax.OpMatch, syntax.OpNotMatch:
		if re == nil {
			var err error
			re, err = compileMatch(toText(right), o.CaseSensitive)
			if err != nil {
				return false, err
			}
		}
		return re.MatchString(toText(left)) != (o.Kind == syntax.OpNotMatch), nil
	}
	c, err := orderValues(left, right, o.CaseSensitive)
	if err != nil {
		return false, err
	}
	switch o.Kind {
	case syntax.OpGt:
		return c > 0, nil
	case syntax.OpGe:
		return c >= 0, nil
	case syntax.OpLt:
		return c < 0, nil
	default: // opLe
		return c <= 0, nil
	}
}

// compileMatch compiles a -match pattern.
func compileMatch(pattern string, caseSensitive bool) (*regexp.Regexp, error) {
	re, err := syntax.CompileMatch(pattern, caseSensitive)
	if err != nil {
		return nil, psgate.Wrap(psgate.CodeInvalidOperation, psgate.Args{
			"detail": fmt.Sprintf("The regular expression pattern %s is not valid.", pattern),
		}, err)
	}
	return re, nil
}

// equalValues is PowerShell's -eq for two scalars: right is converted to
// left's type; a failed conversion is "not equal".
func equalValues(left, right any, caseSensitive bool) bool {
	if left == nil || right == nil {
		return left == nil && right == nil
	}
	c, err := orderValues(left, right, caseSensitive)
	return err == nil && c == 0
}

// orderValues compares two scalars after converting right to left's
// type; $null sorts before everything.
func orderValues(left, right any, caseSensitive bool) (int, error) {
	switch {
	case left == nil && right == nil:
		return 0, nil
	case left == nil:
		return -1, nil
	case right == nil:
		return 1, nil
	}
	fail := func(target string) (int, error) {
		inner := conversionError(right, target, "")
		if _, ok := right.(string); ok {
			inner = conversionError(right, target, errBadFormat)
		}
		return 0, psgate.E(psgate.CodeInvalidOperation, psgate.Args{
			"detail": fmt.Sprintf("Could not compare %q to %q. Error: %q", toText(left), toText(right), inner),
		})
	}
	switch l := left.(type) {
	case string:
		return compareText(l, toText(right), caseSensitive), nil
	case bool:
		return compareBool(l, isTrue(right)), nil
	case psobject.Char:
		if s, ok := right.(string); ok {
			if utf8.RuneCountInString(s) != 1 {
				return fail("System.Char")
			}
			return compareText(string(rune(l)), s, caseSensitive), nil
		}
		n, ok := toNumber(right)
		if !ok {
			return fail("System.Char")
		}
		return intNum(int64(l)).cmp(n), nil
	case time.Time:
		r, ok := toDateTime(right)
		if !ok {
			return fail("System.DateTime")
		}
		return l.Compare(r), nil
	case time.Duration:
		r, ok := toTimeSpan(right)
		if !ok {
			return fail("System.TimeSpan")
		}
		return cmpOrdered(int64(l), int64(r)), nil
	case psobject.Enum:
		return compareEnum(l, right)
	case psobject.GUID:
		return compareText(string(l), toText(right), false), nil
	case psobject.Version:
		lv, lok := parseVersion(string(l))
		rv, rok := parseVersion(toText(right))
		if !lok || !rok {
			if !rok {
				return fail("System.Version")
			}
			return compareText(string(l), toText(right), false), nil
		}
		return compareVersions(lv, rv), nil
	}
	if ln, ok := numberOf(left); ok {
		rn, ok := toNumber(right)
		if !ok {
			return fail(dotnetType(left))
		}
		return ln.cmp(rn), nil
	}
	// Objects, dictionaries, byte arrays: compare their text.
	return compareText(toText(left), toText(right), caseSensitive), nil
}

// compareText orders strings as a culture-aware comparison does, in
// approximation: case-insensitively first; with case sensitivity, lower
// case sorts before upper case.
func compareText(a, b string, caseSensitive bool) int {
	if c := compareFold(a, b); c != 0 || !caseSensitive {
		return c
	}
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			if unicode.IsLower(ra) {
				return -1
			}
			return 1
		}
		a, b = a[na:], b[nb:]
	}
	return 0
}

// compareFold orders strings case-insensitively, rune by rune.
func compareFold(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		la, lb := unicode.ToLower(ra), unicode.ToLower(rb)
		if la != lb {
			if la < lb {
				return -1
			}
			return 1
		}
		a, b = a[na:], b[nb:]
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	default:
		return 1
	}
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	default:
		return 1
	}
}

func compareEnum(l psobject.Enum, right any) (int, error) {
	switch r := right.(type) {
	case psobject.Enum:
		return cmpOrdered(l.Value, r.Value), nil
	case string:
		if strings.EqualFold(l.Name, strings.TrimSpace(r)) {
			return 0, nil
		}
		if n, ok := parseNumberText(strings.TrimSpace(r)); ok {
			return intNum(int64(l.Value)).cmp(n), nil
		}
		return compareText(l.Name, r, false), nil
	}
	n, ok := toNumber(right)
	if !ok {
		return compareText(l.Name, toText(right), false), nil
	}
	return intNum(int64(l.Value)).cmp(n), nil
}

func compareVersions(a, b []int64) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		// A missing component sorts before any present one, as
		// System.Version does (1.2 < 1.2.0).
		var x, y int64 = -1, -1
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if c := cmpOrdered(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// toDateTime converts a value to a DateTime.
func toDateTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		return parseDateTime(x)
	}
	return time.Time{}, false
}

// toTimeSpan converts a value to a TimeSpan; integers are ticks.
func toTimeSpan(v any) (time.Duration, bool) {
	switch x := v.(type) {
	case time.Duration:
		return x, true
	case string:
		return parseTimeSpan(x)
	}
	if n, ok := numberOf(v); ok && !n.isFloat && !n.isUint {
		return time.Duration(n.i) * 100, true
	}
	return 0, false
}

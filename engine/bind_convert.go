package engine

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/psgate/psgate/psobject"
)

// convertValue converts an argument to a parameter type with PowerShell's
// binding rules. On failure it returns the .NET error text, e.g.
// Cannot convert value "abc" to type "System.Int32". Error: "Input string
// was not in a correct format."
func convertValue(t Type, param string, v any) (any, string) {
	switch t {
	case TypeObject:
		return v, ""
	case TypeObjectArray:
		if list, ok := asList(v); ok {
			return list, ""
		}
		if v == nil {
			return []any(nil), ""
		}
		return []any{v}, ""
	case TypeStringArray:
		if v == nil {
			return []string(nil), ""
		}
		list, ok := asList(v)
		if !ok {
			list = []any{v}
		}
		out := make([]string, len(list))
		for i, e := range list {
			if _, nested := asList(e); nested {
				return nil, fmt.Sprintf("Cannot convert 'System.Object[]' to the type 'System.String' required by parameter '%s'. Specified method is not supported.", param)
			}
			out[i] = scalarText(e)
		}
		return out, ""
	}
	// Scalar types: a one-element array stands for its element.
	if list, ok := asList(v); ok {
		if len(list) != 1 {
			if t == TypeString {
				return nil, fmt.Sprintf("Cannot convert '%s' to the type 'System.String' required by parameter '%s'. Specified method is not supported.", dotnetType(v), param)
			}
			return nil, fmt.Sprintf("Cannot convert the %q value of type %q to type %q.", toText(v), dotnetType(v), t.String())
		}
		v = list[0]
	}
	switch t {
	case TypeString:
		if v == nil {
			return "", ""
		}
		return scalarText(v), ""
	case TypeSwitch, TypeBool:
		return convertBool(t, v)
	case TypeInt, TypeLong:
		return convertInteger(t, v)
	case TypeDouble:
		if s, ok := v.(string); ok {
			n, ok := parseNumberText(strings.TrimSpace(s))
			if !ok {
				return nil, conversionError(v, "System.Double", errBadFormat)
			}
			return n.float(), ""
		}
		n, ok := toNumber(v)
		if !ok {
			return nil, cannotConvertObject(v, "System.Double")
		}
		return n.float(), ""
	case TypeDateTime:
		switch x := v.(type) {
		case time.Time:
			return x, ""
		case string:
			if d, ok := parseDateTime(x); ok {
				return d, ""
			}
			return nil, conversionError(v, "System.DateTime", "String was not recognized as a valid DateTime.")
		}
		return nil, cannotConvertObject(v, "System.DateTime")
	case TypeTimeSpan:
		if s, ok := v.(string); ok {
			if d, ok := parseTimeSpan(s); ok {
				return d, ""
			}
			return nil, conversionError(v, "System.TimeSpan", "String was not recognized as a valid TimeSpan.")
		}
		if d, ok := toTimeSpan(v); ok {
			return d, ""
		}
		return nil, cannotConvertObject(v, "System.TimeSpan")
	}
	return v, ""
}

// scalarText converts a scalar to string as parameter binding does: a
// PowerShell object gives its ToString.
func scalarText(v any) string {
	if o, ok := v.(*psobject.Object); ok && o != nil {
		return o.String()
	}
	return toText(v)
}

func cannotConvertObject(v any, target string) string {
	return fmt.Sprintf("Cannot convert the %q value of type %q to type %q.", toText(v), dotnetType(v), target)
}

// convertBool accepts booleans and numbers only, as PowerShell's binder
// does for [bool] and [switch] parameters.
func convertBool(t Type, v any) (any, string) {
	switch x := v.(type) {
	case bool:
		return x, ""
	case nil:
		if t == TypeSwitch {
			// A switch named without a value by a structured command.
			return true, ""
		}
	case *psobject.Object:
		// A SwitchParameter forwarded from $PSBoundParameters (an
		// implicit-remoting proxy) binds its IsPresent.
		if x != nil && x.IsA(typeNames[TypeSwitch]) {
			if present, ok := x.Get("IsPresent"); ok {
				if b, ok := present.(bool); ok {
					return b, ""
				}
			}
		}
	}
	if n, ok := numberOf(v); ok {
		return !n.isZero(), ""
	}
	return nil, fmt.Sprintf("Cannot convert value %q to type %q. Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.", dotnetType(v), t.String())
}

func convertInteger(t Type, v any) (any, string) {
	target := t.String()
	short := "Int32"
	lo, hi := float64(math.MinInt32), float64(math.MaxInt32)
	if t == TypeLong {
		short = "Int64"
		lo, hi = math.MinInt64, math.MaxInt64
	}
	var n number
	switch x := v.(type) {
	case nil:
		n = intNum(0)
	case string:
		var ok bool
		n, ok = parseNumberText(strings.TrimSpace(x))
		if !ok {
			return nil, conversionError(v, target, errBadFormat)
		}
	case bool, psobject.Char, psobject.Enum:
		n, _ = toNumber(x)
	default:
		var ok bool
		n, ok = numberOf(v)
		if !ok {
			return nil, cannotConvertObject(v, target)
		}
	}
	overflow := conversionError(v, target, "Value was either too large or too small for an "+short+".")
	if n.isFloat {
		f := math.RoundToEven(n.f)
		if math.IsNaN(f) || f < lo || f >= hi+1 {
			return nil, overflow
		}
		n = intNum(int64(f))
	}
	if n.isUint || float64(n.i) < lo || float64(n.i) > hi {
		return nil, overflow
	}
	if t == TypeInt {
		return int32(n.i), ""
	}
	return n.i, ""
}

// validationDetail checks a converted value against the parameter's
// validation attributes; it returns the canonical value (ValidateSet
// spelling) or the failure text.
func validationDetail(p *Parameter, v any) (any, string) {
	if p.ValidateNotNullOrEmpty {
		if d := nullOrEmpty(v); d != "" {
			return nil, d
		}
	}
	if len(p.ValidateSet) > 0 {
		switch x := v.(type) {
		case string:
			canon, d := inSet(p.ValidateSet, x)
			if d != "" {
				return nil, d
			}
			v = canon
		case []string:
			out := make([]string, len(x))
			for i, s := range x {
				canon, d := inSet(p.ValidateSet, s)
				if d != "" {
					return nil, d
				}
				out[i] = canon
			}
			v = out
		}
	}
	if r := p.ValidateRange; r != nil {
		n, ok := numberOf(v)
		if ok {
			if n.cmp(intNum(r.Min)) < 0 {
				return nil, fmt.Sprintf("The %s argument is less than the minimum allowed range of %d. Supply an argument that is greater than or equal to %d and then try the command again.", toText(v), r.Min, r.Min)
			}
			if n.cmp(intNum(r.Max)) > 0 {
				return nil, fmt.Sprintf("The %s argument is greater than the maximum allowed range of %d. Supply an argument that is less than or equal to %d and then try the command again.", toText(v), r.Max, r.Max)
			}
		}
	}
	return v, ""
}

const errNullOrEmpty = "The argument is null or empty. Provide an argument that is not null or empty, and then try the command again."

func nullOrEmpty(v any) string {
	switch x := v.(type) {
	case nil:
		return errNullOrEmpty
	case string:
		if x == "" {
			return errNullOrEmpty
		}
		return ""
	}
	if list, ok := asList(v); ok {
		if len(list) == 0 {
			return errNullOrEmpty
		}
		for _, e := range list {
			if s, isStr := e.(string); e == nil || isStr && s == "" {
				return "The argument is null, empty, or an element of the argument collection contains a null value. Supply a collection that does not contain any null values and then try the command again."
			}
		}
	}
	return ""
}

func inSet(set []string, s string) (string, string) {
	for _, m := range set {
		if strings.EqualFold(m, s) {
			return m, ""
		}
	}
	return "", fmt.Sprintf("The argument %q does not belong to the set %q specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again.", s, strings.Join(set, ","))
}

// exactType reports whether v already has the parameter's type, for the
// first, coercion-free pass of pipeline binding by value.
func exactType(t Type, v any) bool {
	switch t {
	case TypeObject, TypeObjectArray:
		return true
	case TypeString:
		_, ok := v.(string)
		return ok
	case TypeStringArray:
		switch v.(type) {
		case string, []string:
			return true
		}
	case TypeInt:
		_, ok := v.(int32)
		return ok
	case TypeLong:
		_, ok := v.(int64)
		return ok
	case TypeDouble:
		_, ok := v.(float64)
		return ok
	case TypeBool, TypeSwitch:
		_, ok := v.(bool)
		return ok
	case TypeDateTime:
		_, ok := v.(time.Time)
		return ok
	case TypeTimeSpan:
		_, ok := v.(time.Duration)
		return ok
	}
	return false
}

// argText renders an argument for "A positional parameter cannot be found
// that accepts argument '...'".
func argText(v any) string {
	if _, ok := asList(v); ok {
		return dotnetType(v)
	}
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'G', -1, 64)
	}
	return scalarText(v)
}

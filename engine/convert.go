package engine

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/psgate/psgate/engine/syntax"
	"github.com/psgate/psgate/psobject"
)

// This file holds PowerShell's value conversions (LanguagePrimitives in
// .NET), shared by comparisons, filters and parameter binding.

// errBadFormat is the .NET FormatException text PowerShell quotes when a
// string is not a number, a date or a time span.
const errBadFormat = "Input string was not in a correct format."

// dotnetType returns the .NET type name of a value, as PowerShell names it
// in conversion errors.
func dotnetType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "System.String"
	case bool:
		return "System.Boolean"
	case int32:
		return "System.Int32"
	case int, int64:
		return "System.Int64"
	case uint8:
		return "System.Byte"
	case int16:
		return "System.Int16"
	case uint16:
		return "System.UInt16"
	case uint32:
		return "System.UInt32"
	case uint64:
		return "System.UInt64"
	case float32:
		return "System.Single"
	case float64:
		return "System.Double"
	case psobject.Decimal:
		return "System.Decimal"
	case psobject.Char:
		return "System.Char"
	case time.Time:
		return "System.DateTime"
	case time.Duration:
		return "System.TimeSpan"
	case []byte:
		return "System.Byte[]"
	case psobject.GUID:
		return "System.Guid"
	case psobject.Version:
		return "System.Version"
	case psobject.Enum:
		return x.Type
	case *psobject.Object:
		if x == nil {
			return "null"
		}
		return x.TypeName()
	case *psobject.Dict:
		return "System.Collections.Hashtable"
	case []any:
		return "System.Object[]"
	case []string:
		return "System.String[]"
	default:
		return "System.Object"
	}
}

// toText converts a value to a string the way PowerShell's [string] cast
// does: invariant culture, arrays joined with spaces.
func toText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return syntax.FormatDouble(x)
	case float32:
		return syntax.FormatDouble(float64(x))
	case time.Time:
		return x.Format("01/02/2006 15:04:05")
	case []string:
		return strings.Join(x, " ")
	}
	if list, ok := asList(v); ok {
		parts := make([]string, len(list))
		for i, e := range list {
			parts[i] = toText(e)
		}
		return strings.Join(parts, " ")
	}
	return psobject.Format(v)
}

// asList returns the elements of a collection value; strings, byte slices
// of a single value and objects are not collections.
func asList(v any) ([]any, bool) {
	switch x := v.(type) {
	case nil, string, []byte:
		return nil, false
	case []any:
		return x, true
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// isTrue is PowerShell's truthiness (LanguagePrimitives.IsTrue).
func isTrue(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case psobject.Char:
		return x != 0
	case *psobject.Object:
		return x != nil
	}
	if n, ok := numberOf(v); ok {
		return !n.isZero()
	}
	if list, ok := asList(v); ok {
		switch len(list) {
		case 0:
			return false
		case 1:
			return isTrue(list[0])
		default:
			return true
		}
	}
	return true
}

// number is a numeric value kept exactly where possible.
type number struct {
	isFloat bool
	isUint  bool // u holds a value too large for int64
	i       int64
	u       uint64
	f       float64
}

func intNum(i int64) number     { return number{i: i} }
func floatNum(f float64) number { return number{isFloat: true, f: f} }

func (n number) float() float64 {
	switch {
	case n.isFloat:
		return n.f
	case n.isUint:
		return float64(n.u)
	default:
		return float64(n.i)
	}
}

func (n number) isZero() bool { return n.float() == 0 }

// cmp orders two numbers.
func (n number) cmp(m number) int {
	if !n.isFloat && !m.isFloat {
		switch {
		case n.isUint && m.isUint:
			return cmpOrdered(n.u, m.u)
		case n.isUint:
			return 1
		case m.isUint:
			return -1
		default:
			return cmpOrdered(n.i, m.i)
		}
	}
	a, b := n.float(), m.float()
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	}
	// NaN sorts first, as .NET's Double.CompareTo does.
	switch {
	case math.IsNaN(a) && math.IsNaN(b):
		return 0
	case math.IsNaN(a):
		return -1
	default:
		return 1
	}
}

func cmpOrdered[T int64 | uint64 | int32 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// numberOf returns v as a number when it is of a numeric type.
func numberOf(v any) (number, bool) {
	switch x := v.(type) {
	case int:
		return intNum(int64(x)), true
	case int32:
		return intNum(int64(x)), true
	case int64:
		return intNum(x), true
	case int16:
		return intNum(int64(x)), true
	case int8:
		return intNum(int64(x)), true
	case uint8:
		return intNum(int64(x)), true
	case uint16:
		return intNum(int64(x)), true
	case uint32:
		return intNum(int64(x)), true
	case uint64:
		if x > math.MaxInt64 {
			return number{isUint: true, u: x}, true
		}
		return intNum(int64(x)), true
	case float32:
		return floatNum(float64(x)), true
	case float64:
		return floatNum(x), true
	case psobject.Decimal:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return number{}, false
		}
		return floatNum(f), true
	}
	return number{}, false
}

// isNumeric reports whether v is of a numeric type.
func isNumeric(v any) bool {
	_, ok := numberOf(v)
	return ok
}

// toNumber converts v to a number as PowerShell converts an operand to a
// numeric type: numbers as they are, booleans to 0/1, strings parsed
// (surrounding white space allowed, hexadecimal and exponents accepted).
func toNumber(v any) (number, bool) {
	switch x := v.(type) {
	case nil:
		return intNum(0), true
	case bool:
		if x {
			return intNum(1), true
		}
		return intNum(0), true
	case psobject.Char:
		return intNum(int64(x)), true
	case psobject.Enum:
		return intNum(int64(x.Value)), true
	case string:
		return parseNumberText(strings.TrimSpace(x))
	}
	return numberOf(v)
}

// parseNumberText parses a number written in a string (not a script
// literal: no multipliers or type suffixes).
func parseNumberText(s string) (number, bool) {
	if s == "" {
		// [int]"" is 0 in PowerShell.
		return intNum(0), true
	}
	neg := false
	body := s
	if body[0] == '-' || body[0] == '+' {
		neg = body[0] == '-'
		body = body[1:]
	}
	if len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') {
		u, err := strconv.ParseUint(body[2:], 16, 64)
		if err != nil {
			return number{}, false
		}
		i := int64(u)
		if u <= math.MaxUint32 && u > math.MaxInt32 {
			i = int64(int32(uint32(u)))
		}
		if neg {
			i = -i
		}
		return intNum(i), true
	}
	if body == "" || !isDigitOrDot(body[0]) {
		return number{}, false
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return intNum(i), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// ParseFloat accepts "Inf", "NaN" and underscores only in
		// forms excluded above; anything else is not a number.
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return floatNum(f), true
		}
		return number{}, false
	}
	return floatNum(f), true
}

func isDigitOrDot(c byte) bool { return c == '.' || c >= '0' && c <= '9' }

// conversionError is the InvalidCastException / FormatException text of
// a failed PowerShell conversion.
func conversionError(v any, typeName, inner string) string {
	if inner == "" {
		return fmt.Sprintf("Cannot convert value %q to type %q.", toText(v), typeName)
	}
	return fmt.Sprintf("Cannot convert value %q to type %q. Error: %q", toText(v), typeName, inner)
}

// dateLayouts are the DateTime formats accepted from strings, tried in
// order. Without a zone the time is UTC.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"1/2/2006 3:04:05 PM",
	"1/2/2006 3:04 PM",
	"1/2/2006 15:04:05",
	"1/2/2006 15:04",
	"1/2/2006",
	"2006/1/2",
	"2006/1/2 15:04:05",
	"January 2, 2006",
	"2 January 2006",
	"Monday, January 2, 2006 3:04:05 PM",
	"Mon, 02 Jan 2006 15:04:05 MST",
}

// parseDateTime parses a DateTime the way [datetime]"..." does for the
// invariant culture's common forms.
func parseDateTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseTimeSpan parses .NET TimeSpan text: [-][d.]hh:mm[:ss[.fffffff]] or
// a whole number of days.
func parseTimeSpan(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	neg := false
	if s[0] == '-' {
		neg = true
		s = s[1:]
	}
	var days int64
	if !strings.Contains(s, ":") {
		d, err := strconv.ParseInt(s, 10, 32)
		if err != nil || d < 0 {
			return 0, false
		}
		dur := time.Duration(d) * 24 * time.Hour
		if neg {
			dur = -dur
		}
		return dur, true
	}
	if dot := strings.IndexByte(s, '.'); dot >= 0 && dot < strings.IndexByte(s, ':') {
		d, err := strconv.ParseInt(s[:dot], 10, 32)
		if err != nil || d < 0 {
			return 0, false
		}
		days = d
		s = s[dot+1:]
	}
	var frac time.Duration
	if dot := strings.IndexByte(s, '.'); dot >= 0 {
		digits := s[dot+1:]
		if digits == "" || len(digits) > 7 {
			return 0, false
		}
		f, err := strconv.ParseUint(digits, 10, 32)
		if err != nil {
			return 0, false
		}
		for range 7 - len(digits) {
			f *= 10
		}
		frac = time.Duration(f) * 100
		s = s[:dot]
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	limits := []int64{23, 59, 59}
	units := []time.Duration{time.Hour, time.Minute, time.Second}
	dur := time.Duration(days) * 24 * time.Hour
	for i, p := range parts {
		if p == "" || len(p) > 2 {
			return 0, false
		}
		n, err := strconv.ParseInt(p, 10, 32)
		if err != nil || n < 0 || n > limits[i] {
			return 0, false
		}
		dur += time.Duration(n) * units[i]
	}
	if frac != 0 && len(parts) != 3 {
		return 0, false
	}
	dur += frac
	if neg {
		dur = -dur
	}
	return dur, true
}

// parseVersion splits a System.Version string into its 2 to 4 parts.
func parseVersion(s string) ([]int64, bool) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) < 2 || len(parts) > 4 {
		return nil, false
	}
	out := make([]int64, len(parts))
	for i, p := range parts {
		n, err := strconv.ParseInt(p, 10, 32)
		if err != nil || n < 0 {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

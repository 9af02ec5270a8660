package syntax

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// This file writes values back as literals of the language, for the
// canonical forms of scripts and filters.

// Literal writes a literal value back in the language's syntax: $null,
// $true, $false, a single-quoted string, a number (with its l or d suffix
// for Int64 and Decimal values). Other values are written as their text.
func Literal(v any) string {
	switch x := v.(type) {
	case nil:
		return "$null"
	case bool:
		if x {
			return "$true"
		}
		return "$false"
	case string:
		return quoteSingle(x)
	case float64:
		switch {
		case math.IsInf(x, 1):
			return "1e999"
		case math.IsInf(x, -1):
			return "-1e999"
		}
		s := FormatDouble(x)
		if !strings.ContainsAny(s, ".EN") {
			s += ".0"
		}
		return s
	case Decimal:
		return string(x) + "d"
	case int64:
		return strconv.FormatInt(x, 10) + "l"
	case int32:
		return strconv.FormatInt(int64(x), 10)
	}
	return fmt.Sprint(v)
}

// FormatDouble renders a float as .NET's Double.ToString() (round-trip,
// invariant), e.g. 1.5, 1E+20, NaN, Infinity.
func FormatDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'G', -1, 64)
}

// quoteSingle writes s as a single-quoted literal, doubling every quote
// character (typographic ones included). A string holding a NUL, which
// command lines cannot contain, is written double-quoted with escapes.
func quoteSingle(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return quoteDouble(s)
	}
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		if isSingleQuote(r) {
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

// quoteDouble writes s as a double-quoted literal with backtick escapes.
func quoteDouble(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == 0:
			b.WriteString("`0")
		case r == '`' || r == '$' || isDoubleQuoteRune(r):
			b.WriteByte('`')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

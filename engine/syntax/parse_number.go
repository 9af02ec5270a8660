package syntax

import (
	"math"
	"strconv"
	"strings"
)

// multipliers are PowerShell's numeric literal suffixes.
var multipliers = []struct {
	suffix string
	factor int64
}{
	{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"tb", 1 << 40}, {"pb", 1 << 50},
}

// parseNumberLiteral parses a PowerShell numeric literal as written in a
// script: 42, -7, 1.5, 1e3, .5, 0x1F, 10kb, 5l, 1.5d. It returns int32,
// int64, float64 or Decimal, and false when s is not a number (in
// command arguments such a token is a string, as 1.2.3 or 12abc are).
func parseNumberLiteral(s string) (any, bool) {
	if s == "" {
		return nil, false
	}
	neg := false
	switch s[0] {
	case '-', '+':
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return nil, false
	}
	lower := strings.ToLower(s)
	var factor int64 = 1
	for _, m := range multipliers {
		if strings.HasSuffix(lower, m.suffix) {
			factor = m.factor
			lower = lower[:len(lower)-2]
			break
		}
	}
	suffix := byte(0)
	if n := len(lower); n > 0 && (lower[n-1] == 'l' || lower[n-1] == 'd') {
		// "0xd" is a hex digit, not a decimal suffix.
		if !(lower[n-1] == 'd' && strings.HasPrefix(lower, "0x")) {
			suffix = lower[n-1]
			lower = lower[:n-1]
		}
	}
	if lower == "" {
		return nil, false
	}
	if strings.HasPrefix(lower, "0x") {
		if suffix == 'd' {
			return nil, false
		}
		return hexLiteral(lower[2:], neg, factor, suffix == 'l')
	}
	if !isDecimalLiteral(lower) {
		return nil, false
	}
	if suffix == 'd' {
		if factor != 1 {
			return nil, false
		}
		text := strings.TrimLeft(lower, "+")
		if neg {
			text = "-" + text
		}
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			return nil, false
		}
		return Decimal(text), true
	}
	isReal := strings.ContainsAny(lower, ".e")
	if !isReal {
		i, err := strconv.ParseInt(lower, 10, 64)
		if err == nil {
			if neg {
				i = -i
			}
			if r, ok := scaleInt(i, factor, suffix == 'l'); ok {
				return r, true
			}
		} else if suffix == 'l' {
			return nil, false
		}
	} else if suffix == 'l' {
		return nil, false
	}
	f, err := strconv.ParseFloat(lower, 64)
	if err != nil && !isRangeErr(err) {
		return nil, false
	}
	if neg {
		f = -f
	}
	return f * float64(factor), true
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// isDecimalLiteral checks digits[.digits][e[+-]digits] with at least one
// digit in the mantissa.
func isDecimalLiteral(s string) bool {
	i, digits := 0, 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && s[i] == 'e' {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

func hexLiteral(digits string, neg bool, factor int64, long bool) (any, bool) {
	if digits == "" || len(digits) > 16 {
		return nil, false
	}
	u, err := strconv.ParseUint(digits, 16, 64)
	if err != nil {
		return nil, false
	}
	var i int64
	switch {
	case !long && u <= math.MaxUint32:
		// 0xFFFFFFFF is -1: hex literals fill an Int32's bits first.
		i = int64(int32(uint32(u)))
		if u > math.MaxInt32 && factor == 1 {
			if neg {
				return -int32(i), true
			}
			return int32(i), true
		}
		if u > math.MaxInt32 {
			i = int64(u)
		}
	default:
		i = int64(u)
	}
	if neg {
		i = -i
	}
	return scaleInt(i, factor, long)
}

// scaleInt applies a multiplier and picks int32 or int64.
func scaleInt(i, factor int64, long bool) (any, bool) {
	if factor != 1 {
		if i > math.MaxInt64/factor || i < math.MinInt64/factor {
			return nil, false
		}
		i *= factor
	}
	if !long && i >= math.MinInt32 && i <= math.MaxInt32 {
		return int32(i), true
	}
	return i, true
}

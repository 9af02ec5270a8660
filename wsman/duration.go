package wsman

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// FormatDuration formats d as an xs:duration in seconds with exactly three
// decimals, "PT7200.000S", the only form PowerShell's client parses in
// rsp:IdleTimeOut and rsp:MaxIdleTimeOut. Negative durations format as
// "PT0.000S"; precision below a millisecond is truncated.
func FormatDuration(d time.Duration) string {
	return string(appendDuration(make([]byte, 0, 24), d))
}

func appendDuration(b []byte, d time.Duration) []byte {
	if d < 0 {
		d = 0
	}
	ms := int64(d / time.Millisecond)
	b = append(b, "PT"...)
	b = strconv.AppendInt(b, ms/1000, 10)
	frac := ms % 1000
	b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10), 'S')
	return b
}

// appendDayTime formats d as WinRM formats rsp:ShellRunTime and
// rsp:ShellInactivity: "P0DT0H0M9S", whole seconds.
func appendDayTime(b []byte, d time.Duration) []byte {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	b = append(b, 'P')
	b = strconv.AppendInt(b, s/86400, 10)
	b = append(b, "DT"...)
	b = strconv.AppendInt(b, s%86400/3600, 10)
	b = append(b, 'H')
	b = strconv.AppendInt(b, s%3600/60, 10)
	b = append(b, 'M')
	b = strconv.AppendInt(b, s%60, 10)
	return append(b, 'S')
}

var errDuration = errors.New("wsman: invalid duration")

// ParseDuration parses an xs:duration leniently: "PT20S", "PT60.000S",
// "PT30M", "P0DT0H0M0S", "P1Y2M3DT4H5M6.5S" (a year counts 365 days, a month
// 30) in any letter case, and a bare number of seconds ("60", "1.5"), which
// pywinrm sends for a raw idle_timeout. Negative durations, empty strings and
// values beyond time.Duration's range are errors.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		return 0, errDuration
	}
	if s[0] >= '0' && s[0] <= '9' {
		d, rest, ok := scaledNumber(s, time.Second)
		if !ok || rest != "" {
			return 0, errDuration
		}
		return d, nil
	}
	if s[0] != 'P' || len(s) == 1 {
		return 0, errDuration
	}
	s = s[1:]
	var total time.Duration
	inTime, fields := false, 0
	order := 0 // components must appear in their canonical order
	for s != "" {
		if s[0] == 'T' {
			if inTime || len(s) == 1 {
				return 0, errDuration
			}
			inTime = true
			s = s[1:]
			continue
		}
		num, rest := splitNumber(s)
		if num == "" || rest == "" {
			return 0, errDuration
		}
		unit, rank := unitOf(rest[0], inTime)
		if unit == 0 || rank <= order {
			return 0, errDuration
		}
		order = rank
		d, left, ok := scaledNumber(num, unit)
		if !ok || left != "" || total > math.MaxInt64-d {
			return 0, errDuration
		}
		total += d
		fields++
		s = rest[1:]
	}
	if fields == 0 {
		return 0, errDuration
	}
	return total, nil
}

// unitOf maps a designator to its length and its position in the canonical
// order (Y M W D in the date part, H M S in the time part).
func unitOf(c byte, inTime bool) (time.Duration, int) {
	const day = 24 * time.Hour
	if inTime {
		switch c {
		case 'H':
			return time.Hour, 5
		case 'M':
			return time.Minute, 6
		case 'S':
			return time.Second, 7
		}
		return 0, 0
	}
	switch c {
	case 'Y':
		return 365 * day, 1
	case 'M':
		return 30 * day, 2
	case 'W':
		return 7 * day, 3
	case 'D':
		return day, 4
	}
	return 0, 0
}

// splitNumber splits off a leading decimal number ("12", "1.5").
func splitNumber(s string) (num, rest string) {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	return s[:i], s[i:]
}

// scaledNumber parses the leading decimal number of s and multiplies it by
// unit, exactly (fraction digits beyond nanoseconds are dropped) and with
// overflow checks.
func scaledNumber(s string, unit time.Duration) (time.Duration, string, bool) {
	num, rest := splitNumber(s)
	whole, frac, _ := strings.Cut(num, ".")
	if whole == "" && frac == "" || strings.Contains(frac, ".") {
		return 0, rest, false
	}
	var d time.Duration
	if whole != "" {
		n, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || n > int64(math.MaxInt64/unit) {
			return 0, rest, false
		}
		d = time.Duration(n) * unit
	}
	// The fraction: frac digits scaled to the unit, one decimal at a time.
	scale := unit
	for i := 0; i < len(frac) && scale >= 10; i++ {
		scale /= 10
		add := time.Duration(frac[i]-'0') * scale
		if d > math.MaxInt64-add {
			return 0, rest, false
		}
		d += add
	}
	return d, rest, true
}

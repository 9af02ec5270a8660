package clixml

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// .NET DateTime and TimeSpan count 100-nanosecond ticks.
const (
	tick        = 100 * time.Nanosecond
	ticksPerSec = int64(time.Second / tick)
	ticksPerMin = 60 * ticksPerSec
	ticksPerHr  = 60 * ticksPerMin
	ticksPerDay = 24 * ticksPerHr
)

var (
	errBadDateTime = errors.New("not an xs:dateTime")
	errBadDuration = errors.New("not an xs:duration")
	errDurationMax = errors.New("duration out of range")
)

// appendDateTime appends t as .NET's XmlConvert.ToString(DateTime,
// RoundtripKind) does: 2018-06-13T23:46:28.00516+00:00, with up to seven
// fractional digits (trailing zeros dropped) and "Z" for UTC.
func appendDateTime(dst []byte, t time.Time) ([]byte, error) {
	year := t.Year()
	if year < 1 || year > 9999 {
		return dst, errors.New("clixml: DateTime year out of range 1-9999")
	}
	dst = appendPadded(dst, year, 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, int(t.Month()), 2)
	dst = append(dst, '-')
	dst = appendPadded(dst, t.Day(), 2)
	dst = append(dst, 'T')
	dst = appendPadded(dst, t.Hour(), 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, t.Minute(), 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, t.Second(), 2)
	dst = appendFraction(dst, int64(t.Nanosecond())/int64(tick))
	if t.Location() == time.UTC {
		return append(dst, 'Z'), nil
	}
	_, off := t.Zone()
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	dst = append(dst, sign)
	dst = appendPadded(dst, off/3600, 2)
	dst = append(dst, ':')
	return appendPadded(dst, off/60%60, 2), nil
}

// appendFraction appends ".fffffff" for a count of ticks below one second,
// without trailing zeros, or nothing for zero.
func appendFraction(dst []byte, ticks int64) []byte {
	if ticks == 0 {
		return dst
	}
	var digits [7]byte
	for i := 6; i >= 0; i-- {
		digits[i] = byte('0' + ticks%10)
		ticks /= 10
	}
	n := 7
	for digits[n-1] == '0' {
		n--
	}
	dst = append(dst, '.')
	return append(dst, digits[:n]...)
}

func appendPadded(dst []byte, v, width int) []byte {
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// parseDateTime parses an xs:dateTime. A value without a time zone is taken
// as UTC; "Z" gives time.UTC and an offset a fixed zone.
func parseDateTime(s string) (time.Time, error) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, errBadDateTime
	}
	num := func(a, b int) int {
		v := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, sec := num(11, 13), num(14, 16), num(17, 19)
	if year < 1 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 ||
		minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, errBadDateTime
	}
	rest := s[19:]
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		scale := int(time.Second / 10)
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			nsec += int(rest[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == 1 {
			return time.Time{}, errBadDateTime
		}
		rest = rest[i:]
	}
	loc := time.UTC
	switch {
	case rest == "" || rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		h, m := num(len(s)-5, len(s)-3), num(len(s)-2, len(s))
		if h < 0 || h > 14 || m < 0 || m > 59 {
			return time.Time{}, errBadDateTime
		}
		off := h*3600 + m*60
		if rest[0] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
	default:
		return time.Time{}, errBadDateTime
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	if t.Day() != day { // e.g. February 30th
		return time.Time{}, errBadDateTime
	}
	return t, nil
}

// appendDuration appends d as .NET's XmlConvert.ToString(TimeSpan) does:
// -P1DT2H3M4.5S, PT0S for zero, truncated to 100 ns ticks.
func appendDuration(dst []byte, d time.Duration) []byte {
	ticks := int64(d / tick)
	if ticks < 0 {
		dst = append(dst, '-')
		ticks = -ticks
	}
	dst = append(dst, 'P')
	days := ticks / ticksPerDay
	ticks %= ticksPerDay
	if days > 0 {
		dst = strconv.AppendInt(dst, days, 10)
		dst = append(dst, 'D')
		if ticks == 0 {
			return dst
		}
	}
	dst = append(dst, 'T')
	h, m := ticks/ticksPerHr, ticks/ticksPerMin%60
	secTicks := ticks % ticksPerMin
	if h > 0 {
		dst = strconv.AppendInt(dst, h, 10)
		dst = append(dst, 'H')
	}
	if m > 0 {
		dst = strconv.AppendInt(dst, m, 10)
		dst = append(dst, 'M')
	}
	if secTicks > 0 || (h == 0 && m == 0) {
		dst = strconv.AppendInt(dst, secTicks/ticksPerSec, 10)
		dst = appendFraction(dst, secTicks%ticksPerSec)
		dst = append(dst, 'S')
	}
	return dst
}

// parseDuration parses an xs:duration into a Duration. Years count as 365
// days and months as 30, as .NET does when converting to a TimeSpan.
func parseDuration(s string) (time.Duration, error) {
	i, neg := 0, false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	if i >= len(s) || s[i] != 'P' {
		return 0, errBadDuration
	}
	i++
	var ticks int64
	inTime, seen := false, false
	// Units must come in this order, each at most once.
	seq, pos := "YMD", 0
	for i < len(s) {
		if s[i] == 'T' {
			if inTime || i+1 == len(s) {
				return 0, errBadDuration
			}
			inTime, seq, pos = true, "HMS", 0
			i++
			continue
		}
		start := i
		var whole int64
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if whole > (math.MaxInt64-9)/10 {
				return 0, errDurationMax
			}
			whole = whole*10 + int64(s[i]-'0')
			i++
		}
		if i == start {
			return 0, errBadDuration
		}
		var frac int64 // in ticks
		if i < len(s) && s[i] == '.' {
			i++
			scale := ticksPerSec / 10
			fstart := i
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				frac += int64(s[i]-'0') * scale
				scale /= 10
				i++
			}
			if i == fstart {
				return 0, errBadDuration
			}
		}
		if i >= len(s) {
			return 0, errBadDuration
		}
		unit := s[i]
		i++
		idx := strings.IndexByte(seq[pos:], unit)
		if idx < 0 || (frac != 0 && unit != 'S') || (frac != 0 && !inTime) {
			return 0, errBadDuration
		}
		pos += idx + 1
		per := unitTicks(inTime, unit)
		if whole > (math.MaxInt64-ticks-frac)/per {
			return 0, errDurationMax
		}
		ticks += whole*per + frac
		seen = true
	}
	if !seen {
		return 0, errBadDuration
	}
	if ticks > math.MaxInt64/int64(tick) {
		return 0, errDurationMax
	}
	d := time.Duration(ticks) * tick
	if neg {
		d = -d
	}
	return d, nil
}

func unitTicks(inTime bool, unit byte) int64 {
	switch {
	case inTime && unit == 'H':
		return ticksPerHr
	case inTime && unit == 'M':
		return ticksPerMin
	case inTime:
		return ticksPerSec
	case unit == 'Y':
		return 365 * ticksPerDay
	case unit == 'M':
		return 30 * ticksPerDay
	default:
		return ticksPerDay
	}
}

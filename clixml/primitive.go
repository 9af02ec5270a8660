package clixml

import (
	"encoding/base64"
	"errors"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/psgate/psgate/psobject"
)

// isPrimitive reports whether tag is a primitive element.
func isPrimitive(tag string) bool {
	switch tag {
	case "S", "XD", "SBK", "C", "B", "DT", "TS", "By", "SB", "U16", "I16", "U32", "I32",
		"U64", "I64", "Sg", "Db", "D", "BA", "SS", "G", "URI", "Version":
		return true
	}
	return false
}

// parsePrimitive parses the text s of the primitive element tag.
func parsePrimitive(tag, s string) (any, error) {
	switch tag {
	case "S", "XD":
		return decodeString(s), nil
	case "SBK":
		return psobject.ScriptBlock(decodeString(s)), nil
	case "URI":
		s = decodeString(s)
		if u, err := url.Parse(s); err == nil {
			return u, nil
		}
		return s, nil
	case "BA":
		return base64.StdEncoding.DecodeString(stripSpace(s))
	case "SS":
		b, err := base64.StdEncoding.DecodeString(stripSpace(s))
		return SecureString{Ciphertext: b}, err
	}
	s = strings.TrimSpace(s)
	switch tag {
	case "C":
		v, err := strconv.ParseUint(s, 10, 16)
		return psobject.Char(v), err
	case "B":
		switch strings.ToLower(s) {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		}
		return nil, errors.New("not a boolean")
	case "DT":
		return parseDateTime(s)
	case "TS":
		return parseDuration(s)
	case "By":
		v, err := strconv.ParseUint(s, 10, 8)
		return uint8(v), err
	case "SB":
		v, err := strconv.ParseInt(s, 10, 8)
		return int8(v), err
	case "U16":
		v, err := strconv.ParseUint(s, 10, 16)
		return uint16(v), err
	case "I16":
		v, err := strconv.ParseInt(s, 10, 16)
		return int16(v), err
	case "U32":
		v, err := strconv.ParseUint(s, 10, 32)
		return uint32(v), err
	case "I32":
		v, err := strconv.ParseInt(s, 10, 32)
		return int32(v), err
	case "U64":
		return strconv.ParseUint(s, 10, 64)
	case "I64":
		return strconv.ParseInt(s, 10, 64)
	case "Sg":
		v, err := parseFloat(s, 32)
		return float32(v), err
	case "Db":
		return parseFloat(s, 64)
	case "D":
		if !isDecimal(s) {
			return nil, errors.New("not a decimal number")
		}
		return psobject.Decimal(s), nil
	case "G":
		s = strings.ToLower(s)
		if !isGUID(s) {
			return nil, errors.New("not a GUID")
		}
		return psobject.GUID(s), nil
	case "Version":
		if !isVersion(s) {
			return nil, errors.New("not a version")
		}
		return psobject.Version(s), nil
	}
	return nil, errors.New("not a primitive")
}

func parseFloat(s string, bits int) (float64, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "INF", "Infinity":
		return math.Inf(1), nil
	case "-INF", "-Infinity":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	// strconv accepts "inf", "infinity", "nan" and hex floats; .NET does
	// not, so allow only decimal digits, sign, point and exponent.
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return 0, errors.New("not a number")
		}
	}
	return strconv.ParseFloat(s, bits)
}

func isDecimal(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	digits, dot := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0 && digits <= 40
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// isVersion accepts System.Version text: two to four dot-separated numbers.
func isVersion(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 10 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
}

package syntax

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file scans quoted strings, here-strings and backtick escapes.

// escapeRune is the text of a backtick escape `r.
func escapeRune(r rune) string {
	switch r {
	case '0':
		return "\x00"
	case 'a':
		return "\a"
	case 'b':
		return "\b"
	case 'e':
		return "\x1b"
	case 'f':
		return "\f"
	case 'n':
		return "\n"
	case 'r':
		return "\r"
	case 't':
		return "\t"
	case 'v':
		return "\v"
	}
	return string(r)
}

// scanQuoted scans the quoted string starting at src[i] and returns its
// value and the offset after the closing quote.
func scanQuoted(src string, i int) (string, int, *scanError) {
	r, size := utf8.DecodeRuneInString(src[i:])
	if isSingleQuote(r) {
		return scanSingle(src, i, i+size)
	}
	return scanDouble(src, i, i+size)
}

func scanSingle(src string, start, j int) (string, int, *scanError) {
	var b strings.Builder
	seg := j
	for j < len(src) {
		r, size := utf8.DecodeRuneInString(src[j:])
		if !isSingleQuote(r) {
			j += size
			continue
		}
		b.WriteString(src[seg:j])
		j += size
		if j < len(src) {
			if r2, size2 := utf8.DecodeRuneInString(src[j:]); isSingleQuote(r2) {
				b.WriteRune(r2)
				j += size2
				seg = j
				continue
			}
		}
		return b.String(), j, nil
	}
	return "", 0, &scanError{off: start, detail: "The string is missing the terminator: '."}
}

func scanDouble(src string, start, j int) (string, int, *scanError) {
	var b strings.Builder
	for j < len(src) {
		r, size := utf8.DecodeRuneInString(src[j:])
		switch {
		case r == '`':
			j += size
			if j >= len(src) {
				continue
			}
			s, n, serr := scanEscape(src, j)
			if serr != nil {
				return "", 0, serr
			}
			b.WriteString(s)
			j += n
		case isDoubleQuoteRune(r):
			j += size
			if j < len(src) {
				if r2, size2 := utf8.DecodeRuneInString(src[j:]); isDoubleQuoteRune(r2) {
					b.WriteRune(r2)
					j += size2
					continue
				}
			}
			return b.String(), j, nil
		case r == '$' && dollarExpandsAt(src, j):
			return "", 0, dollarInString(src, j)
		default:
			b.WriteString(src[j : j+size])
			j += size
		}
	}
	return "", 0, &scanError{off: start, detail: "The string is missing the terminator: \"."}
}

// scanEscape decodes the escape after a backtick at src[j:]; it returns
// the text and the bytes consumed.
func scanEscape(src string, j int) (string, int, *scanError) {
	r, size := utf8.DecodeRuneInString(src[j:])
	if r == 'u' && j+1 < len(src) && src[j+1] == '{' {
		end := strings.IndexByte(src[j+2:], '}')
		if end < 1 || end > 6 {
			return "", 0, &scanError{off: j, detail: "The Unicode escape sequence is not valid. A valid sequence is `u{ followed by 1 to 6 hex digits and a closing '}'."}
		}
		var cp rune
		for _, h := range src[j+2 : j+2+end] {
			d := hexDigit(h)
			if d < 0 {
				return "", 0, &scanError{off: j, detail: "The Unicode escape sequence is not valid. A valid sequence is `u{ followed by 1 to 6 hex digits and a closing '}'."}
			}
			cp = cp*16 + rune(d)
		}
		if cp > unicode.MaxRune || cp >= 0xD800 && cp <= 0xDFFF {
			return "", 0, &scanError{off: j, detail: "The Unicode escape sequence value is out of range. The maximum value is 0x10FFFF."}
		}
		return string(cp), 2 + end + 1, nil
	}
	return escapeRune(r), size, nil
}

func hexDigit(r rune) int {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0')
	case r >= 'a' && r <= 'f':
		return int(r-'a') + 10
	case r >= 'A' && r <= 'F':
		return int(r-'A') + 10
	}
	return -1
}

// dollarInString refuses a $ expansion inside a double-quoted string.
func dollarInString(src string, j int) *scanError {
	if j+1 < len(src) && src[j+1] == '(' {
		return &scanError{off: j, construct: "a sub-expression ($(...)) in a string (use single quotes for a literal $)"}
	}
	name := scanName(src, j+1)
	if name == "" && j+1 < len(src) {
		r, _ := utf8.DecodeRuneInString(src[j+1:])
		name = string(r)
	}
	return &scanError{off: j, construct: "the variable $" + name + " in a string (use single quotes, or a backtick: `$, for a literal $)"}
}

// scanHereString scans @'...'@ or @"..."@ starting at src[i] (the @).
func scanHereString(src string, i int) (string, int, *scanError) {
	quote := src[i+1]
	j := i + 2
	for j < len(src) && (src[j] == ' ' || src[j] == '\t') {
		j++
	}
	switch {
	case j < len(src) && src[j] == '\n':
		j++
	case j+1 < len(src) && src[j] == '\r' && src[j+1] == '\n':
		j += 2
	case j < len(src) && src[j] == '\r':
		j++
	default:
		return "", 0, &scanError{off: j, detail: "No characters are allowed after a here-string header but before the end of the line."}
	}
	contentStart := j
	closing := string(quote) + "@"
	for k := j; ; {
		if strings.HasPrefix(src[k:], closing) {
			content := src[contentStart:k]
			content = strings.TrimSuffix(content, "\n")
			content = strings.TrimSuffix(content, "\r")
			end := k + 2
			if quote == '\'' {
				return content, end, nil
			}
			s, serr := expandHereString(src, contentStart, content)
			return s, end, serr
		}
		nl := strings.IndexByte(src[k:], '\n')
		if nl < 0 {
			return "", 0, &scanError{off: i, detail: "The string is missing the terminator: " + closing + "."}
		}
		k += nl + 1
	}
}

// expandHereString processes escapes in a double-quoted here-string's
// content, refusing $ expansions.
func expandHereString(src string, base int, content string) (string, *scanError) {
	var b strings.Builder
	for j := 0; j < len(content); {
		c := content[j]
		switch {
		case c == '`' && j+1 < len(content):
			s, n, serr := scanEscape(content, j+1)
			if serr != nil {
				serr.off += base
				return "", serr
			}
			b.WriteString(s)
			j += 1 + n
		case c == '$' && dollarExpandsAt(content, j):
			serr := dollarInString(content, j)
			serr.off += base
			return "", serr
		default:
			b.WriteByte(c)
			j++
		}
	}
	return b.String(), nil
}

package syntax

import (
	"strings"
	"unicode/utf8"
)

// scanner is the source cursor both languages read: the command language
// (parser) and the filter language (filterParser). The scanning functions
// of this package (quoted strings, here-strings, escapes, numbers, names
// and dashes) work on it or on its text.
type scanner struct {
	src string
	pos int
}

func (s *scanner) eof() bool { return s.pos >= len(s.src) }

func (s *scanner) peek() byte {
	if s.pos >= len(s.src) {
		return 0
	}
	return s.src[s.pos]
}

func (s *scanner) peekAt(i int) byte {
	if s.pos+i >= len(s.src) {
		return 0
	}
	return s.src[s.pos+i]
}

// skipBlanks skips white space (Unicode's), and line breaks too when
// newlines is set.
func (s *scanner) skipBlanks(newlines bool) {
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\f' || c == '\v':
			s.pos++
		case c == '\n' || c == '\r':
			if !newlines {
				return
			}
			s.pos++
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s.src[s.pos:])
			if !isUnicodeSpace(r) {
				return
			}
			s.pos += size
		default:
			return
		}
	}
}

// dashNameAt reports a dash followed by a name at off (-Name, -eq; any
// dash PowerShell accepts) and returns the dash's length, or 0. With
// question, a name may also start with '?' (the parameter -?).
func (s *scanner) dashNameAt(off int, question bool) int {
	n := dashLen(s.src[off:])
	if n == 0 || off+n >= len(s.src) {
		return 0
	}
	c := s.src[off+n]
	if isNameStart(c) || question && c == '?' {
		return n
	}
	return 0
}

// isNameStart reports a letter or _, which start names.
func isNameStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isDigitOrDot(c byte) bool { return c == '.' || c >= '0' && c <= '9' }

// scanName returns the identifier (letters, digits, _, ?, :) at src[i:].
func scanName(src string, i int) string {
	end := i
	for end < len(src) {
		c := src[end]
		if !isNameStart(c) && !(c >= '0' && c <= '9') && c != '?' && c != ':' {
			break
		}
		end++
	}
	return src[i:end]
}

// scanWord returns the word (letters, digits and _) at src[i:].
func scanWord(src string, i int) string {
	end := i
	for end < len(src) && (isNameStart(src[end]) || src[end] >= '0' && src[end] <= '9') {
		end++
	}
	return src[i:end]
}

// dashLen returns the length of the dash starting s: PowerShell takes
// the en dash, em dash and horizontal bar (common in text pasted from
// documents) as a hyphen before a parameter name.
func dashLen(s string) int {
	switch {
	case strings.HasPrefix(s, "-"):
		return 1
	case strings.HasPrefix(s, "\u2013"), strings.HasPrefix(s, "\u2014"), strings.HasPrefix(s, "\u2015"):
		return 3
	}
	return 0
}

// DashLen returns the length in bytes of the dash that starts s, as
// before a parameter name: "-", or an en dash, em dash or horizontal bar;
// 0 when s does not start with one.
func DashLen(s string) int { return dashLen(s) }

// IsParameterName reports whether name is well formed as a parameter
// name: it starts with a letter, _ or ?.
func IsParameterName(name string) bool { return name != "" && isParamStart(name[0]) }

// runeColumn is the 1-based character column of byte offset off.
func (s *scanner) runeColumn(off int) int {
	return utf8.RuneCountInString(s.src[:off]) + 1
}

package clixml

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

const hexDigits = "0123456789ABCDEF"

// plainASCII reports whether appendEscaped copies the ASCII byte c as is.
func plainASCII(c byte) bool {
	switch c {
	case '<', '>', '&', '"', '_', 0x7F:
		return false
	}
	return c >= 0x20 && c < utf8.RuneSelf
}

// appendEscaped appends s encoded as PowerShell's serializer encodes strings
// (InternalSerializer.EncodeString) and then XML-escaped for element text,
// or for a double-quoted attribute value when attr is true.
//
// Encoded as _xHHHH_: C0 and C1 control characters, UTF-16 surrogates (so a
// character outside the BMP becomes two escapes), U+FFFE and U+FFFF (not
// allowed in XML) and the '_' of a literal "_x" or "_X". Invalid UTF-8
// becomes U+FFFD.
func appendEscaped(dst []byte, s string, attr bool) []byte {
	// Fast path: plain ASCII with nothing to escape.
	i := 0
	for i < len(s) {
		c := s[i]
		if !plainASCII(c) {
			break
		}
		i++
	}
	dst = append(dst, s[:i]...)
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c < 0x20 || c == 0x7F:
				dst = appendUnit(dst, uint16(c))
			case c == '<':
				dst = append(dst, "&lt;"...)
			case c == '>':
				dst = append(dst, "&gt;"...)
			case c == '&':
				dst = append(dst, "&amp;"...)
			case c == '"' && attr:
				dst = append(dst, "&quot;"...)
			case c == '_' && i < len(s) && (s[i] == 'x' || s[i] == 'X'):
				dst = appendUnit(dst, '_')
			default:
				dst = append(dst, c)
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = utf8.AppendRune(dst, utf8.RuneError)
		case r <= 0x9F, r == 0xFFFE, r == 0xFFFF:
			dst = appendUnit(dst, uint16(r))
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			dst = appendUnit(appendUnit(dst, uint16(hi)), uint16(lo))
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}

// appendUnit appends one UTF-16 code unit as _xHHHH_.
func appendUnit(dst []byte, u uint16) []byte {
	return append(dst, '_', 'x',
		hexDigits[u>>12], hexDigits[u>>8&0xF], hexDigits[u>>4&0xF], hexDigits[u&0xF], '_')
}

// decodeString reverses the _xHHHH_ encoding of PowerShell strings (the
// XML entities are already resolved by the XML parser). The 'x' and the hex
// digits may be either case; _xHHHHHHHH_ (a code point) is accepted too, as
// .NET's XmlConvert.DecodeName does. Paired surrogate escapes become one
// character; an unpaired surrogate becomes U+FFFD.
func decodeString(s string) string {
	// Find the first escape; names such as _isHostNull have a '_' and none.
	i := 0
	for {
		j := strings.IndexByte(s[i:], '_')
		if j < 0 {
			return s
		}
		i += j
		if _, n := escapeAt(s, i); n > 0 {
			break
		}
		i++
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		if s[i] != '_' {
			j := strings.IndexByte(s[i:], '_')
			if j < 0 {
				b.WriteString(s[i:])
				break
			}
			b.WriteString(s[i : i+j])
			i += j
			continue
		}
		r, n := escapeAt(s, i)
		if n == 0 {
			b.WriteByte('_')
			i++
			continue
		}
		i += n
		if utf16.IsSurrogate(r) {
			if r < 0xDC00 { // high surrogate: needs a low one next
				if lo, m := escapeAt(s, i); m > 0 && lo >= 0xDC00 && lo <= 0xDFFF {
					r = utf16.DecodeRune(r, lo)
					i += m
				} else {
					r = utf8.RuneError
				}
			} else {
				r = utf8.RuneError
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// escapeAt parses an escape _xHHHH_ or _xHHHHHHHH_ starting at s[i] and
// returns the value and its length, or n == 0 when there is none.
func escapeAt(s string, i int) (r rune, n int) {
	if i+7 > len(s) || s[i] != '_' || (s[i+1] != 'x' && s[i+1] != 'X') {
		return 0, 0
	}
	if v, ok := parseHex(s[i+2 : i+6]); ok && s[i+6] == '_' {
		return rune(v), 7
	}
	if i+11 <= len(s) && s[i+10] == '_' {
		if v, ok := parseHex(s[i+2 : i+10]); ok && v <= utf8.MaxRune && !utf16.IsSurrogate(rune(v)) {
			return rune(v), 11
		}
	}
	return 0, 0
}

func parseHex(s string) (uint32, bool) {
	var v uint32
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint32(c)
	}
	return v, true
}

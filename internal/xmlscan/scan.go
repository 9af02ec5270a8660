// Package xmlscan reads the plain XML that real WS-Management and
// PowerShell clients send, token by token, without encoding/xml's
// allocations per token.
//
// A Scanner accepts a subset of XML 1.0 held in memory:
//   - UTF-8 text (callers strip a byte order mark);
//   - an optional XML declaration at the very start, version 1.0, with no
//     encoding or one that reads as UTF-8;
//   - names of ASCII name characters with at most one colon, inside them;
//   - the five predefined entities and character references;
//   - comments and CDATA sections.
//
// Anything else makes it decline: a DOCTYPE or other declaration,
// processing instructions, other entities, character references to
// surrogates, characters XML does not allow, non-ASCII names, malformed
// markup, an end tag that does not match, the end of the input inside an
// element. A caller that is declined falls back to encoding/xml.
//
// On what it accepts, the tokens are those encoding/xml's Decoder.Token
// returns in Strict mode, without comments and the declaration, and with
// names as written (prefix and local part, as RawToken gives them);
// FuzzScan checks this. Namespaces are the caller's business.
package xmlscan

import (
	"bytes"
	"unicode/utf8"
)

// Kind is the kind of a Token.
type Kind uint8

// Token kinds.
const (
	EOF          Kind = iota // end of the input, outside every element
	StartElement             // <name attr="value"...>, or the start of <name/>
	EndElement               // </name>, or the end of <name/>
	CharData                 // text or a CDATA section
)

// Name is an element or attribute name as written: Prefix is empty when
// the name has no colon.
type Name struct {
	Prefix, Local []byte
}

// Attr is an attribute; Value has references expanded and line ends
// normalised.
type Attr struct {
	Name  Name
	Value []byte
}

// Token is one token of the input: its Kind and the fields of that kind.
// The other fields are left as earlier tokens set them. Its slices point
// into the input or into the Scanner's buffers and are valid until the
// next call to Next. Neither the token nor its slices may be modified.
type Token struct {
	Kind Kind
	Name Name   // StartElement and EndElement
	Attr []Attr // StartElement
	Data []byte // CharData
	// Decoded (CharData) is set when Data had to be decoded (a reference
	// expanded, a line end normalised) into the Scanner's buffer, which
	// the next call to Next reuses. Otherwise Data is a slice of the input
	// with no spare capacity: a caller may keep it as long as the input
	// lives, and appending to it copies it.
	Decoded bool
}

// Scanner reads tokens from a byte slice. The zero value is ready to use
// after Reset. It keeps its first buffers inside itself, so embed it in a
// struct that is allocated once rather than copying it after Reset.
type Scanner struct {
	// UTF8Label reports whether a declared encoding other than "utf-8" (in
	// any case) is read as UTF-8, as a CharsetReader may do. Nil: none is.
	UTF8Label func(label []byte) bool

	src      []byte
	pos      int
	declined bool
	started  bool
	// pending is the end of an empty element, returned by the next call
	// with the name its start left in tok.
	pending bool

	open  []span // qualified names of the open elements
	attrs []Attr
	buf   []byte // decoded text and attribute values of the current token

	tok Token // the token Next returns

	openBuf [16]span
	attrBuf [8]Attr
}

// span is a range of the input.
type span struct{ lo, hi int32 }

// Reset starts scanning src, keeping the Scanner's buffers.
func (s *Scanner) Reset(src []byte) {
	if s.open == nil {
		s.open, s.attrs = s.openBuf[:0], s.attrBuf[:0]
	}
	s.src, s.pos = src, 0
	s.declined, s.started, s.pending = false, false, false
	s.open = s.open[:0]
	s.attrs = s.attrs[:0]
	s.buf = s.buf[:0]
}

// Depth returns the number of open elements.
func (s *Scanner) Depth() int { return len(s.open) }

// Next returns the next token, which stays valid until the next call. ok
// is false when the Scanner declines: the input is outside its subset, or
// not well-formed. After a decline, Next keeps declining.
func (s *Scanner) Next() (t *Token, ok bool) {
	if s.declined || !s.next() {
		s.declined = true
		return nil, false
	}
	return &s.tok, true
}

// next reads the next token into s.tok. It sets only the fields of the
// token's kind: a store of a pointer costs a write barrier while the
// garbage collector runs, and a token is read by its kind.
func (s *Scanner) next() bool {
	if s.pending {
		s.pending = false
		s.tok.Kind = EndElement
		return true
	}
	if !s.started {
		s.started = true
		if bytes.HasPrefix(s.src, xmlDecl) && !s.declaration() {
			return false
		}
	}
	s.buf = s.buf[:0]
	for {
		if s.pos >= len(s.src) {
			if len(s.open) > 0 {
				return false // encoding/xml: unexpected EOF
			}
			s.tok.Kind = EOF
			return true
		}
		if s.src[s.pos] != '<' {
			return s.text()
		}
		if s.pos+1 >= len(s.src) {
			return false
		}
		switch s.src[s.pos+1] {
		case '/':
			return s.endTag()
		case '?':
			return false // processing instructions
		case '!':
			rest := s.src[s.pos:]
			switch {
			case bytes.HasPrefix(rest, commentStart):
				if !s.comment() {
					return false
				}
				continue // comments are not tokens here
			case bytes.HasPrefix(rest, cdataStart):
				return s.cdata()
			}
			return false // DOCTYPE and other declarations
		}
		return s.startTag()
	}
}

var (
	xmlDecl      = []byte("<?xml")
	commentStart = []byte("<!--")
	cdataStart   = []byte("<![CDATA[")
	cdataEnd     = []byte("]]>")
)

// declaration reads `<?xml version="1.0"` with an optional encoding read as
// UTF-8 and an optional standalone, in that order. encoding/xml checks only
// the version and the encoding; other forms are left to it.
func (s *Scanner) declaration() bool {
	rest := s.src[len(xmlDecl):]
	end := bytes.Index(rest, []byte("?>"))
	if end <= 0 || !isSpace(rest[0]) {
		return false // "<?xml-stylesheet", "<?xml?>", unterminated
	}
	c := trimSpace(rest[:end])
	s.pos = len(xmlDecl) + end + 2

	v, c, ok := pseudoAttr(c, "version")
	if !ok || string(v) != "1.0" {
		return false
	}
	if t := trimSpace(c); len(t) < len(c) {
		if v, r, ok := pseudoAttr(t, "encoding"); ok {
			if !bytes.EqualFold(v, []byte("utf-8")) && (s.UTF8Label == nil || !s.UTF8Label(v)) {
				return false
			}
			c = r
		}
	}
	if t := trimSpace(c); len(t) < len(c) {
		if v, r, ok := pseudoAttr(t, "standalone"); ok {
			if string(v) != "yes" && string(v) != "no" {
				return false
			}
			c = r
		}
	}
	return len(trimSpace(c)) == 0
}

// pseudoAttr reads `name="value"` or `name='value'` at the start of c; the
// value must be made of name characters.
func pseudoAttr(c []byte, name string) (value, rest []byte, ok bool) {
	if len(c) < len(name)+3 || string(c[:len(name)]) != name || c[len(name)] != '=' {
		return nil, nil, false
	}
	q := c[len(name)+1]
	if q != '"' && q != '\'' {
		return nil, nil, false
	}
	c = c[len(name)+2:]
	i := bytes.IndexByte(c, q)
	if i <= 0 {
		return nil, nil, false
	}
	for _, b := range c[:i] {
		if !nameByte[b] {
			return nil, nil, false
		}
	}
	return c[:i], c[i+1:], true
}

// startTag reads `<name attr="value"...>` or `<name.../>`.
func (s *Scanner) startTag() bool {
	s.pos++ // '<'
	lo := s.pos
	name, ok := s.name()
	if !ok {
		return false
	}
	qname := span{int32(lo), int32(s.pos)}
	s.attrs = s.attrs[:0]
	for {
		s.skipSpace()
		if s.pos >= len(s.src) {
			return false
		}
		switch s.src[s.pos] {
		case '>':
			s.pos++
			s.open = append(s.open, qname)
			s.tok.Kind, s.tok.Attr = StartElement, s.attrs
			s.tok.Name.set(name)
			return true
		case '/':
			if s.pos+1 >= len(s.src) || s.src[s.pos+1] != '>' {
				return false
			}
			s.pos += 2
			s.pending = true
			s.tok.Kind, s.tok.Attr = StartElement, s.attrs
			s.tok.Name.set(name)
			return true
		}
		// encoding/xml needs no space between attributes.
		an, ok := s.name()
		if !ok {
			return false
		}
		s.skipSpace()
		if s.pos >= len(s.src) || s.src[s.pos] != '=' {
			return false
		}
		s.pos++
		s.skipSpace()
		v, ok := s.attrValue()
		if !ok {
			return false
		}
		// Every field of a is set: appending Attr{} or a whole Attr would
		// cost a bulk write barrier while the garbage collector runs.
		if n := len(s.attrs); n < cap(s.attrs) {
			s.attrs = s.attrs[:n+1]
		} else {
			s.attrs = append(s.attrs, Attr{})
		}
		a := &s.attrs[len(s.attrs)-1]
		a.Name.set(an)
		a.Value = v
	}
}

// endTag reads `</name>`, which must repeat the name of the innermost open
// element as written.
func (s *Scanner) endTag() bool {
	if len(s.open) == 0 {
		return false
	}
	s.pos += 2 // "</"
	lo := s.pos
	name, ok := s.name()
	if !ok {
		return false
	}
	top := s.open[len(s.open)-1]
	if !bytes.Equal(s.src[lo:s.pos], s.src[top.lo:top.hi]) {
		return false
	}
	s.skipSpace()
	if s.pos >= len(s.src) || s.src[s.pos] != '>' {
		return false
	}
	s.pos++
	s.open = s.open[:len(s.open)-1]
	s.tok.Kind = EndElement
	s.tok.Name.set(name)
	return true
}

// set stores n in *m slice by slice: the compiler would move a whole Name
// with a bulk write barrier, dearer while the garbage collector runs.
func (m *Name) set(n Name) {
	m.Prefix, m.Local = n.Prefix, n.Local
}

// name reads a name of ASCII name characters starting with a letter or
// '_', with at most one colon, not at either end. encoding/xml accepts
// more (non-ASCII names, leading or trailing colons as part of the local
// name); those decline.
func (s *Scanner) name() (Name, bool) {
	start := s.pos
	if start >= len(s.src) || !nameStart[s.src[start]] {
		return Name{}, false
	}
	colon := -1
	i := start + 1
	for ; i < len(s.src) && nameByte[s.src[i]]; i++ {
		if s.src[i] == ':' {
			if colon >= 0 {
				return Name{}, false
			}
			colon = i
		}
	}
	if i < len(s.src) && s.src[i] >= utf8.RuneSelf {
		return Name{}, false // encoding/xml reads on into the name
	}
	s.pos = i
	if colon < 0 {
		return Name{Local: s.src[start:i:i]}, true
	}
	if colon == i-1 {
		return Name{}, false
	}
	return Name{Prefix: s.src[start:colon:colon], Local: s.src[colon+1 : i : i]}, true
}

// attrValue reads a quoted attribute value. encoding/xml expands references
// and normalises line ends in it, but not white space, and refuses '<'.
func (s *Scanner) attrValue() ([]byte, bool) {
	if s.pos >= len(s.src) {
		return nil, false
	}
	q := s.src[s.pos]
	if q != '"' && q != '\'' {
		return nil, false
	}
	n := bytes.IndexByte(s.src[s.pos+1:], q)
	if n < 0 {
		return nil, false
	}
	raw := s.src[s.pos+1 : s.pos+1+n : s.pos+1+n]
	s.pos += n + 2
	if bytes.IndexByte(raw, '<') >= 0 {
		return nil, false
	}
	return s.charData(raw, true)
}

// text reads character data up to the next '<' or the end of the input.
func (s *Scanner) text() bool {
	rest := s.src[s.pos:]
	n := bytes.IndexByte(rest, '<')
	if n < 0 {
		if len(s.open) > 0 {
			return false // encoding/xml: unexpected EOF after it
		}
		n = len(rest)
	}
	raw := rest[:n:n]
	s.pos += n
	if bytes.Contains(raw, cdataEnd) {
		return false // encoding/xml refuses it outside CDATA
	}
	return s.charDataToken(raw, true)
}

// charDataToken makes raw, a capped slice of the input, the CharData
// token.
func (s *Scanner) charDataToken(raw []byte, refs bool) bool {
	lo := len(s.buf)
	d, ok := s.charData(raw, refs)
	s.tok.Kind, s.tok.Data, s.tok.Decoded = CharData, d, len(s.buf) > lo
	return ok
}

// cdata reads a CDATA section: text with line ends normalised and nothing
// expanded. An empty section is an empty CharData, as in encoding/xml.
func (s *Scanner) cdata() bool {
	start := s.pos + len(cdataStart)
	n := bytes.Index(s.src[start:], cdataEnd)
	if n < 0 {
		return false
	}
	raw := s.src[start : start+n : start+n]
	s.pos = start + n + len(cdataEnd)
	return s.charDataToken(raw, false)
}

// comment skips `<!--...-->`. encoding/xml ends a comment at the first "--"
// after "<!--" and requires '>' after it; it checks nothing else.
func (s *Scanner) comment() bool {
	start := s.pos + len(commentStart)
	n := bytes.Index(s.src[start:], []byte("--"))
	if n < 0 || start+n+2 >= len(s.src) || s.src[start+n+2] != '>' {
		return false
	}
	s.pos = start + n + 3
	return true
}

func (s *Scanner) skipSpace() {
	for s.pos < len(s.src) && isSpace(s.src[s.pos]) {
		s.pos++
	}
}

// charData checks and decodes character data as encoding/xml's text()
// does: every character must be one XML allows, in valid UTF-8; "\r\n" and
// "\r" become "\n"; with refs, the predefined entities and character
// references are expanded. The result is raw itself when nothing changes,
// else it is appended to s.buf. Other entities, and references to
// surrogates (which encoding/xml turns into U+FFFD), decline.
func (s *Scanner) charData(raw []byte, refs bool) ([]byte, bool) {
	for i := 0; i < len(raw); {
		c := raw[i]
		if plain[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n == 1 || !IsChar(r) {
				return nil, false
			}
			i += n
			continue
		}
		if c == '\r' || c == '&' && refs {
			return s.decode(raw, i, refs)
		}
		if c == '&' { // in CDATA
			i++
			continue
		}
		return nil, false // a control character
	}
	return raw, true
}

// decode is charData from raw[i] on, appending to s.buf.
func (s *Scanner) decode(raw []byte, i int, refs bool) ([]byte, bool) {
	lo := len(s.buf)
	out := append(s.buf, raw[:i]...)
	for i < len(raw) {
		c := raw[i]
		switch {
		case plain[c]:
			out = append(out, c)
			i++
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n == 1 || !IsChar(r) {
				return nil, false
			}
			out = append(out, raw[i:i+n]...)
			i += n
		case c == '\r':
			out = append(out, '\n')
			i++
			if i < len(raw) && raw[i] == '\n' {
				i++
			}
		case c == '&' && refs:
			r, n := reference(raw[i:])
			if n == 0 {
				return nil, false
			}
			out = utf8.AppendRune(out, r)
			i += n
		case c == '&':
			out = append(out, c)
			i++
		default:
			return nil, false
		}
	}
	s.buf = out
	return out[lo:len(out):len(out)], true
}

// reference decodes the reference at the start of b ("&amp;", "&#38;",
// "&#x26;") and returns its character and length, or n == 0 to decline.
func reference(b []byte) (r rune, n int) {
	end := bytes.IndexByte(b, ';')
	if end < 2 {
		return 0, 0
	}
	name := b[1:end]
	switch string(name) {
	case "lt":
		return '<', end + 1
	case "gt":
		return '>', end + 1
	case "amp":
		return '&', end + 1
	case "apos":
		return '\'', end + 1
	case "quot":
		return '"', end + 1
	}
	if name[0] != '#' {
		return 0, 0
	}
	digits, base := name[1:], rune(10)
	if len(digits) > 0 && digits[0] == 'x' { // encoding/xml takes only a lower-case x
		digits, base = digits[1:], 16
	}
	if len(digits) == 0 {
		return 0, 0
	}
	for _, d := range digits {
		var v rune
		switch {
		case '0' <= d && d <= '9':
			v = rune(d - '0')
		case base == 16 && 'a' <= d && d <= 'f':
			v = rune(d-'a') + 10
		case base == 16 && 'A' <= d && d <= 'F':
			v = rune(d-'A') + 10
		default:
			return 0, 0
		}
		r = r*base + v
		if r > utf8.MaxRune {
			return 0, 0
		}
	}
	if !IsChar(r) {
		return 0, 0
	}
	return r, end + 1
}

// IsChar is the Char production of XML 1.0, as encoding/xml checks it.
// Surrogates are outside it.
func IsChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= utf8.MaxRune
}

// isSpace is XML white space, what encoding/xml skips inside tags.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

var (
	// nameStart marks the ASCII bytes a name may start with.
	nameStart = asciiSet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
	// nameByte is encoding/xml's set of single-byte name characters.
	nameByte = asciiSet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_:.-")
	// plain marks the bytes charData passes through unchanged: printable
	// ASCII except '&', plus tab and line feed.
	plain = func() (t [256]bool) {
		for c := 0x20; c < 0x80; c++ {
			t[c] = c != '&'
		}
		t['\t'], t['\n'] = true, true
		return t
	}()
)

func asciiSet(chars string) (t [256]bool) {
	for i := 0; i < len(chars); i++ {
		t[chars[i]] = true
	}
	return t
}

package syntax

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file scans command arguments: bare words, constants, comma lists
// and blanks between them.

// scanError is a problem found while scanning a string: a syntax error
// (detail) or a refused construct.
type scanError struct {
	off       int
	detail    string
	construct string
}

func (p *parser) fromScanError(e *scanError) error {
	if e.construct != "" {
		return p.refuse(e.off, e.construct)
	}
	return p.syntaxError(e.off, e.detail)
}

func isUnicodeSpace(r rune) bool {
	return r != '\n' && r != '\r' && unicode.IsSpace(r)
}

func isSingleQuote(r rune) bool {
	return r == '\'' || r == '\u2018' || r == '\u2019' || r == '\u201A' || r == '\u201B'
}

func isDoubleQuoteRune(r rune) bool {
	return r == '"' || r == '\u201C' || r == '\u201D' || r == '\u201E'
}

// isQuoteRune reports whether s starts with a quote character (PowerShell
// also accepts typographic quotes).
func isQuoteRune(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '\'' || s[0] == '"' {
		return true
	}
	if s[0] < utf8.RuneSelf {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s)
	return isSingleQuote(r) || isDoubleQuoteRune(r)
}

// skipSpace skips blanks, line continuations and comments, and newlines
// too when newlines is true.
func (p *parser) skipSpace(newlines bool) error {
	for {
		p.skipBlanks(newlines)
		switch c := p.peek(); {
		case c == '`' && (p.peekAt(1) == '\n' || p.peekAt(1) == '\r'):
			p.pos += 2
			if p.src[p.pos-1] == '\r' && p.peek() == '\n' {
				p.pos++
			}
		case c == '<' && p.peekAt(1) == '#':
			end := strings.Index(p.src[p.pos+2:], "#>")
			if end < 0 {
				return p.syntaxError(p.pos, "Missing the terminator '#>' of the block comment.")
			}
			p.pos += 2 + end + 2
		case c == '#':
			end := strings.IndexAny(p.src[p.pos:], "\r\n")
			if end < 0 {
				p.pos = len(p.src)
			} else {
				p.pos += end
			}
		default:
			return nil
		}
	}
}

// parseArgValue parses a command argument value, with comma lists.
func (p *parser) parseArgValue() (any, error) {
	return p.commaValue(p.parsePrimaryArg)
}

// commaValue parses a value with next, with PowerShell's comma forms: a
// unary comma makes a one-element array, "a, b, c" a list.
func (p *parser) commaValue(next func() (any, error)) (any, error) {
	var first any
	if p.peek() == ',' {
		p.pos++
		if err := p.skipSpace(false); err != nil {
			return nil, err
		}
		if p.atValueEnd() {
			return nil, p.syntaxError(p.pos, "Missing expression after unary operator ','.")
		}
		v, err := next()
		if err != nil {
			return nil, err
		}
		first = []any{v}
	} else {
		v, err := next()
		if err != nil {
			return nil, err
		}
		first = v
	}
	return p.commaList(first, next)
}

// commaList continues a value with ", next, ..." elements parsed by next;
// without a comma it returns first unchanged.
func (p *parser) commaList(first any, next func() (any, error)) (any, error) {
	save := p.pos
	if err := p.skipSpace(false); err != nil {
		return nil, err
	}
	if p.peek() != ',' {
		p.pos = save
		return first, nil
	}
	list := []any{first}
	for p.peek() == ',' {
		p.pos++
		if err := p.skipSpace(true); err != nil {
			return nil, err
		}
		if p.atValueEnd() {
			return nil, p.syntaxError(p.pos, "Missing expression after ','.")
		}
		v, err := next()
		if err != nil {
			return nil, err
		}
		list = append(list, v)
		save = p.pos
		if err := p.skipSpace(false); err != nil {
			return nil, err
		}
	}
	p.pos = save
	return list, nil
}

// atValueEnd reports a position where a value is missing.
func (p *parser) atValueEnd() bool {
	switch p.peek() {
	case 0, ';', '|', '\n', '\r', ')', '}', ',':
		return true
	}
	return false
}

// parsePrimaryArg parses one argument value (no commas).
func (p *parser) parsePrimaryArg() (any, error) {
	v, err := p.parsePrimaryArgValue()
	if err != nil {
		return nil, err
	}
	// ('a').Length, 'abc'.Length, (1,2)[0]: member access and indexing.
	if end := p.pos; end > 0 && end < len(p.src) {
		prev, next := p.src[end-1], p.src[end]
		closed := prev == ')' || prev == '\'' || prev == '"' || prev >= utf8.RuneSelf
		if closed && (next == '.' && end+1 < len(p.src) && isParamStart(p.src[end+1]) || next == '[') {
			if next == '[' {
				return nil, p.refuse(end, "indexing ([...])")
			}
			return nil, p.refuse(end, "member access (."+scanName(p.src, end+1)+")")
		}
	}
	return v, nil
}

// quoted scans the quoted string at p.pos and moves past it.
func (p *parser) quoted() (any, error) {
	s, end, serr := scanQuoted(p.src, p.pos)
	if serr != nil {
		return nil, p.fromScanError(serr)
	}
	p.pos = end
	return s, nil
}

func (p *parser) parsePrimaryArgValue() (any, error) {
	c := p.peek()
	switch {
	case isQuoteRune(p.src[p.pos:]):
		return p.quoted()
	case c == '$':
		if v, ok := p.scanConstant(); ok {
			return v, nil
		}
		if p.dollarExpands(p.pos) {
			return nil, p.refuseDollar(p.pos, false)
		}
	case c == '@':
		return p.parseAt()
	case c == '(':
		return p.parseParen()
	case c == '{':
		return nil, p.refuseScriptBlock()
	case c == ')' || c == '}':
		return nil, p.unexpected()
	case c == '&':
		if p.peekAt(1) == '&' {
			return nil, p.refuse(p.pos, "the pipeline chain operator (&&)")
		}
		return nil, p.refuse(p.pos, "the call operator (&)")
	case p.isRedirectionAt(p.pos):
		return nil, p.refuseRedirection()
	case c == ',':
		return nil, p.syntaxError(p.pos, "Missing expression before ','.")
	}
	word, plain, err := p.scanBareWord()
	if err != nil {
		return nil, err
	}
	if plain {
		if n, ok := parseNumberLiteral(word); ok {
			return n, nil
		}
	}
	return word, nil
}

// scanConstant scans $true, $false or $null standing alone.
func (p *parser) scanConstant() (any, bool) {
	end := p.pos + 1
	for end < len(p.src) && isNameStart(p.src[end]) {
		end++
	}
	if !p.isTerminatorAt(end) {
		return nil, false
	}
	var v any
	switch strings.ToLower(p.src[p.pos+1 : end]) {
	case "true":
		v = true
	case "false":
		v = false
	case "null":
		v = nil
	default:
		return nil, false
	}
	p.pos = end
	return v, true
}

// dollarExpands reports whether the $ at off starts a variable or
// sub-expression in PowerShell.
func (p *parser) dollarExpands(off int) bool {
	return dollarExpandsAt(p.src, off)
}

func dollarExpandsAt(src string, off int) bool {
	if off+1 >= len(src) {
		return false
	}
	c := src[off+1]
	if isNameStart(c) || c >= '0' && c <= '9' || strings.IndexByte("{(?^$:", c) >= 0 {
		return true
	}
	if c >= utf8.RuneSelf {
		r, _ := utf8.DecodeRuneInString(src[off+1:])
		return unicode.IsLetter(r)
	}
	return false
}

// refuseScriptBlock refuses { ... } with a hint for the common cases.
func (p *parser) refuseScriptBlock() error {
	name := strings.ToLower(p.cmdName)
	param := strings.ToLower(p.lastParam)
	switch {
	case name == "where-object" || name == "where" || name == "?":
		err := p.refuse(p.pos, "a script block in Where-Object (use the comparison form instead, for example: Where-Object Enabled -eq $true)")
		err.(*Error).Resolution = "Write the comparison form: Where-Object Enabled -eq $true, or Where-Object -Property Enabled -EQ -Value $true."
		return err
	case param != "" && strings.HasPrefix("filter", param):
		err := p.refuse(p.pos, "a script block as a filter (pass the filter as a string instead, for example: -Filter \"Department -eq 'Sales'\")")
		err.(*Error).Resolution = "Quote the filter: -Filter \"Department -eq 'Sales'\"."
		return err
	}
	return p.refuse(p.pos, "a script block ({ ... })")
}

// scanBareWord scans an unquoted argument. plain is false when it used
// quotes or escapes (then it is never a number).
func (p *parser) scanBareWord() (string, bool, error) {
	start := p.pos
	plain := true
	var b strings.Builder
	copied := false
	flush := func() {
		if !copied {
			b.WriteString(p.src[start:p.pos])
			copied = true
		}
	}
	for !p.isTerminatorAt(p.pos) {
		c := p.src[p.pos]
		switch {
		case c == '`':
			flush()
			plain = false
			p.pos++
			if p.eof() {
				b.WriteByte('`')
				continue
			}
			r, size := utf8.DecodeRuneInString(p.src[p.pos:])
			p.pos += size
			b.WriteString(escapeRune(r))
		case c == '\'' || c == '"' || c >= utf8.RuneSelf && isQuoteRune(p.src[p.pos:]):
			flush()
			plain = false
			s, err := p.quoted()
			if err != nil {
				return "", false, err
			}
			b.WriteString(s.(string))
		case c == '$' && p.dollarExpands(p.pos):
			return "", false, p.refuseDollar(p.pos, false)
		default:
			_, size := utf8.DecodeRuneInString(p.src[p.pos:])
			if copied {
				b.WriteString(p.src[p.pos : p.pos+size])
			}
			p.pos += size
		}
	}
	if p.pos == start {
		return "", false, p.unexpected()
	}
	if copied {
		return b.String(), plain, nil
	}
	return p.src[start:p.pos], plain, nil
}

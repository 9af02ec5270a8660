package syntax

import (
	"strings"
)

// This file parses the literal-only expressions allowed inside (...) and
// @(...), and refuses everything else an expression could hold.

// parseAt parses what starts with @ in an argument.
func (p *parser) parseAt() (any, error) {
	switch next := p.peekAt(1); {
	case next == '(':
		return p.parseArrayExpr()
	case next == '{':
		return nil, p.refuse(p.pos, "a hashtable (@{ ... })")
	case next == '\'' || next == '"':
		s, end, serr := scanHereString(p.src, p.pos)
		if serr != nil {
			return nil, p.fromScanError(serr)
		}
		p.pos = end
		return s, nil
	case isNameStart(next) || next == '?':
		return nil, p.refuse(p.pos, "splatting (@"+scanName(p.src, p.pos+1)+")")
	}
	word, _, err := p.scanBareWord()
	return word, err
}

// parseParen parses ( literal ) or ( literal, literal ).
func (p *parser) parseParen() (any, error) {
	open := p.pos
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	p.pos++
	if err := p.skipSpace(true); err != nil {
		return nil, err
	}
	if p.peek() == ')' {
		return nil, p.syntaxError(p.pos, "An expression was expected after '('.")
	}
	v, err := p.parseExprStatement()
	if err != nil {
		return nil, err
	}
	if err := p.skipSpace(true); err != nil {
		return nil, err
	}
	if p.eof() {
		return nil, p.syntaxError(open, "Missing closing ')' in expression.")
	}
	if p.peek() != ')' {
		return nil, p.refuseExprTrailer()
	}
	p.pos++
	return v, nil
}

// parseArrayExpr parses @( ... ) holding literals, separated by commas,
// semicolons or newlines.
func (p *parser) parseArrayExpr() (any, error) {
	open := p.pos
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	p.pos += 2
	list := []any{}
	for {
		if err := p.skipSpace(true); err != nil {
			return nil, err
		}
		switch p.peek() {
		case 0:
			return nil, p.syntaxError(open, "Missing closing ')' in subexpression.")
		case ')':
			p.pos++
			return list, nil
		case ';':
			p.pos++
			continue
		}
		v, err := p.parseExprStatement()
		if err != nil {
			return nil, err
		}
		// A statement's array output is enumerated into @().
		if l, ok := v.([]any); ok {
			list = append(list, l...)
		} else {
			list = append(list, v)
		}
		if err := p.skipSpace(false); err != nil {
			return nil, err
		}
		switch p.peek() {
		case 0, ')', ';', '\n', '\r':
		default:
			return nil, p.refuseExprTrailer()
		}
	}
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxNesting {
		return p.syntaxError(p.pos, "The expression is nested too deeply.")
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// parseExprStatement parses a comma list of literals in expression mode.
func (p *parser) parseExprStatement() (any, error) {
	return p.commaValue(p.parseExprPrimary)
}

// parseExprPrimary parses one literal in expression mode.
func (p *parser) parseExprPrimary() (any, error) {
	c := p.peek()
	switch {
	case isQuoteRune(p.src[p.pos:]):
		return p.quoted()
	case c == '$':
		if v, ok := p.scanConstant(); ok {
			return v, nil
		}
		return nil, p.refuseDollar(p.pos, false)
	case c == '(':
		return p.parseParen()
	case c == '@':
		switch next := p.peekAt(1); next {
		case '(':
			return p.parseArrayExpr()
		case '{':
			return nil, p.refuse(p.pos, "a hashtable (@{ ... })")
		case '\'', '"':
			s, end, serr := scanHereString(p.src, p.pos)
			if serr != nil {
				return nil, p.fromScanError(serr)
			}
			p.pos = end
			return s, nil
		}
		return nil, p.refuse(p.pos, "splatting (@"+scanName(p.src, p.pos+1)+")")
	case c == '{':
		return nil, p.refuseScriptBlock()
	case c == '[':
		return nil, p.refuse(p.pos, "a type literal ([type])")
	case c >= '0' && c <= '9' || c == '.' || (c == '-' || c == '+') && (isDigitOrDot(p.peekAt(1))):
		start := p.pos
		for !p.isTerminatorAt(p.pos) {
			p.pos++
		}
		word := p.src[start:p.pos]
		if n, ok := parseNumberLiteral(word); ok {
			return n, nil
		}
		return nil, p.refuse(start, "the expression '"+word+"'")
	case c == '-' && isParamStart(p.peekAt(1)):
		return nil, p.refuse(p.pos, "the operator '-"+scanName(p.src, p.pos+1)+"' outside command arguments")
	case c == ')' || c == '}' || c == 0:
		return nil, p.unexpectedOrEOF()
	}
	if strings.IndexByte("!+-*/%=<>&|.", c) >= 0 {
		return nil, p.refuse(p.pos, "the operator '"+string(c)+"'")
	}
	start := p.pos
	word, _, err := p.scanBareWord()
	if err != nil {
		return nil, err
	}
	return nil, p.refuse(start, "a nested command or bare word ('"+word+"') inside parentheses (quote literal strings: '"+strings.ReplaceAll(word, "'", "''")+"')")
}

func (p *parser) unexpectedOrEOF() error {
	if p.eof() {
		return p.syntaxError(p.pos, "Missing closing ')' in expression.")
	}
	return p.unexpected()
}

// refuseExprTrailer explains what follows a literal inside parentheses.
func (p *parser) refuseExprTrailer() error {
	c := p.peek()
	switch {
	case c == '-' && isParamStart(p.peekAt(1)):
		return p.refuse(p.pos, "the operator '-"+scanName(p.src, p.pos+1)+"' outside command arguments")
	case c == '.':
		return p.refuse(p.pos, "member access (.Name)")
	case c == '[':
		return p.refuse(p.pos, "indexing ([...])")
	case c == '|':
		return p.refuse(p.pos, "a pipeline inside parentheses")
	case c == ';':
		return p.syntaxError(p.pos, "Missing closing ')' in expression.")
	case c == '{':
		return p.refuseScriptBlock()
	case c != 0 && strings.IndexByte("!+-*/%=<>&", c) >= 0:
		return p.refuse(p.pos, "the operator '"+string(c)+"'")
	}
	return p.unexpectedOrEOF()
}

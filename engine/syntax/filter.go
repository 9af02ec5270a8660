package syntax

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FilterNode is a parsed -Filter expression: comparisons of the form
// `Property -op value` joined by -and / -or, with parentheses. -and binds
// tighter than -or, as in PowerShell. Values are quoted strings, numbers,
// $true, $false and $null. A node is an *And, an *Or or a *Comparison;
// String returns it in canonical form, which parses back to itself.
type FilterNode interface {
	String() string
	filterNode()
}

// And is `Left -and Right`.
type And struct{ Left, Right FilterNode }

// Or is `Left -or Right`.
type Or struct{ Left, Right FilterNode }

// Comparison is `Property -op Value`.
type Comparison struct {
	Property string
	Op       Op
	// Value is a literal: string, int32, int64, float64, Decimal, bool
	// or nil.
	Value any
	// Pattern is the compiled regular expression of -match and
	// -notmatch (CompileMatch); nil for the other operators.
	Pattern *regexp.Regexp
}

func (*And) filterNode()        {}
func (*Or) filterNode()         {}
func (*Comparison) filterNode() {}

// ParseFilter parses a filter such as
//
//	Department -eq 'Sales' -and (Enabled -eq $true -or City -like "Par*")
//
// Errors are *Error: KindSyntax with the character position (Pos.Line 1,
// Pos.Column counted from the start of the filter) and a lower-case
// detail, or KindNotAllowed when the filter uses variables or script
// syntax.
func ParseFilter(filter string) (FilterNode, error) {
	p := &filterParser{scanner: scanner{src: filter}}
	if i := strings.IndexByte(filter, 0); i >= 0 {
		return nil, p.fail(ftoken{col: p.runeColumn(i)}, "the filter contains a NUL character")
	}
	p.next()
	if p.tok.kind == ftEOF {
		return nil, p.fail(p.tok, "the filter is empty")
	}
	root, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != ftEOF {
		return nil, p.fail(p.tok, fmt.Sprintf("unexpected %s; expected -and, -or or the end of the filter", p.tok.describe()))
	}
	return root, nil
}

func (n *And) String() string {
	return groupOr(n.Left) + " -and " + groupOr(n.Right)
}

func (n *Or) String() string { return n.Left.String() + " -or " + n.Right.String() }

func groupOr(n FilterNode) string {
	if _, ok := n.(*Or); ok {
		return "(" + n.String() + ")"
	}
	return n.String()
}

func (n *Comparison) String() string {
	return n.Property + " -" + n.Op.Name + " " + Literal(n.Value)
}

// filter tokens

type ftKind uint8

const (
	ftEOF ftKind = iota
	ftLParen
	ftRParen
	ftOperator // -eq, -and, -or ...: text holds the name without dash
	ftName     // a property name
	ftValue    // a literal: value holds it
)

type ftoken struct {
	kind  ftKind
	text  string
	value any
	col   int // 1-based character column
}

func (t ftoken) describe() string {
	switch t.kind {
	case ftEOF:
		return "end of the filter"
	case ftLParen:
		return "'('"
	case ftRParen:
		return "')'"
	case ftOperator:
		return "operator '-" + t.text + "'"
	case ftValue:
		return "value " + Literal(t.value)
	default:
		return "'" + t.text + "'"
	}
}

// filterParser parses the filter language on the scanner the command
// language uses.
type filterParser struct {
	scanner
	tok ftoken
	err error
}

func (p *filterParser) fail(t ftoken, detail string) error {
	if p.err != nil {
		return p.err
	}
	return filterError(t.col, detail)
}

func filterError(col int, detail string) *Error {
	return &Error{Kind: KindSyntax, Pos: Pos{Line: 1, Column: col}, Detail: detail}
}

// next scans the next token into p.tok; a scanning error is kept in p.err
// and reported as an EOF token.
func (p *filterParser) next() {
	if p.err != nil {
		p.tok = ftoken{kind: ftEOF, col: p.runeColumn(len(p.src))}
		return
	}
	p.skipBlanks(true)
	start := p.pos
	col := p.runeColumn(start)
	if p.pos >= len(p.src) {
		p.tok = ftoken{kind: ftEOF, col: col}
		return
	}
	c := p.src[p.pos]
	switch {
	case c == '(':
		p.pos++
		p.tok = ftoken{kind: ftLParen, col: col}
	case c == ')':
		p.pos++
		p.tok = ftoken{kind: ftRParen, col: col}
	case isQuoteRune(p.src[p.pos:]):
		s, end, serr := scanQuoted(p.src, p.pos)
		if serr != nil {
			if serr.construct != "" {
				p.err = &Error{Kind: KindNotAllowed, Pos: Pos{Line: 1, Column: p.runeColumn(serr.off)}, Construct: serr.construct}
				p.tok = ftoken{kind: ftEOF, col: col}
				return
			}
			p.setErr(p.runeColumn(serr.off), strings.TrimSuffix(serr.detail, "."))
			return
		}
		p.pos = end
		p.tok = ftoken{kind: ftValue, value: s, col: col}
	case c == '$':
		word := scanWord(p.src, p.pos+1)
		switch strings.ToLower(word) {
		case "true":
			p.tok = ftoken{kind: ftValue, value: true, col: col}
		case "false":
			p.tok = ftoken{kind: ftValue, value: false, col: col}
		case "null":
			p.tok = ftoken{kind: ftValue, value: nil, col: col}
		default:
			p.err = &Error{Kind: KindNotAllowed, Pos: Pos{Line: 1, Column: col}, Construct: "the variable $" + word + " in a filter"}
			p.tok = ftoken{kind: ftEOF, col: col}
			return
		}
		p.pos += 1 + len(word)
	case p.dashNameAt(p.pos, false) > 0:
		n := dashLen(p.src[p.pos:])
		word := scanWord(p.src, p.pos+n)
		p.pos += n + len(word)
		p.tok = ftoken{kind: ftOperator, text: strings.ToLower(word), col: col}
	case c == '{' || c == '}' || c == '@' || c == '[' || c == '&' || c == ';' || c == '|':
		p.setErr(col, fmt.Sprintf("the character '%c' is not allowed; a filter holds only Property -operator value comparisons", c))
	default:
		end := p.pos
		for end < len(p.src) {
			r, size := utf8.DecodeRuneInString(p.src[end:])
			if unicode.IsSpace(r) || strings.ContainsRune("(){}", r) || isQuoteRune(p.src[end:]) {
				break
			}
			end += size
		}
		word := p.src[p.pos:end]
		p.pos = end
		if v, ok := parseNumberLiteral(word); ok {
			p.tok = ftoken{kind: ftValue, value: v, col: col}
			return
		}
		p.tok = ftoken{kind: ftName, text: word, col: col}
	}
}

func (p *filterParser) setErr(col int, msg string) {
	p.err = filterError(col, msg)
	p.tok = ftoken{kind: ftEOF, col: col}
}

// isPropertyName accepts PowerShell member names: letters, digits, _ and
// dots are not allowed (no nested member access).
func isPropertyName(s string) bool {
	if s == "" || !isNameStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isNameStart(c) && !(c >= '0' && c <= '9') && c != '-' {
			return false
		}
	}
	return true
}

func (p *filterParser) parseOr() (FilterNode, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == ftOperator && p.tok.text == "or" {
		p.next()
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = &Or{left, right}
	}
	return left, nil
}

func (p *filterParser) parseAnd() (FilterNode, error) {
	left, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == ftOperator && p.tok.text == "and" {
		p.next()
		right, err := p.parsePrimary()
		if err != nil {
			return nil, err
		}
		left = &And{left, right}
	}
	return left, nil
}

func (p *filterParser) parsePrimary() (FilterNode, error) {
	switch p.tok.kind {
	case ftLParen:
		p.next()
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != ftRParen {
			return nil, p.fail(p.tok, "missing ')'; found "+p.tok.describe())
		}
		p.next()
		return n, nil
	case ftName:
		return p.parseComparison()
	}
	return nil, p.fail(p.tok, "expected a property name or '(' but found "+p.tok.describe())
}

func (p *filterParser) parseComparison() (FilterNode, error) {
	name := p.tok
	if !isPropertyName(name.text) {
		return nil, p.fail(name, fmt.Sprintf("'%s' is not a property name", name.text))
	}
	p.next()
	if p.tok.kind != ftOperator {
		return nil, p.fail(p.tok, fmt.Sprintf("expected a comparison operator such as -eq after '%s' but found %s", name.text, p.tok.describe()))
	}
	op, ok := ParseOp(p.tok.text)
	if !ok {
		return nil, p.fail(p.tok, fmt.Sprintf("'-%s' is not a comparison operator; use -eq, -ne, -gt, -ge, -lt, -le, -like, -notlike, -match, -notmatch, -contains, -notcontains, -in or -notin", p.tok.text))
	}
	p.next()
	val := p.tok
	switch val.kind {
	case ftValue:
	case ftName:
		return nil, p.fail(val, fmt.Sprintf("the value '%s' must be quoted, for example '%s'", val.text, strings.ReplaceAll(val.text, "'", "''")))
	default:
		return nil, p.fail(val, fmt.Sprintf("expected a value after '-%s' but found %s", op.Name, val.describe()))
	}
	n := &Comparison{Property: name.text, Op: op, Value: val.value}
	if op.Kind == OpMatch || op.Kind == OpNotMatch {
		re, err := CompileMatch(literalString(val.value), op.CaseSensitive)
		if err != nil {
			return nil, p.fail(val, "the regular expression "+Literal(val.value)+" is not valid")
		}
		n.Pattern = re
	}
	p.next()
	return n, nil
}

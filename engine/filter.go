package engine

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/psobject"
)

// Filter is a parsed -Filter expression: comparisons of the form
// `Property -op value` joined by -and / -or, with parentheses. -and binds
// tighter than -or, as in PowerShell. Values are quoted strings, numbers,
// $true, $false and $null.
type Filter struct {
	text string
	root filterNode
}

type filterNode interface {
	match(obj *psobject.Object) (bool, error)
	props(add func(string))
	String() string
}

type filterAnd struct{ left, right filterNode }
type filterOr struct{ left, right filterNode }

type filterCmp struct {
	property string
	op       cmpOp
	value    any
	re       *regexp.Regexp // compiled -match / -notmatch pattern
}

// ParseFilter parses a filter such as
//
//	Department -eq 'Sales' -and (Enabled -eq $true -or City -like "Par*")
//
// Errors are *psgate.Error with CodeInvalidFilter (or CodeLanguageNotAllowed
// when the filter uses variables or script syntax).
func ParseFilter(filter string) (*Filter, error) {
	p := &filterParser{src: filter}
	if i := strings.IndexByte(filter, 0); i >= 0 {
		return nil, p.fail(ftoken{col: p.column(i)}, "the filter contains a NUL character")
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
	return &Filter{text: filter, root: root}, nil
}

// Match reports whether obj satisfies the filter. A property the object
// does not have is $null. Errors come from comparisons that cannot be made
// (for example Age -gt 'abc' on a number).
func (f *Filter) Match(obj *psobject.Object) (bool, error) {
	return f.root.match(obj)
}

// Properties lists the property names the filter refers to, in order of
// first use, so a cmdlet can reject names its objects do not have.
func (f *Filter) Properties() []string {
	var out []string
	seen := map[string]bool{}
	f.root.props(func(name string) {
		if k := strings.ToLower(name); !seen[k] {
			seen[k] = true
			out = append(out, name)
		}
	})
	return out
}

// String returns the filter in canonical form.
func (f *Filter) String() string { return f.root.String() }

func (n *filterAnd) match(obj *psobject.Object) (bool, error) {
	ok, err := n.left.match(obj)
	if err != nil || !ok {
		return false, err
	}
	return n.right.match(obj)
}

func (n *filterOr) match(obj *psobject.Object) (bool, error) {
	ok, err := n.left.match(obj)
	if err != nil || ok {
		return ok, err
	}
	return n.right.match(obj)
}

func (n *filterCmp) match(obj *psobject.Object) (bool, error) {
	var v any
	if obj != nil {
		v, _ = obj.Get(n.property)
	}
	return n.op.eval(v, n.value, n.re)
}

func (n *filterAnd) props(add func(string)) { n.left.props(add); n.right.props(add) }
func (n *filterOr) props(add func(string))  { n.left.props(add); n.right.props(add) }
func (n *filterCmp) props(add func(string)) { add(n.property) }

func (n *filterAnd) String() string {
	return groupOr(n.left) + " -and " + groupOr(n.right)
}

func (n *filterOr) String() string { return n.left.String() + " -or " + n.right.String() }

func groupOr(n filterNode) string {
	if _, ok := n.(*filterOr); ok {
		return "(" + n.String() + ")"
	}
	return n.String()
}

func (n *filterCmp) String() string {
	return n.property + " -" + n.op.name + " " + literalText(n.value)
}

// literalText writes a value back as a filter literal.
func literalText(v any) string {
	switch x := v.(type) {
	case nil:
		return "$null"
	case bool:
		if x {
			return "$true"
		}
		return "$false"
	case string:
		return quoteSingle(x)
	case float64:
		switch {
		case math.IsInf(x, 1):
			return "1e999"
		case math.IsInf(x, -1):
			return "-1e999"
		}
		s := formatDouble(x)
		if !strings.ContainsAny(s, ".EN") {
			s += ".0"
		}
		return s
	case psobject.Decimal:
		return string(x) + "d"
	case int64:
		return strconv.FormatInt(x, 10) + "l"
	}
	return toText(v)
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
		return "value " + literalText(t.value)
	default:
		return "'" + t.text + "'"
	}
}

type filterParser struct {
	src string
	pos int
	tok ftoken
	err error
}

func (p *filterParser) fail(t ftoken, detail string) error {
	if p.err != nil {
		return p.err
	}
	return psgate.E(psgate.CodeInvalidFilter, psgate.Args{
		"filter": p.src,
		"detail": detail,
		"column": strconv.Itoa(t.col),
	})
}

func (p *filterParser) column(byteOff int) int {
	return utf8.RuneCountInString(p.src[:byteOff]) + 1
}

// next scans the next token into p.tok; a scanning error is kept in p.err
// and reported as an EOF token.
func (p *filterParser) next() {
	if p.err != nil {
		p.tok = ftoken{kind: ftEOF, col: p.column(len(p.src))}
		return
	}
	for p.pos < len(p.src) {
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		if !unicode.IsSpace(r) {
			break
		}
		p.pos += size
	}
	start := p.pos
	col := p.column(start)
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
				p.err = psgate.E(psgate.CodeLanguageNotAllowed, psgate.Args{"construct": serr.construct})
				p.tok = ftoken{kind: ftEOF, col: col}
				return
			}
			p.setErr(p.column(serr.off), strings.TrimSuffix(serr.detail, "."))
			return
		}
		p.pos = end
		p.tok = ftoken{kind: ftValue, value: s, col: col}
	case c == '$':
		word := p.scanWord(p.pos + 1)
		switch strings.ToLower(word) {
		case "true":
			p.tok = ftoken{kind: ftValue, value: true, col: col}
		case "false":
			p.tok = ftoken{kind: ftValue, value: false, col: col}
		case "null":
			p.tok = ftoken{kind: ftValue, value: nil, col: col}
		default:
			p.err = psgate.E(psgate.CodeLanguageNotAllowed, psgate.Args{"construct": "the variable $" + word + " in a filter"})
			p.tok = ftoken{kind: ftEOF, col: col}
			return
		}
		p.pos += 1 + len(word)
	case p.isOperatorAt(p.pos):
		n := dashLen(p.src[p.pos:])
		word := p.scanWord(p.pos + n)
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

// isOperatorAt reports a -name token (any dash PowerShell accepts).
func (p *filterParser) isOperatorAt(i int) bool {
	n := dashLen(p.src[i:])
	return n > 0 && i+n < len(p.src) && isNameStart(p.src[i+n])
}

func (p *filterParser) setErr(col int, msg string) {
	p.err = psgate.E(psgate.CodeInvalidFilter, psgate.Args{
		"filter": p.src, "detail": msg, "column": strconv.Itoa(col),
	})
	p.tok = ftoken{kind: ftEOF, col: col}
}

func (p *filterParser) scanWord(i int) string {
	end := i
	for end < len(p.src) && (isNameStart(p.src[end]) || p.src[end] >= '0' && p.src[end] <= '9') {
		end++
	}
	return p.src[i:end]
}

func isNameStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
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

func (p *filterParser) parseOr() (filterNode, error) {
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
		left = &filterOr{left, right}
	}
	return left, nil
}

func (p *filterParser) parseAnd() (filterNode, error) {
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
		left = &filterAnd{left, right}
	}
	return left, nil
}

func (p *filterParser) parsePrimary() (filterNode, error) {
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

func (p *filterParser) parseComparison() (filterNode, error) {
	name := p.tok
	if !isPropertyName(name.text) {
		return nil, p.fail(name, fmt.Sprintf("'%s' is not a property name", name.text))
	}
	p.next()
	if p.tok.kind != ftOperator {
		return nil, p.fail(p.tok, fmt.Sprintf("expected a comparison operator such as -eq after '%s' but found %s", name.text, p.tok.describe()))
	}
	op, ok := parseOp(p.tok.text)
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
		return nil, p.fail(val, fmt.Sprintf("expected a value after '-%s' but found %s", op.name, val.describe()))
	}
	n := &filterCmp{property: name.text, op: op, value: val.value}
	if op.kind == opMatch || op.kind == opNotMatch {
		re, err := compileMatch(toText(val.value), op.caseSensitive)
		if err != nil {
			return nil, p.fail(val, "the regular expression "+literalText(val.value)+" is not valid")
		}
		n.re = re
	}
	p.next()
	return n, nil
}

// quoteSingle writes s as a single-quoted literal, doubling every quote
// character (typographic ones included). A string holding a NUL, which
// command lines cannot contain, is written double-quoted with escapes.
func quoteSingle(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return quoteDouble(s)
	}
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		if isSingleQuote(r) {
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

// quoteDouble writes s as a double-quoted literal with backtick escapes.
func quoteDouble(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == 0:
			b.WriteString("`0")
		case r == '`' || r == '$' || isDoubleQuoteRune(r):
			b.WriteByte('`')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

package syntax

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// maxNesting bounds nested (...) and @(...) so hostile input cannot
// exhaust the stack.
const maxNesting = 32

// keywords are PowerShell's statement keywords; at the start of a
// command they are language, not command names.
var keywords = map[string]bool{
	"begin": true, "break": true, "catch": true, "class": true, "configuration": true,
	"continue": true, "data": true, "define": true, "do": true, "dynamicparam": true,
	"else": true, "elseif": true, "end": true, "enum": true, "exit": true, "filter": true,
	"finally": true, "for": true, "foreach": true, "from": true, "function": true,
	"hidden": true, "if": true, "in": true, "inlinescript": true, "parallel": true,
	"param": true, "process": true, "return": true, "sequence": true, "static": true,
	"switch": true, "throw": true, "trap": true, "try": true, "until": true, "using": true,
	"var": true, "while": true, "workflow": true,
}

// Parse parses a command line in psgate's command-only syntax: commands
// with named parameters (-Name value, -Name:value, -Switch), positional
// arguments and pipelines; literal values (quoted strings, bare words,
// numbers, $true, $false, $null, comma lists, @(...) of literals);
// statements separated by ; or newlines; comments and backtick line
// continuation. Everything else a PowerShell script can contain is refused.
//
// The error is an *Error: KindSyntax, KindNotAllowed (a construct outside
// the language), or KindProgram for `& program`.
func Parse(text string) (*Script, error) {
	p := &parser{scanner: scanner{src: text}}
	if i := strings.IndexByte(text, 0); i >= 0 {
		return nil, p.syntaxError(i, "The command line contains a NUL character.")
	}
	s, err := p.parseScript()
	if err != nil {
		return nil, err
	}
	return s, nil
}

// parser parses the command language. Its scanner is shared with the
// filter language's lexer (filter.go): both read the same source cursor
// with the same string, number, dash and name scanners.
type parser struct {
	scanner
	lines []int // byte offsets of line starts, built on first use
	depth int
	// cmdName and lastParam describe the command being parsed, for
	// hints in error messages.
	cmdName   string
	lastParam string
}

// position converts a byte offset to a line and column.
func (p *parser) position(off int) Pos {
	if p.lines == nil {
		p.lines = append(p.lines, 0)
		for i := 0; i < len(p.src); i++ {
			switch p.src[i] {
			case '\n':
				p.lines = append(p.lines, i+1)
			case '\r':
				if i+1 < len(p.src) && p.src[i+1] == '\n' {
					i++
				}
				p.lines = append(p.lines, i+1)
			}
		}
	}
	line := sort.Search(len(p.lines), func(i int) bool { return p.lines[i] > off }) - 1
	if off > len(p.src) {
		off = len(p.src)
	}
	col := utf8.RuneCountInString(p.src[p.lines[line]:off]) + 1
	return Pos{Line: line + 1, Column: col}
}

// syntaxError is a KindSyntax error at off.
func (p *parser) syntaxError(off int, detail string) error {
	return &Error{Kind: KindSyntax, Pos: p.position(off), Detail: detail}
}

// refuse is a KindNotAllowed error naming construct.
func (p *parser) refuse(off int, construct string) error {
	return &Error{Kind: KindNotAllowed, Pos: p.position(off), Construct: construct}
}

func (p *parser) parseScript() (*Script, error) {
	s := &Script{}
	for {
		if err := p.skipSpace(true); err != nil {
			return nil, err
		}
		if p.eof() {
			return s, nil
		}
		if p.peek() == ';' {
			p.pos++
			continue
		}
		if skipped, err := p.skipProgressPreference(); err != nil {
			return nil, err
		} else if skipped {
			continue
		}
		pl, err := p.parsePipeline()
		if err != nil {
			return nil, err
		}
		s.Statements = append(s.Statements, pl)
		if err := p.skipSpace(false); err != nil {
			return nil, err
		}
		switch p.peek() {
		case 0, ';', '\n', '\r':
			continue
		}
		return nil, p.unexpected()
	}
}

// skipProgressPreference consumes a statement `$ProgressPreference =
// <literal>`: masterzen/winrm prefixes every PowerShell script with
// `$ProgressPreference = 'SilentlyContinue';`. It is the one assignment the
// runspace accepts, and it changes nothing: progress records never reach a
// WinRS client's console. Any other assignment stays refused.
func (p *parser) skipProgressPreference() (bool, error) {
	if p.peek() != '$' {
		return false, nil
	}
	name := scanName(p.src, p.pos+1)
	end := p.pos + 1 + len(name)
	if !strings.EqualFold(name, "ProgressPreference") || !p.isAssignmentAfter(end) {
		return false, nil
	}
	off := end
	for off < len(p.src) && (p.src[off] == ' ' || p.src[off] == '\t') {
		off++
	}
	if !strings.HasPrefix(p.src[off:], "=") || strings.HasPrefix(p.src[off:], "==") {
		return false, nil
	}
	p.pos = off + 1
	if err := p.skipSpace(false); err != nil {
		return false, err
	}
	v, err := p.parseArgValue()
	if err != nil {
		return false, err
	}
	if _, ok := v.(string); !ok {
		return false, p.syntaxError(p.pos, "$ProgressPreference takes a string such as 'SilentlyContinue'.")
	}
	if err := p.skipSpace(false); err != nil {
		return false, err
	}
	switch p.peek() {
	case 0, ';', '\n', '\r':
		return true, nil
	}
	return false, p.unexpected()
}

// unexpected reports the token at p.pos as out of place.
func (p *parser) unexpected() error {
	r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
	return p.syntaxError(p.pos, fmt.Sprintf("Unexpected token '%c' in expression or statement.", r))
}

func (p *parser) parsePipeline() (Pipeline, error) {
	var pl Pipeline
	for {
		cmd, err := p.parseCommand()
		if err != nil {
			return pl, err
		}
		pl.Commands = append(pl.Commands, cmd)
		if err := p.skipSpace(false); err != nil {
			return pl, err
		}
		if p.peek() != '|' {
			return pl, nil
		}
		if p.peekAt(1) == '|' {
			return pl, p.refuse(p.pos, "the pipeline chain operator (||)")
		}
		p.pos++
		if err := p.skipSpace(true); err != nil {
			return pl, err
		}
		switch p.peek() {
		case 0, ';', '|', ')', '}':
			return pl, p.syntaxError(p.pos, "An empty pipe element is not allowed.")
		}
	}
}

// parseCommand parses a command name and its arguments.
func (p *parser) parseCommand() (Command, error) {
	start := p.pos
	if err := p.checkCommandStart(); err != nil {
		return Command{}, err
	}
	name, plain, err := p.scanBareWord()
	if err != nil {
		return Command{}, err
	}
	if plain {
		if _, isNum := parseNumberLiteral(name); isNum {
			return Command{}, p.refuse(start, "an expression at the start of a statement ("+name+")")
		}
		if keywords[strings.ToLower(name)] {
			return Command{}, p.refuse(start, "the '"+strings.ToLower(name)+"' keyword")
		}
	}
	cmd := Command{Name: name, Pos: p.position(start)}
	p.cmdName, p.lastParam = name, ""
	endOfParams := false
	for {
		if err := p.skipSpace(false); err != nil {
			return cmd, err
		}
		switch p.peek() {
		case 0, ';', '|', '\n', '\r':
			return cmd, nil
		case ')', '}':
			return cmd, p.unexpected()
		}
		argStart := p.pos
		if !endOfParams && p.peek() == '-' {
			if p.peekAt(1) == '-' && p.isTerminatorAt(p.pos+2) {
				p.pos += 2
				endOfParams = true
				continue
			}
			if strings.HasPrefix(p.src[p.pos:], "--%") {
				return cmd, p.refuse(p.pos, "the stop-parsing symbol (--%)")
			}
		}
		if n := p.dashNameAt(p.pos, true); !endOfParams && n > 0 {
			arg, err := p.parseParameter(n)
			if err != nil {
				return cmd, err
			}
			cmd.Args = append(cmd.Args, arg)
			continue
		}
		v, err := p.parseArgValue()
		if err != nil {
			return cmd, err
		}
		cmd.Args = append(cmd.Args, Argument{Value: v, HasValue: true, Pos: p.position(argStart)})
		p.lastParam = ""
	}
}

func isParamStart(c byte) bool { return isNameStart(c) || c == '?' }

// checkCommandStart refuses what cannot begin a command.
func (p *parser) checkCommandStart() error {
	c := p.peek()
	switch c {
	case '|':
		return p.syntaxError(p.pos, "An empty pipe element is not allowed.")
	case '&':
		if p.peekAt(1) == '&' {
			return p.refuse(p.pos, "the pipeline chain operator (&&)")
		}
		return p.refuseCall()
	case '.':
		next := p.peekAt(1)
		if next >= '0' && next <= '9' {
			return p.refuse(p.pos, "an expression at the start of a statement")
		}
		if !isNameStart(next) && next != '\\' && next != '/' && next != '.' {
			return p.refuse(p.pos, "dot-sourcing (. script)")
		}
	case '$':
		return p.refuseDollar(p.pos, true)
	case '{':
		return p.refuse(p.pos, "a script block ({ ... })")
	case '(':
		return p.refuse(p.pos, "a parenthesised expression at the start of a statement")
	case '@':
		switch p.peekAt(1) {
		case '{':
			return p.refuse(p.pos, "a hashtable (@{ ... })")
		case '(':
			return p.refuse(p.pos, "an array expression at the start of a statement")
		}
		if isNameStart(p.peekAt(1)) {
			return p.refuse(p.pos, "splatting (@name)")
		}
		return p.refuse(p.pos, "an expression at the start of a statement")
	case '[':
		return p.refuse(p.pos, "a type literal ([type])")
	case '\'', '"':
		return p.refuse(p.pos, "an expression at the start of a statement (a quoted string); commands are run by name")
	case '>', '<':
		return p.refuseRedirection()
	case ',':
		return p.syntaxError(p.pos, "Missing expression before ','.")
	case ')', '}':
		return p.unexpected()
	case '!', '+':
		return p.refuse(p.pos, "an expression at the start of a statement")
	case '-':
		next := p.peekAt(1)
		if next >= '0' && next <= '9' || next == '.' {
			return p.refuse(p.pos, "an expression at the start of a statement")
		}
		if isParamStart(next) {
			word := scanName(p.src, p.pos+1)
			return p.refuse(p.pos, "the operator '-"+word+"' outside command arguments")
		}
	}
	if isQuoteRune(p.src[p.pos:]) {
		return p.refuse(p.pos, "an expression at the start of a statement (a quoted string); commands are run by name")
	}
	if p.isRedirectionAt(p.pos) {
		return p.refuseRedirection()
	}
	return nil
}

// refuseCall refuses the call operator; `& program` is an operating-system
// program and refused as such.
func (p *parser) refuseCall() error {
	at := p.pos
	p.pos++
	if err := p.skipSpace(false); err == nil && !p.eof() {
		c := p.peek()
		var name string
		switch {
		case c == '\'' || c == '"':
			if s, end, serr := scanQuoted(p.src, p.pos); serr == nil {
				name, p.pos = s, end
			}
		case !strings.ContainsRune("$({@", rune(c)):
			if w, _, err := p.scanBareWord(); err == nil {
				name = w
			}
		}
		if name != "" && IsProgram(name) {
			return &Error{Kind: KindProgram, Pos: p.position(at), Name: name}
		}
	}
	return p.refuse(at, "the call operator (&)")
}

// refuseDollar explains why a $ construct is refused: $(...), variables,
// or (at the start of a statement) even $true.
func (p *parser) refuseDollar(at int, statementStart bool) error {
	next := byte(0)
	if at+1 < len(p.src) {
		next = p.src[at+1]
	}
	switch next {
	case '(':
		return p.refuse(at, "a sub-expression ($(...))")
	case '{':
		return p.refuse(at, "a variable (${...})")
	}
	name := scanName(p.src, at+1)
	if statementStart {
		lower := strings.ToLower(name)
		if (lower == "true" || lower == "false" || lower == "null") && p.isTerminatorAt(at+1+len(name)) {
			return p.refuse(at, "an expression at the start of a statement ($"+lower+")")
		}
		if p.isAssignmentAfter(at + 1 + len(name)) {
			return p.refuse(at, "an assignment ($"+name+" = ...)")
		}
	}
	if name == "" {
		if next != 0 {
			r, _ := utf8.DecodeRuneInString(p.src[at+1:])
			name = string(r)
		}
	}
	return p.refuse(at, "the variable $"+name)
}

// isAssignmentAfter reports whether an assignment operator follows off.
func (p *parser) isAssignmentAfter(off int) bool {
	for off < len(p.src) && (p.src[off] == ' ' || p.src[off] == '\t') {
		off++
	}
	rest := p.src[off:]
	for _, op := range []string{"=", "+=", "-=", "*=", "/=", "%=", "++", "--"} {
		if strings.HasPrefix(rest, op) && !strings.HasPrefix(rest, "==") {
			return true
		}
	}
	return false
}

func (p *parser) refuseRedirection() error {
	end := p.pos
	for end < len(p.src) && strings.IndexByte("0123456789*>&<", p.src[end]) >= 0 {
		end++
	}
	return p.refuse(p.pos, "redirection ("+p.src[p.pos:end]+")")
}

// isRedirectionAt reports a redirection operator at off: >, >>, 2>, *>,
// 2>&1, <.
func (p *parser) isRedirectionAt(off int) bool {
	if off >= len(p.src) {
		return false
	}
	c := p.src[off]
	if c == '>' || c == '<' {
		return true
	}
	return (c == '*' || c >= '1' && c <= '6') && off+1 < len(p.src) && p.src[off+1] == '>'
}

// parseParameter parses -Name, -Name:value; dash is the dash's length.
func (p *parser) parseParameter(dash int) (Argument, error) {
	start := p.pos
	p.pos += dash
	nameStart := p.pos
	for !p.eof() && p.peek() != ':' && !p.isTerminatorAt(p.pos) {
		_, size := utf8.DecodeRuneInString(p.src[p.pos:])
		p.pos += size
	}
	name := p.src[nameStart:p.pos]
	arg := Argument{Name: name, Pos: p.position(start)}
	p.lastParam = name
	if p.peek() != ':' {
		return arg, nil
	}
	p.pos++
	if err := p.skipSpace(false); err != nil {
		return arg, err
	}
	switch p.peek() {
	case 0, ';', '|', '\n', '\r', ')', '}':
		return arg, p.syntaxError(p.pos, fmt.Sprintf("Missing an argument for parameter '%s'.", name))
	}
	v, err := p.parseArgValue()
	if err != nil {
		return arg, err
	}
	arg.Value, arg.HasValue = v, true
	return arg, nil
}

// isTerminatorAt reports whether src[off] ends a bare word.
func (p *parser) isTerminatorAt(off int) bool {
	if off >= len(p.src) {
		return true
	}
	switch p.src[off] {
	case ' ', '\t', '\f', '\v', '\n', '\r', ';', '|', '&', '(', ')', '{', '}', ',', '>', '<':
		return true
	case '`':
		// A line continuation ends the word.
		return off+1 < len(p.src) && (p.src[off+1] == '\n' || p.src[off+1] == '\r')
	}
	r, _ := utf8.DecodeRuneInString(p.src[off:])
	return isUnicodeSpace(r)
}

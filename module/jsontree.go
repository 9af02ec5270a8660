package module

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// The module file is read in two steps: parseTree turns the JSON text into
// a tree that remembers where each value starts, then the decoder in
// decode.go walks the tree and reports problems by file, line and field.
// encoding/json's Unmarshal alone would lose the positions, accept
// duplicate keys and report unknown fields without saying where.

// kind is a JSON value's kind.
type kind int

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k kind) String() string {
	return [...]string{"null", "a boolean", "a number", "a string", "an array", "an object"}[k]
}

// node is one JSON value and where it starts in the file.
type node struct {
	kind kind
	off  int    // byte offset of the value's first byte
	text string // a string's value or a number's literal
	b    bool
	// keys and vals hold an object's members in file order; keyOff the
	// offsets of the keys.
	keys   []string
	keyOff []int
	vals   []*node
	elems  []*node // an array's elements
}

// member returns an object's member by key.
func (n *node) member(key string) (*node, bool) {
	for i, k := range n.keys {
		if k == key {
			return n.vals[i], true
		}
	}
	return nil, false
}

// maxDepth bounds nesting, so that a hostile file cannot exhaust the stack.
const maxDepth = 64

// syntaxError is a JSON text that does not parse, at a byte offset.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

// parseTree parses one JSON value, which must be the whole of data.
func parseTree(data []byte) (*node, error) {
	p := &treeParser{src: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber()
	n, err := p.value(0)
	if err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, &syntaxError{off: p.next(), msg: "unexpected text after the end of the top-level object"}
	}
	return n, nil
}

type treeParser struct {
	src []byte
	dec *json.Decoder
}

// next returns the offset where the next token starts.
func (p *treeParser) next() int {
	off := int(p.dec.InputOffset())
	for off < len(p.src) {
		switch p.src[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	return off
}

func (p *treeParser) token() (json.Token, int, error) {
	off := p.next()
	tok, err := p.dec.Token()
	if err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return nil, int(se.Offset), &syntaxError{off: int(se.Offset), msg: "invalid JSON: " + se.Error()}
		case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
			return nil, len(p.src), &syntaxError{off: len(p.src), msg: "invalid JSON: the file ends in the middle of a value"}
		}
		return nil, off, &syntaxError{off: off, msg: "invalid JSON: " + err.Error()}
	}
	return tok, off, nil
}

func (p *treeParser) value(depth int) (*node, error) {
	tok, off, err := p.token()
	if err != nil {
		return nil, err
	}
	return p.fromToken(tok, off, depth)
}

func (p *treeParser) fromToken(tok json.Token, off, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, &syntaxError{off: off, msg: fmt.Sprintf("values are nested more than %d deep", maxDepth)}
	}
	switch t := tok.(type) {
	case nil:
		return &node{kind: kindNull, off: off}, nil
	case bool:
		return &node{kind: kindBool, off: off, b: t}, nil
	case json.Number:
		return &node{kind: kindNumber, off: off, text: t.String()}, nil
	case string:
		return &node{kind: kindString, off: off, text: t}, nil
	case json.Delim:
		switch t {
		case '[':
			n := &node{kind: kindArray, off: off}
			for {
				tok, eoff, err := p.token()
				if err != nil {
					return nil, err
				}
				if d, ok := tok.(json.Delim); ok && d == ']' {
					return n, nil
				}
				e, err := p.fromToken(tok, eoff, depth+1)
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, e)
			}
		case '{':
			n := &node{kind: kindObject, off: off}
			for {
				tok, koff, err := p.token()
				if err != nil {
					return nil, err
				}
				if d, ok := tok.(json.Delim); ok && d == '}' {
					return n, nil
				}
				key, _ := tok.(string) // the decoder only returns string keys
				if _, dup := n.member(key); dup {
					return nil, &syntaxError{off: koff, msg: fmt.Sprintf("the key %q appears twice in one object", key)}
				}
				v, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, key)
				n.keyOff = append(n.keyOff, koff)
				n.vals = append(n.vals, v)
			}
		}
	}
	return nil, &syntaxError{off: off, msg: fmt.Sprintf("invalid JSON: unexpected %v", tok)}
}

// position turns a byte offset into a 1-based line and column (in
// characters).
func position(src []byte, off int) (line, col int) {
	if off > len(src) {
		off = len(src)
	}
	line = 1 + bytes.Count(src[:off], []byte{'\n'})
	start := bytes.LastIndexByte(src[:off], '\n') + 1
	col = 1 + len([]rune(string(src[start:off])))
	return line, col
}

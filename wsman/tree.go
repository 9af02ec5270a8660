package wsman

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// node is one element of the parsed document. The tree is small (a request
// is a few dozen elements), so a plain pointer tree keeps the walking code
// readable.
type node struct {
	name  xml.Name
	attrs []xml.Attr
	text  []byte // character data directly inside the element, CDATA included
	kids  []*node
}

// child returns the first child element with the given namespace and local
// name, or nil. It is nil-safe so lookups chain.
func (n *node) child(space, local string) *node {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.name.Local == local && k.name.Space == space {
			return k
		}
	}
	return nil
}

// childFold is child with a case-insensitive local name, for elements whose
// spelling differs between clients (IdleTimeOut / IdleTimeout).
func (n *node) childFold(space, local string) *node {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.name.Space == space && strings.EqualFold(k.name.Local, local) {
			return k
		}
	}
	return nil
}

// children returns all child elements with the given name.
func (n *node) children(space, local string) []*node {
	if n == nil {
		return nil
	}
	var out []*node
	for _, k := range n.kids {
		if k.name.Local == local && k.name.Space == space {
			out = append(out, k)
		}
	}
	return out
}

// attr returns an attribute by local name, preferring an unqualified one;
// the name compares case-insensitively (ShellId / ShellID).
func (n *node) attr(local string) (string, bool) {
	if n == nil {
		return "", false
	}
	found, ok := "", false
	for _, a := range n.attrs {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue
		}
		if strings.EqualFold(a.Name.Local, local) {
			if a.Name.Space == "" {
				return a.Value, true
			}
			if !ok {
				found, ok = a.Value, true
			}
		}
	}
	return found, ok
}

// xmlLang returns the xml:lang attribute.
func (n *node) xmlLang() string {
	if n == nil {
		return ""
	}
	for _, a := range n.attrs {
		if a.Name.Local == "lang" && (a.Name.Space == NsXML || a.Name.Space == "xml") {
			return a.Value
		}
	}
	return ""
}

// str returns the element's text verbatim.
func (n *node) str() string {
	if n == nil {
		return ""
	}
	return string(n.text)
}

// trimmed returns the element's text without surrounding white space.
func (n *node) trimmed() string {
	if n == nil {
		return ""
	}
	return string(bytes.TrimSpace(n.text))
}

// deepText concatenates all character data under n, for fault messages that
// nest provider faults.
func (n *node) deepText(b []byte) []byte {
	if n == nil {
		return b
	}
	b = append(b, n.text...)
	for _, k := range n.kids {
		b = k.deepText(b)
	}
	return b
}

// parseTree parses body into an element tree, enforcing the depth and
// element limits, refusing DTDs and anything outside the single root.
func parseTree(body []byte, lim Limits) (*node, error) {
	src, wasUTF16, err := toUTF8(body)
	if err != nil {
		return nil, err
	}
	d := xml.NewDecoder(bytes.NewReader(src))
	d.Strict = true
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		l := strings.ToLower(label)
		switch {
		case wasUTF16 && strings.HasPrefix(l, "utf-16"), wasUTF16 && l == "unicode":
			return in, nil // already converted by toUTF8
		case l == "utf8", l == "us-ascii", l == "ascii":
			return in, nil // UTF-8 under another label, or a subset of it
		}
		return nil, fmt.Errorf("unsupported encoding %q", label)
	}

	var (
		root     *node
		stack    []*node
		elements int
	)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, malformed("not well-formed XML", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			elements++
			if elements > lim.MaxElements {
				return nil, malformed(fmt.Sprintf("more than %d elements", lim.MaxElements), nil)
			}
			if len(stack) >= lim.MaxDepth {
				return nil, malformed(fmt.Sprintf("elements nested deeper than %d", lim.MaxDepth), nil)
			}
			n := &node{name: t.Name, attrs: t.Attr}
			switch {
			case len(stack) > 0:
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			case root == nil:
				root = n
			default:
				return nil, malformed("content after the root element", nil)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1] // Strict mode guarantees a matching start
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) != 0 {
					return nil, malformed("text outside the root element", nil)
				}
				continue
			}
			top := stack[len(stack)-1]
			top.text = append(top.text, t...)
		case xml.Directive:
			return nil, malformed("DOCTYPE and other declarations are not allowed", nil)
		case xml.Comment, xml.ProcInst:
			// The XML declaration and comments carry nothing for us.
		}
	}
	if root == nil {
		return nil, malformed("no root element", nil)
	}
	if len(stack) != 0 {
		return nil, malformed("truncated document", nil)
	}
	return root, nil
}

// toUTF8 returns body as UTF-8: a UTF-8 byte order mark is dropped, and a
// UTF-16 body (PowerShell with -UseUTF16; detected by its BOM or by a NUL
// next to the first '<') is converted. Unpaired surrogates become U+FFFD.
func toUTF8(body []byte) (out []byte, wasUTF16 bool, err error) {
	if bytes.HasPrefix(body, []byte{0xEF, 0xBB, 0xBF}) {
		return body[3:], false, nil
	}
	var bigEndian bool
	switch {
	case bytes.HasPrefix(body, []byte{0xFF, 0xFE}):
		body = body[2:]
	case bytes.HasPrefix(body, []byte{0xFE, 0xFF}):
		body, bigEndian = body[2:], true
	case len(body) >= 2 && body[0] == '<' && body[1] == 0:
	case len(body) >= 2 && body[0] == 0 && body[1] == '<':
		bigEndian = true
	default:
		return body, false, nil
	}
	if len(body)%2 != 0 {
		return nil, true, malformed("UTF-16 body with an odd number of bytes", nil)
	}
	out = make([]byte, 0, len(body)/2+len(body)/4)
	for i := 0; i < len(body); i += 2 {
		r := rune(u16(body[i:], bigEndian))
		if utf16.IsSurrogate(r) {
			r2 := utf8.RuneError
			if i+3 < len(body) {
				r2 = rune(u16(body[i+2:], bigEndian))
			}
			if dr := utf16.DecodeRune(r, r2); dr != utf8.RuneError {
				r = dr
				i += 2
			} else {
				r = utf8.RuneError
			}
		}
		out = utf8.AppendRune(out, r)
	}
	return out, true, nil
}

func u16(b []byte, bigEndian bool) uint16 {
	if bigEndian {
		return uint16(b[0])<<8 | uint16(b[1])
	}
	return uint16(b[1])<<8 | uint16(b[0])
}

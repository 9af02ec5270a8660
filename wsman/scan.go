package wsman

import (
	"bytes"
	"encoding/xml"

	"github.com/psgate/psgate/internal/xmlscan"
)

// This file is Decode's fast path. Real clients send plain UTF-8 XML: a few
// namespace declarations, no DTD, ASCII names, rarely an entity. For that
// subset xmlscan reads the tokens encoding/xml would, without its
// per-token allocations, and scanTree builds from them the same element
// tree as parseTree: one array of nodes, one of attributes, one of child
// pointers, and element text that points into the body. Anything outside
// the subset makes it decline, and Decode falls back to encoding/xml: what
// xmlscan declines (UTF-16 and other encodings, a DOCTYPE, processing
// instructions, entities other than the five predefined ones and character
// references, non-ASCII names, markup errors), and here undeclared or
// reserved prefixes, text other than white space outside the root, a
// second root and limits exceeded. Each rule below cites the encoding/xml
// behaviour it reproduces; FuzzFastDecode checks the two trees and
// envelopes agree.

// decodeFast decodes body through scanTree. ok is false when the scanner
// declines or the envelope would not decode: errors always come from
// decodeGeneral.
func decodeFast(body []byte, lim Limits) (env *Envelope, ok bool) {
	return new(scanner).decode(body, lim)
}

// A Decoder is Decode with memory kept from one envelope to the next: the
// fast path's arrays of nodes, attributes and child pointers are reused,
// so a server decoding thousands of requests a second allocates only what
// the envelopes it returns hold. An envelope shares nothing with the
// Decoder: it stays valid after the next Decode. A Decoder is not safe for
// concurrent use; a server keeps a sync.Pool of them. The zero value is
// ready to use.
type Decoder struct {
	s scanner
}

// Decode decodes body as the function Decode does (that function is this
// method on a new Decoder), on d's memory.
func (d *Decoder) Decode(body []byte, lim Limits) (*Envelope, error) {
	if env, ok := d.s.decode(body, lim); ok {
		return env, nil
	}
	return decodeGeneral(body, lim)
}

// decode is decodeFast on s's arrays, which it leaves cleared for the
// next call.
func (s *scanner) decode(body []byte, lim Limits) (env *Envelope, ok bool) {
	lim = lim.withDefaults()
	if len(body) > lim.MaxEnvelopeSize {
		return nil, false
	}
	defer s.release()
	root, ok := s.tree(body, lim)
	if !ok {
		return nil, false
	}
	env, err := decodeTree(root)
	if err != nil {
		return nil, false
	}
	return env, true
}

// maxKeptNodes bounds the arrays a scanner keeps between envelopes: real
// requests have a few dozen elements, and one hostile envelope of many
// thousands must not pin its arrays in a pool.
const maxKeptNodes = 1024

// release readies s for its next envelope. push relies on the elements past
// len being zero, so the used ones are cleared, which also drops the
// slices of the body they hold.
func (s *scanner) release() {
	// kids is shorter than nodes, so bounding nodes bounds it too.
	if cap(s.nodes) > maxKeptNodes || cap(s.attrs) > maxKeptNodes {
		s.nodes, s.attrs, s.kids = nil, nil, nil
	} else {
		clear(s.nodes)
		clear(s.attrs)
		clear(s.kids)
		s.nodes, s.attrs, s.kids = s.nodes[:0], s.attrs[:0], s.kids[:0]
	}
	clear(s.ns[:cap(s.ns)])
	s.sc.Reset(nil)
}

// scanner is the state of one scanTree call.
type scanner struct {
	sc  xmlscan.Scanner
	lim Limits

	nodes    []scanNode
	attrs    []xml.Attr // every element's attributes, in document order
	kids     []*node    // every element's children, grouped by parent
	open     []int32    // the nodes of the elements not yet closed
	ns       []binding  // in-scope namespace declarations, innermost last
	elements int

	// Initial backing for the stacks: they live in the scanner's one
	// allocation rather than two of their own.
	openBuf [16]int32
	nsBuf   [16]binding
}

// scanNode is a node and what build needs to link it: its parent (-1 for
// the root), how many children it has and where its attributes are.
type scanNode struct {
	node
	parent, nkids, attrLo, attrHi int32
}

// binding is a namespace declaration (xmlns:prefix, or xmlns for an empty
// prefix) made on an element at depth.
type binding struct {
	prefix []byte
	uri    string
	depth  int
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// scanTree parses body into the tree parseTree would build, or reports
// ok=false for anything it is not certain parseTree accepts identically.
func scanTree(body []byte, lim Limits) (root *node, ok bool) {
	return new(scanner).tree(body, lim)
}

// tree is scanTree on s's arrays, which must be empty (new, or released).
func (s *scanner) tree(body []byte, lim Limits) (root *node, ok bool) {
	src := bytes.TrimPrefix(body, utf8BOM) // as toUTF8 does
	// Most elements cost two '<'. A hostile body of bare '<' must not buy
	// a large allocation before the scanner declines it; past the cap the
	// arrays grow as elements actually appear.
	est := min(bytes.Count(src, []byte{'<'})/2+1, lim.MaxElements, maxKeptNodes)
	s.lim, s.elements = lim, 0
	if cap(s.nodes) < est {
		s.nodes = make([]scanNode, 0, est)
	}
	if cap(s.attrs) < est {
		s.attrs = make([]xml.Attr, 0, est)
	}
	if s.open == nil {
		s.open, s.ns = s.openBuf[:0], s.nsBuf[:0]
	}
	s.open, s.ns = s.open[:0], s.ns[:0]
	s.sc.UTF8Label = utf8Label
	s.sc.Reset(src)
	if !s.document() {
		return nil, false
	}
	return s.build(), true
}

// document reads the whole input: exactly one root element, with white
// space and comments around it (xmlscan skips the comments and the XML
// declaration).
func (s *scanner) document() bool {
	rootSeen := false
	for {
		t, ok := s.sc.Next()
		if !ok {
			return false
		}
		switch t.Kind {
		case xmlscan.EOF: // outside every element
			return rootSeen
		case xmlscan.StartElement:
			if rootSeen && len(s.open) == 0 {
				return false // content after the root element
			}
			if !s.startElement(t) {
				return false
			}
			rootSeen = true
		case xmlscan.EndElement: // xmlscan matched it with its start
			s.open = s.open[:len(s.open)-1]
			s.popBindings(len(s.open) + 1)
		case xmlscan.CharData:
			if len(s.open) == 0 {
				// parseTree allows white space outside the root, even in
				// CDATA; anything else there is an error, or Unicode white
				// space (bytes.TrimSpace's), left to parseTree.
				if !allSpace(t.Data) {
					return false
				}
				continue
			}
			s.addText(t)
		}
	}
}

// utf8Label reports whether parseTree's CharsetReader passes a body
// declared with this encoding through as UTF-8 (xmlscan takes "utf-8" in
// any case itself).
func utf8Label(label []byte) bool {
	return bytes.EqualFold(label, []byte("utf8")) || bytes.EqualFold(label, []byte("us-ascii")) ||
		bytes.EqualFold(label, []byte("ascii"))
}

// startElement adds the element t starts to the tree, its name and
// attributes resolved as encoding/xml's translate does.
func (s *scanner) startElement(t *xmlscan.Token) bool {
	// The limits as parseTree applies them: it fails, so decline.
	s.elements++
	if s.elements > s.lim.MaxElements || len(s.open) >= s.lim.MaxDepth {
		return false
	}
	depth := len(s.open) + 1

	// encoding/xml applies an element's declarations to its own name and
	// attributes whatever their order, so bind them first.
	nsLo := len(s.ns)
	for i := range t.Attr {
		a := &t.Attr[i]
		switch {
		case !declares(a.Name):
		case len(a.Name.Prefix) == 0:
			s.ns = append(s.ns, binding{uri: intern(a.Value), depth: depth})
		case string(a.Name.Local) == "xml" || string(a.Name.Local) == "xmlns" || len(a.Value) == 0:
			// Rebinding the reserved prefixes, or undeclaring one, is
			// unusual enough to leave to encoding/xml.
			return false
		default:
			s.ns = append(s.ns, binding{prefix: a.Name.Local, uri: intern(a.Value), depth: depth})
		}
	}

	var space string
	ok := true
	switch prefix := t.Name.Prefix; {
	case len(prefix) == 0:
		if string(t.Name.Local) == "xmlns" {
			return false
		}
		space, _ = s.lookup(nil) // no default namespace: ""
	case string(prefix) == "xml" || string(prefix) == "xmlns":
		return false
	default:
		if space, ok = s.lookup(prefix); !ok {
			return false // encoding/xml would keep the bare prefix
		}
	}
	attrLo := len(s.attrs)
	decl := nsLo // this element's next declaration, whose value is interned
	for i := range t.Attr {
		a := &t.Attr[i]
		var as string
		switch prefix := a.Name.Prefix; {
		case len(prefix) == 0:
		case string(prefix) == "xmlns":
			as = "xmlns"
		case string(prefix) == "xml":
			as = NsXML
		default:
			if as, ok = s.lookup(prefix); !ok {
				return false
			}
		}
		var value string
		if declares(a.Name) {
			value, decl = s.ns[decl].uri, decl+1
		} else {
			value = intern(a.Value)
		}
		at := push(&s.attrs)
		at.Name.Space, at.Name.Local, at.Value = as, intern(a.Name.Local), value
	}

	idx := int32(len(s.nodes))
	parent := int32(-1)
	if len(s.open) > 0 {
		parent = s.open[len(s.open)-1]
		s.nodes[parent].nkids++
	}
	n := push(&s.nodes)
	n.name.Space, n.name.Local = space, intern(t.Name.Local)
	n.parent, n.attrLo, n.attrHi = parent, int32(attrLo), int32(len(s.attrs))
	s.open = append(s.open, idx)
	return true
}

// push appends a zero element to *s, which is never truncated, and returns
// it for the caller to fill in field by field: append(*s, T{...}) would
// move the whole element with a bulk write barrier, which costs far more
// while the garbage collector runs than a plain barrier per pointer field.
func push[T any](s *[]T) *T {
	if len(*s) < cap(*s) {
		*s = (*s)[:len(*s)+1] // past len, *s is still zero
	} else {
		var zero T
		*s = append(*s, zero)
	}
	return &(*s)[len(*s)-1]
}

// declares reports whether an attribute of this name declares a namespace:
// xmlns:prefix, or xmlns for the default one.
func declares(n xmlscan.Name) bool {
	return string(n.Prefix) == "xmlns" || len(n.Prefix) == 0 && string(n.Local) == "xmlns"
}

// popBindings drops the declarations made at depth or deeper.
func (s *scanner) popBindings(depth int) {
	for len(s.ns) > 0 && s.ns[len(s.ns)-1].depth >= depth {
		s.ns = s.ns[:len(s.ns)-1]
	}
}

// lookup returns the namespace bound to prefix (nil for the default one).
func (s *scanner) lookup(prefix []byte) (string, bool) {
	for i := len(s.ns) - 1; i >= 0; i-- {
		if bytes.Equal(s.ns[i].prefix, prefix) {
			return s.ns[i].uri, true
		}
	}
	return "", false
}

// addText appends the character data t to the text of the innermost open
// element, as parseTree concatenates the character data around child
// elements. Text xmlscan did not decode is a slice of the body with no
// spare capacity, kept as it is: a later append copies it rather than
// writing over the body. Decoded text is in xmlscan's buffer, so it is
// copied.
func (s *scanner) addText(t *xmlscan.Token) {
	if len(t.Data) == 0 {
		return
	}
	n := &s.nodes[s.open[len(s.open)-1]].node
	switch {
	case n.text != nil:
		n.text = append(n.text, t.Data...)
	case t.Decoded:
		n.text = bytes.Clone(t.Data)
	default:
		n.text = t.Data
	}
}

// allSpace reports whether b is only XML white space.
func allSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// build links the nodes into the tree parseTree returns: children in
// document order, sharing one backing array.
func (s *scanner) build() *node {
	var kids []*node
	if n := len(s.nodes) - 1; n > 0 {
		if cap(s.kids) < n {
			s.kids = make([]*node, n)
		}
		s.kids = s.kids[:n]
		kids = s.kids
	}
	off := 0
	for i := range s.nodes {
		n := &s.nodes[i]
		if k := int(n.nkids); k > 0 {
			n.kids = kids[off : off : off+k]
			off += k
		}
		n.attrs = s.attrs[n.attrLo:n.attrHi:n.attrHi]
	}
	for i := 1; i < len(s.nodes); i++ {
		p := &s.nodes[s.nodes[i].parent].node
		p.kids = append(p.kids, &s.nodes[i].node)
	}
	return &s.nodes[0].node
}

// intern returns b as a string, sharing one copy of the names and values
// every envelope repeats.
func intern(b []byte) string {
	slot := &internTable[internHash(b)]
	for _, s := range slot {
		if s == string(b) {
			return s
		}
	}
	return string(b)
}

// internTable holds internStrings, each in the bucket of its hash. A lookup
// is a hash of four bytes and at most two comparisons; TestInternTable
// checks every string found a place.
var internTable = func() (t [1 << internBits][2]string) {
	for _, s := range internStrings {
		slot := &t[internHash(s)]
		if slot[0] == "" {
			slot[0] = s
		} else if slot[1] == "" {
			slot[1] = s
		}
	}
	return t
}()

const internBits = 9

func internHash[T string | []byte](b T) uint32 {
	n := len(b)
	if n == 0 {
		return 0
	}
	h := uint32(n)*0x9E3779B1 ^ uint32(b[0])<<16 ^ uint32(b[n/2])<<8 ^ uint32(b[n-1])
	h *= 0x85EBCA6B
	return h >> (32 - internBits)
}

var internStrings = []string{
	// Namespaces.
	NsSOAP, NsAddressing, NsWSMan, NsWSManMS, NsShell, NsTransfer, NsEnumeration, NsEventing,
	NsConfig, NsIdentity, NsPowerShell, NsXML,
	"http://www.w3.org/2001/XMLSchema", "http://www.w3.org/2001/XMLSchema-instance",
	"http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd",
	// Element names.
	"Envelope", "Header", "Body", "Action", "To", "MessageID", "ReplyTo", "Address", "RelatesTo",
	"ResourceURI", "SelectorSet", "Selector", "OptionSet", "Option", "OperationTimeout",
	"MaxEnvelopeSize", "Locale", "DataLocale", "SessionId", "OperationID", "SequenceId",
	"CompressionType", "Shell", "InputStreams", "OutputStreams", "IdleTimeOut", "Lifetime",
	"WorkingDirectory", "Environment", "Variable", "creationXml", "connectXml", "CommandLine",
	"Command", "Arguments", "Send", "Stream", "Receive", "DesiredStream", "Signal", "Code",
	"Disconnect", "BufferMode", "Connect", "Enumerate", "OptimizeEnumeration", "MaxElements",
	"Filter", "Identify",
	// Attribute names and prefixes.
	"mustUnderstand", "Name", "CommandId", "End", "ShellId", "MustComply", "lang", "Dialect",
	"xmlns", "s", "a", "w", "p", "n", "x", "b", "rsp", "env", "wsa", "wsman", "wsmv", "xsd", "xsi", "cfg",
	// Values.
	"true", "false", "TRUE", "FALSE", "True", "False", "en-US", "stdin", "stdout", "stderr", "pr",
	"stdin pr", "stdout stderr", "protocolversion", "2.3", "WinRM1", "WinRM2", "Runspace1",
}

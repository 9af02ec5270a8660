package wsman

import (
	"bytes"
	"encoding/xml"
	"strings"
	"unicode/utf8"
)

// This file is Decode's fast path. Real clients send plain UTF-8 XML: a few
// namespace declarations, no DTD, ASCII names, rarely an entity. For that
// subset scanTree builds the same element tree as parseTree without
// encoding/xml's per-token allocations: one array of nodes, one of
// attributes, one of child pointers, and element text that points into the
// body. Anything outside the subset (UTF-16, a DOCTYPE, processing
// instructions other than a leading XML declaration, entities other than
// the five predefined ones and character references, non-ASCII names,
// undeclared or reserved prefixes, markup errors, limits exceeded) makes it
// decline, and Decode falls back to encoding/xml. Each rule below cites the
// encoding/xml behaviour it reproduces; FuzzFastDecode checks the two trees
// and envelopes agree.

// decodeFast decodes body through scanTree. ok is false when the scanner
// declines or the envelope would not decode: errors always come from
// decodeGeneral.
func decodeFast(body []byte, lim Limits) (env *Envelope, ok bool) {
	lim = lim.withDefaults()
	if len(body) > lim.MaxEnvelopeSize {
		return nil, false
	}
	root, ok := scanTree(body, lim)
	if !ok {
		return nil, false
	}
	env, err := decodeTree(root)
	if err != nil {
		return nil, false
	}
	return env, true
}

// scanner is the state of one scanTree call.
type scanner struct {
	src []byte
	pos int
	lim Limits

	nodes []scanNode
	attrs []xml.Attr // every element's attributes, in document order
	open  []openElem // the elements not yet closed
	ns    []binding  // in-scope namespace declarations, innermost last
	// pending holds the current start tag's attributes until its namespace
	// declarations are known.
	pending  []rawAttr
	elements int

	// Initial backing for the stacks: they live in the scanner's one
	// allocation rather than three of their own.
	openBuf    [16]openElem
	nsBuf      [16]binding
	pendingBuf [8]rawAttr
}

// scanNode is a node and what build needs to link it: its parent (-1 for
// the root), how many children it has and where its attributes are.
type scanNode struct {
	node
	parent, nkids, attrLo, attrHi int32
}

// openElem is an element whose end tag has not been read: its node and its
// qualified name as written, which the end tag must repeat.
type openElem struct {
	node             int32
	qnameLo, qnameHi int32
}

// binding is a namespace declaration (xmlns:prefix, or xmlns for an empty
// prefix) made on an element at depth.
type binding struct {
	prefix []byte
	uri    string
	depth  int
}

type rawAttr struct {
	prefix, local []byte
	value         string
}

var (
	utf8BOM  = []byte{0xEF, 0xBB, 0xBF}
	xmlDecl  = []byte("<?xml")
	cdataTag = []byte("<![CDATA[")
)

// scanTree parses body into the tree parseTree would build, or reports
// ok=false for anything it is not certain parseTree accepts identically.
func scanTree(body []byte, lim Limits) (root *node, ok bool) {
	src := bytes.TrimPrefix(body, utf8BOM) // as toUTF8 does
	// Most elements cost two '<'. A hostile body of bare '<' must not buy
	// a large allocation before the scanner declines it; past the cap the
	// arrays grow as elements actually appear.
	est := min(bytes.Count(src, []byte{'<'})/2+1, lim.MaxElements, 1024)
	s := &scanner{
		src:   src,
		lim:   lim,
		nodes: make([]scanNode, 0, est),
		attrs: make([]xml.Attr, 0, est),
	}
	s.open, s.ns, s.pending = s.openBuf[:0], s.nsBuf[:0], s.pendingBuf[:0]
	if !s.document() {
		return nil, false
	}
	return s.build(), true
}

// document scans the whole input: an optional XML declaration, then white
// space and comments around exactly one root element.
func (s *scanner) document() bool {
	if bytes.HasPrefix(s.src, xmlDecl) && !s.xmlDeclaration() {
		return false
	}
	rootSeen := false
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		if c != '<' {
			if len(s.open) == 0 {
				// parseTree allows white space outside the root; anything
				// else there is an error, or an entity we do not expand.
				if !isSpace(c) {
					return false
				}
				s.pos++
				continue
			}
			if !s.text() {
				return false
			}
			continue
		}
		if s.pos+1 >= len(s.src) {
			return false
		}
		switch s.src[s.pos+1] {
		case '/':
			if !s.endTag() {
				return false
			}
		case '!':
			rest := s.src[s.pos:]
			switch {
			case bytes.HasPrefix(rest, []byte("<!--")):
				if !s.comment() {
					return false
				}
			case len(s.open) > 0 && bytes.HasPrefix(rest, cdataTag):
				if !s.cdata() {
					return false
				}
			default:
				return false // DOCTYPE and other declarations
			}
		case '?':
			return false // processing instructions other than the declaration
		default:
			if rootSeen && len(s.open) == 0 {
				return false // content after the root element
			}
			if !s.startTag() {
				return false
			}
			rootSeen = true
		}
	}
	return rootSeen && len(s.open) == 0
}

// xmlDeclaration accepts `<?xml version="1.0"` with an optional encoding
// that encoding/xml reads as UTF-8 (utf-8 in any case, or a label
// parseTree's CharsetReader passes through) and an optional standalone.
// Other forms are left to encoding/xml.
func (s *scanner) xmlDeclaration() bool {
	rest := s.src[len(xmlDecl):]
	end := bytes.Index(rest, []byte("?>"))
	if end < 0 || end == 0 || !isSpace(rest[0]) {
		return false
	}
	c := rest[:end]
	s.pos = len(xmlDecl) + end + 2

	c = trimLeftSpace(c)
	v, c, ok := declPseudoAttr(c, "version")
	if !ok || string(v) != "1.0" {
		return false
	}
	if t := trimLeftSpace(c); len(t) < len(c) {
		if v, r, ok := declPseudoAttr(t, "encoding"); ok {
			if !utf8Label(string(v)) {
				return false
			}
			c = r
		}
	}
	if t := trimLeftSpace(c); len(t) < len(c) {
		if v, r, ok := declPseudoAttr(t, "standalone"); ok {
			if string(v) != "yes" && string(v) != "no" {
				return false
			}
			c = r
		}
	}
	return len(trimLeftSpace(c)) == 0
}

// declPseudoAttr reads `name="value"` or `name='value'` at the start of c.
func declPseudoAttr(c []byte, name string) (value, rest []byte, ok bool) {
	if len(c) < len(name)+3 || string(c[:len(name)]) != name || c[len(name)] != '=' {
		return nil, nil, false
	}
	q := c[len(name)+1]
	if q != '"' && q != '\'' {
		return nil, nil, false
	}
	c = c[len(name)+2:]
	i := bytes.IndexByte(c, q)
	if i < 0 {
		return nil, nil, false
	}
	for _, b := range c[:i] {
		if !isNameByte(b) {
			return nil, nil, false
		}
	}
	return c[:i], c[i+1:], true
}

// utf8Label reports whether parseTree reads a body declared with this
// encoding as UTF-8.
func utf8Label(label string) bool {
	if strings.EqualFold(label, "utf-8") {
		return true
	}
	switch strings.ToLower(label) {
	case "utf8", "us-ascii", "ascii":
		return true
	}
	return false
}

// startTag scans `<name attr="value"...>` or the empty-element form.
func (s *scanner) startTag() bool {
	s.pos++ // '<'
	qlo := s.pos
	prefix, local, ok := s.qname()
	if !ok {
		return false
	}
	qhi := s.pos
	// The limits as parseTree applies them: it fails, so decline.
	s.elements++
	if s.elements > s.lim.MaxElements || len(s.open) >= s.lim.MaxDepth {
		return false
	}
	depth := len(s.open) + 1

	s.pending = s.pending[:0]
	empty := false
	for {
		s.skipSpace()
		if s.pos >= len(s.src) {
			return false
		}
		c := s.src[s.pos]
		if c == '>' {
			s.pos++
			break
		}
		if c == '/' {
			if s.pos+1 >= len(s.src) || s.src[s.pos+1] != '>' {
				return false
			}
			s.pos += 2
			empty = true
			break
		}
		ap, al, ok := s.qname()
		if !ok {
			return false
		}
		s.skipSpace()
		if s.pos >= len(s.src) || s.src[s.pos] != '=' {
			return false
		}
		s.pos++
		s.skipSpace()
		value, ok := s.attrValue()
		if !ok {
			return false
		}
		// encoding/xml applies an element's declarations to its own name
		// and attributes whatever their order, so bind them first.
		switch {
		case string(ap) == "xmlns":
			// Rebinding the reserved prefixes, or undeclaring one, is
			// unusual enough to leave to encoding/xml.
			if string(al) == "xml" || string(al) == "xmlns" || value == "" {
				return false
			}
			s.ns = append(s.ns, binding{prefix: al, uri: value, depth: depth})
		case len(ap) == 0 && string(al) == "xmlns":
			s.ns = append(s.ns, binding{uri: value, depth: depth})
		}
		s.pending = append(s.pending, rawAttr{prefix: ap, local: al, value: value})
	}

	// Resolve the names as encoding/xml's translate does.
	var space string
	switch {
	case len(prefix) == 0:
		if string(local) == "xmlns" {
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
	for _, a := range s.pending {
		var as string
		switch {
		case len(a.prefix) == 0:
		case string(a.prefix) == "xmlns":
			as = "xmlns"
		case string(a.prefix) == "xml":
			as = NsXML
		default:
			if as, ok = s.lookup(a.prefix); !ok {
				return false
			}
		}
		s.attrs = append(s.attrs, xml.Attr{Name: xml.Name{Space: as, Local: intern(a.local)}, Value: a.value})
	}

	idx := int32(len(s.nodes))
	parent := int32(-1)
	if len(s.open) > 0 {
		parent = s.open[len(s.open)-1].node
		s.nodes[parent].nkids++
	}
	s.nodes = append(s.nodes, scanNode{
		node:   node{name: xml.Name{Space: space, Local: intern(local)}},
		parent: parent, attrLo: int32(attrLo), attrHi: int32(len(s.attrs)),
	})
	if empty {
		s.popBindings(depth)
	} else {
		s.open = append(s.open, openElem{node: idx, qnameLo: int32(qlo), qnameHi: int32(qhi)})
	}
	return true
}

// endTag scans `</name>`, which must repeat the open element's name as
// written (encoding/xml compares prefix and local name).
func (s *scanner) endTag() bool {
	if len(s.open) == 0 {
		return false
	}
	s.pos += 2 // "</"
	top := s.open[len(s.open)-1]
	lo := s.pos
	if _, _, ok := s.qname(); !ok {
		return false
	}
	if !bytes.Equal(s.src[lo:s.pos], s.src[top.qnameLo:top.qnameHi]) {
		return false
	}
	s.skipSpace()
	if s.pos >= len(s.src) || s.src[s.pos] != '>' {
		return false
	}
	s.pos++
	s.open = s.open[:len(s.open)-1]
	s.popBindings(len(s.open) + 1)
	return true
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

// qname scans a name made of ASCII name characters with at most one colon
// inside it. encoding/xml accepts more (non-ASCII letters, a leading or
// trailing colon taken as part of the local name); those decline.
func (s *scanner) qname() (prefix, local []byte, ok bool) {
	start := s.pos
	if start >= len(s.src) || !isNameStart(s.src[start]) {
		return nil, nil, false
	}
	colon := -1
	i := start + 1
	for ; i < len(s.src); i++ {
		c := s.src[i]
		if c >= utf8.RuneSelf {
			return nil, nil, false
		}
		if !isNameByte(c) {
			break
		}
		if c == ':' {
			if colon >= 0 {
				return nil, nil, false
			}
			colon = i
		}
	}
	s.pos = i
	if colon < 0 {
		return nil, s.src[start:i], true
	}
	if colon == i-1 {
		return nil, nil, false
	}
	return s.src[start:colon], s.src[colon+1 : i], true
}

// attrValue scans a quoted attribute value. encoding/xml expands
// references and normalises line ends in it, but not white space.
func (s *scanner) attrValue() (string, bool) {
	if s.pos >= len(s.src) {
		return "", false
	}
	q := s.src[s.pos]
	if q != '"' && q != '\'' {
		return "", false
	}
	s.pos++
	n := bytes.IndexByte(s.src[s.pos:], q)
	if n < 0 {
		return "", false
	}
	raw := s.src[s.pos : s.pos+n]
	s.pos += n + 1
	if bytes.IndexByte(raw, '<') >= 0 {
		return "", false
	}
	v, ok := charData(raw, true)
	if !ok {
		return "", false
	}
	return intern(v), true
}

// text scans character data up to the next '<' and appends it to the open
// element's text.
func (s *scanner) text() bool {
	rest := s.src[s.pos:]
	n := bytes.IndexByte(rest, '<')
	if n < 0 {
		return false // unterminated document
	}
	raw := rest[:n:n]
	s.pos += n
	if bytes.Contains(raw, []byte("]]>")) {
		return false // encoding/xml rejects it outside CDATA
	}
	t, ok := charData(raw, true)
	if !ok {
		return false
	}
	s.addText(t)
	return true
}

// cdata scans a CDATA section: its content is text with line ends
// normalised and nothing else expanded.
func (s *scanner) cdata() bool {
	start := s.pos + len(cdataTag)
	n := bytes.Index(s.src[start:], []byte("]]>"))
	if n < 0 {
		return false
	}
	raw := s.src[start : start+n : start+n]
	s.pos = start + n + 3
	t, ok := charData(raw, false)
	if !ok {
		return false
	}
	s.addText(t)
	return true
}

// comment skips `<!--...-->`. encoding/xml ends a comment at the first "--"
// and requires '>' after it; it checks nothing else inside.
func (s *scanner) comment() bool {
	start := s.pos + 4
	n := bytes.Index(s.src[start:], []byte("--"))
	if n < 0 || start+n+2 >= len(s.src) || s.src[start+n+2] != '>' {
		return false
	}
	s.pos = start + n + 3
	return true
}

// addText appends t to the text of the innermost open element, as
// parseTree concatenates the character data around child elements. When t
// points into the body it has no spare capacity (text and cdata cap it), so
// a later append copies it rather than writing over the body.
func (s *scanner) addText(t []byte) {
	if len(t) == 0 {
		return
	}
	n := &s.nodes[s.open[len(s.open)-1].node].node
	if n.text == nil {
		n.text = t
		return
	}
	n.text = append(n.text, t...)
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.src) && isSpace(s.src[s.pos]) {
		s.pos++
	}
}

// build links the nodes into the tree parseTree returns: children in
// document order, sharing one backing array.
func (s *scanner) build() *node {
	var kids []*node
	if len(s.nodes) > 1 {
		kids = make([]*node, len(s.nodes)-1)
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

// charData checks and decodes character data as encoding/xml's text()
// does: every character must be a legal XML character in valid UTF-8,
// "\r\n" and "\r" become "\n", and with refs the five predefined entities
// and character references are expanded. The result is raw itself when
// nothing changed, else a new slice. Other entities, and character
// references to surrogates (which encoding/xml turns into U+FFFD), decline.
func charData(raw []byte, refs bool) (out []byte, ok bool) {
	for i := 0; i < len(raw); {
		c := raw[i]
		if plainChar[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n == 1 || !isXMLChar(r) {
				return nil, false
			}
			i += n
			continue
		}
		if c == '\r' || c == '&' && refs {
			return charDataSlow(raw, i, refs)
		}
		if c == '&' { // inside CDATA
			i++
			continue
		}
		return nil, false // a control character
	}
	return raw, true
}

// charDataSlow is charData from raw[i] on, copying.
func charDataSlow(raw []byte, i int, refs bool) ([]byte, bool) {
	out := make([]byte, i, len(raw))
	copy(out, raw[:i])
	for i < len(raw) {
		c := raw[i]
		switch {
		case plainChar[c]:
			out = append(out, c)
			i++
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n == 1 || !isXMLChar(r) {
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
	return out, true
}

// reference decodes the entity or character reference at the start of b
// ("&amp;", "&#38;", "&#x26;") and returns the character and the length of
// the reference, or n == 0 to decline.
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
	if !isXMLChar(r) {
		return 0, 0
	}
	return r, end + 1
}

// isXMLChar is the Char production of XML 1.0, as encoding/xml checks it.
// Surrogates are outside it, since valid UTF-8 cannot carry them.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= utf8.MaxRune
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

func trimLeftSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return b
}

func isNameStart(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_'
}

// isNameByte is encoding/xml's set of single-byte name characters.
func isNameByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == ':' || c == '.' || c == '-'
}

// plainChar marks the bytes charData passes through unchanged: printable
// ASCII except '&', plus tab and line feed.
var plainChar = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '&'
	}
	t['\t'], t['\n'] = true, true
	return t
}()

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

// Package xmlscantest helps test the decoders built on xmlscan (wsman's
// and clixml's fast paths) against the encoding/xml path each falls back
// to: the committed corpus of a fuzz target as seeds, edits of a recorded
// document that such a decoder must take or decline, and UTF-16 bodies.
package xmlscantest

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Corpus returns the single []byte inputs of a fuzz target's committed
// corpus in dir (testdata/fuzz/FuzzName), so another target can start
// from them.
func Corpus(t testing.TB, dir string) [][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, lit, ok := strings.Cut(string(b), "\n[]byte(")
		if !ok {
			continue
		}
		s, err := strconv.Unquote(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(lit), ")")))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, []byte(s))
	}
	return out
}

// Edits collects edited copies of a document.
type Edits struct {
	// Doc is the document being edited, without its prolog.
	Doc []byte
	// Out holds the edited copies, the first being Doc itself.
	Out [][]byte
}

// NewEdits starts editing doc. A leading byte order mark, XML declaration
// and comments are dropped, so that Prolog can add others.
func NewEdits(doc []byte) *Edits {
	doc = reProlog.ReplaceAll(bytes.TrimPrefix(doc, []byte("\xEF\xBB\xBF")), nil)
	return &Edits{Doc: doc, Out: [][]byte{doc}}
}

// reProlog matches an XML declaration and comments at the start.
var reProlog = regexp.MustCompile(`^(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*`)

// Add adds b.
func (e *Edits) Add(b []byte) { e.Out = append(e.Out, b) }

// Prolog adds the document after p.
func (e *Edits) Prolog(p string) { e.Add(slices.Concat([]byte(p), e.Doc)) }

// Append adds the document followed by s.
func (e *Edits) Append(s string) { e.Add(slices.Concat(e.Doc, []byte(s))) }

// Replace adds the document with its first old replaced by new, if it has
// one.
func (e *Edits) Replace(old, new string) {
	if bytes.Contains(e.Doc, []byte(old)) {
		e.Add(bytes.Replace(e.Doc, []byte(old), []byte(new), 1))
	}
}

// ReplaceAll adds the document with every old replaced by new, if it has
// one.
func (e *Edits) ReplaceAll(old, new string) {
	if bytes.Contains(e.Doc, []byte(old)) {
		e.Add(bytes.ReplaceAll(e.Doc, []byte(old), []byte(new)))
	}
}

// Markup adds the edits that concern XML rather than what the document
// means: forms xmlscan takes (declarations it reads as UTF-8, a byte order
// mark, comments, CRLF and CR line ends, white space around the root) and
// forms it declines (UTF-16, other encodings and versions, a DOCTYPE,
// processing instructions, malformed comments), text between elements and
// before the root, truncations and trailing content.
func (e *Edits) Markup() {
	e.Prolog(`<?xml version="1.0" encoding="utf-8"?>`)
	e.Prolog(`<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>` + "\r\n")
	e.Prolog(`<?xml version="1.0" encoding="us-ascii"?>`)
	e.Prolog(`<?xml version="1.0" encoding="utf-16"?>`)
	e.Prolog(`<?xml version="1.1"?>`)
	e.Prolog(`<?xml-stylesheet href="x"?>`)
	e.Prolog(`<!DOCTYPE x [<!ENTITY e "v">]>`)
	e.Prolog("\xEF\xBB\xBF")
	e.Prolog("\xEF\xBB\xBF\xEF\xBB\xBF")
	e.Prolog("<!-- a -- b -->")
	e.Prolog("<!---->\n\t ")
	e.Prolog("\u00a0")
	e.Add(UTF16(string(e.Doc), false, true))
	e.Add(UTF16(string(e.Doc), true, false))
	e.ReplaceAll("><", ">\r\n<")
	e.ReplaceAll("><", ">\r\n  <")
	e.ReplaceAll("><", ">\r<")
	e.ReplaceAll("><", "><!-- c --><")
	e.ReplaceAll("><", "><?pi?><")
	e.ReplaceAll("><", ">x<")
	for _, n := range []int{1, len(e.Doc) / 3, len(e.Doc) / 2, len(e.Doc) - 1} {
		if n > 0 && n < len(e.Doc) {
			e.Add(e.Doc[:n:n])
		}
	}
	e.Append(" \n")
	e.Append("<!-- after -->")
	e.Append("x")
	e.Append("<x/>")
	e.Append("</x>")
}

// UTF16 returns s in UTF-16, big- or little-endian, after a byte order
// mark if bom is set.
func UTF16(s string, bigEndian, bom bool) []byte {
	var out []byte
	put := func(u uint16) {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	if bom {
		put(0xFEFF)
	}
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			put(uint16(0xD800 + r>>10))
			put(uint16(0xDC00 + r&0x3FF))
			continue
		}
		put(uint16(r))
	}
	return out
}

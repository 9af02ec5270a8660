package clixml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Namespace is the XML namespace of <Objs> documents.
const Namespace = "http://schemas.microsoft.com/powershell/2004/04"

// StderrPrefix starts PowerShell's serialized stderr (`powershell
// -OutputFormat xml`, WinRS): the CLIXML document follows on the next line.
const StderrPrefix = "#< CLIXML\r\n"

const docStart = `<Objs Version="1.1.0.1" xmlns="` + Namespace + `">`

// MarshalDocument returns an <Objs> document holding objs, as
// Export-Clixml and serialized stderr use. A Stream value is written with
// its stream name as the S attribute (<S S="Error">…</S>).
func MarshalDocument(objs ...any) ([]byte, error) {
	var e Encoder
	e.buf = append(e.buf, docStart...)
	for _, v := range objs {
		if err := e.encodeDocValue(v); err != nil {
			return nil, err
		}
	}
	e.buf = append(e.buf, "</Objs>"...)
	return e.buf, nil
}

func (e *Encoder) encodeDocValue(v any) error {
	s, ok := v.(Stream)
	if !ok {
		return e.Encode(v)
	}
	if _, nested := s.Value.(Stream); nested {
		return errors.New("clixml: nested Stream")
	}
	pos := len(e.buf)
	if err := e.Encode(s.Value); err != nil {
		return err
	}
	// Insert ` S="name"` after the element name just written.
	end := pos + 1
	for end < len(e.buf) && e.buf[end] != ' ' && e.buf[end] != '>' && e.buf[end] != '/' {
		end++
	}
	attr := appendEscaped([]byte(` S="`), s.Name, true)
	attr = append(attr, '"')
	e.buf = append(e.buf[:end], append(attr, e.buf[end:]...)...)
	return nil
}

// UnmarshalDocument decodes an <Objs> document, optionally preceded by a
// byte order mark or the "#< CLIXML" line of serialized stderr. Values
// written with an S attribute come back as Stream. Like Unmarshal, it tries
// the fast path first.
func UnmarshalDocument(data []byte, lim Limits) ([]any, error) {
	data = documentContent(data)
	if d, ok := newFastDecoder(data, lim); ok {
		if objs, err := d.document(); err == nil {
			return objs, nil
		}
	}
	return unmarshalDocumentGeneral(data, lim)
}

// documentContent strips what may precede an <Objs> document.
func documentContent(data []byte) []byte {
	data = bytes.TrimPrefix(data, utf8BOM)
	if rest, ok := bytes.CutPrefix(data, []byte("#< CLIXML")); ok {
		data = bytes.TrimLeft(rest, "\r\n")
	}
	return data
}

// unmarshalDocumentGeneral is UnmarshalDocument through encoding/xml, on
// the document's content.
func unmarshalDocumentGeneral(data []byte, lim Limits) ([]any, error) {
	d, err := newGeneralDecoder(data, lim)
	if err != nil {
		return nil, err
	}
	return d.document()
}

// document decodes the <Objs> document of the input.
func (d *decoder) document() ([]any, error) {
	var root start
	err := d.nextStart(&root)
	if err == io.EOF {
		return nil, errors.New("clixml: empty document")
	}
	if err != nil {
		return nil, err
	}
	if root.name != "Objs" {
		return nil, fmt.Errorf("clixml: document root is <%.40s>, not <Objs>", root.name)
	}
	objs := []any{}
	for {
		var se start
		err := d.nextStart(&se)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		v, err := d.value(&se)
		if err != nil {
			return nil, err
		}
		if se.hasS {
			v = Stream{Name: decodeString(se.s), Value: v}
		}
		objs = append(objs, v)
	}
	if err := d.nextStart(&root); err != io.EOF {
		if err == nil {
			return nil, errors.New("clixml: content after </Objs>")
		}
		return nil, err
	}
	return objs, nil
}

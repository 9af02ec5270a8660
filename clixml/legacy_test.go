package clixml

// This file is the decoder as it was before the fast path (decode.go,
// UnmarshalDocument, decodeString and parsePrimitive at commit e1f3ee1),
// renamed, so that tests can hold today's decoder, both paths, to exactly
// the old behaviour. It is test code: do not change it.

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/psgate/psgate/psobject"
)

// Unmarshal decodes the one value in data: the data of one PSRP message,
// with or without a UTF-8 byte order mark.
func legacyUnmarshal(data []byte, lim Limits) (any, error) {
	d, err := newLegacyDecoder(data, lim)
	if err != nil {
		return nil, err
	}
	v, err := d.Decode()
	if err == io.EOF {
		return nil, errors.New("clixml: no value in data")
	}
	if err != nil {
		return nil, err
	}
	if _, err := d.Decode(); err != io.EOF {
		if err == nil {
			return nil, errors.New("clixml: more than one value in data")
		}
		return nil, err
	}
	return v, nil
}

// legacyDecoder reads the top-level values of one CLIXML text. RefIds are shared
// by all values of the text.
type legacyDecoder struct {
	lim   Limits
	x     *xml.Decoder
	objs  map[int]legacyDecoded
	tns   map[int][]string
	count int
	depth int
}

// legacyDecoded is a completed value that a <Ref> may point to.
type legacyDecoded struct {
	v      any
	weight int
}

// NewDecoder returns a decoder over data; it fails only when data exceeds
// lim.MaxBytes.
func newLegacyDecoder(data []byte, lim Limits) (*legacyDecoder, error) {
	lim = lim.withDefaults()
	if len(data) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: input of %d bytes exceeds %d", ErrLimit, len(data), lim.MaxBytes)
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	x := xml.NewDecoder(bytes.NewReader(data))
	x.Strict = true
	return &legacyDecoder{lim: lim, x: x}, nil
}

// Decode returns the next top-level value, or io.EOF after the last.
func (d *legacyDecoder) Decode() (any, error) {
	start, err := d.legacyNextStart()
	if err != nil {
		return nil, err
	}
	return d.legacyValue(start)
}

// nextStart returns the next start element at the current level, skipping
// whitespace, comments and processing instructions; io.EOF at the end of
// the input or of the enclosing element.
func (d *legacyDecoder) legacyNextStart() (xml.StartElement, error) {
	for {
		tok, err := d.x.Token()
		if err == io.EOF {
			return xml.StartElement{}, io.EOF
		}
		if err != nil {
			return xml.StartElement{}, fmt.Errorf("clixml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.EndElement:
			return xml.StartElement{}, io.EOF
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return xml.StartElement{}, fmt.Errorf("clixml: unexpected text %.20q", t)
			}
		}
	}
}

// tick counts n more values against MaxObjects.
func (d *legacyDecoder) legacyTick(n int) error {
	d.count += n
	if d.count > d.lim.MaxObjects || d.count < 0 {
		return fmt.Errorf("%w: more than %d values", ErrLimit, d.lim.MaxObjects)
	}
	return nil
}

func (d *legacyDecoder) legacyEnter() error {
	d.depth++
	if d.depth > d.lim.MaxDepth {
		return fmt.Errorf("%w: nesting deeper than %d", ErrLimit, d.lim.MaxDepth)
	}
	return nil
}

// text reads the character data of a primitive element up to its end.
func (d *legacyDecoder) legacyText(tag string) (string, error) {
	var buf []byte
	for {
		tok, err := d.x.Token()
		if err != nil {
			return "", fmt.Errorf("clixml: in <%s>: %w", tag, legacyUnexpectedEOF(err))
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(buf)+len(t) > d.lim.MaxStringLen {
				return "", fmt.Errorf("%w: text of <%s> longer than %d bytes", ErrLimit, tag, d.lim.MaxStringLen)
			}
			buf = append(buf, t...)
		case xml.StartElement:
			return "", fmt.Errorf("clixml: element <%s> inside <%s>", t.Name.Local, tag)
		case xml.EndElement:
			return string(buf), nil
		}
	}
}

func legacyUnexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// skip consumes the rest of the current element.
func (d *legacyDecoder) legacySkip() error {
	if err := d.x.Skip(); err != nil {
		return fmt.Errorf("clixml: %w", legacyUnexpectedEOF(err))
	}
	return nil
}

func legacyAttr(se xml.StartElement, name string) (string, bool) {
	for _, a := range se.Attr {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}

func legacyRefID(se xml.StartElement) (int, bool, error) {
	s, ok := legacyAttr(se, "RefId")
	if !ok {
		return 0, false, nil
	}
	id, err := strconv.Atoi(s)
	if err != nil || id < 0 {
		return 0, false, fmt.Errorf("clixml: bad RefId %.20q on <%s>", s, se.Name.Local)
	}
	return id, true, nil
}

// value decodes the element started by se.
func (d *legacyDecoder) legacyValue(se xml.StartElement) (any, error) {
	if err := d.legacyTick(1); err != nil {
		return nil, err
	}
	tag := se.Name.Local
	switch tag {
	case "Nil":
		return nil, d.legacySkip()
	case "Obj":
		return d.legacyObject(se)
	case "Ref":
		return d.legacyRef(se)
	case "LST", "IE", "QUE", "STK":
		if err := d.legacyEnter(); err != nil {
			return nil, err
		}
		v, err := d.legacyItems()
		d.depth--
		return v, err
	case "DCT":
		if err := d.legacyEnter(); err != nil {
			return nil, err
		}
		entries, err := d.legacyEntries()
		d.depth--
		if err != nil {
			return nil, err
		}
		return &psobject.Dict{TypeNames: []string{"System.Collections.Hashtable", "System.Object"}, Entries: entries}, nil
	}
	if !legacyIsPrimitive(tag) {
		return nil, fmt.Errorf("clixml: unknown element <%.40s>", tag)
	}
	s, err := d.legacyText(tag)
	if err != nil {
		return nil, err
	}
	v, err := legacyParsePrimitive(tag, s)
	if err != nil {
		return nil, fmt.Errorf("clixml: <%s>%.40q: %w", tag, s, err)
	}
	return v, nil
}

func (d *legacyDecoder) legacyRef(se xml.StartElement) (any, error) {
	id, ok, err := legacyRefID(se)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("clixml: <Ref> without RefId")
	}
	if err := d.legacySkip(); err != nil {
		return nil, err
	}
	r, ok := d.objs[id]
	if !ok {
		return nil, fmt.Errorf("clixml: <Ref> to unknown or unfinished RefId %d", id)
	}
	// A reference costs as much as what it refers to, so that shared
	// references cannot build an exponentially large tree.
	if err := d.legacyTick(r.weight); err != nil {
		return nil, err
	}
	return r.v, nil
}

// items decodes the children of a collection element.
func (d *legacyDecoder) legacyItems() ([]any, error) {
	list := []any{}
	for {
		se, err := d.legacyNextStart()
		if err == io.EOF {
			return list, nil
		}
		if err != nil {
			return nil, err
		}
		v, err := d.legacyValue(se)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
}

// entries decodes the <En> children of a <DCT>.
func (d *legacyDecoder) legacyEntries() ([]psobject.DictEntry, error) {
	var entries []psobject.DictEntry
	for {
		se, err := d.legacyNextStart()
		if err == io.EOF {
			return entries, nil
		}
		if err != nil {
			return nil, err
		}
		if se.Name.Local != "En" {
			return nil, fmt.Errorf("clixml: <%.40s> inside <DCT>", se.Name.Local)
		}
		if err := d.legacyTick(1); err != nil {
			return nil, err
		}
		var en psobject.DictEntry
		var haveKey bool
		for {
			ce, err := d.legacyNextStart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			n, _ := legacyAttr(ce, "N")
			v, err := d.legacyValue(ce)
			if err != nil {
				return nil, err
			}
			switch n {
			case "Key":
				en.Key, haveKey = v, true
			case "Value":
				en.Value = v
			default:
				return nil, fmt.Errorf("clixml: dictionary entry member %.40q", n)
			}
		}
		if !haveKey {
			return nil, errors.New("clixml: dictionary entry without a Key")
		}
		entries = append(entries, en)
	}
}

// object decodes an <Obj>.
func (d *legacyDecoder) legacyObject(se xml.StartElement) (any, error) {
	id, hasID, err := legacyRefID(se)
	if err != nil {
		return nil, err
	}
	if hasID {
		if _, dup := d.objs[id]; dup {
			return nil, fmt.Errorf("clixml: duplicate RefId %d", id)
		}
	}
	if err := d.legacyEnter(); err != nil {
		return nil, err
	}
	before := d.count
	var (
		obj       psobject.Object
		list      []any
		isList    bool
		dict      []psobject.DictEntry
		isDict    bool
		base      any
		hasBase   bool
		typeNames []string
	)
	for {
		ce, err := d.legacyNextStart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch tag := ce.Name.Local; tag {
		case "TN":
			if typeNames != nil {
				return nil, errors.New("clixml: two type name lists in one <Obj>")
			}
			if typeNames, err = d.legacyTypeNames(ce); err != nil {
				return nil, err
			}
		case "TNRef":
			if typeNames != nil {
				return nil, errors.New("clixml: two type name lists in one <Obj>")
			}
			if typeNames, err = d.legacyTypeNameRef(ce); err != nil {
				return nil, err
			}
		case "ToString":
			s, err := d.legacyText(tag)
			if err != nil {
				return nil, err
			}
			obj.Text = legacyDecodeString(s)
		case "Props", "MS":
			props, display, err := d.legacyProperties(tag)
			if err != nil {
				return nil, err
			}
			if tag == "Props" {
				obj.Props = append(obj.Props, props...)
			} else {
				obj.Extended = append(obj.Extended, props...)
			}
			if display != nil {
				obj.DisplayProps = display
			}
		case "LST", "IE", "QUE", "STK", "DCT":
			if isList || isDict {
				return nil, errors.New("clixml: two collections in one <Obj>")
			}
			if err := d.legacyEnter(); err != nil {
				return nil, err
			}
			if tag == "DCT" {
				dict, err = d.legacyEntries()
				isDict = true
			} else {
				list, err = d.legacyItems()
				isList = true
			}
			if err != nil {
				return nil, err
			}
			d.depth--
		default:
			if !legacyIsPrimitive(tag) && tag != "Nil" {
				return nil, fmt.Errorf("clixml: unknown element <%.40s> in <Obj>", tag)
			}
			if hasBase {
				return nil, errors.New("clixml: two base values in one <Obj>")
			}
			if base, err = d.legacyValue(ce); err != nil {
				return nil, err
			}
			hasBase = true
		}
	}
	d.depth--

	var v any
	switch {
	case isDict:
		if len(typeNames) == 0 {
			typeNames = []string{"System.Collections.Hashtable", "System.Object"}
		}
		v = &psobject.Dict{TypeNames: typeNames, Entries: dict}
	case isList:
		v = list
	case hasBase:
		v = base
		if e, ok := legacyAsEnum(typeNames, obj.Text, base); ok {
			v = e
		}
	default:
		obj.TypeNames = typeNames
		v = &obj
	}
	if hasID {
		if d.objs == nil {
			d.objs = make(map[int]legacyDecoded)
		}
		d.objs[id] = legacyDecoded{v: v, weight: d.count - before + 1}
	}
	return v, nil
}

// asEnum recognises a serialized .NET enum: type names including
// System.Enum and an integer base value.
func legacyAsEnum(typeNames []string, name string, base any) (psobject.Enum, bool) {
	if len(typeNames) < 2 || typeNames[0] == "" {
		return psobject.Enum{}, false
	}
	isEnum := false
	for _, t := range typeNames[1:] {
		if t == "System.Enum" {
			isEnum = true
			break
		}
	}
	if !isEnum {
		return psobject.Enum{}, false
	}
	var n int64
	switch x := base.(type) {
	case int32:
		n = int64(x)
	case int64:
		n = x
	case int16:
		n = int64(x)
	case int8:
		n = int64(x)
	case uint8:
		n = int64(x)
	case uint16:
		n = int64(x)
	case uint32:
		n = int64(int32(x)) // flags enums over UInt32 keep their bit pattern
	case uint64:
		if x > math.MaxUint32 {
			return psobject.Enum{}, false
		}
		n = int64(int32(uint32(x)))
	default:
		return psobject.Enum{}, false
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return psobject.Enum{}, false
	}
	return psobject.Enum{Type: typeNames[0], Name: name, Value: int32(n)}, true
}

func (d *legacyDecoder) legacyTypeNames(se xml.StartElement) ([]string, error) {
	id, hasID, err := legacyRefID(se)
	if err != nil {
		return nil, err
	}
	names := []string{}
	for {
		ce, err := d.legacyNextStart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if ce.Name.Local != "T" {
			return nil, fmt.Errorf("clixml: <%.40s> inside <TN>", ce.Name.Local)
		}
		if err := d.legacyTick(1); err != nil {
			return nil, err
		}
		s, err := d.legacyText("T")
		if err != nil {
			return nil, err
		}
		names = append(names, legacyDecodeString(s))
	}
	if hasID {
		if _, dup := d.tns[id]; dup {
			return nil, fmt.Errorf("clixml: duplicate type name RefId %d", id)
		}
		if d.tns == nil {
			d.tns = make(map[int][]string)
		}
		d.tns[id] = names
	}
	return names, nil
}

func (d *legacyDecoder) legacyTypeNameRef(se xml.StartElement) ([]string, error) {
	id, ok, err := legacyRefID(se)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("clixml: <TNRef> without RefId")
	}
	if err := d.legacySkip(); err != nil {
		return nil, err
	}
	names, ok := d.tns[id]
	if !ok {
		return nil, fmt.Errorf("clixml: <TNRef> to unknown RefId %d", id)
	}
	if err := d.legacyTick(len(names)); err != nil {
		return nil, err
	}
	return append([]string(nil), names...), nil
}

// properties decodes the named children of <Props> or <MS>. Member sets
// nested in an <MS> are not properties: the default display property set
// of a PSStandardMembers set is returned as display, others are dropped.
func (d *legacyDecoder) legacyProperties(tag string) (props []psobject.Property, display []string, err error) {
	if err := d.legacyEnter(); err != nil {
		return nil, nil, err
	}
	for {
		ce, err := d.legacyNextStart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		n, _ := legacyAttr(ce, "N")
		if n == "" {
			return nil, nil, fmt.Errorf("clixml: <%.40s> without a name in <%s>", ce.Name.Local, tag)
		}
		if tag == "MS" && ce.Name.Local == "MS" {
			members, _, err := d.legacyProperties("MS")
			if err != nil {
				return nil, nil, err
			}
			if legacyDecodeString(n) == "PSStandardMembers" {
				display = legacyDisplayPropertySet(members)
			}
			continue
		}
		v, err := d.legacyValue(ce)
		if err != nil {
			return nil, nil, err
		}
		props = append(props, psobject.Property{Name: legacyDecodeString(n), Value: v})
	}
	d.depth--
	return props, display, nil
}

// displayPropertySet returns the property names of the
// DefaultDisplayPropertySet among the members of a PSStandardMembers set:
// a PSPropertySet object with a ReferencedPropertyNames list (what
// Encoder writes), or a plain list of names. Nil when there is none.
func legacyDisplayPropertySet(members []psobject.Property) []string {
	for _, m := range members {
		if m.Name != "DefaultDisplayPropertySet" {
			continue
		}
		v := m.Value
		if o, ok := v.(*psobject.Object); ok {
			v, _ = o.Get("ReferencedPropertyNames")
		}
		list, ok := v.([]any)
		if !ok {
			return nil
		}
		names := make([]string, 0, len(list))
		for _, e := range list {
			if s, ok := e.(string); ok && s != "" {
				names = append(names, s)
			}
		}
		if len(names) == 0 {
			return nil
		}
		return names
	}
	return nil
}

// UnmarshalDocument decodes an <Objs> document, optionally preceded by a
// byte order mark or the "#< CLIXML" line of serialized stderr. Values
// written with an S attribute come back as Stream.
func legacyUnmarshalDocument(data []byte, lim Limits) ([]any, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if rest, ok := bytes.CutPrefix(data, []byte("#< CLIXML")); ok {
		data = bytes.TrimLeft(rest, "\r\n")
	}
	d, err := newLegacyDecoder(data, lim)
	if err != nil {
		return nil, err
	}
	root, err := d.legacyNextStart()
	if err == io.EOF {
		return nil, errors.New("clixml: empty document")
	}
	if err != nil {
		return nil, err
	}
	if root.Name.Local != "Objs" {
		return nil, fmt.Errorf("clixml: document root is <%.40s>, not <Objs>", root.Name.Local)
	}
	objs := []any{}
	for {
		se, err := d.legacyNextStart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		v, err := d.legacyValue(se)
		if err != nil {
			return nil, err
		}
		if name, ok := legacyAttr(se, "S"); ok {
			v = Stream{Name: legacyDecodeString(name), Value: v}
		}
		objs = append(objs, v)
	}
	if _, err := d.legacyNextStart(); err != io.EOF {
		if err == nil {
			return nil, errors.New("clixml: content after </Objs>")
		}
		return nil, err
	}
	return objs, nil
}

// decodeString reverses the _xHHHH_ encoding of PowerShell strings (the
// XML entities are already resolved by the XML parser). The 'x' and the hex
// digits may be either case; _xHHHHHHHH_ (a code point) is accepted too, as
// .NET's XmlConvert.DecodeName does. Paired surrogate escapes become one
// character; an unpaired surrogate becomes U+FFFD.
func legacyDecodeString(s string) string {
	i := strings.IndexByte(s, '_')
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		if s[i] != '_' {
			j := strings.IndexByte(s[i:], '_')
			if j < 0 {
				b.WriteString(s[i:])
				break
			}
			b.WriteString(s[i : i+j])
			i += j
			continue
		}
		r, n := escapeAt(s, i)
		if n == 0 {
			b.WriteByte('_')
			i++
			continue
		}
		i += n
		if utf16.IsSurrogate(r) {
			if r < 0xDC00 { // high surrogate: needs a low one next
				if lo, m := escapeAt(s, i); m > 0 && lo >= 0xDC00 && lo <= 0xDFFF {
					r = utf16.DecodeRune(r, lo)
					i += m
				} else {
					r = utf8.RuneError
				}
			} else {
				r = utf8.RuneError
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isPrimitive reports whether tag is a primitive element.
func legacyIsPrimitive(tag string) bool {
	switch tag {
	case "S", "XD", "SBK", "C", "B", "DT", "TS", "By", "SB", "U16", "I16", "U32", "I32",
		"U64", "I64", "Sg", "Db", "D", "BA", "SS", "G", "URI", "Version":
		return true
	}
	return false
}

// parsePrimitive parses the text s of the primitive element tag.
func legacyParsePrimitive(tag, s string) (any, error) {
	switch tag {
	case "S", "XD":
		return legacyDecodeString(s), nil
	case "SBK":
		return psobject.ScriptBlock(legacyDecodeString(s)), nil
	case "URI":
		s = legacyDecodeString(s)
		if u, err := url.Parse(s); err == nil {
			return u, nil
		}
		return s, nil
	case "BA":
		return base64.StdEncoding.DecodeString(stripSpace(s))
	case "SS":
		b, err := base64.StdEncoding.DecodeString(stripSpace(s))
		return SecureString{Ciphertext: b}, err
	}
	s = strings.TrimSpace(s)
	switch tag {
	case "C":
		v, err := strconv.ParseUint(s, 10, 16)
		return psobject.Char(v), err
	case "B":
		switch strings.ToLower(s) {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		}
		return nil, errors.New("not a boolean")
	case "DT":
		return parseDateTime(s)
	case "TS":
		return parseDuration(s)
	case "By":
		v, err := strconv.ParseUint(s, 10, 8)
		return uint8(v), err
	case "SB":
		v, err := strconv.ParseInt(s, 10, 8)
		return int8(v), err
	case "U16":
		v, err := strconv.ParseUint(s, 10, 16)
		return uint16(v), err
	case "I16":
		v, err := strconv.ParseInt(s, 10, 16)
		return int16(v), err
	case "U32":
		v, err := strconv.ParseUint(s, 10, 32)
		return uint32(v), err
	case "I32":
		v, err := strconv.ParseInt(s, 10, 32)
		return int32(v), err
	case "U64":
		return strconv.ParseUint(s, 10, 64)
	case "I64":
		return strconv.ParseInt(s, 10, 64)
	case "Sg":
		v, err := parseFloat(s, 32)
		return float32(v), err
	case "Db":
		return parseFloat(s, 64)
	case "D":
		if !isDecimal(s) {
			return nil, errors.New("not a decimal number")
		}
		return psobject.Decimal(s), nil
	case "G":
		s = strings.ToLower(s)
		if !isGUID(s) {
			return nil, errors.New("not a GUID")
		}
		return psobject.GUID(s), nil
	case "Version":
		if !isVersion(s) {
			return nil, errors.New("not a version")
		}
		return psobject.Version(s), nil
	}
	return nil, errors.New("not a primitive")
}

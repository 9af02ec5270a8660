package clixml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/psgate/psgate/psobject"
)

// ErrLimit is wrapped by decode errors caused by a Limits bound.
var ErrLimit = errors.New("clixml: limit exceeded")

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Unmarshal decodes the one value in data: the data of one PSRP message,
// with or without a UTF-8 byte order mark.
func Unmarshal(data []byte, lim Limits) (any, error) {
	d, err := NewDecoder(data, lim)
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

// Decoder reads the top-level values of one CLIXML text. RefIds are shared
// by all values of the text.
type Decoder struct {
	lim   Limits
	x     *xml.Decoder
	objs  map[int]decoded
	tns   map[int][]string
	count int
	depth int
}

// decoded is a completed value that a <Ref> may point to.
type decoded struct {
	v      any
	weight int
}

// NewDecoder returns a decoder over data; it fails only when data exceeds
// lim.MaxBytes.
func NewDecoder(data []byte, lim Limits) (*Decoder, error) {
	lim = lim.withDefaults()
	if len(data) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: input of %d bytes exceeds %d", ErrLimit, len(data), lim.MaxBytes)
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	x := xml.NewDecoder(bytes.NewReader(data))
	x.Strict = true
	return &Decoder{lim: lim, x: x}, nil
}

// Decode returns the next top-level value, or io.EOF after the last.
func (d *Decoder) Decode() (any, error) {
	start, err := d.nextStart()
	if err != nil {
		return nil, err
	}
	return d.value(start)
}

// nextStart returns the next start element at the current level, skipping
// whitespace, comments and processing instructions; io.EOF at the end of
// the input or of the enclosing element.
func (d *Decoder) nextStart() (xml.StartElement, error) {
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
func (d *Decoder) tick(n int) error {
	d.count += n
	if d.count > d.lim.MaxObjects || d.count < 0 {
		return fmt.Errorf("%w: more than %d values", ErrLimit, d.lim.MaxObjects)
	}
	return nil
}

func (d *Decoder) enter() error {
	d.depth++
	if d.depth > d.lim.MaxDepth {
		return fmt.Errorf("%w: nesting deeper than %d", ErrLimit, d.lim.MaxDepth)
	}
	return nil
}

// text reads the character data of a primitive element up to its end.
func (d *Decoder) text(tag string) (string, error) {
	var buf []byte
	for {
		tok, err := d.x.Token()
		if err != nil {
			return "", fmt.Errorf("clixml: in <%s>: %w", tag, unexpectedEOF(err))
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

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// skip consumes the rest of the current element.
func (d *Decoder) skip() error {
	if err := d.x.Skip(); err != nil {
		return fmt.Errorf("clixml: %w", unexpectedEOF(err))
	}
	return nil
}

func attr(se xml.StartElement, name string) (string, bool) {
	for _, a := range se.Attr {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}

func refID(se xml.StartElement) (int, bool, error) {
	s, ok := attr(se, "RefId")
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
func (d *Decoder) value(se xml.StartElement) (any, error) {
	if err := d.tick(1); err != nil {
		return nil, err
	}
	tag := se.Name.Local
	switch tag {
	case "Nil":
		return nil, d.skip()
	case "Obj":
		return d.object(se)
	case "Ref":
		return d.ref(se)
	case "LST", "IE", "QUE", "STK":
		if err := d.enter(); err != nil {
			return nil, err
		}
		v, err := d.items()
		d.depth--
		return v, err
	case "DCT":
		if err := d.enter(); err != nil {
			return nil, err
		}
		entries, err := d.entries()
		d.depth--
		if err != nil {
			return nil, err
		}
		return &psobject.Dict{TypeNames: []string{"System.Collections.Hashtable", "System.Object"}, Entries: entries}, nil
	}
	if !isPrimitive(tag) {
		return nil, fmt.Errorf("clixml: unknown element <%.40s>", tag)
	}
	s, err := d.text(tag)
	if err != nil {
		return nil, err
	}
	v, err := parsePrimitive(tag, s)
	if err != nil {
		return nil, fmt.Errorf("clixml: <%s>%.40q: %w", tag, s, err)
	}
	return v, nil
}

func (d *Decoder) ref(se xml.StartElement) (any, error) {
	id, ok, err := refID(se)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("clixml: <Ref> without RefId")
	}
	if err := d.skip(); err != nil {
		return nil, err
	}
	r, ok := d.objs[id]
	if !ok {
		return nil, fmt.Errorf("clixml: <Ref> to unknown or unfinished RefId %d", id)
	}
	// A reference costs as much as what it refers to, so that shared
	// references cannot build an exponentially large tree.
	if err := d.tick(r.weight); err != nil {
		return nil, err
	}
	return r.v, nil
}

// items decodes the children of a collection element.
func (d *Decoder) items() ([]any, error) {
	list := []any{}
	for {
		se, err := d.nextStart()
		if err == io.EOF {
			return list, nil
		}
		if err != nil {
			return nil, err
		}
		v, err := d.value(se)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
}

// entries decodes the <En> children of a <DCT>.
func (d *Decoder) entries() ([]psobject.DictEntry, error) {
	var entries []psobject.DictEntry
	for {
		se, err := d.nextStart()
		if err == io.EOF {
			return entries, nil
		}
		if err != nil {
			return nil, err
		}
		if se.Name.Local != "En" {
			return nil, fmt.Errorf("clixml: <%.40s> inside <DCT>", se.Name.Local)
		}
		if err := d.tick(1); err != nil {
			return nil, err
		}
		var en psobject.DictEntry
		var haveKey bool
		for {
			ce, err := d.nextStart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			n, _ := attr(ce, "N")
			v, err := d.value(ce)
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
func (d *Decoder) object(se xml.StartElement) (any, error) {
	id, hasID, err := refID(se)
	if err != nil {
		return nil, err
	}
	if hasID {
		if _, dup := d.objs[id]; dup {
			return nil, fmt.Errorf("clixml: duplicate RefId %d", id)
		}
	}
	if err := d.enter(); err != nil {
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
		ce, err := d.nextStart()
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
			if typeNames, err = d.typeNames(ce); err != nil {
				return nil, err
			}
		case "TNRef":
			if typeNames != nil {
				return nil, errors.New("clixml: two type name lists in one <Obj>")
			}
			if typeNames, err = d.typeNameRef(ce); err != nil {
				return nil, err
			}
		case "ToString":
			s, err := d.text(tag)
			if err != nil {
				return nil, err
			}
			obj.Text = decodeString(s)
		case "Props", "MS":
			props, display, err := d.properties(tag)
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
			if err := d.enter(); err != nil {
				return nil, err
			}
			if tag == "DCT" {
				dict, err = d.entries()
				isDict = true
			} else {
				list, err = d.items()
				isList = true
			}
			if err != nil {
				return nil, err
			}
			d.depth--
		default:
			if !isPrimitive(tag) && tag != "Nil" {
				return nil, fmt.Errorf("clixml: unknown element <%.40s> in <Obj>", tag)
			}
			if hasBase {
				return nil, errors.New("clixml: two base values in one <Obj>")
			}
			if base, err = d.value(ce); err != nil {
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
		if e, ok := asEnum(typeNames, obj.Text, base); ok {
			v = e
		}
	default:
		obj.TypeNames = typeNames
		v = &obj
	}
	if hasID {
		if d.objs == nil {
			d.objs = make(map[int]decoded)
		}
		d.objs[id] = decoded{v: v, weight: d.count - before + 1}
	}
	return v, nil
}

// asEnum recognises a serialized .NET enum: type names including
// System.Enum and an integer base value.
func asEnum(typeNames []string, name string, base any) (psobject.Enum, bool) {
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

func (d *Decoder) typeNames(se xml.StartElement) ([]string, error) {
	id, hasID, err := refID(se)
	if err != nil {
		return nil, err
	}
	names := []string{}
	for {
		ce, err := d.nextStart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if ce.Name.Local != "T" {
			return nil, fmt.Errorf("clixml: <%.40s> inside <TN>", ce.Name.Local)
		}
		if err := d.tick(1); err != nil {
			return nil, err
		}
		s, err := d.text("T")
		if err != nil {
			return nil, err
		}
		names = append(names, decodeString(s))
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

func (d *Decoder) typeNameRef(se xml.StartElement) ([]string, error) {
	id, ok, err := refID(se)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("clixml: <TNRef> without RefId")
	}
	if err := d.skip(); err != nil {
		return nil, err
	}
	names, ok := d.tns[id]
	if !ok {
		return nil, fmt.Errorf("clixml: <TNRef> to unknown RefId %d", id)
	}
	if err := d.tick(len(names)); err != nil {
		return nil, err
	}
	return append([]string(nil), names...), nil
}

// properties decodes the named children of <Props> or <MS>. Member sets
// nested in an <MS> are not properties: the default display property set
// of a PSStandardMembers set is returned as display, others are dropped.
func (d *Decoder) properties(tag string) (props []psobject.Property, display []string, err error) {
	if err := d.enter(); err != nil {
		return nil, nil, err
	}
	for {
		ce, err := d.nextStart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		n, _ := attr(ce, "N")
		if n == "" {
			return nil, nil, fmt.Errorf("clixml: <%.40s> without a name in <%s>", ce.Name.Local, tag)
		}
		if tag == "MS" && ce.Name.Local == "MS" {
			members, _, err := d.properties("MS")
			if err != nil {
				return nil, nil, err
			}
			if decodeString(n) == "PSStandardMembers" {
				display = displayPropertySet(members)
			}
			continue
		}
		v, err := d.value(ce)
		if err != nil {
			return nil, nil, err
		}
		props = append(props, psobject.Property{Name: decodeString(n), Value: v})
	}
	d.depth--
	return props, display, nil
}

// displayPropertySet returns the property names of the
// DefaultDisplayPropertySet among the members of a PSStandardMembers set:
// a PSPropertySet object with a ReferencedPropertyNames list (what
// Encoder writes), or a plain list of names. Nil when there is none.
func displayPropertySet(members []psobject.Property) []string {
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

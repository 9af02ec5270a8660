package clixml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/psgate/psgate/internal/xmlscan"
	"github.com/psgate/psgate/psobject"
)

// ErrLimit is wrapped by decode errors caused by a Limits bound.
var ErrLimit = errors.New("clixml: limit exceeded")

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Unmarshal decodes the one value in data: the data of one PSRP message,
// with or without a UTF-8 byte order mark.
//
// Unmarshal first tries the fast path (fast.go), which reads the plain XML
// real clients send without encoding/xml; whatever it declines goes
// through encoding/xml, which also produces every error.
func Unmarshal(data []byte, lim Limits) (any, error) {
	if v, ok := unmarshalFast(data, lim); ok {
		return v, nil
	}
	return unmarshalGeneral(data, lim)
}

// unmarshalGeneral is Unmarshal through encoding/xml: it handles every
// input Unmarshal accepts and reports every error.
func unmarshalGeneral(data []byte, lim Limits) (any, error) {
	d, err := newGeneralDecoder(data, lim)
	if err != nil {
		return nil, err
	}
	return d.single()
}

// single decodes the one value of the input.
func (d *decoder) single() (any, error) {
	v, err := d.decode()
	if err == io.EOF {
		return nil, errors.New("clixml: no value in data")
	}
	if err != nil {
		return nil, err
	}
	if _, err := d.decode(); err != io.EOF {
		if err == nil {
			return nil, errors.New("clixml: more than one value in data")
		}
		return nil, err
	}
	return v, nil
}

// Decoder reads the top-level values of one CLIXML text. RefIds are shared
// by all values of the text.
//
// The first Decode tries the fast path on the whole text; when it declines,
// the values come from encoding/xml one by one.
type Decoder struct {
	data  []byte
	lim   Limits
	tried bool
	fast  []any    // the values the fast path decoded, not yet returned
	gen   *decoder // the general decoder, when the fast path declined
}

// NewDecoder returns a decoder over data; it fails only when data exceeds
// lim.MaxBytes.
func NewDecoder(data []byte, lim Limits) (*Decoder, error) {
	lim = lim.withDefaults()
	if len(data) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: input of %d bytes exceeds %d", ErrLimit, len(data), lim.MaxBytes)
	}
	return &Decoder{data: data, lim: lim}, nil
}

// Decode returns the next top-level value, or io.EOF after the last.
func (d *Decoder) Decode() (any, error) {
	if !d.tried {
		d.tried = true
		if vals, ok := decodeAllFast(d.data, d.lim); ok {
			d.fast = vals
		} else {
			d.gen, _ = newGeneralDecoder(d.data, d.lim) // the size was checked
		}
	}
	if d.gen != nil {
		return d.gen.decode()
	}
	if len(d.fast) == 0 {
		return nil, io.EOF
	}
	v := d.fast[0]
	d.fast = d.fast[1:]
	return v, nil
}

// decoder decodes values from one token source: encoding/xml (x, the
// general path) or the scanner (sc, the fast path, when x is nil). Both
// share everything above the tokens: nextStart, text and skip are the only
// methods that differ.
type decoder struct {
	lim   Limits
	x     *xml.Decoder
	sc    xmlscan.Scanner
	objs  refTable[decoded]
	tns   refTable[[]string]
	count int
	depth int
	buf   []byte // the fast path's text, reused

	// Stacks on which items, entries, properties and typeNames collect
	// their elements, so that each list is allocated once at its size.
	// A nested call uses the part above its caller's.
	itemStack  []any
	entryStack []psobject.DictEntry
	propStack  []psobject.Property
	nameStack  []string

	enums    [8]boxedEnum // boxEnum's recent values
	nextEnum int

	// First backing for the stacks, in the decoder's one allocation.
	propArr [24]psobject.Property
	itemArr [16]any
	nameArr [8]string
	bufArr  [128]byte
}

// newDecoder returns a decoder without a token source.
func newDecoder(lim Limits) *decoder {
	d := &decoder{lim: lim}
	d.propStack, d.itemStack, d.nameStack, d.buf = d.propArr[:0], d.itemArr[:0], d.nameArr[:0], d.bufArr[:0]
	return d
}

// decoded is a completed value that a <Ref> may point to.
type decoded struct {
	v      any
	weight int
}

// newGeneralDecoder returns a decoder over data through encoding/xml; it
// fails only when data exceeds lim.MaxBytes.
func newGeneralDecoder(data []byte, lim Limits) (*decoder, error) {
	lim = lim.withDefaults()
	if len(data) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: input of %d bytes exceeds %d", ErrLimit, len(data), lim.MaxBytes)
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	x := xml.NewDecoder(bytes.NewReader(data))
	x.Strict = true
	d := newDecoder(lim)
	d.x = x
	return d, nil
}

// decode returns the next top-level value, or io.EOF after the last.
func (d *decoder) decode() (any, error) {
	var se start
	if err := d.nextStart(&se); err != nil {
		return nil, err
	}
	return d.value(&se)
}

// start is a start tag as the decoder sees it: the local name, and the
// first of each of the N, RefId and S attributes without a namespace.
type start struct {
	name               string
	n, s, ref          string
	hasN, hasS, hasRef bool
	id                 int  // RefId as the fast path parsed it
	idParsed           bool // id holds RefId
}

// startOf sets st from an encoding/xml start element.
func startOf(st *start, se xml.StartElement) {
	*st = start{name: se.Name.Local}
	for _, a := range se.Attr {
		if a.Name.Space != "" {
			continue
		}
		switch a.Name.Local {
		case "N":
			if !st.hasN {
				st.n, st.hasN = a.Value, true
			}
		case "S":
			if !st.hasS {
				st.s, st.hasS = a.Value, true
			}
		case "RefId":
			if !st.hasRef {
				st.ref, st.hasRef = a.Value, true
			}
		}
	}
}

// nextStart reads into se the next start element at the current level,
// skipping whitespace, comments and processing instructions; io.EOF at the
// end of the input or of the enclosing element.
func (d *decoder) nextStart(se *start) error {
	if d.x == nil {
		return d.scanNextStart(se)
	}
	for {
		tok, err := d.x.Token()
		if err == io.EOF {
			return io.EOF
		}
		if err != nil {
			return fmt.Errorf("clixml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			startOf(se, t)
			return nil
		case xml.EndElement:
			return io.EOF
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return fmt.Errorf("clixml: unexpected text %.20q", t)
			}
		}
	}
}

// tick counts n more values against MaxObjects.
func (d *decoder) tick(n int) error {
	d.count += n
	if d.count > d.lim.MaxObjects || d.count < 0 {
		return fmt.Errorf("%w: more than %d values", ErrLimit, d.lim.MaxObjects)
	}
	return nil
}

func (d *decoder) enter() error {
	d.depth++
	if d.depth > d.lim.MaxDepth {
		return fmt.Errorf("%w: nesting deeper than %d", ErrLimit, d.lim.MaxDepth)
	}
	return nil
}

// text reads the character data of a primitive element up to its end.
func (d *decoder) text(tag string) (string, error) {
	if d.x == nil {
		return d.scanText(tag)
	}
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
func (d *decoder) skip() error {
	if d.x == nil {
		return d.scanSkip()
	}
	if err := d.x.Skip(); err != nil {
		return fmt.Errorf("clixml: %w", unexpectedEOF(err))
	}
	return nil
}

func refID(se *start) (int, bool, error) {
	if !se.hasRef {
		return 0, false, nil
	}
	if se.idParsed {
		return se.id, true, nil
	}
	id, err := strconv.Atoi(se.ref)
	if err != nil || id < 0 {
		return 0, false, fmt.Errorf("clixml: bad RefId %.20q on <%s>", se.ref, se.name)
	}
	return id, true, nil
}

// value decodes the element started by se.
func (d *decoder) value(se *start) (any, error) {
	if err := d.tick(1); err != nil {
		return nil, err
	}
	tag := se.name
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

func (d *decoder) ref(se *start) (any, error) {
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
	r, ok := d.objs.get(id)
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
func (d *decoder) items() ([]any, error) {
	base := len(d.itemStack)
	for {
		var se start
		err := d.nextStart(&se)
		if err == io.EOF {
			list := []any{}
			if len(d.itemStack) > base {
				list = pop(&d.itemStack, base)
			}
			return list, nil
		}
		if err != nil {
			return nil, err
		}
		v, err := d.value(&se)
		if err != nil {
			return nil, err
		}
		d.itemStack = append(d.itemStack, v)
	}
}

// entries decodes the <En> children of a <DCT>.
func (d *decoder) entries() ([]psobject.DictEntry, error) {
	base := len(d.entryStack)
	for {
		var se start
		err := d.nextStart(&se)
		if err == io.EOF {
			return pop(&d.entryStack, base), nil
		}
		if err != nil {
			return nil, err
		}
		if se.name != "En" {
			return nil, fmt.Errorf("clixml: <%.40s> inside <DCT>", se.name)
		}
		if err := d.tick(1); err != nil {
			return nil, err
		}
		var en psobject.DictEntry
		var haveKey bool
		for {
			var ce start
			err := d.nextStart(&ce)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			n := ce.n
			v, err := d.value(&ce)
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
		d.entryStack = append(d.entryStack, en)
	}
}

// object decodes an <Obj>.
func (d *decoder) object(se *start) (any, error) {
	id, hasID, err := refID(se)
	if err != nil {
		return nil, err
	}
	if hasID {
		if _, dup := d.objs.get(id); dup {
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
		// sharedNames: typeNames is the list of an earlier <TN>, to copy
		// before an object or dictionary keeps it.
		sharedNames bool
		ce          start // declared outside the loop, it stays on the stack
	)
	for {
		err := d.nextStart(&ce)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch tag := ce.name; tag {
		case "TN":
			if typeNames != nil {
				return nil, errors.New("clixml: two type name lists in one <Obj>")
			}
			if typeNames, err = d.typeNames(&ce); err != nil {
				return nil, err
			}
		case "TNRef":
			if typeNames != nil {
				return nil, errors.New("clixml: two type name lists in one <Obj>")
			}
			if typeNames, err = d.typeNameRef(&ce); err != nil {
				return nil, err
			}
			sharedNames = true
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
				obj.Props = appendProps(obj.Props, props)
			} else {
				obj.Extended = appendProps(obj.Extended, props)
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
			if base, err = d.value(&ce); err != nil {
				return nil, err
			}
			hasBase = true
		}
	}
	d.depth--

	if sharedNames && (isDict || !isList && !hasBase) {
		typeNames = keepNames(typeNames) // an enum only reads them
	}
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
			v = d.boxEnum(e)
		}
	default:
		obj.TypeNames = typeNames
		o := new(psobject.Object) // only now: obj itself stays on the stack
		*o = obj
		v = o
	}
	if hasID {
		d.objs.put(id, decoded{v: v, weight: d.count - before + 1})
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

func (d *decoder) typeNames(se *start) ([]string, error) {
	id, hasID, err := refID(se)
	if err != nil {
		return nil, err
	}
	base := len(d.nameStack)
	for {
		var ce start
		err := d.nextStart(&ce)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if ce.name != "T" {
			return nil, fmt.Errorf("clixml: <%.40s> inside <TN>", ce.name)
		}
		if err := d.tick(1); err != nil {
			return nil, err
		}
		s, err := d.text("T")
		if err != nil {
			return nil, err
		}
		d.nameStack = append(d.nameStack, decodeString(s))
	}
	names := []string{}
	if len(d.nameStack) > base {
		names = pop(&d.nameStack, base)
	}
	if hasID {
		if _, dup := d.tns.get(id); dup {
			return nil, fmt.Errorf("clixml: duplicate type name RefId %d", id)
		}
		d.tns.put(id, names)
	}
	return names, nil
}

func (d *decoder) typeNameRef(se *start) ([]string, error) {
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
	names, ok := d.tns.get(id)
	if !ok {
		return nil, fmt.Errorf("clixml: <TNRef> to unknown RefId %d", id)
	}
	if err := d.tick(len(names)); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, nil // as keepNames would copy it
	}
	return names, nil // shared: the caller copies it with keepNames if it keeps it
}

// properties decodes the named children of <Props> or <MS>. Member sets
// nested in an <MS> are not properties: the default display property set
// of a PSStandardMembers set is returned as display, others are dropped.
func (d *decoder) properties(tag string) (props []psobject.Property, display []string, err error) {
	if err := d.enter(); err != nil {
		return nil, nil, err
	}
	base := len(d.propStack)
	for {
		var ce start
		err := d.nextStart(&ce)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		n := ce.n
		if n == "" {
			return nil, nil, fmt.Errorf("clixml: <%.40s> without a name in <%s>", ce.name, tag)
		}
		if tag == "MS" && ce.name == "MS" {
			members, _, err := d.properties("MS")
			if err != nil {
				return nil, nil, err
			}
			if decodeString(n) == "PSStandardMembers" {
				display = displayPropertySet(members)
			}
			continue
		}
		v, err := d.value(&ce)
		if err != nil {
			return nil, nil, err
		}
		d.propStack = append(d.propStack, psobject.Property{Name: decodeString(n), Value: v})
	}
	d.depth--
	return pop(&d.propStack, base), display, nil
}

// appendProps is append(list, props...), without a copy when list is
// empty: props is always a new slice.
func appendProps(list, props []psobject.Property) []psobject.Property {
	if list == nil {
		return props
	}
	return append(list, props...)
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

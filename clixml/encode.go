package clixml

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"time"

	"github.com/psgate/psgate/psobject"
)

// DefaultEncodeDepth is the nesting depth beyond which the encoder writes a
// complex value as its display text (<S>), as PowerShell's serializer does
// at its depth limit.
const DefaultEncodeDepth = 32

// Encoder writes the CLIXML data of one PSRP message (or one <Objs>
// document). Object and type-name RefIds count from 0 within an Encoder;
// reusing the same *psobject.Object or *psobject.Dict pointer writes a
// <Ref>. The zero value is ready to use; Reset starts a new message.
type Encoder struct {
	buf     []byte
	nextRef int
	objRefs map[*psobject.Object]int
	dctRefs map[*psobject.Dict]int
	tns     []tnEntry
	// MaxDepth overrides DefaultEncodeDepth when positive.
	MaxDepth int
}

type tnEntry struct {
	names []string
	id    int
}

// Marshal returns the CLIXML of v, as the data of one PSRP message.
func Marshal(v any) ([]byte, error) {
	var e Encoder
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return e.buf, nil
}

// Encode appends v. Several calls write several top-level values that share
// the RefId space, which is what an <Objs> document body needs; a PSRP
// message holds exactly one value.
func (e *Encoder) Encode(v any) error {
	return e.value(v, "", 0)
}

// Bytes returns the data written since the last Reset. It aliases the
// encoder's buffer until the next Encode or Reset.
func (e *Encoder) Bytes() []byte { return e.buf }

// Reset discards the written data and the RefId tables, keeping the buffer.
func (e *Encoder) Reset() {
	e.buf = e.buf[:0]
	e.nextRef = 0
	clear(e.objRefs)
	clear(e.dctRefs)
	e.tns = e.tns[:0]
}

// start writes "<tag" plus the N attribute when name is non-empty.
func (e *Encoder) start(tag, name string) {
	e.buf = append(e.buf, '<')
	e.buf = append(e.buf, tag...)
	if name != "" {
		e.buf = append(e.buf, ` N="`...)
		e.buf = appendEscaped(e.buf, name, true)
		e.buf = append(e.buf, '"')
	}
}

// end writes "</tag>".
func (e *Encoder) end(tag string) {
	e.buf = append(e.buf, '<', '/')
	e.buf = append(e.buf, tag...)
	e.buf = append(e.buf, '>')
}

// raw writes <tag N="name">text</tag> for text that needs no escaping.
func (e *Encoder) raw(tag, name string, text []byte) {
	e.start(tag, name)
	e.buf = append(e.buf, '>')
	e.buf = append(e.buf, text...)
	e.end(tag)
}

// str writes <tag N="name">escaped s</tag>.
func (e *Encoder) str(tag, name, s string) {
	e.start(tag, name)
	e.buf = append(e.buf, '>')
	e.buf = appendEscaped(e.buf, s, false)
	e.end(tag)
}

func (e *Encoder) maxDepth() int {
	if e.MaxDepth > 0 {
		return e.MaxDepth
	}
	return DefaultEncodeDepth
}

// value writes v as an element named name (no N attribute when empty).
func (e *Encoder) value(v any, name string, depth int) error {
	var num [32]byte
	switch x := v.(type) {
	case nil:
		e.start("Nil", name)
		e.buf = append(e.buf, " />"...)
	case string:
		e.str("S", name, x)
	case bool:
		if x {
			e.raw("B", name, []byte("true"))
		} else {
			e.raw("B", name, []byte("false"))
		}
	case int32:
		e.raw("I32", name, strconv.AppendInt(num[:0], int64(x), 10))
	case int64:
		e.raw("I64", name, strconv.AppendInt(num[:0], x, 10))
	case int:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			e.raw("I32", name, strconv.AppendInt(num[:0], int64(x), 10))
		} else {
			e.raw("I64", name, strconv.AppendInt(num[:0], int64(x), 10))
		}
	case uint8:
		e.raw("By", name, strconv.AppendUint(num[:0], uint64(x), 10))
	case int8:
		e.raw("SB", name, strconv.AppendInt(num[:0], int64(x), 10))
	case uint16:
		e.raw("U16", name, strconv.AppendUint(num[:0], uint64(x), 10))
	case int16:
		e.raw("I16", name, strconv.AppendInt(num[:0], int64(x), 10))
	case uint32:
		e.raw("U32", name, strconv.AppendUint(num[:0], uint64(x), 10))
	case uint64:
		e.raw("U64", name, strconv.AppendUint(num[:0], x, 10))
	case uint:
		if x <= math.MaxUint32 {
			e.raw("U32", name, strconv.AppendUint(num[:0], uint64(x), 10))
		} else {
			e.raw("U64", name, strconv.AppendUint(num[:0], uint64(x), 10))
		}
	case float32:
		e.raw("Sg", name, appendFloat(num[:0], float64(x), 32))
	case float64:
		e.raw("Db", name, appendFloat(num[:0], x, 64))
	case psobject.Decimal:
		e.str("D", name, string(x))
	case psobject.Char:
		e.raw("C", name, strconv.AppendUint(num[:0], uint64(x), 10))
	case time.Time:
		text, err := appendDateTime(num[:0], x)
		if err != nil {
			return err
		}
		e.raw("DT", name, text)
	case time.Duration:
		e.raw("TS", name, appendDuration(num[:0], x))
	case []byte:
		e.start("BA", name)
		e.buf = append(e.buf, '>')
		e.buf = base64.StdEncoding.AppendEncode(e.buf, x)
		e.end("BA")
	case psobject.GUID:
		e.str("G", name, string(x))
	case psobject.Version:
		e.str("Version", name, string(x))
	case *url.URL:
		if x == nil {
			return e.value(nil, name, depth)
		}
		e.str("URI", name, x.String())
	case psobject.ScriptBlock:
		e.str("SBK", name, string(x))
	case SecureString:
		e.start("SS", name)
		e.buf = append(e.buf, '>')
		e.buf = base64.StdEncoding.AppendEncode(e.buf, x.Ciphertext)
		e.end("SS")
	case psobject.Enum:
		e.enum(x, name)
	case *psobject.Object:
		if x == nil {
			return e.value(nil, name, depth)
		}
		if depth >= e.maxDepth() {
			e.str("S", name, x.String())
			return nil
		}
		return e.object(x, name, depth)
	case *psobject.Dict:
		if x == nil {
			return e.value(nil, name, depth)
		}
		if depth >= e.maxDepth() {
			e.str("S", name, psobject.Format(x))
			return nil
		}
		return e.dict(x, name, depth)
	case []any:
		return e.list(objectArrayTypes, KindList, x, name, depth)
	case []string:
		if depth >= e.maxDepth() {
			e.str("S", name, psobject.Format(x))
			return nil
		}
		e.objStart(name, stringArrayTypes)
		e.buf = append(e.buf, "<LST>"...)
		for _, s := range x {
			e.str("S", "", s)
		}
		e.buf = append(e.buf, "</LST></Obj>"...)
	case List:
		names := x.TypeNames
		if len(names) == 0 {
			names = objectArrayTypes
		}
		return e.list(names, x.Kind, x.Items, name, depth)
	case *List:
		if x == nil {
			return e.value(nil, name, depth)
		}
		return e.value(*x, name, depth)
	default:
		return fmt.Errorf("clixml: cannot serialize %T", v)
	}
	return nil
}

// appendFloat formats f as .NET's round-trip format does: shortest digits,
// scientific notation outside [1e-5, 1e15), INF, -INF and NaN.
func appendFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "INF"...)
	case math.IsInf(f, -1):
		return append(dst, "-INF"...)
	}
	if a := math.Abs(f); a == 0 || (a >= 1e-5 && a < 1e15) {
		return strconv.AppendFloat(dst, f, 'f', -1, bits)
	}
	return strconv.AppendFloat(dst, f, 'E', -1, bits)
}

// objStart writes <Obj N="name" RefId="n"> and the type names.
func (e *Encoder) objStart(name string, typeNames []string) int {
	id := e.nextRef
	e.nextRef++
	e.start("Obj", name)
	e.buf = append(e.buf, ` RefId="`...)
	e.buf = strconv.AppendInt(e.buf, int64(id), 10)
	e.buf = append(e.buf, `">`...)
	if len(typeNames) > 0 {
		e.typeNames(typeNames)
	}
	return id
}

// typeNames writes <TN RefId="m"><T>…</T></TN>, or <TNRef RefId="m" /> when
// the same list was written earlier in this message.
func (e *Encoder) typeNames(names []string) {
	for _, t := range e.tns {
		if equalNames(t.names, names) {
			e.buf = append(e.buf, `<TNRef RefId="`...)
			e.buf = strconv.AppendInt(e.buf, int64(t.id), 10)
			e.buf = append(e.buf, `" />`...)
			return
		}
	}
	id := len(e.tns)
	e.tns = append(e.tns, tnEntry{names: names, id: id})
	e.buf = append(e.buf, `<TN RefId="`...)
	e.buf = strconv.AppendInt(e.buf, int64(id), 10)
	e.buf = append(e.buf, `">`...)
	for _, n := range names {
		e.buf = append(e.buf, "<T>"...)
		e.buf = appendEscaped(e.buf, n, false)
		e.buf = append(e.buf, "</T>"...)
	}
	e.buf = append(e.buf, "</TN>"...)
}

func equalNames(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ref writes <Ref N="name" RefId="id" />.
func (e *Encoder) ref(name string, id int) {
	e.start("Ref", name)
	e.buf = append(e.buf, ` RefId="`...)
	e.buf = strconv.AppendInt(e.buf, int64(id), 10)
	e.buf = append(e.buf, `" />`...)
}

func (e *Encoder) object(o *psobject.Object, name string, depth int) error {
	if id, ok := e.objRefs[o]; ok {
		e.ref(name, id)
		return nil
	}
	if e.objRefs == nil {
		e.objRefs = make(map[*psobject.Object]int)
	}
	e.objRefs[o] = e.objStart(name, o.TypeNames)
	if o.Text != "" {
		e.str("ToString", "", o.Text)
	}
	if len(o.DisplayProps) > 0 {
		e.standardMembers(o.DisplayProps)
	}
	if err := e.props("Props", o.Props, depth); err != nil {
		return err
	}
	if err := e.props("MS", o.Extended, depth); err != nil {
		return err
	}
	e.buf = append(e.buf, "</Obj>"...)
	return nil
}

// Type names of the DefaultDisplayPropertySet value and of its
// ReferencedPropertyNames, as .NET names them.
var (
	propertySetTypes = []string{
		"System.Management.Automation.PSPropertySet",
		"System.Management.Automation.PSMemberInfo",
		"System.Object",
	}
	stringCollectionTypes = []string{
		"System.Collections.ObjectModel.Collection`1[[System.String, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089]]",
		"System.Object",
	}
)

// standardMembers writes an object's default display property set as an
// instance member set named PSStandardMembers, in an <MS> of its own:
//
//	<MS><MS N="PSStandardMembers">
//	  <Obj N="DefaultDisplayPropertySet" RefId="n">
//	    <TN>PSPropertySet, PSMemberInfo, Object</TN>
//	    <ToString>DefaultDisplayPropertySet {A, B}</ToString>
//	    <Props>
//	      <S N="Name">DefaultDisplayPropertySet</S>
//	      <Obj N="ReferencedPropertyNames"><TN>Collection`1[String]</TN><LST><S>A</S><S>B</S></LST></Obj>
//	    </Props>
//	  </Obj>
//	</MS></MS>
//
// The enclosing element is the shape PowerShell's serializer gives an
// instance member set (PowerShell/PowerShell
// src/System.Management.Automation/engine/serialization.cs,
// InternalSerializer.WriteMemberSet: an <MS N="name"> element nested in
// the object's <MS>; InternalDeserializer.ReadMemberSet reads it back into
// a PSMemberSet of note properties). PowerShell itself serializes only the
// properties and member sets of a member set, not property sets, so the
// set travels here as a note property holding the PSPropertySet as
// PowerShell serializes such a value (its Name and ReferencedPropertyNames
// properties). A Windows client reads it as a note without error but its
// formatter only honours a real PSPropertySet, so it is psgate's connector
// that uses it. pypsrp keeps the member set as an extended property
// "PSStandardMembers" (its raw XML).
//
// PowerShell writes <Props> before <MS>; this <MS> comes before <Props>
// because go-psrpcore keeps only the last <Props> or <MS> of an object,
// and would otherwise lose the adapted properties. Every deserializer
// (PowerShell's, pypsrp's, this package's) reads the elements of an <Obj>
// in any order and merges several <MS>.
func (e *Encoder) standardMembers(names []string) {
	e.buf = append(e.buf, `<MS><MS N="PSStandardMembers">`...)
	e.objStart("DefaultDisplayPropertySet", propertySetTypes)
	e.buf = append(e.buf, "<ToString>DefaultDisplayPropertySet {"...)
	for i, n := range names {
		if i > 0 {
			e.buf = append(e.buf, ", "...)
		}
		e.buf = appendEscaped(e.buf, n, false)
	}
	e.buf = append(e.buf, "}</ToString><Props>"...)
	e.str("S", "Name", "DefaultDisplayPropertySet")
	e.objStart("ReferencedPropertyNames", stringCollectionTypes)
	e.buf = append(e.buf, "<LST>"...)
	for _, n := range names {
		e.str("S", "", n)
	}
	e.buf = append(e.buf, "</LST></Obj></Props></Obj></MS></MS>"...)
}

func (e *Encoder) props(tag string, props []psobject.Property, depth int) error {
	if len(props) == 0 {
		return nil
	}
	e.buf = append(e.buf, '<')
	e.buf = append(e.buf, tag...)
	e.buf = append(e.buf, '>')
	for _, p := range props {
		if p.Name == "" {
			return fmt.Errorf("clixml: property without a name")
		}
		if err := e.value(p.Value, p.Name, depth+1); err != nil {
			return err
		}
	}
	e.end(tag)
	return nil
}

func (e *Encoder) dict(d *psobject.Dict, name string, depth int) error {
	if id, ok := e.dctRefs[d]; ok {
		e.ref(name, id)
		return nil
	}
	if e.dctRefs == nil {
		e.dctRefs = make(map[*psobject.Dict]int)
	}
	names := d.TypeNames
	if len(names) == 0 {
		names = hashtableTypes
	}
	e.dctRefs[d] = e.objStart(name, names)
	if len(d.Entries) == 0 {
		e.buf = append(e.buf, "<DCT /></Obj>"...)
		return nil
	}
	e.buf = append(e.buf, "<DCT>"...)
	for _, en := range d.Entries {
		e.buf = append(e.buf, "<En>"...)
		if err := e.value(en.Key, "Key", depth+1); err != nil {
			return err
		}
		if err := e.value(en.Value, "Value", depth+1); err != nil {
			return err
		}
		e.buf = append(e.buf, "</En>"...)
	}
	e.buf = append(e.buf, "</DCT></Obj>"...)
	return nil
}

var listTags = [...]string{KindList: "LST", KindEnumerable: "IE", KindQueue: "QUE", KindStack: "STK"}

func (e *Encoder) list(typeNames []string, kind ListKind, items []any, name string, depth int) error {
	if depth >= e.maxDepth() {
		e.str("S", name, psobject.Format(items))
		return nil
	}
	if int(kind) >= len(listTags) {
		return fmt.Errorf("clixml: unknown list kind %d", kind)
	}
	tag := listTags[kind]
	e.objStart(name, typeNames)
	if len(items) == 0 {
		e.buf = append(e.buf, '<')
		e.buf = append(e.buf, tag...)
		e.buf = append(e.buf, " /></Obj>"...)
		return nil
	}
	e.buf = append(e.buf, '<')
	e.buf = append(e.buf, tag...)
	e.buf = append(e.buf, '>')
	for _, it := range items {
		if err := e.value(it, "", depth+1); err != nil {
			return err
		}
	}
	e.end(tag)
	e.buf = append(e.buf, "</Obj>"...)
	return nil
}

// enum writes a .NET enum value the way PowerShell does: an Obj with the
// enum's type names, its member name as ToString and the value as <I32>.
func (e *Encoder) enum(v psobject.Enum, name string) {
	if v.Type == "" {
		var num [12]byte
		e.raw("I32", name, strconv.AppendInt(num[:0], int64(v.Value), 10))
		return
	}
	e.objStart(name, []string{v.Type, "System.Enum", "System.ValueType", "System.Object"})
	e.str("ToString", "", v.Name)
	e.buf = append(e.buf, "<I32>"...)
	e.buf = strconv.AppendInt(e.buf, int64(v.Value), 10)
	e.buf = append(e.buf, "</I32></Obj>"...)
}

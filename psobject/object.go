package psobject

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Object is a PowerShell object.
//
// Property values are one of: nil, string, bool, int32, int64, uint8,
// int16, uint16, uint32, uint64, float32, float64, Decimal, rune (a Char,
// use Char), time.Time, time.Duration, []byte, GUID, Version, *url.URL,
// Enum, *Object, []any (a list) and *Dict.
type Object struct {
	// TypeNames lists the type hierarchy, most derived first, for example
	// {"Psgate.OnlineUser", "Psgate.DirectoryObject", "System.Object"}.
	TypeNames []string
	// Props are adapted (.NET) properties, in display order.
	Props []Property
	// Extended are extended (note) properties, as a PSCustomObject has.
	Extended []Property
	// Text overrides what ToString returns when non-empty.
	Text string
	// DisplayProps is the default display property set: the properties
	// the text formatter shows when none are chosen. Empty means all.
	DisplayProps []string
}

// Property is a named value.
type Property struct {
	Name  string
	Value any
}

// Char is a UTF-16 code unit value, serialized as <C>.
type Char uint16

// Decimal is a decimal number kept as its canonical text.
type Decimal string

// GUID is a GUID in canonical text form (lower-case, hyphenated).
type GUID string

// Version is a System.Version value such as "2.3" or "1.1.0.1".
type Version string

// Enum is a value of a .NET enum type.
type Enum struct {
	Type  string // e.g. "System.Management.Automation.ProgressRecordType"
	Name  string // the member name, used for display
	Value int32
}

// Dict is an ordered dictionary (a Hashtable).
type Dict struct {
	TypeNames []string
	Entries   []DictEntry
}

// DictEntry is one key/value pair of a Dict.
type DictEntry struct {
	Key, Value any
}

// New returns an object with the given type names and properties.
func New(typeNames []string, props ...Property) *Object {
	return &Object{TypeNames: typeNames, Props: props}
}

// NewCustom returns a PSCustomObject whose properties are extended ones.
func NewCustom(props ...Property) *Object {
	return &Object{
		TypeNames: []string{"System.Management.Automation.PSCustomObject", "System.Object"},
		Extended:  props,
	}
}

// P is shorthand for a Property.
func P(name string, value any) Property { return Property{Name: name, Value: value} }

// TypeName returns the most derived type name, or "System.Object".
func (o *Object) TypeName() string {
	if len(o.TypeNames) == 0 {
		return "System.Object"
	}
	return o.TypeNames[0]
}

// Properties returns adapted then extended properties.
func (o *Object) Properties() []Property {
	if len(o.Extended) == 0 {
		return o.Props
	}
	if len(o.Props) == 0 {
		return o.Extended
	}
	all := make([]Property, 0, len(o.Props)+len(o.Extended))
	all = append(all, o.Props...)
	return append(all, o.Extended...)
}

// Get returns the value of the named property, matching the name
// case-insensitively as PowerShell does.
func (o *Object) Get(name string) (any, bool) {
	for _, p := range o.Props {
		if strings.EqualFold(p.Name, name) {
			return p.Value, true
		}
	}
	for _, p := range o.Extended {
		if strings.EqualFold(p.Name, name) {
			return p.Value, true
		}
	}
	return nil, false
}

// PropertyName returns the declared spelling of the named property.
func (o *Object) PropertyName(name string) (string, bool) {
	for _, p := range o.Properties() {
		if strings.EqualFold(p.Name, name) {
			return p.Name, true
		}
	}
	return "", false
}

// String returns the object's ToString text: Text when set, else the
// type name, as .NET's default ToString does.
func (o *Object) String() string {
	if o.Text != "" {
		return o.Text
	}
	return o.TypeName()
}

// IsA reports whether the object has typeName among its type names.
func (o *Object) IsA(typeName string) bool {
	for _, t := range o.TypeNames {
		if strings.EqualFold(t, typeName) {
			return true
		}
	}
	return false
}

// Format renders a value as PowerShell's default formatter shows it in a
// table cell or list entry.
func Format(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case uint8:
		return strconv.FormatUint(uint64(x), 10)
	case int16:
		return strconv.FormatInt(int64(x), 10)
	case uint16:
		return strconv.FormatUint(uint64(x), 10)
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float32:
		return strconv.FormatFloat(float64(x), 'G', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'G', -1, 64)
	case Decimal:
		return string(x)
	case Char:
		return string(rune(x))
	case time.Time:
		// PowerShell's en-US default: 11/25/2026 10:28:23 PM
		return x.Format("1/2/2006 3:04:05 PM")
	case time.Duration:
		return formatTimeSpan(x)
	case []byte:
		parts := make([]string, len(x))
		for i, b := range x {
			parts[i] = strconv.Itoa(int(b))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case GUID:
		return string(x)
	case Version:
		return string(x)
	case Enum:
		return x.Name
	case *Object:
		if x == nil {
			return ""
		}
		return x.String()
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = Format(e)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case *Dict:
		return "System.Collections.Hashtable"
	case fmt.Stringer:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}

// formatTimeSpan renders a duration as .NET TimeSpan.ToString("c"):
// [-][d.]hh:mm:ss[.fffffff].
func formatTimeSpan(d time.Duration) string {
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	d -= m * time.Minute
	s := d / time.Second
	d -= s * time.Second
	if days > 0 {
		fmt.Fprintf(&b, "%d.", days)
	}
	fmt.Fprintf(&b, "%02d:%02d:%02d", h, m, s)
	if ticks := d / 100; ticks > 0 {
		fmt.Fprintf(&b, ".%07d", ticks)
	}
	return b.String()
}

package psrp

import (
	"fmt"

	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psobject"
)

// .NET type names of collections in server messages, as real servers
// write them.
const (
	typeListOfString = "System.Collections.Generic.List`1[[System.String, mscorlib, Version=4.0.0.0, " +
		"Culture=neutral, PublicKeyToken=b77a5c561934e089]]"
	typeArrayList = "System.Collections.ArrayList"
)

// fields reads the properties of a message's root object (or of a nested
// object), reporting errors with the message type and property name.
type fields struct {
	t MessageType
	o *psobject.Object
}

func badf(t MessageType, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrBadMessage, t, fmt.Sprintf(format, args...))
}

// decodeErr wraps a clixml error (which may wrap clixml.ErrLimit).
func decodeErr(t MessageType, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrBadMessage, t, err)
}

// parseRoot decodes data and checks that it is an object.
func parseRoot(t MessageType, data []byte, lim clixml.Limits) (fields, error) {
	v, err := clixml.Unmarshal(data, lim)
	if err != nil {
		return fields{}, decodeErr(t, err)
	}
	o, ok := v.(*psobject.Object)
	if !ok {
		return fields{}, badf(t, "data is %s, not an object", kind(v))
	}
	return fields{t: t, o: o}, nil
}

// kind names the CLIXML shape of a decoded value for error messages.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "Nil"
	case *psobject.Object:
		return "an object"
	case []any:
		return "a list"
	case *psobject.Dict:
		return "a dictionary"
	case string:
		return "a string"
	}
	return fmt.Sprintf("%T", v)
}

// get returns a property; PowerShell matches member names case-insensitively
// (pypsrp sends "CI" where PowerShell sends "ci").
func (f fields) get(name string) (any, bool) { return f.o.Get(name) }

// sub returns a nested object property.
func (f fields) sub(name string) (fields, error) {
	v, ok := f.get(name)
	if !ok {
		return fields{}, badf(f.t, "missing property %s", name)
	}
	o, ok := v.(*psobject.Object)
	if !ok {
		return fields{}, badf(f.t, "property %s is %s, not an object", name, kind(v))
	}
	return fields{t: f.t, o: o}, nil
}

func (f fields) boolean(name string) (bool, error) {
	v, ok := f.get(name)
	if !ok {
		return false, badf(f.t, "missing property %s", name)
	}
	b, ok := v.(bool)
	if !ok {
		return false, badf(f.t, "property %s is %s, not a boolean", name, kind(v))
	}
	return b, nil
}

// optBool returns a boolean that may be absent or Nil (false).
func (f fields) optBool(name string) (bool, error) {
	v, ok := f.get(name)
	if !ok || v == nil {
		return false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, badf(f.t, "property %s is %s, not a boolean", name, kind(v))
	}
	return b, nil
}

// integer returns an integer property, accepting any CLIXML integer type
// and enums (PowerShell sends enums as objects, pypsrp as plain <I32>).
func (f fields) integer(name string) (int64, error) {
	v, ok := f.get(name)
	if !ok {
		return 0, badf(f.t, "missing property %s", name)
	}
	n, ok := asInt(v)
	if !ok {
		return 0, badf(f.t, "property %s is %s, not an integer", name, kind(v))
	}
	return n, nil
}

// optInteger is integer for a property that may be absent or Nil (zero).
func (f fields) optInteger(name string) (int64, error) {
	if v, ok := f.get(name); !ok || v == nil {
		return 0, nil
	}
	return f.integer(name)
}

func (f fields) int32(name string) (int32, error) {
	n, err := f.integer(name)
	if err != nil {
		return 0, err
	}
	if n < -1<<31 || n > 1<<31-1 {
		return 0, badf(f.t, "property %s value %d out of range", name, n)
	}
	return int32(n), nil
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		if x > 1<<63-1 {
			return 0, false
		}
		return int64(x), true
	case psobject.Enum:
		return int64(x.Value), true
	}
	return 0, false
}

// str returns a string property; Nil reads as "".
func (f fields) str(name string) (string, error) {
	v, ok := f.get(name)
	if !ok {
		return "", badf(f.t, "missing property %s", name)
	}
	if v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", badf(f.t, "property %s is %s, not a string", name, kind(v))
	}
	return s, nil
}

// optStr is str for a property that may be absent.
func (f fields) optStr(name string) (string, error) {
	if _, ok := f.get(name); !ok {
		return "", nil
	}
	return f.str(name)
}

func (f fields) version(name string) (psobject.Version, error) {
	v, ok := f.get(name)
	if !ok {
		return "", badf(f.t, "missing property %s", name)
	}
	switch x := v.(type) {
	case psobject.Version:
		return x, nil
	case string: // lenient: a version sent as <S>
		return psobject.Version(x), nil
	}
	return "", badf(f.t, "property %s is %s, not a version", name, kind(v))
}

// list returns a list property; present is false for Nil or absent.
func (f fields) list(name string) (items []any, present bool, err error) {
	v, ok := f.get(name)
	if !ok || v == nil {
		return nil, false, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, false, badf(f.t, "property %s is %s, not a list", name, kind(v))
	}
	return l, true, nil
}

// strings returns a list of strings (or a single string) property.
func (f fields) strings(name string) (s []string, present bool, err error) {
	v, ok := f.get(name)
	if !ok || v == nil {
		return nil, false, nil
	}
	if one, ok := v.(string); ok {
		return []string{one}, true, nil
	}
	items, ok := v.([]any)
	if !ok {
		return nil, false, badf(f.t, "property %s is %s, not a list of strings", name, kind(v))
	}
	s = make([]string, 0, len(items))
	for _, it := range items {
		str, ok := it.(string)
		if !ok {
			return nil, false, badf(f.t, "property %s holds %s, not a string", name, kind(it))
		}
		s = append(s, str)
	}
	return s, true, nil
}

// marshal builds a message whose data is the CLIXML of v.
func marshal(t MessageType, rpid, pid GUID, v any) (Message, error) {
	data, err := clixml.Marshal(v)
	if err != nil {
		return Message{}, fmt.Errorf("psrp: %s: %w", t, err)
	}
	return Message{Destination: DestinationClient, Type: t, RPID: rpid, PID: pid, Data: data}, nil
}

// mustMarshal is marshal for payloads built only from values the encoder
// always accepts.
func mustMarshal(t MessageType, rpid, pid GUID, v any) Message {
	m, err := marshal(t, rpid, pid, v)
	if err != nil {
		panic(err) // a bug in this package, never client input
	}
	return m
}

// root returns a message root object: no type names, extended properties.
func root(props ...psobject.Property) *psobject.Object {
	return &psobject.Object{Extended: props}
}

func p(name string, v any) psobject.Property { return psobject.Property{Name: name, Value: v} }

// enum builds an enum value of a .NET type.
func enum(typeName, name string, v int32) psobject.Enum {
	return psobject.Enum{Type: typeName, Name: name, Value: v}
}

// HasSecureString reports whether v contains a clixml.SecureString
// anywhere. The gateway refuses such input with psgate.CodeSecureString
// until a session key has been exchanged.
func HasSecureString(v any) bool {
	return hasSecure(v, 0)
}

func hasSecure(v any, depth int) bool {
	if depth > 256 {
		return false
	}
	switch x := v.(type) {
	case clixml.SecureString:
		return true
	case *psobject.Object:
		if x == nil {
			return false
		}
		for _, p := range x.Props {
			if hasSecure(p.Value, depth+1) {
				return true
			}
		}
		for _, p := range x.Extended {
			if hasSecure(p.Value, depth+1) {
				return true
			}
		}
	case *psobject.Dict:
		if x == nil {
			return false
		}
		for _, en := range x.Entries {
			if hasSecure(en.Key, depth+1) || hasSecure(en.Value, depth+1) {
				return true
			}
		}
	case []any:
		for _, it := range x {
			if hasSecure(it, depth+1) {
				return true
			}
		}
	}
	return false
}

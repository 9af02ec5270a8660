package psgate

import (
	"errors"
	"sort"
	"strings"
)

// Code is a stable, machine-readable error code of the form "area.reason",
// for example "admission.user-quota-exceeded". Codes travel in WS-Man fault
// details and CLI output; clients match on them, never on message text.
// A published code is never renamed or removed.
type Code string

// Area is the part of the code before the dot.
func (c Code) Area() string {
	area, _, _ := strings.Cut(string(c), ".")
	return area
}

// Error is a user-facing failure: a catalog code, the message rendered from
// the catalog template, and the resolution. Err is the internal cause; it is
// logged, never shown to a user.
type Error struct {
	Code       Code
	Message    string
	Resolution string
	// Data carries machine-readable details (a quota's limit and count, a
	// retry time) that travel with the error, for example in a WS-Man fault.
	Data []KV
	Err  error
}

// KV is one machine-readable detail of an Error.
type KV struct {
	Key   string
	Value string
}

func (e *Error) Error() string {
	if e.Err != nil {
		return string(e.Code) + ": " + e.Message + ": " + e.Err.Error()
	}
	return string(e.Code) + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Entry returns the catalog entry of the error's code.
func (e *Error) Entry() Entry { return Lookup(e.Code) }

// With returns a copy of e with a machine-readable detail added.
func (e *Error) With(key, value string) *Error {
	c := *e
	c.Data = append(append([]KV(nil), e.Data...), KV{key, value})
	return &c
}

// Value returns the detail stored under key.
func (e *Error) Value(key string) (string, bool) {
	for _, kv := range e.Data {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return "", false
}

// Args fills the {placeholders} of a catalog message template.
type Args map[string]string

// E builds the user-facing error for code, filling the message template and
// the resolution with args. An unknown code panics: codes are compile-time
// constants, and a typo must fail the first test that reaches it.
func E(code Code, args Args) *Error {
	entry, ok := catalog[code]
	if !ok {
		panic("psgate: error code not in catalog: " + string(code))
	}
	return &Error{
		Code:       code,
		Message:    expand(entry.Message, args),
		Resolution: expand(entry.Resolution, args),
	}
}

// Wrap is E with an internal cause attached.
func Wrap(code Code, args Args, err error) *Error {
	e := E(code, args)
	e.Err = err
	return e
}

// AsError returns the *Error in err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// CodeOf returns the catalog code of err, or CodeInternal when err carries
// none.
func CodeOf(err error) Code {
	if e, ok := AsError(err); ok {
		return e.Code
	}
	return CodeInternal
}

func expand(tmpl string, args Args) string {
	if !strings.Contains(tmpl, "{") {
		return tmpl
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		name := tmpl[i+1 : i+j]
		b.WriteString(tmpl[:i])
		if v, ok := args[name]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(tmpl[i : i+j+1])
		}
		tmpl = tmpl[i+j+1:]
	}
}

// Codes lists every catalog code in sorted order.
func Codes() []Code {
	codes := make([]Code, 0, len(catalog))
	for c := range catalog {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool { return codes[i] < codes[j] })
	return codes
}

// Lookup returns the catalog entry for code. Unknown codes return the entry
// of CodeInternal.
func Lookup(code Code) Entry {
	if e, ok := catalog[code]; ok {
		return e
	}
	return catalog[CodeInternal]
}

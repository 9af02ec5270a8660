package format

import (
	"strings"

	"github.com/psgate/psgate/psobject"
)

// text renders a property value as PowerShell's formatter does: with
// psobject.Format, except that collections show at most limit items
// ({a, b, c, d...}) when limit is positive.
func text(v any, limit int) string {
	switch x := v.(type) {
	case []any:
		var b strings.Builder
		b.WriteByte('{')
		for i, e := range x {
			if limit > 0 && i == limit {
				b.WriteString(ellipsis)
				break
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(text(e, limit))
		}
		b.WriteByte('}')
		return b.String()
	case []byte:
		if limit > 0 && len(x) > limit {
			return strings.TrimSuffix(psobject.Format(x[:limit]), "}") + ellipsis + "}"
		}
	}
	return psobject.Format(v)
}

// rightAligned reports whether PowerShell right-aligns a column whose first
// value is v: numbers, booleans, characters and enums are; strings, dates,
// time spans and everything else are not.
func rightAligned(v any) bool {
	switch v.(type) {
	case int, int16, int32, int64, uint8, uint16, uint32, uint64,
		float32, float64, bool, psobject.Char, psobject.Decimal, psobject.Enum:
		return true
	}
	return false
}

// scalar reports whether v is written on a line of its own rather than as
// a table row or list entry.
func scalar(v any) bool {
	switch x := v.(type) {
	case *psobject.Object:
		return len(x.Props) == 0 && len(x.Extended) == 0
	case *psobject.Dict, []any, []byte:
		return false
	}
	return true
}

// record is one object as the formatter sees it: a type name that decides
// when a new table or list starts, and properties.
type record struct {
	typeName string
	obj      *psobject.Object
	// dictEntry marks a hashtable entry, shown with a 30-cell Name column
	// as PowerShell's view for DictionaryEntry does.
	dictEntry bool
	// view is PowerShell's table view for the object's type, if it has
	// one; typeName is then the view's name, so that all its types share
	// one table.
	view *tableView
}

const dictEntryType = "System.Collections.DictionaryEntry"

// records expands v into the records it is shown as: an object is one
// record, a hashtable one record per entry.
func records(v any, limit int) []record {
	switch x := v.(type) {
	case *psobject.Object:
		if v := viewFor(x); v != nil {
			return []record{{typeName: "view:" + v.name, obj: x, view: v}}
		}
		return []record{{typeName: x.TypeName(), obj: x}}
	case *psobject.Dict:
		out := make([]record, 0, len(x.Entries))
		for _, e := range x.Entries {
			o := psobject.New([]string{dictEntryType, "System.ValueType", "System.Object"},
				psobject.P("Name", text(e.Key, limit)), psobject.P("Value", e.Value))
			out = append(out, record{typeName: dictEntryType, obj: o, dictEntry: true})
		}
		return out
	}
	return nil
}

// defaultProps returns the properties shown for o when none are asked for:
// its default display property set, or all its properties. all reports
// that the object has no display set.
func defaultProps(o *psobject.Object) (names []string, all bool) {
	if len(o.DisplayProps) > 0 {
		names = make([]string, 0, len(o.DisplayProps))
		for _, p := range o.DisplayProps {
			if n, ok := o.PropertyName(p); ok {
				names = append(names, n)
			}
		}
		if len(names) > 0 {
			return names, false
		}
	}
	props := o.Properties()
	names = make([]string, len(props))
	for i, p := range props {
		names[i] = p.Name
	}
	return names, true
}

// resolveProps expands the requested property names against o: wildcard
// patterns (* and ?) become the matching property names in the object's
// order, other names take the object's spelling. A name the object does
// not have stays as given (its values show empty). Duplicates are dropped.
func resolveProps(o *psobject.Object, patterns []string) []string {
	var out []string
	seen := make(map[string]bool)
	add := func(n string) {
		k := strings.ToLower(n)
		if !seen[k] {
			seen[k] = true
			out = append(out, n)
		}
	}
	for _, p := range patterns {
		if strings.ContainsAny(p, "*?") {
			for _, prop := range o.Properties() {
				if wildMatch(strings.ToLower(p), strings.ToLower(prop.Name)) {
					add(prop.Name)
				}
			}
			continue
		}
		if n, ok := o.PropertyName(p); ok {
			add(n)
		} else {
			add(p)
		}
	}
	return out
}

// wildMatch matches s against a pattern of literal characters, * (any run)
// and ? (one character).
func wildMatch(pattern, s string) bool {
	p := []rune(pattern)
	r := []rune(s)
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(r) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == r[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// value returns the named property of o, or nil.
func value(o *psobject.Object, name string) any {
	v, _ := o.Get(name)
	return v
}

package module

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/psobject"
)

// emit writes the objects of one answer and returns the next page's link
// or token ("" when there is none).
func (cl *client) emit(inv *engine.Invocation, c *Cmdlet, res *response) (string, error) {
	if len(bytes.TrimSpace(res.body)) == 0 {
		if c.Paging != nil {
			return "", fmt.Errorf("a paged answer is empty")
		}
		return "", nil
	}
	root, err := parseTree(res.body)
	if err != nil {
		return "", fmt.Errorf("the answer is not JSON (%v)", err)
	}
	items := root
	if c.Request.Result != "" {
		if root.kind != kindObject {
			return "", fmt.Errorf("the answer is %s, not an object with the field %q", root.kind, c.Request.Result)
		}
		var ok bool
		if items, ok = lookup(root, c.Request.Result); !ok {
			// An answer without the result field is one object, as
			// GET /widgets/{Id} answers where GET /widgets pages.
			inv.Write(toOutput(root, c.OutputType, cl.typeDef(c)))
			return "", nil
		}
	}
	td := cl.typeDef(c)
	switch items.kind {
	case kindNull:
	case kindArray:
		for _, e := range items.elems {
			inv.Write(toOutput(e, c.OutputType, td))
		}
	default:
		inv.Write(toOutput(items, c.OutputType, td))
	}
	if c.Paging == nil {
		return "", nil
	}
	field := c.Paging.NextLink
	if field == "" {
		field = c.Paging.Token
	}
	n, ok := lookup(root, field)
	if !ok || n.kind == kindNull {
		return "", nil
	}
	if n.kind != kindString {
		return "", fmt.Errorf("the paging field %q is %s, not a string", field, n.kind)
	}
	return n.text, nil
}

// typeDef returns the declared output type of a cmdlet, or nil.
func (cl *client) typeDef(c *Cmdlet) *TypeDef {
	if cl.types == nil {
		return nil
	}
	return cl.types[c.OutputType]
}

// lookup follows a dotted field path through objects.
func lookup(n *node, path string) (*node, bool) {
	for _, k := range strings.Split(path, ".") {
		if n.kind != kindObject {
			return nil, false
		}
		var ok bool
		if n, ok = n.member(k); !ok {
			return nil, false
		}
	}
	return n, true
}

// toOutput converts one result: an object becomes a psobject.Object of
// the declared type with its display properties; anything else its
// PowerShell value.
func toOutput(n *node, typeName string, td *TypeDef) any {
	if n.kind != kindObject {
		return toValue(n)
	}
	names := []string{"System.Management.Automation.PSCustomObject", "System.Object"}
	if typeName != "" {
		names = []string{typeName, "System.Object"}
	}
	o := &psobject.Object{TypeNames: names, Props: make([]psobject.Property, 0, len(n.keys))}
	for i, k := range n.keys {
		v := n.vals[i]
		var val any
		if td != nil {
			if pt, ok := td.Properties[k]; ok {
				val = convert(v, pt)
				o.Props = append(o.Props, psobject.P(k, val))
				continue
			}
		}
		val = toValue(v)
		o.Props = append(o.Props, psobject.P(k, val))
	}
	if td != nil {
		o.DisplayProps = td.DisplayProperties
		if td.ToString != "" {
			if v, ok := o.Get(td.ToString); ok && v != nil {
				o.Text = psobject.Format(v)
			}
		}
	}
	return o
}

// toValue converts JSON as ConvertFrom-Json does: whole numbers to Int32
// or Int64, others to Double, objects to PSCustomObject, arrays to
// Object[].
func toValue(n *node) any {
	switch n.kind {
	case kindNull:
		return nil
	case kindBool:
		return n.b
	case kindString:
		return n.text
	case kindNumber:
		return number(n.text)
	case kindArray:
		out := make([]any, len(n.elems))
		for i, e := range n.elems {
			out[i] = toValue(e)
		}
		return out
	}
	props := make([]psobject.Property, len(n.keys))
	for i, k := range n.keys {
		props[i] = psobject.P(k, toValue(n.vals[i]))
	}
	return psobject.NewCustom(props...)
}

func number(s string) any {
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			if i >= math.MinInt32 && i <= math.MaxInt32 {
				return int32(i)
			}
			return i
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s // out of range: keep the literal
	}
	return f
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// convert applies a declared property type; a value that does not
// convert keeps its JSON type.
func convert(n *node, pt PropType) any {
	v := toValue(n)
	switch pt {
	case PropString:
		if n.kind == kindNumber || n.kind == kindBool {
			return psobject.Format(v)
		}
	case PropInt, PropLong, PropDouble:
		var f float64
		switch n.kind {
		case kindNumber:
			f, _ = strconv.ParseFloat(n.text, 64)
		case kindString:
			var err error
			if f, err = strconv.ParseFloat(strings.TrimSpace(n.text), 64); err != nil {
				return v
			}
		default:
			return v
		}
		switch {
		case pt == PropDouble:
			return f
		case pt == PropInt && f == math.Trunc(f) && f >= math.MinInt32 && f <= math.MaxInt32:
			return int32(f)
		case pt == PropLong && f == math.Trunc(f) && math.Abs(f) < 1<<63:
			if i, err := strconv.ParseInt(n.text, 10, 64); err == nil {
				return i
			}
			return int64(f)
		}
	case PropBool:
		if n.kind == kindString {
			if b, err := strconv.ParseBool(n.text); err == nil {
				return b
			}
		}
	case PropDateTime:
		if n.kind == kindString {
			for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
				if t, err := time.Parse(layout, n.text); err == nil {
					return t
				}
			}
		}
	case PropGUID:
		if n.kind == kindString && guidRE.MatchString(n.text) {
			return psobject.GUID(strings.ToLower(n.text))
		}
	}
	return v
}

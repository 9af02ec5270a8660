package builtin

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/psobject"
)

func selectObjectCmd() *engine.Command {
	nonNegative := &engine.Range{Min: 0, Max: math.MaxInt32}
	return &engine.Command{
		Name:     "Select-Object",
		Aliases:  []string{"select"},
		Synopsis: "Selects objects or object properties.",
		Description: "Select-Object selects properties of objects (wildcards allowed), expands one property's value, " +
			"or selects objects by position: the first or last N, skipping N, or unique ones. " +
			"With -Property it writes new objects that hold only the selected properties.",
		StreamInput: true,
		Parameters: []engine.Parameter{
			inputObjectParam("The objects to select from; usually piped in."),
			{Name: "Property", Type: engine.TypeObjectArray, Position: 0, Help: "The properties to keep, in order. Wildcards are allowed."},
			{Name: "ExcludeProperty", Type: engine.TypeStringArray, Position: engine.NotPositional, Help: "Properties to leave out. Wildcards are allowed."},
			{Name: "ExpandProperty", Type: engine.TypeString, Position: engine.NotPositional, Help: "A property whose value is written instead of the object; collections are enumerated."},
			{Name: "Unique", Type: engine.TypeSwitch, Position: engine.NotPositional, Help: "Writes only the first of identical objects."},
			{Name: "First", Type: engine.TypeInt, Position: engine.NotPositional, ValidateRange: nonNegative, Help: "How many objects to select from the start."},
			{Name: "Last", Type: engine.TypeInt, Position: engine.NotPositional, ValidateRange: nonNegative, Help: "How many objects to select from the end."},
			{Name: "Skip", Type: engine.TypeInt, Position: engine.NotPositional, ValidateRange: nonNegative, Help: "How many objects to skip first."},
		},
		Examples: []engine.Example{
			{Code: "Get-CsOnlineUser | Select-Object DisplayName, Department", Remarks: "Shows two properties of every user."},
			{Code: "Get-CsOnlineUser | Sort-Object DisplayName | Select-Object -First 5", Remarks: "Shows the first five users by name."},
			{Code: "Get-CsOnlineUser alice@contoso.com | Select-Object -ExpandProperty Roles", Remarks: "Lists one user's roles, one per line."},
		},
		Run: runSelectObject,
	}
}

func runSelectObject(ctx context.Context, inv *engine.Invocation) error {
	props := stringsParam(inv, "Property")
	exclude := inv.Strings("ExcludeProperty")
	expand := inv.String("ExpandProperty")
	first, hasFirst := inv.Int("First")
	last, hasLast := inv.Int("Last")
	skip, _ := inv.Int("Skip")
	unique := inv.Switch("Unique")

	var excludeWild []*engine.Wildcard
	for _, p := range exclude {
		w, err := engine.CompileWildcard(p, false)
		if err != nil {
			return err
		}
		excludeWild = append(excludeWild, w)
	}
	shape := len(props) > 0 || len(excludeWild) > 0

	// project turns an input object into what Select-Object writes.
	project := func(obj any) ([]any, error) {
		if expand != "" {
			return expandValue(inv, obj, expand, props, excludeWild)
		}
		if !shape {
			return []any{obj}, nil
		}
		sel, err := selectProperties(obj, props, excludeWild)
		if err != nil {
			return nil, err
		}
		return []any{sel}, nil
	}

	seen := map[string]bool{}
	var tail []any // ring for -Last
	written := int32(0)
	index := int32(0)
	emit := func(v any) bool {
		if unique {
			k := uniqueKey(v)
			if seen[k] {
				return true
			}
			seen[k] = true
		}
		if hasLast {
			if last == 0 {
				return true
			}
			tail = append(tail, v)
			if int32(len(tail)) > last {
				tail = tail[1:]
			}
			return true
		}
		inv.Write(v)
		written++
		return !hasFirst || written < first
	}
	if hasFirst && first == 0 && !hasLast {
		return nil
	}
	err := eachInput(ctx, inv, func(obj any) (bool, error) {
		index++
		if index <= skip {
			return true, nil
		}
		out, err := project(obj)
		if err != nil {
			return true, err
		}
		for _, v := range out {
			if !emit(v) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	// -Last with -First: the first N of the last M, as PowerShell does.
	for i, v := range tail {
		if hasFirst && int32(i) >= first {
			break
		}
		inv.Write(v)
	}
	return nil
}

// selectProperties builds the Selected.<type> object.
func selectProperties(obj any, props []string, exclude []*engine.Wildcard) (*psobject.Object, error) {
	names := props
	if len(names) == 0 {
		names = []string{"*"}
	}
	names, err := expandProperties(obj, names)
	if err != nil {
		return nil, err
	}
	sel := &psobject.Object{TypeNames: []string{
		"Selected." + typeNameOf(obj),
		"System.Management.Automation.PSCustomObject",
		"System.Object",
	}}
	for _, n := range names {
		if excluded(n, exclude) {
			continue
		}
		v, _ := propertyOf(obj, n)
		sel.Extended = append(sel.Extended, psobject.P(n, v))
	}
	return sel, nil
}

func excluded(name string, exclude []*engine.Wildcard) bool {
	for _, w := range exclude {
		if w.Match(name) {
			return true
		}
	}
	return false
}

// expandValue implements -ExpandProperty: the property's value (its
// elements for a collection), with the -Property properties added to an
// object value.
func expandValue(inv *engine.Invocation, obj any, name string, props []string, exclude []*engine.Wildcard) ([]any, error) {
	v, ok := propertyOf(obj, name)
	if !ok {
		rec := engine.NewErrorRecord(psgate.E(psgate.CodeInvalidOperation, psgate.Args{
			"detail": fmt.Sprintf("Property %q cannot be found.", name),
		}), "ExpandPropertyNotFound", engine.CategoryInvalidArgument, obj)
		rec.ExceptionType = "System.Management.Automation.PSArgumentException"
		rec.Reason = "PSArgumentException"
		inv.WriteError(rec)
		return nil, nil
	}
	values, isList := engine.AsList(v)
	if !isList {
		values = []any{v}
	}
	if len(props) == 0 {
		return values, nil
	}
	extra, err := selectProperties(obj, props, exclude)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(values))
	for _, e := range values {
		o, isObj := e.(*psobject.Object)
		if !isObj || o == nil {
			out = append(out, e)
			continue
		}
		c := *o
		c.Extended = append(append([]psobject.Property(nil), o.Extended...), extra.Extended...)
		out = append(out, &c)
	}
	return out, nil
}

// uniqueKey identifies an object for -Unique: its type and property
// values, or its text for scalars.
func uniqueKey(v any) string {
	o, ok := v.(*psobject.Object)
	if !ok || o == nil {
		return engine.TypeName(v) + "\x00" + engine.ToText(v)
	}
	var b strings.Builder
	b.WriteString(o.TypeName())
	for _, p := range o.Properties() {
		b.WriteByte(0)
		b.WriteString(p.Name)
		b.WriteByte('=')
		b.WriteString(engine.ToText(p.Value))
	}
	if len(o.Properties()) == 0 {
		b.WriteByte(0)
		b.WriteString(o.String())
	}
	return b.String()
}

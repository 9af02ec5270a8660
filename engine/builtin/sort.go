package builtin

import (
	"context"
	"sort"
	"strings"

	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/psobject"
)

func sortObjectCmd() *engine.Command {
	return &engine.Command{
		Name:     "Sort-Object",
		Aliases:  []string{"sort"},
		Synopsis: "Sorts objects by property values.",
		Description: "Sort-Object sorts its input by one or more properties (or by the objects themselves), " +
			"comparing numbers as numbers, dates as dates and strings case-insensitively. " +
			"The sort is stable: objects that compare equal keep their order.",
		StreamInput: true,
		Parameters: []engine.Parameter{
			inputObjectParam("The objects to sort; usually piped in."),
			{Name: "Property", Type: engine.TypeObjectArray, Position: 0, Help: "The properties to sort by, most significant first."},
			{Name: "Descending", Type: engine.TypeSwitch, Position: engine.NotPositional, Help: "Sorts from the largest to the smallest value."},
			{Name: "Unique", Type: engine.TypeSwitch, Position: engine.NotPositional, Help: "Removes duplicates (objects whose sort values are equal)."},
			{Name: "CaseSensitive", Type: engine.TypeSwitch, Position: engine.NotPositional, Help: "Compares strings case-sensitively."},
		},
		Examples: []engine.Example{
			{Code: "Get-CsOnlineUser | Sort-Object Department, DisplayName", Remarks: "Sorts users by department, then by name."},
		},
		Run: runSortObject,
	}
}

func runSortObject(ctx context.Context, inv *engine.Invocation) error {
	objs, err := allInput(ctx, inv)
	if err != nil {
		return err
	}
	props := stringsParam(inv, "Property")
	cs := inv.Switch("CaseSensitive")
	desc := inv.Switch("Descending")
	keys := make([][]any, len(objs))
	for i, o := range objs {
		keys[i] = sortKeys(o, props)
	}
	idx := make([]int, len(objs))
	for i := range idx {
		idx[i] = i
	}
	cmp := func(a, b int) int {
		for k := range keys[a] {
			if c := sortCompare(keys[a][k], keys[b][k], cs); c != 0 {
				return c
			}
		}
		return 0
	}
	sort.SliceStable(idx, func(i, j int) bool {
		if err := ctx.Err(); err != nil {
			return false
		}
		c := cmp(idx[i], idx[j])
		if desc {
			return c > 0
		}
		return c < 0
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	for n, i := range idx {
		if inv.Switch("Unique") && n > 0 && cmp(idx[n-1], i) == 0 {
			continue
		}
		inv.Write(objs[i])
	}
	return nil
}

// sortKeys returns the values an object sorts by.
func sortKeys(obj any, props []string) []any {
	if len(props) == 0 {
		return []any{obj}
	}
	keys := make([]any, len(props))
	for i, p := range props {
		keys[i], _ = propertyOf(obj, p)
	}
	return keys
}

// sortCompare orders two values the way Sort-Object does: $null first,
// then by PowerShell comparison, falling back to the values' text when
// they cannot be compared.
func sortCompare(a, b any, caseSensitive bool) int {
	if o, ok := a.(*psobject.Object); ok && o != nil {
		a = o.String()
	}
	if o, ok := b.(*psobject.Object); ok && o != nil {
		b = o.String()
	}
	return engine.Order(a, b, caseSensitive)
}

func groupObjectCmd() *engine.Command {
	return &engine.Command{
		Name:        "Group-Object",
		Aliases:     []string{"group"},
		Synopsis:    "Groups objects that have the same property values.",
		Description: "Group-Object groups its input by the values of one or more properties (case-insensitively) and writes one group per value, in order of first appearance, with its count and members.",
		StreamInput: true,
		Parameters: []engine.Parameter{
			inputObjectParam("The objects to group; usually piped in."),
			{Name: "Property", Type: engine.TypeObjectArray, Position: 0, Help: "The properties to group by."},
			{Name: "NoElement", Type: engine.TypeSwitch, Position: engine.NotPositional, Help: "Leaves the members out of the output."},
			{Name: "CaseSensitive", Type: engine.TypeSwitch, Position: engine.NotPositional, Help: "Groups case-sensitively."},
		},
		Examples: []engine.Example{
			{Code: "Get-CsOnlineUser | Group-Object Department -NoElement", Remarks: "Counts users per department."},
		},
		Run: runGroupObject,
	}
}

func runGroupObject(ctx context.Context, inv *engine.Invocation) error {
	props := stringsParam(inv, "Property")
	cs := inv.Switch("CaseSensitive")
	type group struct {
		name    string
		members []any
	}
	var groups []*group
	index := map[string]*group{}
	err := eachInput(ctx, inv, func(obj any) (bool, error) {
		keys := sortKeys(obj, props)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = engine.ToText(k)
		}
		name := strings.Join(parts, ", ")
		id := name
		if !cs {
			id = strings.ToLower(name)
		}
		g, ok := index[id]
		if !ok {
			g = &group{name: name}
			index[id] = g
			groups = append(groups, g)
		}
		g.members = append(g.members, obj)
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, g := range groups {
		if inv.Switch("NoElement") {
			o := psobject.New([]string{"Microsoft.PowerShell.Commands.GroupInfoNoElement", "Microsoft.PowerShell.Commands.GroupInfo", "System.Object"},
				psobject.P("Count", int32(len(g.members))),
				psobject.P("Name", g.name))
			inv.Write(o)
			continue
		}
		o := psobject.New([]string{"Microsoft.PowerShell.Commands.GroupInfo", "System.Object"},
			psobject.P("Count", int32(len(g.members))),
			psobject.P("Name", g.name),
			psobject.P("Group", g.members))
		o.DisplayProps = []string{"Count", "Name", "Group"}
		inv.Write(o)
	}
	return nil
}

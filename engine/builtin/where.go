package builtin

import (
	"context"
	"fmt"
	"strings"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
)

// whereOperators are Where-Object's operator switches with their
// parameter set names, as in PowerShell.
var whereOperators = []struct{ name, set string }{
	{"EQ", "EqualSet"}, {"CEQ", "CaseSensitiveEqualSet"},
	{"NE", "NotEqualSet"}, {"CNE", "CaseSensitiveNotEqualSet"},
	{"GT", "GreaterThanSet"}, {"CGT", "CaseSensitiveGreaterThanSet"},
	{"LT", "LessThanSet"}, {"CLT", "CaseSensitiveLessThanSet"},
	{"GE", "GreaterOrEqualSet"}, {"CGE", "CaseSensitiveGreaterOrEqualSet"},
	{"LE", "LessOrEqualSet"}, {"CLE", "CaseSensitiveLessOrEqualSet"},
	{"Like", "LikeSet"}, {"CLike", "CaseSensitiveLikeSet"},
	{"NotLike", "NotLikeSet"}, {"CNotLike", "CaseSensitiveNotLikeSet"},
	{"Match", "MatchSet"}, {"CMatch", "CaseSensitiveMatchSet"},
	{"NotMatch", "NotMatchSet"}, {"CNotMatch", "CaseSensitiveNotMatchSet"},
	{"Contains", "ContainsSet"}, {"CContains", "CaseSensitiveContainsSet"},
	{"NotContains", "NotContainsSet"}, {"CNotContains", "CaseSensitiveNotContainsSet"},
	{"In", "InSet"}, {"CIn", "CaseSensitiveInSet"},
	{"NotIn", "NotInSet"}, {"CNotIn", "CaseSensitiveNotInSet"},
}

const whereScriptBlockSet = "ScriptBlockSet"

func whereObjectCmd() *engine.Command {
	compareSets := make([]string, len(whereOperators))
	for i, op := range whereOperators {
		compareSets[i] = op.set
	}
	params := []engine.Parameter{
		{Name: "InputObject", Type: engine.TypeObject, Position: engine.NotPositional, ValueFromPipeline: true, Help: "The objects to filter; usually piped in."},
		{Name: "Property", Type: engine.TypeString, Position: 0, Mandatory: true, Sets: compareSets, Help: "The property to test."},
		{Name: "Value", Type: engine.TypeObject, Position: 1, Sets: compareSets, Help: "The value to compare the property with."},
		{Name: "FilterScript", Type: engine.TypeObject, Position: 0, Mandatory: true, Sets: []string{whereScriptBlockSet}, Help: "Not supported: script blocks are not allowed. Use the comparison form."},
	}
	for _, op := range whereOperators {
		p := engine.Parameter{Name: op.name, Type: engine.TypeSwitch, Position: engine.NotPositional, Sets: []string{op.set},
			Mandatory: op.set != "EqualSet",
			Help:      fmt.Sprintf("Keeps objects whose property is -%s the value.", strings.ToLower(op.name))}
		if op.name == "EQ" {
			p.Aliases = []string{"IEQ"}
		} else if op.name[0] != 'C' || op.name == "Contains" {
			p.Aliases = []string{"I" + op.name}
		}
		params = append(params, p)
	}
	return &engine.Command{
		Name:     "Where-Object",
		Aliases:  []string{"where", "?"},
		Synopsis: "Selects objects whose property satisfies a comparison.",
		Description: "Where-Object keeps the input objects whose property compares true with a value, written as a " +
			"comparison statement: Where-Object <Property> -<operator> <Value>. Without an operator it keeps the " +
			"objects whose property is true (non-empty, non-zero). Script blocks ({ $_... }) are not supported.",
		StreamInput:         true,
		DefaultParameterSet: "EqualSet",
		Parameters:          params,
		Examples: []engine.Example{
			{Code: "Get-CsOnlineUser | Where-Object Enabled -eq $true", Remarks: "Keeps enabled users."},
			{Code: "Get-CsOnlineUser | Where-Object DisplayName -like 'A*'", Remarks: "Keeps users whose name starts with A."},
			{Code: "Get-CsOnlineUser | Where-Object Department -in 'Sales','HR'", Remarks: "Keeps users of two departments."},
		},
		Run: runWhereObject,
	}
}

func runWhereObject(ctx context.Context, inv *engine.Invocation) error {
	if inv.ParameterSet == whereScriptBlockSet || inv.Bound("FilterScript") {
		return engine.LanguageError(inv.Command.Name, "the -FilterScript script block (use the comparison form instead, for example: Where-Object Enabled -eq $true)")
	}
	prop := inv.String("Property")
	op := ""
	for _, o := range whereOperators {
		if inv.Switch(o.name) {
			op = o.name
			break
		}
	}
	value, hasValue := inv.Params["Value"]
	if op != "" && !hasValue {
		return psgate.E(psgate.CodeInvalidOperation, psgate.Args{
			"detail": "The specified operator requires both the -Property and -Value parameters. Supply both parameters and retry.",
		})
	}
	// Without an operator, -Value compares with -eq.
	var parsed engine.Operator
	if op != "" || hasValue {
		name := op
		if name == "" {
			name = "eq"
		}
		parsed, _ = engine.ParseOperator(name)
	}
	return eachInput(ctx, inv, func(obj any) (bool, error) {
		v, _ := propertyOf(obj, prop)
		var keep bool
		if op == "" && !hasValue {
			keep = engine.IsTrue(v)
		} else {
			var err error
			keep, err = parsed.Compare(v, value)
			if err != nil {
				e, _ := psgate.AsError(err)
				rec := engine.NewErrorRecord(e, "OperationNotSupported", engine.CategoryInvalidOperation, obj)
				inv.WriteError(rec)
				return true, nil
			}
		}
		if keep {
			inv.Write(obj)
		}
		return true, nil
	})
}

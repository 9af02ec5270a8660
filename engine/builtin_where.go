package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/psgate/psgate"
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

func whereObjectCmd() *Command {
	compareSets := make([]string, len(whereOperators))
	for i, op := range whereOperators {
		compareSets[i] = op.set
	}
	params := []Parameter{
		{Name: "InputObject", Type: TypeObject, Position: NotPositional, ValueFromPipeline: true, Help: "The objects to filter; usually piped in."},
		{Name: "Property", Type: TypeString, Position: 0, Mandatory: true, Sets: compareSets, Help: "The property to test."},
		{Name: "Value", Type: TypeObject, Position: 1, Sets: compareSets, Help: "The value to compare the property with."},
		{Name: "FilterScript", Type: TypeObject, Position: 0, Mandatory: true, Sets: []string{whereScriptBlockSet}, Help: "Not supported: script blocks are not allowed. Use the comparison form."},
	}
	for _, op := range whereOperators {
		p := Parameter{Name: op.name, Type: TypeSwitch, Position: NotPositional, Sets: []string{op.set},
			Mandatory: op.set != "EqualSet",
			Help:      fmt.Sprintf("Keeps objects whose property is -%s the value.", strings.ToLower(op.name))}
		if op.name == "EQ" {
			p.Aliases = []string{"IEQ"}
		} else if op.name[0] != 'C' || op.name == "Contains" {
			p.Aliases = []string{"I" + op.name}
		}
		params = append(params, p)
	}
	return &Command{
		Name:     "Where-Object",
		Aliases:  []string{"where", "?"},
		Synopsis: "Selects objects whose property satisfies a comparison.",
		Description: "Where-Object keeps the input objects whose property compares true with a value, written as a " +
			"comparison statement: Where-Object <Property> -<operator> <Value>. Without an operator it keeps the " +
			"objects whose property is true (non-empty, non-zero). Script blocks ({ $_... }) are not supported.",
		StreamInput:         true,
		DefaultParameterSet: "EqualSet",
		Parameters:          params,
		Examples: []Example{
			{Code: "Get-CsOnlineUser | Where-Object Enabled -eq $true", Remarks: "Keeps enabled users."},
			{Code: "Get-CsOnlineUser | Where-Object DisplayName -like 'A*'", Remarks: "Keeps users whose name starts with A."},
			{Code: "Get-CsOnlineUser | Where-Object Department -in 'Sales','HR'", Remarks: "Keeps users of two departments."},
		},
		Run: runWhereObject,
	}
}

func runWhereObject(ctx context.Context, inv *Invocation) error {
	if inv.ParameterSet == whereScriptBlockSet || inv.Bound("FilterScript") {
		return languageError(inv.Command.Name, "the -FilterScript script block (use the comparison form instead, for example: Where-Object Enabled -eq $true)")
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
	var parsed cmpOp
	if op != "" {
		parsed, _ = parseOp(op)
	}
	return eachInput(ctx, inv, func(obj any) (bool, error) {
		v, _ := propertyOf(obj, prop)
		var keep bool
		if op == "" && !hasValue {
			keep = isTrue(v)
		} else {
			if op == "" {
				parsed, _ = parseOp("eq")
			}
			var err error
			keep, err = parsed.eval(v, value, nil)
			if err != nil {
				e, _ := psgate.AsError(err)
				rec := NewErrorRecord(e, "OperationNotSupported", CategoryInvalidOperation, obj)
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

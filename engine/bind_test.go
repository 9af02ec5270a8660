package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate"
	"github.com/psgate/psgate/psobject"
)

// bindCmd has every parameter type and two parameter sets.
var bindCmd = &Command{
	Name:                "Set-Widget",
	DefaultParameterSet: "ByIdentity",
	Run:                 noop,
	Parameters: []Parameter{
		{Name: "Identity", Type: TypeString, Position: 0, Mandatory: true, Sets: []string{"ByIdentity"}, Aliases: []string{"Id"}},
		{Name: "InputObject", Type: TypeObject, Position: 0, Mandatory: true, Sets: []string{"ByObject"}},
		{Name: "Name", Type: TypeString, Position: 1},
		{Name: "Names", Type: TypeStringArray, Position: NotPositional},
		{Name: "Count", Type: TypeInt, Position: NotPositional, ValidateRange: &Range{Min: 1, Max: 10}},
		{Name: "Size", Type: TypeLong, Position: NotPositional},
		{Name: "Ratio", Type: TypeDouble, Position: NotPositional},
		{Name: "Enabled", Type: TypeBool, Position: NotPositional},
		{Name: "Force", Type: TypeSwitch, Position: NotPositional},
		{Name: "When", Type: TypeDateTime, Position: NotPositional},
		{Name: "Timeout", Type: TypeTimeSpan, Position: NotPositional},
		{Name: "Color", Type: TypeString, Position: NotPositional, ValidateSet: []string{"Red", "Green"}},
		{Name: "Tag", Type: TypeString, Position: NotPositional, ValidateNotNullOrEmpty: true},
		{Name: "Data", Type: TypeObjectArray, Position: NotPositional},
		{Name: "NameFilter", Type: TypeString, Position: NotPositional, Sets: []string{"ByIdentity"}},
	},
}

// bindLine parses `Set-Widget <args>` and binds it.
func bindLine(t *testing.T, cmd *Command, args string) (map[string]any, string, error) {
	t.Helper()
	s, err := Parse(cmd.Name + " " + args)
	if err != nil {
		t.Fatalf("Parse(%q): %v", args, err)
	}
	b, err := bindArgs(cmd, s.Statements[0].Commands[0].Args)
	if err != nil {
		return nil, "", err
	}
	set, err := b.finish(false)
	return b.params, set, err
}

func TestBindAccepted(t *testing.T) {
	day := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		args string
		want map[string]any
		set  string
	}{
		{"w1", map[string]any{"Identity": "w1"}, "ByIdentity"},
		{"-Identity w1", map[string]any{"Identity": "w1"}, "ByIdentity"},
		{"-identity:w1", map[string]any{"Identity": "w1"}, "ByIdentity"},
		{"-Ident w1", map[string]any{"Identity": "w1"}, "ByIdentity"},                     // unambiguous prefix
		{"-id w1", map[string]any{"Identity": "w1"}, "ByIdentity"},                        // alias beats prefixes
		{"w1 -E 1", map[string]any{"Identity": "w1", "Enabled": true}, "ByIdentity"},      // own parameter beats -ErrorAction, -ErrorVariable
		{"w1 -W 2026-01-31", map[string]any{"Identity": "w1", "When": day}, "ByIdentity"}, // and -WarningAction, -WarningVariable
		{"w1 widget", map[string]any{"Identity": "w1", "Name": "widget"}, "ByIdentity"},
		{"-Name widget w1", map[string]any{"Identity": "w1", "Name": "widget"}, "ByIdentity"},
		{"-InputObject 5", map[string]any{"InputObject": int32(5)}, "ByObject"},
		{"w1 -NameFilter x", map[string]any{"Identity": "w1", "NameFilter": "x"}, "ByIdentity"},
		{"w1 -Names a,b", map[string]any{"Identity": "w1", "Names": []string{"a", "b"}}, "ByIdentity"},
		{"w1 -Names a", map[string]any{"Identity": "w1", "Names": []string{"a"}}, "ByIdentity"},
		{"w1 -Names 1,$true", map[string]any{"Identity": "w1", "Names": []string{"1", "True"}}, "ByIdentity"},
		{"w1 -Count 5", map[string]any{"Identity": "w1", "Count": int32(5)}, "ByIdentity"},
		{"w1 -Count '7'", map[string]any{"Identity": "w1", "Count": int32(7)}, "ByIdentity"},
		{"w1 -Count 2.5", map[string]any{"Identity": "w1", "Count": int32(2)}, "ByIdentity"}, // banker's rounding
		{"w1 -Count 3.5", map[string]any{"Identity": "w1", "Count": int32(4)}, "ByIdentity"},
		{"w1 -Size 5gb", map[string]any{"Identity": "w1", "Size": int64(5 << 30)}, "ByIdentity"},
		{"w1 -Ratio 1", map[string]any{"Identity": "w1", "Ratio": 1.0}, "ByIdentity"},
		{"w1 -Ratio '0.25'", map[string]any{"Identity": "w1", "Ratio": 0.25}, "ByIdentity"},
		{"w1 -Enabled $false", map[string]any{"Identity": "w1", "Enabled": false}, "ByIdentity"},
		{"w1 -Enabled:$true", map[string]any{"Identity": "w1", "Enabled": true}, "ByIdentity"},
		{"w1 -Enabled 0", map[string]any{"Identity": "w1", "Enabled": false}, "ByIdentity"},
		{"w1 -Enabled 1", map[string]any{"Identity": "w1", "Enabled": true}, "ByIdentity"},
		{"w1 -Force", map[string]any{"Identity": "w1", "Force": true}, "ByIdentity"},
		{"w1 -Force:$false", map[string]any{"Identity": "w1", "Force": false}, "ByIdentity"},
		{"w1 -When 2026-01-31", map[string]any{"Identity": "w1", "When": day}, "ByIdentity"},
		{"w1 -When '1/31/2026'", map[string]any{"Identity": "w1", "When": day}, "ByIdentity"},
		{"w1 -When 2026-01-31T10:20:30Z", map[string]any{"Identity": "w1", "When": day.Add(10*time.Hour + 20*time.Minute + 30*time.Second)}, "ByIdentity"},
		{"w1 -Timeout 01:30:00", map[string]any{"Identity": "w1", "Timeout": 90 * time.Minute}, "ByIdentity"},
		{"w1 -Timeout 2.00:00:05.5", map[string]any{"Identity": "w1", "Timeout": 48*time.Hour + 5500*time.Millisecond}, "ByIdentity"},
		{"w1 -Color red", map[string]any{"Identity": "w1", "Color": "Red"}, "ByIdentity"}, // the set's spelling
		{"w1 -Data 1,'a'", map[string]any{"Identity": "w1", "Data": []any{int32(1), "a"}}, "ByIdentity"},
		{"w1 -Data x", map[string]any{"Identity": "w1", "Data": []any{"x"}}, "ByIdentity"},
		{"w1 -Verbose -ErrorAction SilentlyContinue -ea stop -WarningAction Ignore -OutBuffer 5", nil, ""}, // see TestBindCommon
		{"-- -w1", map[string]any{"Identity": "-w1"}, "ByIdentity"},
	}
	for _, tt := range tests {
		if tt.want == nil {
			continue
		}
		got, set, err := bindLine(t, bindCmd, tt.args)
		if err != nil {
			t.Errorf("bind %q: %v", tt.args, err)
			continue
		}
		if diff := cmp.Diff(got, tt.want); diff != "" || set != tt.set {
			t.Errorf("bind %q: set %q (want %q), params (-got +want):\n%s", tt.args, set, tt.set, diff)
		}
	}
}

func TestBindErrors(t *testing.T) {
	tests := []struct {
		args string
		code psgate.Code
		fqid string
		msg  string
	}{
		{"w1 -Nope 1", psgate.CodeParameterNotFound, "NamedParameterNotFound,Set-Widget",
			"A parameter cannot be found that matches parameter name 'Nope'."},
		{"w1 -N x", psgate.CodeAmbiguousParameter, "AmbiguousParameter,Set-Widget",
			"Parameter cannot be processed because the parameter name 'N' is ambiguous. Possible matches include: -Name -Names -NameFilter."},
		{"w1 -Inf x", psgate.CodeAmbiguousParameter, "AmbiguousParameter,Set-Widget",
			"Parameter cannot be processed because the parameter name 'Inf' is ambiguous. Possible matches include: -InformationAction -InformationVariable."},
		// The command's own parameter wins over common ones only when it
		// is the only one of its own that matches.
		{"w1 -Na x", psgate.CodeAmbiguousParameter, "AmbiguousParameter,Set-Widget",
			"Parameter cannot be processed because the parameter name 'Na' is ambiguous. Possible matches include: -Name -Names -NameFilter."},
		{"w1 -Count abc", psgate.CodeParameterBinding, "CannotConvertArgumentNoMessage,Set-Widget",
			`Cannot bind parameter 'Count'. Cannot convert value "abc" to type "System.Int32". Error: "Input string was not in a correct format."`},
		{"w1 -Count 3000000000", psgate.CodeParameterBinding, "CannotConvertArgumentNoMessage,Set-Widget",
			`Cannot bind parameter 'Count'. Cannot convert value "3000000000" to type "System.Int32". Error: "Value was either too large or too small for an Int32."`},
		{"w1 -Count 1,2", psgate.CodeParameterBinding, "CannotConvertArgumentNoMessage,Set-Widget",
			`Cannot bind parameter 'Count'. Cannot convert the "1 2" value of type "System.Object[]" to type "System.Int32".`},
		{"w1 -Name a,b", psgate.CodeParameterBinding, "CannotConvertArgumentNoMessage,Set-Widget",
			`Cannot bind parameter 'Name'. Cannot convert 'System.Object[]' to the type 'System.String' required by parameter 'Name'. Specified method is not supported.`},
		{"w1 -Enabled yes", psgate.CodeParameterBinding, "ParameterArgumentTransformationError,Set-Widget",
			`Cannot bind parameter 'Enabled'. Cannot convert value "System.String" to type "System.Boolean". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.`},
		{"w1 -Force:'true'", psgate.CodeParameterBinding, "ParameterArgumentTransformationError,Set-Widget",
			`Cannot bind parameter 'Force'. Cannot convert value "System.String" to type "System.Management.Automation.SwitchParameter". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.`},
		{"w1 -When yesterday", psgate.CodeParameterBinding, "CannotConvertArgumentNoMessage,Set-Widget",
			`Cannot bind parameter 'When'. Cannot convert value "yesterday" to type "System.DateTime". Error: "String was not recognized as a valid DateTime."`},
		{"w1 -Timeout soon", psgate.CodeParameterBinding, "CannotConvertArgumentNoMessage,Set-Widget",
			`Cannot bind parameter 'Timeout'. Cannot convert value "soon" to type "System.TimeSpan". Error: "String was not recognized as a valid TimeSpan."`},
		{"w1 -Color Blue", psgate.CodeParameterValidation, "ParameterArgumentValidationError,Set-Widget",
			`Cannot validate argument on parameter 'Color'. The argument "Blue" does not belong to the set "Red,Green" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again.`},
		{"w1 -Count 0", psgate.CodeParameterValidation, "ParameterArgumentValidationError,Set-Widget",
			`Cannot validate argument on parameter 'Count'. The 0 argument is less than the minimum allowed range of 1. Supply an argument that is greater than or equal to 1 and then try the command again.`},
		{"w1 -Count 11", psgate.CodeParameterValidation, "ParameterArgumentValidationError,Set-Widget",
			`Cannot validate argument on parameter 'Count'. The 11 argument is greater than the maximum allowed range of 10. Supply an argument that is less than or equal to 10 and then try the command again.`},
		{"w1 -Tag ''", psgate.CodeParameterValidation, "ParameterArgumentValidationError,Set-Widget",
			`Cannot validate argument on parameter 'Tag'. The argument is null or empty. Provide an argument that is not null or empty, and then try the command again.`},
		{"-Identity ''", psgate.CodeParameterValidation, "ParameterArgumentValidationError,Set-Widget",
			`Cannot validate argument on parameter 'Identity'. The argument is null or empty. Provide an argument that is not null or empty, and then try the command again.`},
		{"", psgate.CodeMissingMandatory, "MissingMandatoryParameter,Set-Widget",
			"Cannot process command because of one or more missing mandatory parameters: Identity."},
		{"-Name x", psgate.CodeMissingMandatory, "MissingMandatoryParameter,Set-Widget",
			"Cannot process command because of one or more missing mandatory parameters: Identity."},
		{"-InputObject 1 -NameFilter x", psgate.CodeAmbiguousParamSet, "AmbiguousParameterSet,Set-Widget",
			"Parameter set cannot be resolved using the specified named parameters."},
		{"w1 widget extra", psgate.CodePositionalNotFound, "PositionalParameterNotFound,Set-Widget",
			"A positional parameter cannot be found that accepts argument 'extra'."},
		{"w1 widget a,b", psgate.CodePositionalNotFound, "PositionalParameterNotFound,Set-Widget",
			"A positional parameter cannot be found that accepts argument 'System.Object[]'."},
		{"w1 -Name", psgate.CodeMissingArgument, "MissingArgument,Set-Widget",
			"Missing an argument for parameter 'Name'. Specify a parameter of type 'System.String' and try again."},
		{"w1 -Name -Force", psgate.CodeMissingArgument, "MissingArgument,Set-Widget",
			"Missing an argument for parameter 'Name'. Specify a parameter of type 'System.String' and try again."},
		{"w1 -Name a -Name b", psgate.CodeParameterBinding, "ParameterAlreadyBound,Set-Widget",
			`Cannot bind parameter 'Name'. The parameter was specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, "-parameter value1,value2,value3".`},
		{"w1 -ErrorAction Maybe", psgate.CodeParameterBinding, "CannotConvertArgumentNoMessage,Set-Widget", ""},
		{"w1 -ErrorAction Suspend", psgate.CodeParameterBinding, "CannotConvertArgumentNoMessage,Set-Widget", ""},
		{"w1 -ErrorVariable err", psgate.CodeLanguageNotAllowed, "ScriptsNotAllowed,Set-Widget", ""},
		{"w1 -OutVariable o", psgate.CodeLanguageNotAllowed, "ScriptsNotAllowed,Set-Widget", ""},
		{"w1 -PipelineVariable p", psgate.CodeLanguageNotAllowed, "ScriptsNotAllowed,Set-Widget", ""},
		{"w1 -WhatIf", psgate.CodeParameterNotFound, "NamedParameterNotFound,Set-Widget", ""},
	}
	for _, tt := range tests {
		_, _, err := bindLine(t, bindCmd, tt.args)
		te, ok := err.(*TerminatingError)
		if !ok {
			t.Errorf("bind %q: got %v, want a terminating error", tt.args, err)
			continue
		}
		rec := te.Record
		if rec.Err.Code != tt.code || rec.FullyQualifiedErrorID != tt.fqid || tt.msg != "" && rec.Message() != tt.msg {
			t.Errorf("bind %q:\n got %s %s %q\nwant %s %s %q", tt.args, rec.Err.Code, rec.FullyQualifiedErrorID, rec.Message(), tt.code, tt.fqid, tt.msg)
		}
		if rec.Category != CategoryInvalidArgument && rec.Category != CategoryInvalidData {
			t.Errorf("bind %q: category %s", tt.args, rec.Category)
		}
		if tt.code != psgate.CodeLanguageNotAllowed && !strings.HasPrefix(rec.ExceptionType, "System.Management.Automation.ParameterBinding") {
			t.Errorf("bind %q: exception %s", tt.args, rec.ExceptionType)
		}
	}
}

func TestBindCommon(t *testing.T) {
	s, _ := Parse("Set-Widget w1 -Verbose -ea stop -WarningAction Ignore -InformationAction 0 -OutBuffer 5 -Debug:$false")
	b, err := bindArgs(bindCmd, s.Statements[0].Commands[0].Args)
	if err != nil {
		t.Fatal(err)
	}
	want := commonSettings{verbose: true, errorAction: ActionStop, warningAction: ActionIgnore, informationAction: ActionSilentlyContinue, progressAction: ActionContinue}
	if b.common != want {
		t.Errorf("common = %+v, want %+v", b.common, want)
	}
	if _, ok := b.params["Verbose"]; ok {
		t.Error("common parameters must not be in Params")
	}
}

func TestBindStructuredArguments(t *testing.T) {
	// PSRP sends named arguments with values; a switch may come as
	// $true or with no value (nil).
	args := []Argument{
		{Name: "Identity", Value: "w1", HasValue: true},
		{Name: "Force", Value: nil, HasValue: true},
		{Name: "-Names", Value: []string{"a", "b"}, HasValue: true},
	}
	b, err := bindArgs(bindCmd, args)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"Identity": "w1", "Force": true, "Names": []string{"a", "b"}}
	if diff := cmp.Diff(b.params, want); diff != "" {
		t.Errorf("params (-got +want):\n%s", diff)
	}
}

func TestBindPipelineInput(t *testing.T) {
	cmd := &Command{
		Name: "Get-Thing",
		Run:  noop,
		Parameters: []Parameter{
			{Name: "Identity", Type: TypeString, Position: 0, Mandatory: true, ValueFromPipeline: true, ValueFromPipelineByPropertyName: true, Aliases: []string{"UserPrincipalName"}},
			{Name: "Count", Type: TypeInt, Position: NotPositional, ValueFromPipelineByPropertyName: true},
		},
	}
	b, err := bindArgs(cmd, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.finish(true); err != nil {
		t.Fatalf("finish with pending input: %v", err)
	}
	if _, err := b.finish(false); psgate.CodeOf(err) != psgate.CodeMissingMandatory {
		t.Fatalf("finish without input: got %v", err)
	}
	tests := []struct {
		obj  any
		want map[string]any
		code psgate.Code
	}{
		{"alice", map[string]any{"Identity": "alice"}, ""},                         // by value
		{userObj("bob@x", "HR", true, 3), map[string]any{"Identity": "bob@x"}, ""}, // by property name
		{int32(7), map[string]any{"Identity": "7"}, ""},                            // by value with coercion
		{psobjectWith("UserPrincipalName", "carol@x", "Count", "12"), map[string]any{"Identity": "carol@x", "Count": int32(12)}, ""},
		{psobjectWith("Count", "x"), nil, psgate.CodeParameterBinding},
		{psobjectWith("Other", 1), map[string]any{"Identity": "Psgate.Thing"}, ""}, // by value with coercion: ToString
	}
	for _, tt := range tests {
		c := b.clone()
		err := c.bindInput(tt.obj)
		if err == nil {
			_, err = c.finish(false)
		}
		if tt.code != "" {
			if psgate.CodeOf(err) != tt.code {
				t.Errorf("bindInput(%v): got %v, want %s", tt.obj, err, tt.code)
			}
			continue
		}
		if err != nil {
			t.Errorf("bindInput(%v): %v", tt.obj, err)
			continue
		}
		if diff := cmp.Diff(c.params, tt.want); diff != "" {
			t.Errorf("bindInput(%v) (-got +want):\n%s", tt.obj, diff)
		}
	}
	if len(b.params) != 0 {
		t.Errorf("bindInput changed the command-line binding: %v", b.params)
	}

	// A command without pipeline parameters refuses input.
	plain := &Command{Name: "Get-Plain", Run: noop}
	pb, _ := bindArgs(plain, nil)
	if err := pb.bindInput("x"); psgate.CodeOf(err) != psgate.CodeInputNotBound {
		t.Errorf("bindInput on a command without pipeline parameters: got %v", err)
	}
}

func TestBindRemainingArguments(t *testing.T) {
	// Write-Output's parameters.
	cmd := &Command{Name: "Write-Output", Run: noop, Parameters: []Parameter{
		{Name: "InputObject", Type: TypeObjectArray, Position: 0, ValueFromPipeline: true, ValueFromRemainingArguments: true},
		{Name: "NoEnumerate", Type: TypeSwitch, Position: NotPositional},
	}}
	got, _, err := bindLine(t, cmd, "a b,c 3")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"InputObject": []any{"a", []any{"b", "c"}, int32(3)}}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("(-got +want):\n%s", diff)
	}
}

// userObj is a fake directory user.
func userObj(upn, dept string, enabled bool, age int32) *psobject.Object {
	o := psobject.New([]string{"Psgate.OnlineUser", "Psgate.DirectoryObject", "System.Object"},
		psobject.P("Identity", upn),
		psobject.P("UserPrincipalName", upn),
		psobject.P("DisplayName", strings.Split(upn, "@")[0]),
		psobject.P("Department", dept),
		psobject.P("Enabled", enabled),
		psobject.P("Age", age),
	)
	o.Text = upn
	return o
}

// psobjectWith builds a Psgate.Thing object from name/value pairs.
func psobjectWith(kv ...any) *psobject.Object {
	o := &psobject.Object{TypeNames: []string{"Psgate.Thing", "System.Object"}}
	for i := 0; i+1 < len(kv); i += 2 {
		o.Props = append(o.Props, psobject.P(kv[i].(string), kv[i+1]))
	}
	return o
}

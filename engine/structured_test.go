package engine

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate"
	"github.com/psgate/psgate/psobject"
)

// These tests cover the argument shapes Windows PowerShell clients send in
// CREATE_PIPELINE (ScriptBlock.GetPowerShell for Invoke-Command and
// Enter-PSSession lines, Import-PSSession proxies), read as PowerShell's
// server reads them (Parameter.cs ToCommandParameterInternal).

func TestStructuredArgument(t *testing.T) {
	tests := []struct {
		name  string
		value any
		want  Argument
	}{
		{"", "carol", Argument{Value: "carol", HasValue: true}},                           // N Nil: positional
		{"", nil, Argument{Value: nil, HasValue: true}},                                   // a positional $null
		{"Identity", "carol", Argument{Name: "Identity", Value: "carol", HasValue: true}}, // AddParameter
		{"Identity", nil, Argument{Name: "Identity", HasValue: true}},                     // AddParameter(name, $null), AddParameter(switch)
		{"-Identity", nil, Argument{Name: "Identity"}},                                    // "-Identity value": name-only, value follows
		{"-Identity ", nil, Argument{Name: "Identity"}},                                   // trailing whitespace is dropped
		{"-Identity", "carol", Argument{Name: "Identity", Value: "carol", HasValue: true}},
		{"-Identity:", "carol", Argument{Name: "Identity", Value: "carol", HasValue: true}},  // -Identity:carol, splat
		{"-Identity: ", "carol", Argument{Name: "Identity", Value: "carol", HasValue: true}}, // -Identity: carol
		{"-Identity:\t", "carol", Argument{Name: "Identity", Value: "carol", HasValue: true}},
		{"-Identity:", nil, Argument{Name: "Identity", HasValue: true}}, // -Identity:$null
		{"-PassThru", nil, Argument{Name: "PassThru"}},                  // a bare switch
		{"-PassThru:", true, Argument{Name: "PassThru", Value: true, HasValue: true}},
		{"\u2013Identity:", "carol", Argument{Name: "Identity", Value: "carol", HasValue: true}}, // en dash
		{"\u2014PassThru", nil, Argument{Name: "PassThru"}},                                      // em dash
		{"--Identity", nil, Argument{Name: "-Identity"}},                                         // one dash is the token's
		{"-", nil, Argument{Name: "-"}},                                                          // names nothing, still a parameter
		{"-:", "x", Argument{Name: "-", Value: "x", HasValue: true}},
		{"-a:b:", "x", Argument{Name: "a:b", Value: "x", HasValue: true}},
		{" -Identity", "carol", Argument{Name: " -Identity", Value: "carol", HasValue: true}}, // not a token: a plain (unknown) name
	}
	for _, tt := range tests {
		got := StructuredArgument(tt.name, tt.value)
		if diff := cmp.Diff(got, tt.want); diff != "" {
			t.Errorf("StructuredArgument(%q, %#v) (-got +want):\n%s", tt.name, tt.value, diff)
		}
	}
}

// thingCmd has a mandatory positional parameter, a ValidateSet parameter,
// a switch and a bool.
var thingCmd = &Command{
	Name: "Set-CsThing",
	Run:  noop,
	Parameters: []Parameter{
		{Name: "Identity", Type: TypeString, Position: 0, Mandatory: true, Aliases: []string{"UPN"}},
		{Name: "Notes", Type: TypeString, Position: 1},
		{Name: "Department", Type: TypeString, Position: NotPositional, ValidateSet: []string{"HR", "Sales"}},
		{Name: "Description", Type: TypeString, Position: NotPositional},
		{Name: "Enabled", Type: TypeBool, Position: NotPositional},
		{Name: "PassThru", Type: TypeSwitch, Position: NotPositional},
	},
}

// nv is one CREATE_PIPELINE argument: N ("" for Nil) and V.
type nv struct {
	n string
	v any
}

func structuredArgs(args []nv) []Argument {
	out := make([]Argument, len(args))
	for i, a := range args {
		out[i] = StructuredArgument(a.n, a.v)
	}
	return out
}

func switchParameter(present bool) *psobject.Object {
	return psobject.New([]string{"System.Management.Automation.SwitchParameter", "System.ValueType", "System.Object"},
		psobject.P("IsPresent", present))
}

func actionPreference(name string, v int32) psobject.Enum {
	return psobject.Enum{Type: actionPreferenceType, Name: name, Value: v}
}

// bindThing binds args to thingCmd and resolves the parameter set.
func bindThing(args []Argument) (*binder, error) {
	b, err := bindArgs(thingCmd, args)
	if err != nil {
		return nil, err
	}
	if _, err := b.finish(false); err != nil {
		return nil, err
	}
	return b, nil
}

func TestBindStructuredShapes(t *testing.T) {
	common := func(f func(*commonSettings)) commonSettings {
		c := defaultCommon()
		f(&c)
		return c
	}
	tests := []struct {
		what string
		// line is the same command as a WinRS/script command line, which
		// must bind identically; "" when no text spells it.
		line   string
		args   []nv
		want   map[string]any
		common *commonSettings
		// code and msg are the expected binding error.
		code psgate.Code
		msg  string
	}{
		{what: "-Identity: value", line: "-Identity:carol",
			args: []nv{{"-Identity:", "carol"}}, want: map[string]any{"Identity": "carol"}},
		{what: "-Identity: value with a space", line: "-Identity: carol",
			args: []nv{{"-Identity: ", "carol"}}, want: map[string]any{"Identity": "carol"}},
		{what: "-Identity then a positional value", line: "-Identity carol",
			args: []nv{{"-Identity", nil}, {"", "carol"}}, want: map[string]any{"Identity": "carol"}},
		{what: "alias then a positional value", line: "-upn carol",
			args: []nv{{"-upn", nil}, {"", "carol"}}, want: map[string]any{"Identity": "carol"}},
		{what: "prefix then a positional value", line: "-Ident carol",
			args: []nv{{"-Ident", nil}, {"", "carol"}}, want: map[string]any{"Identity": "carol"}},
		{what: "name-only then a value, then positional ones", line: "-Notes n carol",
			args: []nv{{"-Notes", nil}, {"", "n"}, {"", "carol"}}, want: map[string]any{"Identity": "carol", "Notes": "n"}},
		{what: "plain name (pypsrp, AddParameter)", line: "",
			args: []nv{{"Identity", "carol"}, {"PassThru", nil}}, want: map[string]any{"Identity": "carol", "PassThru": true}},
		{what: "bare switch", line: "carol -PassThru",
			args: []nv{{"", "carol"}, {"-PassThru", nil}}, want: map[string]any{"Identity": "carol", "PassThru": true}},
		{what: "a switch does not take the positional after it", line: "-PassThru carol",
			args: []nv{{"-PassThru", nil}, {"", "carol"}}, want: map[string]any{"Identity": "carol", "PassThru": true}},
		{what: "switch with $false", line: "carol -PassThru:$false",
			args: []nv{{"", "carol"}, {"-PassThru:", false}}, want: map[string]any{"Identity": "carol", "PassThru": false}},
		{what: "SwitchParameter object, present", line: "carol -PassThru:$true",
			args: []nv{{"", "carol"}, {"-PassThru:", switchParameter(true)}}, want: map[string]any{"Identity": "carol", "PassThru": true}},
		{what: "SwitchParameter object, not present", line: "carol -PassThru:$false",
			args: []nv{{"", "carol"}, {"-PassThru:", switchParameter(false)}}, want: map[string]any{"Identity": "carol", "PassThru": false}},
		{what: "SwitchParameter object on a bool", line: "carol -Enabled:$true",
			args: []nv{{"", "carol"}, {"-Enabled:", switchParameter(true)}}, want: map[string]any{"Identity": "carol", "Enabled": true}},
		{what: "bool name-only takes the next value", line: "carol -Enabled $false",
			args: []nv{{"", "carol"}, {"-Enabled", nil}, {"", false}}, want: map[string]any{"Identity": "carol", "Enabled": false}},
		{what: "ValidateSet value after a colon, set's spelling", line: "carol -Department:hr",
			args: []nv{{"", "carol"}, {"-Department:", "hr"}}, want: map[string]any{"Identity": "carol", "Department": "HR"}},
		{what: "ValidateSet value as the next positional", line: "carol -Department sales",
			args: []nv{{"", "carol"}, {"-Department", nil}, {"", "sales"}}, want: map[string]any{"Identity": "carol", "Department": "Sales"}},
		{what: "hashtable splat", line: "-Identity:carol -Department:HR -PassThru:$true",
			args: []nv{{"-Identity:", "carol"}, {"-Department:", "HR"}, {"-PassThru:", true}},
			want: map[string]any{"Identity": "carol", "Department": "HR", "PassThru": true}},
		{what: "array splat", line: "carol n",
			args: []nv{{"", "carol"}, {"", "n"}}, want: map[string]any{"Identity": "carol", "Notes": "n"}},
		{what: "Import-PSSession proxy call", line: "-Identity:carol -PassThru:$true -ErrorAction:Stop -WarningAction:SilentlyContinue -InformationAction:Ignore -ProgressAction:SilentlyContinue",
			args: []nv{{"-Identity:", "carol"}, {"-PassThru:", switchParameter(true)},
				{"-ErrorAction:", actionPreference("Stop", 1)}, {"-WarningAction:", actionPreference("SilentlyContinue", 0)},
				{"-InformationAction:", actionPreference("Ignore", 4)}, {"-ProgressAction:", actionPreference("SilentlyContinue", 0)}},
			want: map[string]any{"Identity": "carol", "PassThru": true},
			common: ptr(common(func(c *commonSettings) {
				c.errorAction, c.warningAction, c.informationAction, c.progressAction = ActionStop, ActionSilentlyContinue, ActionIgnore, ActionSilentlyContinue
			}))},
		{what: "-ErrorAction then a positional enum", line: "carol -ErrorAction Stop",
			args: []nv{{"", "carol"}, {"-ErrorAction", nil}, {"", actionPreference("Stop", 1)}},
			want: map[string]any{"Identity": "carol"}, common: ptr(common(func(c *commonSettings) { c.errorAction = ActionStop }))},
		{what: "common switch and alias", line: "carol -Verbose -wa:Ignore",
			args: []nv{{"", "carol"}, {"-Verbose", nil}, {"-wa:", actionPreference("Ignore", 4)}},
			want: map[string]any{"Identity": "carol"}, common: ptr(common(func(c *commonSettings) { c.verbose, c.warningAction = true, ActionIgnore }))},
		{what: "-proga alias", line: "carol -proga:0",
			args: []nv{{"", "carol"}, {"-proga:", int32(0)}},
			want: map[string]any{"Identity": "carol"}, common: ptr(common(func(c *commonSettings) { c.progressAction = ActionSilentlyContinue }))},

		// Errors, with PowerShell's texts.
		{what: "name-only value parameter at the end", line: "carol -Notes",
			args: []nv{{"", "carol"}, {"-Notes", nil}}, code: psgate.CodeMissingArgument,
			msg: "Missing an argument for parameter 'Notes'. Specify a parameter of type 'System.String' and try again."},
		{what: "name-only mandatory parameter, nothing after", line: "-Identity",
			args: []nv{{"-Identity", nil}}, code: psgate.CodeMissingArgument,
			msg: "Missing an argument for parameter 'Identity'. Specify a parameter of type 'System.String' and try again."},
		{what: "name-only parameter followed by another parameter", line: "-Identity -PassThru",
			args: []nv{{"-Identity", nil}, {"-PassThru", nil}}, code: psgate.CodeMissingArgument,
			msg: "Missing an argument for parameter 'Identity'. Specify a parameter of type 'System.String' and try again."},
		{what: "unknown parameter", line: "carol -Foo:1",
			args: []nv{{"", "carol"}, {"-Foo:", int32(1)}}, code: psgate.CodeParameterNotFound,
			msg: "A parameter cannot be found that matches parameter name 'Foo'."},
		{what: "unknown name-only parameter", line: "carol -Foo",
			args: []nv{{"", "carol"}, {"-Foo", nil}}, code: psgate.CodeParameterNotFound,
			msg: "A parameter cannot be found that matches parameter name 'Foo'."},
		{what: "ambiguous parameter", line: "carol -De x",
			args: []nv{{"", "carol"}, {"-De", nil}, {"", "x"}}, code: psgate.CodeAmbiguousParameter,
			msg: "Parameter cannot be processed because the parameter name 'De' is ambiguous. Possible matches include: -Department -Description -Debug."},
		{what: "the colon is not part of the name", line: "",
			args: []nv{{"Identity:", "carol"}}, code: psgate.CodeParameterNotFound,
			msg: "A parameter cannot be found that matches parameter name 'Identity:'."},
		{what: "a lone dash names no parameter", line: "",
			args: []nv{{"", "carol"}, {"-", nil}}, code: psgate.CodeParameterNotFound,
			msg: "A parameter cannot be found that matches parameter name ''."},
		{what: "ValidateSet refusal", line: "carol -Department:Nope",
			args: []nv{{"", "carol"}, {"-Department:", "Nope"}}, code: psgate.CodeParameterValidation,
			msg: `Cannot validate argument on parameter 'Department'. The argument "Nope" does not belong to the set "HR,Sales" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again.`},
		{what: "ValidateSet refusal of the positional value", line: "carol -Department Nope",
			args: []nv{{"", "carol"}, {"-Department", nil}, {"", "Nope"}}, code: psgate.CodeParameterValidation,
			msg: `Cannot validate argument on parameter 'Department'. The argument "Nope" does not belong to the set "HR,Sales" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again.`},
		{what: "mandatory parameter missing", line: "-PassThru",
			args: []nv{{"-PassThru", nil}}, code: psgate.CodeMissingMandatory,
			msg: "Cannot process command because of one or more missing mandatory parameters: Identity."},
		{what: "given twice", line: "-Identity:a -Identity b",
			args: []nv{{"-Identity:", "a"}, {"-Identity", nil}, {"", "b"}}, code: psgate.CodeParameterBinding,
			msg: `Cannot bind parameter 'Identity'. The parameter was specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, "-parameter value1,value2,value3".`},
		{what: "bad action preference", line: "carol -ErrorAction:Later",
			args: []nv{{"", "carol"}, {"-ErrorAction:", "Later"}}, code: psgate.CodeParameterBinding},
		{what: "SwitchParameter-like object of another type", line: "",
			args: []nv{{"", "carol"}, {"-PassThru:", psobject.New([]string{"Other.Type"}, psobject.P("IsPresent", true))}},
			code: psgate.CodeParameterBinding},
	}
	for _, tt := range tests {
		t.Run(tt.what, func(t *testing.T) {
			paths := map[string][]Argument{"structured": structuredArgs(tt.args)}
			if tt.line != "" {
				s, err := Parse(thingCmd.Name + " " + tt.line)
				if err != nil {
					t.Fatalf("Parse(%q): %v", tt.line, err)
				}
				paths["command line"] = s.Statements[0].Commands[0].Args
			}
			for path, args := range paths {
				b, err := bindThing(args)
				if tt.code != "" {
					te, ok := err.(*TerminatingError)
					if !ok || te.Record.Err.Code != tt.code || tt.msg != "" && te.Record.Message() != tt.msg {
						t.Errorf("%s: got %v, want %s %q", path, err, tt.code, tt.msg)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: %v", path, err)
					continue
				}
				if diff := cmp.Diff(b.params, tt.want); diff != "" {
					t.Errorf("%s: params (-got +want):\n%s", path, diff)
				}
				want := defaultCommon()
				if tt.common != nil {
					want = *tt.common
				}
				if b.common != want {
					t.Errorf("%s: common = %+v, want %+v", path, b.common, want)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func FuzzStructuredArgument(f *testing.F) {
	for _, s := range []struct{ name, value string }{
		{"-Identity:", "carol"}, {"-Identity", "carol"}, {"-Identity: ", "carol"}, {"-PassThru", ""},
		{"Identity", "carol"}, {"-Department:", "hr"}, {"-De", "x"}, {"-", ""}, {"-ErrorAction:", "Stop"},
		{"\u2013upn", "x"}, {"--Identity", "x"}, {"", "carol"},
	} {
		f.Add(s.name, s.value, true)
		f.Add(s.name, s.value, false)
	}
	f.Fuzz(func(t *testing.T, name, value string, withValue bool) {
		var v any
		if withValue {
			v = value
		}
		arg := StructuredArgument(name, v)
		if (name == "") != (arg.Name == "") {
			t.Fatalf("StructuredArgument(%q) = %+v: a name must stay a name", name, arg)
		}
		if !arg.HasValue && v != nil {
			t.Fatalf("StructuredArgument(%q, %q) dropped the value", name, value)
		}
		structured := []Argument{arg, StructuredArgument("", "carol")}
		sb, serr := bindThing(structured)

		// The same as a command line, when the token is one a script can
		// spell: a dash, a name of letters, an optional colon.
		token := strings.TrimRightFunc(name, func(r rune) bool { return r == ' ' || r == '\t' })
		param := strings.TrimPrefix(strings.TrimSuffix(token, ":"), "-")
		if !strings.HasPrefix(token, "-") || param == "" || strings.IndexFunc(param, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) >= 0 || strings.ContainsAny(value, "'\u2018\u2019\u201a\u201b") {
			return
		}
		colon := strings.HasSuffix(token, ":")
		line := thingCmd.Name + " " + token
		switch {
		case colon && v == nil:
			line += "$null"
		case colon:
			line += "'" + value + "'"
		case v != nil:
			// "-Name" with a value and no colon binds as "-Name:value".
			line += ":'" + value + "'"
		}
		line += " carol"
		s, err := Parse(line)
		if err != nil {
			return // a value the command line refuses (a NUL)
		}
		lb, lerr := bindThing(s.Statements[0].Commands[0].Args)
		if psgate.CodeOf(serr) != psgate.CodeOf(lerr) {
			t.Fatalf("%q %v: structured error %v, command line %q error %v", name, v, serr, line, lerr)
		}
		if serr == nil && (!cmp.Equal(sb.params, lb.params) || sb.common != lb.common) {
			t.Fatalf("%q %v: structured %v %+v, command line %q %v %+v", name, v, sb.params, sb.common, line, lb.params, lb.common)
		}
	})
}

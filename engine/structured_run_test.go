package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/psobject"
)

// nv is one CREATE_PIPELINE argument: N ("" for Nil) and V.
type nv struct {
	n string
	v any
}

func structuredArgs(args []nv) []engine.Argument {
	out := make([]engine.Argument, len(args))
	for i, a := range args {
		out[i] = engine.StructuredArgument(a.n, a.v)
	}
	return out
}

func actionPreference(name string, v int32) psobject.Enum {
	return psobject.Enum{Type: "System.Management.Automation.ActionPreference", Name: name, Value: v}
}

// TestStructuredCommonActions runs the shapes through a runspace: the
// structured pipeline (as the gateway builds it from CREATE_PIPELINE) and
// the same command line must behave alike.
func TestStructuredCommonActions(t *testing.T) {
	env := newFakeEnv(t)
	tests := []struct {
		what     string
		line     string
		args     []nv
		out      []any
		errors   []string
		warnings []string
		// fail is the terminating error's message, "" for none.
		fail string
	}{
		{what: "non-terminating errors by default", line: "Invoke-Fail -Mode NonTerminating",
			args:   []nv{{"-Mode", nil}, {"", "NonTerminating"}},
			out:    []any{"after first", "after second"},
			errors: []string{"First problem.", "Second problem."}},
		{what: "-ErrorAction: Stop makes the first error terminating", line: "Invoke-Fail -Mode:NonTerminating -ErrorAction:Stop",
			args: []nv{{"-Mode:", "NonTerminating"}, {"-ErrorAction:", actionPreference("Stop", 1)}},
			fail: "First problem."},
		{what: "-ErrorAction Stop as the next positional", line: "Invoke-Fail NonTerminating -ErrorAction Stop",
			args: []nv{{"", "NonTerminating"}, {"-ErrorAction", nil}, {"", actionPreference("Stop", 1)}},
			fail: "First problem."},
		{what: "-ErrorAction: SilentlyContinue", line: "Invoke-Fail -Mode:NonTerminating -ErrorAction:SilentlyContinue",
			args: []nv{{"-Mode:", "NonTerminating"}, {"-ErrorAction:", actionPreference("SilentlyContinue", 0)}},
			out:  []any{"after first", "after second"}},
		{what: "warnings by default", line: "Invoke-Fail -Mode Warning",
			args: []nv{{"-Mode", nil}, {"", "Warning"}},
			out:  []any{"done"}, warnings: []string{"careful"}},
		{what: "-WarningAction: SilentlyContinue", line: "Invoke-Fail -Mode:Warning -WarningAction:SilentlyContinue",
			args: []nv{{"-Mode:", "Warning"}, {"-WarningAction:", actionPreference("SilentlyContinue", 0)}},
			out:  []any{"done"}},
		{what: "-WarningAction: Stop", line: "Invoke-Fail -Mode:Warning -WarningAction:Stop",
			args: []nv{{"-Mode:", "Warning"}, {"-WarningAction:", actionPreference("Stop", 1)}},
			fail: `The running command stopped because the preference variable "WarningPreference" or common parameter is set to Stop: careful`},
		{what: "ValidateSet refusal", line: "Invoke-Fail -Mode:Sometimes",
			args: []nv{{"-Mode:", "Sometimes"}},
			fail: `Cannot validate argument on parameter 'Mode'. The argument "Sometimes" does not belong to the set "Terminating,NonTerminating,Panic,Plain,Warning" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again.`},
	}
	for _, tt := range tests {
		t.Run(tt.what, func(t *testing.T) {
			runs := map[string]func(rs *engine.Runspace, rec *recorder) error{
				"structured": func(rs *engine.Runspace, rec *recorder) error {
					call := engine.CommandCall{Name: "Invoke-Fail", Args: structuredArgs(tt.args)}
					return rs.Run(context.Background(), engine.Pipeline{Commands: []engine.CommandCall{call}}, nil, rec)
				},
				"command line": func(rs *engine.Runspace, rec *recorder) error {
					return rs.RunScript(context.Background(), tt.line, nil, rec)
				},
			}
			for path, run := range runs {
				rec := &recorder{}
				err := run(env.runspace(engine.RunspaceConfig{}), rec)
				errors := tt.errors
				if tt.fail != "" {
					te, ok := err.(*engine.TerminatingError)
					if !ok || te.Record.Message() != tt.fail {
						t.Errorf("%s: got %v, want the terminating error %q", path, err, tt.fail)
					}
					if ok && te.Written {
						// A script reports its statements' terminating
						// errors in the error stream too.
						errors = append(append([]string(nil), errors...), tt.fail)
					}
				} else if err != nil {
					t.Errorf("%s: %v", path, err)
				}
				if diff := cmp.Diff(rec.out, tt.out); diff != "" {
					t.Errorf("%s: output (-got +want):\n%s", path, diff)
				}
				if diff := cmp.Diff(rec.errorMessages(), errors); diff != "" {
					t.Errorf("%s: errors (-got +want):\n%s", path, diff)
				}
				if diff := cmp.Diff(rec.warnings, tt.warnings); diff != "" {
					t.Errorf("%s: warnings (-got +want):\n%s", path, diff)
				}
			}
		})
	}
}

// TestProgressAction checks that -ProgressAction filters progress
// records as -WarningAction filters warnings.
func TestProgressAction(t *testing.T) {
	cat := engine.NewCatalog()
	if err := cat.Register(&engine.Command{Name: "Invoke-Progress", Run: func(ctx context.Context, inv *engine.Invocation) error {
		inv.Out.Progress(engine.ProgressRecord{Activity: "Copying", PercentComplete: 50})
		inv.Write("done")
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args     []nv
		progress int
		fail     string
	}{
		{nil, 1, ""},
		{[]nv{{"-ProgressAction:", actionPreference("Continue", 2)}}, 1, ""},
		{[]nv{{"-ProgressAction:", actionPreference("SilentlyContinue", 0)}}, 0, ""},
		{[]nv{{"-ProgressAction", nil}, {"", "Ignore"}}, 0, ""},
		{[]nv{{"-ProgressAction:", actionPreference("Stop", 1)}}, 0,
			`The running command stopped because the preference variable "ProgressPreference" or common parameter is set to Stop: Copying`},
	}
	for _, tt := range tests {
		rec := &recorder{}
		rs := engine.NewRunspace(engine.RunspaceConfig{Catalog: cat})
		err := rs.Run(context.Background(), engine.Pipeline{Commands: []engine.CommandCall{{Name: "Invoke-Progress", Args: structuredArgs(tt.args)}}}, nil, rec)
		if tt.fail != "" {
			if te, ok := err.(*engine.TerminatingError); !ok || !strings.Contains(te.Record.Message(), tt.fail) {
				t.Errorf("%v: got %v, want %q", tt.args, err, tt.fail)
			}
			continue
		}
		if err != nil || len(rec.progress) != tt.progress {
			t.Errorf("%v: err %v, %d progress records, want %d", tt.args, err, len(rec.progress), tt.progress)
		}
	}
	// Command metadata keeps the Windows PowerShell 5.1 common set.
	cmd, _ := cat.Lookup("Invoke-Progress")
	for _, m := range cmd.Metadata() {
		if m.Name == "ProgressAction" {
			t.Error("Metadata lists ProgressAction")
		}
	}
}

// FuzzStructuredArgument checks StructuredArgument against the command
// line parser: a parameter token and a string value bind to thingCmd
// exactly as the same token typed on a command line, and no name ever
// turns into a positional value.

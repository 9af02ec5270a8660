package interop

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// confirmPy runs a scenario of testdata/confirm_client.py as the demo
// administrator over HTTP.
func confirmPy(t *testing.T, rig *moduleRig, scenario string) map[string]any {
	t.Helper()
	return rigPy(t, rig, "confirm_client.py", scenario)
}

// patches lists the PATCH requests the widget backend received.
func (rig *moduleRig) patches() []string {
	var out []string
	for _, c := range rig.takeCalls() {
		if c.method == http.MethodPatch {
			out = append(out, c.path)
		}
	}
	return out
}

// -Confirm through pypsrp's own PSHost: the gateway's PromptForChoice host
// call reaches the client's PSHostUserInterface with PowerShell's prompt,
// and its answer decides what the operator's backend receives.
func TestConfirmWithPypsrpHost(t *testing.T) {
	rig := startModuleRig(t, 10)
	r := confirmPy(t, rig, "widgets_confirm")
	if fmt.Sprint(r["start"]) != "map[w-1:2 w-2:2 w-3:2]" {
		t.Fatalf("widgets at the start: %v", r["start"])
	}
	if fmt.Sprint(r["after_no"]) != "map[w-1:2 w-2:2 w-3:2]" || fmt.Sprint(r["no_errors"]) != "[]" {
		t.Errorf("answering No changed %v (errors %v)", r["after_no"], r["no_errors"])
	}
	if fmt.Sprint(r["after_yes"]) != "map[w-1:5 w-2:2 w-3:2]" || fmt.Sprint(r["yes_output"]) != "[5]" || fmt.Sprint(r["yes_errors"]) != "[]" {
		t.Errorf("answering Yes: %v, output %v, errors %v", r["after_yes"], r["yes_output"], r["yes_errors"])
	}
	if fmt.Sprint(r["after_all"]) != "map[w-1:5 w-2:7 w-3:7]" || fmt.Sprint(r["all_errors"]) != "[]" {
		t.Errorf("No, then Yes to All over three widgets: %v (errors %v)", r["after_all"], r["all_errors"])
	}
	bad := dump(r["bad_errors"])
	if fmt.Sprint(r["after_bad"]) != "map[w-1:5 w-2:7 w-3:7]" ||
		!strings.Contains(bad, "ConfirmFailed,Set-Widget") || !strings.Contains(bad, "not one of the choices") {
		t.Errorf("an answer that is no choice: %v, errors %s", r["after_bad"], bad)
	}
	prompts := r["prompts"].([]any)
	// No + Yes + (No, Yes to All) + the bad answer: five questions.
	if len(prompts) != 5 {
		t.Fatalf("%d prompts, want 5: %s", len(prompts), dump(prompts))
	}
	first := prompts[0].(map[string]any)
	wantMsg := "Are you sure you want to perform this action?\nPerforming the operation \"Set widget\" on target \"w-1\"."
	if first["caption"] != "Confirm" || first["message"] != wantMsg || first["default"] != 0.0 {
		t.Errorf("prompt = %s", dump(first))
	}
	wantChoices := `[[&Yes Continue with only the next step of the operation.] [Yes to &All Continue with all the steps of the operation.] ` +
		`[&No Skip this operation and proceed with the next operation.] [No to A&ll Skip this operation and all subsequent operations.]]`
	if fmt.Sprint(first["choices"]) != wantChoices {
		t.Errorf("choices = %v", first["choices"])
	}
	if m := prompts[3].(map[string]any)["message"]; !strings.Contains(fmt.Sprint(m), `on target "w-2"`) {
		t.Errorf("the pipeline's second prompt is about %v, want w-2", m)
	}
	// The backend saw the Yes and the Yes to All, nothing else.
	if got := fmt.Sprint(rig.patches()); got != "[/api/widgets/w-1 /api/widgets/w-2 /api/widgets/w-3]" {
		t.Errorf("PATCH requests %s", got)
	}
}

// A client without a host (pypsrp's default) has -Confirm refused with
// the catalog's error before the cmdlet runs.
func TestConfirmWithoutHostWithPypsrp(t *testing.T) {
	rig := startModuleRig(t, 10)
	r := confirmPy(t, rig, "no_host")
	errs := dump(r["errors"])
	if !strings.Contains(errs, "ConfirmNeedsHost,Set-Widget") ||
		!strings.Contains(errs, "no interactive host") {
		t.Errorf("errors %s", errs)
	}
	if fmt.Sprint(r["after"]) != "map[w-1:2]" {
		t.Errorf("widgets after: %v", r["after"])
	}
	if p := rig.patches(); len(p) != 0 {
		t.Errorf("PATCH requests %v", p)
	}
}

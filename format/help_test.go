package format

import (
	"strings"
	"testing"

	"github.com/psgate/psgate/psobject"
)

func helpFixture(typeName string) *psobject.Object {
	param := psobject.New([]string{HelpTypeParameter, "System.Object"},
		psobject.P("Name", "Identity"), psobject.P("Type", "string"), psobject.P("Description", "The user."),
		psobject.P("Required", true), psobject.P("Position", "0"), psobject.P("DefaultValue", "None"),
		psobject.P("PipelineInput", "True (ByValue)"), psobject.P("Globbing", false))
	ex := psobject.New([]string{"MamlCommandHelpInfo#example", "System.Object"},
		psobject.P("Code", "Get-X alice"), psobject.P("Remarks", "Gets alice."))
	return psobject.New([]string{typeName, "System.Object"},
		psobject.P("Name", "Get-X"), psobject.P("Synopsis", "Gets X."),
		psobject.P("Syntax", "Get-X [-Identity] <string> [<CommonParameters>]"),
		psobject.P("Description", "Gets an X."),
		psobject.P("Parameters", []any{param}), psobject.P("Examples", []any{ex}))
}

// Help objects are laid out by their type name, on the receiving side of
// a PowerShell session too ("Deserialized." prefix), and only by the
// default view: Format-List shows their properties.
func TestHelpViews(t *testing.T) {
	opt := Options{Newline: "\n"}
	examples := "\nNAME\n    Get-X\n\nSYNOPSIS\n    Gets X.\n\n" +
		"    -------------------------- EXAMPLE 1 --------------------------\n\n" +
		"    PS C:\\>Get-X alice\n\n    Gets alice.\n\n\n\n"
	if got := Default([]any{helpFixture("Deserialized." + HelpTypeExamples)}, opt); got != examples {
		t.Errorf("-Examples view:\n%q\nwant\n%q", got, examples)
	}
	param := "\n-Identity <string>\n    The user.\n\n" +
		"    Required?                    true\n    Position?                    0\n    Default value                None\n" +
		"    Accept pipeline input?       True (ByValue)\n    Accept wildcard characters?  false\n\n\n"
	p, _ := helpFixture(HelpTypeFull).Get("Parameters")
	if got := Default(p.([]any), opt); got != param {
		t.Errorf("parameter view:\n%q\nwant\n%q", got, param)
	}
	full := Default([]any{helpFixture(HelpTypeFull)}, opt)
	for _, want := range []string{"\nPARAMETERS\n    -Identity <string>\n        The user.\n\n        Required?                    true\n", "    <CommonParameters>\n", "\nINPUTS\n    None\n"} {
		if !strings.Contains(full, want) {
			t.Errorf("-Full view lacks %q:\n%s", want, full)
		}
	}
	if strings.Contains(full, "REMARKS") {
		t.Errorf("-Full view has REMARKS:\n%s", full)
	}
	def := Default([]any{helpFixture(HelpType)}, opt)
	if strings.Contains(def, "PARAMETERS") || !strings.Contains(def, "\nREMARKS\n    To see the examples, type: \"get-help Get-X -examples\".\n") {
		t.Errorf("default view:\n%s", def)
	}
	if got := List([]any{helpFixture(HelpType)}, []string{"Name"}, opt); got != "\n\nName : Get-X\n\n\n\n" {
		t.Errorf("Format-List of help = %q", got)
	}
}

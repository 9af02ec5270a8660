package format

import (
	"strings"
	"testing"

	"github.com/psgate/psgate/psobject"
)

// maml is an object of MAML help as PowerShell's MamlNode shapes it: note
// properties and a "MamlCommandHelpInfo#<element>" type name.
func maml(element string, props ...psobject.Property) *psobject.Object {
	return &psobject.Object{TypeNames: []string{HelpType + "#" + element}, Extended: props}
}

// paras is a MAML text: an array of MamlParaTextItem objects.
func paras(texts ...string) []any {
	out := make([]any, len(texts))
	for i, t := range texts {
		out[i] = &psobject.Object{TypeNames: []string{"MamlParaTextItem", "MamlTextItem"}, Extended: []psobject.Property{psobject.P("Text", t)}}
	}
	return out
}

// mamlValue is a text-only MAML element with attributes.
func mamlValue(text, required string) *psobject.Object {
	return &psobject.Object{TypeNames: []string{"System.String", "System.Object"}, Text: text,
		Extended: []psobject.Property{psobject.P("required", required)}}
}

// helpFixture is the help of a command with one parameter and one
// example: single children are objects, not arrays, as in MAML.
func helpFixture(typeName string) *psobject.Object {
	param := maml("parameter",
		psobject.P("name", "Identity"), psobject.P("description", paras("The user.")),
		psobject.P("parameterValue", mamlValue("string", "true")), psobject.P("defaultValue", "None"),
		psobject.P("required", "true"), psobject.P("globbing", "false"),
		psobject.P("pipelineInput", "True (ByValue)"), psobject.P("position", "0"))
	syntaxParam := maml("parameter",
		psobject.P("name", "Identity"), psobject.P("parameterValue", mamlValue("string", "true")),
		psobject.P("required", "false"), psobject.P("position", "0"))
	ex := maml("example",
		psobject.P("title", "-------------------------- EXAMPLE 1 --------------------------"),
		psobject.P("introduction", paras(`PS C:\>`)), psobject.P("code", "Get-X alice"),
		psobject.P("remarks", paras("Gets alice.")))
	return &psobject.Object{TypeNames: []string{typeName, "HelpInfo"}, Extended: []psobject.Property{
		psobject.P("details", maml("details", psobject.P("name", "Get-X"), psobject.P("description", paras("Gets X.")))),
		psobject.P("description", paras("Gets an X.")),
		psobject.P("syntax", maml("syntax", psobject.P("syntaxItem", maml("syntaxItem",
			psobject.P("name", "Get-X"), psobject.P("parameter", syntaxParam))))),
		psobject.P("parameters", maml("parameters", psobject.P("parameter", param))),
		psobject.P("examples", maml("examples", psobject.P("example", ex))),
		psobject.P("Name", "Get-X"), psobject.P("Synopsis", "Gets X."),
	}}
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
	p := helpChild(helpFixture(HelpTypeFull), "parameters")
	if got := Default([]any{helpChild(p, "parameter")}, opt); got != param {
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

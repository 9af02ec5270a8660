package format

import (
	"fmt"
	"strings"

	"github.com/psgate/psgate/psobject"
)

// Type names of Get-Help's objects, as PowerShell names them: the view
// suffix selects the layout (PowerShell's HelpV3.format.ps1xml dispatches
// on the same names).
const (
	HelpType          = "MamlCommandHelpInfo"
	HelpTypeDetailed  = "MamlCommandHelpInfo#DetailedView"
	HelpTypeFull      = "MamlCommandHelpInfo#FullView"
	HelpTypeExamples  = "MamlCommandHelpInfo#ExamplesView"
	HelpTypeParameter = "MamlCommandHelpInfo#parameter"
)

// helpView is one of Get-Help's layouts.
type helpView uint8

const (
	notHelp helpView = iota
	helpDefault
	helpDetailed
	helpFull
	helpExamples
	helpParameter
)

// viewOf returns the help layout o's most derived type name selects. A
// "Deserialized." prefix, which PowerShell adds on the receiving side, is
// ignored.
func viewOf(o *psobject.Object) helpView {
	switch strings.TrimPrefix(o.TypeName(), "Deserialized.") {
	case HelpType:
		return helpDefault
	case HelpTypeDetailed:
		return helpDetailed
	case HelpTypeFull:
		return helpFull
	case HelpTypeExamples:
		return helpExamples
	case HelpTypeParameter:
		return helpParameter
	}
	return notHelp
}

// Help renders a Get-Help object as PowerShell's console shows it, and
// reports whether o is one (its type name is one of the HelpType names).
//
// The layout is Windows PowerShell 5.1's for MAML help: the sections NAME,
// SYNOPSIS, SYNTAX, DESCRIPTION and REMARKS by default; -Detailed adds
// PARAMETERS (name, type and description) and the examples; -Full gives
// each parameter its Required?/Position?/Default value/Accept pipeline
// input?/Accept wildcard characters? lines and adds INPUTS and OUTPUTS;
// -Examples shows NAME, SYNOPSIS and the examples only; -Parameter shows
// the parameter blocks alone. Section bodies are indented four cells and
// wrapped at opt.Width.
func Help(o *psobject.Object, opt Options) (string, bool) {
	view := viewOf(o)
	if view == notHelp {
		return "", false
	}
	opt = opt.withDefaults()
	h := &helpWriter{w: writer{nl: opt.Newline}, width: opt.Width}
	h.object(o, view)
	return h.w.String(), true
}

type helpWriter struct {
	w     writer
	width int
}

// para writes text indented by indent cells, wrapped to the line width;
// each line of text is a paragraph of its own.
func (h *helpWriter) para(indent int, text string) {
	pad := strings.Repeat(" ", indent)
	field := max(h.width-indent, MinWidth)
	for _, l := range splitLines(text) {
		for _, part := range wrap(l, field) {
			h.w.line(pad + part)
		}
	}
}

func (h *helpWriter) heading(s string) { h.w.line(s) }

func (h *helpWriter) object(o *psobject.Object, view helpView) {
	if view == helpParameter {
		h.w.blank()
		h.parameter(o, 0, true)
		h.w.blank()
		return
	}
	name := helpString(o, "Name")
	h.w.blank()
	h.heading("NAME")
	h.para(4, name)
	h.w.blank()
	h.heading("SYNOPSIS")
	h.para(4, helpString(o, "Synopsis"))
	h.w.blank()
	if view == helpExamples {
		h.examples(o)
		return
	}
	h.w.blank()
	syntax := helpString(o, "Syntax")
	h.heading("SYNTAX")
	for i, l := range splitLines(syntax) {
		if i > 0 {
			h.w.blank()
		}
		h.para(4, l)
	}
	h.w.blank()
	h.w.blank()
	h.heading("DESCRIPTION")
	h.para(4, helpString(o, "Description"))
	h.w.blank()
	h.w.blank()
	if view == helpDetailed || view == helpFull {
		h.parameters(o, view == helpFull, strings.Contains(syntax, "<CommonParameters>"))
	}
	if view == helpFull {
		h.heading("INPUTS")
		h.para(4, orNone(helpString(o, "InputType")))
		h.w.blank()
		h.w.blank()
		h.heading("OUTPUTS")
		h.para(4, orNone(helpString(o, "OutputType")))
		h.w.blank()
		h.w.blank()
	}
	if view == helpDetailed || view == helpFull {
		h.examples(o)
	}
	if links := helpStrings(o, "RelatedLinks"); len(links) > 0 {
		h.heading("RELATED LINKS")
		for _, l := range links {
			h.para(4, l)
		}
		h.w.blank()
	}
	if view == helpFull {
		return
	}
	h.heading("REMARKS")
	h.para(4, fmt.Sprintf("To see the examples, type: \"get-help %s -examples\".", name))
	h.para(4, fmt.Sprintf("For more information, type: \"get-help %s -detailed\".", name))
	h.para(4, fmt.Sprintf("For technical information, type: \"get-help %s -full\".", name))
	h.w.blank()
	h.w.blank()
}

// commonParameters is PowerShell's text for <CommonParameters>.
const commonParameters = "This cmdlet supports the common parameters: Verbose, Debug, " +
	"ErrorAction, ErrorVariable, WarningAction, WarningVariable, " +
	"OutBuffer, PipelineVariable, and OutVariable. For more information, see " +
	"about_CommonParameters (https:/go.microsoft.com/fwlink/?LinkID=113216)."

func (h *helpWriter) parameters(o *psobject.Object, full, common bool) {
	h.heading("PARAMETERS")
	for _, p := range helpObjects(o, "Parameters") {
		h.parameter(p, 4, full)
	}
	if common {
		h.para(4, "<CommonParameters>")
		h.para(8, commonParameters)
		h.w.blank()
	}
	h.w.blank()
}

// parameter writes one parameter's block at indent: "-Name <Type>", the
// description, then (when full) the attribute lines and an empty line.
func (h *helpWriter) parameter(p *psobject.Object, indent int, full bool) {
	typ := helpString(p, "Type")
	head := "-" + helpString(p, "Name")
	switch strings.ToLower(typ) {
	case "":
	case "switch", "switchparameter":
		head += " [<SwitchParameter>]"
	default:
		head += " <" + typ + ">"
	}
	h.para(indent, head)
	if d := helpString(p, "Description"); d != "" {
		h.para(indent+4, d)
	}
	h.w.blank()
	if !full {
		return
	}
	attrs := []struct{ label, value string }{
		{"Required?", strings.ToLower(helpString(p, "Required"))},
		{"Position?", helpString(p, "Position")},
		{"Default value", helpString(p, "DefaultValue")},
		{"Accept pipeline input?", helpString(p, "PipelineInput")},
		{"Accept wildcard characters?", strings.ToLower(helpString(p, "Globbing"))},
	}
	for _, a := range attrs {
		h.para(indent+4, fmt.Sprintf("%-29s%s", a.label, a.value))
	}
	h.w.blank()
}

// examples writes each example: its title, the code after a PS C:\>
// prompt and the remarks, indented four cells.
func (h *helpWriter) examples(o *psobject.Object) {
	for i, ex := range helpObjects(o, "Examples") {
		title := helpString(ex, "Title")
		if title == "" {
			title = fmt.Sprintf("-------------------------- EXAMPLE %d --------------------------", i+1)
		}
		h.para(4, title)
		h.w.blank()
		h.para(4, `PS C:\>`+helpString(ex, "Code"))
		h.w.blank()
		if r := helpString(ex, "Remarks"); r != "" {
			h.para(4, r)
		}
		h.w.blank()
		h.w.blank()
		h.w.blank()
	}
}

func orNone(s string) string {
	if s == "" {
		return "None"
	}
	return s
}

// helpString is a property's text; "" when it is missing or null.
func helpString(o *psobject.Object, name string) string {
	v, _ := o.Get(name)
	if list, ok := v.([]any); ok {
		return strings.Join(helpStringList(list), "\n")
	}
	return psobject.Format(v)
}

func helpStrings(o *psobject.Object, name string) []string {
	v, _ := o.Get(name)
	switch x := v.(type) {
	case []any:
		return helpStringList(x)
	case nil:
		return nil
	}
	if s := psobject.Format(v); s != "" {
		return []string{s}
	}
	return nil
}

func helpStringList(list []any) []string {
	out := make([]string, 0, len(list))
	for _, e := range list {
		if s := psobject.Format(e); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// helpObjects returns the objects of a list property.
func helpObjects(o *psobject.Object, name string) []*psobject.Object {
	v, _ := o.Get(name)
	list, _ := v.([]any)
	var out []*psobject.Object
	for _, e := range list {
		if x, ok := e.(*psobject.Object); ok && x != nil {
			out = append(out, x)
		}
	}
	return out
}

package format

import (
	"fmt"
	"strconv"
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
// o has the shape of PowerShell's MAML help (help/MamlNode.cs): details
// (name, description), description, syntax.syntaxItem, parameters.parameter,
// inputTypes.inputType, returnValues.returnValue, examples.example and
// relatedLinks.navigationLink, where a child element that occurs once is a
// single object and paragraphs are MamlParaTextItem objects with a Text.
// It reads the properties PowerShell's help views read
// (Help.format.ps1xml), so one object serves both.
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
	details := helpChild(o, "details")
	name := helpString(details, "name")
	h.w.blank()
	h.heading("NAME")
	h.para(4, name)
	h.w.blank()
	h.heading("SYNOPSIS")
	h.para(4, helpText(details, "description"))
	h.w.blank()
	if view == helpExamples {
		h.examples(o)
		return
	}
	h.w.blank()
	items := helpItems(helpChild(o, "syntax"), "syntaxItem")
	h.heading("SYNTAX")
	for i, item := range items {
		if i > 0 {
			h.w.blank()
		}
		h.para(4, syntaxLine(item))
	}
	h.w.blank()
	h.w.blank()
	h.heading("DESCRIPTION")
	h.para(4, helpText(o, "description"))
	h.w.blank()
	h.w.blank()
	if view == helpDetailed || view == helpFull {
		h.parameters(o, view == helpFull, len(items) > 0)
	}
	if view == helpFull {
		h.heading("INPUTS")
		h.para(4, orNone(typeNames(helpItems(helpChild(o, "inputTypes"), "inputType"))))
		h.w.blank()
		h.w.blank()
		h.heading("OUTPUTS")
		h.para(4, orNone(typeNames(helpItems(helpChild(o, "returnValues"), "returnValue"))))
		h.w.blank()
		h.w.blank()
	}
	if view == helpDetailed || view == helpFull {
		h.examples(o)
	}
	if links := helpItems(helpChild(o, "relatedLinks"), "navigationLink"); len(links) > 0 {
		h.heading("RELATED LINKS")
		for _, l := range links {
			text := helpString(l, "linkText")
			if text != "" {
				text += " "
			}
			h.para(4, text+helpString(l, "uri"))
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

// syntaxLine is one syntaxItem as PowerShell's MamlParameterControl writes
// it: the name, then each parameter bracketed by whether it is required
// and positional, then [<CommonParameters>].
func syntaxLine(item *psobject.Object) string {
	parts := []string{helpString(item, "name")}
	for _, p := range helpItems(item, "parameter") {
		optional := !strings.EqualFold(helpString(p, "required"), "true")
		position := helpString(p, "position")
		_, err := strconv.Atoi(position)
		positional := err == nil
		value := ""
		if g, ok := p.Get("parameterValueGroup"); ok {
			var values []string
			if g, ok := g.(*psobject.Object); ok {
				values = helpStrings(g, "parameterValue")
			}
			value = " {" + strings.Join(values, " | ") + "}"
		} else if v, ok := p.Get("parameterValue"); ok {
			value = " <" + psobject.Format(v) + ">"
		}
		name := helpString(p, "name")
		switch {
		case optional && positional:
			parts = append(parts, "[[-"+name+"]"+value+"]")
		case optional:
			parts = append(parts, "[-"+name+value+"]")
		case positional:
			parts = append(parts, "[-"+name+"]"+value)
		default:
			parts = append(parts, "-"+name+value)
		}
	}
	return strings.Join(append(parts, "[<CommonParameters>]"), " ")
}

// typeNames joins the type names of inputType or returnValue objects.
func typeNames(items []*psobject.Object) string {
	var names []string
	for _, it := range items {
		names = append(names, helpStrings(helpChild(it, "type"), "name")...)
	}
	return strings.Join(names, ", ")
}

// commonParameters is PowerShell's text for <CommonParameters>.
const commonParameters = "This cmdlet supports the common parameters: Verbose, Debug, " +
	"ErrorAction, ErrorVariable, WarningAction, WarningVariable, " +
	"OutBuffer, PipelineVariable, and OutVariable. For more information, see " +
	"about_CommonParameters (https:/go.microsoft.com/fwlink/?LinkID=113216)."

func (h *helpWriter) parameters(o *psobject.Object, full, common bool) {
	h.heading("PARAMETERS")
	for _, p := range helpItems(helpChild(o, "parameters"), "parameter") {
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
// The value is bracketed unless its required note is "true", as
// PowerShell's MamlParameterValueControl does ("-Force [<SwitchParameter>]").
func (h *helpWriter) parameter(p *psobject.Object, indent int, full bool) {
	head := "-" + helpString(p, "name")
	if v, ok := p.Get("parameterValue"); ok && v != nil {
		required := ""
		if vo, ok := v.(*psobject.Object); ok {
			required = helpString(vo, "required")
		}
		if strings.EqualFold(required, "true") {
			head += " <" + psobject.Format(v) + ">"
		} else {
			head += " [<" + psobject.Format(v) + ">]"
		}
	}
	h.para(indent, head)
	if d := helpText(p, "description"); d != "" {
		h.para(indent+4, d)
	}
	h.w.blank()
	if !full {
		return
	}
	attrs := []struct{ label, value string }{
		{"Required?", strings.ToLower(helpString(p, "required"))},
		{"Position?", helpString(p, "position")},
		{"Default value", helpString(p, "defaultValue")},
		{"Accept pipeline input?", helpString(p, "pipelineInput")},
		{"Accept wildcard characters?", strings.ToLower(helpString(p, "globbing"))},
	}
	for _, a := range attrs {
		h.para(indent+4, fmt.Sprintf("%-29s%s", a.label, a.value))
	}
	h.w.blank()
}

// examples writes each example: its title, the introduction (the PS C:\>
// prompt) and code, and the remarks, indented four cells.
func (h *helpWriter) examples(o *psobject.Object) {
	for i, ex := range helpItems(helpChild(o, "examples"), "example") {
		title := helpString(ex, "title")
		if title == "" {
			title = fmt.Sprintf("-------------------------- EXAMPLE %d --------------------------", i+1)
		}
		h.para(4, title)
		h.w.blank()
		intro := strings.Join(paraTexts(ex, "introduction"), "")
		h.para(4, intro+helpString(ex, "code"))
		h.w.blank()
		if r := helpText(ex, "remarks"); r != "" {
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

// helpString is a property's text; "" when o is nil or the property is
// missing or null. A list's items are joined by line breaks.
func helpString(o *psobject.Object, name string) string {
	if o == nil {
		return ""
	}
	v, _ := o.Get(name)
	if list, ok := v.([]any); ok {
		return strings.Join(helpStringList(list), "\n")
	}
	return psobject.Format(v)
}

// helpStrings is a property's text, one string per item of a list.
func helpStrings(o *psobject.Object, name string) []string {
	if o == nil {
		return nil
	}
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

// helpChild is an object property's value, or nil.
func helpChild(o *psobject.Object, name string) *psobject.Object {
	if o == nil {
		return nil
	}
	v, _ := o.Get(name)
	c, _ := v.(*psobject.Object)
	return c
}

// propList is the value of o's property name as a list: MAML gives a
// single child as the value itself, several as a list.
func propList(o *psobject.Object, name string) []any {
	if o == nil {
		return nil
	}
	v, _ := o.Get(name)
	if list, ok := v.([]any); ok {
		return list
	}
	return []any{v}
}

// helpItems is the objects of a property that holds one object or a list
// of them (MAML gives a single child as the object itself).
func helpItems(o *psobject.Object, name string) []*psobject.Object {
	var out []*psobject.Object
	for _, e := range propList(o, name) {
		if x, ok := e.(*psobject.Object); ok && x != nil {
			out = append(out, x)
		}
	}
	return out
}

// paraTexts is the Text of each paragraph of a MAML text property (a list
// of MamlParaTextItem objects); a plain string counts as one paragraph.
func paraTexts(o *psobject.Object, name string) []string {
	var out []string
	for _, e := range propList(o, name) {
		switch x := e.(type) {
		case nil:
		case *psobject.Object:
			if t, ok := x.Get("Text"); ok {
				out = append(out, psobject.Format(t))
			} else {
				out = append(out, x.String())
			}
		default:
			out = append(out, psobject.Format(e))
		}
	}
	return out
}

// helpText is a MAML text property as PowerShell's views write it: each
// paragraph's Text followed by a line break (a paragraph that is not the
// last already ends with one, which leaves an empty line between them).
func helpText(o *psobject.Object, name string) string {
	return strings.Join(paraTexts(o, name), "\n")
}

package builtin

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/psobject"
)

// TabExpansion2 is what a PowerShell client's console host calls on the
// server when the user presses Tab in Enter-PSSession
// (CommandCompletion.CompleteInput on a remote runspace): `TabExpansion2
// <input> <cursor> <options>` with positional arguments. The client keeps
// the single result only if it deserializes as a CommandCompletion, and
// ignores failures.
func tabExpansion2Cmd() *engine.Command {
	return &engine.Command{
		Name:     "TabExpansion2",
		Synopsis: "Completes a command line, as the console's Tab key asks.",
		Description: "TabExpansion2 completes the word at the cursor of a command line: a command name the caller may run, " +
			"or a parameter name of that command. It writes one System.Management.Automation.CommandCompletion object.",
		Unlisted:   true,
		OutputType: []string{"System.Management.Automation.CommandCompletion"},
		Parameters: []engine.Parameter{
			{Name: "inputScript", Type: engine.TypeString, Position: 0, Help: "The command line."},
			{Name: "cursorColumn", Type: engine.TypeInt, Position: 1, Help: "The cursor's offset in the line, in UTF-16 code units; the end of the line by default."},
			{Name: "options", Type: engine.TypeObject, Position: 2, Help: "Completion options (a hashtable); accepted and ignored."},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			text := inv.String("inputScript")
			cursor := -1
			if v, ok := inv.Int("cursorColumn"); ok {
				cursor = int(v)
			}
			inv.Write(CompleteInput(inv.Runspace, text, cursor).Object())
			return nil
		},
	}
}

// CompletionResultType values (System.Management.Automation.CompletionResultType).
const (
	CompletionCommand       int32 = 2
	CompletionParameterName int32 = 7
)

// CompletionResult is one candidate of a completion.
type CompletionResult struct {
	CompletionText, ListItemText string
	ResultType                   int32
	ToolTip                      string
}

// CommandCompletion is the result of completing a command line: the
// candidates and the part of the line (in UTF-16 code units, as .NET
// strings count) a candidate replaces.
type CommandCompletion struct {
	Matches                             []CompletionResult
	ReplacementIndex, ReplacementLength int
}

// completionContext is what the text before the cursor says about the
// word being completed.
type completionContext struct {
	// start is the word's offset in the input, in UTF-16 code units.
	start int
	word  string
	// command is the first word of the word's pipeline element, "" when
	// the word itself is in command position.
	command string
	// previous are the words between the command and the word.
	previous []string
	// ok is false when nothing can be completed there (inside a string,
	// after a variable or an expression).
	ok bool
}

// analyzeCompletion reads the line up to the cursor: it splits the last
// pipeline element into words, honouring quotes. cursor < 0 or beyond the
// end means the end of the line.
func analyzeCompletion(input string, cursor int) completionContext {
	units := utf16.Encode([]rune(input))
	if cursor < 0 || cursor > len(units) {
		cursor = len(units)
	}
	prefix := string(utf16.Decode(units[:cursor]))
	var words []string
	var starts []int
	var cur strings.Builder
	curStart, pos := 0, 0 // pos counts UTF-16 units
	inWord := false
	var quote rune
	for _, r := range prefix {
		width := utf16.RuneLen(r)
		if width < 0 {
			width = 1
		}
		switch {
		case quote != 0:
			cur.WriteRune(r)
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			if !inWord {
				inWord, curStart = true, pos
			}
			quote = r
			cur.WriteRune(r)
		case r == '|' || r == ';' || r == '\n' || r == '\r' || r == '{' || r == '(' || r == '}' || r == ')':
			// A new pipeline element or statement begins.
			words, starts = words[:0], starts[:0]
			cur.Reset()
			inWord = false
		case unicode.IsSpace(r):
			if inWord {
				words, starts = append(words, cur.String()), append(starts, curStart)
				cur.Reset()
				inWord = false
			}
		default:
			if !inWord {
				inWord, curStart = true, pos
			}
			cur.WriteRune(r)
		}
		pos += width
	}
	if quote != 0 {
		return completionContext{start: pos}
	}
	c := completionContext{start: pos, ok: true}
	if inWord {
		c.word, c.start = cur.String(), curStart
	}
	if len(words) > 0 {
		c.command, c.previous = words[0], words[1:]
	}
	if strings.HasPrefix(c.word, "$") || strings.ContainsAny(c.word, "'\"") {
		c.ok = false
	}
	return c
}

// CompleteInput completes the word at the cursor of a command line for the
// runspace's caller: a command name in command position, a parameter name
// ("-Ide" → "-Identity") after a command. Only commands the caller may see
// are offered, as Get-Command lists them.
func CompleteInput(r *engine.Runspace, input string, cursor int) CommandCompletion {
	c := analyzeCompletion(input, cursor)
	out := CommandCompletion{ReplacementIndex: c.start, ReplacementLength: utf16Len(c.word)}
	if !c.ok || c.word == "" {
		return out
	}
	switch {
	case c.command == "":
		pattern, err := engine.CompileWildcard(c.word+"*", false)
		if err != nil {
			return out
		}
		for _, cmd := range r.VisibleCommands() {
			if pattern.Match(cmd.Name) {
				out.Matches = append(out.Matches, CompletionResult{
					CompletionText: cmd.Name, ListItemText: cmd.Name, ResultType: CompletionCommand,
					ToolTip: strings.Join(cmd.Syntax(), "\r\n"),
				})
			}
		}
	case strings.HasPrefix(c.word, "-"):
		cmd, ok := r.LookupVisible(c.command)
		if !ok || cmd.Unlisted {
			return out
		}
		pattern, err := engine.CompileWildcard(c.word[1:]+"*", false)
		if err != nil {
			return out
		}
		used := map[string]bool{}
		for _, w := range c.previous {
			if strings.HasPrefix(w, "-") {
				name, _, _ := strings.Cut(w[1:], ":")
				used[strings.ToLower(name)] = true
			}
		}
		for _, m := range cmd.Metadata() {
			if used[strings.ToLower(m.Name)] || !pattern.Match(m.Name) {
				continue
			}
			out.Matches = append(out.Matches, CompletionResult{
				CompletionText: "-" + m.Name, ListItemText: m.Name, ResultType: CompletionParameterName,
				ToolTip: "[" + tooltipType(m.TypeName) + "] " + m.Name,
			})
		}
	}
	return out
}

func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

// tooltipType names a parameter type as PowerShell's tooltips do
// ("[string] Identity").
func tooltipType(dotnet string) string {
	if n, ok := typeAccelerators[dotnet]; ok {
		return n
	}
	if i := strings.LastIndexByte(dotnet, '.'); i >= 0 {
		return dotnet[i+1:]
	}
	return dotnet
}

// typeAccelerators are the names PowerShell's tooltips give common types.
var typeAccelerators = map[string]string{
	"System.String": "string", "System.String[]": "string[]", "System.Int32": "int", "System.Int64": "long",
	"System.Boolean": "bool", "System.Management.Automation.SwitchParameter": "switch",
	"System.DateTime": "datetime", "System.TimeSpan": "timespan", "System.Double": "double",
	"System.Object": "Object", "System.Object[]": "Object[]",
}

// Object returns the completion as PowerShell serializes a
// System.Management.Automation.CommandCompletion (SerializationDepth 1):
// the client's deserializer rehydrates it, and each CompletionResult, from
// these property names.
func (cc CommandCompletion) Object() *psobject.Object {
	matches := make([]any, len(cc.Matches))
	for i, m := range cc.Matches {
		matches[i] = m.object()
	}
	// CurrentMatchIndex -1: no candidate chosen yet, as CompleteInput
	// returns it.
	o := psobject.New([]string{"System.Management.Automation.CommandCompletion", "System.Object"},
		psobject.P("CurrentMatchIndex", int32(-1)),
		psobject.P("ReplacementIndex", int32(cc.ReplacementIndex)),
		psobject.P("ReplacementLength", int32(cc.ReplacementLength)),
		psobject.P("CompletionMatches", matches),
	)
	o.Text = "System.Management.Automation.CommandCompletion"
	return o
}

var completionResultTypeNames = map[int32]string{
	0: "Text", 1: "History", 2: "Command", 3: "ProviderItem", 4: "ProviderContainer", 5: "Property",
	6: "Method", 7: "ParameterName", 8: "ParameterValue", 9: "Variable", 10: "Namespace", 11: "Type",
	12: "Keyword", 13: "DynamicKeyword",
}

func (m CompletionResult) object() *psobject.Object {
	o := psobject.New([]string{"System.Management.Automation.CompletionResult", "System.Object"},
		psobject.P("CompletionText", m.CompletionText),
		psobject.P("ListItemText", m.ListItemText),
		psobject.P("ResultType", psobject.Enum{Type: "System.Management.Automation.CompletionResultType",
			Name: completionResultTypeNames[m.ResultType], Value: m.ResultType}),
		psobject.P("ToolTip", m.ToolTip),
	)
	o.Text = m.CompletionText
	return o
}

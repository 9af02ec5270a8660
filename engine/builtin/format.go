package builtin

import (
	"context"
	"math"
	"strings"

	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/format"
)

func formatTableCmd() *engine.Command {
	return &engine.Command{
		Name:        "Format-Table",
		Aliases:     []string{"ft"},
		Synopsis:    "Formats the output as a table.",
		Description: "Format-Table renders its input as a table of the chosen properties (or the objects' default ones) and writes the table's text, one string per line. Columns are sized to their content.",
		StreamInput: true,
		Parameters: []engine.Parameter{
			inputObjectParam("The objects to format; usually piped in."),
			{Name: "Property", Type: engine.TypeObjectArray, Position: 0, Help: "The properties to show as columns. Wildcards are allowed."},
			{Name: "AutoSize", Type: engine.TypeSwitch, Position: engine.NotPositional, Help: "Accepted for compatibility: columns are always sized to their content."},
			{Name: "Wrap", Type: engine.TypeSwitch, Position: engine.NotPositional, Help: "Accepted for compatibility."},
		},
		Examples: []engine.Example{
			{Code: "Get-CsOnlineUser | Format-Table DisplayName, Department", Remarks: "A two-column table of users."},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			return renderInput(ctx, inv, func(objs []any, opt format.Options) string {
				return format.Table(objs, stringsParam(inv, "Property"), opt)
			}, true)
		},
	}
}

func formatListCmd() *engine.Command {
	return &engine.Command{
		Name:        "Format-List",
		Aliases:     []string{"fl"},
		Synopsis:    "Formats the output as a list of properties.",
		Description: "Format-List renders each input object as \"Name : Value\" lines of the chosen properties (or the objects' default ones) and writes the text, one string per line.",
		StreamInput: true,
		Parameters: []engine.Parameter{
			inputObjectParam("The objects to format; usually piped in."),
			{Name: "Property", Type: engine.TypeObjectArray, Position: 0, Help: "The properties to show. Wildcards are allowed; * shows all."},
		},
		Examples: []engine.Example{
			{Code: "Get-CsOnlineUser alice@contoso.com | Format-List *", Remarks: "Shows every property of one user."},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			return renderInput(ctx, inv, func(objs []any, opt format.Options) string {
				return format.List(objs, stringsParam(inv, "Property"), opt)
			}, true)
		},
	}
}

func outStringCmd() *engine.Command {
	return &engine.Command{
		Name:        "Out-String",
		Synopsis:    "Renders objects as text.",
		Description: "Out-String renders its input as PowerShell displays it (a table for objects with few properties, a list otherwise) and writes the text as one string, or one string per line with -Stream.",
		StreamInput: true,
		Parameters: []engine.Parameter{
			inputObjectParam("The objects to render; usually piped in."),
			{Name: "Width", Type: engine.TypeInt, Position: engine.NotPositional, ValidateRange: &engine.Range{Min: 2, Max: math.MaxInt32}, Help: "The line width; the session's width by default."},
			{Name: "Stream", Type: engine.TypeSwitch, Position: engine.NotPositional, Help: "Writes one string per line instead of a single string."},
		},
		Examples: []engine.Example{
			{Code: "Get-CsTenant | Out-String -Width 200", Remarks: "The tenant as text, 200 columns wide."},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			return renderInput(ctx, inv, format.Default, inv.Switch("Stream"))
		},
	}
}

func outDefaultCmd() *engine.Command {
	return &engine.Command{
		Name:        "Out-Default",
		Synopsis:    "Renders objects as text for display.",
		Description: "Out-Default renders its input as PowerShell's console shows it and writes the text, one string per line. Interactive sessions append it to every command line.",
		StreamInput: true,
		Parameters: []engine.Parameter{
			inputObjectParam("The objects to display; usually piped in."),
			{Name: "Transcript", Type: engine.TypeSwitch, Position: engine.NotPositional, Help: "Accepted for compatibility."},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			return renderInput(ctx, inv, format.Default, true)
		},
	}
}

func outNullCmd() *engine.Command {
	return &engine.Command{
		Name:        "Out-Null",
		Synopsis:    "Discards its input.",
		Description: "Out-Null reads its input and writes nothing.",
		StreamInput: true,
		Parameters:  []engine.Parameter{inputObjectParam("The objects to discard.")},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			return eachInput(ctx, inv, func(any) (bool, error) { return true, nil })
		},
	}
}

// renderInput collects the input, renders it and writes the text as one
// string or one string per line.
func renderInput(ctx context.Context, inv *engine.Invocation, render func([]any, format.Options) string, lines bool) error {
	objs, err := allInput(ctx, inv)
	if err != nil {
		return err
	}
	for i, o := range objs {
		// Error records merged into the output show as the console
		// shows errors.
		if rec, ok := o.(*engine.ErrorRecord); ok {
			objs[i] = strings.Join(rec.DisplayText(), "\n")
		}
	}
	opt := format.Options{Width: inv.Runspace.FormatWidth(), Newline: inv.Runspace.Newline()}
	if w, ok := inv.Int("Width"); ok {
		opt.Width = int(w)
	}
	if len(objs) == 0 {
		return nil
	}
	text := render(objs, opt)
	if !lines {
		inv.Write(text)
		return nil
	}
	text = strings.TrimSuffix(text, opt.Newline)
	for _, l := range strings.Split(text, opt.Newline) {
		inv.Write(l)
	}
	return nil
}

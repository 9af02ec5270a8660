package builtin

import (
	"context"
	"math"
	"strings"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
)

func writeOutputCmd() *engine.Command {
	return &engine.Command{
		Name:        "Write-Output",
		Aliases:     []string{"echo", "write"},
		Synopsis:    "Writes objects to the pipeline.",
		Description: "Write-Output writes its arguments (collections are enumerated unless -NoEnumerate) and passes its pipeline input on.",
		StreamInput: true,
		Parameters: []engine.Parameter{
			{Name: "InputObject", Type: engine.TypeObjectArray, Position: 0, ValueFromPipeline: true, ValueFromRemainingArguments: true, Help: "The objects to write."},
			{Name: "NoEnumerate", Type: engine.TypeSwitch, Position: engine.NotPositional, Help: "Writes a collection as one object."},
		},
		Examples: []engine.Example{
			{Code: "Write-Output 'one' 'two'", Remarks: "Writes two strings."},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			if v, ok := inv.Params["InputObject"]; ok {
				if inv.Switch("NoEnumerate") {
					inv.Write(v)
					return nil
				}
				for _, e := range v.([]any) {
					inv.Write(e)
				}
				return nil
			}
			return eachInput(ctx, inv, func(obj any) (bool, error) {
				inv.Write(obj)
				return true, nil
			})
		},
	}
}

func writeHostCmd() *engine.Command {
	return &engine.Command{
		Name:        "Write-Host",
		Synopsis:    "Writes text to the host (the user's console).",
		Description: "Write-Host writes its arguments, separated by spaces, to the information stream with the PSHOST tag, which consoles display.",
		StreamInput: true,
		Parameters: []engine.Parameter{
			{Name: "Object", Type: engine.TypeObjectArray, Position: 0, ValueFromPipeline: true, ValueFromRemainingArguments: true, Help: "What to write."},
			{Name: "Separator", Type: engine.TypeString, Position: engine.NotPositional, Help: "Put between the objects; a space by default."},
			{Name: "NoNewline", Type: engine.TypeSwitch, Position: engine.NotPositional, Help: "Writes no newline after the text."},
			{Name: "ForegroundColor", Type: engine.TypeString, Position: engine.NotPositional, ValidateSet: consoleColorNames, Help: "The text colour (a System.ConsoleColor name)."},
			{Name: "BackgroundColor", Type: engine.TypeString, Position: engine.NotPositional, ValidateSet: consoleColorNames, Help: "The background colour (a System.ConsoleColor name)."},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			msg := engine.HostMessage{
				Foreground: consoleColor(inv.String("ForegroundColor")),
				Background: consoleColor(inv.String("BackgroundColor")),
				NoNewline:  inv.Switch("NoNewline"),
			}
			write := func(text string) {
				m := msg
				m.Text = text
				inv.WriteHostMessage(m)
			}
			sep := " "
			if inv.Bound("Separator") {
				sep = inv.String("Separator")
			}
			join := func(v any) string {
				list, ok := engine.AsList(v)
				if !ok {
					return engine.ToText(v)
				}
				parts := make([]string, len(list))
				for i, e := range list {
					parts[i] = engine.ToText(e)
				}
				return strings.Join(parts, sep)
			}
			if v, ok := inv.Params["Object"]; ok {
				write(join(v))
				return nil
			}
			return eachInput(ctx, inv, func(obj any) (bool, error) {
				write(join(obj))
				return true, nil
			})
		},
	}
}

// consoleColorNames are the System.ConsoleColor members, by value.
var consoleColorNames = []string{"Black", "DarkBlue", "DarkGreen", "DarkCyan", "DarkRed", "DarkMagenta",
	"DarkYellow", "Gray", "DarkGray", "Blue", "Green", "Cyan", "Red", "Magenta", "Yellow", "White"}

// consoleColor returns a colour name's value, NoColor for "".
func consoleColor(name string) int32 {
	for i, n := range consoleColorNames {
		if strings.EqualFold(n, name) {
			return int32(i)
		}
	}
	return engine.NoColor
}

// maxCategory is the last ErrorCategory member (NotEnabled); every value
// from 0 to it is a member.
const maxCategory engine.Category = 31

// errorCategoryNames lists ErrorCategory members for -Category.
func errorCategoryNames() []string {
	names := make([]string, 0, maxCategory+1)
	for c := engine.Category(0); c <= maxCategory; c++ {
		names = append(names, c.String())
	}
	return names
}

func writeErrorCmd() *engine.Command {
	return &engine.Command{
		Name:        "Write-Error",
		Synopsis:    "Writes a non-terminating error.",
		Description: "Write-Error writes an error record to the error stream; the pipeline goes on.",
		Parameters: []engine.Parameter{
			{Name: "Message", Type: engine.TypeString, Position: 0, Mandatory: true, ValueFromPipeline: true, Aliases: []string{"Msg"}, Help: "The error message."},
			{Name: "Category", Type: engine.TypeString, Position: engine.NotPositional, ValidateSet: errorCategoryNames(), Help: "The error category; NotSpecified by default."},
			{Name: "ErrorId", Type: engine.TypeString, Position: engine.NotPositional, Help: "The error id."},
			{Name: "TargetObject", Type: engine.TypeObject, Position: engine.NotPositional, Help: "The object the error is about."},
			{Name: "RecommendedAction", Type: engine.TypeString, Position: engine.NotPositional, Help: "What the user should do."},
		},
		Examples: []engine.Example{
			{Code: "Write-Error 'The user was not found.' -Category ObjectNotFound", Remarks: "Writes an error."},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			e := psgate.E(psgate.CodeInvalidOperation, psgate.Args{"detail": inv.String("Message")})
			if inv.Bound("RecommendedAction") {
				e.Resolution = inv.String("RecommendedAction")
			}
			cat := engine.CategoryNotSpecified
			for c := engine.Category(0); c <= maxCategory; c++ {
				if c.String() == inv.String("Category") {
					cat = c
				}
			}
			id := "Microsoft.PowerShell.Commands.WriteErrorException"
			if inv.Bound("ErrorId") {
				id = inv.String("ErrorId")
			}
			rec := engine.NewErrorRecord(e, id, cat, inv.Params["TargetObject"])
			rec.ExceptionType = "Microsoft.PowerShell.Commands.WriteErrorException"
			rec.Reason = "WriteErrorException"
			inv.WriteError(rec)
			return nil
		},
	}
}

// messageCmd builds Write-Warning, Write-Verbose and Write-Debug.
func messageCmd(name, synopsis, description string, write func(*engine.Invocation, string)) *engine.Command {
	return &engine.Command{
		Name:        name,
		Synopsis:    synopsis,
		Description: description,
		Parameters: []engine.Parameter{
			{Name: "Message", Type: engine.TypeString, Position: 0, Mandatory: true, ValueFromPipeline: true, Aliases: []string{"Msg"}, Help: "The message."},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			write(inv, inv.String("Message"))
			return nil
		},
	}
}

func writeWarningCmd() *engine.Command {
	return messageCmd("Write-Warning", "Writes a warning.", "Write-Warning writes a message to the warning stream.",
		(*engine.Invocation).WriteWarning)
}

func writeVerboseCmd() *engine.Command {
	return messageCmd("Write-Verbose", "Writes a verbose message.", "Write-Verbose writes a message to the verbose stream, shown only with -Verbose.",
		(*engine.Invocation).WriteVerbose)
}

func writeDebugCmd() *engine.Command {
	return messageCmd("Write-Debug", "Writes a debug message.", "Write-Debug writes a message to the debug stream, shown only with -Debug.",
		(*engine.Invocation).WriteDebug)
}

func writeInformationCmd() *engine.Command {
	return &engine.Command{
		Name:        "Write-Information",
		Synopsis:    "Writes an information record.",
		Description: "Write-Information writes a message, with optional tags, to the information stream.",
		Parameters: []engine.Parameter{
			{Name: "MessageData", Type: engine.TypeObject, Position: 0, Mandatory: true, ValueFromPipeline: true, Aliases: []string{"Msg", "Message"}, Help: "The message or object."},
			{Name: "Tags", Type: engine.TypeStringArray, Position: 1, Help: "Tags for filtering."},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			inv.WriteInformation(engine.InformationRecord{MessageData: inv.Params["MessageData"], Tags: inv.Strings("Tags")})
			return nil
		},
	}
}

func writeProgressCmd() *engine.Command {
	return &engine.Command{
		Name:        "Write-Progress",
		Synopsis:    "Writes a progress record.",
		Description: "Write-Progress reports the progress of an activity; clients show it as a progress bar.",
		Parameters: []engine.Parameter{
			{Name: "Activity", Type: engine.TypeString, Position: 0, Mandatory: true, Help: "What is in progress."},
			{Name: "Status", Type: engine.TypeString, Position: 1, Help: "The current state; \"Processing\" by default."},
			{Name: "Id", Type: engine.TypeInt, Position: 2, Help: "Tells apart simultaneous progress bars."},
			{Name: "PercentComplete", Type: engine.TypeInt, Position: engine.NotPositional, ValidateRange: &engine.Range{Min: -1, Max: 100}, Help: "How much is done, 0 to 100; -1 when unknown."},
			{Name: "SecondsRemaining", Type: engine.TypeInt, Position: engine.NotPositional, Help: "The estimated time left."},
			{Name: "CurrentOperation", Type: engine.TypeString, Position: engine.NotPositional, Help: "What is being done now."},
			{Name: "ParentId", Type: engine.TypeInt, Position: engine.NotPositional, ValidateRange: &engine.Range{Min: -1, Max: math.MaxInt32}, Help: "The Id of the parent activity."},
			{Name: "Completed", Type: engine.TypeSwitch, Position: engine.NotPositional, Help: "Marks the activity as finished."},
		},
		Examples: []engine.Example{
			{Code: "Write-Progress -Activity 'Import' -Status 'Half way' -PercentComplete 50", Remarks: "Shows a progress bar at 50%."},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			rec := engine.ProgressRecord{
				Activity:          inv.String("Activity"),
				StatusDescription: "Processing",
				CurrentOperation:  inv.String("CurrentOperation"),
				ParentActivityID:  -1,
				PercentComplete:   -1,
				SecondsRemaining:  -1,
				Completed:         inv.Switch("Completed"),
			}
			if inv.Bound("Status") {
				rec.StatusDescription = inv.String("Status")
			}
			if v, ok := inv.Int("Id"); ok {
				rec.ActivityID = v
			}
			if v, ok := inv.Int("PercentComplete"); ok {
				rec.PercentComplete = v
			}
			if v, ok := inv.Int("SecondsRemaining"); ok {
				rec.SecondsRemaining = v
			}
			if v, ok := inv.Int("ParentId"); ok {
				rec.ParentActivityID = v
			}
			inv.WriteProgress(rec)
			return nil
		},
	}
}

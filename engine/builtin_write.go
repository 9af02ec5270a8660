package engine

import (
	"context"
	"math"
	"strings"

	"github.com/psgate/psgate"
)

func writeOutputCmd() *Command {
	return &Command{
		Name:        "Write-Output",
		Aliases:     []string{"echo", "write"},
		Synopsis:    "Writes objects to the pipeline.",
		Description: "Write-Output writes its arguments (collections are enumerated unless -NoEnumerate) and passes its pipeline input on.",
		StreamInput: true,
		Parameters: []Parameter{
			{Name: "InputObject", Type: TypeObjectArray, Position: 0, ValueFromPipeline: true, ValueFromRemainingArguments: true, Help: "The objects to write."},
			{Name: "NoEnumerate", Type: TypeSwitch, Position: NotPositional, Help: "Writes a collection as one object."},
		},
		Examples: []Example{
			{Code: "Write-Output 'one' 'two'", Remarks: "Writes two strings."},
		},
		Run: func(ctx context.Context, inv *Invocation) error {
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

func writeHostCmd() *Command {
	return &Command{
		Name:        "Write-Host",
		Synopsis:    "Writes text to the host (the user's console).",
		Description: "Write-Host writes its arguments, separated by spaces, to the information stream with the PSHOST tag, which consoles display.",
		StreamInput: true,
		Parameters: []Parameter{
			{Name: "Object", Type: TypeObjectArray, Position: 0, ValueFromPipeline: true, ValueFromRemainingArguments: true, Help: "What to write."},
			{Name: "Separator", Type: TypeString, Position: NotPositional, Help: "Put between the objects; a space by default."},
			{Name: "NoNewline", Type: TypeSwitch, Position: NotPositional, Help: "Writes no newline after the text."},
			{Name: "ForegroundColor", Type: TypeString, Position: NotPositional, ValidateSet: consoleColorNames, Help: "The text colour (a System.ConsoleColor name)."},
			{Name: "BackgroundColor", Type: TypeString, Position: NotPositional, ValidateSet: consoleColorNames, Help: "The background colour (a System.ConsoleColor name)."},
		},
		Run: func(ctx context.Context, inv *Invocation) error {
			msg := HostMessage{
				Foreground: consoleColor(inv.String("ForegroundColor")),
				Background: consoleColor(inv.String("BackgroundColor")),
				NoNewline:  inv.Switch("NoNewline"),
			}
			write := func(text string) {
				m := msg
				m.Text = text
				inv.writeHost(m)
			}
			sep := " "
			if inv.Bound("Separator") {
				sep = inv.String("Separator")
			}
			join := func(v any) string {
				list, ok := asList(v)
				if !ok {
					return toText(v)
				}
				parts := make([]string, len(list))
				for i, e := range list {
					parts[i] = toText(e)
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
	return NoColor
}

// errorCategoryNames lists ErrorCategory members for -Category.
func errorCategoryNames() []string {
	names := make([]string, 0, len(categoryNames))
	for i := Category(0); i < 32; i++ {
		if n, ok := categoryNames[i]; ok {
			names = append(names, n)
		}
	}
	return names
}

func writeErrorCmd() *Command {
	return &Command{
		Name:        "Write-Error",
		Synopsis:    "Writes a non-terminating error.",
		Description: "Write-Error writes an error record to the error stream; the pipeline goes on.",
		Parameters: []Parameter{
			{Name: "Message", Type: TypeString, Position: 0, Mandatory: true, ValueFromPipeline: true, Aliases: []string{"Msg"}, Help: "The error message."},
			{Name: "Category", Type: TypeString, Position: NotPositional, ValidateSet: errorCategoryNames(), Help: "The error category; NotSpecified by default."},
			{Name: "ErrorId", Type: TypeString, Position: NotPositional, Help: "The error id."},
			{Name: "TargetObject", Type: TypeObject, Position: NotPositional, Help: "The object the error is about."},
			{Name: "RecommendedAction", Type: TypeString, Position: NotPositional, Help: "What the user should do."},
		},
		Examples: []Example{
			{Code: "Write-Error 'The user was not found.' -Category ObjectNotFound", Remarks: "Writes an error."},
		},
		Run: func(ctx context.Context, inv *Invocation) error {
			e := psgate.E(psgate.CodeInvalidOperation, psgate.Args{"detail": inv.String("Message")})
			if inv.Bound("RecommendedAction") {
				e.Resolution = inv.String("RecommendedAction")
			}
			cat := CategoryNotSpecified
			for c, n := range categoryNames {
				if n == inv.String("Category") {
					cat = c
				}
			}
			id := "Microsoft.PowerShell.Commands.WriteErrorException"
			if inv.Bound("ErrorId") {
				id = inv.String("ErrorId")
			}
			rec := NewErrorRecord(e, id, cat, inv.Params["TargetObject"])
			rec.ExceptionType = "Microsoft.PowerShell.Commands.WriteErrorException"
			rec.Reason = "WriteErrorException"
			inv.WriteError(rec)
			return nil
		},
	}
}

// messageCmd builds Write-Warning, Write-Verbose and Write-Debug.
func messageCmd(name, synopsis, description string, write func(*Invocation, string)) *Command {
	return &Command{
		Name:        name,
		Synopsis:    synopsis,
		Description: description,
		Parameters: []Parameter{
			{Name: "Message", Type: TypeString, Position: 0, Mandatory: true, ValueFromPipeline: true, Aliases: []string{"Msg"}, Help: "The message."},
		},
		Run: func(ctx context.Context, inv *Invocation) error {
			write(inv, inv.String("Message"))
			return nil
		},
	}
}

func writeWarningCmd() *Command {
	return messageCmd("Write-Warning", "Writes a warning.", "Write-Warning writes a message to the warning stream.",
		(*Invocation).WriteWarning)
}

func writeVerboseCmd() *Command {
	return messageCmd("Write-Verbose", "Writes a verbose message.", "Write-Verbose writes a message to the verbose stream, shown only with -Verbose.",
		(*Invocation).WriteVerbose)
}

func writeDebugCmd() *Command {
	return messageCmd("Write-Debug", "Writes a debug message.", "Write-Debug writes a message to the debug stream, shown only with -Debug.",
		(*Invocation).WriteDebug)
}

func writeInformationCmd() *Command {
	return &Command{
		Name:        "Write-Information",
		Synopsis:    "Writes an information record.",
		Description: "Write-Information writes a message, with optional tags, to the information stream.",
		Parameters: []Parameter{
			{Name: "MessageData", Type: TypeObject, Position: 0, Mandatory: true, ValueFromPipeline: true, Aliases: []string{"Msg", "Message"}, Help: "The message or object."},
			{Name: "Tags", Type: TypeStringArray, Position: 1, Help: "Tags for filtering."},
		},
		Run: func(ctx context.Context, inv *Invocation) error {
			inv.WriteInformation(InformationRecord{MessageData: inv.Params["MessageData"], Tags: inv.Strings("Tags")})
			return nil
		},
	}
}

func writeProgressCmd() *Command {
	return &Command{
		Name:        "Write-Progress",
		Synopsis:    "Writes a progress record.",
		Description: "Write-Progress reports the progress of an activity; clients show it as a progress bar.",
		Parameters: []Parameter{
			{Name: "Activity", Type: TypeString, Position: 0, Mandatory: true, Help: "What is in progress."},
			{Name: "Status", Type: TypeString, Position: 1, Help: "The current state; \"Processing\" by default."},
			{Name: "Id", Type: TypeInt, Position: 2, Help: "Tells apart simultaneous progress bars."},
			{Name: "PercentComplete", Type: TypeInt, Position: NotPositional, ValidateRange: &Range{Min: -1, Max: 100}, Help: "How much is done, 0 to 100; -1 when unknown."},
			{Name: "SecondsRemaining", Type: TypeInt, Position: NotPositional, Help: "The estimated time left."},
			{Name: "CurrentOperation", Type: TypeString, Position: NotPositional, Help: "What is being done now."},
			{Name: "ParentId", Type: TypeInt, Position: NotPositional, ValidateRange: &Range{Min: -1, Max: math.MaxInt32}, Help: "The Id of the parent activity."},
			{Name: "Completed", Type: TypeSwitch, Position: NotPositional, Help: "Marks the activity as finished."},
		},
		Examples: []Example{
			{Code: "Write-Progress -Activity 'Import' -Status 'Half way' -PercentComplete 50", Remarks: "Shows a progress bar at 50%."},
		},
		Run: func(ctx context.Context, inv *Invocation) error {
			rec := ProgressRecord{
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

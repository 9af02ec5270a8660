package builtin

import (
	"context"
	"time"

	"github.com/psgate/psgate/engine"
)

// maxSleep bounds Start-Sleep; a session's lifetime bounds it anyway.
const maxSleep = time.Hour

func startSleepCmd() *engine.Command {
	return &engine.Command{
		Name:        "Start-Sleep",
		Synopsis:    "Suspends the pipeline for a period of time.",
		Description: "Start-Sleep waits for the given time, at most one hour. Stopping the pipeline (Ctrl+C) ends the wait at once. Scripts use it between polls; client developers use it to test long-running and stopped pipelines.",
		Parameters: []engine.Parameter{
			{Name: "Seconds", Type: engine.TypeDouble, Position: 0, Sets: []string{"Seconds"}, Mandatory: true, Aliases: []string{"s"},
				ValidateRange: &engine.Range{Min: 0, Max: int64(maxSleep / time.Second)}, Help: "How many seconds to wait (fractions allowed), at most 3600."},
			{Name: "Milliseconds", Type: engine.TypeInt, Position: engine.NotPositional, Sets: []string{"Milliseconds"}, Mandatory: true, Aliases: []string{"ms"},
				ValidateRange: &engine.Range{Min: 0, Max: int64(maxSleep / time.Millisecond)}, Help: "How many milliseconds to wait, at most 3600000."},
		},
		DefaultParameterSet: "Seconds",
		Examples: []engine.Example{
			{Code: "Start-Sleep -Seconds 2", Remarks: "Waits two seconds."},
		},
		Run: func(ctx context.Context, inv *engine.Invocation) error {
			var d time.Duration
			if ms, ok := inv.Int("Milliseconds"); ok {
				d = time.Duration(ms) * time.Millisecond
			} else if s, ok := inv.Params["Seconds"].(float64); ok {
				d = time.Duration(s * float64(time.Second))
			}
			d = min(max(d, 0), maxSleep) // the parameters' ranges hold already
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	}
}

// promptCmd answers Enter-PSSession, which runs `prompt` before each line
// and shows its first output after "[host]: ".
func promptCmd() *engine.Command {
	return &engine.Command{
		Name:        "prompt",
		Synopsis:    "Returns the prompt text of an interactive session.",
		Description: "Enter-PSSession runs prompt before each input line and shows its output after \"[host]: \". psgate's prompt names the tenant.",
		OutputType:  []string{"System.String"},
		Run: func(_ context.Context, inv *engine.Invocation) error {
			name := inv.Caller.Tenant
			if name == "" {
				name = "psgate"
			}
			inv.Write("PS " + name + "> ")
			return nil
		},
	}
}

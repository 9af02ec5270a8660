package engine

import (
	"context"
	"fmt"
	"time"
)

// The methods below are what a command's Run uses to produce results.
// They must be called from the goroutine running Run.

// Write writes an object to the command's output: the next command's
// input, or the pipeline's output.
func (inv *Invocation) Write(obj any) {
	if inv.Out != nil {
		inv.Out.Output(obj)
	}
}

// WriteError writes a non-terminating error. The engine completes the
// record (FullyQualifiedErrorID gets ",<command>", Activity the command
// name) and applies -ErrorAction: Stop turns it into the pipeline's
// terminating error, SilentlyContinue and Ignore drop it.
func (inv *Invocation) WriteError(rec *ErrorRecord) {
	if inv.Out == nil || rec == nil {
		return
	}
	if inv.stage == nil && inv.Command != nil {
		finishRecord(rec, inv.Command.Name)
	}
	inv.Out.Error(rec)
}

// WriteWarning writes a warning (subject to -WarningAction).
func (inv *Invocation) WriteWarning(msg string) {
	if inv.Out != nil {
		inv.Out.Warning(msg)
	}
}

// WriteVerbose writes a verbose message, shown only with -Verbose.
func (inv *Invocation) WriteVerbose(msg string) {
	if inv.Out != nil {
		inv.Out.Verbose(msg)
	}
}

// WriteDebug writes a debug message, shown only with -Debug.
func (inv *Invocation) WriteDebug(msg string) {
	if inv.Out != nil {
		inv.Out.Debug(msg)
	}
}

// WriteInformation writes an information record (subject to
// -InformationAction). Source defaults to the command name.
func (inv *Invocation) WriteInformation(rec InformationRecord) {
	if inv.Out != nil {
		inv.Out.Information(rec)
	}
}

// WriteProgress writes a progress record.
func (inv *Invocation) WriteProgress(rec ProgressRecord) {
	if inv.Out != nil {
		inv.Out.Progress(rec)
	}
}

// WriteHost writes text for the user's console, as Write-Host does: an
// information record tagged PSHOST.
func (inv *Invocation) WriteHost(text string) {
	inv.WriteHostMessage(HostMessage{Text: text, Foreground: NoColor, Background: NoColor})
}

// WriteHostMessage writes text for the user's console with its colours
// and -NoNewline, as Write-Host does.
func (inv *Invocation) WriteHostMessage(m HostMessage) {
	inv.WriteInformation(InformationRecord{MessageData: m.Text, Tags: []string{"PSHOST"}, Host: &m})
}

// ShouldProcess reports whether the command should make a change to
// target. With -WhatIf it writes "What if: Performing the operation
// "<action>" on target "<target>"." to the host output and returns false.
// With -Confirm (and without -WhatIf) it asks the client's host with
// PowerShell's confirmation prompt: Yes makes this change, No skips it,
// Yes to All and No to All answer for the rest of the command's
// invocation, every pipeline input object included. A client without a
// host has the command refused before it runs (engine.confirm-needs-host);
// a host that cannot answer fails the pipeline, and ShouldProcess returns
// false. -Confirm:$false never prompts.
func (inv *Invocation) ShouldProcess(target, action string) bool {
	if inv.stage == nil || !inv.Command.SupportsShouldProcess {
		return true
	}
	common := inv.stage.b.common
	switch {
	case common.whatIf:
		inv.WriteHost(fmt.Sprintf("What if: Performing the operation %q on target %q.", action, target))
		return false
	case common.confirm:
		return inv.stage.confirm(target, action)
	}
	return true
}

// Verbose reports whether -Verbose is in effect, to skip building costly
// verbose messages.
func (inv *Invocation) Verbose() bool {
	return inv.stage != nil && inv.stage.b.common.verbose
}

// Strings returns a bound string-array parameter, or nil.
func (inv *Invocation) Strings(name string) []string {
	s, _ := inv.Params[name].([]string)
	return s
}

// Int returns a bound int parameter and whether it was bound.
func (inv *Invocation) Int(name string) (int32, bool) {
	v, ok := inv.Params[name].(int32)
	return v, ok
}

// Time returns a bound DateTime parameter and whether it was bound.
func (inv *Invocation) Time(name string) (time.Time, bool) {
	v, ok := inv.Params[name].(time.Time)
	return v, ok
}

// RunScript parses a command line and runs it inside the running
// command, as Invoke-Expression does: the statements' output becomes the
// command's output and their errors its non-terminating errors; stopping
// the pipeline stops them. A command line that does not parse is a
// terminating error attributed to the command. Nesting is bounded.
func (inv *Invocation) RunScript(ctx context.Context, text string) error {
	statements, err := parseStatements(text)
	if err != nil {
		te := parseFailure(err)
		if inv.Command != nil {
			finishRecord(te.Record, inv.Command.Name)
		}
		return te
	}
	return inv.Runspace.runNested(ctx, statements, inv)
}

package engine

import (
	"context"
	"errors"
	"strings"

	"github.com/psgate/psgate"
)

// NewErrorRecord builds the error record a command writes (inv.WriteError)
// or returns (as a *TerminatingError) for a catalog error. errorID is
// PowerShell's error id, such as "UserNotFound"; when the record is written
// the engine appends ",<command name>" to form FullyQualifiedErrorID.
// target is the object the error is about (an identity string, say).
func NewErrorRecord(e *psgate.Error, errorID string, category Category, target any) *ErrorRecord {
	rec := &ErrorRecord{
		Err:                   e,
		ExceptionType:         exceptionFor(category),
		FullyQualifiedErrorID: errorID,
		Category:              category,
		Target:                target,
	}
	rec.Reason = shortTypeName(rec.ExceptionType)
	if target != nil {
		rec.TargetName = toText(target)
		rec.TargetType = shortTypeName(dotnetType(target))
	}
	return rec
}

// exceptionFor picks the .NET exception type clients see for a category.
func exceptionFor(c Category) string {
	switch c {
	case CategoryObjectNotFound:
		return "System.Management.Automation.ItemNotFoundException"
	case CategoryInvalidArgument:
		return "System.ArgumentException"
	case CategoryPermissionDenied:
		return "System.UnauthorizedAccessException"
	case CategoryInvalidOperation, CategoryResourceExists, CategoryLimitsExceeded:
		return "System.InvalidOperationException"
	case CategoryOperationStopped:
		return "System.Management.Automation.PipelineStoppedException"
	case CategoryOperationTimeout:
		return "System.TimeoutException"
	case CategoryParserError:
		return "System.Management.Automation.ParseException"
	}
	return "System.Exception"
}

// categoryForCode maps catalog codes to error categories for errors a
// command returns as plain *psgate.Error values.
func categoryForCode(code psgate.Code) Category {
	switch code {
	case psgate.CodeObjectNotFound, psgate.CodeCommandNotFound, psgate.CodeTenantNotFound:
		return CategoryObjectNotFound
	case psgate.CodeParameterDenied, psgate.CodeValueDenied, psgate.CodeForbidden, psgate.CodeNoAdminRole:
		return CategoryPermissionDenied
	case psgate.CodeParameterNotFound, psgate.CodeAmbiguousParameter, psgate.CodeParameterBinding,
		psgate.CodeMissingMandatory, psgate.CodeAmbiguousParamSet, psgate.CodePositionalNotFound,
		psgate.CodeMissingArgument, psgate.CodeInvalidFilter, psgate.CodeInputNotBound:
		return CategoryInvalidArgument
	case psgate.CodeParameterValidation:
		return CategoryInvalidData
	case psgate.CodeInvalidOperation, psgate.CodeLastAdmin:
		return CategoryInvalidOperation
	case psgate.CodeLanguageNotAllowed, psgate.CodeParseError:
		return CategoryParserError
	case psgate.CodePipelineStopped:
		return CategoryOperationStopped
	case psgate.CodeOutputLimit:
		return CategoryLimitsExceeded
	case psgate.CodeStoreDown:
		return CategoryResourceUnavailable
	}
	return CategoryNotSpecified
}

// errorIDForCode derives an error id from a code: "engine.object-not-found"
// gives "ObjectNotFound".
func errorIDForCode(code psgate.Code) string {
	_, reason, _ := strings.Cut(string(code), ".")
	var b strings.Builder
	for _, part := range strings.Split(reason, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]))
			b.WriteString(part[1:])
		}
	}
	return b.String()
}

// commandNotFound is the record for an unknown or hidden command.
func commandNotFound(name string) *TerminatingError {
	return &TerminatingError{Record: &ErrorRecord{
		Err:                   psgate.E(psgate.CodeCommandNotFound, psgate.Args{"name": name}),
		ExceptionType:         "System.Management.Automation.CommandNotFoundException",
		FullyQualifiedErrorID: "CommandNotFoundException",
		Category:              CategoryObjectNotFound,
		Reason:                "CommandNotFoundException",
		TargetName:            name,
		TargetType:            "String",
		Target:                name,
	}}
}

// CommandNotFoundError is the terminating error of an unknown or hidden
// command, as the runtime raises it; Get-Command and Get-Help write its
// record with their own error id.
func CommandNotFoundError(name string) *TerminatingError { return commandNotFound(name) }

// programRefused is the record for an operating-system program.
func programRefused(name string) *TerminatingError {
	te := commandNotFound(name)
	te.Record.Err = psgate.E(psgate.CodeOSProcessRefused, psgate.Args{"name": name})
	return te
}

// parseFailure turns a parse error into a terminating error.
func parseFailure(err error) *TerminatingError {
	var pe *ParseError
	if !errors.As(err, &pe) {
		return internalError("", err, "")
	}
	if pe.Err.Code == psgate.CodeOSProcessRefused {
		te := commandNotFound("")
		te.Record.Err = pe.Err
		return te
	}
	id := "ParseException"
	if pe.Err.Code == psgate.CodeLanguageNotAllowed {
		id = "ScriptsNotAllowed"
	}
	return &TerminatingError{Record: &ErrorRecord{
		Err:                   pe.Err,
		ExceptionType:         "System.Management.Automation.ParseException",
		FullyQualifiedErrorID: id,
		Category:              CategoryParserError,
		Reason:                "ParseException",
	}}
}

// pipelineStopped is the error of a pipeline stopped by its context.
func pipelineStopped(cause error) *TerminatingError {
	e := psgate.E(psgate.CodePipelineStopped, nil)
	e.Err = cause
	return &TerminatingError{Record: &ErrorRecord{
		Err:                   e,
		ExceptionType:         "System.Management.Automation.PipelineStoppedException",
		FullyQualifiedErrorID: "PipelineStopped",
		Category:              CategoryOperationStopped,
		Reason:                "PipelineStoppedException",
	}}
}

// internalError hides an unexpected error behind CodeInternal; the cause
// stays in Err.Err for logging.
func internalError(cmd string, err error, request string) *TerminatingError {
	if request == "" {
		request = "-"
	}
	return &TerminatingError{Record: &ErrorRecord{
		Err:                   psgate.Wrap(psgate.CodeInternal, psgate.Args{"request": request}, err),
		ExceptionType:         "System.Exception",
		FullyQualifiedErrorID: qualify("InternalError", cmd),
		Category:              CategoryNotSpecified,
		Activity:              cmd,
		Reason:                "Exception",
	}}
}

// qualify appends ",<command>" to an error id that has no command yet.
func qualify(id, cmd string) string {
	if cmd == "" || strings.Contains(id, ",") {
		return id
	}
	return id + "," + cmd
}

// toTerminating converts what a command's Run returned into a terminating
// error attributed to cmd. Plain (non-catalog) errors become CodeInternal.
func toTerminating(cmd string, err error, request string) (*TerminatingError, bool) {
	var te *TerminatingError
	if errors.As(err, &te) {
		finishRecord(te.Record, cmd)
		return te, false
	}
	if e, ok := psgate.AsError(err); ok {
		cat := categoryForCode(e.Code)
		rec := NewErrorRecord(e, errorIDForCode(e.Code), cat, nil)
		finishRecord(rec, cmd)
		return &TerminatingError{Record: rec}, false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return pipelineStopped(err), false
	}
	return internalError(cmd, err, request), true
}

// finishRecord fills what the engine knows about a record a command wrote.
func finishRecord(rec *ErrorRecord, cmd string) {
	if rec.complete {
		return
	}
	if rec.Activity == "" {
		rec.Activity = cmd
	}
	if rec.FullyQualifiedErrorID == "" && rec.Err != nil {
		rec.FullyQualifiedErrorID = errorIDForCode(rec.Err.Code)
	}
	rec.FullyQualifiedErrorID = qualify(rec.FullyQualifiedErrorID, cmd)
	if rec.ExceptionType == "" {
		rec.ExceptionType = exceptionFor(rec.Category)
	}
	if rec.Reason == "" {
		rec.Reason = shortTypeName(rec.ExceptionType)
	}
	if rec.Err == nil {
		rec.Err = psgate.E(psgate.CodeInvalidOperation, psgate.Args{"detail": "The command reported an error without a message."})
	}
}

package engine

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine/syntax"
	"github.com/psgate/psgate/internal/logkey"
)

// Authorizer decides what a runspace's caller may see and run.
type Authorizer interface {
	// Visible reports whether the caller may see the command. A hidden
	// command behaves exactly like one that does not exist.
	Visible(cmd *Command) bool
	// Authorize runs after parameter binding, before the command runs
	// (and again per pipeline input object when the object binds more
	// parameters). inv.Params holds the bound parameters. A returned
	// *psgate.Error (CodeParameterDenied, CodeValueDenied...) becomes a
	// terminating error with category PermissionDenied.
	Authorize(ctx context.Context, cmd *Command, inv *Invocation) error
}

// Refresher is an optional capability of an Authorizer: Refresh re-reads
// the caller's rights (roles, account state) from their source of truth.
// The runspace calls it before every pipeline it runs, nested ones
// included, so a change of rights applies from the next command of a
// shell opened before it. A returned *psgate.Error refuses the pipeline
// (category PermissionDenied). The pipeline runs in the context Refresh
// returns, which may carry what the check read (a pinned view of the
// directory) for the commands to reuse.
type Refresher interface {
	Refresh(ctx context.Context) (context.Context, error)
}

// CommandAuditor is an optional capability of an Authorizer: it records
// the commands a runspace runs. BeginCommands is called before any
// command of a pipeline runs, once per pipeline (the commands of nested
// scripts and Invoke-Expression come as pipelines of their own), and must
// have recorded them durably when it returns; an error refuses the
// pipeline. The end function it returns records the outcome (nil or the
// pipeline's error) and duration once the pipeline ended. A command line
// that does not parse comes as one call with IsScript set. The pipeline's
// Refresher is called with the context BeginCommands returns, which may
// carry what recording read (a directory cache validated by the commit).
type CommandAuditor interface {
	BeginCommands(ctx context.Context, calls []AuditedCall) (run context.Context, end func(err error, dur time.Duration), err error)
}

// AuditedCall is one command of an audited pipeline: the call as written,
// and the catalog command it names (nil when there is none, or for a
// script).
type AuditedCall struct {
	Call    CommandCall
	Command *Command
}

// RunspaceConfig configures a Runspace. Only Catalog is required.
type RunspaceConfig struct {
	// Catalog holds the commands; nil means an empty catalog.
	Catalog *Catalog
	// Caller is who the runspace runs for; commands see it as inv.Caller.
	Caller Caller
	// Authorizer filters commands and parameters; nil allows everything.
	Authorizer Authorizer
	// FormatWidth is the text width for Format-* and Out-String; 0 means
	// 120.
	FormatWidth int
	// Newline ends the lines of the text Out-String writes; "" means
	// "\r\n", as Windows PowerShell writes.
	Newline string
	// MaxOutputObjects stops a pipeline (CodeOutputLimit) once it has
	// written more objects; 0 means no limit.
	MaxOutputObjects int
	// Logger receives internal errors; nil discards them.
	Logger *slog.Logger
	// Now is the clock (Get-Date); nil means time.Now.
	Now func() time.Time
}

// Runspace runs command lines and structured pipelines for one caller. A
// Runspace may run several pipelines at once.
type Runspace struct {
	cfg RunspaceConfig
}

// maxScriptDepth bounds Invoke-Expression nesting.
const maxScriptDepth = 8

// NewRunspace returns a runspace for cfg.
func NewRunspace(cfg RunspaceConfig) *Runspace {
	if cfg.Catalog == nil {
		cfg.Catalog = NewCatalog()
	}
	if cfg.FormatWidth <= 0 {
		cfg.FormatWidth = 120
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Runspace{cfg: cfg}
}

// Caller returns who the runspace runs for.
func (r *Runspace) Caller() Caller { return r.cfg.Caller }

// Catalog returns the runspace's catalog.
func (r *Runspace) Catalog() *Catalog { return r.cfg.Catalog }

// FormatWidth returns the text width for formatting.
func (r *Runspace) FormatWidth() int { return r.cfg.FormatWidth }

// Newline returns what ends the lines of text the runspace writes
// (RunspaceConfig.Newline).
func (r *Runspace) Newline() string {
	if r.cfg.Newline == "" {
		return "\r\n"
	}
	return r.cfg.Newline
}

// Now returns the runspace clock's time.
func (r *Runspace) Now() time.Time { return r.cfg.Now() }

// Visible reports whether the caller may see cmd.
func (r *Runspace) Visible(cmd *Command) bool {
	return r.cfg.Authorizer == nil || r.cfg.Authorizer.Visible(cmd)
}

// LookupVisible finds a command the caller may see.
func (r *Runspace) LookupVisible(name string) (*Command, bool) {
	if n, ok := UnqualifiedName(name); ok {
		name = n
	}
	cmd, ok := r.cfg.Catalog.Lookup(name)
	if !ok || !r.Visible(cmd) {
		return nil, false
	}
	return cmd, true
}

// VisibleCommands lists the commands the caller may see, sorted by name.
// Unlisted commands are left out.
func (r *Runspace) VisibleCommands() []*Command {
	all := r.cfg.Catalog.Commands()
	out := all[:0]
	for _, c := range all {
		if !c.Unlisted && r.Visible(c) {
			out = append(out, c)
		}
	}
	return out
}

// RunScript parses text and runs its statements in order, writing to out.
//
// A parse error stops everything before anything runs; it is returned as
// a *TerminatingError and not written to out. A statement that fails with
// a terminating error has its record written to out.Error, and the next
// statement runs, as in PowerShell; RunScript then returns the first such
// error with Written set. Stopping ctx stops the script: the error wraps
// CodePipelineStopped. input, when non-nil, feeds the first statement.
func (r *Runspace) RunScript(ctx context.Context, text string, input Input, out Sink) error {
	return r.runScript(ctx, text, input, out, 0)
}

func (r *Runspace) runScript(ctx context.Context, text string, input Input, out Sink, depth int) error {
	statements, err := parseStatements(text)
	if err != nil {
		te := parseFailure(err)
		if _, end, aerr := r.beginAudit(ctx, []CommandCall{{Name: text, IsScript: true}}); aerr != nil {
			return aerr
		} else if end != nil {
			end(te, 0)
		}
		return te
	}
	return r.runStatements(ctx, statements, input, out, depth)
}

func (r *Runspace) runStatements(ctx context.Context, statements []Pipeline, input Input, out Sink, depth int) error {
	var first *TerminatingError
	for i, st := range statements {
		if err := ctx.Err(); err != nil {
			return pipelineStopped(err)
		}
		in := input
		if i > 0 {
			in = nil
		}
		err := r.runChecked(ctx, st.Commands, in, out, depth)
		if err == nil {
			continue
		}
		te := err.(*TerminatingError)
		if te.Record.Err.Code == psgate.CodePipelineStopped {
			return te
		}
		te.Record.complete = true
		out.Error(te.Record)
		te.Written = true
		if first == nil {
			first = te
		}
	}
	if first == nil {
		return nil
	}
	return first
}

// Run runs a structured pipeline, as PSRP sends them. A command with
// IsScript set holds script text in Name: alone, it runs as RunScript
// does; inside a pipeline, its statements' output feeds the next command.
// A terminating error stops the pipeline and is returned (not written to
// out); non-terminating errors are written to out.
func (r *Runspace) Run(ctx context.Context, p Pipeline, input Input, out Sink) error {
	if len(p.Commands) == 1 && p.Commands[0].IsScript && !p.Commands[0].MergeErrorToOutput {
		return r.RunScript(ctx, p.Commands[0].Name, input, out)
	}
	return r.runChecked(ctx, p.Commands, input, out, 0)
}

// runChecked runs a pipeline between the Authorizer's hooks: the commands
// are audited (CommandAuditor) and the caller's rights re-read
// (Refresher) before any command runs, and the outcome is audited after.
func (r *Runspace) runChecked(ctx context.Context, calls []CommandCall, input Input, out Sink, depth int) error {
	if len(calls) == 0 {
		return nil
	}
	ctx, end, err := r.beginAudit(ctx, calls)
	if err != nil {
		return err
	}
	start := r.cfg.Now()
	run, err := r.refresh(ctx, calls[0].Name)
	if err == nil {
		err = r.runPipeline(run, calls, input, out, depth)
	}
	if end != nil {
		end(err, r.cfg.Now().Sub(start))
	}
	return err
}

// beginAudit records the calls with the Authorizer's CommandAuditor and
// returns the context to go on in; the end is nil when there is none.
// Script elements are left out: the statements they hold are audited when
// they run.
func (r *Runspace) beginAudit(ctx context.Context, calls []CommandCall) (context.Context, func(error, time.Duration), error) {
	au, ok := r.cfg.Authorizer.(CommandAuditor)
	if !ok {
		return ctx, nil, nil
	}
	audited := make([]AuditedCall, 0, len(calls))
	for _, c := range calls {
		if c.IsScript && len(calls) > 1 {
			continue
		}
		ac := AuditedCall{Call: c}
		if !c.IsScript {
			name := c.Name
			if n, ok := UnqualifiedName(name); ok {
				name = n
			}
			ac.Command, _ = r.cfg.Catalog.Lookup(name)
		}
		audited = append(audited, ac)
	}
	run, end, err := au.BeginCommands(ctx, audited)
	if err != nil {
		return ctx, nil, r.refusal(calls[0].Name, err)
	}
	return run, end, nil
}

// refresh asks the Authorizer's Refresher, if any, to re-read the
// caller's rights, and returns the context the pipeline runs in.
func (r *Runspace) refresh(ctx context.Context, name string) (context.Context, error) {
	rf, ok := r.cfg.Authorizer.(Refresher)
	if !ok {
		return ctx, nil
	}
	run, err := rf.Refresh(ctx)
	if err != nil {
		return ctx, r.refusal(name, err)
	}
	return run, nil
}

// resolve finds the command a name designates for this caller.
func (r *Runspace) resolve(name string) (*Command, error) {
	lookup := name
	if n, ok := UnqualifiedName(name); ok {
		lookup = n
	}
	cmd, ok := r.cfg.Catalog.Lookup(lookup)
	if ok && r.Visible(cmd) {
		return cmd, nil
	}
	if syntax.IsProgram(lookup) {
		return nil, programRefused(name)
	}
	return nil, commandNotFound(name)
}

// authorize asks the Authorizer about an invocation.
func (r *Runspace) authorize(ctx context.Context, inv *Invocation) error {
	if r.cfg.Authorizer == nil {
		return nil
	}
	err := r.cfg.Authorizer.Authorize(ctx, inv.Command, inv)
	if err == nil {
		return nil
	}
	return r.refusal(inv.Command.Name, err)
}

// refusal turns an Authorizer's error about the command name into the
// pipeline's terminating error.
func (r *Runspace) refusal(name string, err error) error {
	e, ok := psgate.AsError(err)
	if !ok {
		var te *TerminatingError
		if errors.As(err, &te) {
			return te
		}
		r.cfg.Logger.Error("engine: authorizer failed", logkey.Command, name, logkey.Err, err)
		return internalError(name, err, r.cfg.Caller.ShellID)
	}
	id := "AccessDenied"
	switch e.Code {
	case psgate.CodeParameterDenied:
		id = "ParameterNotAllowed"
	case psgate.CodeValueDenied:
		id = "ParameterValueNotAllowed"
	}
	rec := NewErrorRecord(e, id, CategoryPermissionDenied, nil)
	finishRecord(rec, name)
	return &TerminatingError{Record: rec}
}

// scriptCommand runs a script element of a structured pipeline.
func scriptCommand(statements []Pipeline) *Command {
	return &Command{
		Name:        "Invoke-Script",
		StreamInput: true,
		Run: func(ctx context.Context, inv *Invocation) error {
			return inv.Runspace.runNested(ctx, statements, inv)
		},
	}
}

// runNested runs statements inside a running command (Invoke-Expression,
// script elements): their output becomes the command's output, their
// errors the command's non-terminating errors.
func (r *Runspace) runNested(ctx context.Context, statements []Pipeline, inv *Invocation) error {
	depth := 0
	if inv.stage != nil {
		depth = inv.stage.run.depth + 1
	}
	if depth > maxScriptDepth {
		return psgate.E(psgate.CodeInvalidOperation, psgate.Args{"detail": "Invoke-Expression is nested too deeply."})
	}
	err := r.runStatements(ctx, statements, nil, inv.Out, depth)
	var te *TerminatingError
	if errors.As(err, &te) && te.Record.Err.Code == psgate.CodePipelineStopped {
		return err
	}
	return nil
}

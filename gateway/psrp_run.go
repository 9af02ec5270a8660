package gateway

import (
	"context"
	"strings"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/format"
	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/psrp"
)

// runPipeline runs a CREATE_PIPELINE's statements in order.
//
// Enter-PSSession appends Out-Default to every statement and shows only
// what arrives as host calls, so for such statements the output is
// formatted here and sent as WriteLine host calls; an Out-Default with
// MergePreviousResults also claims the statement's errors, which it writes
// with WriteErrorLine instead of sending ERROR_RECORDs. When the
// pipeline's host has a UI, warnings, verbose and debug messages, progress
// and Write-Host text also go to it as host calls (see psrpSink). Exit-
// PSSession answers with the PopRunspace host call that makes the client
// leave the session. hi is the pipeline's host (psrp.StartPipeline.Host):
// when it has a UI, it is also the engine's Host, which -Confirm asks.
func (p *psrpPool) runPipeline(ctx context.Context, s *psrpSink, cp *psrp.CreatePipeline, hi psrp.HostInfo) error {
	ctx = withCommandID(ctx, s.pipe.id)
	if hi.HasUI() {
		// -Confirm asks this client's host (PromptForChoice).
		ctx = engine.WithHost(ctx, psrpHost{s: s})
	}
	var input engine.Input
	if s.pipe.input != nil {
		input = s.pipe.input
	}
	s.ui, s.colors = hi.HasUI(), hi.Colors
	for _, stmt := range cp.PowerShell.Statements() {
		if len(stmt) == 0 {
			continue
		}
		s.host, s.claim = false, false
		if last := stmt[len(stmt)-1]; len(stmt) > 1 && !last.IsScript && strings.EqualFold(last.Cmd, "Out-Default") {
			stmt = stmt[:len(stmt)-1]
			s.host = true
			// PowerShell's PipelineProcessor.AddCommand: an Out-Default
			// sent with MergePreviousResults takes the error output of
			// every earlier command of its pipeline.
			s.claim = last.MergePreviousResults&psrp.ResultError != 0
		}
		if s.ui && len(stmt) == 1 && !stmt[0].IsScript && strings.EqualFold(stmt[0].Cmd, "Out-Default") && len(stmt[0].Args) == 0 {
			// An Out-Default of its own formats the pipeline's input for
			// the console. The console host sends one after a line failed
			// (ConsoleHost.ReportException pipes the error record, with a
			// writeErrorStream note, into Out-Default on the remote
			// runspace): the error is shown with WriteErrorLine.
			s.host = true
			s.outDefault(ctx, input)
			s.flushHost()
			continue
		}
		if len(stmt) == 1 && !stmt[0].IsScript && strings.EqualFold(stmt[0].Cmd, "Exit-PSSession") {
			s.hostCall(psrp.HostCall{CallID: psrp.VoidCallID, Method: psrp.HostPopRunspace})
			continue
		}
		pl, err := enginePipeline(stmt)
		if err != nil {
			return err
		}
		in := input
		if len(stmt) == 1 && stmt[0].IsScript {
			// A script's commands do not read the pipeline's input (it
			// would be $input, which a command-only runspace lacks), so
			// the script runs once whether or not input was sent.
			in = nil
		}
		if err := p.rs.Run(ctx, pl, in, s); err != nil {
			return err
		}
		s.flushHost()
	}
	return nil
}

// enginePipeline converts PSRP commands to the engine's pipeline. Argument
// names are read as PowerShell's server reads them ("-Name", "-Name:",
// plain names; see engine.StructuredArgument), so they bind as the same
// command line typed into a WinRS shell would.
func enginePipeline(cmds []psrp.Command) (engine.Pipeline, error) {
	pl := engine.Pipeline{Commands: make([]engine.CommandCall, 0, len(cmds))}
	for _, c := range cmds {
		call := engine.CommandCall{
			Name:     c.Cmd,
			IsScript: c.IsScript,
			// 2>&1: the command's errors go down its output.
			MergeErrorToOutput: c.MergeMyResult == psrp.ResultError && c.MergeToResult == psrp.ResultOutput ||
				c.MergeError == psrp.ResultOutput,
		}
		for _, a := range c.Args {
			arg := engine.StructuredArgument(a.Name, a.Value)
			if psrp.HasSecureString(a.Value) {
				return pl, psgate.E(psgate.CodeSecureString, psgate.Args{"name": arg.Name})
			}
			call.Args = append(call.Args, arg)
		}
		pl.Commands = append(pl.Commands, call)
	}
	return pl, nil
}

// commandMetadata answers GET_COMMAND_METADATA (Get-Command over PSRP, as
// Import-PSSession and Enter-PSSession send it): a count object, then one
// object per visible command matching the names and command types.
func (p *psrpPool) commandMetadata(s *psrpSink, g psrp.GetCommandMetadata) error {
	var found []*engine.Command
	for _, c := range p.rs.VisibleCommands() {
		// psgate's commands are cmdlets, and answer a request for
		// functions too (what Import-PSSession asks for).
		if g.Matches(c.Name, psrp.CommandCmdlet) || g.Matches(c.Name, psrp.CommandFunction) {
			found = append(found, c)
		}
	}
	s.send(psrp.NewCommandMetadataCount(s.rpid, s.pipe.pid, int32(len(found))), nil)
	for _, c := range found {
		s.send(psrp.NewCommandMetadata(s.rpid, s.pipe.pid, commandMetadataOf(c)))
	}
	return nil
}

func commandMetadataOf(c *engine.Command) psrp.CommandMetadata {
	md := psrp.CommandMetadata{
		Name:        c.Name,
		Namespace:   "psgate",
		CommandType: psrp.CommandCmdlet,
		OutputType:  c.OutputType,
	}
	// Import-PSSession builds proxy functions from these, so the common
	// parameters are listed too.
	for _, prm := range c.Metadata() {
		md.Parameters = append(md.Parameters, psrp.ParameterMetadata{
			Name:     prm.Name,
			TypeName: prm.TypeName,
			Aliases:  prm.Aliases,
			IsSwitch: prm.SwitchParameter,
		})
	}
	return md
}

// psrpSink turns engine output into PSRP messages on the pipeline's queue.
// It blocks while the client has not collected MaxOutputBuffer bytes.
type psrpSink struct {
	p    *psrpPool
	pipe *psrpPipe
	ctx  context.Context
	// rpid and version are the pool's when the pipeline started: a
	// client may change them (another SESSION_CAPABILITY, a Connect)
	// while the pipeline runs, under the pool's lock.
	rpid    psrp.GUID
	version psobject.Version
	// host: format output as text and send it as WriteLine host calls
	// (Enter-PSSession); width is the client console's buffer width.
	host   bool
	width  int
	stream *format.Stream
	// claim: the statement's Out-Default claims its errors (writes them
	// with WriteErrorLine) instead of leaving them to ERROR_RECORD.
	claim bool
	// ui: the pipeline's host has a UI, so warnings, verbose, debug,
	// progress and Write-Host also become host calls; colors are its
	// console colours.
	ui     bool
	colors psrp.HostColors
}

func (s *psrpSink) send(m psrp.Message, err error) {
	p := s.p
	if err != nil {
		p.g.log.Error("build PSRP message", logKeyShellID, p.sh.id, logKeyErr, err)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.pipe(s.pipe) && s.pipe.out.bytes >= p.g.cfg.MaxOutputBuffer && s.ctx.Err() == nil {
		ch := s.pipe.out.wait()
		p.mu.Unlock()
		select {
		case <-ch:
		case <-s.ctx.Done():
		}
		p.mu.Lock()
	}
	if p.m.State().Terminal() {
		return
	}
	s.pipe.out.push(p.fragmentsLocked(m))
}

// pipe reports whether pp is still a live pipeline of the pool.
func (p *psrpPool) pipe(pp *psrpPipe) bool {
	cur, ok := p.pipes[pp.pid]
	return ok && cur == pp
}

func (s *psrpSink) Output(obj any) {
	if rec, ok := obj.(*engine.ErrorRecord); ok && s.host {
		// An error merged into Out-Default's input (2>&1, as
		// Enter-PSSession asks for): PowerShell's Out-Default writes it
		// with WriteErrorLine, which the console shows in red.
		s.writeError(rec)
		return
	}
	if s.host {
		if s.stream == nil {
			width := s.width
			if width <= 0 {
				width = 120
			}
			s.stream = format.NewStream(format.Options{Width: width, Newline: "\n"})
		}
		s.stream.Add(obj)
		s.writeLines(s.stream.Text())
		return
	}
	s.send(psrp.NewPipelineOutput(s.rpid, s.pipe.pid, obj))
}

// outDefault writes in to the console as Out-Default does: error records
// (objects of type ErrorRecord, as a client serializes them) in
// PowerShell's error view, with WriteErrorLine when they carry the
// writeErrorStream note; anything else formatted with WriteLine.
func (s *psrpSink) outDefault(ctx context.Context, in engine.Input) {
	if in == nil {
		return
	}
	for {
		v, ok := in.Next(ctx)
		if !ok {
			return
		}
		rec, toErr, isRec := errorRecordOf(v)
		switch {
		case isRec && toErr:
			s.writeError(rec)
		case isRec:
			s.flushHost()
			s.writeLines(strings.Join(rec.ConsoleLines(s.consoleWidth()), "\n"))
		default:
			s.Output(v)
		}
	}
}

// errorRecordOf reads an ErrorRecord object a client sent
// (psrp.ErrorRecordOf) back into a record; toErrorStream reports its
// writeErrorStream note.
func errorRecordOf(v any) (rec *engine.ErrorRecord, toErrorStream, ok bool) {
	o, isObj := v.(*psobject.Object)
	if !isObj || !isErrorRecord(o.TypeNames) {
		return nil, false, false
	}
	w := psrp.ErrorRecordOf(o)
	msg := w.Message
	if w.DetailsMessage != "" {
		msg = w.DetailsMessage
	}
	rec = &engine.ErrorRecord{
		Err:                   &psgate.Error{Message: msg},
		ExceptionType:         w.ExceptionType,
		FullyQualifiedErrorID: w.FullyQualifiedErrorID,
		Category:              engine.Category(w.Category),
		Activity:              w.Activity,
		Reason:                w.Reason,
		TargetName:            w.TargetName,
		TargetType:            w.TargetType,
		Target:                w.Target,
	}
	ws, _ := o.Get("writeErrorStream")
	toErrorStream, _ = ws.(bool)
	return rec, toErrorStream, true
}

// isErrorRecord reports whether type names (live or deserialized) are an
// ErrorRecord's.
func isErrorRecord(typeNames []string) bool {
	for _, tn := range typeNames {
		if strings.EqualFold(strings.TrimPrefix(tn, "Deserialized."), "System.Management.Automation.ErrorRecord") {
			return true
		}
	}
	return false
}

// flushHost ends the console table or list being written, so that what
// follows comes after it.
func (s *psrpSink) flushHost() {
	if s.stream != nil {
		s.writeLines(s.stream.Close())
	}
}

// writeLines sends formatted console text line by line as WriteLine host
// calls.
func (s *psrpSink) writeLines(text string) {
	if text = strings.TrimRight(text, "\n"); text == "" {
		return
	}
	for _, line := range strings.Split(text, "\n") {
		s.hostCall(psrp.WriteLine(line))
	}
}

func (s *psrpSink) hostCall(c psrp.HostCall) {
	s.send(psrp.NewPipelineHostCall(s.rpid, s.pipe.pid, c))
}

// writeError writes an error record as Out-Default shows it, line by line
// with WriteErrorLine.
func (s *psrpSink) writeError(rec *engine.ErrorRecord) {
	s.flushHost()
	for _, line := range rec.ConsoleLines(s.consoleWidth()) {
		s.hostCall(psrp.HostLine(psrp.HostWriteErrorLine, line))
	}
}

// consoleWidth is the width Out-Default formats for.
func (s *psrpSink) consoleWidth() int {
	if s.width > 0 {
		return s.width
	}
	return 120
}

func (s *psrpSink) Error(r *engine.ErrorRecord) {
	if s.host && s.claim {
		// Claimed by Out-Default: shown once, in full, and not sent as
		// ERROR_RECORD (PowerShell's pipeline never sees it).
		s.writeError(r)
		return
	}
	s.flushHost()
	s.send(psrp.NewErrorRecord(s.rpid, s.pipe.pid, wireRecord(r)))
}

// hostLine writes a message to the client's host UI when it has one, after
// what Out-Default has written so far.
func (s *psrpSink) hostLine(m psrp.HostMethodID, msg string) {
	if !s.ui {
		return
	}
	s.flushHost()
	s.hostCall(psrp.HostLine(m, msg))
}

// Warning, Verbose and Debug send the record (which the console host only
// buffers) and, with a UI, the host call it shows: a real server's
// InternalHostUserInterface.WriteWarningRecord does both.
func (s *psrpSink) Warning(msg string) {
	s.send(psrp.NewInformationalRecord(psrp.MsgWarningRecord, s.rpid, s.pipe.pid, msg))
	s.hostLine(psrp.HostWriteWarningLine, msg)
}

func (s *psrpSink) Verbose(msg string) {
	s.send(psrp.NewInformationalRecord(psrp.MsgVerboseRecord, s.rpid, s.pipe.pid, msg))
	s.hostLine(psrp.HostWriteVerboseLine, msg)
}

func (s *psrpSink) Debug(msg string) {
	s.send(psrp.NewInformationalRecord(psrp.MsgDebugRecord, s.rpid, s.pipe.pid, msg))
	s.hostLine(psrp.HostWriteDebugLine, msg)
}

func (s *psrpSink) Information(r engine.InformationRecord) {
	if psrp.VersionAtLeast(s.version, 2, 3) {
		// INFORMATION_RECORD does not exist before protocol 2.3.
		s.send(psrp.NewInformationRecord(s.rpid, s.pipe.pid, psrp.InformationRecord{
			MessageData: r.MessageData, Source: r.Source, Tags: r.Tags,
			User: s.p.sh.owner.UPN, Computer: "psgate",
			TimeGenerated: s.p.g.cfg.Now(),
		}))
	}
	if s.ui && r.Host != nil {
		// Write-Host (MshCommandRuntime.WriteInformation, PSHOST tag).
		s.flushHost()
		s.hostCall(s.hostText(*r.Host))
	}
}

// hostText is the host call for Write-Host text. Windows PowerShell's
// Write-Host reads the colour it was not given from the host's RawUI, so
// it always calls WriteLine(foreground, background, text) (WriteLine3,
// or Write2 with -NoNewline) on a console that told its colours.
func (s *psrpSink) hostText(m engine.HostMessage) psrp.HostCall {
	fg, bg := psrp.ColorGray, psrp.ColorBlack
	if s.colors.Known {
		fg, bg = s.colors.Foreground, s.colors.Background
	}
	if m.Foreground != engine.NoColor {
		fg = psrp.ConsoleColor(m.Foreground)
	}
	if m.Background != engine.NoColor {
		bg = psrp.ConsoleColor(m.Background)
	}
	if !s.colors.Known && m.Foreground == engine.NoColor && m.Background == engine.NoColor {
		if m.NoNewline {
			return psrp.HostLine(psrp.HostWrite1, m.Text)
		}
		return psrp.WriteLine(m.Text)
	}
	return psrp.WriteColored(fg, bg, m.Text, m.NoNewline)
}

// progressSourceID is the sourceId of WriteProgress host calls. PowerShell
// numbers each command's progress source; one pipeline's commands share
// it here, so two commands reporting the same activity id share a bar.
const progressSourceID = 1

func (s *psrpSink) Progress(r engine.ProgressRecord) {
	rec := psrp.ProgressRecord{
		Activity: r.Activity, ActivityID: r.ActivityID, StatusDescription: r.StatusDescription,
		CurrentOperation: r.CurrentOperation, ParentActivityID: r.ParentActivityID,
		PercentComplete: r.PercentComplete, Completed: r.Completed, SecondsRemaining: r.SecondsRemaining,
	}
	s.send(psrp.NewProgressRecord(s.rpid, s.pipe.pid, rec), nil)
	if s.ui {
		s.hostCall(psrp.WriteProgress(progressSourceID, rec))
	}
}

// wireRecord converts an engine error record to its PSRP form, carrying
// the catalog code and resolution.
func wireRecord(r *engine.ErrorRecord) *psrp.ErrorRecord {
	w := &psrp.ErrorRecord{
		Message:               r.Message(),
		ExceptionType:         r.ExceptionType,
		FullyQualifiedErrorID: r.FullyQualifiedErrorID,
		Category:              psrp.ErrorCategory(r.Category),
		Activity:              r.Activity,
		Reason:                r.Reason,
		TargetName:            r.TargetName,
		TargetType:            r.TargetType,
		Target:                r.Target,
	}
	if r.Err != nil {
		w.Code = string(r.Err.Code)
		w.RecommendedAction = r.Err.Resolution
	}
	return w
}

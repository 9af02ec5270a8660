package engine

import (
	"context"
	"fmt"
	"iter"
	"runtime/debug"
	"strconv"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/logkey"
)

// A pipeline runs as a chain of coroutines (iter.Pull): every command but
// the last runs as an iterator whose writes are yielded to the next
// command's Input. Only one command runs at a time, on the caller's
// goroutine, so objects stream one by one without buffering, the Sink is
// called from one goroutine, and a command that stops reading (Select-Object
// -First) simply stops pulling: its upstream is cancelled and unwound.

// pipelineRun is the state shared by the stages of one pipeline.
type pipelineRun struct {
	r      *Runspace
	ctx    context.Context // the caller's context
	pctx   context.Context // cancelled when the pipeline fails
	cancel context.CancelFunc
	out    Sink
	// host is the client's interactive host (HostOf the caller's
	// context), nil when it has none.
	host  Host
	depth int
	err   *TerminatingError
	count int
}

// fail records the pipeline's terminating error (the first wins) and
// stops every stage.
func (run *pipelineRun) fail(err error) {
	te, ok := err.(*TerminatingError)
	if !ok {
		te, _ = toTerminating("", err, run.r.cfg.Caller.ShellID)
	}
	if run.err == nil {
		run.err = te
	}
	if run.cancel != nil {
		run.cancel()
	}
}

// emit delivers an object the last command wrote.
func (run *pipelineRun) emit(obj any) {
	if limit := run.r.cfg.MaxOutputObjects; limit > 0 && run.depth == 0 {
		run.count++
		if run.count > limit {
			e := psgate.E(psgate.CodeOutputLimit, psgate.Args{"limit": strconv.Itoa(limit)})
			rec := NewErrorRecord(e, "OutputLimitExceeded", CategoryLimitsExceeded, nil)
			run.fail(&TerminatingError{Record: rec})
			return
		}
	}
	run.out.Output(obj)
}

// stage is one command of a running pipeline. It is the Sink its
// invocations write to (inv.Out).
type stage struct {
	run       *pipelineRun
	cmd       *Command
	b         *binder
	set       string
	perRecord bool
	merge     bool
	ctx       context.Context
	cancel    context.CancelFunc
	// yield passes output to the next stage; nil for the last stage.
	yield          func(any) bool
	downstreamDone bool
	// confirmed is what -Confirm's Yes to All or No to All decided for
	// the rest of the command's invocation.
	confirmed confirmState
}

func (r *Runspace) runPipeline(ctx context.Context, calls []CommandCall, input Input, out Sink, depth int) error {
	if len(calls) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return pipelineStopped(err)
	}
	run := &pipelineRun{r: r, ctx: ctx, out: out, depth: depth, host: HostOf(ctx)}
	// Resolve, bind and authorize every command before any runs.
	stages := make([]*stage, len(calls))
	for i := range calls {
		st, err := run.prepare(ctx, &calls[i], i > 0 || input != nil)
		if err != nil {
			return err
		}
		stages[i] = st
	}
	run.pctx, run.cancel = context.WithCancel(ctx)
	defer run.cancel()

	in := input
	if in == nil {
		in = emptyInput{}
	}
	pulls := make([]*pullInput, 0, len(stages)-1)
	for _, st := range stages[:len(stages)-1] {
		st.ctx, st.cancel = context.WithCancel(run.pctx)
		upstream := in
		s := st
		next, stop := iter.Pull(func(yield func(any) bool) {
			s.yield = yield
			s.execute(upstream)
		})
		p := &pullInput{next: next, stop: stop}
		pulls = append(pulls, p)
		in = p
	}
	last := stages[len(stages)-1]
	last.ctx = run.pctx
	last.execute(in)

	// Unwind the upstream commands: cancel them all, then resume each
	// so it returns (its writes now fail).
	for i := len(pulls) - 1; i >= 0; i-- {
		stages[i].cancel()
	}
	for i := len(pulls) - 1; i >= 0; i-- {
		pulls[i].stop()
	}
	if err := ctx.Err(); err != nil {
		return pipelineStopped(err)
	}
	if run.err != nil {
		return run.err
	}
	return nil
}

// prepare resolves, binds and authorizes one command of the pipeline.
func (run *pipelineRun) prepare(ctx context.Context, call *CommandCall, hasUpstream bool) (*stage, error) {
	var cmd *Command
	var b *binder
	if call.IsScript {
		statements, err := parseStatements(call.Name)
		if err != nil {
			return nil, parseFailure(err)
		}
		cmd = scriptCommand(statements)
		b = &binder{cmd: cmd, params: map[string]any{}, sets: []string{""}, common: defaultCommon()}
	} else {
		var err error
		if cmd, err = run.r.resolve(call.Name); err != nil {
			return nil, err
		}
		if b, err = bindArgs(cmd, call.Args); err != nil {
			return nil, err
		}
	}
	set, err := b.finish(hasUpstream)
	if err != nil {
		return nil, err
	}
	st := &stage{
		run:       run,
		cmd:       cmd,
		b:         b,
		set:       set,
		perRecord: hasUpstream && !cmd.StreamInput,
		merge:     call.MergeErrorToOutput,
	}
	params := make(map[string]any, len(b.params))
	for k, v := range b.params {
		params[k] = v
	}
	if err := run.r.authorize(ctx, st.invocation(params, set, nil)); err != nil {
		return nil, err
	}
	if cmd.SupportsShouldProcess && b.common.confirm && !b.common.whatIf && run.host == nil {
		// Nothing could answer the prompt: refuse before anything runs
		// rather than fail after some of the changes.
		return nil, confirmNeedsHost(cmd.Name)
	}
	return st, nil
}

func (st *stage) invocation(params map[string]any, set string, in Input) *Invocation {
	return &Invocation{
		Command:      st.cmd,
		Params:       params,
		ParameterSet: set,
		Caller:       st.run.r.cfg.Caller,
		Input:        in,
		Out:          st,
		Runspace:     st.run.r,
		stage:        st,
	}
}

// execute runs the command: once, or once per input object.
func (st *stage) execute(in Input) {
	defer func() {
		if p := recover(); p != nil {
			st.run.r.cfg.Logger.Error("engine: command panicked", logkey.Command, st.cmd.Name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			st.run.fail(internalError(st.cmd.Name, fmt.Errorf("engine: %s panicked: %v", st.cmd.Name, p), st.run.r.cfg.Caller.ShellID))
		}
	}()
	if !st.perRecord {
		st.done(st.cmd.Run(st.ctx, st.invocation(st.b.params, st.set, in)))
		return
	}
	for {
		obj, ok := in.Next(st.ctx)
		if !ok || st.stopped() {
			return
		}
		b := st.b.clone()
		err := b.bindInput(obj)
		set := ""
		if err == nil {
			set, err = b.finish(false)
		}
		if err != nil {
			// A record that cannot be bound is a non-terminating error;
			// the next one may bind.
			te, _ := toTerminating(st.cmd.Name, err, "")
			te.Record.Target = obj
			st.Error(te.Record)
			continue
		}
		inv := st.invocation(b.params, set, &singleInput{obj: obj})
		if len(b.params) != len(st.b.params) {
			if err := st.run.r.authorize(st.ctx, inv); err != nil {
				st.run.fail(err)
				return
			}
		}
		if !st.done(st.cmd.Run(st.ctx, inv)) {
			return
		}
	}
}

// done handles what Run returned; it reports whether to go on.
func (st *stage) done(err error) bool {
	if err == nil {
		return !st.stopped()
	}
	if cerr := st.run.ctx.Err(); cerr != nil {
		st.run.fail(pipelineStopped(cerr))
		return false
	}
	if st.downstreamDone || st.run.err != nil {
		// Stopped from downstream, or the pipeline already failed:
		// whatever the command says about it does not matter.
		return false
	}
	te, internal := toTerminating(st.cmd.Name, err, st.run.r.cfg.Caller.ShellID)
	if internal {
		st.run.r.cfg.Logger.Error("engine: command failed", logkey.Command, st.cmd.Name, logkey.Err, err)
	}
	st.run.fail(te)
	return false
}

// stopped reports whether the stage's output is no longer wanted.
func (st *stage) stopped() bool {
	return st.run.err != nil || st.downstreamDone || st.ctx.Err() != nil
}

// Output passes an object down the pipeline.
func (st *stage) Output(obj any) {
	if st.stopped() {
		return
	}
	if st.yield == nil {
		st.run.emit(obj)
		return
	}
	if !st.yield(obj) {
		st.downstreamDone = true
		st.cancel()
	}
}

// Error handles a non-terminating error per -ErrorAction.
func (st *stage) Error(rec *ErrorRecord) {
	if rec == nil {
		return
	}
	finishRecord(rec, st.cmd.Name)
	switch st.b.common.errorAction {
	case ActionIgnore, ActionSilentlyContinue:
		return
	case ActionStop:
		st.run.fail(&TerminatingError{Record: rec})
		return
	}
	if st.run.err != nil || st.run.ctx.Err() != nil {
		return
	}
	if st.merge {
		st.Output(rec)
		return
	}
	st.run.out.Error(rec)
}

// actionStop stops the pipeline because a preference is Stop.
func (st *stage) actionStop(pref, msg string) {
	e := psgate.E(psgate.CodeInvalidOperation, psgate.Args{
		"detail": fmt.Sprintf("The running command stopped because the preference variable %q or common parameter is set to Stop: %s", pref, msg),
	})
	rec := NewErrorRecord(e, "ActionPreferenceStop", CategoryOperationStopped, nil)
	rec.ExceptionType = "System.Management.Automation.ActionPreferenceStopException"
	rec.Reason = "ActionPreferenceStopException"
	finishRecord(rec, st.cmd.Name)
	st.run.fail(&TerminatingError{Record: rec})
}

// Warning handles a warning per -WarningAction.
func (st *stage) Warning(msg string) {
	switch st.b.common.warningAction {
	case ActionIgnore, ActionSilentlyContinue:
		return
	case ActionStop:
		st.actionStop("WarningPreference", msg)
		return
	}
	if st.run.err == nil {
		st.run.out.Warning(msg)
	}
}

// Verbose passes a verbose message when the command got -Verbose.
func (st *stage) Verbose(msg string) {
	if st.b.common.verbose && st.run.err == nil {
		st.run.out.Verbose(msg)
	}
}

// Debug passes a debug message when the command got -Debug.
func (st *stage) Debug(msg string) {
	if st.b.common.debug && st.run.err == nil {
		st.run.out.Debug(msg)
	}
}

// Information handles an information record per -InformationAction.
func (st *stage) Information(rec InformationRecord) {
	switch st.b.common.informationAction {
	case ActionIgnore:
		return
	case ActionStop:
		st.actionStop("InformationPreference", toText(rec.MessageData))
		return
	}
	if rec.Source == "" {
		rec.Source = st.cmd.Name
	}
	if st.run.err == nil {
		st.run.out.Information(rec)
	}
}

// Progress passes a progress record per -ProgressAction.
func (st *stage) Progress(rec ProgressRecord) {
	switch st.b.common.progressAction {
	case ActionIgnore, ActionSilentlyContinue:
		return
	case ActionStop:
		st.actionStop("ProgressPreference", rec.Activity)
		return
	}
	if st.run.err == nil {
		st.run.out.Progress(rec)
	}
}

// emptyInput is the input of a command with nothing upstream.
type emptyInput struct{}

func (emptyInput) Next(context.Context) (any, bool) { return nil, false }

// singleInput yields one object.
type singleInput struct {
	obj  any
	done bool
}

func (s *singleInput) Next(ctx context.Context) (any, bool) {
	if s.done || ctx.Err() != nil {
		return nil, false
	}
	s.done = true
	return s.obj, true
}

// pullInput reads an upstream stage's output.
type pullInput struct {
	next func() (any, bool)
	stop func()
	done bool
}

func (p *pullInput) Next(ctx context.Context) (any, bool) {
	if p.done || ctx.Err() != nil {
		return nil, false
	}
	v, ok := p.next()
	if !ok {
		p.done = true
	}
	return v, ok
}

// SliceInput is an Input yielding the given objects, for callers that
// have their pipeline input at hand.
type SliceInput []any

// Next implements Input.
func (s *SliceInput) Next(ctx context.Context) (any, bool) {
	if len(*s) == 0 || ctx.Err() != nil {
		return nil, false
	}
	v := (*s)[0]
	*s = (*s)[1:]
	return v, true
}

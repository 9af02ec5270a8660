package gateway

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/engine/builtin"
	"github.com/psgate/psgate/internal/stack"
	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/wsman"
)

// MinProtocolVersion is the oldest PSRP protocol version psgate accepts:
// 2.2 is Windows PowerShell 3.0, the minimum the seed's connector required.
const MinProtocolVersion = string(psrp.MinProtocolVersion)

// coalesceWait is how long a Receive that found pipeline output waits for
// more (typically the final state) before answering.
const coalesceWait = 2 * time.Millisecond

// maxServerBlob is the largest fragment blob psgate sends; Windows uses 32 KiB.
const maxServerBlob = 32 << 10

// psrpPool is a PSRP runspace pool: one WS-Man shell whose Sends and
// Receives carry PSRP fragments. The protocol is psrp.ServerPool's; the
// pool does its I/O: it reassembles what clients send, feeds the machine
// under mu, acts on its events (running pipelines on the engine) and
// queues what it answers for the Receives.
type psrpPool struct {
	g  *Gateway
	sh *shell
	rs *engine.Runspace

	mu      sync.Mutex
	m       *psrp.ServerPool
	in      psrp.Reassembler // pool-level client messages
	frag    psrp.Fragmenter  // server object ids, shared by all pipelines
	maxBlob int
	out     queue // pool-level server messages
	pipes   map[psrp.GUID]*psrpPipe
}

// psrpPipe is what the pool holds for one pipeline (WS-Man command) of
// the machine.
type psrpPipe struct {
	id     string // the CommandId, upper case
	pid    psrp.GUID
	in     psrp.Reassembler
	out    queue
	input  *pipeInput
	cancel context.CancelFunc
	// prompts are the host calls waiting for the client's answer, by
	// call id (see psrpHost); guarded by the pool's mu.
	prompts map[int64]chan<- psrp.HostResponse
}

func newPSRPPool(g *Gateway, s *shell, env *wsman.Envelope) (*psrpPool, error) {
	p := &psrpPool{
		g:       g,
		sh:      s,
		pipes:   make(map[psrp.GUID]*psrpPipe),
		maxBlob: min(maxServerBlob, g.payloadLimit(env.MaxEnvelopeSize)-64),
	}
	p.rs = engine.NewRunspace(engine.RunspaceConfig{
		Catalog:    g.cfg.Catalog,
		Caller:     callerOf(s),
		Authorizer: s.grant.Authorizer,
		Logger:     g.log,
	})
	rpid, err := psrp.ParseGUID(s.id)
	if err != nil {
		return nil, psgate.E(psgate.CodeInvalidParameter, psgate.Args{"detail": "the ShellId of a runspace pool must be its GUID"})
	}
	p.m = psrp.NewServerPool(psrp.ServerConfig{
		RPID:         rpid,
		Rand:         g.cfg.Rand,
		PrivateData:  g.privateData,
		MaxRunspaces: maxCommandsPerShell,
	})
	p.frag.MaxBlob = p.maxBlob
	p.in.Budget = s.partial
	if len(env.Shell.CreationXML) == 0 {
		return nil, psgate.E(psgate.CodeBadMessage, psgate.Args{"detail": "Create carries no creationXml"})
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.receivePoolData(env.Shell.CreationXML); err != nil {
		return nil, err
	}
	return p, nil
}

// privateData is the APPLICATION_PRIVATE_DATA of every pool. Its
// ImplicitRemoting.CommandsToSkip names every engine built-in and alias
// (the utility commands PowerShell has locally: Select-Object,
// Out-Default, Get-Date, prompt, TabExpansion2...), so that
// Import-PSSession proxies only the tenant's cmdlets and never shadows the
// user's own core commands. The gateway builds it once (Gateway.privateData).
func privateData() psrp.PrivateData {
	return psrp.PrivateData{CommandsToSkip: builtin.Names()}
}

// checkProtocolOption validates the protocolversion option of a PSRP Create
// before admission.
func checkProtocolOption(env *wsman.Envelope) error {
	opt, ok := env.Option("protocolversion")
	if !ok {
		return protocolVersionError("(none)")
	}
	if _, err := psrp.AcceptProtocolVersion(psobject.Version(opt.Value)); err != nil {
		return protocolVersionError(opt.Value)
	}
	return nil
}

func protocolVersionError(client string) error {
	return psgate.E(psgate.CodeProtocolVersion, psgate.Args{"client": client, "required": MinProtocolVersion, "required_ps": "3.0"})
}

// protocolError maps an error of the pool's machine to its catalog error;
// commandID names the pipeline it was about, if any.
func (p *psrpPool) protocolError(err error, commandID string) error {
	var (
		me *psrp.MessageError
		ve *psrp.VersionError
		se *psrp.SecureStringError
	)
	switch {
	case errors.As(err, &ve):
		return protocolVersionError(ve.Client)
	case errors.As(err, &me):
		return psgate.Wrap(psgate.CodeBadMessage, psgate.Args{"detail": me.Error()}, me.Err)
	case errors.As(err, &se):
		return psgate.E(psgate.CodeSecureString, psgate.Args{"name": se.Name})
	case errors.Is(err, psrp.ErrPoolClosed):
		return psgate.E(psgate.CodeShellNotFound, psgate.Args{"shell": p.sh.id})
	case errors.Is(err, psrp.ErrPipelineExists):
		return psgate.E(psgate.CodeInvalidParameter, psgate.Args{"detail": "CommandId " + commandID + " is already in use"})
	case errors.Is(err, psrp.ErrTooManyPipelines):
		return psgate.E(psgate.CodeTooManyCommands, nil)
	case errors.Is(err, psrp.ErrUnknownPipeline):
		return psgate.E(psgate.CodeCommandIDNotFound, nil)
	case errors.Is(err, psrp.ErrNoCapability):
		return psgate.E(psgate.CodeBadMessage, psgate.Args{"detail": err.Error()})
	}
	return err
}

// fragmentsLocked encodes m into server fragments; p.mu must be held.
func (p *psrpPool) fragmentsLocked(m psrp.Message) [][]byte {
	frs := p.frag.Fragment(m.Encode())
	out := make([][]byte, len(frs))
	for i, f := range frs {
		out[i] = f.AppendEncode(nil)
	}
	return out
}

// applyLocked acts on what the machine answered: its events first, then
// its messages, on the pool's stream; p.mu must be held.
func (p *psrpPool) applyLocked(st psrp.Step) error {
	for _, ev := range st.Events {
		switch e := ev.(type) {
		case psrp.StartPipeline:
			if err := p.start(e); err != nil {
				return err
			}
		case psrp.PipelineInput:
			if pipe := p.pipes[e.PID]; pipe != nil && pipe.input != nil {
				if err := pipe.input.push(e.Value, e.Size); err != nil {
					return err
				}
			}
		case psrp.EndOfInput:
			if pipe := p.pipes[e.PID]; pipe != nil && pipe.input != nil {
				pipe.input.end()
			}
		case psrp.StopPipeline:
			if pipe := p.pipes[e.PID]; pipe != nil && pipe.cancel != nil {
				pipe.cancel()
			}
		case psrp.ForgetPipeline:
			if pipe := p.pipes[e.PID]; pipe != nil {
				p.dropPipeLocked(pipe)
			}
		case psrp.HostAnswer:
			// Nobody waits any more when the prompt's pipeline was
			// stopped: the answer is dropped.
			if pipe := p.pipes[e.PID]; pipe != nil {
				if ch, ok := pipe.prompts[e.Response.CallID]; ok {
					delete(pipe.prompts, e.Response.CallID)
					ch <- e.Response // buffered: never blocks
				}
			}
		}
	}
	for _, m := range st.Send {
		p.out.push(p.fragmentsLocked(m))
	}
	return nil
}

// receivePoolData handles client data addressed to the pool (creationXml
// and shell-level Sends); p.mu must be held.
func (p *psrpPool) receivePoolData(data []byte) error {
	if p.out.bytes >= p.g.cfg.MaxOutputBuffer {
		// Every pool message is answered on the pool's stream: a client
		// that sends without ever receiving would grow it without end.
		return psgate.E(psgate.CodeBadMessage, psgate.Args{"detail": "the client sent runspace pool messages without receiving the answers to earlier ones"})
	}
	msgs, err := p.in.Write(data)
	if err != nil {
		return fragmentError(err)
	}
	for _, m := range msgs {
		st, err := p.m.Receive(m)
		if err != nil {
			return p.protocolError(err, "")
		}
		if err := p.applyLocked(st); err != nil {
			return err
		}
	}
	return nil
}

// command starts a pipeline: its CommandId is the pipeline id and its
// Arguments hold the first fragments of CREATE_PIPELINE or
// GET_COMMAND_METADATA.
func (p *psrpPool) command(_ context.Context, req *request) (string, error) {
	cl := req.env.CommandLine
	if cl == nil || cl.CommandID == "" {
		return "", psgate.E(psgate.CodeInvalidParameter, psgate.Args{"detail": "a PSRP Command needs a CommandId (the pipeline id)"})
	}
	pid, err := psrp.ParseGUID(cl.CommandID)
	if err != nil {
		return "", psgate.E(psgate.CodeInvalidParameter, psgate.Args{"detail": "CommandId " + cl.CommandID + " is not a GUID"})
	}
	id := strings.ToUpper(cl.CommandID)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.m.NewPipeline(pid); err != nil {
		return "", p.protocolError(err, id)
	}
	pipe := &psrpPipe{id: id, pid: pid}
	pipe.in.Budget = p.sh.partial
	p.pipes[pid] = pipe
	for _, arg := range cl.Arguments {
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(arg))
		if err != nil {
			p.abandonLocked(pipe)
			return "", psgate.E(psgate.CodeBadFragment, psgate.Args{"detail": "Command arguments are not base64"})
		}
		if err := p.pipeDataLocked(pipe, data); err != nil {
			p.abandonLocked(pipe)
			return "", err
		}
	}
	return id, nil
}

// abandonLocked forgets a pipeline whose Command failed; p.mu must be
// held.
func (p *psrpPool) abandonLocked(pipe *psrpPipe) {
	p.m.Abandon(pipe.pid)
	p.dropPipeLocked(pipe)
}

// pipeDataLocked feeds client data for a pipeline (Command arguments and
// command-level Sends); p.mu must be held.
func (p *psrpPool) pipeDataLocked(pipe *psrpPipe, data []byte) error {
	msgs, err := pipe.in.Write(data)
	if err != nil {
		return fragmentError(err)
	}
	for _, m := range msgs {
		st, err := p.m.ReceivePipeline(pipe.pid, m)
		if err != nil {
			return p.protocolError(err, pipe.id)
		}
		if err := p.applyLocked(st); err != nil {
			return err
		}
	}
	return nil
}

// start runs a pipeline in the background; p.mu must be held.
func (p *psrpPool) start(e psrp.StartPipeline) error {
	pipe := p.pipes[e.PID]
	if pipe == nil {
		return fmt.Errorf("gateway: the machine started pipeline %v, which the pool does not hold", e.PID)
	}
	run := func(ctx context.Context, s *psrpSink) error { return p.commandMetadata(s, *e.Metadata) }
	if cp := e.Create; cp != nil {
		if !cp.NoInput {
			pipe.input = newPipeInput(pendingInputFactor*p.g.cfg.MaxOutputBuffer, p.sh.partial)
		}
		host := e.Host()
		run = func(ctx context.Context, s *psrpSink) error {
			start := time.Now()
			err := p.runPipeline(ctx, s, cp, host)
			// Durable before the final state reaches the client.
			p.g.auditCommand(context.WithoutCancel(ctx), p.sh, pipe.id, psrpCalls(cp), err, time.Since(start))
			return err
		}
	}
	if err := p.g.startCommand(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	pipe.cancel = cancel
	sink := &psrpSink{p: p, pipe: pipe, ctx: ctx, rpid: e.RPID, version: e.Version, width: int(e.PoolHost.BufferWidth)}
	go func() {
		stack.Grow() // the pipeline goes deep: engine, store, driver
		defer p.g.wg.Done()
		defer cancel()
		err := run(ctx, sink)
		p.finishPipe(ctx, sink, err)
	}()
	return nil
}

// finishPipe queues the final PIPELINE_STATE: Completed, Failed with the
// terminating error, or Stopped.
func (p *psrpPool) finishPipe(ctx context.Context, s *psrpSink, err error) {
	s.flushHost()
	state, reason := psrp.PipelineCompleted, (*psrp.ErrorRecord)(nil)
	var te *engine.TerminatingError
	switch {
	case ctx.Err() != nil || psgate.CodeOf(err) == psgate.CodePipelineStopped:
		state, reason = psrp.PipelineStopped, psrp.PipelineStoppedError()
	case errors.As(err, &te) && te.Written:
		// A script statement failed and reported it; the script ran on,
		// so the pipeline completed, as PowerShell's does.
	case errors.As(err, &te):
		state, reason = psrp.PipelineFailed, wireRecord(te.Record)
	case err != nil:
		e, ok := psgate.AsError(err)
		if !ok {
			p.g.log.Error("pipeline failed", logKeyShellID, p.sh.id, logKeyCommandID, s.pipe.id, logKeyErr, err)
			e = psgate.E(psgate.CodeInternal, psgate.Args{"request": s.pipe.id})
		}
		state, reason = psrp.PipelineFailed, wireRecord(&engine.ErrorRecord{Err: e, FullyQualifiedErrorID: string(e.Code)})
	}
	if s.pipe.input != nil {
		// Nothing reads the input any more: its bytes go back.
		s.pipe.input.discard()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.pipe(s.pipe) {
		// Terminated, closed, or abandoned and its id taken by a new
		// pipeline: nobody receives from its queue, and the machine's
		// pipeline of that id is not this one.
		return
	}
	m, merr := p.m.Finish(s.pipe.pid, s.rpid, state, reason)
	if merr != nil {
		p.g.log.Error("build pipeline state", logKeyErr, merr)
	}
	s.pipe.out.push(p.fragmentsLocked(m))
}

// endedLocked reports whether the pipeline's last message is queued;
// p.mu must be held.
func (p *psrpPool) endedLocked(pipe *psrpPipe) bool {
	_, final, ok := p.m.Pipeline(pipe.pid)
	return ok && final
}

// lookupLocked finds the pipeline a request's CommandId names; p.mu must
// be held.
func (p *psrpPool) lookupLocked(commandID string) (*psrpPipe, psrp.GUID, bool) {
	pid, err := psrp.ParseGUID(commandID)
	if err != nil {
		return nil, pid, false
	}
	pipe, ok := p.pipes[pid]
	return pipe, pid, ok
}

func (p *psrpPool) send(_ context.Context, req *request) error {
	if req.env.Send == nil {
		return psgate.E(psgate.CodeMalformedEnvelope, psgate.Args{"detail": "a Send request needs an rsp:Send body"})
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m.State().Terminal() {
		return psgate.E(psgate.CodeShellNotFound, psgate.Args{"shell": p.sh.id})
	}
	for _, st := range req.env.Send.Streams {
		if st.CommandID == "" {
			if err := p.receivePoolData(st.Data); err != nil {
				return err
			}
			continue
		}
		pipe, pid, ok := p.lookupLocked(st.CommandID)
		if !ok {
			if pid != (psrp.GUID{}) && p.m.Ended(pid) {
				continue
			}
			return psgate.E(psgate.CodeCommandIDNotFound, nil)
		}
		if err := p.pipeDataLocked(pipe, st.Data); err != nil {
			return err
		}
	}
	return nil
}

// receive answers a Receive with the output waiting on the pool or on one
// pipeline, holding it until output arrives, the wait ends, or a
// Disconnect begins (then it answers at once, with what it has or with
// nothing). What it takes is leased: it leaves the queue for good only once
// the response reached the client, and a pipeline whose final state went
// out is retired only then.
func (p *psrpPool) receive(ctx context.Context, req *request, wait time.Duration) (wsman.ReceiveResult, error) {
	rc := req.env.Receive
	if rc == nil {
		return wsman.ReceiveResult{}, psgate.E(psgate.CodeMalformedEnvelope, psgate.Args{"detail": "a Receive request needs an rsp:Receive body"})
	}
	stream := "stdout"
	if len(rc.DesiredStreams) > 0 {
		stream = rc.DesiredStreams[0]
	}
	limit := p.g.payloadLimit(req.env.MaxEnvelopeSize)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	moving := p.sh.moveWakeChan()
	detach := req.detach
	detached := func() bool {
		select {
		case <-detach:
			return true
		default:
			return false
		}
	}
	coalesced := false
	for {
		p.mu.Lock()
		q := &p.out
		var pipe *psrpPipe
		final := false
		if rc.CommandID != "" {
			var ok bool
			if pipe, _, ok = p.lookupLocked(rc.CommandID); !ok {
				p.mu.Unlock()
				return wsman.ReceiveResult{}, psgate.E(psgate.CodeCommandIDNotFound, nil)
			}
			q = &pipe.out
			final = p.endedLocked(pipe)
		}
		if err := ctx.Err(); err != nil {
			// The client went away: take nothing for it.
			p.mu.Unlock()
			return wsman.ReceiveResult{}, err
		}
		if q.leased || len(q.frags) == 0 {
			if detached() {
				// A Disconnect is waiting for this Receive: answer
				// now, with no output.
				p.mu.Unlock()
				return emptyReceive(rc.CommandID, pipe != nil), nil
			}
		} else if pipe != nil && !final && !coalesced && q.bytes < limit && !detached() {
			// Output of a short pipeline is usually followed at once by its
			// final state: wait a moment so that one response carries both
			// and the client saves a round trip. A long pipeline loses at
			// most this delay on its first Receive.
			coalesced = true
			ch := q.wait()
			p.mu.Unlock()
			select {
			case <-ch:
			case <-time.After(coalesceWait):
			case <-ctx.Done():
			case <-detach:
			}
			continue
		} else {
			data, l := q.take(limit)
			res := wsman.ReceiveResult{Streams: []wsman.OutStream{{Name: stream, CommandID: rc.CommandID, Data: data}}}
			done := false
			if pipe != nil {
				done = final && len(q.frags) == 0
				res.State = &wsman.CommandState{CommandID: rc.CommandID, State: wsman.StateRunning}
				if done {
					code := 0
					res.State = &wsman.CommandState{CommandID: rc.CommandID, State: wsman.StateDone, ExitCode: &code}
				}
			}
			p.mu.Unlock()
			req.afterWrite(func(ok bool) { p.endLease(pipe, q, l, ok, done) })
			return res, nil
		}
		ch := q.wait()
		p.mu.Unlock()
		select {
		case <-ch:
		case <-detach:
		case <-timer.C:
			return wsman.ReceiveResult{}, psgate.E(psgate.CodeOperationTimeout, nil)
		case <-moving:
			// The shell is being handed over: answer as if the wait had
			// run out, and the client sends the Receive again.
			return wsman.ReceiveResult{}, psgate.E(psgate.CodeOperationTimeout, nil)
		case <-p.sh.done:
			if e := p.sh.closeReason(); e != nil {
				return wsman.ReceiveResult{}, e
			}
			return wsman.ReceiveResult{}, psgate.E(psgate.CodeShellNotFound, psgate.Args{"shell": p.sh.id})
		case <-ctx.Done():
			return wsman.ReceiveResult{}, ctx.Err()
		}
	}
}

// emptyReceive is the answer of a Receive woken by a Disconnect with no
// output for it: a command that still runs says so.
func emptyReceive(commandID string, command bool) wsman.ReceiveResult {
	if !command {
		return wsman.ReceiveResult{}
	}
	return wsman.ReceiveResult{State: &wsman.CommandState{CommandID: commandID, State: wsman.StateRunning}}
}

// endLease ends what a Receive took from q (a pipeline's queue when pipe
// is not nil): delivered output is gone for good, and a pipeline whose
// final state was delivered (done) is retired; undelivered output goes
// back to the front of the queue for the next Receive.
func (p *psrpPool) endLease(pipe *psrpPipe, q *queue, l lease, delivered, done bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pipe != nil && !p.pipe(pipe) {
		return // terminated or closed meanwhile
	}
	if !delivered {
		q.giveBack(l)
		return
	}
	q.commit(l)
	if done {
		_ = p.applyLocked(psrp.Step{Events: []psrp.Event{p.m.Retire(pipe.pid)}}) // forgets: nothing fails
	}
}

func (p *psrpPool) signal(_ context.Context, req *request) error {
	sg := req.env.Signal
	if sg == nil {
		return psgate.E(psgate.CodeMalformedEnvelope, psgate.Args{"detail": "a Signal request needs an rsp:Signal body"})
	}
	if sg.CommandID == "" {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, pid, ok := p.lookupLocked(sg.CommandID)
	if !ok {
		if pid != (psrp.GUID{}) && p.m.Ended(pid) {
			return nil
		}
		return psgate.E(psgate.CodeCommandIDNotFound, nil)
	}
	var sig psrp.Signal
	switch {
	case wsman.IsStopSignal(sg.Code):
		sig = psrp.SignalStop
	case wsman.IsTerminateSignal(sg.Code):
		sig = psrp.SignalTerminate
	default:
		return psgate.E(psgate.CodeInvalidParameter, psgate.Args{"detail": "unknown signal code " + sg.Code})
	}
	st, err := p.m.Signal(pid, sig)
	if err != nil {
		return p.protocolError(err, strings.ToUpper(sg.CommandID))
	}
	return p.applyLocked(st)
}

// settled reports that every pipeline's end was received (the pool
// forgets a pipeline then).
func (p *psrpPool) settled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pipes) == 0
}

func (p *psrpPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.m.Close()
	p.in.Close()
	_ = p.applyLocked(st) // stops and forgets: nothing fails
	p.out.wake()
}

// dropPipeLocked forgets a pipeline and returns what it held of its
// client's unfinished data (partly received messages, waiting input) to
// the shell's budget; p.mu must be held.
func (p *psrpPool) dropPipeLocked(pipe *psrpPipe) {
	delete(p.pipes, pipe.pid)
	pipe.in.Close()
	if pipe.input != nil {
		pipe.input.discard()
	}
}

// connect attaches a new client to the pool (Connect-PSSession, pypsrp's
// RunspacePool.connect): connectXml carries SESSION_CAPABILITY and
// CONNECT_RUNSPACEPOOL; the answer carries the server's capability and
// RUNSPACEPOOL_INIT_DATA, and APPLICATION_PRIVATE_DATA follows on the next
// pool Receive. A Connect with a CommandId reattaches to a pipeline whose
// buffered output the client then receives.
func (p *psrpPool) connect(_ context.Context, req *request) ([]byte, error) {
	c := req.env.Connect
	if c == nil {
		return nil, psgate.E(psgate.CodeMalformedEnvelope, psgate.Args{"detail": "a Connect request needs an rsp:Connect body"})
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.CommandID != "" {
		if _, _, ok := p.lookupLocked(c.CommandID); !ok {
			return nil, psgate.E(psgate.CodeCommandIDNotFound, nil)
		}
		return nil, nil
	}
	var in psrp.Reassembler
	msgs, err := in.Write(c.ConnectXML)
	if err != nil {
		return nil, psgate.Wrap(psgate.CodeBadFragment, psgate.Args{"detail": err.Error()}, err)
	}
	resp, st, err := p.m.Connect(msgs)
	if err != nil {
		return nil, p.protocolError(err, "")
	}
	var out []byte
	for _, m := range resp {
		for _, f := range p.fragmentsLocked(m) {
			out = append(out, f...)
		}
	}
	// A new client starts with a clean pool-level stream; a Receive still
	// waiting on the old one is woken.
	p.out.reset()
	if err := p.applyLocked(st); err != nil {
		return nil, err
	}
	return out, nil
}

// commands lists the pool's pipelines for command enumeration.
func (p *psrpPool) commands() []wsman.CommandInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	pids := p.m.Pipelines()
	out := make([]wsman.CommandInfo, 0, len(pids))
	for _, pid := range pids {
		if pipe := p.pipes[pid]; pipe != nil {
			out = append(out, wsman.CommandInfo{CommandID: pipe.id})
		}
	}
	return out
}

// busy says why the pool cannot move to another node now (mover).
func (p *psrpPool) busy() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.busyLocked()
}

func (p *psrpPool) busyLocked() string {
	switch {
	case p.m.State().Terminal():
		return "the runspace pool is closed"
	case len(p.pipes) > 0 || !p.m.Idle():
		return "a pipeline runs, or its output is not collected yet"
	case p.in.Pending() > 0:
		return "a runspace pool message is partly received"
	case p.out.leased:
		return "runspace pool output is being received"
	}
	return ""
}

// handoff captures the machine and the fragmenter (mover).
func (p *psrpPool) handoff(h *Handoff) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if why := p.busyLocked(); why != "" {
		return &BusyError{ShellID: p.sh.id, Reason: why}
	}
	snap, err := p.m.Snapshot()
	if err != nil {
		return &BusyError{ShellID: p.sh.id, Reason: err.Error()}
	}
	h.PSRP = &PSRPHandoff{Pool: snap, NextObjectID: p.frag.NextObjectID, MaxBlob: p.maxBlob,
		Output: append([][]byte(nil), p.out.frags...)}
	return nil
}

// restorePSRPPool rebuilds a runspace pool another node handed over.
func restorePSRPPool(g *Gateway, s *shell, h PSRPHandoff) (*psrpPool, error) {
	m, err := psrp.RestoreServerPool(psrp.ServerConfig{
		Rand:         g.cfg.Rand,
		PrivateData:  g.privateData,
		MaxRunspaces: maxCommandsPerShell,
	}, h.Pool)
	if err != nil {
		return nil, fmt.Errorf("gateway: adopt shell %s: %w", s.id, err)
	}
	p := &psrpPool{g: g, sh: s, m: m, pipes: make(map[psrp.GUID]*psrpPipe), maxBlob: h.MaxBlob}
	p.rs = engine.NewRunspace(engine.RunspaceConfig{
		Catalog:    g.cfg.Catalog,
		Caller:     callerOf(s),
		Authorizer: s.grant.Authorizer,
		Logger:     g.log,
	})
	p.frag.MaxBlob = p.maxBlob
	p.frag.NextObjectID = h.NextObjectID
	p.in.Budget = s.partial
	if len(h.Output) > 0 {
		p.out.push(h.Output)
	}
	return p, nil
}

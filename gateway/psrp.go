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
	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/psobject"
	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/wsman"
)

// MinProtocolVersion is the oldest PSRP protocol version psgate accepts:
// 2.2 is Windows PowerShell 3.0, the minimum the seed's connector required.
const MinProtocolVersion = "2.2"

// coalesceWait is how long a Receive that found pipeline output waits for
// more (typically the final state) before answering.
const coalesceWait = 2 * time.Millisecond

// maxServerBlob is the largest fragment blob psgate sends; Windows uses 32 KiB.
const maxServerBlob = 32 << 10

// psrpPool is a PSRP runspace pool: one WS-Man shell whose Sends and
// Receives carry PSRP fragments.
type psrpPool struct {
	g      *Gateway
	sh     *shell
	rs     *engine.Runspace
	config string
	lim    clixml.Limits

	mu       sync.Mutex
	rpid     psrp.GUID
	version  psobject.Version
	opened   bool
	minRS    int32
	maxRS    int32
	host     psrp.HostInfo
	in       psrp.Reassembler // pool-level client messages
	frag     psrp.Fragmenter  // server object ids, shared by all pipelines
	maxBlob  int
	out      queue // pool-level server messages
	pipes    map[string]*psrpPipe
	finished recentIDs // tombstones, so late Signals and Sends succeed
	closed   bool
}

// queue is a list of encoded fragments waiting for a Receive, guarded by the
// pool's mutex. A Receive leases what it takes: the fragments leave the
// queue, but come back to its front unless the response carrying them
// reaches the client; until then no other Receive takes from the queue.
type queue struct {
	frags   [][]byte
	bytes   int
	changed chan struct{}
	leased  bool
	gen     int // bumped by reset: a lease of an older generation is void
}

func (q *queue) push(frags [][]byte) {
	for _, f := range frags {
		q.frags = append(q.frags, f)
		q.bytes += len(f)
	}
	q.wake()
}

func (q *queue) wake() {
	if q.changed != nil {
		close(q.changed)
	}
	q.changed = make(chan struct{})
}

func (q *queue) wait() <-chan struct{} {
	if q.changed == nil {
		q.changed = make(chan struct{})
	}
	return q.changed
}

// reset empties the queue for a new client and voids any lease.
func (q *queue) reset() {
	q.frags, q.bytes, q.leased = nil, 0, false
	q.gen++
	q.wake()
}

// lease is fragments a Receive took off a queue.
type lease struct {
	frags [][]byte
	gen   int
}

// take removes whole fragments totalling at most limit bytes (always at
// least one), leasing them; it returns them concatenated. The caller must
// end the lease with commit or giveBack.
func (q *queue) take(limit int) ([]byte, lease) {
	var data []byte
	n := 0
	for n < len(q.frags) && (n == 0 || len(data)+len(q.frags[n]) <= limit) {
		data = append(data, q.frags[n]...)
		n++
	}
	l := lease{frags: append([][]byte(nil), q.frags[:n]...), gen: q.gen}
	for i := range n {
		q.bytes -= len(q.frags[i])
		q.frags[i] = nil
	}
	q.frags = q.frags[n:]
	q.leased = true
	q.wake()
	return data, l
}

// commit ends a lease whose response reached the client.
func (q *queue) commit(l lease) {
	if l.gen == q.gen {
		q.leased = false
		q.wake()
	}
}

// giveBack ends a lease whose response did not reach the client: its
// fragments return to the front of the queue, in order.
func (q *queue) giveBack(l lease) {
	if l.gen != q.gen {
		return
	}
	q.frags = append(l.frags, q.frags...)
	for _, f := range l.frags {
		q.bytes += len(f)
	}
	q.leased = false
	q.wake()
}

// psrpPipe is one pipeline (WS-Man command) of a pool.
type psrpPipe struct {
	id       string
	pid      psrp.GUID
	in       psrp.Reassembler
	started  bool
	out      queue
	final    bool // the last PIPELINE_STATE is queued
	input    *pipeInput
	cancel   context.CancelFunc
	stopping bool
}

func newPSRPPool(g *Gateway, s *shell, env *wsman.Envelope) (*psrpPool, error) {
	cfg, _ := wsman.ConfigurationName(env.ResourceURI)
	p := &psrpPool{
		g:       g,
		sh:      s,
		config:  cfg,
		pipes:   make(map[string]*psrpPipe),
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
	p.rpid = rpid
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
// user's own core commands.
func privateData() psrp.PrivateData {
	return psrp.PrivateData{CommandsToSkip: engine.BuiltinNames()}
}

// checkProtocolOption validates the protocolversion option of a PSRP Create
// before admission.
func checkProtocolOption(env *wsman.Envelope) error {
	opt, ok := env.Option("protocolversion")
	if !ok {
		return psgate.E(psgate.CodeProtocolVersion, psgate.Args{"client": "(none)", "required": MinProtocolVersion, "required_ps": "3.0"})
	}
	return checkProtocolVersion(psobject.Version(opt.Value))
}

func checkProtocolVersion(v psobject.Version) error {
	if _, err := psrp.NegotiateProtocolVersion(v); err != nil || !psrp.VersionAtLeast(v, 2, 2) {
		return psgate.E(psgate.CodeProtocolVersion, psgate.Args{"client": string(v), "required": MinProtocolVersion, "required_ps": "3.0"})
	}
	return nil
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

func (p *psrpPool) poolMsgLocked(m psrp.Message, err error) error {
	if err != nil {
		return fmt.Errorf("gateway: build %v: %w", m.Type, err)
	}
	p.out.push(p.fragmentsLocked(m))
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
		// Echo the client's RPID as it encoded it: old pypsrp releases
		// wrote the ShellId's bytes in another order, and Windows echoes
		// whatever the client sent.
		if !m.RPID.IsZero() {
			p.rpid = m.RPID
		}
		if err := p.handlePoolMessage(m); err != nil {
			return err
		}
	}
	return nil
}

func badMessage(m psrp.Message, err error) error {
	return psgate.Wrap(psgate.CodeBadMessage, psgate.Args{"detail": fmt.Sprintf("%v: %v", m.Type, err)}, err)
}

func (p *psrpPool) handlePoolMessage(m psrp.Message) error {
	switch m.Type {
	case psrp.MsgSessionCapability:
		c, err := psrp.ParseSessionCapability(m.Data, p.lim)
		if err != nil {
			return badMessage(m, err)
		}
		if err := checkProtocolVersion(c.ProtocolVersion); err != nil {
			return err
		}
		v, _ := psrp.NegotiateProtocolVersion(c.ProtocolVersion)
		p.version = v
		return p.poolMsgLocked(psrp.NewSessionCapability(v), nil)
	case psrp.MsgInitRunspacePool:
		init, err := psrp.ParseInitRunspacePool(m.Data, p.lim)
		if err != nil {
			return badMessage(m, err)
		}
		if p.version == "" {
			return badMessage(m, errors.New("INIT_RUNSPACEPOOL before SESSION_CAPABILITY"))
		}
		p.minRS, p.maxRS, p.host = init.MinRunspaces, init.MaxRunspaces, init.HostInfo
		if p.maxRS < 1 {
			p.maxRS = 1
		}
		if err := p.poolMsgLocked(psrp.NewApplicationPrivateData(p.rpid, privateData())); err != nil {
			return err
		}
		p.opened = true
		return p.poolMsgLocked(psrp.NewRunspacePoolState(p.rpid, psrp.PoolOpened, nil))
	case psrp.MsgSetMaxRunspaces, psrp.MsgSetMinRunspaces:
		parse := psrp.ParseSetMaxRunspaces
		if m.Type == psrp.MsgSetMinRunspaces {
			parse = psrp.ParseSetMinRunspaces
		}
		r, err := parse(m.Data, p.lim)
		if err != nil {
			return badMessage(m, err)
		}
		ok := r.Value >= 1 && r.Value <= maxCommandsPerShell
		if ok && m.Type == psrp.MsgSetMaxRunspaces {
			p.maxRS = r.Value
		} else if ok {
			p.minRS = r.Value
		}
		return p.poolMsgLocked(psrp.NewRunspaceAvailability(p.rpid, r.CallID, ok), nil)
	case psrp.MsgGetAvailableRunspaces:
		ci, err := psrp.ParseCallID(m.Type, m.Data, p.lim)
		if err != nil {
			return badMessage(m, err)
		}
		return p.poolMsgLocked(psrp.NewRunspaceCount(p.rpid, ci, p.maxRS-int32(p.runningLocked())), nil)
	case psrp.MsgResetRunspaceState:
		ci, err := psrp.ParseCallID(m.Type, m.Data, p.lim)
		if err != nil {
			return badMessage(m, err)
		}
		return p.poolMsgLocked(psrp.NewRunspaceAvailability(p.rpid, ci, true), nil)
	case psrp.MsgRunspacePoolHostResponse:
		return nil // psgate sends only void host calls
	case psrp.MsgPublicKey:
		// Windows PowerShell sends PUBLIC_KEY before a pipeline that
		// holds a SecureString (a -Credential argument) and waits 180 s
		// for the answer before failing with a transport error. Answer at
		// once so that the pipeline arrives and is refused with psgate's
		// own SecureString error; the key itself is not kept, since
		// SecureString values are never decrypted.
		blob, err := psrp.ParsePublicKey(m.Data, p.lim)
		if err != nil {
			return badMessage(m, err)
		}
		_, enc, err := psrp.NewSessionKey(blob, p.g.cfg.Rand)
		if err != nil {
			return badMessage(m, err)
		}
		return p.poolMsgLocked(psrp.NewEncryptedSessionKey(enc), nil)
	}
	return badMessage(m, fmt.Errorf("unexpected message for the runspace pool"))
}

// maxPipesLocked bounds the pipelines a pool holds at once, running or
// finished with output the client has not collected: the pool's
// runspaces, never more than maxCommandsPerShell whatever the client asked
// for, plus as many waiting. Pipelines hold up to MaxOutputBuffer each, so
// the bound is on all of them, not only the running ones; p.mu must be
// held.
func (p *psrpPool) maxPipesLocked() int {
	return int(min(max(p.maxRS, 1), maxCommandsPerShell)) + maxCommandsPerShell
}

func (p *psrpPool) runningLocked() int {
	n := 0
	for _, pp := range p.pipes {
		if pp.started && !pp.final {
			n++
		}
	}
	return n
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
	if p.closed {
		return "", psgate.E(psgate.CodeShellNotFound, psgate.Args{"shell": p.sh.id})
	}
	if _, dup := p.pipes[id]; dup {
		return "", psgate.E(psgate.CodeInvalidParameter, psgate.Args{"detail": "CommandId " + id + " is already in use"})
	}
	if len(p.pipes) >= p.maxPipesLocked() {
		return "", psgate.E(psgate.CodeTooManyCommands, nil)
	}
	pipe := &psrpPipe{id: id, pid: pid}
	pipe.in.Budget = p.sh.partial
	p.pipes[id] = pipe
	for _, arg := range cl.Arguments {
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(arg))
		if err != nil {
			p.dropPipeLocked(pipe)
			return "", psgate.E(psgate.CodeBadFragment, psgate.Args{"detail": "Command arguments are not base64"})
		}
		if err := p.pipeDataLocked(pipe, data); err != nil {
			p.dropPipeLocked(pipe)
			return "", err
		}
	}
	return id, nil
}

// pipeDataLocked feeds client data for a pipeline (Command arguments and
// command-level Sends); p.mu must be held.
func (p *psrpPool) pipeDataLocked(pipe *psrpPipe, data []byte) error {
	msgs, err := pipe.in.Write(data)
	if err != nil {
		return fragmentError(err)
	}
	for _, m := range msgs {
		if err := p.handlePipeMessage(pipe, m); err != nil {
			return err
		}
	}
	return nil
}

func (p *psrpPool) handlePipeMessage(pipe *psrpPipe, m psrp.Message) error {
	switch m.Type {
	case psrp.MsgCreatePipeline:
		if pipe.started {
			return badMessage(m, errors.New("the pipeline was already created"))
		}
		cp, err := psrp.ParseCreatePipeline(m.Data, p.lim)
		if err != nil {
			return badMessage(m, err)
		}
		if !cp.NoInput {
			pipe.input = newPipeInput(pendingInputFactor*p.g.cfg.MaxOutputBuffer, p.sh.partial)
		}
		pipe.started = true
		return p.start(pipe, func(ctx context.Context, s *psrpSink) error {
			start := time.Now()
			err := p.runPipeline(ctx, s, cp)
			// Durable before the final state reaches the client.
			p.g.auditCommand(context.WithoutCancel(ctx), p.sh, pipe.id, psrpCalls(cp), err, time.Since(start))
			return err
		})
	case psrp.MsgGetCommandMetadata:
		if pipe.started {
			return badMessage(m, errors.New("the pipeline was already created"))
		}
		g, err := psrp.ParseGetCommandMetadata(m.Data, p.lim)
		if err != nil {
			return badMessage(m, err)
		}
		pipe.started = true
		return p.start(pipe, func(ctx context.Context, s *psrpSink) error { return p.commandMetadata(s, g) })
	case psrp.MsgPipelineInput:
		if pipe.input == nil {
			return badMessage(m, errors.New("input for a pipeline created without input"))
		}
		v, err := psrp.ParsePipelineInput(m.Data, p.lim)
		if err != nil {
			return badMessage(m, err)
		}
		if psrp.HasSecureString(v) {
			return psgate.E(psgate.CodeSecureString, psgate.Args{"name": "pipeline input"})
		}
		return pipe.input.push(v, len(m.Data))
	case psrp.MsgEndOfPipelineInput:
		if pipe.input != nil {
			pipe.input.end()
		}
	case psrp.MsgPipelineHostResponse:
	default:
		return badMessage(m, errors.New("unexpected message for a pipeline"))
	}
	return nil
}

// start runs a pipeline in the background; p.mu must be held.
func (p *psrpPool) start(pipe *psrpPipe, run func(context.Context, *psrpSink) error) error {
	if err := p.g.startCommand(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	pipe.cancel = cancel
	sink := &psrpSink{p: p, pipe: pipe, ctx: ctx, rpid: p.rpid, version: p.version, width: int(p.host.BufferWidth)}
	go func() {
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
	m, merr := psrp.NewPipelineState(s.rpid, s.pipe.pid, state, reason)
	p.mu.Lock()
	defer p.mu.Unlock()
	if merr != nil {
		p.g.log.Error("build pipeline state", logKeyErr, merr)
		m, _ = psrp.NewPipelineState(s.rpid, s.pipe.pid, psrp.PipelineFailed, nil)
	}
	s.pipe.out.push(p.fragmentsLocked(m))
	s.pipe.final = true
}

func (p *psrpPool) send(_ context.Context, req *request) error {
	if req.env.Send == nil {
		return psgate.E(psgate.CodeMalformedEnvelope, psgate.Args{"detail": "a Send request needs an rsp:Send body"})
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return psgate.E(psgate.CodeShellNotFound, psgate.Args{"shell": p.sh.id})
	}
	for _, st := range req.env.Send.Streams {
		if st.CommandID == "" {
			if err := p.receivePoolData(st.Data); err != nil {
				return err
			}
			continue
		}
		pipe, ok := p.pipes[strings.ToUpper(st.CommandID)]
		if !ok {
			if p.finished.has(strings.ToUpper(st.CommandID)) {
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
	id := strings.ToUpper(rc.CommandID)
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
		if id != "" {
			var ok bool
			if pipe, ok = p.pipes[id]; !ok {
				p.mu.Unlock()
				return wsman.ReceiveResult{}, psgate.E(psgate.CodeCommandIDNotFound, nil)
			}
			q = &pipe.out
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
		} else if pipe != nil && !pipe.final && !coalesced && q.bytes < limit && !detached() {
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
				done = pipe.final && len(q.frags) == 0
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
		p.retireLocked(pipe.id)
	}
}

// retireLocked forgets a finished pipeline, keeping a tombstone so late
// Signals succeed; p.mu must be held.
func (p *psrpPool) retireLocked(id string) {
	if pipe, ok := p.pipes[id]; ok {
		p.dropPipeLocked(pipe)
	}
	p.finished.add(id)
}

func (p *psrpPool) signal(_ context.Context, req *request) error {
	sg := req.env.Signal
	if sg == nil {
		return psgate.E(psgate.CodeMalformedEnvelope, psgate.Args{"detail": "a Signal request needs an rsp:Signal body"})
	}
	if sg.CommandID == "" {
		return nil
	}
	id := strings.ToUpper(sg.CommandID)
	p.mu.Lock()
	defer p.mu.Unlock()
	pipe, ok := p.pipes[id]
	if !ok {
		if p.finished.has(id) {
			return nil
		}
		return psgate.E(psgate.CodeCommandIDNotFound, nil)
	}
	switch {
	case wsman.IsStopSignal(sg.Code):
		pipe.stopping = true
		if pipe.cancel != nil {
			pipe.cancel()
		}
	case wsman.IsTerminateSignal(sg.Code):
		if pipe.cancel != nil {
			pipe.cancel()
		}
		p.retireLocked(id)
	default:
		return psgate.E(psgate.CodeInvalidParameter, psgate.Args{"detail": "unknown signal code " + sg.Code})
	}
	return nil
}

func (p *psrpPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.in.Close()
	for _, pipe := range p.pipes {
		if pipe.cancel != nil {
			pipe.cancel()
		}
		p.dropPipeLocked(pipe)
	}
	p.out.wake()
}

// dropPipeLocked forgets a pipeline and returns what it held of its
// client's unfinished data (partly received messages, waiting input) to
// the shell's budget; p.mu must be held.
func (p *psrpPool) dropPipeLocked(pipe *psrpPipe) {
	delete(p.pipes, pipe.id)
	pipe.in.Close()
	if pipe.input != nil {
		pipe.input.discard()
	}
}

// pipeInput is a pipeline's input stream, fed by PIPELINE_INPUT messages.
type pipeInput struct {
	budget  psrp.Budget // charged for the bytes waiting; may be nil
	mu      sync.Mutex
	items   []any
	sizes   []int // the encoded size of each item
	bytes   int   // the sum of sizes, all of them charged to budget
	limit   int   // the most bytes waiting
	ended   bool
	changed chan struct{}
}

// maxPendingInput bounds the objects waiting for a pipeline to read them.
const maxPendingInput = 100000

// pendingInputFactor bounds the bytes of PIPELINE_INPUT messages waiting
// for a pipeline to read them, as a multiple of MaxOutputBuffer (64 MiB by
// default).
const pendingInputFactor = 16

func newPipeInput(limit int, budget psrp.Budget) *pipeInput {
	return &pipeInput{changed: make(chan struct{}), limit: limit, budget: budget}
}

// push queues v, which arrived in size bytes.
func (in *pipeInput) push(v any, size int) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.ended {
		return nil // the pipeline was stopped; its input is dropped
	}
	if len(in.items) >= maxPendingInput || in.bytes+size > in.limit {
		return psgate.E(psgate.CodeInvalidParameter, psgate.Args{"detail": "too much pipeline input is waiting to be processed"})
	}
	if in.budget != nil {
		if err := in.budget.Reserve(size); err != nil {
			return err
		}
	}
	in.items = append(in.items, v)
	in.sizes = append(in.sizes, size)
	in.bytes += size
	close(in.changed)
	in.changed = make(chan struct{})
	return nil
}

// discard ends the input and drops what waits, returning its bytes to
// the budget; the pipeline reads no more.
func (in *pipeInput) discard() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.budget != nil && in.bytes > 0 {
		in.budget.Release(in.bytes)
	}
	clear(in.items)
	in.items, in.sizes, in.bytes = nil, nil, 0
	if !in.ended {
		in.ended = true
		close(in.changed)
		in.changed = make(chan struct{})
	}
}

func (in *pipeInput) end() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.ended {
		in.ended = true
		close(in.changed)
		in.changed = make(chan struct{})
	}
}

// Next implements engine.Input.
func (in *pipeInput) Next(ctx context.Context) (any, bool) {
	for {
		in.mu.Lock()
		if len(in.items) > 0 {
			v := in.items[0]
			in.items[0] = nil
			in.items = in.items[1:]
			in.bytes -= in.sizes[0]
			if in.budget != nil {
				in.budget.Release(in.sizes[0])
			}
			in.sizes = in.sizes[1:]
			in.mu.Unlock()
			return v, true
		}
		if in.ended {
			in.mu.Unlock()
			return nil, false
		}
		ch := in.changed
		in.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, false
		}
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
		if _, ok := p.pipes[strings.ToUpper(c.CommandID)]; !ok {
			return nil, psgate.E(psgate.CodeCommandIDNotFound, nil)
		}
		return nil, nil
	}
	var in psrp.Reassembler
	msgs, err := in.Write(c.ConnectXML)
	if err != nil {
		return nil, psgate.Wrap(psgate.CodeBadFragment, psgate.Args{"detail": err.Error()}, err)
	}
	var version psobject.Version
	conn := psrp.ConnectRunspacePool{}
	for _, m := range msgs {
		switch m.Type {
		case psrp.MsgSessionCapability:
			sc, err := psrp.ParseSessionCapability(m.Data, p.lim)
			if err != nil {
				return nil, badMessage(m, err)
			}
			if err := checkProtocolVersion(sc.ProtocolVersion); err != nil {
				return nil, err
			}
			version, _ = psrp.NegotiateProtocolVersion(sc.ProtocolVersion)
		case psrp.MsgConnectRunspacePool:
			if conn, err = psrp.ParseConnectRunspacePool(m.Data, p.lim); err != nil {
				return nil, badMessage(m, err)
			}
		default:
			return nil, badMessage(m, errors.New("unexpected message in connectXml"))
		}
	}
	if version == "" {
		return nil, psgate.E(psgate.CodeBadMessage, psgate.Args{"detail": "connectXml carries no SESSION_CAPABILITY"})
	}
	p.version = version
	if conn.HasMinMax && conn.MaxRunspaces >= 1 {
		p.minRS, p.maxRS = conn.MinRunspaces, conn.MaxRunspaces
	}
	var resp []byte
	for _, f := range p.fragmentsLocked(psrp.NewSessionCapability(version)) {
		resp = append(resp, f...)
	}
	for _, f := range p.fragmentsLocked(psrp.NewRunspacePoolInitData(p.rpid, p.minRS, p.maxRS)) {
		resp = append(resp, f...)
	}
	// A new client starts with a clean pool-level stream; a Receive still
	// waiting on the old one is woken.
	p.out.reset()
	if err := p.poolMsgLocked(psrp.NewApplicationPrivateData(p.rpid, privateData())); err != nil {
		return nil, err
	}
	return resp, nil
}

// commands lists the pool's pipelines for command enumeration.
func (p *psrpPool) commands() []wsman.CommandInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]wsman.CommandInfo, 0, len(p.pipes))
	for id := range p.pipes {
		out = append(out, wsman.CommandInfo{CommandID: id})
	}
	return out
}

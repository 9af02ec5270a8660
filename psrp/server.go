package psrp

import (
	"bytes"
	"fmt"
	"io"
	"slices"

	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/internal/recent"
	"github.com/psgate/psgate/psobject"
)

// ServerConfig configures a ServerPool.
type ServerConfig struct {
	// RPID is the pool's id (the WS-Man ShellId). The pool echoes the
	// RPID of the client's messages once it sees one: old pypsrp releases
	// wrote the ShellId's bytes in another order, and Windows echoes
	// whatever the client sent.
	RPID GUID
	// Limits bound the CLIXML of every message the pool parses.
	Limits clixml.Limits
	// Rand is the source of session keys (crypto/rand.Reader in
	// production). Nil refuses PUBLIC_KEY.
	Rand io.Reader
	// PrivateData is sent in APPLICATION_PRIVATE_DATA.
	PrivateData PrivateData
	// MaxRunspaces is the most runspaces SET_MAX_RUNSPACES may ask for,
	// and so the most pipelines that run at once; as many more may wait
	// with output the client has not collected. Zero means 15.
	MaxRunspaces int32
}

// ServerPool is the server side of one runspace pool: a pure state machine
// driven by the messages the client sends, which answers with the messages
// to send back and the Events the host must act on (start, feed, stop and
// forget pipelines). It does no I/O, keeps no clock and starts no
// goroutine; it is not safe for concurrent use, so the host drives it
// under its own lock.
//
// Output goes to one of two streams, as WS-Man carries it: messages with
// a zero PID on the pool's, and a pipeline's on that pipeline's.
type ServerPool struct {
	cfg      ServerConfig
	rpid     GUID
	version  psobject.Version
	state    RunspacePoolState
	minRS    int32
	maxRS    int32
	host     HostInfo
	pipes    map[GUID]*serverPipe
	finished recent.Ring[GUID] // retired pipelines, so late Signals and Sends succeed
}

// serverPipe is what the pool knows of one pipeline.
type serverPipe struct {
	state PipelineState
	input bool // created to take PIPELINE_INPUT
	final bool // its last PIPELINE_STATE was produced
	// calls holds the host calls waiting for their answer, by call id;
	// lastCall is the last call id given.
	calls    map[int64]HostMethodID
	lastCall int64
}

// Step is what the pool answers one input with: messages to the client,
// in order, and events for the host, in order. The host acts on the
// events before it queues the messages.
type Step struct {
	Send   []Message
	Events []Event
}

// Event is something the host must do for the pool.
type Event interface{ event() }

// StartPipeline: run a pipeline. Exactly one of Create and Metadata is
// set. RPID, Version and PoolHost are the pool's when it started: a
// client may change them while the pipeline runs.
type StartPipeline struct {
	PID      GUID
	Create   *CreatePipeline
	Metadata *GetCommandMetadata
	RPID     GUID
	Version  psobject.Version
	PoolHost HostInfo
}

// Host returns the host the pipeline runs with. As in PowerShell's
// GetHostAssociatedWithPowerShell, a pipeline whose HostInfo says
// UseRunspaceHost uses the pool's (from INIT_RUNSPACEPOOL): the console
// host's pipelines do.
func (e StartPipeline) Host() HostInfo {
	if e.Create == nil || e.Create.HostInfo.UseRunspaceHost {
		return e.PoolHost
	}
	return e.Create.HostInfo
}

// PipelineInput: an input object for a running pipeline, which arrived in
// Size bytes.
type PipelineInput struct {
	PID   GUID
	Value any
	Size  int
}

// EndOfInput: the pipeline's input is complete.
type EndOfInput struct{ PID GUID }

// StopPipeline: stop a running pipeline (Ctrl+C, terminate, or the pool
// closing); its final state follows through Finish.
type StopPipeline struct{ PID GUID }

// ForgetPipeline: the pipeline is gone from the pool (terminated or
// retired); free what the host holds for it.
type ForgetPipeline struct{ PID GUID }

// HostAnswer: the client answered host call Response.CallID of pipeline
// PID (PIPELINE_HOST_RESPONSE); hand it to whatever waits for it, if
// anything still does (a stopped pipeline waits no more).
type HostAnswer struct {
	PID      GUID
	Response HostResponse
}

func (StartPipeline) event()  {}
func (PipelineInput) event()  {}
func (EndOfInput) event()     {}
func (StopPipeline) event()   {}
func (ForgetPipeline) event() {}
func (HostAnswer) event()     {}

// Signal is what a WS-Man Signal asks of a pipeline.
type Signal uint8

// Signals.
const (
	// SignalStop stops the pipeline, which ends Stopped (Ctrl+C).
	SignalStop Signal = iota + 1
	// SignalTerminate stops the pipeline and forgets it at once.
	SignalTerminate
)

const defaultMaxRunspaces = 15

// NewServerPool returns the pool in state BeforeOpen.
func NewServerPool(cfg ServerConfig) *ServerPool {
	if cfg.MaxRunspaces <= 0 {
		cfg.MaxRunspaces = defaultMaxRunspaces
	}
	return &ServerPool{cfg: cfg, rpid: cfg.RPID, pipes: make(map[GUID]*serverPipe)}
}

// State returns the pool's state.
func (p *ServerPool) State() RunspacePoolState { return p.state }

// RPID returns the pool id the pool answers with.
func (p *ServerPool) RPID() GUID { return p.rpid }

// Version returns the negotiated protocol version, empty before
// SESSION_CAPABILITY.
func (p *ServerPool) Version() psobject.Version { return p.version }

// Host returns the pool's host, from INIT_RUNSPACEPOOL.
func (p *ServerPool) Host() HostInfo { return p.host }

// Receive handles one message the client sent to the pool (creationXml,
// a Send without CommandId).
func (p *ServerPool) Receive(m Message) (Step, error) {
	if p.state.Terminal() {
		return Step{}, ErrPoolClosed
	}
	if !m.RPID.IsZero() {
		p.rpid = m.RPID
	}
	var st Step
	if err := p.receive(m, &st); err != nil {
		return Step{}, err
	}
	return st, nil
}

// send appends a server message to st, stepping the pool's state.
func (p *ServerPool) send(st *Step, m Message, reported RunspacePoolState) {
	p.state, _ = poolStep(p.state, m.Type, DestinationClient, reported)
	st.Send = append(st.Send, m)
}

func (p *ServerPool) receive(m Message, st *Step) error {
	lim := p.cfg.Limits
	switch m.Type {
	case MsgSessionCapability:
		c, err := ParseSessionCapability(m.Data, lim)
		if err != nil {
			return refuse(m.Type, err)
		}
		v, err := AcceptProtocolVersion(c.ProtocolVersion)
		if err != nil {
			return err
		}
		p.step(m)
		p.version = v
		p.send(st, NewSessionCapability(v), 0)
		return nil
	case MsgInitRunspacePool:
		init, err := ParseInitRunspacePool(m.Data, lim)
		if err != nil {
			return refuse(m.Type, err)
		}
		if err := p.step(m); err != nil {
			return err
		}
		p.minRS, p.maxRS, p.host = init.MinRunspaces, init.MaxRunspaces, init.HostInfo
		if p.maxRS < 1 {
			p.maxRS = 1
		}
		pd, err := NewApplicationPrivateData(p.rpid, p.cfg.PrivateData)
		if err != nil {
			return fmt.Errorf("psrp: build %v: %w", MsgApplicationPrivateData, err)
		}
		opened, err := NewRunspacePoolState(p.rpid, PoolOpened, nil)
		if err != nil {
			return fmt.Errorf("psrp: build %v: %w", MsgRunspacePoolState, err)
		}
		p.send(st, pd, 0)
		p.send(st, opened, PoolOpened)
		return nil
	case MsgSetMaxRunspaces, MsgSetMinRunspaces:
		parse := ParseSetMaxRunspaces
		if m.Type == MsgSetMinRunspaces {
			parse = ParseSetMinRunspaces
		}
		r, err := parse(m.Data, lim)
		if err != nil {
			return refuse(m.Type, err)
		}
		ok := r.Value >= 1 && r.Value <= p.cfg.MaxRunspaces
		if ok && m.Type == MsgSetMaxRunspaces {
			p.maxRS = r.Value
		} else if ok {
			p.minRS = r.Value
		}
		p.send(st, NewRunspaceAvailability(p.rpid, r.CallID, ok), 0)
		return nil
	case MsgGetAvailableRunspaces:
		ci, err := ParseCallID(m.Type, m.Data, lim)
		if err != nil {
			return refuse(m.Type, err)
		}
		p.send(st, NewRunspaceCount(p.rpid, ci, p.maxRS-int32(p.Running())), 0)
		return nil
	case MsgResetRunspaceState:
		ci, err := ParseCallID(m.Type, m.Data, lim)
		if err != nil {
			return refuse(m.Type, err)
		}
		p.send(st, NewRunspaceAvailability(p.rpid, ci, true), 0)
		return nil
	case MsgRunspacePoolHostResponse:
		return nil // the server makes no runspace pool host call that needs an answer
	case MsgPipelineHostResponse:
		if !m.PID.IsZero() {
			// pypsrp sends its answer to a pipeline's host call on the
			// pool's stream (a Send without CommandId; powershell.py
			// _process_host_call), the pipeline named only by the
			// message's PID, which PowerShell's server dispatches to the
			// pipeline.
			pst, err := p.ReceivePipeline(m.PID, m)
			if err != nil {
				return err
			}
			st.Events = append(st.Events, pst.Events...)
			st.Send = append(st.Send, pst.Send...)
			return nil
		}
	case MsgPublicKey:
		// Windows PowerShell sends PUBLIC_KEY before a pipeline that
		// holds a SecureString (a -Credential argument) and waits 180 s
		// for the answer before failing with a transport error. Answer at
		// once so that the pipeline arrives and is refused with the
		// server's own SecureString error; the key itself is not kept,
		// since SecureString values are never decrypted.
		blob, err := ParsePublicKey(m.Data, lim)
		if err != nil {
			return refuse(m.Type, err)
		}
		if p.cfg.Rand == nil {
			return refuse(m.Type, fmt.Errorf("%w: no random source", ErrSessionKey))
		}
		_, enc, err := NewSessionKey(blob, p.cfg.Rand)
		if err != nil {
			return refuse(m.Type, err)
		}
		p.send(st, NewEncryptedSessionKey(enc), 0)
		return nil
	}
	return refuse(m.Type, errNotForPool)
}

// step moves the pool's state for a message it received.
func (p *ServerPool) step(m Message) error {
	s, err := poolStep(p.state, m.Type, DestinationServer, 0)
	if err != nil {
		return err
	}
	p.state = s
	return nil
}

// Connect attaches a new client to the pool (Connect-PSSession, pypsrp's
// RunspacePool.connect): msgs are the connectXml's SESSION_CAPABILITY and
// CONNECT_RUNSPACEPOOL. response is the connectResponseXml (the server's
// capability and RUNSPACEPOOL_INIT_DATA); st holds what the new client
// receives first on the pool's stream, which the host empties first.
func (p *ServerPool) Connect(msgs []Message) (response []Message, st Step, err error) {
	if p.state.Terminal() {
		return nil, Step{}, ErrPoolClosed
	}
	var version psobject.Version
	conn := ConnectRunspacePool{}
	for _, m := range msgs {
		switch m.Type {
		case MsgSessionCapability:
			sc, err := ParseSessionCapability(m.Data, p.cfg.Limits)
			if err != nil {
				return nil, Step{}, refuse(m.Type, err)
			}
			if version, err = AcceptProtocolVersion(sc.ProtocolVersion); err != nil {
				return nil, Step{}, err
			}
		case MsgConnectRunspacePool:
			if conn, err = ParseConnectRunspacePool(m.Data, p.cfg.Limits); err != nil {
				return nil, Step{}, refuse(m.Type, err)
			}
		default:
			return nil, Step{}, refuse(m.Type, errNotInConnect)
		}
	}
	if version == "" {
		return nil, Step{}, ErrNoCapability
	}
	p.version = version
	if conn.HasMinMax && conn.MaxRunspaces >= 1 {
		p.minRS, p.maxRS = conn.MinRunspaces, conn.MaxRunspaces
	}
	p.state = PoolConnecting
	pd, err := NewApplicationPrivateData(p.rpid, p.cfg.PrivateData)
	if err != nil {
		return nil, Step{}, fmt.Errorf("psrp: build %v: %w", MsgApplicationPrivateData, err)
	}
	var resp Step
	p.send(&resp, NewSessionCapability(version), 0)
	p.send(&resp, NewRunspacePoolInitData(p.rpid, p.minRS, p.maxRS), 0)
	p.send(&st, pd, 0)
	return resp.Send, st, nil
}

// MaxPipelines bounds the pipelines the pool holds at once, running or
// ended with output the client has not collected: its runspaces, never
// more than MaxRunspaces whatever the client asked for, plus as many
// waiting. The host holds output for each, so the bound is on all of
// them, not only the running ones.
func (p *ServerPool) MaxPipelines() int {
	return int(min(max(p.maxRS, 1), p.cfg.MaxRunspaces) + p.cfg.MaxRunspaces)
}

// Running counts the pipelines started and not ended.
func (p *ServerPool) Running() int {
	n := 0
	for _, pp := range p.pipes {
		if pp.state != PipelineNotStarted && !pp.final {
			n++
		}
	}
	return n
}

// NewPipeline adds a pipeline (a WS-Man Command) in state NotStarted; its
// CREATE_PIPELINE or GET_COMMAND_METADATA follows.
func (p *ServerPool) NewPipeline(pid GUID) error {
	switch {
	case p.state.Terminal():
		return ErrPoolClosed
	case p.pipes[pid] != nil:
		return ErrPipelineExists
	case len(p.pipes) >= p.MaxPipelines():
		return ErrTooManyPipelines
	}
	p.pipes[pid] = &serverPipe{}
	return nil
}

// Abandon forgets a pipeline whose Command failed, leaving no trace.
func (p *ServerPool) Abandon(pid GUID) { delete(p.pipes, pid) }

// Pipeline reports a pipeline's state; ok is false when the pool holds no
// such pipeline. A pipeline whose final state went out is ended (final)
// until the host retires it.
func (p *ServerPool) Pipeline(pid GUID) (state PipelineState, final, ok bool) {
	pp := p.pipes[pid]
	if pp == nil {
		return 0, false, false
	}
	return pp.state, pp.final, true
}

// Pipelines returns the ids of the pipelines the pool holds, in order.
func (p *ServerPool) Pipelines() []GUID {
	out := make([]GUID, 0, len(p.pipes))
	for pid := range p.pipes {
		out = append(out, pid)
	}
	slices.SortFunc(out, func(a, b GUID) int { return bytes.Compare(a[:], b[:]) })
	return out
}

// Ended reports whether pid is a pipeline the pool retired lately: late
// Sends and Signals for it succeed and do nothing.
func (p *ServerPool) Ended(pid GUID) bool { return p.finished.Has(pid) }

// ReceivePipeline handles one message the client sent to pipeline pid (a
// Command's arguments, a Send with its CommandId). A pipeline retired
// lately takes it and does nothing.
func (p *ServerPool) ReceivePipeline(pid GUID, m Message) (Step, error) {
	if p.state.Terminal() {
		return Step{}, ErrPoolClosed
	}
	pp := p.pipes[pid]
	if pp == nil {
		if p.finished.Has(pid) {
			return Step{}, nil
		}
		return Step{}, ErrUnknownPipeline
	}
	lim := p.cfg.Limits
	switch m.Type {
	case MsgCreatePipeline:
		if pp.state != PipelineNotStarted {
			return Step{}, refuse(m.Type, errAlreadyCreated)
		}
		cp, err := ParseCreatePipeline(m.Data, lim)
		if err != nil {
			return Step{}, refuse(m.Type, err)
		}
		pp.state, _ = pipelineStep(pp.state, m.Type, DestinationServer, 0)
		pp.input = !cp.NoInput
		return Step{Events: []Event{p.start(pid, cp, nil)}}, nil
	case MsgGetCommandMetadata:
		if pp.state != PipelineNotStarted {
			return Step{}, refuse(m.Type, errAlreadyCreated)
		}
		g, err := ParseGetCommandMetadata(m.Data, lim)
		if err != nil {
			return Step{}, refuse(m.Type, err)
		}
		pp.state, _ = pipelineStep(pp.state, m.Type, DestinationServer, 0)
		return Step{Events: []Event{p.start(pid, nil, &g)}}, nil
	case MsgPipelineInput:
		if !pp.input {
			return Step{}, refuse(m.Type, errNoInput)
		}
		v, err := ParsePipelineInput(m.Data, lim)
		if err != nil {
			return Step{}, refuse(m.Type, err)
		}
		if HasSecureString(v) {
			return Step{}, &SecureStringError{Name: "pipeline input"}
		}
		return Step{Events: []Event{PipelineInput{PID: pid, Value: v, Size: len(m.Data)}}}, nil
	case MsgEndOfPipelineInput:
		if pp.input {
			return Step{Events: []Event{EndOfInput{PID: pid}}}, nil
		}
		return Step{}, nil
	case MsgPipelineHostResponse:
		r, err := ParseHostResponse(m.Type, m.Data, lim)
		if err != nil {
			return Step{}, refuse(m.Type, err)
		}
		if _, ok := pp.calls[r.CallID]; !ok {
			return Step{}, refuse(m.Type, fmt.Errorf("%w: call id %d", errNoHostCall, r.CallID))
		}
		delete(pp.calls, r.CallID)
		return Step{Events: []Event{HostAnswer{PID: pid, Response: r}}}, nil
	}
	return Step{}, refuse(m.Type, errNotForPipeline)
}

func (p *ServerPool) start(pid GUID, cp *CreatePipeline, md *GetCommandMetadata) StartPipeline {
	return StartPipeline{PID: pid, Create: cp, Metadata: md, RPID: p.rpid, Version: p.version, PoolHost: p.host}
}

// Signal handles a WS-Man Signal for pipeline pid. A pipeline retired
// lately takes it and does nothing.
func (p *ServerPool) Signal(pid GUID, sig Signal) (Step, error) {
	pp := p.pipes[pid]
	if pp == nil {
		if p.finished.Has(pid) {
			return Step{}, nil
		}
		return Step{}, ErrUnknownPipeline
	}
	if pp.state == PipelineRunning {
		pp.state = PipelineStopping
	}
	st := Step{Events: []Event{StopPipeline{PID: pid}}}
	if sig == SignalTerminate {
		st.Events = append(st.Events, p.retire(pid))
	}
	return st, nil
}

// HostCall builds the PIPELINE_HOST_CALL c of pipeline pid; rpid is the
// pool id the pipeline started with (StartPipeline.RPID). A call that
// expects an answer (c.CallID is not VoidCallID) gets the pipeline's next
// call id, 1 first, as PowerShell's server numbers each pipeline's calls,
// and the pool then takes the one PIPELINE_HOST_RESPONSE with that id
// (as a HostAnswer event) and refuses any other. The call returned
// carries the id given.
func (p *ServerPool) HostCall(pid, rpid GUID, c HostCall) (HostCall, Message, error) {
	if p.state.Terminal() {
		return c, Message{}, ErrPoolClosed
	}
	pp := p.pipes[pid]
	if pp == nil {
		return c, Message{}, ErrUnknownPipeline
	}
	if c.CallID != VoidCallID {
		pp.lastCall++
		c.CallID = pp.lastCall
	}
	m, err := NewPipelineHostCall(rpid, pid, c)
	if err != nil {
		return c, Message{}, err
	}
	if c.CallID != VoidCallID {
		if pp.calls == nil {
			pp.calls = make(map[int64]HostMethodID)
		}
		pp.calls[c.CallID] = c.Method
	}
	return c, m, nil
}

// Finish ends pipeline pid in state (Completed, Failed or Stopped, with
// the terminating error as reason) and returns its last message,
// PIPELINE_STATE, for the pipeline's stream; rpid is the pool id the
// pipeline started with (StartPipeline.RPID). When reason cannot be
// encoded, the message says Failed without one and err says why.
func (p *ServerPool) Finish(pid, rpid GUID, state PipelineState, reason *ErrorRecord) (Message, error) {
	m, err := NewPipelineState(rpid, pid, state, reason)
	if err != nil {
		state = PipelineFailed
		m, _ = NewPipelineState(rpid, pid, state, nil)
	}
	if pp := p.pipes[pid]; pp != nil {
		pp.state, _ = pipelineStep(pp.state, MsgPipelineState, DestinationClient, state)
		pp.final = true
	}
	return m, err
}

// Retire forgets an ended pipeline once its last message reached the
// client, keeping a tombstone so that late Signals and Sends succeed.
func (p *ServerPool) Retire(pid GUID) Event { return p.retire(pid) }

func (p *ServerPool) retire(pid GUID) Event {
	delete(p.pipes, pid)
	p.finished.Add(pid)
	return ForgetPipeline{PID: pid}
}

// Close closes the pool: every pipeline it holds is stopped and
// forgotten, and it takes no more messages.
func (p *ServerPool) Close() Step {
	var st Step
	if p.state == PoolClosed {
		return st
	}
	p.state = PoolClosed
	for _, pid := range p.Pipelines() {
		st.Events = append(st.Events, StopPipeline{PID: pid}, ForgetPipeline{PID: pid})
		delete(p.pipes, pid)
	}
	return st
}

package psrp

import (
	"fmt"

	"github.com/psgate/psgate/clixml"
)

// ClientPool is the client side of a runspace pool: it builds the messages
// that open the pool and start pipelines, and follows the server's answers
// through the same pool and pipeline machines ServerPool steps, so that
// both ends agree on what is legal when. Like ServerPool it does no I/O:
// the caller fragments what it sends and reassembles what it receives.
// It is not safe for concurrent use; ClientPipelines are independent of
// it and of each other.
type ClientPool struct {
	rpid  GUID
	lim   clixml.Limits
	state RunspacePoolState
}

// NewClientPool returns a pool in state BeforeOpen; lim bounds the CLIXML
// of the server's messages.
func NewClientPool(rpid GUID, lim clixml.Limits) *ClientPool {
	return &ClientPool{rpid: rpid, lim: lim}
}

// RPID returns the pool's id.
func (c *ClientPool) RPID() GUID { return c.rpid }

// State returns the pool's state as the client knows it.
func (c *ClientPool) State() RunspacePoolState { return c.state }

// Open returns the messages of a Create's creationXml, SESSION_CAPABILITY
// and INIT_RUNSPACEPOOL (with a null host), for a pool of minRunspaces to
// maxRunspaces runspaces.
func (c *ClientPool) Open(minRunspaces, maxRunspaces int32) ([]Message, error) {
	init, err := NewInitRunspacePool(c.rpid, minRunspaces, maxRunspaces)
	if err != nil {
		return nil, err
	}
	msgs := []Message{NewClientSessionCapability(c.rpid), init}
	for _, m := range msgs {
		if c.state, err = poolStep(c.state, m.Type, DestinationServer, 0); err != nil {
			return nil, err
		}
	}
	return msgs, nil
}

// Receive follows one message of the pool's stream and returns the pool's
// state after it; reason is what a Broken or Closed RUNSPACEPOOL_STATE
// carries (nil when none). A message that has no place on the pool's
// stream is refused with a *MessageError, a malformed
// RUNSPACEPOOL_STATE with the parser's error.
func (c *ClientPool) Receive(m Message) (state RunspacePoolState, reason *ErrorRecord, err error) {
	reported := RunspacePoolState(0)
	if m.Type == MsgRunspacePoolState {
		if reported, reason, err = ParseRunspacePoolState(m.Data, c.lim); err != nil {
			return c.state, nil, err
		}
	}
	s, err := poolStep(c.state, m.Type, DestinationClient, reported)
	if err != nil {
		return c.state, nil, err
	}
	c.state = s
	return s, reason, nil
}

// Pipeline returns a new pipeline pid running cp, and the messages that
// start it: CREATE_PIPELINE, then, when input is not empty, one
// PIPELINE_INPUT per object and END_OF_PIPELINE_INPUT. cp.NoInput is set
// from input.
func (c *ClientPool) Pipeline(pid GUID, cp CreatePipeline, input []any) (*ClientPipeline, []Message, error) {
	return c.pipeline(pid, cp, input, false)
}

// PipelineWithHost is Pipeline for a client whose host has a user
// interface: CREATE_PIPELINE's HostInfo announces it (uiHostInfo), so the
// server may send host calls that need an answer (PromptForChoice), which
// come as PipelineEvents with HostCall set; answer them with
// NewPipelineHostResponse.
func (c *ClientPool) PipelineWithHost(pid GUID, cp CreatePipeline, input []any) (*ClientPipeline, []Message, error) {
	return c.pipeline(pid, cp, input, true)
}

func (c *ClientPool) pipeline(pid GUID, cp CreatePipeline, input []any, host bool) (*ClientPipeline, []Message, error) {
	cp.NoInput = len(input) == 0
	create, err := newCreatePipeline(c.rpid, pid, cp, host)
	if err != nil {
		return nil, nil, err
	}
	msgs := []Message{create}
	for i, v := range input {
		m, err := NewPipelineInput(c.rpid, pid, v)
		if err != nil {
			return nil, nil, &InputError{Index: i, Err: err}
		}
		msgs = append(msgs, m)
	}
	if len(input) > 0 {
		msgs = append(msgs, NewEndOfPipelineInput(c.rpid, pid))
	}
	p := &ClientPipeline{pid: pid, lim: c.lim}
	for _, m := range msgs {
		if p.state, err = pipelineStep(p.state, m.Type, DestinationServer, 0); err != nil {
			return nil, nil, err
		}
	}
	return p, msgs, nil
}

// InputError is a pipeline input object that cannot be serialized.
type InputError struct {
	Index int
	Err   error
}

func (e *InputError) Error() string { return fmt.Sprintf("psrp: input object %d: %v", e.Index, e.Err) }
func (e *InputError) Unwrap() error { return e.Err }

// ClientPipeline follows one pipeline's messages from the server.
type ClientPipeline struct {
	pid   GUID
	lim   clixml.Limits
	state PipelineState
}

// PID returns the pipeline's id.
func (p *ClientPipeline) PID() GUID { return p.pid }

// State returns the pipeline's state: Running until its PIPELINE_STATE
// says how it ended.
func (p *ClientPipeline) State() PipelineState { return p.state }

// Done reports whether the pipeline has ended.
func (p *ClientPipeline) Done() bool { return p.state.Terminal() }

// PipelineEvent is one message of a pipeline's stream, decoded. Type says
// which fields are set; types the client has no use for (progress, host
// calls) carry nothing else.
type PipelineEvent struct {
	Type MessageType
	// Output is a PIPELINE_OUTPUT object.
	Output any
	// Record is an ERROR_RECORD, or the reason of a Failed or Stopped
	// PIPELINE_STATE (nil when none).
	Record *ErrorRecord
	// Text is the message of a WARNING, VERBOSE or DEBUG record.
	Text string
	// Information is an INFORMATION_RECORD's MessageData.
	Information any
	// State is a PIPELINE_STATE's state.
	State PipelineState
	// HostCall is a PIPELINE_HOST_CALL.
	HostCall *HostCall
}

// Receive decodes one message of the pipeline's stream and steps the
// pipeline's state. Messages after the final PIPELINE_STATE, and
// messages with no place on a pipeline's stream, are refused with a
// *MessageError.
func (p *ClientPipeline) Receive(m Message) (PipelineEvent, error) {
	ev := PipelineEvent{Type: m.Type}
	var err error
	switch m.Type {
	case MsgPipelineOutput:
		ev.Output, err = ParsePipelineOutput(m.Data, p.lim)
	case MsgErrorRecord:
		ev.Record, err = ParseErrorRecord(m.Data, p.lim)
	case MsgWarningRecord, MsgVerboseRecord, MsgDebugRecord:
		ev.Text, err = ParseInformationalRecord(m.Type, m.Data, p.lim)
	case MsgInformationRecord:
		ev.Information, err = ParseInformationRecord(m.Data, p.lim)
	case MsgPipelineState:
		ev.State, ev.Record, err = ParsePipelineState(m.Data, p.lim)
	case MsgPipelineHostCall:
		var c HostCall
		if c, err = ParseHostCall(m.Type, m.Data, p.lim); err == nil {
			ev.HostCall = &c
		}
	}
	if err != nil {
		return ev, err
	}
	s, err := pipelineStep(p.state, m.Type, DestinationClient, ev.State)
	if err != nil {
		return ev, err
	}
	p.state = s
	return ev, nil
}

package psrp

import (
	"errors"
	"fmt"
)

// This file holds what both ends of a runspace pool agree on: which
// messages belong to the pool and which to a pipeline, who may send them,
// and how each moves the pool's and a pipeline's state. ServerPool and
// ClientPool step the same two machines, one on what it receives and the
// other on what it sends, as golang.org/x/crypto/ssh's handshake serves
// its client and its server.

// Scope says what a message is about.
type Scope uint8

// Scopes.
const (
	ScopePool     Scope = 1 // the runspace pool (PID zero)
	ScopePipeline Scope = 2 // one pipeline (its PID)
)

func (s Scope) String() string {
	switch s {
	case ScopePool:
		return "pool"
	case ScopePipeline:
		return "pipeline"
	}
	return fmt.Sprintf("Scope(%d)", uint8(s))
}

// rule is a message type's row of the [MS-PSRP] §2.2.1 table.
type rule struct {
	scope            Scope
	toServer, toClnt bool
}

var rules = map[MessageType]rule{
	MsgSessionCapability:        {ScopePool, true, true},
	MsgInitRunspacePool:         {ScopePool, true, false},
	MsgPublicKey:                {ScopePool, true, false},
	MsgEncryptedSessionKey:      {ScopePool, false, true},
	MsgPublicKeyRequest:         {ScopePool, false, true},
	MsgConnectRunspacePool:      {ScopePool, true, false},
	MsgSetMaxRunspaces:          {ScopePool, true, false},
	MsgSetMinRunspaces:          {ScopePool, true, false},
	MsgRunspaceAvailability:     {ScopePool, false, true},
	MsgRunspacePoolState:        {ScopePool, false, true},
	MsgCreatePipeline:           {ScopePipeline, true, false},
	MsgGetAvailableRunspaces:    {ScopePool, true, false},
	MsgUserEvent:                {ScopePool, false, true},
	MsgApplicationPrivateData:   {ScopePool, false, true},
	MsgGetCommandMetadata:       {ScopePipeline, true, false},
	MsgRunspacePoolInitData:     {ScopePool, false, true},
	MsgResetRunspaceState:       {ScopePool, true, false},
	MsgRunspacePoolHostCall:     {ScopePool, false, true},
	MsgRunspacePoolHostResponse: {ScopePool, true, false},
	MsgPipelineInput:            {ScopePipeline, true, false},
	MsgEndOfPipelineInput:       {ScopePipeline, true, false},
	MsgPipelineOutput:           {ScopePipeline, false, true},
	MsgErrorRecord:              {ScopePipeline, false, true},
	MsgPipelineState:            {ScopePipeline, false, true},
	MsgDebugRecord:              {ScopePipeline, false, true},
	MsgVerboseRecord:            {ScopePipeline, false, true},
	MsgWarningRecord:            {ScopePipeline, false, true},
	MsgProgressRecord:           {ScopePipeline, false, true},
	MsgInformationRecord:        {ScopePipeline, false, true},
	MsgPipelineHostCall:         {ScopePipeline, false, true},
	MsgPipelineHostResponse:     {ScopePipeline, true, false},
}

// Scope returns what a message of type t is about; zero for a type
// outside the table.
func (t MessageType) Scope() Scope { return rules[t].scope }

// SentTo reports whether a message of type t may travel to d.
func (t MessageType) SentTo(d Destination) bool {
	r := rules[t]
	return d == DestinationServer && r.toServer || d == DestinationClient && r.toClnt
}

// Terminal reports whether a pool in state s is gone for good.
func (s RunspacePoolState) Terminal() bool { return s == PoolClosed || s == PoolBroken }

// Terminal reports whether a pipeline in state s has ended: its
// PIPELINE_STATE is the last message it sends.
func (s PipelineState) Terminal() bool {
	return s == PipelineStopped || s == PipelineCompleted || s == PipelineFailed
}

// Errors of the pool and pipeline machines. A *MessageError wraps the
// ones about a message.
var (
	// ErrPoolClosed: the pool is closed (or broken); it takes nothing.
	ErrPoolClosed = errors.New("psrp: the runspace pool is closed")
	// ErrPipelineExists: a new pipeline's id is already in use.
	ErrPipelineExists = errors.New("psrp: the pipeline id is already in use")
	// ErrTooManyPipelines: the pool holds as many pipelines as it may.
	ErrTooManyPipelines = errors.New("psrp: too many pipelines")
	// ErrUnknownPipeline: no pipeline has this id.
	ErrUnknownPipeline = errors.New("psrp: unknown pipeline")
	// ErrNoCapability: a connectXml without SESSION_CAPABILITY.
	ErrNoCapability = errors.New("connectXml carries no SESSION_CAPABILITY")
)

// Texts of the state errors, which clients see in fault details.
var (
	errInitBeforeCapability = errors.New("INIT_RUNSPACEPOOL before SESSION_CAPABILITY")
	errAlreadyCreated       = errors.New("the pipeline was already created")
	errNoInput              = errors.New("input for a pipeline created without input")
	errNotForPool           = errors.New("unexpected message for the runspace pool")
	errNotForPipeline       = errors.New("unexpected message for a pipeline")
	errNotInConnect         = errors.New("unexpected message in connectXml")
	errPipelineEnded        = errors.New("the pipeline has ended")
	errNoHostCall           = errors.New("an answer to a host call the pipeline is not waiting for")
)

// MessageError is a message refused: malformed, or not legal in the
// state of its pool or pipeline. Its text is "TYPE: reason".
type MessageError struct {
	Type MessageType
	Err  error
}

func (e *MessageError) Error() string { return fmt.Sprintf("%v: %v", e.Type, e.Err) }
func (e *MessageError) Unwrap() error { return e.Err }

func refuse(t MessageType, err error) error { return &MessageError{Type: t, Err: err} }

// VersionError is a client protocol version the server does not speak:
// not 2.x, or older than MinProtocolVersion.
type VersionError struct {
	Client string // as the client sent it; empty when it sent none
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("psrp: protocol version %q: the server needs %s or later", e.Client, MinProtocolVersion)
}

func (e *VersionError) Unwrap() error { return ErrProtocolVersion }

// SecureStringError is a SecureString the server cannot read, because it
// never decrypts one: Name says where it was.
type SecureStringError struct{ Name string }

func (e *SecureStringError) Error() string {
	return "psrp: " + e.Name + " holds a SecureString"
}

// poolStep is the pool's state machine, stepped by both ends on each pool
// message that passes between them (to is its destination). A client
// opens with SESSION_CAPABILITY (NegotiationSent), the server's answer
// confirms it (NegotiationSucceeded), INIT_RUNSPACEPOOL asks to open
// (Opening) and RUNSPACEPOOL_STATE says what became of it; a new client
// attaches with CONNECT_RUNSPACEPOOL (Connecting), answered by
// RUNSPACEPOOL_INIT_DATA (Opened). reported is the state a
// RUNSPACEPOOL_STATE carries.
//
// Like Windows PowerShell's server, the machine is lenient where clients
// differ: pool requests (SET_MAX_RUNSPACES, PUBLIC_KEY...) are taken in
// any state but Closed and Broken, and SESSION_CAPABILITY and
// INIT_RUNSPACEPOOL may come again on an open pool.
func poolStep(s RunspacePoolState, t MessageType, to Destination, reported RunspacePoolState) (RunspacePoolState, error) {
	if s.Terminal() {
		return s, ErrPoolClosed
	}
	if !t.SentTo(to) || t.Scope() != ScopePool {
		return s, refuse(t, errNotForPool)
	}
	switch t {
	case MsgSessionCapability:
		switch {
		case to == DestinationServer && s == PoolBeforeOpen:
			return PoolNegotiationSent, nil
		case to == DestinationClient && s == PoolNegotiationSent:
			return PoolNegotiationSucceeded, nil
		}
	case MsgInitRunspacePool:
		if s == PoolBeforeOpen {
			return s, refuse(t, errInitBeforeCapability)
		}
		return PoolOpening, nil
	case MsgConnectRunspacePool:
		if s == PoolBeforeOpen {
			return s, refuse(t, errInitBeforeCapability)
		}
		return PoolConnecting, nil
	case MsgRunspacePoolInitData:
		return PoolOpened, nil
	case MsgRunspacePoolState:
		return reported, nil
	}
	return s, nil
}

// pipelineStep is a pipeline's state machine, stepped by both ends on each
// pipeline message that passes between them: CREATE_PIPELINE or
// GET_COMMAND_METADATA starts it (Running), and the PIPELINE_STATE it
// ends with (reported) is its last message. Input and host responses are
// the server's to judge: it drops those of an ended pipeline.
func pipelineStep(s PipelineState, t MessageType, to Destination, reported PipelineState) (PipelineState, error) {
	if !t.SentTo(to) || t.Scope() != ScopePipeline {
		return s, refuse(t, errNotForPipeline)
	}
	switch t {
	case MsgCreatePipeline, MsgGetCommandMetadata:
		if s != PipelineNotStarted {
			return s, refuse(t, errAlreadyCreated)
		}
		return PipelineRunning, nil
	case MsgPipelineInput, MsgEndOfPipelineInput, MsgPipelineHostResponse:
		return s, nil
	}
	// Server to client.
	if s.Terminal() {
		return s, refuse(t, errPipelineEnded)
	}
	if t == MsgPipelineState && reported.Terminal() {
		return reported, nil
	}
	return s, nil
}

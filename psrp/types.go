package psrp

import "fmt"

// MessageType identifies a PSRP message ([MS-PSRP] §2.2.1).
type MessageType uint32

// Message types. The server only ever sends the ones marked S→C.
const (
	MsgSessionCapability        MessageType = 0x00010002 // both directions
	MsgInitRunspacePool         MessageType = 0x00010004 // C→S
	MsgPublicKey                MessageType = 0x00010005 // C→S
	MsgEncryptedSessionKey      MessageType = 0x00010006 // S→C
	MsgPublicKeyRequest         MessageType = 0x00010007 // S→C
	MsgConnectRunspacePool      MessageType = 0x00010008 // C→S
	MsgSetMaxRunspaces          MessageType = 0x00021002 // C→S
	MsgSetMinRunspaces          MessageType = 0x00021003 // C→S
	MsgRunspaceAvailability     MessageType = 0x00021004 // S→C
	MsgRunspacePoolState        MessageType = 0x00021005 // S→C
	MsgCreatePipeline           MessageType = 0x00021006 // C→S
	MsgGetAvailableRunspaces    MessageType = 0x00021007 // C→S
	MsgUserEvent                MessageType = 0x00021008 // S→C
	MsgApplicationPrivateData   MessageType = 0x00021009 // S→C
	MsgGetCommandMetadata       MessageType = 0x0002100A // C→S
	MsgRunspacePoolInitData     MessageType = 0x0002100B // S→C
	MsgResetRunspaceState       MessageType = 0x0002100C // C→S, protocol 2.3
	MsgRunspacePoolHostCall     MessageType = 0x00021100 // S→C
	MsgRunspacePoolHostResponse MessageType = 0x00021101 // C→S
	MsgPipelineInput            MessageType = 0x00041002 // C→S
	MsgEndOfPipelineInput       MessageType = 0x00041003 // C→S
	MsgPipelineOutput           MessageType = 0x00041004 // S→C
	MsgErrorRecord              MessageType = 0x00041005 // S→C
	MsgPipelineState            MessageType = 0x00041006 // S→C
	MsgDebugRecord              MessageType = 0x00041007 // S→C
	MsgVerboseRecord            MessageType = 0x00041008 // S→C
	MsgWarningRecord            MessageType = 0x00041009 // S→C
	MsgProgressRecord           MessageType = 0x00041010 // S→C
	MsgInformationRecord        MessageType = 0x00041011 // S→C, protocol 2.3
	MsgPipelineHostCall         MessageType = 0x00041100 // S→C
	MsgPipelineHostResponse     MessageType = 0x00041101 // C→S
)

var messageTypeNames = map[MessageType]string{
	MsgSessionCapability:        "SESSION_CAPABILITY",
	MsgInitRunspacePool:         "INIT_RUNSPACEPOOL",
	MsgPublicKey:                "PUBLIC_KEY",
	MsgEncryptedSessionKey:      "ENCRYPTED_SESSION_KEY",
	MsgPublicKeyRequest:         "PUBLIC_KEY_REQUEST",
	MsgConnectRunspacePool:      "CONNECT_RUNSPACEPOOL",
	MsgSetMaxRunspaces:          "SET_MAX_RUNSPACES",
	MsgSetMinRunspaces:          "SET_MIN_RUNSPACES",
	MsgRunspaceAvailability:     "RUNSPACE_AVAILABILITY",
	MsgRunspacePoolState:        "RUNSPACEPOOL_STATE",
	MsgCreatePipeline:           "CREATE_PIPELINE",
	MsgGetAvailableRunspaces:    "GET_AVAILABLE_RUNSPACES",
	MsgUserEvent:                "USER_EVENT",
	MsgApplicationPrivateData:   "APPLICATION_PRIVATE_DATA",
	MsgGetCommandMetadata:       "GET_COMMAND_METADATA",
	MsgRunspacePoolInitData:     "RUNSPACEPOOL_INIT_DATA",
	MsgResetRunspaceState:       "RESET_RUNSPACE_STATE",
	MsgRunspacePoolHostCall:     "RUNSPACEPOOL_HOST_CALL",
	MsgRunspacePoolHostResponse: "RUNSPACEPOOL_HOST_RESPONSE",
	MsgPipelineInput:            "PIPELINE_INPUT",
	MsgEndOfPipelineInput:       "END_OF_PIPELINE_INPUT",
	MsgPipelineOutput:           "PIPELINE_OUTPUT",
	MsgErrorRecord:              "ERROR_RECORD",
	MsgPipelineState:            "PIPELINE_STATE",
	MsgDebugRecord:              "DEBUG_RECORD",
	MsgVerboseRecord:            "VERBOSE_RECORD",
	MsgWarningRecord:            "WARNING_RECORD",
	MsgProgressRecord:           "PROGRESS_RECORD",
	MsgInformationRecord:        "INFORMATION_RECORD",
	MsgPipelineHostCall:         "PIPELINE_HOST_CALL",
	MsgPipelineHostResponse:     "PIPELINE_HOST_RESPONSE",
}

// String returns the spec name, e.g. "CREATE_PIPELINE", or the number for
// a type outside the table.
func (t MessageType) String() string {
	if n, ok := messageTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("MessageType(0x%08X)", uint32(t))
}

// Known reports whether t is in the [MS-PSRP] message table.
func (t MessageType) Known() bool {
	_, ok := messageTypeNames[t]
	return ok
}

// Destination is the receiver of a message.
type Destination uint32

// Destinations.
const (
	DestinationClient Destination = 1
	DestinationServer Destination = 2
)

func (d Destination) String() string {
	switch d {
	case DestinationClient:
		return "Client"
	case DestinationServer:
		return "Server"
	}
	return fmt.Sprintf("Destination(%d)", uint32(d))
}

// RunspacePoolState is the RunspaceState of a RUNSPACEPOOL_STATE message
// ([MS-PSRP] §2.2.3.4).
type RunspacePoolState int32

// Runspace pool states.
const (
	PoolBeforeOpen           RunspacePoolState = 0
	PoolOpening              RunspacePoolState = 1
	PoolOpened               RunspacePoolState = 2
	PoolClosed               RunspacePoolState = 3
	PoolClosing              RunspacePoolState = 4
	PoolBroken               RunspacePoolState = 5
	PoolNegotiationSent      RunspacePoolState = 6
	PoolNegotiationSucceeded RunspacePoolState = 7
	PoolConnecting           RunspacePoolState = 8
	PoolDisconnected         RunspacePoolState = 9
)

func (s RunspacePoolState) String() string {
	names := [...]string{"BeforeOpen", "Opening", "Opened", "Closed", "Closing", "Broken",
		"NegotiationSent", "NegotiationSucceeded", "Connecting", "Disconnected"}
	if s >= 0 && int(s) < len(names) {
		return names[s]
	}
	return fmt.Sprintf("RunspacePoolState(%d)", int32(s))
}

// PipelineState is the PSInvocationState of a PIPELINE_STATE message
// ([MS-PSRP] §2.2.3.5).
type PipelineState int32

// Pipeline states.
const (
	PipelineNotStarted   PipelineState = 0
	PipelineRunning      PipelineState = 1
	PipelineStopping     PipelineState = 2
	PipelineStopped      PipelineState = 3
	PipelineCompleted    PipelineState = 4
	PipelineFailed       PipelineState = 5
	PipelineDisconnected PipelineState = 6
)

func (s PipelineState) String() string {
	names := [...]string{"NotStarted", "Running", "Stopping", "Stopped", "Completed", "Failed", "Disconnected"}
	if s >= 0 && int(s) < len(names) {
		return names[s]
	}
	return fmt.Sprintf("PipelineState(%d)", int32(s))
}

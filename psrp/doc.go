// Package psrp implements the PowerShell Remoting Protocol layers psgate
// needs as a server ([MS-PSRP]): message framing (§2.2.1), fragmentation
// and reassembly (§2.2.4), and the typed payloads of the messages a client
// sends and the server answers, built and parsed with the clixml package.
//
// ServerPool is the server's runspace pool as a state machine driven by
// messages: the handshake, pool requests, the session-key exchange,
// pipelines and their states, signals and Connect. It answers each input
// with the messages to send and the Events its host must act on.
// ClientPool and ClientPipeline follow the same pool and pipeline
// transitions (states.go) from the client's end. testdata/machine holds
// their transcripts.
//
// The package does no I/O and keeps no clock: a gateway goroutine owns a
// Reassembler and a Fragmenter per runspace pool, feeds the bytes of
// WS-Management Send and Create requests through them into a ServerPool
// under its lock, runs the pipelines it starts and turns engine output
// into messages with the New* builders.
//
// Wire facts follow what real Windows PowerShell 5.1 servers send (pypsrp's
// recorded responses): server message data starts with a UTF-8 byte order
// mark, RefIds restart in every message, and the server capability echoes
// the client's protocol version (2.0 to 2.3).
package psrp

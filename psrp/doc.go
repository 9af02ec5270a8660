// Package psrp implements the PowerShell Remoting Protocol layers psgate
// needs as a server ([MS-PSRP]): message framing (§2.2.1), fragmentation
// and reassembly (§2.2.4), and the typed payloads of the messages a client
// sends and the server answers, built and parsed with the clixml package.
//
// The package does no I/O and keeps no clock: a gateway goroutine owns a
// Reassembler and a Fragmenter per runspace pool, feeds it the bytes of
// WS-Management Send and Create requests and turns engine events into
// messages with the New* builders.
//
// Wire facts follow what real Windows PowerShell 5.1 servers send (pypsrp's
// recorded responses): server message data starts with a UTF-8 byte order
// mark, RefIds restart in every message, and the server capability echoes
// the client's protocol version (2.0 to 2.3).
package psrp

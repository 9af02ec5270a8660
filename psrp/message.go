package psrp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrBadMessage is wrapped by every error about a malformed message or
// payload; the gateway maps it to psgate.CodeBadMessage.
var ErrBadMessage = errors.New("psrp: bad message")

// MessageHeaderSize is the size of the fixed message header.
const MessageHeaderSize = 40

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Message is one PSRP message ([MS-PSRP] §2.2.1).
type Message struct {
	Destination Destination
	Type        MessageType
	// RPID is the runspace pool id; zero in the server's
	// SESSION_CAPABILITY, ENCRYPTED_SESSION_KEY and PUBLIC_KEY_REQUEST.
	// The server echoes the RPID of the client's INIT_RUNSPACEPOOL rather
	// than deriving it from the ShellId: older pypsrp versions wrote the
	// ShellId in the wrong byte order and real servers simply echoed it.
	RPID GUID
	// PID is the pipeline id, zero for runspace pool messages.
	PID GUID
	// Data is the CLIXML payload, without a byte order mark.
	Data []byte
}

// Encode returns the wire form of m. Messages to the client get a UTF-8
// byte order mark before their data, as Windows PowerShell's server writes
// (clients strip it); messages to the server get none, as clients send.
func (m Message) Encode() []byte {
	return m.AppendEncode(make([]byte, 0, m.EncodedLen()))
}

// EncodedLen is len(m.Encode()).
func (m Message) EncodedLen() int {
	n := MessageHeaderSize + len(m.Data)
	if m.Destination == DestinationClient && len(m.Data) > 0 {
		n += len(utf8BOM)
	}
	return n
}

// AppendEncode appends the wire form of m to dst.
func (m Message) AppendEncode(dst []byte) []byte {
	var h [MessageHeaderSize]byte
	binary.LittleEndian.PutUint32(h[0:4], uint32(m.Destination))
	binary.LittleEndian.PutUint32(h[4:8], uint32(m.Type))
	m.RPID.putLE(h[8:24])
	m.PID.putLE(h[24:40])
	dst = append(dst, h[:]...)
	if m.Destination == DestinationClient && len(m.Data) > 0 {
		dst = append(dst, utf8BOM...)
	}
	return append(dst, m.Data...)
}

// DecodeMessage parses a reassembled message. Unknown destinations and
// message types are kept as numbers; a leading byte order mark is dropped
// from Data, which aliases b.
func DecodeMessage(b []byte) (Message, error) {
	if len(b) < MessageHeaderSize {
		return Message{}, fmt.Errorf("%w: %d bytes is shorter than the %d-byte header", ErrBadMessage, len(b), MessageHeaderSize)
	}
	return Message{
		Destination: Destination(binary.LittleEndian.Uint32(b[0:4])),
		Type:        MessageType(binary.LittleEndian.Uint32(b[4:8])),
		RPID:        guidFromLE(b[8:24]),
		PID:         guidFromLE(b[24:40]),
		Data:        bytes.TrimPrefix(b[MessageHeaderSize:], utf8BOM),
	}, nil
}

// String summarises m for logs and test failures.
func (m Message) String() string {
	return fmt.Sprintf("%s to %s (RPID %s, PID %s, %d bytes)", m.Type, m.Destination, m.RPID, m.PID, len(m.Data))
}

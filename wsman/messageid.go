package wsman

import (
	"fmt"
	"io"
)

// NewMessageID returns a fresh "uuid:" + UPPERCASE version-4 GUID, the form
// WinRM uses for a:MessageID, reading 16 bytes from rand (pass
// crypto/rand.Reader; tests pass a fixed reader).
func NewMessageID(rand io.Reader) (string, error) {
	var u [16]byte
	if _, err := io.ReadFull(rand, u[:]); err != nil {
		return "", fmt.Errorf("wsman: message id: %w", err)
	}
	u[6] = u[6]&0x0F | 0x40 // version 4
	u[8] = u[8]&0x3F | 0x80 // RFC 4122 variant
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, 41)
	b = append(b, "uuid:"...)
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hex[c>>4], hex[c&0x0F])
	}
	return string(b), nil
}

package xpress

import (
	"encoding/binary"
	"fmt"
)

// Chunk framing ([MS-WSMV] note <134>): u16 LE original size-1, u16 LE
// stored size-1, then the stored bytes.
const (
	// MaxChunk is the largest number of original bytes one chunk carries.
	MaxChunk = 65536

	chunkHeaderLen = 4
)

// Unframe decodes a compressed WS-Man stream payload, a sequence of chunks,
// into the original bytes. It fails with an error wrapping ErrTooLarge if
// the chunk headers announce more than maxOut bytes in total (checked before
// anything is decoded), and with one wrapping ErrCorrupt if the framing is
// truncated or a chunk does not decode to exactly its announced size. An
// empty payload decodes to no bytes.
func Unframe(payload []byte, maxOut int) ([]byte, error) {
	total, err := scanChunks(payload, maxOut)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, total)
	for i, off := 0, 0; off < len(payload); i++ {
		orig, stored := chunkSizes(payload[off:])
		data := payload[off+chunkHeaderLen : off+chunkHeaderLen+stored]
		if orig == stored {
			out = append(out, data...)
		} else if out, err = DecodeHuffman(out, data, orig); err != nil {
			return nil, fmt.Errorf("xpress: chunk %d at payload offset %d: %w", i, off, err)
		}
		off += chunkHeaderLen + stored
	}
	return out, nil
}

// scanChunks checks the chunk headers of payload and returns the total
// original size.
func scanChunks(payload []byte, maxOut int) (int, error) {
	total := 0
	for i, off := 0, 0; off < len(payload); i++ {
		if len(payload)-off < chunkHeaderLen {
			return 0, fmt.Errorf("%w: chunk %d at payload offset %d: %d bytes left, shorter than a chunk header", ErrCorrupt, i, off, len(payload)-off)
		}
		orig, stored := chunkSizes(payload[off:])
		if len(payload)-off-chunkHeaderLen < stored {
			return 0, fmt.Errorf("%w: chunk %d at payload offset %d: stored size %d but %d bytes left", ErrCorrupt, i, off, stored, len(payload)-off-chunkHeaderLen)
		}
		if orig > maxOut-total {
			return 0, fmt.Errorf("%w: chunk %d at payload offset %d: %d bytes after %d exceeds the limit of %d", ErrTooLarge, i, off, orig, total, maxOut)
		}
		total += orig
		off += chunkHeaderLen + stored
	}
	return total, nil
}

// chunkSizes reads the header at the start of b, which holds at least
// chunkHeaderLen bytes.
func chunkSizes(b []byte) (orig, stored int) {
	return int(binary.LittleEndian.Uint16(b)) + 1, int(binary.LittleEndian.Uint16(b[2:])) + 1
}

// Frame encodes data as a compressed WS-Man stream payload of stored chunks
// of up to MaxChunk bytes each. Every compressing client accepts stored
// chunks. Empty data yields an empty payload.
func Frame(data []byte) []byte {
	n := (len(data) + MaxChunk - 1) / MaxChunk
	out := make([]byte, 0, len(data)+n*chunkHeaderLen)
	for len(data) > 0 {
		c := data[:min(len(data), MaxChunk)]
		out = appendHeader(out, len(c), len(c))
		out = append(out, c...)
		data = data[len(c):]
	}
	return out
}

func appendHeader(b []byte, orig, stored int) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(orig-1))
	return binary.LittleEndian.AppendUint16(b, uint16(stored-1))
}

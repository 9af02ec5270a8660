package xpress

import (
	"encoding/binary"
	"math/bits"
)

// EncodeHuffman compresses src as one [MS-XCA] LZ77+Huffman stream and
// appends it to dst. Every 65536 input bytes get their own Huffman table;
// matches never cross a table boundary. The stream ends with the
// end-of-stream symbol (256), as [MS-XCA] 2.1.4.3 recommends. The result
// may be longer than src (each table alone is 256 bytes).
func EncodeHuffman(dst, src []byte) []byte {
	m := newMatcher(len(src))
	var toks []token
	for start := 0; ; start += blockSize {
		end := min(start+blockSize, len(src))
		toks = m.parse(toks[:0], src, start, end)
		dst = encodeBlock(dst, toks, end == len(src))
		if end == len(src) {
			return dst
		}
	}
}

// FrameCompressed encodes data as a compressed WS-Man stream payload like
// Frame, but stores each chunk LZ77+Huffman-compressed when that is shorter
// than the chunk itself. Chunks under 266 bytes are stored raw, as Windows
// does: the 256-byte Huffman table alone would outweigh any gain.
func FrameCompressed(data []byte) []byte {
	// Chunks are compressed only when that shrinks them, so Frame's size
	// bounds the result.
	out := make([]byte, 0, len(data)+(len(data)+MaxChunk-1)/MaxChunk*chunkHeaderLen)
	var m *matcher
	var toks []token
	for len(data) > 0 {
		c := data[:min(len(data), MaxChunk)]
		data = data[len(c):]
		if len(c) >= minCompressChunk {
			if m == nil {
				m = newMatcher(min(len(c)+len(data), MaxChunk))
			} else {
				m.reset()
			}
			toks = m.parse(toks[:0], c, 0, len(c))
			hdr := len(out)
			out = appendHeader(out, 0, 0)
			out = encodeBlock(out, toks, true)
			// The sizes must differ, or the chunk would read as stored.
			if n := len(out) - hdr - chunkHeaderLen; n < len(c) {
				binary.LittleEndian.PutUint16(out[hdr:], uint16(len(c)-1))
				binary.LittleEndian.PutUint16(out[hdr+2:], uint16(n-1))
				continue
			}
			out = out[:hdr]
		}
		out = appendHeader(out, len(c), len(c))
		out = append(out, c...)
	}
	return out
}

// minCompressChunk is the smallest chunk FrameCompressed tries to compress.
const minCompressChunk = 266

// encodeBlock appends one block: the code length table, then the tokens
// with [MS-XCA] 2.1.4.3's bit writer, then (if last) the end-of-stream
// symbol.
func encodeBlock(dst []byte, toks []token, last bool) []byte {
	var freq [numSymbols]uint32
	for _, t := range toks {
		freq[tokenSymbol(t)]++
	}
	if last {
		freq[256]++
	}
	lengths := codeLengthsFor(&freq)
	codes := canonicalCodes(&lengths)

	for i := 0; i < numSymbols; i += 2 {
		dst = append(dst, lengths[i]|lengths[i+1]<<4)
	}
	w := bitWriter{out: dst, pos1: len(dst), pos2: len(dst) + 2, free: 16}
	w.out = append(w.out, 0, 0, 0, 0)
	for _, t := range toks {
		sym := tokenSymbol(t)
		w.writeBits(int(lengths[sym]), uint32(codes[sym]))
		if t.length == 0 {
			continue
		}
		if l := t.length - minMatch; l >= 15 {
			l -= 15
			if l < 255 {
				w.out = append(w.out, byte(l))
			} else {
				// Matches are at most maxMatch long, so l+15 =
				// length-3 < 65536 and the uint32 form is never needed.
				w.out = append(w.out, 255)
				w.out = binary.LittleEndian.AppendUint16(w.out, uint16(l+15))
			}
		}
		hb := bits.Len16(t.offset) - 1
		w.writeBits(hb, uint32(t.offset)-1<<hb)
	}
	if last {
		w.writeBits(int(lengths[256]), uint32(codes[256]))
	}
	return w.flush()
}

// tokenSymbol returns the Huffman symbol of a literal or match
// ([MS-XCA] 2.1.4.1).
func tokenSymbol(t token) int {
	if t.length == 0 {
		return int(t.lit)
	}
	return 256 + int(min(t.length-minMatch, 15)) + 16*(bits.Len16(t.offset)-1)
}

// bitWriter writes codes MSB first into little-endian 16-bit words. Two
// word slots (pos1, pos2) are reserved ahead, so that bytes appended for
// long match lengths land where the decoder, which reads two words ahead,
// expects them.
type bitWriter struct {
	out        []byte
	pos1, pos2 int
	next       uint32 // pending bits, in the low (16 - free) bits
	free       int    // unused bits of the pending word
}

func (w *bitWriter) writeBits(n int, v uint32) {
	if n <= w.free {
		w.free -= n
		w.next = w.next<<n | v
		return
	}
	w.next = w.next<<w.free | v>>(n-w.free)
	binary.LittleEndian.PutUint16(w.out[w.pos1:], uint16(w.next))
	w.pos1, w.pos2 = w.pos2, len(w.out)
	w.out = append(w.out, 0, 0)
	w.free += 16 - n
	w.next = v
}

// flush writes the pending word; the slot at pos2 stays zero.
func (w *bitWriter) flush() []byte {
	binary.LittleEndian.PutUint16(w.out[w.pos1:], uint16(w.next<<w.free))
	return w.out
}

package xpress

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// blockSize is the number of output bytes each LZ77+Huffman block (each
// Huffman table) covers; the last match of a block may run past it.
const blockSize = 65536

// maxHuffmanOutput bounds outLen in DecodeHuffman, which allocates the
// whole output up front. The format's own length fields are 32-bit.
const maxHuffmanOutput = math.MaxInt32

// DecodeHuffman decompresses src, one [MS-XCA] LZ77+Huffman stream that
// must decode to exactly outLen bytes, and appends the result to dst. On
// error it returns dst unchanged and an error wrapping ErrCorrupt (or
// ErrTooLarge when outLen is negative or above 2^31-1).
//
// Every 65536 output bytes a new 256-byte Huffman table starts at the next
// unread input position. Decoding stops once outLen bytes are written: the
// end-of-stream symbol (256) that encoders append is not required and input
// after the last needed bit is ignored, which Samba's notes report of the
// Windows decoder too. DecodeHuffman allocates outLen bytes, so the caller
// must bound outLen; Unframe does.
func DecodeHuffman(dst []byte, src []byte, outLen int) ([]byte, error) {
	if outLen < 0 || outLen > maxHuffmanOutput || outLen > math.MaxInt-len(dst) {
		return dst, fmt.Errorf("%w: huffman output size %d out of range", ErrTooLarge, outLen)
	}
	base := len(dst)
	out := slices.Grow(dst, outLen)[:base+outLen]
	var t decodeTable
	if err := decodeStream(out[base:], src, &t); err != nil {
		return dst, err
	}
	return out, nil
}

// decodeStream fills out from the LZ77+Huffman stream src, following the
// [MS-XCA] 2.2.4 bit reader: a 32-bit register refilled with little-endian
// 16-bit words read MSB first, and extra length bytes taken from the input
// at the current read position.
//
// Words wholly or partly past the end of src load as zeros ("phantom" bits,
// which a complete stream never consumes: the encoder's final flush writes
// them); consuming one is a truncation error. All reads, writes and lengths
// are checked before use.
func decodeStream(out, src []byte, t *decodeTable) error {
	pos, o := 0, 0
	var (
		bits    uint32 // [MS-XCA] NextBits: unconsumed bits at the top
		extra   int    // [MS-XCA] ExtraBitCount: valid bits in bits minus 16
		phantom int    // zero bits loaded from past the end of src, at the bottom of the valid bits
	)
	word := func() uint32 {
		var w uint32
		if pos <= len(src)-2 {
			w = uint32(binary.LittleEndian.Uint16(src[pos:]))
		} else {
			phantom += 16
		}
		pos += 2
		return w
	}

	for o < len(out) {
		if len(src)-pos < tableBytes {
			return fmt.Errorf("%w: input ends at byte %d before the huffman table of the block at output byte %d", ErrCorrupt, len(src), o)
		}
		if err := t.build(src[pos : pos+tableBytes]); err != nil {
			return fmt.Errorf("%w (block at output byte %d)", err, o)
		}
		pos += tableBytes
		phantom = 0
		bits = word() << 16
		bits |= word()
		extra = 16

		blockEnd := o + blockSize
		for o < len(out) && o < blockEnd {
			e := t.primary[bits>>(32-primaryBits)]
			if e&subFlag != 0 {
				e = t.sub[int(e&^subFlag)*subSize+int(bits>>(32-maxCodeLen))&(subSize-1)]
			}
			sym := int(e & entrySymMask)
			n := int(e >> entryLenShift)
			bits <<= n
			extra -= n
			if 16+extra < phantom {
				return truncated(o)
			}
			if extra < 0 {
				bits |= word() << -extra
				extra += 16
			}
			if sym < 256 {
				out[o] = byte(sym)
				o++
				continue
			}

			// Match: low nibble is length-3 (15: more length follows in
			// whole bytes), high nibble the bit count of the offset.
			sym -= 256
			length := uint64(sym & 15)
			offBits := sym >> 4
			if length == 15 {
				if pos >= len(src) {
					return truncated(o)
				}
				length = uint64(src[pos])
				pos++
				switch {
				case length < 255:
					length += 15
				case pos > len(src)-2:
					return truncated(o)
				default:
					length = uint64(binary.LittleEndian.Uint16(src[pos:]))
					pos += 2
					if length == 0 {
						// [MS-XCA] 2.1.4.3: a zero uint16 is followed by
						// the length as a uint32.
						if pos > len(src)-4 {
							return truncated(o)
						}
						length = uint64(binary.LittleEndian.Uint32(src[pos:]))
						pos += 4
					} else if length < 15 {
						return fmt.Errorf("%w: match length escape %d below 15 at output byte %d", ErrCorrupt, length, o)
					}
				}
			}
			length += 3

			offset := int(bits>>(32-offBits)) | 1<<offBits
			bits <<= offBits
			extra -= offBits
			if 16+extra < phantom {
				return truncated(o)
			}
			if extra < 0 {
				bits |= word() << -extra
				extra += 16
			}

			if offset > o {
				return fmt.Errorf("%w: match offset %d reaches before the start of the output at byte %d", ErrCorrupt, offset, o)
			}
			if length > uint64(len(out)-o) {
				return fmt.Errorf("%w: match of length %d at output byte %d runs past the output size %d", ErrCorrupt, length, o, len(out))
			}
			copyMatch(out, o, offset, int(length))
			o += int(length)
		}
	}
	return nil
}

// copyMatch copies length bytes from offset bytes back to out[o:]. The
// source may overlap the destination, which repeats the last offset bytes.
func copyMatch(out []byte, o, offset, length int) {
	// Each copy reads only bytes already written; when the regions overlap
	// the copied window doubles on every round.
	src := o - offset
	end := o + length
	for o < end {
		o += copy(out[o:end], out[src:o])
	}
}

func truncated(o int) error {
	return fmt.Errorf("%w: input ends inside the bit stream at output byte %d", ErrCorrupt, o)
}

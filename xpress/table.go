package xpress

import "fmt"

// Huffman table layout ([MS-XCA] 2.1.4.3, 2.2.4): a block starts with 256
// bytes holding the 4-bit code lengths of the 512 symbols, the even symbol in
// the low nibble. Codes are canonical: sorted by (length, symbol), each code
// of length n covering 2^(15-n) entries of a 2^15-entry table.
const (
	tableBytes = 256
	numSymbols = 512
	maxCodeLen = 15

	// primaryBits is the index width of the first-level decoding table.
	// Codes longer than this continue in a 2^(15-primaryBits)-entry
	// second-level table.
	primaryBits = 10
	subBits     = maxCodeLen - primaryBits
	subSize     = 1 << subBits

	// A table entry is symbol | length<<9 (13 bits), or subFlag | the index
	// of a second-level table.
	entrySymMask  = numSymbols - 1
	entryLenShift = 9
	subFlag       = 0x8000
)

// decodeTable maps the next 15 bits of the stream to a symbol and its code
// length in two lookups at most.
type decodeTable struct {
	primary [1 << primaryBits]uint16
	sub     []uint16
}

// build reads the 256-byte code length table at the start of lengths and
// fills t. It fails unless the lengths fill the code space exactly, as
// [MS-XCA] 2.2.4 requires.
func (t *decodeTable) build(lengths []byte) error {
	var count [maxCodeLen + 1]int
	for _, b := range lengths[:tableBytes] {
		count[b&0x0f]++
		count[b>>4]++
	}
	// Kraft sum in units of 2^-15: a complete prefix code sums to exactly
	// 2^15. More is over-subscribed, less leaves codes that decode to
	// nothing.
	space := 0
	for n := 1; n <= maxCodeLen; n++ {
		space += count[n] << (maxCodeLen - n)
	}
	if space != 1<<maxCodeLen {
		return fmt.Errorf("%w: huffman code lengths fill %d of %d table entries", ErrCorrupt, space, 1<<maxCodeLen)
	}

	// next[n] is the first 15-bit table position of the codes of length n.
	var next [maxCodeLen + 1]int
	pos := 0
	for n := 1; n <= maxCodeLen; n++ {
		next[n] = pos
		pos += count[n] << (maxCodeLen - n)
	}

	// Codes longer than primaryBits follow all shorter codes, whose spans
	// are multiples of subSize, and run to the end of the code space: they
	// fill exactly (2^15 - first long position) / subSize subtables.
	t.primary = [1 << primaryBits]uint16{}
	if long := 1<<maxCodeLen - next[primaryBits+1]; cap(t.sub) < long {
		t.sub = make([]uint16, 0, long)
	}
	t.sub = t.sub[:0]
	for sym := range numSymbols {
		n := int(lengths[sym>>1] >> (4 * (sym & 1)) & 0x0f)
		if n == 0 {
			continue
		}
		start := next[n]
		span := 1 << (maxCodeLen - n)
		next[n] += span
		entry := uint16(sym | n<<entryLenShift)
		if n <= primaryBits {
			first := start >> subBits
			for i := range span >> subBits {
				t.primary[first+i] = entry
			}
			continue
		}
		// A longer code continues in the second-level table of its
		// primary prefix. No code of length <= primaryBits shares that
		// prefix, so the slot is still zero (no valid entry is zero:
		// lengths start at 1) or already points to the table.
		prefix := start >> subBits
		p := t.primary[prefix]
		if p == 0 {
			p = subFlag | uint16(len(t.sub)/subSize)
			t.primary[prefix] = p
			t.sub = append(t.sub, make([]uint16, subSize)...)
		}
		base := int(p&^subFlag)*subSize + start&(subSize-1)
		for i := range span {
			t.sub[base+i] = entry
		}
	}
	return nil
}

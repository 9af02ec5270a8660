package xpress

import "math/bits"

// LZ77 phase of the encoder ([MS-XCA] 2.1.4.1): a greedy parse with hash
// chains over a window of 65535 bytes, the largest offset the format can
// express (16 offset bits, top bit implied).
const (
	minMatch   = 3
	maxOffset  = 1<<16 - 1
	hashBits   = 15 // at most; smaller inputs use fewer
	chainDepth = 24 // candidates examined per position
	niceMatch  = 258
	// maxMatch keeps lengths within 16 bits. The format allows more, but
	// libfwnt (20181227) mis-decodes a 65536-byte match; wimlib caps at
	// 65538. Only multi-block streams could otherwise reach 65536.
	maxMatch = 1<<16 - 1
)

// token is a literal (length 0) or a match of length >= minMatch.
type token struct {
	length uint32
	offset uint16
	lit    byte
}

// matcher finds earlier occurrences of the bytes at a position.
type matcher struct {
	head  []int32 // last position+1 with each hash, 0 if none
	prev  []int32 // previous position+1 with the same hash, by position mod window
	shift uint    // 32 - hash bits
}

// newMatcher returns a matcher sized for inputs of n bytes.
func newMatcher(n int) *matcher {
	hb := min(max(bits.Len(uint(n)), 8), hashBits)
	return &matcher{
		head:  make([]int32, 1<<hb),
		prev:  make([]int32, min(max(n, 1), maxOffset+1)),
		shift: uint(32 - hb),
	}
}

// reset forgets all positions. Entries of prev are only reached through
// head, and each is written before it is linked, so head suffices.
func (m *matcher) reset() {
	clear(m.head)
}

func (m *matcher) hash(b []byte) uint32 {
	v := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
	return (v * 0x9E3779B1) >> m.shift
}

// insert records position i (which has at least minMatch bytes after it).
func (m *matcher) insert(src []byte, i int) {
	h := m.hash(src[i:])
	m.prev[i&maxOffset] = m.head[h]
	m.head[h] = int32(i + 1)
}

// longest returns the longest match for src[i:limit], preferring the
// nearest, or length 0 when none reaches minMatch.
func (m *matcher) longest(src []byte, i, limit int) (length, offset int) {
	if limit-i < minMatch {
		return 0, 0
	}
	maxLen := min(limit-i, maxMatch)
	cand := int(m.head[m.hash(src[i:])]) - 1
	for depth := 0; cand >= 0 && i-cand <= maxOffset && depth < chainDepth; depth++ {
		if src[cand+length] == src[i+length] || length == 0 {
			n := 0
			for n < maxLen && src[cand+n] == src[i+n] {
				n++
			}
			if n > length {
				length, offset = n, i-cand
				if n >= niceMatch || n == maxLen {
					break
				}
			}
		}
		// cand is within the window, so its prev slot has not been
		// reused by a newer position yet.
		cand = int(m.prev[cand&maxOffset]) - 1
	}
	if length < minMatch {
		return 0, 0
	}
	return length, offset
}

// parse appends the tokens for src[start:end] to toks. Matches may refer
// back before start (to earlier blocks) but end at end, so every block
// decodes to exactly its own bytes.
func (m *matcher) parse(toks []token, src []byte, start, end int) []token {
	for i := start; i < end; {
		length, offset := m.longest(src, i, end)
		if length == 0 {
			toks = append(toks, token{lit: src[i]})
			if i+minMatch <= len(src) {
				m.insert(src, i)
			}
			i++
			continue
		}
		toks = append(toks, token{length: uint32(length), offset: uint16(offset)})
		for j := i; j < i+length && j+minMatch <= len(src); j++ {
			m.insert(src, j)
		}
		i += length
	}
	return toks
}

package xpress

import (
	"cmp"
	"slices"
)

// codeLengthsFor returns length-limited (at most maxCodeLen bits) optimal
// Huffman code lengths for the symbol frequencies freq, by package-merge.
// The lengths always form a complete code, as the decoder requires: when
// fewer than two symbols occur, unused symbols are given a count of 1.
func codeLengthsFor(freq *[numSymbols]uint32) [numSymbols]uint8 {
	type node struct {
		weight      uint64
		sym         int // leaf symbol, or -1 for a package
		left, right int // children of a package, indexes into nodes
	}
	var leaves []int
	var nodes []node
	for sym, f := range freq {
		if f > 0 {
			nodes = append(nodes, node{weight: uint64(f), sym: sym})
		}
	}
	for sym := 0; len(nodes) < 2; sym++ {
		if freq[sym] == 0 {
			nodes = append(nodes, node{weight: 1, sym: sym})
		}
	}
	slices.SortStableFunc(nodes, func(a, b node) int { return cmp.Compare(a.weight, b.weight) })
	for i := range nodes {
		leaves = append(leaves, i)
	}

	// Each round packages adjacent pairs of the previous list and merges
	// the packages with the leaves; after maxCodeLen-1 rounds, the first
	// 2n-2 items of the list define the code: a symbol's length is the
	// number of those items that contain its leaf.
	list := leaves
	for range maxCodeLen - 1 {
		merged := make([]int, 0, len(leaves)+len(list)/2)
		li := 0
		for p := 0; p+1 < len(list); p += 2 {
			pkg := node{weight: nodes[list[p]].weight + nodes[list[p+1]].weight, sym: -1, left: list[p], right: list[p+1]}
			for li < len(leaves) && nodes[leaves[li]].weight <= pkg.weight {
				merged = append(merged, leaves[li])
				li++
			}
			nodes = append(nodes, pkg)
			merged = append(merged, len(nodes)-1)
		}
		merged = append(merged, leaves[li:]...)
		list = merged
	}

	var lengths [numSymbols]uint8
	stack := slices.Clone(list[:2*len(leaves)-2])
	for len(stack) > 0 {
		n := nodes[stack[len(stack)-1]]
		stack = stack[:len(stack)-1]
		if n.sym >= 0 {
			lengths[n.sym]++
			continue
		}
		stack = append(stack, n.left, n.right)
	}
	return lengths
}

// canonicalCodes returns the canonical code of each symbol with a nonzero
// length: codes ordered by (length, symbol), as the decoder builds them.
func canonicalCodes(lengths *[numSymbols]uint8) [numSymbols]uint16 {
	var count [maxCodeLen + 1]int
	for _, n := range lengths {
		count[n]++
	}
	var next [maxCodeLen + 1]int
	pos := 0
	for n := 1; n <= maxCodeLen; n++ {
		next[n] = pos
		pos += count[n] << (maxCodeLen - n)
	}
	var codes [numSymbols]uint16
	for sym, n := range lengths {
		if n == 0 {
			continue
		}
		codes[sym] = uint16(next[n] >> (maxCodeLen - int(n)))
		next[n] += 1 << (maxCodeLen - int(n))
	}
	return codes
}

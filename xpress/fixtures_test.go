package xpress

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readFixture returns the bytes of testdata/name.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readHexFixture decodes testdata/name: hex bytes separated by white space,
// with '#' comment lines.
func readHexFixture(t testing.TB, name string) []byte {
	t.Helper()
	var sb strings.Builder
	for line := range strings.Lines(string(readFixture(t, name))) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		sb.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(sb.String())
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

// codeLengths returns a 256-byte Huffman table giving each listed symbol
// its code length.
func codeLengths(lens map[int]int) []byte {
	table := make([]byte, tableBytes)
	for sym, n := range lens {
		table[sym/2] |= byte(n) << (4 * (sym % 2))
	}
	return table
}

// cat concatenates byte slices.
func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

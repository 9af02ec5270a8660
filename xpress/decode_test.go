package xpress

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestDecodeHuffmanSpecVectors(t *testing.T) {
	// [MS-XCA] 3.2 examples.
	tests := []struct{ name string }{
		{"alphabet"},
		{"abc300"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := readHexFixture(t, "msxca/"+tt.name+".hex")
			want := readFixture(t, "msxca/"+tt.name+".txt")
			got, err := DecodeHuffman(nil, src, len(want))
			if err != nil {
				t.Fatalf("DecodeHuffman: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("DecodeHuffman = %q, want %q", got, want)
			}
		})
	}
}

func TestDecodeHuffmanWimlib(t *testing.T) {
	// Streams compressed by wimlib's XPRESS compressor (testdata/wimlib/README.md).
	tests := []struct{ compressed, original string }{
		{"clixml-265.xpress.bin", "clixml-265.orig.bin"},
		{"clixml-266.xpress.bin", "clixml-266.orig.bin"},
		{"clixml-4k.xpress.bin", "clixml-4k.orig.bin"},
		{"clixml-64k.xpress.bin", "clixml-64k.orig.bin"},
		{"clixml-64k-l1.xpress.bin", "clixml-64k.orig.bin"},
		{"clixml-64k-l100.xpress.bin", "clixml-64k.orig.bin"},
		{"runs-64000.xpress.bin", "runs-64000.orig.bin"},
	}
	for _, tt := range tests {
		t.Run(tt.compressed, func(t *testing.T) {
			src := readFixture(t, "wimlib/"+tt.compressed)
			want := readFixture(t, "wimlib/"+tt.original)
			got, err := DecodeHuffman(nil, src, len(want))
			if err != nil {
				t.Fatalf("DecodeHuffman: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("DecodeHuffman output differs from the original (%d bytes, want %d)", len(got), len(want))
			}
		})
	}
}

func TestDecodeHuffmanAppendsToDst(t *testing.T) {
	src := readHexFixture(t, "msxca/alphabet.hex")
	dst := []byte("prefix:")
	got, err := DecodeHuffman(dst, src, 26)
	if err != nil {
		t.Fatal(err)
	}
	if want := "prefix:abcdefghijklmnopqrstuvwxyz"; string(got) != want {
		t.Errorf("DecodeHuffman = %q, want %q", got, want)
	}
}

func TestDecodeHuffmanLengthEscapes(t *testing.T) {
	// 'a' has code 0, match symbol 256+15 (length escape, offset 1) code 1.
	table := codeLengths(map[int]int{'a': 1, 256 + 15: 1})
	bitsA1 := []byte{0x00, 0x40, 0x00, 0x00} // bits "01": 'a', then the match
	tests := []struct {
		name   string
		escape []byte
		want   string
	}{
		{"byte", []byte{7}, strings.Repeat("a", 1+7+15+3)},
		{"uint16", []byte{0xff, 0x2c, 0x01}, strings.Repeat("a", 1+300+3)},
		{"uint32", []byte{0xff, 0x00, 0x00, 0xe5, 0x03, 0x00, 0x00}, strings.Repeat("a", 1+997+3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeHuffman(nil, cat(table, bitsA1, tt.escape), len(tt.want))
			if err != nil {
				t.Fatalf("DecodeHuffman: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("DecodeHuffman = %d bytes, want %d", len(got), len(tt.want))
			}
		})
	}
}

func TestDecodeHuffmanMultiBlock(t *testing.T) {
	// Block 1: 'a' then a match of 65535 (offset 1), filling 65536 bytes.
	// Block 2 starts after the words and bytes block 1 read: "bc".
	block1 := cat(codeLengths(map[int]int{'a': 1, 256 + 15: 1}),
		[]byte{0x00, 0x40, 0x00, 0x00}, []byte{0xff, 0xfc, 0xff})
	block2 := cat(codeLengths(map[int]int{'b': 1, 'c': 1}), []byte{0x00, 0x40, 0x00, 0x00})
	want := strings.Repeat("a", 65536) + "bc"
	got, err := DecodeHuffman(nil, cat(block1, block2), len(want))
	if err != nil {
		t.Fatalf("DecodeHuffman: %v", err)
	}
	if string(got) != want {
		t.Errorf("DecodeHuffman output differs (%d bytes, want %d)", len(got), len(want))
	}
}

func TestDecodeHuffmanTolerance(t *testing.T) {
	// The alphabet vector's last 4 bytes hold only the end-of-stream symbol
	// and padding, which the decoder does not need.
	src := readHexFixture(t, "msxca/alphabet.hex")
	got, err := DecodeHuffman(nil, src[:len(src)-4], 26)
	if err != nil {
		t.Fatalf("DecodeHuffman without the end-of-stream bits: %v", err)
	}
	if string(got) != "abcdefghijklmnopqrstuvwxyz" {
		t.Errorf("DecodeHuffman = %q", got)
	}
	if _, err := DecodeHuffman(nil, append(src, 1, 2, 3), 26); err != nil {
		t.Errorf("DecodeHuffman with trailing bytes: %v", err)
	}
	if got, err := DecodeHuffman(nil, nil, 0); err != nil || len(got) != 0 {
		t.Errorf("DecodeHuffman(empty, 0) = %q, %v; want empty, nil", got, err)
	}
}

func TestDecodeHuffmanMalformed(t *testing.T) {
	alphabet := readHexFixture(t, "msxca/alphabet.hex")
	abc := readHexFixture(t, "msxca/abc300.hex")
	matchFirst := codeLengths(map[int]int{'a': 1, 256 + 16 + 0: 1})
	escape := codeLengths(map[int]int{'a': 1, 256 + 15: 1})
	bitsA1 := []byte{0x00, 0x40, 0x00, 0x00}
	tests := []struct {
		name    string
		src     []byte
		outLen  int
		wantErr error
	}{
		{"empty input", nil, 1, ErrCorrupt},
		{"input shorter than the table", make([]byte, 255), 1, ErrCorrupt},
		{"all code lengths zero", make([]byte, 300), 1, ErrCorrupt},
		{"one code of length 1 (incomplete)", cat(codeLengths(map[int]int{'a': 1}), make([]byte, 4)), 1, ErrCorrupt},
		{"three codes of length 1 (over-subscribed)", cat(codeLengths(map[int]int{'a': 1, 'b': 1, 'c': 1}), make([]byte, 4)), 1, ErrCorrupt},
		{"all 512 codes of length 15 (incomplete)", cat(bytes.Repeat([]byte{0xff}, 256), make([]byte, 4)), 1, ErrCorrupt},
		{"bit stream cut", alphabet[:len(alphabet)-5], 26, ErrCorrupt},
		{"bit stream missing", alphabet[:256], 26, ErrCorrupt},
		{"length escape cut", abc[:len(abc)-1], 300, ErrCorrupt},
		{"length byte missing", abc[:len(abc)-3], 300, ErrCorrupt},
		{"uint32 length cut", cat(escape, bitsA1, []byte{0xff, 0, 0, 1, 2}), 100, ErrCorrupt},
		{"uint16 length below 15", cat(escape, bitsA1, []byte{0xff, 5, 0}), 100, ErrCorrupt},
		{"uint32 length past the output", cat(escape, bitsA1, []byte{0xff, 0, 0, 0xff, 0xff, 0xff, 0xff}), 100, ErrCorrupt},
		{"offset bits cut", cat(codeLengths(map[int]int{'a': 1, 256 + 16*15: 1}), []byte{0x00, 0x40}), 10, ErrCorrupt},
		{"match before the output start", cat(matchFirst, []byte{0x00, 0x80, 0x00, 0x00}), 10, ErrCorrupt},
		{"output size one short", abc, 299, ErrCorrupt},
		{"output size one long", abc, 301, ErrCorrupt},
		{"output size past the first block without a second table", alphabet, 65537, ErrCorrupt},
		{"negative output size", alphabet, -1, ErrTooLarge},
		{"huge output size", alphabet, math.MaxInt, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := DecodeHuffman(dst, tt.src, tt.outLen)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("DecodeHuffman error = %v, want %v", err, tt.wantErr)
			}
			if string(got) != "keep" {
				t.Errorf("DecodeHuffman returned dst %q after an error, want it unchanged", got)
			}
		})
	}
}

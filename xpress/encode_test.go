package xpress

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// pseudoRandom returns n reproducible incompressible bytes.
func pseudoRandom(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func encodeInputs(t testing.TB) map[string][]byte {
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	return map[string][]byte{
		"empty":           {},
		"one byte":        {'<'},
		"alphabet":        []byte("abcdefghijklmnopqrstuvwxyz"),
		"abc x 100":       bytes.Repeat([]byte("abc"), 100),
		"all byte values": allBytes,
		"clixml 64 KiB":   readFixture(t, "wimlib/clixml-64k.orig.bin"),
		"clixml 200 KiB":  clixmlLike(200 * 1024),
		"zeros 200 KiB":   make([]byte, 200*1024),
		"random 100 KiB":  pseudoRandom(100 * 1024),
	}
}

func TestEncodeHuffmanRoundTrip(t *testing.T) {
	for name, data := range encodeInputs(t) {
		t.Run(name, func(t *testing.T) {
			enc := EncodeHuffman(nil, data)
			got, err := DecodeHuffman(nil, enc, len(data))
			if err != nil {
				t.Fatalf("DecodeHuffman(EncodeHuffman(data)): %v", err)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("DecodeHuffman(EncodeHuffman(data)) differs from data")
			}
		})
	}
}

func TestEncodeHuffmanCompresses(t *testing.T) {
	// CLIXML is what the gateway sends; wimlib's default level gets this
	// fixture to 11143 bytes (17%).
	data := readFixture(t, "wimlib/clixml-64k.orig.bin")
	enc := EncodeHuffman(nil, data)
	if got, limit := len(enc), len(data)/5; got > limit {
		t.Errorf("EncodeHuffman(64 KiB CLIXML) = %d bytes, want at most %d", got, limit)
	}
	t.Logf("64 KiB CLIXML -> %d bytes", len(enc))
}

func TestEncodeHuffmanEndsWithEOF(t *testing.T) {
	// The [MS-XCA] 3.2 alphabet example: all literals plus the
	// end-of-stream symbol. Code lengths and bit stream match the spec.
	want := readHexFixture(t, "msxca/alphabet.hex")
	got := EncodeHuffman(nil, []byte("abcdefghijklmnopqrstuvwxyz"))
	if !bytes.Equal(got, want) {
		t.Errorf("EncodeHuffman(alphabet) =\n% x\nwant\n% x", got, want)
	}
}

func TestFrameCompressedRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 265, 266, 4096, 65535, 65536, 65537, 200 * 1024} {
		for name, data := range map[string][]byte{"clixml": clixmlLike(n), "random": pseudoRandom(n)} {
			payload := FrameCompressed(data)
			got, err := Unframe(payload, n)
			if err != nil {
				t.Fatalf("%s %d: Unframe(FrameCompressed(data)): %v", name, n, err)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("%s %d: Unframe(FrameCompressed(data)) differs from data", name, n)
			}
			if len(payload) > len(Frame(data)) {
				t.Errorf("%s %d: FrameCompressed = %d bytes, longer than Frame's %d", name, n, len(payload), len(Frame(data)))
			}
		}
	}
}

func TestFrameCompressedChunkChoice(t *testing.T) {
	tests := []struct {
		name       string
		data       []byte
		wantStored bool
	}{
		{"265 bytes stays stored", clixmlLike(265), true},
		{"266 compressible bytes are compressed", bytes.Repeat([]byte("a"), 266), false},
		{"64 KiB CLIXML is compressed", clixmlLike(65536), false},
		{"64 KiB random stays stored", pseudoRandom(65536), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := FrameCompressed(tt.data)
			orig := int(binary.LittleEndian.Uint16(payload)) + 1
			stored := int(binary.LittleEndian.Uint16(payload[2:])) + 1
			if orig != len(tt.data) {
				t.Fatalf("chunk original size = %d, want %d", orig, len(tt.data))
			}
			if got := orig == stored; got != tt.wantStored {
				t.Errorf("chunk stored raw = %v (sizes %d/%d), want %v", got, orig, stored, tt.wantStored)
			}
		})
	}
}

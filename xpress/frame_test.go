package xpress

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// clixmlLike returns n bytes of repetitive CLIXML-like text.
func clixmlLike(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `<Obj RefId="%d"><MS><S N="Name">svc%d</S><I32 N="Id">%d</I32><B N="CanStop">%t</B></MS></Obj>`, i, i*7%113, i*31, i%3 == 0)
	}
	return b.Bytes()[:n]
}

func TestFrameRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 265, 266, 65535, 65536, 65537, 200 * 1024} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			data := clixmlLike(n)
			payload := Frame(data)
			chunks := (n + MaxChunk - 1) / MaxChunk
			if got, want := len(payload), n+4*chunks; got != want {
				t.Errorf("len(Frame(%d bytes)) = %d, want %d", n, got, want)
			}
			got, err := Unframe(payload, n)
			if err != nil {
				t.Fatalf("Unframe: %v", err)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("Unframe(Frame(data)) differs from data")
			}
		})
	}
}

func TestFrameStoresRawChunks(t *testing.T) {
	payload := Frame(clixmlLike(65537))
	// Chunk 1: 65536 bytes stored (sizes-1 = 0xffff); chunk 2: 1 byte.
	if got, want := payload[:4], []byte{0xff, 0xff, 0xff, 0xff}; !bytes.Equal(got, want) {
		t.Errorf("first chunk header = % x, want % x", got, want)
	}
	if got, want := payload[4+65536:4+65536+4], []byte{0, 0, 0, 0}; !bytes.Equal(got, want) {
		t.Errorf("second chunk header = % x, want % x", got, want)
	}
}

func TestUnframeWimlib(t *testing.T) {
	// Payloads framed as Windows does: LZ77+Huffman chunks where they
	// shrink, stored chunks otherwise (testdata/wimlib/README.md).
	for _, name := range []string{"clixml-1", "clixml-65537"} {
		t.Run(name, func(t *testing.T) {
			payload := readFixture(t, "wimlib/"+name+".framed.bin")
			want := readFixture(t, "wimlib/"+name+".orig.bin")
			got, err := Unframe(payload, len(want))
			if err != nil {
				t.Fatalf("Unframe: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Unframe output differs from the original (%d bytes, want %d)", len(got), len(want))
			}
		})
	}
}

func TestUnframeMixedChunks(t *testing.T) {
	// A compressed chunk ([MS-XCA] 3.2 "abc" x 100), a stored one, and a
	// second compressed one.
	abc := readHexFixture(t, "msxca/abc300.hex")
	alphabet := readHexFixture(t, "msxca/alphabet.hex")
	payload := cat(appendHeader(nil, 300, len(abc)), abc,
		appendHeader(nil, 5, 5), []byte("hello"),
		appendHeader(nil, 26, len(alphabet)), alphabet)
	got, err := Unframe(payload, 1000)
	if err != nil {
		t.Fatalf("Unframe: %v", err)
	}
	want := string(bytes.Repeat([]byte("abc"), 100)) + "hello" + "abcdefghijklmnopqrstuvwxyz"
	if string(got) != want {
		t.Errorf("Unframe = %q, want %q", got, want)
	}
}

func TestUnframeMalformed(t *testing.T) {
	abc := readHexFixture(t, "msxca/abc300.hex")
	good := cat(appendHeader(nil, 300, len(abc)), abc)
	tests := []struct {
		name    string
		payload []byte
		maxOut  int
		wantErr error
	}{
		{"header cut", []byte{0, 0, 0}, 100, ErrCorrupt},
		{"stored bytes cut", cat(appendHeader(nil, 5, 5), []byte("hell")), 100, ErrCorrupt},
		{"second header cut", cat(good, []byte{1}), 1000, ErrCorrupt},
		{"compressed chunk with the wrong original size", cat(appendHeader(nil, 299, len(abc)), abc), 1000, ErrCorrupt},
		{"compressed chunk cut", cat(appendHeader(nil, 300, len(abc)-1), abc[:len(abc)-1]), 1000, ErrCorrupt},
		{"not framed at all (raw PSRP bytes)", []byte{0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x10, 0, 0, 0}, 1 << 20, ErrCorrupt},
		{"over the limit", Frame(make([]byte, 1001)), 1000, ErrTooLarge},
		{"over the limit in the last chunk", Frame(make([]byte, 3*MaxChunk)), 3*MaxChunk - 1, ErrTooLarge},
		{"zero limit", Frame([]byte("x")), 0, ErrTooLarge},
		{"negative limit", Frame([]byte("x")), -1, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Unframe(tt.payload, tt.maxOut)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Unframe error = %v, want %v", err, tt.wantErr)
			}
			if got != nil {
				t.Errorf("Unframe returned %d bytes with an error", len(got))
			}
		})
	}
}

func TestUnframeLimitCheckedBeforeDecoding(t *testing.T) {
	// A corrupt chunk after the limit is exceeded reports the limit: the
	// headers are checked before any chunk is decoded.
	payload := cat(appendHeader(nil, 300, 263), make([]byte, 263), Frame(make([]byte, 2000)))
	if _, err := Unframe(payload, 1000); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Unframe error = %v, want %v", err, ErrTooLarge)
	}
}

func TestUnframeEmpty(t *testing.T) {
	got, err := Unframe(nil, 0)
	if err != nil || len(got) != 0 {
		t.Errorf("Unframe(nil) = %q, %v; want empty, nil", got, err)
	}
}

func TestUnframeErrorNamesChunk(t *testing.T) {
	abc := readHexFixture(t, "msxca/abc300.hex")
	bad := cat(appendHeader(nil, 301, len(abc)), abc)
	payload := cat(Frame([]byte("ok")), bad)
	_, err := Unframe(payload, 1000)
	want := "xpress: chunk 1 at payload offset 6: "
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Unframe error = %v, want prefix %q", err, want)
	}
}

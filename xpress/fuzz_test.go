package xpress

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecodeHuffman checks that DecodeHuffman never panics, returns exactly
// outLen bytes on success and only the package's errors on failure.
// Seeds: testdata/fuzz/FuzzDecodeHuffman.
func FuzzDecodeHuffman(f *testing.F) {
	f.Fuzz(func(t *testing.T, src []byte, outLen uint32) {
		n := int(outLen % (3 * blockSize)) // up to three blocks
		checkDecode(t, src, n)
		// Random tables are almost never complete; also decode src as the
		// bit stream after a valid table whose symbol weights come from
		// src, to reach the match and length-escape paths.
		var freq [numSymbols]uint32
		for i := 0; i+1 < len(src) && i < 128; i += 2 {
			freq[int(src[i])|int(src[i+1]&1)<<8]++
		}
		lengths := codeLengthsFor(&freq)
		table := make([]byte, 0, tableBytes+len(src))
		for i := 0; i < numSymbols; i += 2 {
			table = append(table, lengths[i]|lengths[i+1]<<4)
		}
		checkDecode(t, append(table, src...), n)
	})
}

func checkDecode(t *testing.T, src []byte, n int) {
	t.Helper()
	got, err := DecodeHuffman([]byte("x"), src, n)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("DecodeHuffman error %v does not wrap ErrCorrupt", err)
		}
		if string(got) != "x" {
			t.Fatalf("DecodeHuffman changed dst on error")
		}
		return
	}
	if len(got) != 1+n {
		t.Fatalf("DecodeHuffman returned %d bytes, want %d", len(got)-1, n)
	}
}

// FuzzUnframe checks that Unframe never panics, honours its limit, and that
// whatever it decodes survives Frame and Unframe again. Seeds:
// testdata/fuzz/FuzzUnframe.
func FuzzUnframe(f *testing.F) {
	const maxOut = 1 << 18
	f.Fuzz(func(t *testing.T, payload []byte) {
		got, err := Unframe(payload, maxOut)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Unframe error %v wraps neither ErrCorrupt nor ErrTooLarge", err)
			}
			return
		}
		if len(got) > maxOut {
			t.Fatalf("Unframe returned %d bytes, over the limit %d", len(got), maxOut)
		}
		again, err := Unframe(Frame(got), maxOut)
		if err != nil || !bytes.Equal(again, got) {
			t.Fatalf("Unframe(Frame(out)) = %d bytes, %v; want the %d bytes back", len(again), err, len(got))
		}
	})
}

// FuzzEncodeHuffman checks that whatever EncodeHuffman and FrameCompressed
// produce decodes back to the input. Seeds: testdata/fuzz/FuzzEncodeHuffman.
func FuzzEncodeHuffman(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeHuffman(nil, EncodeHuffman(nil, data), len(data))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("DecodeHuffman(EncodeHuffman(%d bytes)) = %d bytes, %v", len(data), len(got), err)
		}
		got, err = Unframe(FrameCompressed(data), len(data))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Unframe(FrameCompressed(%d bytes)) = %d bytes, %v", len(data), len(got), err)
		}
	})
}

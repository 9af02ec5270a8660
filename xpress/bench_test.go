package xpress

import "testing"

func BenchmarkDecodeHuffman(b *testing.B) {
	// 64 KiB of CLIXML-like text compressed by wimlib: one full block, the
	// largest chunk a client sends.
	src := readFixture(b, "wimlib/clixml-64k.xpress.bin")
	orig := readFixture(b, "wimlib/clixml-64k.orig.bin")
	dst := make([]byte, 0, len(orig))
	b.SetBytes(int64(len(orig)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeHuffman(dst, src, len(orig)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeHuffmanSmall(b *testing.B) {
	// A 4 KiB chunk: table construction weighs more.
	src := readFixture(b, "wimlib/clixml-4k.xpress.bin")
	orig := readFixture(b, "wimlib/clixml-4k.orig.bin")
	dst := make([]byte, 0, len(orig))
	b.SetBytes(int64(len(orig)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeHuffman(dst, src, len(orig)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeHuffman(b *testing.B) {
	orig := readFixture(b, "wimlib/clixml-64k.orig.bin")
	b.SetBytes(int64(len(orig)))
	b.ReportAllocs()
	for b.Loop() {
		EncodeHuffman(nil, orig)
	}
}

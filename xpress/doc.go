// Package xpress implements the WS-Management "xpress" stream compression
// that Windows PowerShell clients negotiate with rsp:CompressionType on
// Create.
//
// A compressed stream payload is a sequence of chunks ([MS-WSMV] product
// behaviour note <134>). Each chunk starts with two little-endian uint16
// values, the original size minus one and the stored size minus one,
// followed by the stored bytes. When both sizes are equal the bytes are the
// original data; otherwise they are one [MS-XCA] LZ77+Huffman stream
// ("Xpress Huffman", [MS-XCA] section 2.2) that decodes to exactly the
// original size. A chunk holds at most 65536 original bytes.
//
// [Unframe] decodes a client's Send stream payload, [Frame] encodes a
// server's ReceiveResponse stream payload as stored chunks (always legal),
// and [FrameCompressed] encodes it with LZ77+Huffman where that is shorter.
// [DecodeHuffman] and [EncodeHuffman] work on one LZ77+Huffman stream.
//
// Decoding never panics and never reads or writes outside its buffers:
// hostile input yields an error wrapping [ErrCorrupt] or [ErrTooLarge].
//
// References:
//   - [MS-XCA] Xpress Compression Algorithm, sections 2.1 (LZ77+Huffman
//     compression), 2.2 (decompression), 3.2 (examples), 4.1 (security).
//   - [MS-WSMV] section 3.1.4.1.31.6 and note <134> (chunk framing).
package xpress

package xpress

import "errors"

// Errors returned by the decoders. Detailed errors wrap one of these, so
// callers test them with errors.Is.
var (
	// ErrCorrupt reports compressed data that is not a valid chunk sequence
	// or LZ77+Huffman stream: a truncated header or stream, a Huffman table
	// whose code lengths do not fill the code space exactly, a match that
	// reaches before the start of the output or past its end, or an output
	// of the wrong size.
	ErrCorrupt = errors.New("xpress: corrupt compressed data")

	// ErrTooLarge reports a payload whose decompressed size exceeds the
	// limit given to Unframe.
	ErrTooLarge = errors.New("xpress: decompressed size exceeds limit")
)

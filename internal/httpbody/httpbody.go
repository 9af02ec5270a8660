// Package httpbody reads HTTP bodies of bounded size.
package httpbody

import "io"

// Read reads body, whose announced length is n (-1: not announced), up to
// limit bytes: a body longer than limit comes back with limit+1 bytes, for
// the caller to refuse. A body announced within the limit is read into one
// buffer of that size rather than through io.ReadAll's doublings.
func Read(body io.Reader, n int64, limit int) ([]byte, error) {
	if n >= 0 && n <= int64(limit) {
		data := make([]byte, n)
		_, err := io.ReadFull(body, data)
		return data, err
	}
	return io.ReadAll(io.LimitReader(body, int64(limit)+1))
}

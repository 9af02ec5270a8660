//go:build !linux

package main

import (
	"errors"
	"io"
	"os"
)

// makeRaw is not available here: connect reads plain lines.
func makeRaw(*os.File) (func(), error) {
	return nil, errors.New("no raw terminal mode on this system")
}

// isTerminal reports whether r is a character device, as terminals are.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package main

import (
	"errors"
	"os"
)

// makeRaw is not available here (Windows): connect reads plain lines,
// with the console's own line editing.
func makeRaw(*os.File) (func(), error) {
	return nil, errors.New("no raw terminal mode on this system")
}

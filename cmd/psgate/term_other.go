//go:build !linux

package main

import (
	"errors"
	"os"
)

// makeRaw is not available here: connect reads plain lines.
func makeRaw(*os.File) (func(), error) {
	return nil, errors.New("no raw terminal mode on this system")
}

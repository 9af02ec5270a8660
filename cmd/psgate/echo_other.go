//go:build !linux

package main

import (
	"errors"
	"os"
)

// disableEcho is not supported here: the password is read with echo, or
// comes from $PSGATE_PASSWORD or --password-stdin.
func disableEcho(*os.File) (func(), error) {
	return nil, errors.New("psgate: hiding typed input is not supported on this system")
}

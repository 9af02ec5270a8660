package main

import (
	"io"
	"os"

	"golang.org/x/term"
)

// isTerminal reports whether r is a terminal (a console on Windows).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// readSecret reads one line from the terminal f without echoing it, on
// every system psgate builds for.
func readSecret(f *os.File) (string, error) {
	b, err := term.ReadPassword(int(f.Fd()))
	return string(b), err
}

package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"

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

// makeRaw puts the terminal f into raw mode for connect's line editor and
// returns how to restore it; it fails when f is not a terminal. Raw mode
// also ends the terminal's own "\n" to "\r\n" translation on output, so
// whatever writes to the terminal meanwhile goes through onRawTerminal.
//
// On Windows connect keeps the console's own line editing: the editor
// draws with VT escape sequences, which a console shows only when VT
// processing is on for its output, and that is untested there.
func makeRaw(f *os.File) (restore func(), err error) {
	if runtime.GOOS == "windows" {
		return nil, errors.New("no raw terminal mode on this system")
	}
	fd := int(f.Fd())
	old, err := term.MakeRaw(fd)
	if err != nil {
		return nil, err
	}
	return func() { _ = term.Restore(fd, old) }, nil
}

// onRawTerminal returns w, or for a terminal a writer that turns "\n" into
// "\r\n" as the terminal did before raw mode.
func onRawTerminal(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok && isTerminal(f) {
		return crlfWriter{f}
	}
	return w
}

type crlfWriter struct{ w io.Writer }

func (c crlfWriter) Write(p []byte) (int, error) {
	if !bytes.Contains(p, []byte{'\n'}) {
		return c.w.Write(p)
	}
	if _, err := c.w.Write(bytes.ReplaceAll(p, []byte{'\n'}, []byte{'\r', '\n'})); err != nil {
		return 0, err
	}
	return len(p), nil
}

package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// Off a terminal, a prompt reads one line of standard input, with or
// without "\r", and leaves the rest unread.
func TestPromptWithoutTerminal(t *testing.T) {
	cmd := &cobra.Command{}
	in := strings.NewReader("first\r\nsecond\n")
	var errOut bytes.Buffer
	cmd.SetIn(in)
	cmd.SetErr(&errOut)
	for _, want := range []string{"first", "second"} {
		got, err := prompt(cmd, "Password: ")
		if err != nil || got != want {
			t.Fatalf("prompt() = %q, %v; want %q", got, err, want)
		}
	}
	if errOut.String() != "Password: Password: " {
		t.Errorf("prompts written: %q", errOut.String())
	}
	_, err := prompt(cmd, "Password: ")
	if err == nil || !strings.Contains(err.Error(), "set PSGATE_PASSWORD or use --password-stdin") {
		t.Errorf("prompt() at end of input: %v, want an error naming the other ways", err)
	}
	if isTerminal(in) {
		t.Error("a strings.Reader is a terminal")
	}
}

// In raw mode the terminal no longer starts a new line at "\n"; output
// written meanwhile gets the "\r" the terminal used to add.
func TestCRLFWriter(t *testing.T) {
	var b bytes.Buffer
	w := crlfWriter{&b}
	for _, s := range []string{"a\nb", "", "no newline", "\r\n", "\n\n"} {
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got, want := b.String(), "a\r\nbno newline\r\r\n\r\n\r\n"; got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
	if got := onRawTerminal(&b); got != &b {
		t.Error("onRawTerminal wrapped a writer that is not a terminal")
	}
}

//go:build linux

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// On a terminal, a password prompt does not echo what is typed (through
// golang.org/x/term, on every system; this runs where pseudo-terminals
// are available).
func TestPasswordPromptDoesNotEcho(t *testing.T) {
	ptmx, pts := openPTY(t)
	defer ptmx.Close()
	defer pts.Close()
	var screen syncBuffer
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := ptmx.Read(b)
			screen.Write(b[:n])
			if err != nil {
				return
			}
		}
	}()
	cmd := &cobra.Command{}
	cmd.SetIn(pts)
	cmd.SetErr(pts)
	got := make(chan string, 1)
	go func() {
		pw, err := prompt(cmd, "New password: ")
		if err != nil {
			t.Errorf("prompt() error = %v", err)
		}
		got <- pw
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(screen.String(), "New password: ") {
		if time.Now().After(deadline) {
			t.Fatalf("no prompt; the screen shows %q", screen.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := ptmx.Write([]byte("Typed-S3cret\r")); err != nil {
		t.Fatal(err)
	}
	select {
	case pw := <-got:
		if pw != "Typed-S3cret" {
			t.Errorf("prompt() = %q, want Typed-S3cret", pw)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("prompt() did not return; the screen shows %q", screen.String())
	}
	time.Sleep(50 * time.Millisecond) // let an echo, if any, reach the screen
	if strings.Contains(screen.String(), "S3cret") {
		t.Errorf("the password was echoed: %q", screen.String())
	}
}

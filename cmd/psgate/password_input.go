package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate/internal/password"
)

// readPassword returns a new password: one line of standard input with
// --password-stdin, else $PSGATE_PASSWORD, else typed at a prompt (twice,
// without echo when standard input is a terminal that supports it).
func readPassword(cmd *cobra.Command, fromStdin bool) (string, error) {
	var pw string
	switch {
	case fromStdin:
		line, err := readLine(cmd.InOrStdin())
		if err != nil {
			return "", fmt.Errorf("read the password from standard input: %w", err)
		}
		pw = line
	case os.Getenv("PSGATE_PASSWORD") != "":
		pw = os.Getenv("PSGATE_PASSWORD")
	default:
		first, err := prompt(cmd, "New password: ")
		if err != nil {
			return "", err
		}
		again, err := prompt(cmd, "Retype the password: ")
		if err != nil {
			return "", err
		}
		if first != again {
			return "", errors.New("the passwords do not match")
		}
		pw = first
	}
	if err := password.CheckNew(pw); err != nil {
		return "", err
	}
	return pw, nil
}

// prompt asks for a secret: on a terminal without echo (on every system),
// else as a line of standard input (tenant create, user add and passwd,
// and psgate login use it).
func prompt(cmd *cobra.Command, text string) (string, error) {
	fmt.Fprint(cmd.ErrOrStderr(), text)
	in := cmd.InOrStdin()
	if f, ok := in.(*os.File); ok && isTerminal(f) {
		line, err := readSecret(f)
		fmt.Fprintln(cmd.ErrOrStderr())
		if err != nil {
			return "", fmt.Errorf("read the password: %w (set PSGATE_PASSWORD or use --password-stdin)", err)
		}
		return line, nil
	}
	line, err := readLine(in)
	if err != nil {
		return "", fmt.Errorf("read the password: %w (set PSGATE_PASSWORD or use --password-stdin)", err)
	}
	return line, nil
}

// readLine reads one line without its line ending, byte by byte so that
// nothing after it is consumed.
func readLine(r io.Reader) (string, error) {
	var (
		b   strings.Builder
		buf [1]byte
	)
	for {
		n, err := r.Read(buf[:])
		if n == 1 {
			if buf[0] == '\n' {
				break
			}
			b.WriteByte(buf[0])
			continue
		}
		if err == io.EOF && b.Len() > 0 {
			break
		}
		if err != nil {
			return "", err
		}
	}
	return strings.TrimSuffix(b.String(), "\r"), nil
}

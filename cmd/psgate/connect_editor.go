package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// errInterrupted is Ctrl+C at the prompt: the line is abandoned.
var errInterrupted = errors.New("interrupted")

// editor reads one line from a terminal in raw mode: cursor movement,
// history (Up/Down), tab completion, Ctrl+A/E/U, Ctrl+C and Ctrl+D.
type editor struct {
	keys    <-chan byte
	pending []byte // type-ahead read while a command ran
	out     io.Writer
	history []string
	comp    *completer
}

// next returns the next key byte; ok is false at end of input.
func (e *editor) next() (byte, bool) {
	if len(e.pending) > 0 {
		b := e.pending[0]
		e.pending = e.pending[1:]
		return b, true
	}
	b, ok := <-e.keys
	return b, ok
}

func (e *editor) render(prompt string, buf []rune, pos int) {
	s := "\r" + prompt + string(buf) + "\x1b[K"
	if back := len(buf) - pos; back > 0 {
		s += fmt.Sprintf("\x1b[%dD", back)
	}
	io.WriteString(e.out, s)
}

// readLine reads a line; io.EOF at end of input or Ctrl+D on an empty
// line, errInterrupted on Ctrl+C.
func (e *editor) readLine(prompt string) (string, error) {
	var (
		buf  []rune
		pos  int
		hist = len(e.history)
		edit []rune // the line being typed, kept while browsing history
		utf  []byte
	)
	e.render(prompt, buf, pos)
	for {
		b, ok := e.next()
		if !ok {
			io.WriteString(e.out, "\r\n")
			return "", io.EOF
		}
		switch b {
		case '\r', '\n':
			io.WriteString(e.out, "\r\n")
			line := string(buf)
			if strings.TrimSpace(line) != "" && (len(e.history) == 0 || e.history[len(e.history)-1] != line) {
				e.history = append(e.history, line)
			}
			return line, nil
		case 3: // Ctrl+C
			io.WriteString(e.out, "^C\r\n")
			return "", errInterrupted
		case 4: // Ctrl+D
			if len(buf) == 0 {
				io.WriteString(e.out, "\r\n")
				return "", io.EOF
			}
			if pos < len(buf) {
				buf = append(buf[:pos], buf[pos+1:]...)
			}
		case 1: // Ctrl+A
			pos = 0
		case 5: // Ctrl+E
			pos = len(buf)
		case 21: // Ctrl+U
			buf, pos = buf[:0], 0
		case 127, 8: // Backspace
			if pos > 0 {
				buf = append(buf[:pos-1], buf[pos:]...)
				pos--
			}
		case '\t':
			if e.comp == nil {
				continue
			}
			line, p, cands := e.comp.complete(string(buf), pos)
			buf, pos = []rune(line), p
			if len(cands) > 1 {
				io.WriteString(e.out, "\r\n"+strings.Join(cands, "  ")+"\r\n")
			}
		case 0x1b:
			b1, _ := e.next()
			b2, _ := e.next()
			if b1 != '[' && b1 != 'O' {
				continue
			}
			switch b2 {
			case 'A', 'B': // Up, Down
				if b2 == 'A' && hist > 0 {
					if hist == len(e.history) {
						edit = append([]rune(nil), buf...)
					}
					hist--
				} else if b2 == 'B' && hist < len(e.history) {
					hist++
				} else {
					continue
				}
				if hist == len(e.history) {
					buf = append([]rune(nil), edit...)
				} else {
					buf = []rune(e.history[hist])
				}
				pos = len(buf)
			case 'C':
				if pos < len(buf) {
					pos++
				}
			case 'D':
				if pos > 0 {
					pos--
				}
			case 'H':
				pos = 0
			case 'F':
				pos = len(buf)
			case '3': // Delete: ESC [ 3 ~
				if t, _ := e.next(); t == '~' && pos < len(buf) {
					buf = append(buf[:pos], buf[pos+1:]...)
				}
			}
		default:
			if b < 0x20 {
				continue
			}
			utf = append(utf, b)
			r := []rune(string(utf))
			if len(r) != 1 || r[0] == '\uFFFD' && len(utf) < 4 {
				continue // wait for the rest of a UTF-8 sequence
			}
			utf = utf[:0]
			buf = append(buf[:pos], append([]rune{r[0]}, buf[pos:]...)...)
			pos++
		}
		e.render(prompt, buf, pos)
	}
}

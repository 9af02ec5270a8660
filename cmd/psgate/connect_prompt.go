package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/psgate/psgate/client"
)

// promptRequest is a prompt the running command asks, handed to the
// goroutine that reads the terminal's keys.
type promptRequest struct {
	ctx    context.Context
	p      client.ChoicePrompt
	answer chan promptAnswer
}

type promptAnswer struct {
	n   int
	err error
}

// termHost is psgate connect's client.Host on a terminal: its prompts are
// shown and answered on the terminal by the key reader of terminalLoop,
// which owns the keys while a command runs.
type termHost struct{ prompts chan<- *promptRequest }

// PromptForChoice implements client.Host.
func (h termHost) PromptForChoice(ctx context.Context, p client.ChoicePrompt) (int, error) {
	req := &promptRequest{ctx: ctx, p: p, answer: make(chan promptAnswer, 1)}
	select {
	case h.prompts <- req:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	select {
	case a := <-req.answer:
		return a.n, a.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// errNoAnswer is the end of input at a prompt.
var errNoAnswer = errors.New("the terminal's input ended before the prompt was answered")

// hotKey splits a choice label into its hot key (the letter after "&",
// upper case; "" when none) and the label as shown.
func hotKey(label string) (key, plain string) {
	i := strings.IndexByte(label, '&')
	if i < 0 || i == len(label)-1 {
		return "", label
	}
	r, _ := utf8.DecodeRuneInString(label[i+1:])
	return strings.ToUpper(string(r)), label[:i] + label[i+1:]
}

// choiceLine is the console host's line of choices,
// `[Y] Yes  [N] No  [?] Help (default is "Y"): ` (Windows PowerShell's
// ConsoleHostUserInterfacePromptForChoice.cs WriteChoicePrompt, l.314–398:
// "[{0}] {1}  " per choice, the help entry, the default's hot key or
// label).
func choiceLine(p client.ChoicePrompt) string {
	var b strings.Builder
	for _, c := range p.Choices {
		key, plain := hotKey(c.Label)
		fmt.Fprintf(&b, "[%s] %s  ", key, plain)
	}
	b.WriteString("[?] Help")
	if p.Default >= 0 && p.Default < len(p.Choices) {
		key, plain := hotKey(p.Choices[p.Default].Label)
		if key == "" {
			key = plain
		}
		fmt.Fprintf(&b, " (default is %q)", key)
	}
	return b.String() + ": "
}

// pick matches a typed answer to a choice, as the console host does
// (HostUIHelperMethods.DetermineChoicePicked, MshHostUserInterface.cs
// l.1235–1270): a whole label first, then a hot key, case-insensitively;
// "" picks the default (PromptForChoice l.124–135). ok is false for
// anything else, and the prompt is shown again.
func pick(p client.ChoicePrompt, answer string) (int, bool) {
	answer = strings.TrimSpace(answer)
	if answer == "" {
		return p.Default, p.Default >= 0 && p.Default < len(p.Choices)
	}
	for i, c := range p.Choices {
		if _, plain := hotKey(c.Label); strings.EqualFold(plain, answer) {
			return i, true
		}
	}
	for i, c := range p.Choices {
		if key, _ := hotKey(c.Label); key != "" && strings.EqualFold(key, answer) {
			return i, true
		}
	}
	return 0, false
}

// choicePrompt shows a PromptForChoice as Windows PowerShell's console
// host does (ConsoleHostUserInterfacePromptForChoice.cs PromptForChoice,
// l.57–160: a blank line and the caption, the message, then the line of
// choices until an answer matches; "?" lists each choice's hot key and
// help, ShowChoiceHelp l.419–442) and reads the answer from keys. Ctrl+C
// stops the running command (the console throws PromptingException
// there, l.116–122; here the command is stopped outright); the prompt
// then ends with ctx's error.
func (sh *shell) choicePrompt(ctx context.Context, keys <-chan byte, p client.ChoicePrompt) (int, error) {
	fmt.Fprint(sh.out, "\n")
	if p.Caption != "" {
		fmt.Fprintln(sh.out, p.Caption)
	}
	if p.Message != "" {
		fmt.Fprintln(sh.out, p.Message)
	}
	for {
		fmt.Fprint(sh.out, choiceLine(p))
		line, err := sh.readAnswer(ctx, keys)
		if err != nil {
			return 0, err
		}
		if strings.TrimSpace(line) == "?" {
			for _, c := range p.Choices {
				key, plain := hotKey(c.Label)
				if key == "" {
					key = plain
				}
				fmt.Fprintf(sh.out, "%s - %s\n", key, c.HelpMessage)
			}
			continue
		}
		if n, ok := pick(p, line); ok {
			return n, nil
		}
	}
}

// readAnswer reads one line typed at a prompt, echoing it, with
// Backspace; Ctrl+C interrupts the command.
func (sh *shell) readAnswer(ctx context.Context, keys <-chan byte) (string, error) {
	var buf []byte
	for {
		var b byte
		var ok bool
		select {
		case <-ctx.Done():
			fmt.Fprint(sh.out, "\n")
			return "", ctx.Err()
		case b, ok = <-keys:
		}
		switch {
		case !ok || b == 4 && len(buf) == 0: // end of input, Ctrl+D
			fmt.Fprint(sh.out, "\n")
			return "", errNoAnswer
		case b == 3: // Ctrl+C
			fmt.Fprint(sh.out, "^C\n")
			if !sh.interrupt() {
				return "", errNoAnswer
			}
			<-ctx.Done()
			return "", ctx.Err()
		case b == '\r' || b == '\n':
			fmt.Fprint(sh.out, "\n")
			return string(buf), nil
		case b == 127 || b == 8: // Backspace
			if len(buf) > 0 {
				_, size := utf8.DecodeLastRune(buf)
				buf = buf[:len(buf)-size]
				io.WriteString(sh.out, "\b \b")
			}
		case b >= 32:
			buf = append(buf, b)
			sh.out.Write([]byte{b})
		}
	}
}

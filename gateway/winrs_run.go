package gateway

import (
	"context"
	"encoding/base64"
	"errors"
	"path"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/format"
	"github.com/psgate/psgate/psobject"
)

// winrsInvocation is what a WinRS command line asks to run.
type winrsInvocation struct {
	script string
	// fromStdin: the script arrives on stdin (powershell -Command -).
	fromStdin bool
	// powershell: the line invoked powershell.exe, whose errors go to
	// stderr as CLIXML.
	powershell bool
}

// parseWinRSCommand turns a WinRS command and its arguments into the
// script the engine runs. powershell.exe and pwsh command lines are
// unwrapped (-EncodedCommand, -Command, stdin); anything else is run as a
// PowerShell command line, so that run_cmd('Get-CsTenant') works, and
// operating-system programs are refused by the engine.
func parseWinRSCommand(command string, args []string) (winrsInvocation, error) {
	line := strings.TrimSpace(command)
	if len(args) > 0 {
		line = strings.TrimSpace(line + " " + strings.Join(args, " "))
	}
	first, rest := splitWord(line)
	if !isPowerShellExe(first) {
		return winrsInvocation{script: line}, nil
	}
	inv := winrsInvocation{powershell: true}
	for {
		var word string
		word, rest = splitWord(rest)
		if word == "" {
			inv.fromStdin = true
			return inv, nil
		}
		if !strings.HasPrefix(word, "-") && !strings.HasPrefix(word, "/") {
			// powershell.exe treats the remaining text as -Command.
			inv.script = strings.TrimSpace(word + " " + rest)
			return inv, nil
		}
		flag := strings.ToLower(strings.TrimLeft(word, "-/"))
		switch {
		case flag == "":
			inv.fromStdin = true
			return inv, nil
		case isPrefixOf(flag, "encodedcommand", 1) || flag == "ec" || flag == "enc":
			b64, _ := splitWord(rest)
			script, err := decodeEncodedCommand(b64)
			if err != nil {
				return inv, err
			}
			inv.script = script
			return inv, nil
		case isPrefixOf(flag, "command", 1):
			rest = strings.TrimSpace(rest)
			if rest == "-" || rest == "" {
				inv.fromStdin = true
				return inv, nil
			}
			inv.script = unquoteCommand(rest)
			return inv, nil
		case isPrefixOf(flag, "file", 1):
			return inv, psgate.E(psgate.CodeOSProcessRefused, psgate.Args{"name": "powershell -File"})
		case oneOf(flag, "noprofile", "nop", "noninteractive", "noni", "nologo", "nol", "sta", "mta", "noexit", "noe"):
		case oneOf(flag, "executionpolicy", "ep", "ex", "exec", "inputformat", "inp", "if", "outputformat", "o", "of", "windowstyle", "w", "win", "version", "v", "configurationname", "config", "workingdirectory", "wd"):
			_, rest = splitWord(rest)
		default:
			return inv, psgate.E(psgate.CodeInvalidParameter, psgate.Args{"detail": "unknown powershell.exe option " + word})
		}
	}
}

func isPowerShellExe(word string) bool {
	word = strings.Trim(word, `"'`)
	base := strings.ToLower(path.Base(strings.ReplaceAll(word, `\`, "/")))
	return oneOf(base, "powershell", "powershell.exe", "pwsh", "pwsh.exe")
}

func oneOf(s string, set ...string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}

// isPrefixOf reports whether flag abbreviates name with at least min chars.
func isPrefixOf(flag, name string, min int) bool {
	return len(flag) >= min && strings.HasPrefix(name, flag)
}

// splitWord returns the first white-space separated word (honouring double
// quotes) and the rest.
func splitWord(s string) (string, string) {
	s = strings.TrimLeft(s, " \t\r\n")
	if s == "" {
		return "", ""
	}
	if s[0] == '"' {
		if end := strings.IndexByte(s[1:], '"'); end >= 0 {
			return s[1 : end+1], s[end+2:]
		}
	}
	if i := strings.IndexAny(s, " \t\r\n"); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// unquoteCommand removes the quotes cmd.exe-style callers put around a
// -Command script.
func unquoteCommand(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `\"`, `"`)
	}
	return s
}

// decodeEncodedCommand decodes powershell.exe's -EncodedCommand argument:
// base64 of UTF-16LE text.
func decodeEncodedCommand(b64 string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil || len(raw)%2 != 0 {
		return "", psgate.E(psgate.CodeInvalidParameter, psgate.Args{"detail": "-EncodedCommand is not base64 of UTF-16LE text"})
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
	}
	return string(utf16.Decode(u)), nil
}

// run executes the command and records its output and exit code.
func (c *winrsCommand) run(ctx context.Context, rs *engine.Runspace) {
	ctx = withCommandID(ctx, c.id)
	script := c.inv.script
	if c.inv.fromStdin {
		s, ok := c.waitStdin(ctx)
		if !ok {
			c.finish(1)
			return
		}
		script = s
	}
	sink := newTextSink(ctx, c)
	start := time.Now()
	err := rs.RunScript(ctx, script, nil, sink)
	sink.flush()
	code := 0
	if sink.errors > 0 {
		code = 1
	}
	if err != nil {
		var te *engine.TerminatingError
		switch {
		case errors.As(err, &te):
			if !te.Written {
				sink.Error(te.Record)
			}
		case ctx.Err() != nil:
			// stopped by a signal: nothing more to say
		default:
			if e, ok := psgate.AsError(err); ok {
				sink.Error(&engine.ErrorRecord{Err: e, FullyQualifiedErrorID: string(e.Code)})
			} else {
				sink.Error(&engine.ErrorRecord{Err: psgate.Wrap(psgate.CodeInternal, psgate.Args{"request": c.id}, err)})
			}
		}
		code = 1
	}
	sink.finishErrors()
	// The record is durable before the client can see the command end.
	if c.audit != nil {
		c.audit(ctx, scriptCalls(script), err, time.Since(start))
	}
	c.finish(code)
}

// textSink formats pipeline output as the PowerShell console would:
// consecutive objects of one type share one table, sized from all its
// rows, and text is written as soon as it is complete.
type textSink struct {
	ctx    context.Context
	c      *winrsCommand
	stream *format.Stream
	errors int
	// errLines are the error lines a powershell.exe command line writes
	// to stderr as one CLIXML document at the end.
	errLines []any
}

func newTextSink(ctx context.Context, c *winrsCommand) *textSink {
	return &textSink{ctx: ctx, c: c, stream: format.NewStream(format.Options{})}
}

func (s *textSink) Output(obj any) {
	s.stream.Add(obj)
	if t := s.stream.Text(); t != "" {
		s.c.write(s.ctx, false, []byte(t))
	}
}

// flush ends the open table or list, so that what follows (an error, a
// warning, the end) comes after it.
func (s *textSink) flush() {
	if t := s.stream.Close(); t != "" {
		s.c.write(s.ctx, false, []byte(t))
	}
}

func (s *textSink) Error(r *engine.ErrorRecord) {
	s.flush()
	s.errors++
	text := errorText(r)
	if s.c.clixmlErr {
		for _, line := range strings.SplitAfter(text, "\r\n") {
			if line != "" {
				s.errLines = append(s.errLines, clixml.Stream{Name: "Error", Value: line})
			}
		}
		return
	}
	s.c.write(s.ctx, true, []byte(text))
}

// finishErrors writes the CLIXML error document powershell.exe emits when
// its stderr is redirected: one <S S="Error"> per line.
func (s *textSink) finishErrors() {
	if len(s.errLines) == 0 {
		return
	}
	doc, err := clixml.MarshalDocument(s.errLines...)
	if err != nil {
		// Strings always serialize; fall back to plain text regardless.
		for _, l := range s.errLines {
			s.c.write(s.ctx, true, []byte(l.(clixml.Stream).Value.(string)))
		}
		return
	}
	s.c.write(s.ctx, true, append([]byte(clixml.StderrPrefix), doc...))
}

func (s *textSink) Warning(msg string) {
	s.flush()
	s.c.write(s.ctx, false, []byte("WARNING: "+msg+"\r\n"))
}
func (s *textSink) Verbose(msg string) {
	s.flush()
	s.c.write(s.ctx, false, []byte("VERBOSE: "+msg+"\r\n"))
}
func (s *textSink) Debug(msg string) {
	s.flush()
	s.c.write(s.ctx, false, []byte("DEBUG: "+msg+"\r\n"))
}

func (s *textSink) Information(r engine.InformationRecord) {
	s.flush()
	s.c.write(s.ctx, false, []byte(psobject.Format(r.MessageData)+"\r\n"))
}

func (s *textSink) Progress(engine.ProgressRecord) {}

// errorText renders an error record as the PowerShell console does, with
// psgate's code and fix appended.
func errorText(r *engine.ErrorRecord) string {
	lines := r.DisplayText()
	if r.Err != nil {
		lines = append(lines, "    + psgate error code     : "+string(r.Err.Code))
		if r.Err.Resolution != "" {
			lines = append(lines, "    + Resolution            : "+r.Err.Resolution)
		}
	}
	return strings.Join(lines, "\r\n") + "\r\n\r\n"
}

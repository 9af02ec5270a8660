package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/client"
)

func newConnectCmd() *cobra.Command {
	var (
		remote      *remoteOpts
		output      string
		width       int
		color       string
		noReconnect bool
	)
	cmd := &cobra.Command{
		Use:   "connect",
		Short: "Open an interactive shell on the gateway",
		Long: `Open an interactive PowerShell session on the gateway, with the prompt
"[tenant] PS>". Each line is run as a command; Ctrl+C stops the running command;
"exit" or end of input closes the session. On a terminal, -Confirm asks
PowerShell's confirmation prompt ("[Y] Yes  [A] Yes to All  [N] No  [L] No to
All"); when input is not a terminal, -Confirm is refused.

Reconnection mode is on: when the session reaches its lifetime or idle timeout,
the token expires or the connection drops, a new session is opened with a
one-line notice. A command that had not started is retried; a command that may
have run is reported as interrupted and not run again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutputFormat(output); err != nil {
				return err
			}
			if err := checkColorMode(color); err != nil {
				return err
			}
			cfg, err := remote.config(cmd.InOrStdin())
			if err != nil {
				return err
			}
			sh := &shell{
				out: cmd.OutOrStdout(), errw: cmd.ErrOrStderr(), output: output, width: width,
				color:    useColor(color, cmd.OutOrStdout(), os.Getenv),
				errColor: useColor(color, cmd.ErrOrStderr(), os.Getenv),
				prompt:   "[" + tenantLabel(cfg.User) + "] PS> ",
			}
			if noReconnect {
				s, err := client.Dial(cmd.Context(), cfg)
				if err != nil {
					return err
				}
				sh.run, sh.close = s.Run, s.Close
			} else {
				r, err := client.DialReconnecting(cmd.Context(), cfg, func(msg string) { fmt.Fprintln(sh.errw, msg) })
				if err != nil {
					return err
				}
				sh.run, sh.close = r.Run, r.Close
			}
			return sh.loop(context.WithoutCancel(cmd.Context()), cmd.InOrStdin())
		},
	}
	remote = addRemoteFlags(cmd)
	f := cmd.Flags()
	f.StringVarP(&output, "output", "o", "", "output format: table, list, json or csv (default: as PowerShell)")
	f.IntVar(&width, "width", 0, "line width of table and list output (default 120)")
	f.StringVar(&color, "color", "auto", "colour table headers, errors and warnings: auto (on a terminal, unless NO_COLOR is set), always or never")
	f.BoolVar(&noReconnect, "no-reconnect", false, "do not replace a lost session")
	return cmd
}

// tenantLabel is the prompt's tenant: the first label of the UPN's domain.
func tenantLabel(user string) string {
	t := client.TenantOf(user)
	label, _, _ := strings.Cut(t, ".")
	return label
}

// shell is the interactive loop of psgate connect.
type shell struct {
	out, errw io.Writer
	output    string
	width     int
	color     bool // colours on out
	errColor  bool // colours on errw
	prompt    string
	run       func(context.Context, client.Command, client.RunOptions) (*client.Result, error)
	close     func(context.Context) error

	mu     sync.Mutex
	cancel context.CancelFunc // the running command's, nil at the prompt
}

// loop reads command lines until "exit" or end of input. Ctrl+C stops the
// running command, or starts a new prompt line.
func (sh *shell) loop(ctx context.Context, in io.Reader) error {
	f, _ := in.(*os.File)
	var restore func()
	if f != nil {
		if r, err := makeRaw(f); err == nil {
			restore = r
			sh.out, sh.errw = onRawTerminal(sh.out), onRawTerminal(sh.errw)
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)
	done := make(chan struct{})
	defer close(done)
	go sh.interrupts(sig, done)
	defer closeQuietly(ctx, sh.close)

	if restore != nil {
		defer restore()
		return sh.terminalLoop(ctx, f)
	}
	r := bufio.NewReader(in)
	for {
		fmt.Fprint(sh.out, sh.prompt)
		line, err := r.ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			fmt.Fprintln(sh.out)
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read command: %w", err)
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			continue
		case strings.EqualFold(line, "exit"):
			return nil
		}
		// Not a terminal: nothing to answer a prompt with, so -Confirm is
		// refused (engine.confirm-needs-host).
		sh.execute(ctx, line, nil)
	}
}

// interrupts turns Ctrl+C into stopping the running command.
func (sh *shell) interrupts(sig <-chan os.Signal, done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case <-sig:
			if !sh.interrupt() {
				fmt.Fprint(sh.out, "\n"+sh.prompt)
			}
		}
	}
}

// terminalLoop is loop on a terminal in raw mode, with the line editor.
// Keys typed while a command runs are kept for the next prompt, except
// Ctrl+C, which stops the command.
func (sh *shell) terminalLoop(ctx context.Context, f *os.File) error {
	keys := make(chan byte, 1024)
	go func() {
		defer close(keys)
		b := make([]byte, 256)
		for {
			n, err := f.Read(b)
			for _, c := range b[:n] {
				keys <- c
			}
			if err != nil {
				return
			}
		}
	}()
	ed := &editor{keys: keys, out: sh.out, comp: sh.completer(ctx)}
	for {
		line, err := ed.readLine(sh.prompt)
		switch {
		case errors.Is(err, errInterrupted):
			continue
		case errors.Is(err, io.EOF):
			return nil
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			continue
		case strings.EqualFold(line, "exit"):
			return nil
		}
		stop := make(chan struct{})
		typed := make(chan []byte, 1)
		prompts := make(chan *promptRequest)
		go func() {
			var ahead []byte
			defer func() { typed <- ahead }()
			for {
				select {
				case <-stop:
					return
				case req := <-prompts:
					// The command asks (-Confirm): the keys answer it.
					n, err := sh.choicePrompt(req.ctx, keys, req.p)
					req.answer <- promptAnswer{n: n, err: err}
				case b, ok := <-keys:
					if !ok {
						return
					}
					if b == 3 {
						sh.interrupt()
						continue
					}
					ahead = append(ahead, b)
				}
			}
		}()
		sh.execute(ctx, line, termHost{prompts: prompts})
		close(stop)
		ed.pending = append(ed.pending, <-typed...)
	}
}

// completer loads the server's command metadata for tab completion.
func (sh *shell) completer(ctx context.Context) *completer {
	res, err := sh.run(ctx, client.Script("Get-Command"), client.RunOptions{})
	if err != nil || res == nil {
		return &completer{params: map[string][]string{}}
	}
	return newCompleter(res.Output)
}

// interrupt stops the running command, if any.
func (sh *shell) interrupt() bool {
	sh.mu.Lock()
	cancel := sh.cancel
	sh.mu.Unlock()
	if cancel != nil {
		cancel()
		return true
	}
	return false
}

// execute runs one command line; host, when not nil, answers its
// prompts.
func (sh *shell) execute(ctx context.Context, line string, host client.Host) {
	cctx, cancel := context.WithCancel(ctx)
	sh.mu.Lock()
	sh.cancel = cancel
	sh.mu.Unlock()
	defer func() {
		sh.mu.Lock()
		sh.cancel = nil
		sh.mu.Unlock()
		cancel()
	}()
	res, err := sh.run(cctx, client.Script(line), client.RunOptions{Record: func(r client.Record) { writeRecord(sh.errw, r, sh.errColor) }, Host: host})
	if res != nil {
		if werr := writeObjects(sh.out, res.Output, sh.output, sh.width, sh.color); werr != nil {
			fmt.Fprintf(sh.errw, "error: %v\n", werr)
		}
	}
	if err != nil {
		writeRemoteError(sh.errw, err)
	}
}

// writeRemoteError prints a failure the way printError does.
func writeRemoteError(w io.Writer, err error) {
	if e, ok := psgate.AsError(err); ok {
		fmt.Fprintf(w, "error[%s]: %s\n", e.Code, e.Message)
		if e.Resolution != "" && e.Code != psgate.CodePipelineStopped {
			fmt.Fprintf(w, "fix: %s\n", e.Resolution)
		}
		return
	}
	fmt.Fprintf(w, "error: %v\n", err)
}

package gateway

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/internal/recent"
	"github.com/psgate/psgate/internal/stack"
	"github.com/psgate/psgate/wsman"
)

// winrs is the WinRS command shell: each Command runs a command line (or a
// powershell.exe -EncodedCommand script) through the engine and returns
// formatted text on stdout and errors on stderr.
type winrs struct {
	g  *Gateway
	sh *shell
	rs *engine.Runspace

	mu       sync.Mutex
	commands map[string]*winrsCommand
	finished recent.Ring[string] // ids of ended commands, so late Signals succeed
	closed   bool
}

// maxCommandsPerShell bounds concurrent commands in one WinRS shell.
const maxCommandsPerShell = 15

func newWinRS(g *Gateway, s *shell) *winrs {
	return &winrs{
		g:  g,
		sh: s,
		rs: engine.NewRunspace(engine.RunspaceConfig{
			Catalog:    g.cfg.Catalog,
			Caller:     callerOf(s),
			Authorizer: s.grant.Authorizer,
		}),
		commands: make(map[string]*winrsCommand),
	}
}

func callerOf(s *shell) engine.Caller {
	return engine.Caller{
		Principal:  s.owner,
		ShellID:    s.id,
		ClientAddr: s.clientIP,
		Roles:      s.grant.Roles,
	}
}

func (w *winrs) command(_ context.Context, req *request) (string, error) {
	cl := req.env.CommandLine
	if cl == nil {
		return "", psgate.E(psgate.CodeMalformedEnvelope, psgate.Args{"detail": "a Command request needs an rsp:CommandLine body"})
	}
	inv, err := parseWinRSCommand(cl.Command, cl.Arguments)
	if err != nil {
		return "", err
	}
	id := cl.CommandID
	if id == "" {
		id = newGUID(w.g.cfg.Rand)
	}
	id = strings.ToUpper(id)

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return "", psgate.E(psgate.CodeShellNotFound, psgate.Args{"shell": w.sh.id})
	}
	if _, dup := w.commands[id]; dup {
		return "", psgate.E(psgate.CodeInvalidParameter, psgate.Args{"detail": "CommandId " + id + " is already in use"})
	}
	if len(w.commands) >= maxCommandsPerShell {
		return "", psgate.E(psgate.CodeTooManyCommands, nil)
	}
	if err := w.g.startCommand(); err != nil {
		return "", err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &winrsCommand{
		id:        id,
		cancel:    cancel,
		changed:   make(chan struct{}),
		maxBuffer: w.g.cfg.MaxOutputBuffer,
		clixmlErr: inv.powershell,
		inv:       inv,
	}
	c.audit = func(ctx context.Context, calls []engine.CommandCall, err error, dur time.Duration) {
		w.g.auditCommand(context.WithoutCancel(ctx), w.sh, id, calls, err, dur)
	}
	w.commands[id] = c
	go func() {
		stack.Grow() // the command goes deep: engine, store, driver
		defer w.g.wg.Done()
		c.run(ctx, w.rs)
	}()
	return id, nil
}

func (w *winrs) get(id string) (*winrsCommand, bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c, ok := w.commands[strings.ToUpper(id)]; ok {
		return c, false, nil
	}
	if w.finished.Has(strings.ToUpper(id)) {
		return nil, true, nil
	}
	return nil, false, psgate.E(psgate.CodeCommandIDNotFound, nil)
}

func (w *winrs) send(_ context.Context, req *request) error {
	if req.env.Send == nil {
		return psgate.E(psgate.CodeMalformedEnvelope, psgate.Args{"detail": "a Send request needs an rsp:Send body"})
	}
	for _, st := range req.env.Send.Streams {
		if !strings.EqualFold(st.Name, "stdin") {
			return psgate.E(psgate.CodeInvalidParameter, psgate.Args{"detail": "WinRS shells accept input on stdin only, not " + st.Name})
		}
		c, gone, err := w.get(st.CommandID)
		if err != nil {
			return err
		}
		if gone {
			continue
		}
		if err := c.input(st.Data, st.End, w.g.cfg.MaxOutputBuffer); err != nil {
			return err
		}
	}
	return nil
}

func (w *winrs) receive(ctx context.Context, req *request, wait time.Duration) (wsman.ReceiveResult, error) {
	rc := req.env.Receive
	if rc == nil {
		return wsman.ReceiveResult{}, psgate.E(psgate.CodeMalformedEnvelope, psgate.Args{"detail": "a Receive request needs an rsp:Receive body"})
	}
	c, gone, err := w.get(rc.CommandID)
	if err != nil {
		return wsman.ReceiveResult{}, err
	}
	if gone {
		return wsman.ReceiveResult{}, psgate.E(psgate.CodeCommandIDNotFound, nil)
	}
	want := rc.DesiredStreams
	if len(want) == 0 {
		want = []string{"stdout", "stderr"}
	}
	limit := w.g.payloadLimit(req.env.MaxEnvelopeSize)
	res, done, err := c.receive(ctx, w.sh.done, req.detach, want, limit, wait)
	if err != nil {
		if why := w.sh.closeReason(); why != nil {
			return wsman.ReceiveResult{}, why
		}
		return wsman.ReceiveResult{}, err
	}
	if done {
		w.retire(c.id)
	}
	return res, nil
}

// payloadLimit is how many raw output bytes fit in one ReceiveResponse for a
// client that accepts envelopes of maxEnv bytes: base64 grows data by 4/3,
// and the envelope around it needs room.
func (g *Gateway) payloadLimit(maxEnv int) int {
	if maxEnv <= 0 || maxEnv > g.cfg.MaxEnvelopeSize {
		maxEnv = g.cfg.MaxEnvelopeSize
	}
	n := (maxEnv - 4096) * 3 / 4
	if n < 1024 {
		n = 1024
	}
	return n
}

func (w *winrs) retire(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.commands, id)
	w.finished.Add(id)
}

func (w *winrs) signal(_ context.Context, req *request) error {
	sg := req.env.Signal
	if sg == nil {
		return psgate.E(psgate.CodeMalformedEnvelope, psgate.Args{"detail": "a Signal request needs an rsp:Signal body"})
	}
	if sg.CommandID == "" {
		return nil
	}
	c, gone, err := w.get(sg.CommandID)
	if err != nil || gone {
		return err
	}
	switch {
	case wsman.IsTerminateSignal(sg.Code):
		c.cancel()
		w.retire(c.id)
	case wsman.IsStopSignal(sg.Code):
		c.cancel()
	default:
		return psgate.E(psgate.CodeInvalidParameter, psgate.Args{"detail": "unknown signal code " + sg.Code})
	}
	return nil
}

func (w *winrs) settled() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.commands) == 0
}

func (w *winrs) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	for id, c := range w.commands {
		c.cancel()
		delete(w.commands, id)
	}
}

// winrsCommand is one running (or finished, not yet collected) command.
type winrsCommand struct {
	id        string
	cancel    context.CancelFunc
	maxBuffer int
	clixmlErr bool // write stderr as "#< CLIXML" as powershell.exe does
	inv       winrsInvocation
	audit     func(ctx context.Context, calls []engine.CommandCall, err error, dur time.Duration)

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every change
	stdout   bytes.Buffer
	stderr   bytes.Buffer
	stdin    bytes.Buffer
	stdinEnd bool
	done     bool
	exitCode int
}

// notifyLocked wakes every waiter; c.mu must be held.
func (c *winrsCommand) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *winrsCommand) input(data []byte, end bool, limit int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stdin.Len()+len(data) > limit {
		return psgate.E(psgate.CodeInvalidParameter, psgate.Args{"detail": "stdin exceeds the buffer limit of the command"})
	}
	c.stdin.Write(data)
	if end {
		c.stdinEnd = true
	}
	c.notifyLocked()
	return nil
}

// waitStdin blocks until the client ended stdin, and returns it.
func (c *winrsCommand) waitStdin(ctx context.Context) (string, bool) {
	for {
		c.mu.Lock()
		if c.stdinEnd {
			s := c.stdin.String()
			c.mu.Unlock()
			return s, true
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return "", false
		}
	}
}

// write appends output, blocking while the client has not collected more
// than maxBuffer bytes (so a fast producer cannot exhaust memory).
func (c *winrsCommand) write(ctx context.Context, stderr bool, p []byte) {
	for len(p) > 0 {
		c.mu.Lock()
		pending := c.stdout.Len() + c.stderr.Len()
		if pending >= c.maxBuffer {
			ch := c.changed
			c.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return
			}
		}
		n := min(len(p), c.maxBuffer-pending)
		if stderr {
			c.stderr.Write(p[:n])
		} else {
			c.stdout.Write(p[:n])
		}
		p = p[n:]
		c.notifyLocked()
		c.mu.Unlock()
	}
}

func (c *winrsCommand) finish(code int) {
	c.mu.Lock()
	c.done = true
	c.exitCode = code
	c.notifyLocked()
	c.mu.Unlock()
}

// receive waits up to wait for output and returns what fits in limit bytes.
// done reports that the final response (CommandState Done) was built.
// receive waits up to wait for output of the wanted streams or the end.
// A Disconnect of the shell (detach closed) answers it at once with no
// output and the command running, as PSRP Receives are answered, so that
// the Disconnect does not wait for the Receive's timeout.
func (c *winrsCommand) receive(ctx context.Context, shellDone, detach <-chan struct{}, want []string, limit int, wait time.Duration) (wsman.ReceiveResult, bool, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	wantOut, wantErr := false, false
	for _, s := range want {
		switch strings.ToLower(s) {
		case "stdout":
			wantOut = true
		case "stderr":
			wantErr = true
		}
	}
	for {
		c.mu.Lock()
		hasOut := wantOut && c.stdout.Len() > 0
		hasErr := wantErr && c.stderr.Len() > 0
		if hasOut || hasErr || c.done {
			res, done := c.collectLocked(wantOut, wantErr, limit)
			c.notifyLocked() // the writer may be waiting for room
			c.mu.Unlock()
			return res, done, nil
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			return wsman.ReceiveResult{}, false, psgate.E(psgate.CodeOperationTimeout, nil)
		case <-shellDone:
			return wsman.ReceiveResult{}, false, psgate.E(psgate.CodeShellNotFound, psgate.Args{"shell": ""})
		case <-detach:
			return emptyReceive(c.id, true), false, nil
		case <-ctx.Done():
			return wsman.ReceiveResult{}, false, ctx.Err()
		}
	}
}

func (c *winrsCommand) collectLocked(wantOut, wantErr bool, limit int) (wsman.ReceiveResult, bool) {
	var res wsman.ReceiveResult
	if wantOut && c.stdout.Len() > 0 {
		n := min(limit, c.stdout.Len())
		res.Streams = append(res.Streams, wsman.OutStream{Name: "stdout", CommandID: c.id, Data: bytes.Clone(c.stdout.Next(n))})
		limit -= n
	}
	if wantErr && c.stderr.Len() > 0 && limit > 0 {
		n := min(limit, c.stderr.Len())
		res.Streams = append(res.Streams, wsman.OutStream{Name: "stderr", CommandID: c.id, Data: bytes.Clone(c.stderr.Next(n))})
	}
	drained := (!wantOut || c.stdout.Len() == 0) && (!wantErr || c.stderr.Len() == 0)
	if !c.done || !drained {
		res.State = &wsman.CommandState{CommandID: c.id, State: wsman.StateRunning}
		return res, false
	}
	if wantOut {
		res.Streams = append(res.Streams, wsman.OutStream{Name: "stdout", CommandID: c.id, End: true})
	}
	if wantErr {
		res.Streams = append(res.Streams, wsman.OutStream{Name: "stderr", CommandID: c.id, End: true})
	}
	code := c.exitCode
	res.State = &wsman.CommandState{CommandID: c.id, State: wsman.StateDone, ExitCode: &code}
	return res, true
}

// busy says why the shell cannot move to another node now (mover).
func (w *winrs) busy() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.closed:
		return "the shell is closed"
	case len(w.commands) > 0:
		return "a command runs, or its output is not collected yet"
	}
	return ""
}

// handoff captures the retired command ids (mover).
func (w *winrs) handoff(h *Handoff) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.commands) > 0 || w.closed {
		return &BusyError{ShellID: w.sh.id, Reason: "a command runs, or its output is not collected yet"}
	}
	h.WinRS = &WinRSHandoff{Finished: w.finished.All()}
	return nil
}

// restoreWinRS rebuilds a command shell another node handed over.
func restoreWinRS(g *Gateway, s *shell, h WinRSHandoff) *winrs {
	w := newWinRS(g, s)
	for _, id := range h.Finished {
		w.finished.Add(strings.ToUpper(id))
	}
	return w
}

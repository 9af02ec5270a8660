package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/psrp"
)

// Hand-over of idle shells between nodes: a draining node serializes each
// shell that runs nothing (HandOff), a live peer installs it under the
// same ShellId (Adopt), and the draining node forgets it without
// releasing its quota slot (FinishHandOff), which moved with it. A
// no-language runspace holds no user state, so the shell's own fields,
// the PSRP machine's state and the fragmenter's next ObjectId are all
// there is to move.

// HandoffFormat and HandoffVersion identify the serialized form of a
// shell. A node refuses a hand-over of another format or a newer version.
const (
	HandoffFormat  = "psgate.shell-handoff"
	HandoffVersion = 1
)

// ErrShellBusy is matched (errors.Is) by the *BusyError HandOff returns
// for a shell that cannot move now.
var ErrShellBusy = errors.New("gateway: the shell is busy")

// BusyError says why a shell cannot be handed over now: it runs a
// pipeline or command, holds output its client has not collected, or
// holds part of a message. Try again once it is idle.
type BusyError struct {
	ShellID string
	Reason  string
}

func (e *BusyError) Error() string {
	return "gateway: shell " + e.ShellID + " cannot be handed over now: " + e.Reason
}

// Is makes errors.Is(err, ErrShellBusy) true.
func (e *BusyError) Is(target error) bool { return target == ErrShellBusy }

// Handoff is a shell serialized for another node: everything a client
// could notice of it. Marshal it with Encode; DecodeHandoff reads it back.
type Handoff struct {
	Format  string `json:"format"`
	Version int    `json:"version"`

	ShellID     string           `json:"shell_id"`
	Kind        psgate.ShellKind `json:"kind"`
	ResourceURI string           `json:"resource_uri"`
	// Owner is the principal that opened the shell; the adopting node
	// reads its rights again.
	Owner     psgate.Principal `json:"owner"`
	Name      string           `json:"name,omitempty"`
	ClientIP  string           `json:"client_ip,omitempty"`
	UserAgent string           `json:"user_agent,omitempty"`
	// Created keeps the lifetime counting from the original Create.
	Created    time.Time `json:"created"`
	LastActive time.Time `json:"last_active"`
	// Lifetime, IdleTimeout (the current one, which Create or
	// Disconnect may have shortened) and MaxIdle (rsp:MaxIdleTimeOut),
	// in nanoseconds; zero means none.
	Lifetime    time.Duration `json:"lifetime_ns"`
	IdleTimeout time.Duration `json:"idle_timeout_ns"`
	MaxIdle     time.Duration `json:"max_idle_ns"`
	// Roles are the roles the shell ran with, for the record: the
	// adopting node reads them again.
	Roles       []string `json:"roles,omitempty"`
	Inputs      []string `json:"input_streams"`
	Outputs     []string `json:"output_streams"`
	Compression string   `json:"compression"`
	// State is "Connected" or "Disconnected".
	State string `json:"state"`

	// PSRP is set for runspace pools, WinRS for command shells.
	PSRP  *PSRPHandoff  `json:"psrp,omitempty"`
	WinRS *WinRSHandoff `json:"winrs,omitempty"`
}

// PSRPHandoff is what a runspace pool holds outside the shell.
type PSRPHandoff struct {
	// Pool is the protocol machine: state, negotiated version, runspace
	// counts, host info, recently retired pipelines.
	Pool psrp.PoolSnapshot `json:"pool"`
	// NextObjectID continues the server's fragment ObjectIds, which must
	// not repeat within the pool.
	NextObjectID uint64 `json:"next_object_id"`
	// MaxBlob is the fragment size agreed from the client's envelope
	// size at Create.
	MaxBlob int `json:"max_blob"`
	// Output is the runspace pool's output its client has not received
	// yet (a client may never ask for the opening messages), as encoded
	// fragments, in order.
	Output [][]byte `json:"pool_output,omitempty"`
}

// WinRSHandoff is what a command shell holds outside the shell.
type WinRSHandoff struct {
	// Finished lists the commands retired lately, whose late Signals
	// still succeed.
	Finished []string `json:"finished,omitempty"`
}

// Encode returns the JSON form of h.
func (h Handoff) Encode() ([]byte, error) {
	b, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("gateway: encode hand-over of %s: %w", h.ShellID, err)
	}
	return b, nil
}

// DecodeHandoff reads and checks a serialized shell.
func DecodeHandoff(b []byte) (Handoff, error) {
	var h Handoff
	if err := json.Unmarshal(b, &h); err != nil {
		return Handoff{}, fmt.Errorf("gateway: decode hand-over: %w", err)
	}
	if err := h.check(); err != nil {
		return Handoff{}, err
	}
	return h, nil
}

// check refuses a hand-over this node cannot install faithfully.
func (h Handoff) check() error {
	bad := func(what string) error { return fmt.Errorf("gateway: hand-over of shell %q: %s", h.ShellID, what) }
	switch {
	case h.Format != HandoffFormat:
		return bad(fmt.Sprintf("format %q is not %q", h.Format, HandoffFormat))
	case h.Version < 1 || h.Version > HandoffVersion:
		return bad(fmt.Sprintf("version %d; this node reads up to %d", h.Version, HandoffVersion))
	case h.ShellID == "" || h.Owner.TenantID == 0 || h.Owner.UserID == 0:
		return bad("no shell id or owner")
	case h.State != "Connected" && h.State != "Disconnected":
		return bad(fmt.Sprintf("state %q", h.State))
	case h.Created.IsZero():
		return bad("no creation time")
	}
	switch h.Kind {
	case kindPSRP:
		if h.PSRP == nil || h.WinRS != nil {
			return bad("a runspace pool needs its PSRP state, and only that")
		}
		if h.PSRP.MaxBlob <= 0 || h.PSRP.MaxBlob > psrp.MaxFragmentBlob {
			return bad(fmt.Sprintf("fragment size %d", h.PSRP.MaxBlob))
		}
		if rpid, err := psrp.ParseGUID(h.ShellID); err != nil || !strings.EqualFold(rpid.String(), h.ShellID) {
			return bad("the ShellId of a runspace pool must be its GUID")
		}
	case kindWinRS:
		if h.WinRS == nil || h.PSRP != nil {
			return bad("a command shell needs its WinRS state, and only that")
		}
	default:
		return bad(fmt.Sprintf("kind %q", h.Kind))
	}
	return nil
}

// mover is what a shell kind implements to move between nodes.
type mover interface {
	// busy says why the shell cannot move now; "" when it is idle.
	busy() string
	// handoff captures the kind's state into h, or says why not.
	handoff(h *Handoff) error
}

// IdleShells lists the shells of this node that could be handed over
// now: open, not moving, running nothing and holding no output or partial
// input. A shell may turn busy before HandOff gets to it; HandOff checks
// again.
func (g *Gateway) IdleShells() []string {
	var out []string
	for _, s := range g.shells.all() {
		s.mu.Lock()
		skip := s.closed || s.move != nil || s.detaching
		s.mu.Unlock()
		if m, ok := s.plugin.(mover); ok && !skip && m.busy() == "" {
			out = append(out, s.id)
		}
	}
	return out
}

// HandOff starts moving shell shellID to another node and returns its
// serialized form. From now on the shell is "moving": requests that
// arrive for it wait (see awaitMove) until FinishHandOff, which the caller
// must call whatever happens next; a Receive pending on it is answered
// with w:TimedOut, as WinRM answers one whose OperationTimeout passed, so
// that its client simply sends it again. HandOff waits, bounded by ctx,
// for the requests in flight to end, then refuses with a *BusyError if the
// shell runs a pipeline or command, holds output its client has not
// collected, or holds part of a message; the shell then stays here
// unchanged.
func (g *Gateway) HandOff(ctx context.Context, shellID string) (Handoff, error) {
	s, ok := g.shells.get(shellID)
	if !ok {
		return Handoff{}, psgate.E(psgate.CodeShellNotFound, psgate.Args{"shell": shellID})
	}
	m, ok := s.plugin.(mover)
	if !ok {
		return Handoff{}, &BusyError{ShellID: s.id, Reason: "its kind cannot move"}
	}
	// A cheap look first, so that the Receives of a busy shell's
	// pipelines are not woken for nothing.
	if why := m.busy(); why != "" {
		return Handoff{}, &BusyError{ShellID: s.id, Reason: why}
	}
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return Handoff{}, psgate.E(psgate.CodeShellNotFound, psgate.Args{"shell": s.id})
	case s.move != nil:
		s.mu.Unlock()
		return Handoff{}, &BusyError{ShellID: s.id, Reason: "it is already being handed over"}
	case s.detaching:
		s.mu.Unlock()
		return Handoff{}, &BusyError{ShellID: s.id, Reason: "a Disconnect is in progress"}
	}
	mv := &shellMove{done: make(chan struct{})}
	s.move = mv
	if s.moveWake != nil {
		close(s.moveWake)
		s.moveWake = nil
	}
	var drained <-chan struct{}
	if s.ops > 0 {
		if s.drained == nil {
			s.drained = make(chan struct{})
		}
		drained = s.drained
	}
	s.mu.Unlock()
	abort := func(err error) (Handoff, error) {
		g.endMove(s, mv, false)
		return Handoff{}, err
	}
	if drained != nil {
		select {
		case <-drained:
		case <-s.done:
			return abort(psgate.E(psgate.CodeShellNotFound, psgate.Args{"shell": s.id}))
		case <-ctx.Done():
			return abort(&BusyError{ShellID: s.id, Reason: "requests in flight did not end: " + ctx.Err().Error()})
		}
	}
	if why := m.busy(); why != "" {
		return abort(&BusyError{ShellID: s.id, Reason: why})
	}
	h := s.handoff()
	if err := m.handoff(&h); err != nil {
		return abort(err)
	}
	return h, nil
}

// handoff captures the shell's own fields.
func (s *shell) handoff() Handoff {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Handoff{
		Format: HandoffFormat, Version: HandoffVersion,
		ShellID: s.id, Kind: s.kind, ResourceURI: s.resourceURI, Owner: s.owner,
		Name: s.name, ClientIP: s.clientIP, UserAgent: s.userAgent,
		Created: s.created, LastActive: s.lastActive,
		Lifetime: s.grant.Lifetime, IdleTimeout: s.grant.IdleTimeout, MaxIdle: s.maxIdle,
		Roles:  append([]string(nil), s.grant.Roles...),
		Inputs: append([]string(nil), s.inputs...), Outputs: append([]string(nil), s.outputs...),
		Compression: s.compression, State: s.state,
	}
}

// FinishHandOff ends the hand-over HandOff began. adopted: another node
// installed the shell and holds its quota slot now, so the shell is
// removed here without releasing anything and without a tombstone (the
// next request for it is routed to the new owner), and the requests that
// waited for it get errShellMoved, which sends them there too. Not
// adopted: the shell stays, and the waiting requests proceed here.
func (g *Gateway) FinishHandOff(shellID string, adopted bool) {
	s, ok := g.shells.get(shellID)
	if !ok {
		return
	}
	s.mu.Lock()
	mv := s.move
	s.mu.Unlock()
	if mv == nil {
		return
	}
	g.endMove(s, mv, adopted)
}

// endMove ends one hand-over of s.
func (g *Gateway) endMove(s *shell, mv *shellMove, adopted bool) {
	if !adopted {
		s.mu.Lock()
		if s.move == mv {
			s.move = nil
		}
		s.mu.Unlock()
		close(mv.done)
		return
	}
	// The shell stays marked as moving: a request that still holds it
	// learns that it moved.
	mv.adopted = true
	if s.markClosed(nil) {
		s.plugin.close()
		if s.partial != nil {
			s.partial.close()
		}
		g.shells.remove(s, nil, g.cfg.Now())
		g.log.Info("shell handed over", logKeyShellID, s.id, logKeyTenant, s.owner.Tenant, logKeyUser, s.owner.UPN)
	}
	close(mv.done)
}

// awaitMove waits while s is being handed over: it returns nil at once
// for a shell that is not moving, and when a hand-over ended with the
// shell staying here; errShellMoved when it moved (the request then goes
// to the new owner); ctx's error when ctx ends first. The lookup of every
// shell-addressed action calls it, so that no action (Delete, Disconnect,
// Connect...) changes a shell while it is serialized.
func (g *Gateway) awaitMove(ctx context.Context, s *shell) error {
	s.mu.Lock()
	mv := s.move
	s.mu.Unlock()
	if mv == nil {
		return nil
	}
	select {
	case <-mv.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if mv.adopted {
		return errShellMoved
	}
	return nil
}

// moveWakeChan returns the channel a hand-over of s closes to answer
// pending Receives.
func (s *shell) moveWakeChan() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.moveWake == nil {
		s.moveWake = make(chan struct{})
	}
	return s.moveWake
}

// Adopt installs a shell another node handed over: same ShellId, owner,
// creation time, state and protocol state, so that every request for it
// is answered as that node would have answered it. gr and auth are
// what admission granted this node for it (Admitter.Adopt): the roles
// are read again, and a policy that shortened the lifetime or the idle
// timeout since the shell opened applies now.
func (g *Gateway) Adopt(ctx context.Context, h Handoff, gr psgate.Grant, auth engine.Authorizer) error {
	if err := h.check(); err != nil {
		return err
	}
	if g.closed.Load() {
		return psgate.E(psgate.CodeShuttingDown, nil)
	}
	lifetime := h.Lifetime
	if gr.Lifetime > 0 && (lifetime <= 0 || gr.Lifetime < lifetime) {
		lifetime = gr.Lifetime
	}
	maxIdle := h.MaxIdle
	if gr.IdleTimeout > 0 && (maxIdle <= 0 || gr.IdleTimeout < maxIdle) {
		maxIdle = gr.IdleTimeout
	}
	idle := h.IdleTimeout
	if maxIdle > 0 && (idle <= 0 || idle > maxIdle) {
		idle = maxIdle
	}
	s := &shell{
		id:          strings.ToUpper(h.ShellID),
		resourceURI: h.ResourceURI,
		kind:        h.Kind,
		owner:       h.Owner,
		name:        h.Name,
		clientIP:    h.ClientIP,
		userAgent:   h.UserAgent,
		created:     h.Created,
		grant: grant{
			Grant:      psgate.Grant{Lifetime: lifetime, IdleTimeout: idle, Roles: gr.Roles},
			Authorizer: auth,
		},
		maxIdle:     maxIdle,
		inputs:      h.Inputs,
		outputs:     h.Outputs,
		compression: h.Compression,
		done:        make(chan struct{}),
		lastActive:  h.LastActive,
		state:       h.State,
	}
	switch h.Kind {
	case kindPSRP:
		s.partial = g.partial.open(s)
		pool, err := restorePSRPPool(g, s, *h.PSRP)
		if err != nil {
			s.partial.close()
			return err
		}
		s.plugin = pool
	case kindWinRS:
		s.plugin = restoreWinRS(g, s, *h.WinRS)
	}
	if !g.shells.add(s) {
		s.plugin.close()
		if s.partial != nil {
			s.partial.close()
		}
		return fmt.Errorf("gateway: adopt shell %s: a shell with this id is open here", s.id)
	}
	if g.closed.Load() {
		// Shutdown began meanwhile and may have missed this shell.
		g.closeShell(context.WithoutCancel(ctx), s, psgate.CloseReason{Cause: psgate.CloseShutdown})
		return psgate.E(psgate.CodeShuttingDown, nil)
	}
	g.log.Info("shell adopted", logKeyShellID, s.id, "kind", s.kind, logKeyTenant, s.owner.Tenant, logKeyUser, s.owner.UPN)
	return nil
}

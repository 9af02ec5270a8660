package gateway

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/wsman"
)

// Shell kinds.
const (
	kindWinRS = psgate.KindWinRS
	kindPSRP  = psgate.KindPSRP
)

// shell is one open shell: a WinRS command shell or a PSRP runspace pool.
type shell struct {
	id          string
	resourceURI string
	kind        psgate.ShellKind
	owner       psgate.Principal
	name        string
	clientIP    string
	userAgent   string
	created     time.Time
	grant       grant
	// maxIdle is the longest idle timeout the shell may have: the
	// admission grant's, before the client shortened it on Create. It is
	// rsp:MaxIdleTimeOut, which Disconnect-PSSession -IdleTimeoutSec is
	// checked against on the client.
	maxIdle     time.Duration
	inputs      []string
	outputs     []string
	compression string

	// partial is the shell's account of unfinished PSRP data; nil for
	// WinRS shells. closeShell closes it.
	partial *account

	// replay answers a data operation sent again with the answer it got
	// (see replayCache).
	replay replayCache

	// done is closed when the shell closes; closeErr then says why.
	done chan struct{}

	mu         sync.Mutex
	lastActive time.Time
	state      string // "Connected" or "Disconnected"
	closed     bool
	closeErr   *psgate.Error
	plugin     plugin
	// ops counts the data operations (Command, Send, Receive, Signal)
	// in flight, each until its response is written: a Disconnect waits
	// for them ([MS-WSMV] §3.1.4.15).
	ops int
	// detaching is set while a Disconnect waits for ops to drain; no new
	// data operation starts meanwhile.
	detaching bool
	// detach is closed when a Disconnect begins, so that pending Receives
	// answer at once with the output they have; Reconnect and Connect
	// replace it.
	detach chan struct{}
	// drained is closed when ops drops to zero while detaching.
	drained chan struct{}
	// move is set while HandOff moves the shell to another node: no
	// data operation starts until FinishHandOff ends it.
	move *shellMove
	// moveWake is closed when a hand-over begins, so that a pending
	// Receive answers at once (see moveWakeLocked).
	moveWake chan struct{}
}

// shellMove is one hand-over of a shell in progress.
type shellMove struct {
	// done is closed by FinishHandOff; adopted is set before.
	done    chan struct{}
	adopted bool
}

// grant is what admission allowed the shell: its limits, and the
// authorizer trimming its commands.
type grant struct {
	psgate.Grant
	Authorizer engine.Authorizer
}

// plugin is what a shell kind implements.
type plugin interface {
	command(ctx context.Context, req *request) (commandID string, err error)
	send(ctx context.Context, req *request) error
	receive(ctx context.Context, req *request, wait time.Duration) (wsman.ReceiveResult, error)
	signal(ctx context.Context, req *request) error
	// close stops everything the shell runs. It must not block on clients.
	close()
	// settled reports that no command's output or end is left for the
	// client to receive.
	settled() bool
}

// beginOp admits a data operation on a connected shell; it returns the
// channel a Disconnect closes to wake the operation. Every successful
// beginOp must be matched by endOp once the operation's response has been
// written.
func (s *shell) beginOp() (<-chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.move != nil {
		// Handed over right now: wait for the outcome, which HandOff's
		// caller always reports (FinishHandOff) within its own deadline.
		mv := s.move
		s.mu.Unlock()
		<-mv.done
		s.mu.Lock()
		if mv.adopted {
			return nil, errShellMoved
		}
	}
	if s.state == "Disconnected" || s.detaching {
		return nil, psgate.E(psgate.CodeShellDisconnected, nil)
	}
	if s.detach == nil {
		s.detach = make(chan struct{})
	}
	s.ops++
	return s.detach, nil
}

func (s *shell) endOp() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops--
	if s.ops == 0 && s.drained != nil {
		close(s.drained)
		s.drained = nil
	}
}

// beginDisconnect stops new data operations, wakes the pending Receives
// and returns a channel closed once every operation in flight has written
// its response.
func (s *shell) beginDisconnect() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != "Disconnected" && !s.detaching {
		s.detaching = true
		if s.detach == nil {
			s.detach = make(chan struct{})
		}
		close(s.detach)
	}
	if s.ops == 0 {
		done := make(chan struct{})
		close(done)
		return done
	}
	if s.drained == nil {
		s.drained = make(chan struct{})
	}
	return s.drained
}

// endDisconnect ends a Disconnect: the shell is Disconnected with idle
// timeout idle (zero keeps the current one), or, when the operations in
// flight did not drain (ok false), Connected as before.
func (s *shell) endDisconnect(ok bool, idle time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.detaching && s.state == "Disconnected" {
		ok = true // another Disconnect finished meanwhile
	}
	s.detaching = false
	if !ok {
		s.detach = make(chan struct{})
		return
	}
	s.state = "Disconnected"
	if idle > 0 {
		s.grant.IdleTimeout = s.idleFor(idle)
	}
}

// reattach marks the shell Connected again (Reconnect, Connect).
func (s *shell) reattach() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = "Connected"
	if !s.detaching {
		s.detach = make(chan struct{})
	}
}

// idleTimeout is the shell's current idle timeout (Disconnect changes it).
func (s *shell) idleTimeout() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grant.IdleTimeout
}

// closeReason is why the shell closed, or nil while it is open.
func (s *shell) closeReason() *psgate.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeErr
}

func (s *shell) touch(now time.Time) {
	s.mu.Lock()
	s.lastActive = now
	s.mu.Unlock()
}

// ownedBy reports whether p may address the shell: the same user of the
// same tenant. Any other caller is told the shell does not exist.
func (s *shell) ownedBy(p psgate.Principal) bool {
	return s.owner.TenantID == p.TenantID && s.owner.UserID == p.UserID
}

// markClosed records why the shell closed; it reports false if it already
// was closed.
func (s *shell) markClosed(reason *psgate.Error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.closed = true
	s.closeErr = reason
	close(s.done)
	return true
}

func (s *shell) info(now time.Time) wsman.ShellInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return wsman.ShellInfo{
		ShellID:         s.id,
		ResourceURI:     s.resourceURI,
		Owner:           s.owner.UPN,
		ClientIP:        s.clientIP,
		Name:            s.name,
		State:           s.state,
		CompressionMode: s.compression,
		BufferMode:      "Block",
		IdleTimeout:     wireIdle(s.grant.IdleTimeout),
		MaxIdleTimeout:  wireIdle(s.maxIdle),
		ShellRunTime:    now.Sub(s.created),
		ShellInactivity: now.Sub(s.lastActive),
		InputStreams:    s.inputs,
		OutputStreams:   s.outputs,
		PowerShell:      s.kind == kindPSRP,
	}
}

// unlimitedIdle is how "no idle limit" travels in rsp:IdleTimeOut and
// rsp:MaxIdleTimeOut: PT2147483.647S, the largest int32 of milliseconds,
// WinRM's own maximum. PowerShell copies both into its ConnectionInfo and
// Disconnect-PSSession refuses an IdleTimeout under 60 s or over
// MaxIdleTimeout, so zero must never be sent.
const unlimitedIdle = 2147483647 * time.Millisecond

// wireIdle is an idle timeout as rsp:IdleTimeOut/MaxIdleTimeOut report it.
func wireIdle(d time.Duration) time.Duration {
	if d <= 0 || d > unlimitedIdle {
		return unlimitedIdle
	}
	return d
}

// idleFor is the idle timeout a client asked for (on Create or
// Disconnect), capped at the shell's maximum; zero asks for nothing, and
// asking for the unlimited value keeps a shell without limit unlimited.
func (s *shell) idleFor(asked time.Duration) time.Duration {
	if asked <= 0 || s.maxIdle > 0 && asked > s.maxIdle || s.maxIdle == 0 && asked >= unlimitedIdle {
		return s.maxIdle
	}
	return asked
}

// registry holds the open shells of this node, and tombstones of recently
// closed ones so that a client addressing a shell closed by a timer is told
// why rather than just "not found".
type registry struct {
	mu         sync.RWMutex
	shells     map[string]*shell
	tombstones map[string]tombstone
}

type tombstone struct {
	owner psgate.Principal
	err   *psgate.Error
	at    time.Time
}

const (
	tombstoneTTL = time.Hour
	maxTombstone = 100000
)

func newRegistry() *registry {
	return &registry{shells: make(map[string]*shell), tombstones: make(map[string]tombstone)}
}

func shellKey(id string) string { return strings.ToUpper(id) }

func (r *registry) get(id string) (*shell, bool) {
	r.mu.RLock()
	s, ok := r.shells[shellKey(id)]
	r.mu.RUnlock()
	return s, ok
}

// add registers s; it reports false when the id is taken.
func (r *registry) add(s *shell) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := shellKey(s.id)
	if _, ok := r.shells[k]; ok {
		return false
	}
	r.shells[k] = s
	return true
}

func (r *registry) remove(s *shell, why *psgate.Error, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := shellKey(s.id)
	if cur, ok := r.shells[k]; ok && cur == s {
		delete(r.shells, k)
	}
	if why == nil {
		return
	}
	if len(r.tombstones) >= maxTombstone {
		for id, t := range r.tombstones {
			if now.Sub(t.at) > tombstoneTTL || len(r.tombstones) >= maxTombstone {
				delete(r.tombstones, id)
			}
		}
	}
	r.tombstones[k] = tombstone{owner: s.owner, err: why, at: now}
}

// closedReason returns why a shell the principal owned was closed.
func (r *registry) closedReason(id string, p psgate.Principal, now time.Time) (*psgate.Error, bool) {
	r.mu.RLock()
	t, ok := r.tombstones[shellKey(id)]
	r.mu.RUnlock()
	if !ok || now.Sub(t.at) > tombstoneTTL {
		return nil, false
	}
	if t.owner.TenantID != p.TenantID || t.owner.UserID != p.UserID {
		return nil, false
	}
	return t.err, true
}

func (r *registry) all() []*shell {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*shell, 0, len(r.shells))
	for _, s := range r.shells {
		out = append(out, s)
	}
	return out
}

func (r *registry) count() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.shells)
}

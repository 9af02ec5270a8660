package client

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/psgate/psgate"
)

// Reconnecting runs commands on a session that it replaces when it is
// lost: closed by the server (lifetime, idle timeout, removal), or after a
// dropped connection. Expired tokens are refreshed below it, by the
// session's TokenSource. A command that had not started on the lost
// session is run on the new one; a command that may have run is reported
// as client.command-interrupted and never run twice.
type Reconnecting struct {
	cfg    Config
	notify func(msg string)

	mu         sync.Mutex
	s          *Session
	reconnects int
	// afterCommand is copied to every session (tests).
	afterCommand func()
}

// maxAttempts bounds how often one command is retried on new sessions.
const maxAttempts = 3

// DialReconnecting opens a session in reconnection mode. notify, when not
// nil, receives a one-line notice each time a lost session is replaced.
func DialReconnecting(ctx context.Context, cfg Config, notify func(msg string)) (*Reconnecting, error) {
	r := &Reconnecting{cfg: cfg, notify: notify}
	if _, err := r.session(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Session returns the current session (nil after a loss, until the next
// Run opens a new one).
func (r *Reconnecting) Session() *Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.s
}

// Reconnects counts the sessions opened to replace lost ones.
func (r *Reconnecting) Reconnects() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reconnects
}

// session returns the current session, opening one when there is none.
func (r *Reconnecting) session(ctx context.Context) (*Session, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.s != nil {
		return r.s, nil
	}
	s, err := Dial(ctx, r.cfg)
	if err != nil {
		return nil, err
	}
	s.afterCommand = r.afterCommand
	r.s = s
	return s, nil
}

// lost forgets s after it failed with cause.
func (r *Reconnecting) lost(s *Session, cause error) {
	r.mu.Lock()
	if r.s == s {
		r.s = nil
	}
	r.mu.Unlock()
	if connectionLost(cause) {
		// The shell may still exist: free its quota slot if the server
		// can be reached again.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = s.Close(ctx)
		cancel()
	}
	s.closed.Store(true)
}

// reopen opens the replacement session and prints the notice.
func (r *Reconnecting) reopen(ctx context.Context, old *Session, cause error) (*Session, error) {
	s, err := r.session(ctx)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.reconnects++
	r.mu.Unlock()
	if r.notify != nil {
		r.notify(fmt.Sprintf("psgate: session %s was lost (%s); continuing in new session %s", old.ID(), psgate.CodeOf(cause), s.ID()))
	}
	return s, nil
}

// Run runs cmd, replacing the session when it is lost (see Reconnecting).
func (r *Reconnecting) Run(ctx context.Context, cmd Command, opts RunOptions) (*Result, error) {
	s, err := r.session(ctx)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		res, started, err := s.run(ctx, cmd, opts)
		if err == nil || ctx.Err() != nil || !(sessionGone(err) || connectionLost(err)) {
			return res, err
		}
		r.lost(s, err)
		if started {
			e := psgate.E(psgate.CodeCommandInterrupted, psgate.Args{"command": cmd.String()})
			e.Err = err
			// Open the replacement now, so the notice comes with the
			// report; if that fails the next Run tries again.
			_, _ = r.reopen(ctx, s, err)
			return res, e
		}
		if attempt >= maxAttempts {
			return res, err
		}
		if s, err = r.reopen(ctx, s, err); err != nil {
			return nil, err
		}
	}
}

// Close closes the current session.
func (r *Reconnecting) Close(ctx context.Context) error {
	r.mu.Lock()
	s := r.s
	r.s = nil
	r.mu.Unlock()
	if s == nil {
		return nil
	}
	return s.Close(ctx)
}

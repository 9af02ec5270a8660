package gateway

import (
	"context"
	"errors"
)

// OpsInFlight reports how many data operations (Receives among them) a
// shell of g is serving, so that a test knows a Receive is pending before
// it hands the shell over.
func (g *Gateway) OpsInFlight(shellID string) int {
	s, ok := g.shells.get(shellID)
	if !ok {
		return -1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ops
}

// AwaitMove finds the shell id now and returns awaitMove for it.
func (g *Gateway) AwaitMove(shellID string) func(ctx context.Context) error {
	s, ok := g.shells.get(shellID)
	if !ok {
		return func(context.Context) error { return errors.New("no such shell") }
	}
	return func(ctx context.Context) error { return g.awaitMove(ctx, s) }
}

// ErrShellMoved is errShellMoved.
var ErrShellMoved = errShellMoved

package gateway

import (
	"context"
	"fmt"
	"time"
)

// settleEvery is how often Shutdown looks whether the shells have settled.
const settleEvery = 20 * time.Millisecond

// settle waits, once no new command is accepted, until the running
// commands have ended and every connected shell's client has collected
// their output and final state, or ctx ends. The listeners keep serving
// meanwhile, so a command that was running when the drain began reaches
// its client whole.
func (g *Gateway) settle(ctx context.Context) error {
	ran := make(chan struct{})
	go func() { g.wg.Wait(); close(ran) }()
	select {
	case <-ran:
	case <-ctx.Done():
		return fmt.Errorf("gateway: shutdown: commands still running: %w", ctx.Err())
	}
	t := time.NewTicker(settleEvery)
	defer t.Stop()
	for !g.settled() {
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("gateway: shutdown: output not yet collected by its clients: %w", ctx.Err())
		}
	}
	return nil
}

// settled reports whether no connected shell holds a command whose output
// or end its client has yet to receive. A disconnected shell's client is
// not there to receive: it counts as settled.
func (g *Gateway) settled() bool {
	for _, s := range g.shells.all() {
		s.mu.Lock()
		away := s.state == "Disconnected"
		s.mu.Unlock()
		if !away && !s.plugin.settled() {
			return false
		}
	}
	return true
}

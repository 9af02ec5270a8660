package psrp

import (
	"errors"
	"fmt"

	"github.com/psgate/psgate/internal/recent"
	"github.com/psgate/psgate/psobject"
)

// ErrPoolBusy is returned by Snapshot while the pool holds a pipeline:
// one being created, running, or ended with output its client has not
// collected. Such a pool cannot move to another process.
var ErrPoolBusy = errors.New("psrp: the runspace pool holds a pipeline")

// PoolSnapshot is everything a ServerPool knows that its ServerConfig does
// not: with the same configuration, RestoreServerPool builds a pool that
// answers the next message exactly as the original would. It holds no
// pipeline (Snapshot refuses then) and no session key: the pool answers
// PUBLIC_KEY with a fresh key and never keeps it, SecureString values
// being refused rather than decrypted. Its fields marshal to JSON.
type PoolSnapshot struct {
	// RPID is the pool id the pool answers with (the client's byte order
	// once it sent one).
	RPID    string            `json:"rpid"`
	Version psobject.Version  `json:"version,omitempty"`
	State   RunspacePoolState `json:"state"`
	MinRS   int32             `json:"min_runspaces"`
	MaxRS   int32             `json:"max_runspaces"`
	Host    HostInfo          `json:"host"`
	// Retired lists the pipelines retired lately, oldest first: late
	// Signals and Sends for them still succeed after the move.
	Retired []string `json:"retired,omitempty"`
}

// Idle reports whether the pool holds no pipeline, so that Snapshot would
// succeed on an open pool.
func (p *ServerPool) Idle() bool { return len(p.pipes) == 0 }

// Snapshot captures the pool for RestoreServerPool. It refuses with
// ErrPoolBusy while the pool holds a pipeline and with ErrPoolClosed once
// the pool is closed or broken. It changes nothing.
func (p *ServerPool) Snapshot() (PoolSnapshot, error) {
	if p.state.Terminal() {
		return PoolSnapshot{}, ErrPoolClosed
	}
	if n := len(p.pipes); n > 0 {
		return PoolSnapshot{}, fmt.Errorf("%w: %d pipeline(s) not yet retired", ErrPoolBusy, n)
	}
	return PoolSnapshot{
		RPID:    p.rpid.String(),
		Version: p.version,
		State:   p.state,
		MinRS:   p.minRS,
		MaxRS:   p.maxRS,
		Host:    p.host,
		Retired: guidStrings(p.finished.All()),
	}, nil
}

// RestoreServerPool rebuilds the pool snap was taken of. cfg should be the
// original's (its RPID is ignored: the snapshot's wins).
func RestoreServerPool(cfg ServerConfig, snap PoolSnapshot) (*ServerPool, error) {
	rpid, err := ParseGUID(snap.RPID)
	if err != nil {
		return nil, fmt.Errorf("psrp: restore pool: rpid %q: %w", snap.RPID, err)
	}
	if snap.State.Terminal() || snap.State < PoolBeforeOpen || snap.State > PoolDisconnected {
		return nil, fmt.Errorf("psrp: restore pool: state %v cannot be restored", snap.State)
	}
	if snap.Version != "" {
		if _, err := AcceptProtocolVersion(snap.Version); err != nil {
			return nil, fmt.Errorf("psrp: restore pool: %w", err)
		}
	}
	if len(snap.Retired) > recent.Size {
		return nil, fmt.Errorf("psrp: restore pool: %d retired pipelines, at most %d", len(snap.Retired), recent.Size)
	}
	cfg.RPID = rpid
	p := NewServerPool(cfg)
	p.version, p.state, p.minRS, p.maxRS, p.host = snap.Version, snap.State, snap.MinRS, snap.MaxRS, snap.Host
	for _, s := range snap.Retired {
		pid, err := ParseGUID(s)
		if err != nil {
			return nil, fmt.Errorf("psrp: restore pool: retired pipeline %q: %w", s, err)
		}
		p.finished.Add(pid)
	}
	return p, nil
}

// guidStrings spells ids as a snapshot carries them.
func guidStrings(ids []GUID) []string {
	if ids == nil {
		return nil
	}
	out := make([]string, len(ids))
	for i, g := range ids {
		out[i] = g.String()
	}
	return out
}

// Package gctune lets a server trade a bounded amount of memory for less
// garbage-collection work.
//
// Go's default (GOGC=100) collects whenever the heap has grown by as much
// as was live after the last collection. A gateway's live heap is small
// next to what it allocates per request, so it collects very often: at
// 100 concurrent clients, GC was a sixth of psgate's CPU. Raising GOGC
// fixes that for a small heap but multiplies a large one (100,000 idle
// shells are 1.5 GiB live; GOGC=400 would let the heap reach 7.5 GiB).
// Tune instead grants the collector a fixed headroom: after each
// collection it sets the GC percentage so that the heap may grow by
// Headroom over what is live, between 100 (Go's default, never less) and
// Max. A small heap gets the high percentage; a large one gets Go's
// default behaviour.
package gctune

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Config sets the headroom. Zero values take the defaults.
type Config struct {
	// Headroom is how much the heap may grow over what is live; 0 means
	// 256 MiB.
	Headroom uint64
	// Max caps the GC percentage; 0 means 400.
	Max int
	// Every is how often the live heap is read; 0 means one second.
	Every time.Duration
}

// Percent returns the GC percentage that grants headroom over live,
// clamped to [100, max].
func Percent(live, headroom uint64, max int) int {
	if live == 0 {
		return max
	}
	p := headroom * 100 / live
	switch {
	case p < 100:
		return 100
	case p > uint64(max):
		return max
	}
	return int(p)
}

// Run adjusts the GC percentage until ctx ends, then restores the one it
// found. The caller decides whether to run it at all: an operator who set
// GOGC has chosen.
func Run(ctx context.Context, cfg Config) {
	if cfg.Headroom == 0 {
		cfg.Headroom = 256 << 20
	}
	if cfg.Max == 0 {
		cfg.Max = 400
	}
	if cfg.Every == 0 {
		cfg.Every = time.Second
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return sample[0].Value.Uint64()
	}
	cur := Percent(read(), cfg.Headroom, cfg.Max)
	prev := debug.SetGCPercent(cur)
	defer debug.SetGCPercent(prev)
	t := time.NewTicker(cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Change only by a quarter or more: SetGCPercent has a cost.
		if p := Percent(read(), cfg.Headroom, cfg.Max); p*4 < cur*3 || p*4 > cur*5 {
			debug.SetGCPercent(p)
			cur = p
		}
	}
}

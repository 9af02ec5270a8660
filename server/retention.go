package server

import (
	"context"
	"time"

	"github.com/psgate/psgate/internal/logkey"
	"github.com/psgate/psgate/store"
)

// DefaultAuditRetention is how long the audit log keeps records unless
// configured otherwise: 180 days.
const DefaultAuditRetention = 180 * 24 * time.Hour

// The retention purge shares the store's writer with every command's audit
// records, so it deletes in small batches and rests between them: a batch
// of purgeBatch records, then purgeRest times as long as that batch took
// (at least purgeMinRest) with the writer free. A backlog of millions of
// records (a node back after weeks, a shorter retention) thus costs the
// commands running meanwhile at most a fifth of the writer, instead of
// all of it until the backlog is gone: on SQLite, one 5,000-record delete
// held the writer for half a second, and a 3-million-record backlog held
// commands to 8 a second (bench/README.md, "Retention").
const (
	purgeBatch   = 1000
	purgeRest    = 4
	purgeMinRest = 10 * time.Millisecond
)

// retainAudit purges audit records older than the retention period, at
// start and then every hour, until ctx ends. With several nodes on one
// store each purges; the deletes are idempotent.
func (s *Server) retainAudit(ctx context.Context) {
	keep := s.cfg.AuditRetention
	if keep == 0 {
		keep = DefaultAuditRetention
	}
	if keep < 0 {
		return
	}
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		before := s.cfg.Now().Add(-keep)
		n, err := store.PurgeBefore(ctx, s.store, before, purgeBatch, pause)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Error("audit retention: purge failed", "before", before, "purged", n, logkey.Err, err)
		case n > 0:
			s.log.Info("audit retention: purged old records", "count", n, "before", before)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// pause waits purgeRest times took, at least purgeMinRest, and reports
// whether ctx is still live.
func pause(ctx context.Context, took time.Duration) bool {
	wait(ctx, max(purgeRest*took, purgeMinRest))
	return ctx.Err() == nil
}

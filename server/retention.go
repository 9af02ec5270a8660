package server

import (
	"context"
	"time"

	"github.com/psgate/psgate/internal/logkey"
)

// DefaultAuditRetention is how long the audit log keeps records unless
// configured otherwise: 180 days.
const DefaultAuditRetention = 180 * 24 * time.Hour

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
		n, err := s.store.PurgeAudit(ctx, before)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Error("audit retention: purge failed", "before", before, logkey.Err, err)
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

package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"

	"github.com/psgate/psgate/internal/logkey"
	"github.com/psgate/psgate/metrics"
	"github.com/psgate/psgate/store"
)

// Health endpoints. On the admin listener they are at the root; with
// Config.HealthOnPublic the public listeners serve them under PublicHealth.
const (
	PathHealthz  = "/healthz"
	PathReadyz   = "/readyz"
	PathMetrics  = "/metrics"
	PublicHealth = "/psgate"
)

// Readiness bounds: a store that does not answer a ping within
// pingTimeout is unreachable, and one ping answers every readiness
// question asked within pingReuse (a load balancer polling the public
// /psgate/readyz cannot turn into load on the store).
const (
	pingTimeout = 2 * time.Second
	pingReuse   = time.Second
)

// newMetrics creates the server's metrics, reading the gateway's shells
// and the lease keeper's state when Prometheus scrapes. The gateway and
// the admitter are created after it (they report to it), so the readers
// look them up when called.
func (s *Server) newMetrics() (*metrics.Metrics, error) {
	return metrics.New(metrics.Config{
		TopTenants: s.cfg.MetricsTopTenants,
		Shells: func() []metrics.ShellCount {
			if s.gw == nil {
				return nil
			}
			counts := s.gw.ShellCounts()
			out := make([]metrics.ShellCount, len(counts))
			for i, c := range counts {
				out[i] = metrics.ShellCount{Tenant: c.Tenant, Kind: c.Kind, Disconnected: c.Disconnected, Shells: c.Shells}
			}
			return out
		},
		Lease: func() metrics.LeaseState {
			if s.adm == nil {
				return metrics.LeaseState{}
			}
			st := s.adm.Status()
			return metrics.LeaseState{Registered: st.Registered, Draining: st.Draining || st.Closed || s.stopping.Load(), Deadline: st.Deadline}
		},
	})
}

// Metrics returns the server's metrics (served on the admin listener).
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// adminRoutes is the admin listener's mux: metrics, health and pprof.
// The pprof handlers are mounted here explicitly; http.DefaultServeMux,
// where importing net/http/pprof also puts them, is never served.
func (s *Server) adminRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(PathMetrics, s.metrics.Handler())
	mux.HandleFunc(PathHealthz, s.serveHealthz)
	mux.HandleFunc(PathReadyz, func(w http.ResponseWriter, r *http.Request) { s.serveReadyz(w, r, true) })
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "psgate admin: %s %s %s /debug/pprof/\n", PathMetrics, PathHealthz, PathReadyz)
	})
	return mux
}

// serveHealthz answers 200 while the process serves HTTP at all.
func (s *Server) serveHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// serveReadyz answers 200 when the node should get new sessions, else 503
// with the reasons, one a line. detail adds the store's error text, which
// only the admin listener shows.
func (s *Server) serveReadyz(w http.ResponseWriter, r *http.Request, detail bool) {
	reasons := s.Readiness(r.Context(), detail)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if len(reasons) == 0 {
		_, _ = w.Write([]byte("ready\n"))
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	var b strings.Builder
	b.WriteString("not ready\n")
	for _, r := range reasons {
		b.WriteString("- " + r + "\n")
	}
	_, _ = w.Write([]byte(b.String()))
}

// Readiness returns why the node should not get new sessions now, or
// nothing when it is ready: the listeners serve, it is not shutting down
// or draining, it holds a registration whose leases were renewed before
// their deadline, and the store answers a ping. detail adds the store's
// error to its reason.
func (s *Server) Readiness(ctx context.Context, detail bool) []string {
	var reasons []string
	if s.stopping.Load() {
		reasons = append(reasons, "shutting down")
	}
	if n := s.serving.Load(); int(n) < s.publicListeners() {
		reasons = append(reasons, fmt.Sprintf("listeners: %d of %d serving", n, s.publicListeners()))
	}
	st := s.adm.Status()
	now := s.cfg.Now()
	switch {
	case st.Closed:
		if !s.stopping.Load() {
			reasons = append(reasons, "shutting down")
		}
	case !st.Registered:
		reasons = append(reasons, "node not registered in the store")
	case !now.Before(st.Deadline):
		reasons = append(reasons, "leases not renewed before their deadline "+st.Deadline.UTC().Format(time.RFC3339))
	}
	if st.Draining {
		reasons = append(reasons, "draining (psgate node undrain admits sessions again)")
	}
	if err := s.ping.check(ctx, s.store, s.adm.NodeID()); err != nil {
		msg := "store unreachable"
		if detail {
			msg += ": " + err.Error()
		}
		reasons = append(reasons, msg)
	}
	s.noteReadiness(reasons)
	return reasons
}

// noteReadiness logs when readiness changes.
func (s *Server) noteReadiness(reasons []string) {
	ready := len(reasons) == 0
	if s.notReady.Swap(!ready) == !ready {
		return
	}
	if ready {
		s.log.Info("ready")
		return
	}
	s.log.Warn("not ready", logkey.Reason, strings.Join(reasons, "; "))
}

func (s *Server) publicListeners() int {
	n := 0
	if s.httpLn != nil {
		n++
	}
	if s.httpsLn != nil {
		n++
	}
	return n
}

// storePing pings the store at most once per pingReuse, serialising
// callers: concurrent readiness checks share one ping.
type storePing struct {
	mu  sync.Mutex
	at  time.Time
	err error
}

// check reads this node's record, a primary-key read both stores serve
// from their database. A missing record is a reachable store (the lease
// keeper registers again).
func (p *storePing) check(ctx context.Context, st store.Store, nodeID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.at.IsZero() && time.Since(p.at) < pingReuse {
		return p.err
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pingTimeout)
	defer cancel()
	_, err := st.Node(pctx, nodeID)
	if errors.Is(err, store.ErrNotFound) {
		err = nil
	}
	p.at, p.err = time.Now(), err
	return err
}

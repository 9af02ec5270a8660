package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/psgate/psgate/cluster"
)

// ClusterConfig joins a node to the other nodes sharing its PostgreSQL
// store: they forward requests for its shells to its internal listener,
// and it forwards to theirs.
type ClusterConfig struct {
	// Listen is the internal listener's address (mutual TLS with the
	// cluster authority's certificates). Empty: no internal link; a
	// request for a shell on another node is refused with
	// session.other-node.
	Listen string
	// URL is how peers reach the internal listener; empty derives it
	// from Listen (https://host:port, the machine's name for a wildcard
	// address).
	URL string
	// CA, Cert and Key are PEM files: the cluster authority's certificate
	// and this node's certificate and key (psgate cluster init, psgate
	// cluster cert).
	CA, Cert, Key string
	// AffinityCookie sets the psgate_node cookie on Create, naming this
	// node, for load balancers that persist on it.
	AffinityCookie bool
	// LeaseTTL, LeaseRenew and LeaseMargin time the quota leases: how
	// long one lives unrenewed (45s), how often the node renews them
	// (10s), and how long before a lease could expire the node stops
	// trusting it (5s). A node that died frees its slots within LeaseTTL.
	LeaseTTL, LeaseRenew, LeaseMargin time.Duration
}

// validate checks the timings against each other.
func (c ClusterConfig) validate() error {
	ttl, renew, margin := c.LeaseTTL, c.LeaseRenew, c.LeaseMargin
	if ttl == 0 && renew == 0 && margin == 0 {
		return nil
	}
	if ttl <= 0 || renew <= 0 || margin <= 0 {
		return errors.New("server: lease timings: set all three of the lease TTL, renewal period and margin, or none")
	}
	if renew+margin >= ttl {
		return fmt.Errorf("server: lease timings: the renewal period (%s) plus the margin (%s) must be shorter than the TTL (%s), or a healthy node would lose its shells", renew, margin, ttl)
	}
	return nil
}

// openCluster loads the node's cluster certificates and binds the internal
// listener when one is configured.
func (s *Server) openCluster() error {
	c := s.cfg.Cluster
	if c.Listen == "" {
		if c.CA != "" || c.Cert != "" || c.Key != "" {
			return errors.New("server: cluster certificates are set but no internal listener: set cluster.listen too")
		}
		return nil
	}
	if s.cfg.StoreDSN == "" {
		return errors.New("server: an internal listener (cluster.listen) links nodes that share a PostgreSQL store: set store.dsn too")
	}
	t, err := cluster.LoadTLS(c.CA, c.Cert, c.Key)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	s.clusterTLS = t
	if s.internalLn, err = listen(c.Listen, "internal", "--cluster-listen"); err != nil {
		return err
	}
	s.internalURL = c.URL
	if s.internalURL == "" {
		s.internalURL = "https://" + reachable(s.internalLn.Addr())
	}
	s.internalURL = strings.TrimSuffix(s.internalURL, "/")
	return nil
}

// internalRoutes serves peers: the requests they forward, and the
// questions they ask about this node's shells.
func (s *Server) internalRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(cluster.PathShells, cluster.ServeShells(s.gw))
	mux.HandleFunc(cluster.PathAdopt, s.serveAdopt)
	mux.HandleFunc("/", s.gw.ServePeer)
	return mux
}

// internalServer is the internal listener's HTTP server.
func (s *Server) internalServer(log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           bodyDeadline(s.internalRoutes(), s.cfg.BodyTimeout),
		TLSConfig:         s.clusterTLS.Server.Clone(),
		MaxHeaderBytes:    64 << 10,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// InternalAddr is the internal listener's address ("" without one).
func (s *Server) InternalAddr() string {
	if s.internalLn == nil {
		return ""
	}
	return s.internalLn.Addr().String()
}

// Peers returns the node's link to the other nodes (nil without a
// PostgreSQL store).
func (s *Server) Peers() *cluster.Peers { return s.peers }

package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/gateway"
	"github.com/psgate/psgate/internal/logkey"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/wsman"
)

// Store is what Peers reads: the leases that say which node holds a
// shell, and the nodes' registrations.
type Store interface {
	Lease(ctx context.Context, shellID string) (store.Lease, error)
	Leases(ctx context.Context, f store.LeaseFilter) ([]store.Lease, error)
	ListNodes(ctx context.Context, now time.Time) ([]store.Node, error)
}

// Internal paths served on the internal listener besides the forwarded
// WS-Management requests.
const (
	// PathShells answers a peer's Enumerate: the shells of one user on
	// this node (POST, JSON ShellsRequest; JSON []wsman.ShellInfo).
	PathShells = "/psgate/internal/shells"
	// PathAdopt takes over a shell another node hands over.
	PathAdopt = "/psgate/internal/adopt"
)

// ShellsRequest asks a peer for one user's shells.
type ShellsRequest struct {
	TenantID psgate.TenantID `json:"tenant_id"`
	UserID   psgate.UserID   `json:"user_id"`
}

// Config configures Peers.
type Config struct {
	Store Store
	// Self returns this node's incarnation id (it changes when the node
	// registers again) and its name.
	Self func() (id, name string)
	// TLS is the node's side of the links between nodes; nil means no
	// internal link: Forward answers session.other-node.
	TLS *TLS
	// DialTimeout bounds connecting to a peer; 0 means 2s. A peer that
	// does not accept in that time is unreachable.
	DialTimeout time.Duration
	// CacheTTL is how long a shell's owner is remembered; 0 means 5s. A
	// stale answer costs one misdirected hop, never a wrong answer.
	CacheTTL time.Duration
	// NodesTTL is how long the list of live nodes is reused; 0 means 1s.
	NodesTTL time.Duration
	Logger   *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Peers finds the node owning a shell and forwards requests to it. It
// implements gateway.Peers.
type Peers struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client

	// refresh lets one request at a time read the node list.
	refresh sync.Mutex
	mu      sync.Mutex
	owners  map[string]owner // shell id → owner, remembered for CacheTTL
	nodes   map[string]store.Node
	// refused marks nodes whose internal listener refused a connection:
	// gone, whatever their registration still says.
	refused map[string]bool
	nodesAt time.Time
	spare   atomic.Uint64
}

type owner struct {
	lease store.Lease
	at    time.Time
}

// maxOwners bounds the owner cache; past it the cache starts over.
const maxOwners = 100_000

// New returns Peers for cfg.
func New(cfg Config) (*Peers, error) {
	if cfg.Store == nil || cfg.Self == nil {
		return nil, errors.New("cluster: Config.Store and Config.Self are required")
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 2 * time.Second
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 5 * time.Second
	}
	if cfg.NodesTTL == 0 {
		cfg.NodesTTL = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Peers{cfg: cfg, log: log, owners: map[string]owner{}, refused: map[string]bool{}}
	if cfg.TLS != nil {
		// HTTP/1.1 with kept-alive connections: HTTP/2 between the nodes
		// cost twice the time per forwarded request (separate encrypted
		// records for headers and body, a goroutine hand-off per frame;
		// bench/README.md, "Cluster"), and its multiplexing saves only
		// connections, which a node has plenty of. A long poll holds one
		// connection while it waits.
		dialer := &net.Dialer{Timeout: cfg.DialTimeout,
			// Finds a peer that vanished (a partition, a machine that
			// died without closing its connections) while a long poll
			// waits on it: within about 15 s.
			KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: 5 * time.Second, Count: 2}}
		protocols := new(http.Protocols)
		protocols.SetHTTP1(true)
		tr := &http.Transport{
			DialContext:         dialer.DialContext,
			TLSClientConfig:     cfg.TLS.Client.Clone(),
			TLSHandshakeTimeout: cfg.DialTimeout + time.Second,
			Protocols:           protocols,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
		}
		p.client = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return p, nil
}

// Client returns the HTTP client for the internal listeners of peers (nil
// without an internal link).
func (p *Peers) Client() *http.Client { return p.client }

// Close closes idle connections to peers.
func (p *Peers) Close() {
	if p.client != nil {
		p.client.CloseIdleConnections()
	}
}

// liveNodes returns the live nodes by incarnation id, read at most every
// NodesTTL.
func (p *Peers) liveNodes(ctx context.Context) (map[string]store.Node, error) {
	fresh := func(now time.Time) (map[string]store.Node, bool) {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.nodes, p.nodes != nil && now.Sub(p.nodesAt) < p.cfg.NodesTTL
	}
	if m, ok := fresh(p.cfg.Now()); ok {
		return m, nil
	}
	// One reader at a time, so that a burst of requests costs one query;
	// the owner cache (p.mu) stays free meanwhile.
	p.refresh.Lock()
	defer p.refresh.Unlock()
	now := p.cfg.Now()
	if m, ok := fresh(now); ok {
		return m, nil
	}
	list, err := p.cfg.Store.ListNodes(ctx, time.Time{})
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if p.nodes != nil {
			// A store hiccup keeps the last view a little longer.
			return p.nodes, nil
		}
		return nil, fmt.Errorf("cluster: list nodes: %w", err)
	}
	m := make(map[string]store.Node, len(list))
	for _, n := range list {
		m[n.ID] = n
	}
	for id := range p.refused {
		if _, ok := m[id]; !ok {
			delete(p.refused, id)
		}
	}
	p.nodes, p.nodesAt = m, now
	return m, nil
}

// Locate implements gateway.Peers.
func (p *Peers) Locate(ctx context.Context, shellID string) (gateway.Location, bool) {
	loc, found, cached := p.locate(ctx, shellID, false)
	if found && loc.Lost && cached {
		// The remembered owner is gone; the shell may have been handed
		// over since: only the store says it is lost.
		loc, found, _ = p.locate(ctx, shellID, true)
	}
	return loc, found
}

// locate is Locate, from the owner cache unless fresh; cached says whether
// the answer came from it.
func (p *Peers) locate(ctx context.Context, shellID string, fresh bool) (_ gateway.Location, found, cached bool) {
	selfID, selfName := p.cfg.Self()
	now := p.cfg.Now()
	p.mu.Lock()
	o, ok := p.owners[shellID]
	p.mu.Unlock()
	cached = ok && !fresh && now.Sub(o.at) < p.cfg.CacheTTL
	if !cached {
		l, err := p.cfg.Store.Lease(ctx, shellID)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				p.log.Warn("cluster: look up a shell's node", logkey.ShellID, shellID, logkey.Err, err)
			}
			p.Forget(shellID)
			return gateway.Location{}, false, false
		}
		o = owner{lease: l, at: now}
		p.mu.Lock()
		if len(p.owners) >= maxOwners {
			p.owners = map[string]owner{}
		}
		p.owners[shellID] = o
		p.mu.Unlock()
	}
	if o.lease.NodeID == selfID {
		// Ours by the store but not in the gateway: it closed, or this
		// is a stale cache entry.
		p.Forget(shellID)
		return gateway.Location{}, false, false
	}
	loc := gateway.Location{Node: o.lease.NodeID, NodeID: o.lease.NodeID, Self: selfName,
		TenantID: o.lease.TenantID, UserID: o.lease.UserID}
	nodes, err := p.liveNodes(ctx)
	if err != nil {
		// Without the node list the owner cannot be reached; say so
		// rather than calling it lost.
		return loc, true, cached
	}
	n, live := nodes[o.lease.NodeID]
	p.mu.Lock()
	refused := p.refused[o.lease.NodeID]
	p.mu.Unlock()
	loc.Lost = !live || refused
	if live {
		loc.Node, loc.URL = n.Name, n.InternalURL
	}
	return loc, true, cached
}

// Forget implements gateway.Peers.
func (p *Peers) Forget(shellID string) {
	p.mu.Lock()
	delete(p.owners, shellID)
	p.mu.Unlock()
}

// Spare implements gateway.Peers: the live nodes that admit shells, in
// turn.
func (p *Peers) Spare(ctx context.Context) (gateway.Location, bool) {
	if p.client == nil {
		return gateway.Location{}, false
	}
	selfID, selfName := p.cfg.Self()
	nodes, err := p.liveNodes(ctx)
	if err != nil {
		return gateway.Location{}, false
	}
	var ok []store.Node
	p.mu.Lock()
	for _, n := range nodes {
		if n.ID != selfID && !n.Draining && n.InternalURL != "" && !p.refused[n.ID] {
			ok = append(ok, n)
		}
	}
	p.mu.Unlock()
	if len(ok) == 0 {
		return gateway.Location{}, false
	}
	// Map order is random; sort for a fair turn.
	slices.SortFunc(ok, func(a, b store.Node) int { return strings.Compare(a.Name, b.Name) })
	n := ok[p.spare.Add(1)%uint64(len(ok))]
	return gateway.Location{Node: n.Name, NodeID: n.ID, URL: n.InternalURL, Self: selfName}, true
}

// forwardTries bounds the sends of one forwarded request over connections
// that turned out to be closed.
const forwardTries = 3

// hopHeaders are not passed on (RFC 9110 §7.6.1).
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// Forward implements gateway.Peers.
func (p *Peers) Forward(w http.ResponseWriter, r *http.Request, body []byte, f gateway.Forwarded, to gateway.Location) error {
	shell := f.Shell
	if p.client == nil || to.URL == "" {
		return psgate.E(psgate.CodeOtherNode, psgate.Args{"shell": shell, "node": to.Node, "self": to.Self})
	}
	ctx := r.Context()
	header := r.Header.Clone()
	for _, h := range hopHeaders {
		header.Del(h)
	}
	// Only this node's word counts for these.
	_, selfName := p.cfg.Self()
	header.Set(gateway.HeaderForwardedBy, selfName)
	header.Set(gateway.HeaderClient, f.Client)
	header.Set(gateway.HeaderAddress, f.Address)
	var resp *http.Response
	for attempt := 1; ; attempt++ {
		// A kept-alive connection the owner closed as the request went
		// out (a node shutting down closes its idle connections) fails
		// the request before the owner read it: send it again, on another
		// connection. A connection the owner had begun to read is never
		// closed under it by a shutdown, and a node that died answers
		// nothing either way.
		var reused bool
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
		out, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost,
			strings.TrimSuffix(to.URL, "/")+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("cluster: forward to %s: %w", to.Node, err)
		}
		out.Header = header.Clone()
		out.Host = r.Host
		out.ContentLength = int64(len(body))
		resp, err = p.client.Do(out)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			// The client left; nothing to answer.
			return ctx.Err()
		}
		if !reused || attempt == forwardTries {
			return p.unreachable(to, shell, err)
		}
		p.log.Info("cluster: a kept-alive connection to a node failed; sending again", logkey.Node, to.NodeID, logkey.Err, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == gateway.StatusMisdirected {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return gateway.ErrMisdirected
	}
	h := w.Header()
	for k, v := range resp.Header {
		h[k] = v
	}
	for _, k := range hopHeaders {
		h.Del(k)
	}
	w.WriteHeader(resp.StatusCode)
	if _, err := io.Copy(w, resp.Body); err != nil {
		p.log.Info("cluster: forwarded answer cut short", logkey.Node, to.NodeID, logkey.Err, err)
	}
	return nil
}

// unreachable turns a failure to reach the owner into its catalog error:
// a refused connection means nothing listens there any more (the node
// died; its registration has not expired yet), anything else may pass.
func (p *Peers) unreachable(to gateway.Location, shell string, err error) error {
	if errors.Is(err, syscall.ECONNREFUSED) {
		p.mu.Lock()
		p.refused[to.NodeID] = true
		p.mu.Unlock()
		p.log.Warn("cluster: a node refused a forwarded request: treating it as gone", logkey.Node, to.NodeID, "node_name", to.Node, logkey.Err, err)
		return psgate.E(psgate.CodeNodeLost, psgate.Args{"shell": shell, "node": to.Node})
	}
	p.log.Warn("cluster: a node did not answer a forwarded request", logkey.Node, to.NodeID, "node_name", to.Node, logkey.Err, err)
	detail := err.Error()
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			detail = inner.Error()
		}
	}
	return psgate.E(psgate.CodeOwnerUnreachable, psgate.Args{"shell": shell, "node": to.Node, "self": to.Self, "detail": detail}).With("retry_after", "5")
}

// Shells implements gateway.Peers: it asks every other live node that
// holds a lease of the user.
func (p *Peers) Shells(ctx context.Context, pr psgate.Principal) []wsman.ShellInfo {
	if p.client == nil {
		return nil
	}
	selfID, _ := p.cfg.Self()
	leases, err := p.cfg.Store.Leases(ctx, store.LeaseFilter{TenantID: pr.TenantID, UserID: pr.UserID})
	if err != nil {
		p.log.Warn("cluster: list a user's shells", logkey.Err, err)
		return nil
	}
	nodes, err := p.liveNodes(ctx)
	if err != nil {
		return nil
	}
	var urls []string
	seen := map[string]bool{}
	for _, l := range leases {
		n, ok := nodes[l.NodeID]
		if l.NodeID == selfID || !ok || n.InternalURL == "" || seen[l.NodeID] {
			continue
		}
		seen[l.NodeID] = true
		urls = append(urls, n.InternalURL)
	}
	body, _ := json.Marshal(ShellsRequest{TenantID: pr.TenantID, UserID: pr.UserID})
	var (
		mu  sync.Mutex
		out []wsman.ShellInfo
		wg  sync.WaitGroup
	)
	for _, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var infos []wsman.ShellInfo
			if err := p.postJSON(ctx, u, PathShells, body, &infos); err != nil {
				p.log.Warn("cluster: a node did not list its shells", "url", u, logkey.Err, err)
				return
			}
			mu.Lock()
			out = append(out, infos...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// Post sends body to path on the internal listener at baseURL.
func (p *Peers) Post(ctx context.Context, baseURL, path, contentType string, body []byte) (*http.Response, error) {
	if p.client == nil {
		return nil, errors.New("cluster: no internal link between the nodes (cluster.listen)")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(baseURL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	_, selfName := p.cfg.Self()
	req.Header.Set(gateway.HeaderForwardedBy, selfName)
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cluster: post to %s%s: %w", baseURL, path, err)
	}
	return resp, nil
}

func (p *Peers) postJSON(ctx context.Context, baseURL, path string, body []byte, into any) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := p.Post(ctx, baseURL, path, "application/json", body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("cluster: %s%s: %s: %s", baseURL, path, resp.Status, bytes.TrimSpace(msg))
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(into); err != nil {
		return fmt.Errorf("cluster: %s%s: %w", baseURL, path, err)
	}
	return nil
}

// ServeShells answers PathShells for a peer with the gateway's shells of
// the user named in the request.
func ServeShells(gw *gateway.Gateway) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var q ShellsRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&q); err != nil || q.TenantID == 0 || q.UserID == 0 {
			http.Error(w, "cluster: a JSON object with tenant_id and user_id", http.StatusBadRequest)
			return
		}
		infos := gw.ShellsOf(psgate.Principal{TenantID: q.TenantID, UserID: q.UserID})
		if infos == nil {
			infos = []wsman.ShellInfo{}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(infos)
	}
}

var _ gateway.Peers = (*Peers)(nil)

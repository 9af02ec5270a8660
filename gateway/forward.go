package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/wsman"
)

// Peers reaches the other gateway nodes sharing this node's store. The
// cluster package implements it; nil (Config.Peers) is a single node.
type Peers interface {
	// Locate finds the node owning a shell this node does not hold.
	// found is false when no live lease names the shell.
	Locate(ctx context.Context, shellID string) (loc Location, found bool)
	// Forget drops what Locate remembers of the shell, after its owner
	// said it no longer holds it.
	Forget(shellID string)
	// Forward sends the request, whose body was already read, to the
	// node at to and copies the answer to w. It returns ErrMisdirected,
	// having written nothing, when that node no longer holds the shell,
	// and a *psgate.Error, having written nothing, when the node cannot
	// be reached (session.node-lost when it is gone,
	// cluster.owner-unreachable when it may be alive). Without an
	// internal link between the nodes it returns session.other-node.
	Forward(w http.ResponseWriter, r *http.Request, body []byte, f Forwarded, to Location) error
	// Spare returns a live node other than this one that admits shells,
	// for the Creates that reach this node while it drains.
	Spare(ctx context.Context) (Location, bool)
	// Shells returns the shells of p's user that other nodes hold, for
	// Enumerate. A node that cannot be reached is left out.
	Shells(ctx context.Context, p psgate.Principal) []wsman.ShellInfo
}

// Location says where a shell lives in a cluster.
type Location struct {
	// Node and Self name the owning node and this one (host:port).
	Node, Self string
	// NodeID is the owner's incarnation; URL its internal listener (empty
	// when it has none).
	NodeID, URL string
	// Lost is true when the owner's registration expired or ended: the
	// node is gone, and the shell with it.
	Lost bool
	// TenantID and UserID own the shell.
	TenantID psgate.TenantID
	UserID   psgate.UserID
}

// Forwarded is what the first node tells the owner about a request it
// forwards: who sent it and where.
type Forwarded struct {
	// Shell is the ShellId the request addresses; empty for a Create.
	Shell string
	// Client is the client's address as the first node established it.
	Client string
	// Address is the URL the client posted to.
	Address string
}

// Headers carrying Forwarded between nodes. They are read only from
// requests that arrive on the internal listener (ServePeer), whose peers
// proved their identity with a cluster certificate.
const (
	HeaderForwardedBy = "Psgate-Forwarded-By"
	HeaderClient      = "Psgate-Client"
	HeaderAddress     = "Psgate-Address"
)

// ErrMisdirected is Forward's answer when the node it was sent to no
// longer holds the shell (it was handed over, or closed): the sender looks
// the shell up again. The owner answers a misdirected forwarded request
// with StatusMisdirected.
var ErrMisdirected = errors.New("gateway: the node no longer holds the shell")

// StatusMisdirected is the HTTP status a node gives a forwarded request
// for a shell it does not hold (421 Misdirected Request).
const StatusMisdirected = http.StatusMisdirectedRequest

// errShellMoved is returned by a shell-addressed action when the shell was
// handed over to another node while the request waited for it; the request
// is then routed to the new owner.
var errShellMoved = errors.New("gateway: the shell moved to another node")

// ServePeer serves a request another node forwarded to this one: the same
// as ServeHTTP (the caller is authenticated and authorized again), except
// that the client address comes from the forwarding node and that a shell
// this node does not hold is answered with StatusMisdirected instead of
// being forwarded again. Mount it only on the internal listener.
func (g *Gateway) ServePeer(w http.ResponseWriter, r *http.Request) {
	if c := r.Header.Get(HeaderClient); c != "" {
		// The client, not the node that forwarded its request, is the
		// peer from here on: authentication counts its sign-ins (lockout,
		// familiar places) and the audit and logs name it. WithContext
		// makes the shallow copy a handler may change.
		r = r.WithContext(r.Context())
		r.RemoteAddr = net.JoinHostPort(c, "0")
	}
	g.serve(w, r, true)
}

// route decides whether another node serves the request: a shell this
// node does not hold, or a Create while this node drains. It reports
// whether the request was answered (forwarded, or refused with err).
// moved is true when the shell was held here until it was handed over
// while the request waited for it.
func (g *Gateway) route(ctx context.Context, w http.ResponseWriter, r *http.Request, body []byte, req *request, moved bool) (bool, error) {
	p := g.cfg.Peers
	env := req.env
	if p == nil || env.Identify {
		return false, nil
	}
	var id string
	switch env.Action {
	case wsman.ActionCreate:
		if req.fromPeer || !g.draining.Load() {
			return false, nil
		}
		to, ok := p.Spare(ctx)
		if !ok {
			return false, nil
		}
		return true, g.forward(w, r, body, req, "", to)
	case wsman.ActionEnumerate:
		if e := env.Enumerate; e != nil {
			id, _ = e.Selector("ShellId")
		}
	case wsman.ActionDelete, wsman.ActionCommand, wsman.ActionSend, wsman.ActionReceive,
		wsman.ActionSignal, wsman.ActionGet, wsman.ActionDisconnect, wsman.ActionReconnect, wsman.ActionConnect:
		id, _ = env.Selector("ShellId")
	}
	if id == "" {
		return false, nil
	}
	if _, ok := g.shells.get(id); ok && !moved {
		return false, nil
	}
	for attempt := 0; ; attempt++ {
		loc, found := p.Locate(ctx, id)
		if !found || loc.TenantID != req.principal.TenantID || loc.UserID != req.principal.UserID {
			// Not a shell of this caller anywhere: the local lookup
			// answers (not found, or why it closed).
			if moved {
				return true, psgate.E(psgate.CodeShellNotFound, psgate.Args{"shell": id})
			}
			return false, nil
		}
		if loc.Lost {
			g.cfg.Observer.Forwarded("node-lost")
			return true, psgate.E(psgate.CodeNodeLost, psgate.Args{"shell": id, "node": loc.Node})
		}
		if req.fromPeer {
			// Never forward twice: the first node looks again.
			g.cfg.Observer.Forwarded("misdirected")
			w.Header().Set(HeaderForwardedBy, loc.Node)
			w.WriteHeader(StatusMisdirected)
			return true, nil
		}
		err := g.forward(w, r, body, req, id, loc)
		switch {
		case errors.Is(err, ErrMisdirected):
			if attempt == 1 {
				return true, psgate.E(psgate.CodeShellNotFound, psgate.Args{"shell": id})
			}
		case psgate.CodeOf(err) == psgate.CodeNodeLost && attempt == 0:
			// The node refused the connection: gone. The shell may have
			// been handed over before it went; the store says.
		default:
			return true, err
		}
		p.Forget(id)
	}
}

// forward sends the request to the node at to, counting the outcome.
func (g *Gateway) forward(w http.ResponseWriter, r *http.Request, body []byte, req *request, shellID string, to Location) error {
	req.logWith(logKeyNode, to.NodeID)
	err := g.cfg.Peers.Forward(w, r, body, Forwarded{Shell: shellID, Client: req.client, Address: req.address}, to)
	var pe *psgate.Error
	switch {
	case err == nil:
		g.cfg.Observer.Forwarded("ok")
	case errors.Is(err, ErrMisdirected):
		g.cfg.Observer.Forwarded("misdirected")
	case errors.As(err, &pe):
		g.cfg.Observer.Forwarded(string(pe.Code))
	default:
		g.cfg.Observer.Forwarded("error")
	}
	return err
}

// BeginDrain makes the node send the Creates it receives to another node
// (Peers.Spare) while the shells it holds finish or are handed over.
func (g *Gateway) BeginDrain() { g.draining.Store(true) }

// EndDrain undoes BeginDrain (psgate node undrain).
func (g *Gateway) EndDrain() { g.draining.Store(false) }

// ShellsOf returns the shells of the principal's user on this node, for a
// peer answering Enumerate.
func (g *Gateway) ShellsOf(p psgate.Principal) []wsman.ShellInfo {
	now := g.cfg.Now()
	var infos []wsman.ShellInfo
	for _, s := range g.shells.all() {
		if s.ownedBy(p) {
			infos = append(infos, s.info(now))
		}
	}
	return infos
}

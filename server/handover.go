package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/cluster"
	"github.com/psgate/psgate/gateway"
	"github.com/psgate/psgate/internal/logkey"
	"github.com/psgate/psgate/store"
)

// Hand-over timings. A round hands over every shell idle at its start;
// busy shells are tried again at the next round, until none is left or
// the drain deadline.
const (
	// handOverRound is the pause between two rounds that found no idle
	// shell.
	handOverRound = 20 * time.Millisecond
	// handOffWait bounds how long HandOff waits for a shell's requests in
	// flight (a Receive being answered) before calling it busy.
	handOffWait = 2 * time.Second
	// adoptWait bounds one adoption by a peer.
	adoptWait = 10 * time.Second
	// handOverWorkers is how many shells move at once.
	handOverWorkers = 16
	// maxAdoptBody bounds a serialized shell: its unread runspace pool
	// output is bounded by the gateway's output buffer (4 MiB by
	// default), which base64 grows by a third.
	maxAdoptBody = 16 << 20
)

// adoptRequest is the body of cluster.PathAdopt: the serialized shell and
// the incarnation it comes from, whose lease the taker transfers.
type adoptRequest struct {
	FromNode string          `json:"from_node"`
	Shell    json.RawMessage `json:"shell"`
}

// adoptAnswer is the body of a refused adoption.
type adoptAnswer struct {
	Code    psgate.Code `json:"code,omitempty"`
	Message string      `json:"message"`
}

// HandOverResult counts what a drain did with the node's shells.
type HandOverResult struct {
	// Moved shells answer on a peer now; Refused were refused by every
	// peer tried (the owner lost their rights, the lease expired...);
	// Left were still busy, or had no peer to go to, at the deadline.
	Moved, Refused, Left int
}

// handOver moves every shell of this draining node to the live peers that
// are not draining, spread over them, as soon as it is idle: an idle shell
// at once, a busy one once its pipelines ended and their output was
// collected. It returns when no shell is left, when no peer can take them,
// when keepGoing says so (an operator undid the drain) or when ctx ends;
// the shells left are then closed as before (gateway.Shutdown) or stay.
// Without an internal link between the nodes it does nothing.
func (s *Server) handOver(ctx context.Context, keepGoing func() bool) HandOverResult {
	var res HandOverResult
	if s.peers == nil || s.gw.ShellCount() == 0 {
		return res
	}
	self := s.adm.NodeID()
	// Peers choosing a node for their own shells skip this one.
	if err := s.store.SetDraining(ctx, self, true); err != nil {
		s.log.Warn("hand-over: marking this node draining failed", logkey.Err, err)
	}
	began := time.Now()
	refused := map[string]int{} // shell → peers that refused it
	next := 0
	// Shells every peer refused stay until Shutdown closes them.
	for ctx.Err() == nil && keepGoing() && s.gw.ShellCount() > res.Refused {
		ids := s.gw.IdleShells()
		if len(ids) == 0 {
			wait(ctx, handOverRound)
			continue
		}
		peers, err := s.takers(ctx, self)
		if err != nil {
			s.log.Warn("hand-over: listing the nodes failed", logkey.Err, err)
			wait(ctx, handOverRound)
			continue
		}
		if len(peers) == 0 {
			s.log.Warn("hand-over: no live peer takes shells; they stay", logkey.Shells, s.gw.ShellCount())
			break
		}
		ids = slices.DeleteFunc(ids, func(id string) bool { return refused[id] >= len(peers) })
		if len(ids) == 0 {
			wait(ctx, handOverRound)
			continue
		}
		outcomes := make([]error, len(ids))
		jobs := make(chan int)
		var wg sync.WaitGroup
		for range min(handOverWorkers, len(ids)) {
			wg.Go(func() {
				for i := range jobs {
					to := peers[(next+i+refused[ids[i]])%len(peers)]
					outcomes[i] = s.handOverShell(ctx, ids[i], to)
				}
			})
		}
		for i := range ids {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		next += len(ids)
		for i, err := range outcomes {
			var busy *gateway.BusyError
			switch {
			case err == nil:
				res.Moved++
			case errors.As(err, &busy), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
				// Busy again: the next round tries it again.
			case psgate.CodeOf(err) == psgate.CodeShellNotFound:
				// Closed meanwhile (its client deleted it).
			default:
				refused[ids[i]]++
				s.log.Warn("hand-over refused", logkey.ShellID, ids[i], logkey.Err, err)
				if refused[ids[i]] == len(peers) {
					res.Refused++
				}
			}
		}
	}
	res.Left = max(0, s.gw.ShellCount()-res.Refused)
	if s.metrics != nil {
		s.metrics.HandedOver("moved", res.Moved)
		s.metrics.HandedOver("refused", res.Refused)
		s.metrics.HandedOver("left", res.Left)
	}
	s.log.Info("hand-over done", "moved", res.Moved, "refused", res.Refused, "left", res.Left,
		"took", time.Since(began).Round(time.Millisecond))
	return res
}

// always is handOver's keepGoing at shutdown.
func always() bool { return true }

// followDrain starts handing the shells over when an operator drains this
// node (psgate node drain, which the node learns at its next lease
// renewal), and stops when the drain is undone. Tick calls it; the
// shutdown path runs its own hand-over.
func (s *Server) followDrain(ctx context.Context) {
	draining := func() bool { return s.adm.Status().Draining && !s.stopping.Load() }
	if s.peers == nil || !draining() || s.gw.ShellCount() == 0 || !s.handingOver.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.handingOver.Store(false)
		s.handOver(ctx, draining)
	}()
}

// takers are the live peers that are not draining and have an internal
// listener, by name.
func (s *Server) takers(ctx context.Context, self string) ([]store.Node, error) {
	nodes, err := s.store.ListNodes(ctx, s.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("server: hand-over: list nodes: %w", err)
	}
	var out []store.Node
	for _, n := range nodes {
		if n.ID != self && !n.Draining && n.InternalURL != "" {
			out = append(out, n)
		}
	}
	return out, nil
}

// handOverShell moves one shell to node to: HandOff (the shell waits
// meanwhile), the peer's adoption, FinishHandOff. A *gateway.BusyError
// means the shell is not idle; any other error that the peer did not take
// it. Either way the shell stays here unchanged.
func (s *Server) handOverShell(ctx context.Context, id string, to store.Node) (err error) {
	s.adm.BeginHandOver(id)
	adopted := false
	defer func() {
		// The gateway forgets the shell before admission does, so that no
		// renewal lists a shell whose lease the peer holds.
		s.gw.FinishHandOff(id, adopted)
		s.adm.EndHandOver(id, adopted)
	}()
	hctx, cancel := context.WithTimeout(ctx, handOffWait)
	h, err := s.gw.HandOff(hctx, id)
	cancel()
	if err != nil {
		return err
	}
	shell, err := h.Encode()
	if err != nil {
		return err
	}
	body, err := json.Marshal(adoptRequest{FromNode: s.adm.NodeID(), Shell: shell})
	if err != nil {
		return fmt.Errorf("server: hand-over of %s: %w", id, err)
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), adoptWait)
	defer cancel()
	resp, err := s.peers.Post(actx, to.InternalURL, cluster.PathAdopt, "application/json", body)
	if err != nil {
		// The peer may have taken it before the answer was lost: the
		// lease says.
		if l, lerr := s.store.Lease(actx, id); lerr == nil && l.NodeID == to.ID {
			adopted = true
			return nil
		}
		return fmt.Errorf("server: hand-over of %s to %s: %w", id, to.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		adopted = true
		return nil
	}
	var a adoptAnswer
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if json.Unmarshal(msg, &a) != nil {
		a.Message = string(msg)
	}
	return fmt.Errorf("server: %s refused shell %s: %s %s: %s", to.Name, id, resp.Status, a.Code, a.Message)
}

// serveAdopt takes over a shell a draining peer hands over
// (cluster.PathAdopt, internal listener only): admission reads the owner's
// rights again and moves the lease here, then the gateway installs the
// shell. 200 means the shell answers here now; anything else that it
// stays where it was.
func (s *Server) serveAdopt(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST a serialized shell", http.StatusMethodNotAllowed)
		return
	}
	refuse := func(status int, err error) {
		a := adoptAnswer{Message: err.Error()}
		if e, ok := psgate.AsError(err); ok {
			a.Code = e.Code
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(a)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAdoptBody+1))
	if err != nil || len(body) > maxAdoptBody {
		refuse(http.StatusBadRequest, fmt.Errorf("server: adopt: the body could not be read or passes %d bytes", maxAdoptBody))
		return
	}
	var req adoptRequest
	if err := json.Unmarshal(body, &req); err != nil || req.FromNode == "" {
		refuse(http.StatusBadRequest, errors.New("server: adopt: a JSON object with from_node and shell"))
		return
	}
	h, err := gateway.DecodeHandoff(req.Shell)
	if err != nil {
		refuse(http.StatusBadRequest, err)
		return
	}
	ctx := r.Context()
	grant, auth, err := s.adm.Adopt(ctx, h.ShellID, h.Owner, req.FromNode)
	if err != nil {
		refuse(http.StatusConflict, err)
		return
	}
	if err := s.gw.Adopt(ctx, h, grant, auth); err != nil {
		s.adm.ReturnLease(ctx, h.ShellID, req.FromNode)
		refuse(http.StatusConflict, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// wait sleeps for d or until ctx ends.
func wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

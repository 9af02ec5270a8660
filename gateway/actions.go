package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/wsman"
	"github.com/psgate/psgate/xpress"
)

// create opens a shell: admission first, then the kind's set-up.
func (g *Gateway) create(ctx context.Context, req *request) ([]byte, error) {
	env := req.env
	kind, err := shellKind(env.ResourceURI)
	if err != nil {
		return nil, err
	}
	if env.Shell == nil {
		return nil, psgate.E(psgate.CodeMalformedEnvelope, psgate.Args{"detail": "a Create request needs an rsp:Shell body"})
	}
	compression := "NoCompression"
	switch ct := env.CompressionType; {
	case ct == "" || strings.EqualFold(ct, "none"):
	case strings.EqualFold(ct, "xpress"):
		compression = "XpressCompression"
	default:
		return nil, psgate.E(psgate.CodeCompressionRequested, psgate.Args{"type": ct})
	}
	if kind == kindPSRP {
		if err := g.checkConfiguration(env.ResourceURI); err != nil {
			return nil, err
		}
		if err := checkProtocolOption(env); err != nil {
			return nil, err
		}
	}
	id := env.Shell.ShellID
	if id == "" {
		id = newGUID(g.cfg.Rand)
	}
	id = strings.ToUpper(id)
	if other, taken := g.shells.get(id); taken {
		if other.ownedBy(req.principal) {
			return nil, psgate.E(psgate.CodeInvalidParameter, psgate.Args{"detail": "ShellId " + id + " is already in use"})
		}
		// Someone else's shell: never say so, or any caller could test
		// whether a GUID names a live shell of another tenant. The
		// Create succeeds as for a free id, with a ShellId of the
		// server's choosing, which the response carries as every
		// server-chosen id ([MS-WSMV] §3.1.4.5.2; clients use the
		// ResourceCreated reference).
		id = newGUID(g.cfg.Rand)
	}
	limits, auth, err := g.cfg.Admit.Admit(ctx, psgate.ShellRequest{
		Principal:  req.principal,
		ShellID:    id,
		Kind:       kind,
		Name:       env.Shell.Name,
		ClientAddr: req.client,
		UserAgent:  req.userAgent,
	})
	if err != nil {
		return nil, err
	}
	now := g.cfg.Now()
	s := &shell{
		id:          id,
		resourceURI: env.ResourceURI,
		kind:        kind,
		owner:       req.principal,
		name:        env.Shell.Name,
		clientIP:    req.client,
		userAgent:   req.userAgent,
		created:     now,
		grant:       grant{Grant: limits, Authorizer: auth},
		inputs:      defaultStreams(env.Shell.InputStreams, "stdin"),
		outputs:     defaultStreams(env.Shell.OutputStreams, "stdout", "stderr"),
		compression: compression,
		done:        make(chan struct{}),
		lastActive:  now,
		state:       "Connected",
	}
	// A client may ask for a shorter idle timeout, never a longer one.
	s.maxIdle = s.grant.IdleTimeout
	s.grant.IdleTimeout = s.idleFor(env.Shell.IdleTimeout)
	switch kind {
	case kindWinRS:
		s.plugin = newWinRS(g, s)
	case kindPSRP:
		s.inputs, s.outputs = []string{"stdin", "pr"}, []string{"stdout"}
		s.partial = g.partial.open(s)
		pool, err := newPSRPPool(g, s, env)
		if err != nil {
			s.partial.close()
			g.cfg.Admit.Release(context.WithoutCancel(ctx), id, psgate.CloseReason{Cause: psgate.CloseClient})
			return nil, err
		}
		s.plugin = pool
	}
	if !g.shells.add(s) {
		s.plugin.close()
		if s.partial != nil {
			s.partial.close()
		}
		g.cfg.Admit.Release(context.WithoutCancel(ctx), id, psgate.CloseReason{Cause: psgate.CloseClient})
		return nil, psgate.E(psgate.CodeInvalidParameter, psgate.Args{"detail": "ShellId " + id + " is already in use"})
	}
	if g.closed.Load() {
		// Shutdown began after this Create was dispatched and may
		// already have closed every shell it saw: close this one too,
		// so that its slot is not held by a shell nobody will close.
		g.closeShell(ctx, s, psgate.CloseReason{Cause: psgate.CloseShutdown})
		return nil, psgate.E(psgate.CodeShuttingDown, nil)
	}
	req.logger().Info("shell opened", logKeyShellID, id, "kind", kind)
	return wsman.EncodeCreateResponse(g.header(req, wsman.ActionCreateResponse), req.address, s.info(now)), nil
}

func defaultStreams(got []string, def ...string) []string {
	if len(got) > 0 {
		return got
	}
	return def
}

// shellKind maps a resource URI to the shell kind serving it.
func shellKind(uri string) (psgate.ShellKind, error) {
	switch {
	case uri == "":
		return "", psgate.E(psgate.CodeMissingHeader, psgate.Args{"header": "wsman:ResourceURI"})
	case strings.EqualFold(uri, wsman.ResourceCmd):
		return kindWinRS, nil
	case len(uri) > len(wsman.PowerShellResourcePrefix) && strings.EqualFold(uri[:len(wsman.PowerShellResourcePrefix)], wsman.PowerShellResourcePrefix):
		return kindPSRP, nil
	}
	return "", psgate.E(psgate.CodeUnknownResourceURI, psgate.Args{"uri": uri})
}

// lookup finds the shell a request addresses and checks that the caller
// owns it. A foreign shell is reported exactly like a missing one.
func (g *Gateway) lookup(ctx context.Context, req *request) (*shell, error) {
	id, ok := req.env.Selector("ShellId")
	if !ok || id == "" {
		return nil, psgate.E(psgate.CodeMissingSelector, nil)
	}
	s, ok := g.shells.get(id)
	if !ok || !s.ownedBy(req.principal) {
		if why, ok := g.shells.closedReason(id, req.principal, g.cfg.Now()); ok {
			return nil, why
		}
		return nil, psgate.E(psgate.CodeShellNotFound, psgate.Args{"shell": id})
	}
	// A shell being handed over answers once the move ended: here, or
	// (errShellMoved) at the node that adopted it.
	if err := g.awaitMove(ctx, s); err != nil {
		return nil, err
	}
	return s, nil
}

// onShell serves the actions that address an existing shell.
func (g *Gateway) onShell(ctx context.Context, req *request) ([]byte, error) {
	s, err := g.lookup(ctx, req)
	if err != nil {
		return nil, err
	}
	req.logWith(logKeyShellID, s.id)
	now := g.cfg.Now()
	s.touch(now)
	env := req.env
	switch env.Action {
	case wsman.ActionDelete:
		g.closeShell(ctx, s, psgate.CloseReason{Cause: psgate.CloseClient})
		return wsman.EncodeEmptyResponse(g.header(req, wsman.ActionDeleteResponse), wsman.BodyNone), nil
	case wsman.ActionGet:
		return wsman.EncodeGetShell(g.header(req, wsman.ActionGetResponse), s.info(now)), nil
	case wsman.ActionDisconnect:
		return g.disconnect(ctx, req, s)
	case wsman.ActionReconnect:
		s.reattach()
		return wsman.EncodeEmptyResponse(g.header(req, wsman.ActionReconnectResponse), wsman.BodyNone), nil
	case wsman.ActionConnect:
		c, ok := s.plugin.(connector)
		if !ok {
			return nil, psgate.E(psgate.CodeActionNotSupported, psgate.Args{"action": env.Action + " (for " + string(s.kind) + " shells)"})
		}
		xml, err := c.connect(ctx, req)
		if err != nil {
			return nil, err
		}
		s.reattach()
		return wsman.EncodeConnectResponse(g.header(req, wsman.ActionConnectResponse), xml), nil
	}
	detach, err := s.beginOp()
	if err != nil {
		return nil, err
	}
	// The operation ends once its response is written: a Disconnect
	// waiting for it then answers after it.
	req.afterWrite(func(bool) { s.endOp() })
	req.detach = detach
	if resp, ok := s.replay.get(env.MessageID, now); ok {
		req.logger().Info("request sent again: answered as before", logKeyAction, env.Action)
		return resp, nil
	}
	resp, err := g.onOpenShell(ctx, req, s)
	if err == nil && req.fromPeer {
		// Only an answer that went to another node can be lost after
		// it was delivered: that node may die before relaying it.
		id := env.MessageID
		req.afterWrite(func(delivered bool) {
			if delivered {
				s.replay.put(id, resp, g.cfg.Now())
			}
		})
	}
	switch psgate.CodeOf(err) {
	case psgate.CodeBadFragment:
		// A broken fragment stream poisons the shell's reassembler for
		// good (and the catalog tells the client the shell was closed):
		// close it now rather than hold its quota slot until it idles out.
		g.closeShell(ctx, s, psgate.CloseReason{Cause: psgate.CloseBroken})
	case psgate.CodePartialBudget:
		// The shell holds (or its owner's other shells hold) too much
		// unfinished data: closing it frees its bytes and its slot, and
		// its owner learns why from the same error.
		e, _ := psgate.AsError(err)
		g.closeShellWith(ctx, s, psgate.CloseReason{Cause: psgate.CloseBudget}, e)
	}
	return resp, err
}

// disconnect serves Disconnect as [MS-WSMV] §3.1.4.15 asks: no new
// operation starts, the pending Receives answer at once with the output
// they have, and the DisconnectResponse goes out only after every
// operation in flight has written its response. rsp:IdleTimeOut then
// becomes the shell's idle timeout, up to the tenant policy's
// (rsp:MaxIdleTimeOut); the session lifetime still applies.
func (g *Gateway) disconnect(ctx context.Context, req *request, s *shell) ([]byte, error) {
	var idle time.Duration
	if d := req.env.Disconnect; d != nil {
		idle = d.IdleTimeout
	}
	drained := s.beginDisconnect()
	timer := time.NewTimer(g.receiveWait(req.env.OperationTimeout))
	defer timer.Stop()
	select {
	case <-drained:
	case <-s.done:
		s.endDisconnect(false, 0)
		if e := s.closeReason(); e != nil {
			return nil, e
		}
		return nil, psgate.E(psgate.CodeShellNotFound, psgate.Args{"shell": s.id})
	case <-timer.C:
		// An operation did not end in time (a Command still being
		// dispatched, a slow Send): the shell stays connected.
		s.endDisconnect(false, 0)
		return nil, psgate.E(psgate.CodeOperationTimeout, nil)
	case <-ctx.Done():
		s.endDisconnect(false, 0)
		return nil, ctx.Err()
	}
	s.endDisconnect(true, idle)
	return wsman.EncodeEmptyResponse(g.header(req, wsman.ActionDisconnectResponse), wsman.BodyNone), nil
}

// onOpenShell serves the data actions on a connected shell.
func (g *Gateway) onOpenShell(ctx context.Context, req *request, s *shell) ([]byte, error) {
	env := req.env
	if s.compression == "XpressCompression" {
		if err := unframeSend(env); err != nil {
			return nil, err
		}
	}
	switch env.Action {
	case wsman.ActionCommand:
		id, err := s.plugin.command(ctx, req)
		if err != nil {
			return nil, err
		}
		// Ties the request to the command: its audit records carry the
		// shell and this command id ("<id>#<n>"). Checked first: building
		// the request's logger costs a handler copy on every command.
		if req.base.Enabled(ctx, slog.LevelDebug) {
			req.logger().Debug("command started", logKeyCommandID, id)
		}
		return wsman.EncodeCommandResponse(g.header(req, wsman.ActionCommandResponse), id), nil
	case wsman.ActionSend:
		if err := s.plugin.send(ctx, req); err != nil {
			return nil, err
		}
		return wsman.EncodeEmptyResponse(g.header(req, wsman.ActionSendResponse), wsman.BodySendResponse), nil
	case wsman.ActionReceive:
		res, err := s.plugin.receive(ctx, req, g.receiveWait(env.OperationTimeout))
		s.touch(g.cfg.Now())
		if err != nil {
			return nil, err
		}
		if s.compression == "XpressCompression" {
			for i := range res.Streams {
				if len(res.Streams[i].Data) > 0 {
					res.Streams[i].Data = xpress.Frame(res.Streams[i].Data)
				}
			}
		}
		return wsman.EncodeReceiveResponse(g.header(req, wsman.ActionReceiveResponse), res), nil
	case wsman.ActionSignal:
		if err := s.plugin.signal(ctx, req); err != nil {
			return nil, err
		}
		return wsman.EncodeEmptyResponse(g.header(req, wsman.ActionSignalResponse), wsman.BodySignalResponse), nil
	default:
		return nil, psgate.E(psgate.CodeActionNotSupported, psgate.Args{
			"action": env.Action + " (for " + string(s.kind) + " shells)"})
	}
}

// connector is implemented by shells that a new client can Connect to.
type connector interface {
	connect(ctx context.Context, req *request) ([]byte, error)
}

// unframeSend decompresses the stream data of a Send from a client that
// asked for xpress compression.
func unframeSend(env *wsman.Envelope) error {
	if env.Send == nil {
		return nil
	}
	// One budget for the whole Send: a small envelope may hold hundreds
	// of streams, each of which could otherwise expand to the limit.
	budget := maxUnframed
	for i := range env.Send.Streams {
		st := &env.Send.Streams[i]
		if len(st.Data) == 0 {
			continue
		}
		data, err := xpress.Unframe(st.Data, budget)
		if err != nil {
			return psgate.Wrap(psgate.CodeBadFragment, psgate.Args{"detail": "compressed stream data is corrupt or expands past " + fmt.Sprint(maxUnframed) + " bytes"}, err)
		}
		budget -= len(data)
		st.Data = data
	}
	return nil
}

// maxUnframed bounds the decompressed size of the streams of one Send.
const maxUnframed = 16 << 20

// checkConfiguration refuses PowerShell configurations psgate does not serve.
func (g *Gateway) checkConfiguration(uri string) error {
	name, _ := wsman.ConfigurationName(uri)
	for _, c := range g.cfg.Configurations {
		if strings.EqualFold(c, name) {
			return nil
		}
	}
	return psgate.E(psgate.CodeUnknownConfiguration, psgate.Args{"name": name, "available": strings.Join(g.cfg.Configurations, ", ")})
}

// receiveWait is how long a Receive is held without output: the client's
// OperationTimeout capped at MaxReceiveWait, less a margin so that the
// TimedOut fault arrives before the client's own HTTP timeout.
func (g *Gateway) receiveWait(op time.Duration) time.Duration {
	if op <= 0 || op > g.cfg.MaxReceiveWait {
		op = g.cfg.MaxReceiveWait
	}
	margin := op / 10
	if margin < time.Second {
		margin = min(time.Second, op/2)
	}
	return op - margin
}

// closeShell stops a shell, releases its slot and leaves a tombstone that
// tells its owner why it closed.
func (g *Gateway) closeShell(ctx context.Context, s *shell, why psgate.CloseReason) {
	g.closeShellWith(ctx, s, why, closeError(s, why))
}

// closeShellWith is closeShell telling the owner why with the error tell.
func (g *Gateway) closeShellWith(ctx context.Context, s *shell, why psgate.CloseReason, tell *psgate.Error) {
	if !s.markClosed(tell) {
		return
	}
	s.plugin.close()
	if s.partial != nil {
		// After the plugin: whatever its parts still held, and anything
		// a request racing the close charges, goes back now.
		s.partial.close()
	}
	g.shells.remove(s, tell, g.cfg.Now())
	g.cfg.Admit.Release(context.WithoutCancel(ctx), s.id, why)
	g.log.Info("shell closed", logKeyShellID, s.id, logKeyTenant, s.owner.Tenant, logKeyUser, s.owner.UPN, logKeyReason, why.String())
}

// closeError is what the owner of a shell closed for why reads next.
func closeError(s *shell, why psgate.CloseReason) *psgate.Error {
	switch why.Cause {
	case psgate.CloseIdle:
		return psgate.E(psgate.CodeIdleTimeoutReached, psgate.Args{"shell": s.id, "idle": s.idleTimeout().String()})
	case psgate.CloseLifetime:
		return psgate.E(psgate.CodeLifetimeReached, psgate.Args{"shell": s.id, "lifetime": s.grant.Lifetime.String()})
	case psgate.CloseRemoved:
		by := why.By
		if by == "" {
			by = "an administrator"
		}
		return psgate.E(psgate.CodeSessionRemoved, psgate.Args{"shell": s.id, "by": by})
	case psgate.CloseShutdown:
		return psgate.E(psgate.CodeShuttingDown, nil)
	case psgate.CloseBroken:
		return psgate.E(psgate.CodeBadFragment, psgate.Args{"detail": "an earlier request of shell " + s.id + " carried broken fragments"})
	case psgate.CloseLost:
		return psgate.E(psgate.CodeSessionRemoved, psgate.Args{"shell": s.id, "by": "the service: its quota slot is no longer held (an administrator removed it, or this node lost its store)"})
	}
	return psgate.E(psgate.CodeShellNotFound, psgate.Args{"shell": s.id})
}

// enumerate lists the caller's own shells, or the commands of one of them.
func (g *Gateway) enumerate(ctx context.Context, req *request) ([]byte, error) {
	now := g.cfg.Now()
	if strings.EqualFold(req.env.ResourceURI, wsman.ResourceShellCommand) {
		var id string
		if e := req.env.Enumerate; e != nil {
			id, _ = e.Selector("ShellId")
		}
		s, ok := g.shells.get(id)
		if !ok || !s.ownedBy(req.principal) {
			return nil, psgate.E(psgate.CodeShellNotFound, psgate.Args{"shell": id})
		}
		var cmds []wsman.CommandInfo
		if pool, ok := s.plugin.(*psrpPool); ok {
			cmds = pool.commands()
		}
		return wsman.EncodeEnumerateCommands(g.header(req, wsman.ActionEnumerateResponse), cmds), nil
	}
	var infos []wsman.ShellInfo
	for _, s := range g.shells.all() {
		if s.ownedBy(req.principal) {
			infos = append(infos, s.info(now))
		}
	}
	if g.cfg.Peers != nil && !req.fromPeer {
		// The caller's shells on the other nodes, as they report them.
		infos = append(infos, g.cfg.Peers.Shells(ctx, req.principal)...)
	}
	return wsman.EncodeEnumerateShells(g.header(req, wsman.ActionEnumerateResponse), infos), nil
}

// Expire closes every shell past its idle timeout or lifetime now.
func (g *Gateway) Expire(ctx context.Context) {
	now := g.cfg.Now()
	for _, s := range g.shells.all() {
		if why, ok := expiredReason(s, now); ok {
			g.closeShell(ctx, s, why)
		}
	}
}

// expiredReason says whether s is past its lifetime or idle timeout at now,
// and which.
func expiredReason(s *shell, now time.Time) (psgate.CloseReason, bool) {
	// Disconnect changes the idle timeout: read it under the lock.
	s.mu.Lock()
	idle, timeout := now.Sub(s.lastActive), s.grant.IdleTimeout
	s.mu.Unlock()
	switch {
	case s.grant.Lifetime > 0 && now.Sub(s.created) >= s.grant.Lifetime:
		return psgate.CloseReason{Cause: psgate.CloseLifetime}, true
	case timeout > 0 && idle >= timeout:
		return psgate.CloseReason{Cause: psgate.CloseIdle}, true
	}
	return psgate.CloseReason{}, false
}

// ShellCount is the number of open shells on this node.
func (g *Gateway) ShellCount() int { return g.shells.count() }

// newGUID returns an upper-case random (v4) GUID.
func newGUID(r interface{ Read([]byte) (int, error) }) string {
	var b [16]byte
	if _, err := r.Read(b[:]); err != nil {
		panic(fmt.Sprintf("gateway: randomness source failed: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

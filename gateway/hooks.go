package gateway

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/psrp"
)

// Auditor writes a durable record of every command a shell runs.
type Auditor interface {
	AuditCommand(ctx context.Context, p psgate.Principal, shellID, commandID, cmdlet string,
		params map[string]any, sensitive func(name string) bool, outcome string, code psgate.Code, dur time.Duration) error
}

// ShellIDs lists the shells open on this node.
func (g *Gateway) ShellIDs() []string {
	all := g.shells.all()
	ids := make([]string, 0, len(all))
	for _, s := range all {
		ids = append(ids, s.id)
	}
	return ids
}

// Activity reports every open shell's state and last request time, for
// the quota leases.
func (g *Gateway) Activity() []psgate.ShellActivity {
	all := g.shells.all()
	out := make([]psgate.ShellActivity, 0, len(all))
	for _, s := range all {
		s.mu.Lock()
		state := psgate.ShellConnected
		if s.state == "Disconnected" {
			state = psgate.ShellDisconnected
		}
		out = append(out, psgate.ShellActivity{ShellID: s.id, State: state, LastActive: s.lastActive})
		s.mu.Unlock()
	}
	return out
}

// CloseShells closes the given shells of this node, for example because
// their quota leases are gone (why.Cause is then psgate.CloseLost).
func (g *Gateway) CloseShells(ctx context.Context, ids []string, why psgate.CloseReason) {
	now := g.cfg.Now()
	for _, id := range ids {
		if s, ok := g.shells.get(id); ok {
			r := why
			// A node that stalled past its lease may also be past a
			// shell's lifetime or idle timeout: that is the reason the
			// user can act on.
			if expired, ok := expiredReason(s, now); ok {
				r = expired
			}
			g.closeShell(ctx, s, r)
		}
	}
}

// CloseSession closes one shell of this node on behalf of by (the user
// principal name of whoever ran Remove-CsOnlineSession, or changed the
// owner's rights); it reports whether the shell lived here. The owner
// reads who closed it.
func (g *Gateway) CloseSession(ctx context.Context, shellID, by string) bool {
	s, ok := g.shells.get(shellID)
	if !ok {
		return false
	}
	g.closeShell(ctx, s, psgate.ClosedBy(by))
	return true
}

// withCommandID returns ctx for running the client's command (a WinRS
// CommandId or a PSRP pipeline ID); the admission package's audit reads it
// with psgate.CommandID.
func withCommandID(ctx context.Context, id string) context.Context {
	return psgate.WithCommandID(ctx, id)
}

// auditCommand records a finished command line. Secrets are redacted by
// the auditor using the catalog's Sensitive parameter flags. A shell whose
// Authorizer is an engine.CommandAuditor (the admission package's) has
// each command audited by the engine, before it runs and after: nothing
// is recorded here.
func (g *Gateway) auditCommand(ctx context.Context, s *shell, commandID string, calls []engine.CommandCall, err error, dur time.Duration) {
	// Every command line ends here, so the metrics see each one too.
	g.observePipeline(s.kind, calls, err, dur)
	if g.cfg.Audit == nil {
		return
	}
	if _, ok := s.grant.Authorizer.(engine.CommandAuditor); ok {
		return
	}
	names := make([]string, 0, len(calls))
	params := map[string]any{}
	sensitive := map[string]bool{}
	for _, c := range calls {
		name := c.Name
		if c.IsScript {
			name = "(script)"
		}
		names = append(names, name)
		cmd, _ := g.cfg.Catalog.Lookup(c.Name)
		for i, a := range c.Args {
			key := a.Name
			if key == "" {
				key = "#" + strconv.Itoa(i)
			}
			key = name + ".-" + key
			params[key] = a.Value
			if cmd != nil && a.Name != "" {
				if p, ok := cmd.Parameter(a.Name); ok && p.Sensitive {
					sensitive[key] = true
				}
			}
		}
	}
	outcome, code := "ok", psgate.Code("")
	if err != nil {
		outcome, code = "error", psgate.CodeOf(err)
	}
	if aerr := g.cfg.Audit.AuditCommand(ctx, s.owner, s.id, commandID, strings.Join(names, " | "), params,
		func(k string) bool { return sensitive[k] }, outcome, code, dur); aerr != nil {
		g.log.Error("audit command", logKeyShellID, s.id, logKeyCommandID, commandID, logKeyErr, aerr)
	}
}

// scriptCalls returns the commands of a command line, for the audit record;
// an unparsable line is recorded as one script.
func scriptCalls(script string) []engine.CommandCall {
	sc, err := engine.Parse(script)
	if err != nil {
		return []engine.CommandCall{{Name: script, IsScript: true}}
	}
	var calls []engine.CommandCall
	for _, st := range sc.Statements {
		calls = append(calls, st.Commands...)
	}
	return calls
}

// psrpCalls returns the commands of a CREATE_PIPELINE.
func psrpCalls(cp *psrp.CreatePipeline) []engine.CommandCall {
	var calls []engine.CommandCall
	for _, st := range cp.PowerShell.Statements() {
		for _, c := range st {
			if c.IsScript {
				calls = append(calls, scriptCalls(c.Cmd)...)
				continue
			}
			call := engine.CommandCall{Name: c.Cmd}
			for _, a := range c.Args {
				call.Args = append(call.Args, engine.StructuredArgument(a.Name, a.Value))
			}
			calls = append(calls, call)
		}
	}
	return calls
}

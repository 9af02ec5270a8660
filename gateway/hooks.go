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

// ShellIDs lists the shells open on this node, for lease renewal.
func (g *Gateway) ShellIDs() []string {
	all := g.shells.all()
	ids := make([]string, 0, len(all))
	for _, s := range all {
		ids = append(ids, s.id)
	}
	return ids
}

// Activity is one shell's state and last request time.
type Activity struct {
	ShellID    string
	State      string // "connected" or "disconnected"
	LastActive time.Time
}

// Activity reports every open shell's state and last request time, for
// the quota leases.
func (g *Gateway) Activity() []Activity {
	all := g.shells.all()
	out := make([]Activity, 0, len(all))
	for _, s := range all {
		s.mu.Lock()
		state := "connected"
		if s.state == "Disconnected" {
			state = "disconnected"
		}
		out = append(out, Activity{ShellID: s.id, State: state, LastActive: s.lastActive})
		s.mu.Unlock()
	}
	return out
}

// CloseShells closes the given shells of this node, for example because
// their quota leases are gone. reason is a Release reason ("lost",
// "removed", ...).
func (g *Gateway) CloseShells(ctx context.Context, ids []string, reason string) {
	now := g.cfg.Now()
	for _, id := range ids {
		if s, ok := g.shells.get(id); ok {
			r := reason
			// A node that stalled past its lease may also be past a
			// shell's lifetime or idle timeout: that is the reason the
			// user can act on.
			if why := expiredReason(s, now); why != "" {
				r = why
			}
			g.closeShell(ctx, s, r)
		}
	}
}

// CloseSession closes one shell of this node on behalf of by (a user or an
// administrator running Remove-CsOnlineSession); it reports whether the
// shell lived here.
func (g *Gateway) CloseSession(ctx context.Context, shellID, by string) bool {
	s, ok := g.shells.get(shellID)
	if !ok {
		return false
	}
	g.closeShell(ctx, s, "removed")
	return true
}

// commandIDKey carries the WS-Man command a pipeline runs for.
type commandIDKey struct{}

// withCommandID returns ctx for running the client's command (a WinRS
// CommandId or a PSRP pipeline ID).
func withCommandID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, commandIDKey{}, id)
}

// CommandID returns the client's command or pipeline ID that ctx runs
// for, or "": the shell's Authorizer puts it on its audit records.
func CommandID(ctx context.Context) string {
	id, _ := ctx.Value(commandIDKey{}).(string)
	return id
}

// auditCommand records a finished command line. Secrets are redacted by
// the auditor using the catalog's Sensitive parameter flags. A shell whose
// Authorizer is an engine.CommandAuditor (the admission package's) has
// each command audited by the engine, before it runs and after: nothing
// is recorded here.
func (g *Gateway) auditCommand(ctx context.Context, s *shell, commandID string, calls []engine.CommandCall, err error, dur time.Duration) {
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

package gateway

import (
	"net/http"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/wsman"
)

// Observer is told what the gateway does, as it happens, for metrics. Its
// methods run on the request path: they must be cheap, must not block and
// must be safe for concurrent use. The metrics package implements it.
type Observer interface {
	// Request is called once per WS-Management request answered: action
	// is the short name of a served action ("Create", "Receive" ...,
	// "Identify"), "none" when the request was refused before its
	// envelope was decoded, or "other"; status is the HTTP status
	// written, 0 when the client left before any.
	Request(action string, status int)
	// Pipeline is called when a command line (WinRS) or pipeline (PSRP)
	// ended: cmdlets are its commands' catalog names, "(script)" for
	// script text or "(unknown)" for a name the catalog does not hold;
	// code is the catalog code it failed with, empty when it succeeded.
	Pipeline(kind psgate.ShellKind, cmdlets []string, code psgate.Code, d time.Duration)
	// Forwarded is called for every request sent to (or refused for)
	// another node: result is "ok", "misdirected" (the node no longer
	// held the shell), "error", or the catalog code of the refusal.
	Forwarded(result string)
}

// noObserver observes nothing.
type noObserver struct{}

func (noObserver) Request(string, int)                                             {}
func (noObserver) Pipeline(psgate.ShellKind, []string, psgate.Code, time.Duration) {}
func (noObserver) Forwarded(string)                                                {}

// actionName is the short name of a request's action, from a closed set:
// the label value must not be whatever URI a client sends.
func actionName(env *wsman.Envelope) string {
	if env == nil {
		return "none"
	}
	if env.Identify {
		return "Identify"
	}
	switch env.Action {
	case wsman.ActionCreate:
		return "Create"
	case wsman.ActionDelete:
		return "Delete"
	case wsman.ActionGet:
		return "Get"
	case wsman.ActionCommand:
		return "Command"
	case wsman.ActionSend:
		return "Send"
	case wsman.ActionReceive:
		return "Receive"
	case wsman.ActionSignal:
		return "Signal"
	case wsman.ActionDisconnect:
		return "Disconnect"
	case wsman.ActionReconnect:
		return "Reconnect"
	case wsman.ActionConnect:
		return "Connect"
	case wsman.ActionEnumerate:
		return "Enumerate"
	}
	return "other"
}

// observePipeline reports a finished command line to the Observer, naming
// its commands as the catalog does.
func (g *Gateway) observePipeline(kind psgate.ShellKind, calls []engine.CommandCall, err error, d time.Duration) {
	if _, ok := g.cfg.Observer.(noObserver); ok {
		return
	}
	names := make([]string, len(calls))
	for i, c := range calls {
		names[i] = g.cmdletName(c)
	}
	var code psgate.Code
	if err != nil {
		code = psgate.CodeOf(err)
	}
	g.cfg.Observer.Pipeline(kind, names, code, d)
}

// cmdletName is the catalog's name of a call's command, so that the label
// set is the catalog, not what clients type.
func (g *Gateway) cmdletName(c engine.CommandCall) string {
	if c.IsScript {
		return "(script)"
	}
	name, _ := engine.UnqualifiedName(c.Name)
	if cmd, ok := g.cfg.Catalog.Lookup(name); ok {
		return cmd.Name
	}
	return "(unknown)"
}

// ShellCount is how many shells of one tenant, protocol and state this
// node holds.
type ShellCount struct {
	Tenant       string
	Kind         psgate.ShellKind
	Disconnected bool
	Shells       int
}

// ShellCounts counts the open shells by tenant, protocol and state, for
// metrics read at scrape time.
func (g *Gateway) ShellCounts() []ShellCount {
	type key struct {
		tenant       string
		kind         psgate.ShellKind
		disconnected bool
	}
	all := g.shells.all()
	index := make(map[key]int, len(all)/4+1)
	out := make([]ShellCount, 0, len(all)/4+1)
	for _, s := range all {
		s.mu.Lock()
		k := key{tenant: s.owner.Tenant, kind: s.kind, disconnected: s.state == "Disconnected"}
		s.mu.Unlock()
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, ShellCount{Tenant: k.tenant, Kind: k.kind, Disconnected: k.disconnected})
		}
		out[i].Shells++
	}
	return out
}

// statusWriter remembers the status a handler wrote, for the Observer.
// Unwrap lets http.ResponseController reach the connection's Flush.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

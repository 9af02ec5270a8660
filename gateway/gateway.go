package gateway

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/internal/httpbody"
	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/wsman"
)

// Authenticator establishes who sent a request. It returns a *psgate.Error
// for refusals (401 and its catalog code) and any other error for failures.
type Authenticator interface {
	Authenticate(ctx context.Context, r *http.Request) (psgate.Principal, error)
}

// Admitter decides whether a principal may open a shell, records the shell
// (its quota lease) when it may, and forgets it when the shell closes. The
// admission package implements it; the gateway only declares what it needs.
type Admitter interface {
	// Admit returns the shell's limits and the authorizer that trims the
	// commands its runspace sees and runs (nil: no trimming), or a
	// *psgate.Error refusing it.
	Admit(ctx context.Context, req psgate.ShellRequest) (psgate.Grant, engine.Authorizer, error)
	// Release frees the shell's slot, saying why the shell closed.
	Release(ctx context.Context, shellID string, why psgate.CloseReason)
}

// Config configures a Gateway. Zero values are documented per field.
type Config struct {
	// Auth authenticates every request. Required.
	Auth Authenticator
	// Admit decides shell creation. Nil admits every authenticated caller
	// with the default lifetime and idle timeout and no command trimming.
	Admit Admitter
	// Audit records every command. Nil records nothing.
	Audit Auditor
	// Peers reaches the other nodes sharing the store, to which requests
	// for shells this node does not hold are forwarded. Nil means a
	// single node.
	Peers Peers
	// AffinityCookie, when not empty, is set as the psgate_node cookie on
	// every Create this node answers, so that a load balancer persisting
	// on that cookie sends the shell's later requests here and saves the
	// forwarding hop. Clients without cookies still work.
	AffinityCookie string
	// Catalog holds the commands runspaces run. Required.
	Catalog *engine.Catalog
	// Logger receives the gateway's logs. Nil discards them.
	Logger *slog.Logger
	// MaxEnvelopeSize is the largest request body accepted, in bytes.
	// Zero means 512000.
	MaxEnvelopeSize int
	// MaxReceiveWait caps how long a Receive is held without output.
	// Zero means 60s (WinRM's MaxTimeoutms).
	MaxReceiveWait time.Duration
	// MaxOutputBuffer bounds the bytes buffered per command before the
	// command blocks waiting for the client to Receive. Zero means 4 MiB.
	MaxOutputBuffer int
	// PartialBudget bounds the memory held for PSRP data clients sent
	// and the server has not processed yet, per shell, user, tenant and
	// process. Zero fields mean their defaults.
	PartialBudget PartialBudget
	// Configurations names the PowerShell session configurations served
	// (resource URI http://schemas.microsoft.com/powershell/<name>). Nil
	// means just "Microsoft.PowerShell".
	Configurations []string
	// Machine is the WSManFault Machine attribute. Empty is allowed.
	Machine string
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Rand is the randomness source for message and shell ids. Nil means
	// crypto/rand.Reader.
	Rand io.Reader
	// Observer is told of every request answered and every command line
	// run, for metrics. Nil observes nothing.
	Observer Observer
	// ClientAddr returns the address of the client that sent a request
	// (audit records, logs, the session list): behind a trusted proxy,
	// the client it names rather than the proxy. Nil means the
	// connection's peer.
	ClientAddr func(*http.Request) string
}

const (
	defaultMaxEnvelope  = 512000
	minEnvelopeSize     = 8192 // the smallest MaxEnvelopeSize WS-Management allows
	defaultReceiveWait  = 60 * time.Second
	defaultOutputBuffer = 4 << 20
	defaultLifetime     = 60 * time.Minute
	defaultIdle         = 15 * time.Minute
)

// Gateway is the WS-Management endpoint.
type Gateway struct {
	cfg    Config
	log    *slog.Logger
	shells *registry
	// partial is the ledger of unfinished client data (PartialBudget).
	partial *accountant
	reqID   atomic.Uint64
	closed  atomic.Bool
	// draining sends Creates to another node (BeginDrain).
	draining atomic.Bool
	// runMu orders starting a command (wg.Add) against Shutdown setting
	// closed and waiting: a WaitGroup must not gain work while Wait runs.
	runMu sync.Mutex
	wg    sync.WaitGroup // running commands, for graceful shutdown
	// decoders holds *wsman.Decoder: their arrays serve one request after
	// another instead of being allocated for each.
	decoders sync.Pool
	// privateData is every runspace pool's APPLICATION_PRIVATE_DATA, built
	// once: the pools share it and never change it.
	privateData psrp.PrivateData
}

// decode decodes a request body on a pooled decoder.
func (g *Gateway) decode(body []byte) (*wsman.Envelope, error) {
	d, _ := g.decoders.Get().(*wsman.Decoder)
	if d == nil {
		d = new(wsman.Decoder)
	}
	defer g.decoders.Put(d)
	return d.Decode(body, wsman.Limits{MaxEnvelopeSize: g.cfg.MaxEnvelopeSize})
}

// startCommand counts a command about to run in the background; it
// refuses once Shutdown has begun. The caller must call g.wg.Done when
// the command ends.
func (g *Gateway) startCommand() error {
	g.runMu.Lock()
	defer g.runMu.Unlock()
	if g.closed.Load() {
		return psgate.E(psgate.CodeShuttingDown, nil)
	}
	g.wg.Add(1)
	return nil
}

// New returns a gateway for cfg.
func New(cfg Config) (*Gateway, error) {
	if cfg.Auth == nil {
		return nil, errors.New("gateway: Config.Auth is required")
	}
	if cfg.Catalog == nil {
		return nil, errors.New("gateway: Config.Catalog is required")
	}
	if cfg.ClientAddr == nil {
		cfg.ClientAddr = clientIP
	}
	if cfg.MaxEnvelopeSize == 0 {
		cfg.MaxEnvelopeSize = defaultMaxEnvelope
	}
	if cfg.MaxEnvelopeSize < minEnvelopeSize {
		return nil, fmt.Errorf("gateway: MaxEnvelopeSize %d is below the WS-Management minimum of %d", cfg.MaxEnvelopeSize, minEnvelopeSize)
	}
	if cfg.MaxReceiveWait == 0 {
		cfg.MaxReceiveWait = defaultReceiveWait
	}
	if cfg.MaxOutputBuffer == 0 {
		cfg.MaxOutputBuffer = defaultOutputBuffer
	}
	if err := cfg.PartialBudget.validate(); err != nil {
		return nil, err
	}
	cfg.PartialBudget = cfg.PartialBudget.withDefaults()
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Configurations == nil {
		cfg.Configurations = []string{"Microsoft.PowerShell"}
	}
	if cfg.Admit == nil {
		cfg.Admit = openAdmitter{}
	}
	if cfg.Observer == nil {
		cfg.Observer = noObserver{}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Gateway{cfg: cfg, log: log, shells: newRegistry(), partial: newAccountant(cfg.PartialBudget),
		privateData: privateData()}, nil
}

// openAdmitter admits everyone with the default limits.
type openAdmitter struct{}

func (openAdmitter) Admit(context.Context, psgate.ShellRequest) (psgate.Grant, engine.Authorizer, error) {
	return psgate.Grant{Lifetime: defaultLifetime, IdleTimeout: defaultIdle}, nil, nil
}

func (openAdmitter) Release(context.Context, string, psgate.CloseReason) {}

// request is one WS-Man request being served.
type request struct {
	id        string
	env       *wsman.Envelope
	principal psgate.Principal
	client    string
	userAgent string
	address   string // the URL the client posted to, for ResourceCreated
	relatesTo string // the MessageID when the envelope could not be decoded
	// fromPeer marks a request another node forwarded (ServePeer).
	fromPeer bool
	// log is built from base and logAttrs on first use (logger): most
	// requests log nothing, and a logger With attributes costs a handler
	// copy each.
	log      *slog.Logger
	base     *slog.Logger
	logAttrs []any
	// detach is closed when a Disconnect of the addressed shell begins.
	detach <-chan struct{}
	// after holds what runs once the response was written (ok) or could
	// not be (the client went away), last registered first.
	after []func(ok bool)
	// sw is the response writer, remembering the status for the
	// Observer (a field, so that it costs no allocation of its own).
	sw statusWriter
}

// logger returns the request's logger: its id and client, and the caller
// and shell once known.
func (req *request) logger() *slog.Logger {
	if req.log == nil {
		req.log = req.base.With(req.logAttrs...)
	}
	return req.log
}

// logWith adds attributes to the request's logger.
func (req *request) logWith(args ...any) {
	if req.log != nil {
		req.log = req.log.With(args...)
		return
	}
	req.logAttrs = append(req.logAttrs, args...)
}

// afterWrite registers fn to run once the response has been written; ok
// reports whether it reached the client's connection. Output a Receive
// takes off a queue is committed or put back this way.
func (req *request) afterWrite(fn func(ok bool)) {
	req.after = append(req.after, fn)
}

func (req *request) finish(ok bool) {
	for i := len(req.after) - 1; i >= 0; i-- {
		req.after[i](ok)
	}
	req.after = nil
}

// ServeHTTP serves WS-Management requests on any path it is mounted at.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.serve(w, r, false)
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, fromPeer bool) {
	ctx := r.Context()
	req := &request{
		id:        strconv.FormatUint(g.reqID.Add(1), 16),
		client:    g.cfg.ClientAddr(r),
		userAgent: r.UserAgent(),
		address:   requestURL(r),
		fromPeer:  fromPeer,
	}
	if fromPeer {
		// The client's address came as the peer's (ServePeer).
		if a := r.Header.Get(HeaderAddress); a != "" {
			req.address = a
		}
	}
	req.base = g.log
	req.logAttrs = append(make([]any, 0, 8), logKeyRequestID, req.id, logKeyClient, req.client)
	req.sw.ResponseWriter = w
	w = &req.sw
	written := false
	defer func() {
		req.finish(written)
		g.cfg.Observer.Request(actionName(req.env), req.sw.status)
	}()

	w.Header().Set("Server", "psgate/"+psgate.Version)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "psgate: WS-Management endpoint; send SOAP requests with POST", http.StatusMethodNotAllowed)
		return
	}
	anonymousIdentify := strings.EqualFold(r.Header.Get("WSMANIDENTIFY"), "unauthenticated")
	if !anonymousIdentify {
		p, err := g.cfg.Auth.Authenticate(ctx, r)
		if err != nil {
			g.writeAuthError(w, req, err)
			return
		}
		req.principal = p
		req.logWith(logKeyTenant, p.Tenant, logKeyUser, p.UPN)
	}

	body, err := readBody(r, g.cfg.MaxEnvelopeSize)
	if err != nil {
		g.writeError(w, req, err)
		return
	}
	env, err := g.decode(body)
	if err != nil {
		var de *wsman.DecodeError
		if errors.As(err, &de) {
			req.relatesTo = de.MessageID
		}
		g.writeError(w, req, decodeError(err, len(body), g.cfg.MaxEnvelopeSize))
		return
	}
	req.env = env
	if env.MaxEnvelopeSize > 0 && env.MaxEnvelopeSize < minEnvelopeSize {
		// No answer fits in a smaller envelope (DSP0226 requires 8192).
		g.writeError(w, req, psgate.E(psgate.CodeEncodingLimit, psgate.Args{
			"size": strconv.Itoa(env.MaxEnvelopeSize), "min": strconv.Itoa(minEnvelopeSize)}))
		return
	}
	if anonymousIdentify && !env.Identify {
		g.writeAuthError(w, req, psgate.E(psgate.CodeAuthRequired, nil))
		return
	}
	if done, err := g.route(ctx, w, r, body, req, false); done {
		if err != nil {
			g.writeError(w, req, err)
		}
		return
	}
	resp, err := g.dispatch(ctx, req)
	if errors.Is(err, errShellMoved) {
		// Handed over while the request waited: the new owner answers.
		var done bool
		if done, err = g.route(ctx, w, r, body, req, true); done {
			if err != nil {
				g.writeError(w, req, err)
			}
			return
		}
		err = psgate.E(psgate.CodeShellNotFound, psgate.Args{"shell": req.shellID()})
	}
	if err != nil {
		g.writeError(w, req, err)
		return
	}
	if g.cfg.AffinityCookie != "" && env.Action == wsman.ActionCreate {
		c := &http.Cookie{Name: AffinityCookieName, Value: g.cfg.AffinityCookie, Path: "/", HttpOnly: true,
			Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode}
		w.Header().Add("Set-Cookie", c.String())
	}
	written = writeDelivered(ctx, w, resp)
}

// AffinityCookieName is the cookie naming the node that opened a shell
// (Config.AffinityCookie).
const AffinityCookieName = "psgate_node"

// shellID is the ShellId selector the request addresses, if any.
func (req *request) shellID() string {
	if req.env == nil {
		return ""
	}
	id, _ := req.env.Selector("ShellId")
	return id
}

// writeDelivered writes a success response and reports whether it reached
// the client's connection: nothing is written for a client that already
// went away, and a failed write or flush counts as not delivered.
func writeDelivered(ctx context.Context, w http.ResponseWriter, body []byte) bool {
	if ctx.Err() != nil {
		return false
	}
	h := w.Header()
	h.Set("Content-Type", soapContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(body); err != nil {
		return false
	}
	if err := http.NewResponseController(w).Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return false
	}
	return true
}

// readBody reads the request body, refusing more than limit bytes.
func readBody(r *http.Request, limit int) ([]byte, error) {
	if r.ContentLength > int64(limit) {
		return nil, psgate.E(psgate.CodeEnvelopeTooLarge, psgate.Args{
			"size": fmt.Sprint(r.ContentLength), "limit": fmt.Sprint(limit)})
	}
	// Announced (the usual case), at most limit: net/http ends the body
	// there.
	body, err := httpbody.Read(r.Body, r.ContentLength, limit)
	if err != nil {
		return nil, psgate.Wrap(psgate.CodeMalformedEnvelope, psgate.Args{"detail": "the request body could not be read"}, err)
	}
	if len(body) > limit {
		return nil, psgate.E(psgate.CodeEnvelopeTooLarge, psgate.Args{
			"size": fmt.Sprintf("more than %d", limit), "limit": fmt.Sprint(limit)})
	}
	return body, nil
}

func (g *Gateway) dispatch(ctx context.Context, req *request) ([]byte, error) {
	env := req.env
	if env.Identify {
		return wsman.EncodeIdentifyResponse(wsman.IdentifyInfo{
			ProductVendor:   "psgate",
			ProductVersion:  psgate.Version,
			ProtocolVersion: "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
		}), nil
	}
	if g.closed.Load() && env.Action == wsman.ActionCreate {
		return nil, psgate.E(psgate.CodeShuttingDown, nil)
	}
	switch env.Action {
	case wsman.ActionCreate:
		return g.create(ctx, req)
	case wsman.ActionEnumerate:
		return g.enumerate(ctx, req)
	case wsman.ActionDelete, wsman.ActionCommand, wsman.ActionSend, wsman.ActionReceive,
		wsman.ActionSignal, wsman.ActionGet, wsman.ActionDisconnect, wsman.ActionReconnect, wsman.ActionConnect:
		return g.onShell(ctx, req)
	default:
		return nil, psgate.E(psgate.CodeActionNotSupported, psgate.Args{"action": env.Action})
	}
}

// header returns the response header for action, relating to the request.
func (g *Gateway) header(req *request, action string) wsman.Header {
	return wsman.Header{Action: action, MessageID: g.messageID(), RelatesTo: req.env.MessageID}
}

// messageID returns a new uuid:UPPER message id.
func (g *Gateway) messageID() string {
	id, err := wsman.NewMessageID(g.cfg.Rand)
	if err != nil {
		// crypto/rand does not fail; a broken custom source is a bug.
		panic(err)
	}
	return id
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.Path
}

// Shutdown stops accepting new shells and commands, waits for the running
// commands to finish and their clients to collect the output (or ctx to
// end) while requests are still served, then closes every shell and
// releases its slot. Stop the HTTP listeners after it returns.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.runMu.Lock()
	g.closed.Store(true)
	g.runMu.Unlock()
	err := g.settle(ctx)
	for _, s := range g.shells.all() {
		g.closeShell(context.WithoutCancel(ctx), s, psgate.CloseReason{Cause: psgate.CloseShutdown})
	}
	return err
}

package client

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/clixml"
	"github.com/psgate/psgate/psrp"
	"github.com/psgate/psgate/wsman"
)

// Session is an open PowerShell session: a PSRP runspace pool in one WS-Man
// shell. Its methods are safe for concurrent use; commands run one
// pipeline each.
type Session struct {
	c           *conn
	resourceURI string
	shellID     string
	rpid        psrp.GUID
	lim         clixml.Limits
	opened      time.Time

	mu   sync.Mutex // guards frag and pool
	frag psrp.Fragmenter
	// pool follows the runspace pool's protocol state, as the server's
	// psrp.ServerPool does on the other end.
	pool *psrp.ClientPool

	closed atomic.Bool
	// afterCommand, when set, runs after the server accepted a pipeline
	// (tests close the session there).
	afterCommand func()
}

// Dial opens a session: Create with the creationXml of SESSION_CAPABILITY
// and INIT_RUNSPACEPOOL, then Receive until the pool is Opened.
func Dial(ctx context.Context, cfg Config) (*Session, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Session{
		c:           &conn{cfg: cfg},
		resourceURI: wsman.PowerShellResourcePrefix + cfg.Configuration,
	}
	if s.rpid, err = newGUID(); err != nil {
		return nil, err
	}
	s.pool = psrp.NewClientPool(s.rpid, s.lim)
	if err := s.open(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// ID returns the session's ShellId (its runspace pool id).
func (s *Session) ID() string { return s.shellID }

// Opened returns when the session was opened.
func (s *Session) Opened() time.Time { return s.opened }

// Endpoint returns the URL the session talks to.
func (s *Session) Endpoint() string { return s.c.cfg.Endpoint }

// User returns the user name the session signs in with.
func (s *Session) User() string { return s.c.cfg.User }

func (s *Session) open(ctx context.Context) error {
	var creation []byte
	s.mu.Lock()
	msgs, err := s.pool.Open(1, 1)
	for _, m := range msgs {
		creation = s.frag.AppendFragments(creation, m.Encode())
	}
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}

	req, err := s.c.newRequest(s.resourceURI, "")
	if err != nil {
		return err
	}
	req.Options = []wsman.Option{{Name: "protocolversion", Value: string(psrp.ClientProtocolVersion), MustComply: true}}
	body := wsman.EncodeCreateRequest(req, wsman.CreateShell{
		ShellID:       s.rpid.String(),
		Name:          "psgate",
		InputStreams:  []string{"stdin", "pr"},
		OutputStreams: []string{"stdout"},
		IdleTimeout:   s.c.cfg.IdleTimeout,
		CreationXML:   creation,
	})
	resp, err := s.c.do(ctx, body)
	if err != nil {
		return err
	}
	s.shellID = resp.ShellID
	if s.shellID == "" {
		s.shellID = s.rpid.String()
	}
	s.opened = time.Now()
	if s.c.cfg.NoOpenWait {
		return nil
	}
	if err := s.awaitOpened(ctx); err != nil {
		s.abandon()
		return err
	}
	return nil
}

// awaitOpened receives pool-level messages until RUNSPACEPOOL_STATE.
func (s *Session) awaitOpened(ctx context.Context) error {
	var in psrp.Reassembler
	for {
		resp, err := s.receive(ctx, "")
		if err != nil {
			return err
		}
		for _, st := range resp.Streams {
			msgs, err := in.Write(st.Data)
			if err != nil {
				return psgate.Wrap(psgate.CodeBadFragment, psgate.Args{"detail": err.Error()}, err)
			}
			for _, m := range msgs {
				s.mu.Lock()
				state, reason, err := s.pool.Receive(m)
				s.mu.Unlock()
				if err != nil {
					return psgate.Wrap(psgate.CodeBadMessage, psgate.Args{"detail": err.Error()}, err)
				}
				if state == psrp.PoolOpened {
					return nil
				}
				if state.Terminal() {
					return recordError(reason, psgate.CodePoolBroken)
				}
			}
		}
	}
}

// receive sends one Receive for the command (or the pool when commandID
// is empty), asking again when the server times the request out.
func (s *Session) receive(ctx context.Context, commandID string) (*wsman.Response, error) {
	for {
		req, err := s.c.newRequest(s.resourceURI, s.shellID)
		if err != nil {
			return nil, err
		}
		req.OperationTimeout = s.c.cfg.OperationTimeout
		resp, err := s.c.do(ctx, wsman.EncodeReceiveRequest(req, commandID, "stdout"))
		if psgate.CodeOf(err) == psgate.CodeOperationTimeout {
			continue
		}
		return resp, err
	}
}

// Close deletes the session on the server. Closing twice is a no-op.
func (s *Session) Close(ctx context.Context) error {
	if s.closed.Swap(true) {
		return nil
	}
	req, err := s.c.newRequest(s.resourceURI, s.shellID)
	if err != nil {
		return err
	}
	_, err = s.c.do(ctx, wsman.EncodeDeleteRequest(req))
	if sessionGone(err) {
		return nil // already closed by the server
	}
	return err
}

// abandon deletes a session that failed to open, best effort.
func (s *Session) abandon() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.Close(ctx)
}

// recordError turns a PSRP error record into a catalog error; records
// without a known psgate code take fallback.
func recordError(rec *psrp.ErrorRecord, fallback psgate.Code) *psgate.Error {
	if rec == nil {
		return psgate.E(fallback, psgate.Args{"detail": "no reason given", "reason": "no reason given"})
	}
	code := psgate.Code(rec.Code)
	if rec.Code == "" || psgate.Lookup(code).Code != code {
		code = fallback
	}
	msg := rec.Message
	if rec.DetailsMessage != "" {
		msg = rec.DetailsMessage
	}
	return &psgate.Error{Code: code, Message: msg, Resolution: rec.RecommendedAction}
}

// newGUID returns a random (v4) GUID.
func newGUID() (psrp.GUID, error) {
	var g psrp.GUID
	if _, err := rand.Read(g[:]); err != nil {
		return g, fmt.Errorf("client: random id: %w", err)
	}
	g[6] = g[6]&0x0f | 0x40
	g[8] = g[8]&0x3f | 0x80
	return g, nil
}

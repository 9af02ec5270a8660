package client

import (
	"context"
	"time"

	"github.com/psgate/psgate/wsman"
)

// SessionInfo describes one of the caller's shells on the server.
type SessionInfo struct {
	ID          string
	Name        string
	ResourceURI string
	Owner       string
	ClientIP    string
	// State is "Connected" or "Disconnected".
	State string
	// Runtime is how long the shell has been open, Idle how long since its
	// last request, IdleTimeout when the server closes it for idleness.
	Runtime     time.Duration
	Idle        time.Duration
	IdleTimeout time.Duration
}

// ListSessions lists the caller's own shells on the server (WS-Man
// Enumerate).
func ListSessions(ctx context.Context, cfg Config) ([]SessionInfo, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return listSessions(ctx, &conn{cfg: cfg})
}

// CloseSession closes the caller's shell id on the server (WS-Man Delete).
func CloseSession(ctx context.Context, cfg Config, id string) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	return closeSession(ctx, &conn{cfg: cfg}, id)
}

// Sessions lists the caller's shells on the server, this one included.
func (s *Session) Sessions(ctx context.Context) ([]SessionInfo, error) {
	return listSessions(ctx, s.c)
}

// CloseSession closes another of the caller's shells. Closing this
// session's own id is Close.
func (s *Session) CloseSession(ctx context.Context, id string) error {
	if id == s.shellID {
		return s.Close(ctx)
	}
	return closeSession(ctx, s.c, id)
}

func listSessions(ctx context.Context, c *conn) ([]SessionInfo, error) {
	req, err := c.newRequest(wsman.ResourceShell, "")
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, wsman.EncodeEnumerateRequest(req, ""))
	if err != nil {
		return nil, err
	}
	out := make([]SessionInfo, 0, len(resp.Shells))
	for _, sh := range resp.Shells {
		out = append(out, SessionInfo{
			ID: sh.ShellID, Name: sh.Name, ResourceURI: sh.ResourceURI, Owner: sh.Owner, ClientIP: sh.ClientIP,
			State: sh.State, Runtime: sh.ShellRunTime, Idle: sh.ShellInactivity, IdleTimeout: sh.IdleTimeout,
		})
	}
	return out, nil
}

func closeSession(ctx context.Context, c *conn, id string) error {
	req, err := c.newRequest(wsman.PowerShellResourcePrefix+c.cfg.Configuration, id)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, wsman.EncodeDeleteRequest(req))
	return err
}

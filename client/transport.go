package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/httpbody"
	"github.com/psgate/psgate/wsman"
)

// maxResponse bounds a response body.
const maxResponse = 16 << 20

// conn sends WS-Man requests to one endpoint with the configured
// credentials.
type conn struct {
	cfg Config
	// decoders keeps response decoders (their scanner arrays) between
	// requests; a session's commands and their Receives may overlap.
	decoders sync.Pool
}

// newRequest returns the addressing headers of a new request.
func (c *conn) newRequest(resourceURI, shellID string) (wsman.Request, error) {
	id, err := wsman.NewMessageID(rand.Reader)
	if err != nil {
		return wsman.Request{}, fmt.Errorf("client: message id: %w", err)
	}
	return wsman.Request{
		To:              c.cfg.Endpoint,
		ResourceURI:     resourceURI,
		MessageID:       id,
		ShellID:         shellID,
		MaxEnvelopeSize: wsman.DefaultMaxEnvelopeSize,
	}, nil
}

// authorization returns the Authorization header value.
func (c *conn) authorization(ctx context.Context, refresh bool) (string, error) {
	secret := c.cfg.Password
	if c.cfg.Tokens != nil {
		tok, err := c.cfg.Tokens.Token(ctx, refresh)
		if err != nil {
			return "", err
		}
		secret = "Bearer " + tok
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(c.cfg.User+":"+secret)), nil
}

// do posts body and decodes the response. A refused expired token is
// refreshed and the request sent once more: the gateway refused it before
// doing anything.
//
// A request the gateway could not pass to the node holding the session
// (cluster.owner-unreachable: that node did not answer, the session is
// kept) never reached it, so it is sent again a few times, a second apart:
// behind a load balancer the next try may take a path that works.
func (c *conn) do(ctx context.Context, body []byte) (*wsman.Response, error) {
	for attempt := 1; ; attempt++ {
		resp, err := c.post(ctx, body, false)
		if c.cfg.Tokens != nil && psgate.CodeOf(err) == psgate.CodeTokenExpired {
			c.cfg.Logger.Debug("access token expired; refreshing")
			resp, err = c.post(ctx, body, true)
		}
		if psgate.CodeOf(err) != psgate.CodeOwnerUnreachable || attempt >= ownerRetries {
			return resp, err
		}
		c.cfg.Logger.Debug("the session's gateway node did not answer; sending again", "attempt", attempt)
		t := time.NewTimer(ownerRetryWait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// ownerRetries and ownerRetryWait pace the tries of a request the
// gateway could not pass to the session's node.
const (
	ownerRetries   = 5
	ownerRetryWait = time.Second
)

func (c *conn) post(ctx context.Context, body []byte, refresh bool) (*wsman.Response, error) {
	auth, err := c.authorization(ctx, refresh)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.Endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("client: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	req.Header.Set("User-Agent", "psgate-connector/"+psgate.Version)
	req.Header.Set("Authorization", auth)
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, ClassifyNetworkError(c.cfg.Endpoint, err)
	}
	defer resp.Body.Close()
	data, err := httpbody.Read(resp.Body, resp.ContentLength, maxResponse)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, ClassifyNetworkError(c.cfg.Endpoint, err)
	}
	if len(data) > maxResponse {
		return nil, httpError(c.cfg.Endpoint, resp, []byte("response too large"))
	}
	if !strings.Contains(resp.Header.Get("Content-Type"), "xml") {
		return nil, httpError(c.cfg.Endpoint, resp, data)
	}
	d, _ := c.decoders.Get().(*wsman.Decoder)
	if d == nil {
		d = new(wsman.Decoder)
	}
	r, err := d.DecodeResponse(data, wsman.Limits{MaxEnvelopeSize: maxResponse})
	c.decoders.Put(d)
	var f *wsman.Fault
	switch {
	case errors.As(err, &f):
		return nil, faultError(f, resp.StatusCode)
	case err != nil:
		if resp.StatusCode != http.StatusOK {
			return nil, httpError(c.cfg.Endpoint, resp, nil)
		}
		e := httpError(c.cfg.Endpoint, resp, []byte("the response is not a WS-Management envelope"))
		e.Err = err
		return nil, e
	case resp.StatusCode != http.StatusOK:
		return nil, httpError(c.cfg.Endpoint, resp, nil)
	}
	return r, nil
}

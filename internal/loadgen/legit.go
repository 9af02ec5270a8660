package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/client"
	"github.com/psgate/psgate/identity"
)

// opTimeout bounds one legitimate operation; an operation still running
// when its phase ends finishes within it.
const opTimeout = 60 * time.Second

// maxOpsPerPhase bounds a client's loop besides the phase's duration.
const maxOpsPerPhase = 1 << 20

// legitCommand is what both shells run: a tenant read, as an
// administrator's script would.
const legitCommand = "Get-CsTenant"

// legit is one legitimate client: its own source address and connections,
// a token from the password grant, an open WinRS shell and PSRP pool.
type legit struct {
	i     int
	acct  Account
	base  string
	cur   atomic.Pointer[phase]
	oauth *client.OAuth
	tok   *client.Token
	held
	nTok int
}

func newLegit(i int, acct Account, cfg SecurityConfig, setup *phase) *legit {
	c := &legit{i: i, acct: acct, base: cfg.BaseURL}
	c.cur.Store(setup)
	ip := addr(cfg.SharedAddress, 1, i)
	tr := &http.Transport{
		DialContext:         dialer(func() net.IP { return ip }),
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     90 * time.Second,
	}
	c.hc = &http.Client{Transport: counting{rt: tr, cur: &c.cur}, Timeout: opTimeout}
	c.oauth = &client.OAuth{TokenURL: cfg.BaseURL + identity.PathToken, HTTPClient: c.hc}
	return c
}

// Token implements client.TokenSource with the client's current token.
func (c *legit) Token(ctx context.Context, refresh bool) (string, error) {
	if refresh || c.tok == nil {
		if err := c.renew(ctx, false); err != nil {
			return "", err
		}
	}
	return c.tok.AccessToken, nil
}

// renew signs in with the password, or refreshes the token.
func (c *legit) renew(ctx context.Context, password bool) error {
	var t *client.Token
	var err error
	if password || c.tok == nil || c.tok.RefreshToken == "" {
		t, err = c.oauth.PasswordGrant(ctx, c.acct.UPN, c.acct.Password)
	} else {
		t, err = c.oauth.Refresh(ctx, c.tok)
	}
	if err != nil {
		return err
	}
	c.tok = t
	if c.ws != nil {
		c.ws.SetPassword("Bearer " + t.AccessToken)
	}
	return nil
}

// open signs in (which makes the client's address familiar to smart
// lockout) and opens the shell and the pool.
func (c *legit) open(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*opTimeout)
	defer cancel()
	var err error
	for try := 0; ; try++ {
		// The setup's own sign-ins may meet a full hashing queue.
		if err = c.renew(ctx, true); err == nil || !designedRefusal(err) || try == 20 {
			break
		}
		time.Sleep(jitter(time.Second))
	}
	if err != nil {
		return fmt.Errorf("%s: sign in: %w", c.acct.UPN, err)
	}
	c.ws = NewClientHTTP(c.base+"/wsman", c.acct.UPN, "Bearer "+c.tok.AccessToken, c.hc)
	if c.shell, err = c.ws.Create(); err != nil {
		return fmt.Errorf("%s: WinRS shell: %w", c.acct.UPN, err)
	}
	c.ps, err = client.Dial(ctx, client.Config{Endpoint: c.base + "/powershell", User: c.acct.UPN, Tokens: c, HTTPClient: c.hc, NoOpenWait: true})
	if err != nil {
		return fmt.Errorf("%s: PSRP pool: %w", c.acct.UPN, err)
	}
	return nil
}

// close closes the pool and the shell.
func (c *legit) close(ctx context.Context) error { return c.held.close(ctx, c.acct.UPN) }

// loop runs operations, round robin with think-time pauses, until the
// phase ends.
func (c *legit) loop(ctx context.Context, p *phase, think time.Duration, errs *errorLog) {
	c.cur.Store(p)
	// Spread the clients' first operations over one think time.
	if !pause(ctx, rand.N(think)) {
		return
	}
	for n := 0; n < maxOpsPerPhase && ctx.Err() == nil; n++ {
		op := Op((c.i + n) % int(numOps))
		octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
		start := time.Now()
		err := c.do(octx, op)
		d := time.Since(start)
		cancel()
		switch {
		case err == nil:
			p.record(op, d)
		case designedRefusal(err):
			p.refused[op].Add(1)
		default:
			p.unexp[op].Add(1)
			errs.add(op.String(), err)
		}
		if !pause(ctx, jitter(think)) {
			return
		}
	}
}

func (c *legit) do(ctx context.Context, op Op) error {
	switch op {
	case OpWinRS:
		return c.ws.RoundTrip(c.shell, legitCommand)
	case OpPSRP:
		return c.runPSRP(ctx)
	default:
		c.nTok++
		return c.renew(ctx, c.nTok%5 == 0)
	}
}

// designedRefusal reports a legitimate request refused by design under
// load: the password-hashing queue is full.
func designedRefusal(err error) bool {
	switch psgate.CodeOf(err) {
	case psgate.CodeSignInBusy, psgate.CodeTooManyPending:
		return true
	}
	return false
}

// pause waits d or until ctx ends; false when it ended.
func pause(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// held is what a load client holds open: a WinRS shell and a PSRP pool,
// over its own HTTP client.
type held struct {
	hc    *http.Client
	ws    *Client
	shell string
	ps    *client.Session
}

// runPSRP runs legitCommand as one pipeline on the pool and requires
// output.
func (h *held) runPSRP(ctx context.Context) error {
	res, err := h.ps.Run(ctx, client.Script(legitCommand), client.RunOptions{})
	if err != nil {
		return err
	}
	if err := res.Err(); err != nil {
		return err
	}
	if len(res.Output) == 0 {
		return errors.New("psrp: no output")
	}
	return nil
}

// close closes the pool and the shell, whichever is open, and the idle
// connections; upn names the user in errors.
func (h *held) close(ctx context.Context, upn string) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	var errs []error
	if h.ps != nil {
		if err := h.ps.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: close pool: %w", upn, err))
		}
		h.ps = nil
	}
	if h.shell != "" {
		if err := h.ws.Delete(h.shell); err != nil {
			errs = append(errs, fmt.Errorf("%s: delete shell: %w", upn, err))
		}
		h.shell = ""
	}
	h.hc.CloseIdleConnections()
	return errors.Join(errs...)
}

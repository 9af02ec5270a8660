package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/psgate/psgate/client"
	"github.com/psgate/psgate/identity"
)

// capClient is one psgate client of a capacity or soak run: its own HTTP
// transport and source address, a bearer token from the password grant,
// and the WinRS shell and PSRP runspace pool it holds open.
type capClient struct {
	acct  Account
	base  string
	m     *meter
	oauth *client.OAuth

	mu    sync.Mutex // guards token
	token string

	held
}

func newCapClient(i int, acct Account, base string, shared bool) *capClient {
	hc, m := newMeteredClient(addr(shared, 1, i))
	return &capClient{acct: acct, base: base, held: held{hc: hc}, m: m,
		oauth: &client.OAuth{TokenURL: base + identity.PathToken, HTTPClient: hc}}
}

// Token implements client.TokenSource for the PSRP pool. A refused token
// is replaced with a new password grant; the WinRS shell keeps the token
// it was opened with (access tokens outlive every run here).
func (c *capClient) Token(ctx context.Context, refresh bool) (string, error) {
	c.mu.Lock()
	tok := c.token
	c.mu.Unlock()
	if refresh || tok == "" {
		if err := c.signIn(ctx); err != nil {
			return "", err
		}
		c.mu.Lock()
		tok = c.token
		c.mu.Unlock()
	}
	return tok, nil
}

// signIn gets a token with the password grant, retrying while the
// server's password-hashing queue is full (designed load shedding).
func (c *capClient) signIn(ctx context.Context) error {
	for try := 0; ; try++ {
		t, err := c.oauth.PasswordGrant(ctx, c.acct.UPN, c.acct.Password)
		if err == nil {
			c.mu.Lock()
			c.token = t.AccessToken
			c.mu.Unlock()
			return nil
		}
		if !designedRefusal(err) || try == 20 || !pause(ctx, jitter(time.Second)) {
			return fmt.Errorf("%s: sign in: %w", c.acct.UPN, err)
		}
	}
}

// open opens the client's WinRS shell (OpWinRS) or PSRP pool (OpPSRP).
func (c *capClient) open(ctx context.Context, op Op) error {
	tok, err := c.Token(ctx, false)
	if err != nil {
		return err
	}
	switch op {
	case OpWinRS:
		c.ws = NewClientHTTP(c.base+"/wsman", c.acct.UPN, "Bearer "+tok, c.hc)
		if c.shell, err = c.ws.Create(); err != nil {
			return fmt.Errorf("%s: WinRS shell: %w", c.acct.UPN, err)
		}
	case OpPSRP:
		c.ps, err = client.Dial(ctx, client.Config{Endpoint: c.base + "/powershell", User: c.acct.UPN, Tokens: c, HTTPClient: c.hc, NoOpenWait: true})
		if err != nil {
			return fmt.Errorf("%s: PSRP pool: %w", c.acct.UPN, err)
		}
	default:
		return fmt.Errorf("loadgen: %v is not a command protocol", op)
	}
	return nil
}

// command runs legitCommand once on the open shell (OpWinRS: Command →
// Receive → Signal) or pool (OpPSRP: one pipeline).
func (c *capClient) command(ctx context.Context, op Op) error {
	if op == OpWinRS {
		return c.ws.RoundTrip(c.shell, legitCommand)
	}
	return c.runPSRP(ctx)
}

// close closes whatever the client holds open and its connections.
func (c *capClient) close(ctx context.Context) error { return c.held.close(ctx, c.acct.UPN) }

// setupWorkers bounds the concurrent sign-ins, opens and closes.
const setupWorkers = 8

// each runs f(i) for i in [0, n) on setupWorkers goroutines and returns
// the errors joined.
func each(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	errs := make([]error, n)
	sem := make(chan struct{}, setupWorkers)
	var wg sync.WaitGroup
	for i := range n {
		if ctx.Err() != nil {
			errs[i] = ctx.Err()
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = f(ctx, i)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// signInAll signs every account in once (password grant) and returns the
// access tokens.
func signInAll(ctx context.Context, base string, accounts []Account, shared bool) ([]string, error) {
	tokens := make([]string, len(accounts))
	err := each(ctx, len(accounts), func(ctx context.Context, i int) error {
		c := newCapClient(i, accounts[i], base, shared)
		defer c.hc.CloseIdleConnections()
		if err := c.signIn(ctx); err != nil {
			return err
		}
		tokens[i] = c.token
		return nil
	})
	return tokens, err
}

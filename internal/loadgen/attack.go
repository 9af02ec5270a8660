package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/psgate/psgate/identity"
)

// maxAttackRequests bounds each attack worker's loop besides the phase.
const maxAttackRequests = 1 << 22

// attacker sends the unauthenticated attacks of one phase.
type attacker struct {
	cfg  AttackConfig
	base string
	host string // host:port of base
	p    *phase
	errs *errorLog
	next atomic.Int64
	ips  func() net.IP
	hc   *http.Client
}

// runAttack runs every attack until ctx ends.
func runAttack(ctx context.Context, cfg SecurityConfig, p *phase, errs *errorLog) {
	base := cfg.BaseURL
	if cfg.Attack.URL != "" {
		base = strings.TrimSuffix(cfg.Attack.URL, "/")
	}
	u, err := url.Parse(base)
	if err != nil {
		errs.add("attack", err)
		return
	}
	a := &attacker{cfg: cfg.Attack, base: base, host: u.Host, p: p, errs: errs}
	a.ips = func() net.IP { return addr(cfg.SharedAddress, 2, int(a.next.Add(1))%a.cfg.Addresses) }
	// A new connection for every request, from the next address: the
	// shape of a credential-stuffing botnet, and the server's accept
	// path and per-address limits are exercised.
	a.hc = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dialer(a.ips), DisableKeepAlives: true}}
	var wg sync.WaitGroup
	spawn := func(n int, f func(ctx context.Context, w int)) {
		for w := range n {
			wg.Add(1)
			go func() { defer wg.Done(); f(ctx, w) }()
		}
	}
	spawn(a.cfg.SignIn, a.signIn)
	spawn(a.cfg.Basic, a.basic)
	spawn(a.cfg.DeviceCode, a.deviceCode)
	spawn(a.cfg.SlowBodies, a.slowBody)
	spawn(a.cfg.Conns, a.idleConn)
	wg.Wait()
	a.hc.CloseIdleConnections()
}

// spellings returns the names the attacker tries, worker w, attempt n:
// legitimate names as typed in other cases, down-level form, padded or in
// Unicode compatibility characters, and unknown names.
func (a *attacker) name(w, n int) string {
	k := w*7919 + n
	if len(a.cfg.Names) == 0 || k%4 == 3 {
		return [...]string{"administrator", "admin@contoso.test", fmt.Sprintf("nobody%d@contoso.test", k%1000), "CONTOSO\\Guest", "root", fmt.Sprintf("svc-%d@load00.test", k%97)}[k%6]
	}
	upn := a.cfg.Names[k%len(a.cfg.Names)]
	local, domain, _ := strings.Cut(upn, "@")
	switch k % 6 {
	case 0:
		return upn
	case 1:
		return strings.ToUpper(upn)
	case 2:
		return strings.TrimSuffix(strings.ToUpper(domain), ".TEST") + "\\" + local
	case 3:
		return "  " + upn + " "
	case 4:
		// Fullwidth letters fold to ASCII under NFKC.
		return strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' {
				return r - 'a' + 'ａ'
			}
			return r
		}, local) + "@" + domain
	default:
		return local + "@" + strings.ToUpper(domain)
	}
}

// classify counts one answered request: want says whether its status is a
// designed refusal (or, for device codes, a designed success).
func (a *attacker) classify(c *attackCounter, kind string, resp *http.Response, err error, want func(status int, body []byte) bool) {
	c.sent.Add(1)
	if err != nil {
		c.connErrors.Add(1)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if want(resp.StatusCode, body) {
		c.refused.Add(1)
		return
	}
	c.unexpected.Add(1)
	a.errs.add("attack "+kind, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, body))
}

// refusal is a designed refusal of a wrong password: a 4xx, or a 503
// saying so (identity.sign-in-busy), never a success or another 5xx.
func refusal(status int, body []byte) bool {
	switch {
	case status >= 400 && status < 500:
		return true
	case status == http.StatusServiceUnavailable:
		return strings.Contains(string(body), "identity.")
	}
	return false
}

func (a *attacker) signIn(ctx context.Context, w int) {
	c := a.p.counter("token-pw")
	for n := 0; n < maxAttackRequests && ctx.Err() == nil; n++ {
		form := url.Values{"grant_type": {"password"}, "username": {a.name(w, n)}, "password": {fmt.Sprintf("Winter%d!", w*100000+n)}}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.base+identity.PathToken, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := a.hc.Do(req)
		if ctx.Err() != nil {
			return
		}
		a.classify(c, "token-pw", resp, err, func(status int, body []byte) bool {
			var e struct {
				Code string `json:"psgate_code"`
			}
			_ = json.Unmarshal(body, &e)
			return refusal(status, body) && (status == http.StatusBadRequest || e.Code != "")
		})
		a.backoff(ctx, err)
	}
}

func (a *attacker) basic(ctx context.Context, w int) {
	c := a.p.counter("wsman-basic")
	for n := 0; n < maxAttackRequests && ctx.Err() == nil; n++ {
		path := [...]string{"/wsman", "/powershell"}[n%2]
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, strings.NewReader(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/><s:Body/></s:Envelope>`))
		req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
		req.SetBasicAuth(a.name(w, n), fmt.Sprintf("Spring%d!", w*100000+n))
		resp, err := a.hc.Do(req)
		if ctx.Err() != nil {
			return
		}
		a.classify(c, "wsman-basic", resp, err, refusal)
		a.backoff(ctx, err)
	}
}

func (a *attacker) deviceCode(ctx context.Context, w int) {
	c := a.p.counter("device-code")
	for n := 0; n < maxAttackRequests && ctx.Err() == nil; n++ {
		form := url.Values{"client_id": {[...]string{"", "psgate", "00000000-0000-0000-0000-000000000000", "bogus"}[n%4]}, "scope": {"openid"}}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.base+identity.PathDeviceCode, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := a.hc.Do(req)
		if ctx.Err() != nil {
			return
		}
		// Issuing a code to anyone is the device flow's design; a
		// refusal is the throttle.
		if err == nil && resp.StatusCode == http.StatusOK {
			c.issued.Add(1)
		}
		a.classify(c, "device-code", resp, err, func(status int, body []byte) bool {
			return status == http.StatusOK || refusal(status, body)
		})
		a.backoff(ctx, err)
	}
}

// backoff pauses briefly after a transport error so that a refused dial
// does not spin.
func (a *attacker) backoff(ctx context.Context, err error) {
	if err != nil {
		pause(ctx, 50*time.Millisecond)
	}
}

// slowBody declares a large body and trickles it a byte a second; the
// server must answer or cut the connection within its body timeout.
func (a *attacker) slowBody(ctx context.Context, w int) {
	c := a.p.counter("slow-body")
	limit := a.cfg.BodyTimeout + 5*time.Second
	for n := 0; n < maxAttackRequests && ctx.Err() == nil; n++ {
		conn, err := dialer(a.ips)(ctx, "tcp", a.host)
		c.sent.Add(1)
		if err != nil {
			c.connErrors.Add(1)
			a.backoff(ctx, err)
			continue
		}
		path, ctype := identity.PathToken, "application/x-www-form-urlencoded"
		if (w+n)%2 == 1 {
			path, ctype = "/wsman", "application/soap+xml;charset=UTF-8"
		}
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: 400000\r\n\r\n", path, a.host, ctype)
		start := time.Now()
		ended := false
		buf := make([]byte, 512)
		for ctx.Err() == nil && time.Since(start) < limit {
			if _, err := conn.Write([]byte("a")); err != nil {
				ended = true
				break
			}
			_ = conn.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := conn.Read(buf); err == nil || !isTimeout(err) {
				ended = true // answered, or closed
				break
			}
		}
		conn.Close()
		switch {
		case ended:
			c.refused.Add(1)
		case ctx.Err() != nil:
			// The phase ended first: neither outcome.
		default:
			c.unexpected.Add(1)
			a.errs.add("attack slow-body", fmt.Errorf("%s: connection still open after %v", path, limit))
		}
	}
}

// idleConn holds a connection that sends no request (or half a request
// line); the server must close it within its header timeout.
func (a *attacker) idleConn(ctx context.Context, w int) {
	c := a.p.counter("idle-conn")
	limit := a.cfg.HeaderTimeout + 5*time.Second
	for n := 0; n < maxAttackRequests && ctx.Err() == nil; n++ {
		conn, err := dialer(a.ips)(ctx, "tcp", a.host)
		c.sent.Add(1)
		if err != nil {
			c.connErrors.Add(1)
			pause(ctx, 200*time.Millisecond)
			continue
		}
		if w%2 == 1 {
			fmt.Fprintf(conn, "GET /wsman HTTP/1.1\r\nHost: %s\r\n", a.host)
		}
		start := time.Now()
		closed := false
		buf := make([]byte, 512)
		for ctx.Err() == nil && time.Since(start) < limit {
			_ = conn.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := conn.Read(buf); err == nil || !isTimeout(err) {
				closed = true
				break
			}
		}
		conn.Close()
		if time.Since(start) < time.Second {
			pause(ctx, 100*time.Millisecond) // refused at once: do not spin
		}
		switch {
		case closed:
			c.refused.Add(1)
		case ctx.Err() != nil:
		default:
			c.unexpected.Add(1)
			a.errs.add("attack idle-conn", fmt.Errorf("connection still open after %v", limit))
		}
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

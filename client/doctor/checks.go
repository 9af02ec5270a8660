package doctor

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/client"
	"github.com/psgate/psgate/psobject"
)

// Check names.
const (
	CheckVersion  = "connector version"
	CheckProxy    = "proxy settings"
	CheckDNS      = "gateway DNS"
	CheckTCP      = "gateway TCP"
	CheckTLS      = "gateway TLS"
	CheckHTTP     = "gateway HTTP"
	CheckClock    = "clock skew"
	CheckIdentity = "identity service"
	CheckSignIn   = "sign-in"
	CheckSession  = "session (admin role, tenant policy, quota)"
	CheckQuota    = "quota usage"
)

// maxSkew is the clock difference tokens tolerate.
const maxSkew = 5 * time.Minute

// Target is what to diagnose.
type Target struct {
	// Config is the connection to test: endpoint, user, credentials, TLS.
	Config client.Config
	// TokenURL is the identity service's token endpoint; empty skips the
	// identity check.
	TokenURL string
	// System reads the Windows client settings; nil skips those checks.
	System System
	// Now is the local clock; nil means time.Now.
	Now func() time.Time
	// SignInErr is why no credentials could be set up (token cache
	// unreadable, interactive sign-in required); the sign-in check
	// reports it.
	SignInErr error
	// Version is this connector's version; empty means psgate.Version.
	Version string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
}

// diag holds what checks share: the HTTP Date of the gateway, the session
// opened once for the sign-in, session and quota checks.
type diag struct {
	t    Target
	host string
	port string
	tls  bool

	mu         sync.Mutex
	serverDate time.Time

	dialOnce sync.Once
	session  *client.Session
	dialErr  error
}

// Checks returns the checks for t, in report order. The session a check
// opens is closed by the returned cleanup function.
func Checks(t Target) ([]Check, func(context.Context)) {
	if t.Now == nil {
		t.Now = time.Now
	}
	if t.Version == "" {
		t.Version = psgate.Version
	}
	if t.Getenv == nil {
		t.Getenv = os.Getenv
	}
	d := &diag{t: t}
	if u, err := url.Parse(t.Config.Endpoint); err == nil {
		d.host, d.port, d.tls = u.Hostname(), u.Port(), u.Scheme == "https"
		if d.port == "" {
			d.port = map[bool]string{true: "443", false: "80"}[d.tls]
		}
	}
	checks := []Check{
		{Name: CheckVersion, Needs: []string{CheckIdentity}, Run: d.version},
		{Name: CheckProxy, Run: d.proxy},
		{Name: CheckDNS, Run: d.dns},
		{Name: CheckTCP, Needs: []string{CheckDNS}, Run: d.tcp},
		{Name: CheckTLS, Needs: []string{CheckTCP}, Run: d.tlsCheck},
		{Name: CheckHTTP, Needs: []string{CheckTLS}, Run: d.http},
		{Name: CheckClock, Needs: []string{CheckHTTP}, Run: d.clock},
		{Name: CheckIdentity, Run: d.identity},
		{Name: CheckSignIn, Needs: []string{CheckHTTP}, Run: d.signIn},
		{Name: CheckSession, Needs: []string{CheckSignIn}, Run: d.openSession},
		{Name: CheckQuota, Needs: []string{CheckSignIn}, Run: d.quota},
	}
	checks = append(checks, windowsChecks(t.System, d)...)
	cleanup := func(ctx context.Context) {
		if d.session != nil {
			_ = d.session.Close(ctx)
		}
	}
	return checks, cleanup
}

func (d *diag) dns(ctx context.Context) Result {
	if d.host == "" {
		return Fail(fmt.Errorf("doctor: endpoint %q is not a URL", d.t.Config.Endpoint))
	}
	if net.ParseIP(d.host) != nil {
		return Pass(d.host + " is an IP address")
	}
	addrs, err := net.DefaultResolver.LookupHost(ctx, d.host)
	if err != nil {
		return Fail(client.ClassifyNetworkError(d.t.Config.Endpoint, err))
	}
	return Pass(d.host + " resolves to " + strings.Join(addrs, ", "))
}

func (d *diag) tcp(ctx context.Context) Result {
	var dialer net.Dialer
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := dialer.DialContext(cctx, "tcp", net.JoinHostPort(d.host, d.port))
	if err != nil {
		return Fail(client.ClassifyNetworkError(d.t.Config.Endpoint, err))
	}
	c.Close()
	return Pass("connected to " + net.JoinHostPort(d.host, d.port))
}

func (d *diag) tlsCheck(ctx context.Context) Result {
	if !d.tls {
		return Pass("the endpoint uses plain HTTP (no TLS); only acceptable on loopback")
	}
	hc, err := d.t.Config.HTTP()
	if err != nil {
		return Fail(err)
	}
	tr, ok := hc.Transport.(*http.Transport)
	var tc *tls.Config
	if ok && tr.TLSClientConfig != nil {
		tc = tr.TLSClientConfig.Clone()
	} else {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if tc.ServerName == "" {
		tc.ServerName = d.host
	}
	dialer := &tls.Dialer{Config: tc}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := dialer.DialContext(cctx, "tcp", net.JoinHostPort(d.host, d.port))
	if err != nil {
		return Fail(client.ClassifyNetworkError(d.t.Config.Endpoint, err))
	}
	defer c.Close()
	certs := c.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return Pass("TLS handshake succeeded")
	}
	leaf := certs[0]
	now := d.t.Now()
	if now.After(leaf.NotAfter) {
		return Fail(psgate.E(psgate.CodeTLSExpired, psgate.Args{"host": d.host, "detail": "it expired on " + leaf.NotAfter.Format(time.DateOnly), "url": d.t.Config.Endpoint}))
	}
	msg := fmt.Sprintf("certificate for %s trusted, valid until %s", strings.Join(leaf.DNSNames, ", "), leaf.NotAfter.Format(time.DateOnly))
	if leaf.NotAfter.Sub(now) < 14*24*time.Hour {
		msg += " (expires within 14 days)"
	}
	return Pass(msg)
}

// identifyBody is an anonymous WS-Man Identify request.
const identifyBody = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identify/1/wsmanidentity.xsd"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>`

func (d *diag) http(ctx context.Context) Result {
	hc, err := d.t.Config.HTTP()
	if err != nil {
		return Fail(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.t.Config.Endpoint, bytes.NewReader([]byte(identifyBody)))
	if err != nil {
		return Fail(err)
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	req.Header.Set("WSMANIDENTIFY", "unauthenticated")
	resp, err := hc.Do(req)
	if err != nil {
		return Fail(client.ClassifyNetworkError(d.t.Config.Endpoint, err))
	}
	resp.Body.Close()
	if date, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		d.mu.Lock()
		d.serverDate = date
		d.mu.Unlock()
	}
	if resp.StatusCode != http.StatusOK {
		return Fail(client.HTTPError(d.t.Config.Endpoint, resp.Status, " to a WS-Management Identify request"))
	}
	return Pass("the WS-Management endpoint answers (" + resp.Header.Get("Server") + ")")
}

func (d *diag) clock(context.Context) Result {
	d.mu.Lock()
	date := d.serverDate
	d.mu.Unlock()
	if date.IsZero() {
		return Skip("the gateway sent no Date header")
	}
	skew := d.t.Now().Sub(date)
	if skew < 0 {
		skew = -skew
	}
	if skew > maxSkew {
		return Fail(psgate.E(psgate.CodeClockSkew, psgate.Args{"skew": skew.Round(time.Second).String()}))
	}
	return Pass("within " + skew.Round(time.Second).String() + " of the gateway's clock")
}

func (d *diag) identity(ctx context.Context) Result {
	if d.t.TokenURL == "" {
		return Skip("no token endpoint configured (password sign-in)")
	}
	u, err := url.Parse(d.t.TokenURL)
	if err != nil || u.Host == "" {
		return Fail(fmt.Errorf("doctor: token URL %q is not a URL", d.t.TokenURL))
	}
	discovery := u.Scheme + "://" + u.Host + "/.well-known/openid-configuration"
	hc, err := d.t.Config.HTTP()
	if err != nil {
		return Fail(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, discovery, nil)
	if err != nil {
		return Fail(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Fail(client.IdentityUnreachable(d.t.TokenURL, err))
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Fail(client.IdentityUnreachable(d.t.TokenURL, fmt.Errorf("the discovery document %s answered HTTP %s", discovery, resp.Status)))
	}
	return Pass("identity service reachable at " + u.Host)
}

// dial opens the diagnosis session once.
func (d *diag) dial(ctx context.Context) (*client.Session, error) {
	d.dialOnce.Do(func() {
		d.session, d.dialErr = client.Dial(ctx, d.t.Config)
	})
	return d.session, d.dialErr
}

func (d *diag) signIn(ctx context.Context) Result {
	if d.t.SignInErr != nil {
		return Fail(d.t.SignInErr)
	}
	// Admission refusals come after the credentials were accepted; the
	// session check reports them.
	if _, err := d.dial(ctx); err != nil && psgate.CodeOf(err).Area() != "admission" {
		return Fail(err)
	}
	return Pass(d.t.Config.User + " signed in")
}

func (d *diag) openSession(ctx context.Context) Result {
	s, err := d.dial(ctx)
	if err != nil {
		return Fail(err)
	}
	return Pass("opened session " + s.ID() + ": the user has an admin role and the tenant allows remote PowerShell")
}

func (d *diag) quota(ctx context.Context) Result {
	user := strings.ToLower(d.t.Config.User)
	s, err := d.dial(ctx)
	if err != nil {
		// Without a session, list the user's own shells directly.
		list, lerr := client.ListSessions(ctx, d.t.Config)
		if lerr != nil {
			return Fail(lerr)
		}
		r := Fail(err)
		if psgate.CodeOf(err) == psgate.CodeUserQuotaExceeded || psgate.CodeOf(err) == psgate.CodeTenantQuotaExceeded {
			ids := make([]string, len(list))
			for i, si := range list {
				ids[i] = si.ID
			}
			r.Message += fmt.Sprintf(" You have %d open sessions: %s.", len(list), strings.Join(ids, ", "))
			r.Resolution = "Close the ones you no longer use: `psgate sessions close <id>` (or `psgate sessions close --all`). " + r.Resolution
		}
		return r
	}
	pol, err := s.Run(ctx, client.Script("Get-CsTenantPowerShellPolicy"), client.RunOptions{})
	if err != nil || len(pol.Output) == 0 {
		return Skip("Get-CsTenantPowerShellPolicy is not available to this user")
	}
	sessions, err := s.Run(ctx, client.Script("Get-CsOnlineSession"), client.RunOptions{})
	if err != nil {
		return Skip("Get-CsOnlineSession is not available to this user")
	}
	p, _ := pol.Output[0].(*psobject.Object)
	mine := 0
	for _, v := range sessions.Output {
		if o, ok := v.(*psobject.Object); ok {
			if u, _ := o.Get("User"); strings.EqualFold(psobject.Format(u), user) {
				mine++
			}
		}
	}
	perUser, perTenant := prop(p, "MaxShellsPerUser"), prop(p, "MaxShellsPerTenant")
	msg := fmt.Sprintf("%d of %s sessions for %s (this check's included), %d of %s for the tenant; sessions close after %s, or %s idle",
		mine, perUser, d.t.Config.User, len(sessions.Output), perTenant, prop(p, "SessionLifetime"), prop(p, "IdleTimeout"))
	return Pass(msg)
}

func prop(o *psobject.Object, name string) string {
	if o == nil {
		return "?"
	}
	v, ok := o.Get(name)
	if !ok {
		return "?"
	}
	return psobject.Format(v)
}

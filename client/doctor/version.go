package doctor

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/client"
)

// version compares this connector with the oldest one the server accepts,
// which the identity service's discovery document advertises.
func (d *diag) version(ctx context.Context) Result {
	if d.t.TokenURL == "" {
		return Skip("no identity service to ask for the minimum connector version")
	}
	hc, err := d.t.Config.HTTP()
	if err != nil {
		return Fail(err)
	}
	oauth := &client.OAuth{TokenURL: d.t.TokenURL, HTTPClient: hc}
	_, required, err := oauth.Discover(ctx)
	if err != nil {
		return Fail(err)
	}
	if required == "" {
		return Skip("the server does not advertise a minimum connector version")
	}
	if compareVersions(d.t.Version, required) < 0 {
		return Fail(psgate.E(psgate.CodeClientTooOld, psgate.Args{"client": d.t.Version, "required": required}))
	}
	return Pass("connector " + d.t.Version + ", the server requires at least " + required)
}

// compareVersions compares dotted version numbers ("1.2.10" > "1.2.9"),
// ignoring a leading "v" and any pre-release or build suffix; a missing
// or non-numeric part counts as 0.
func compareVersions(a, b string) int {
	pa, pb := versionParts(a), versionParts(b)
	for i := range max(len(pa), len(pb)) {
		var x, y int
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}

func versionParts(v string) []int {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if i := strings.IndexAny(v, "-+ "); i >= 0 {
		v = v[:i]
	}
	var parts []int
	for _, s := range strings.Split(v, ".") {
		n, _ := strconv.Atoi(s)
		parts = append(parts, n)
	}
	return parts
}

// proxy reports the proxy settings in effect for the gateway and the
// identity service, as the connector's transport resolves them.
func (d *diag) proxy(context.Context) Result {
	var set []string
	// The variables Go's proxy resolution reads.
	for _, v := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"} {
		if val := d.t.Getenv(v); val != "" {
			set = append(set, v+"="+redactProxy(val))
		}
	}
	// The proxy in effect is the transport's (http.ProxyFromEnvironment
	// unless the caller's HTTP client says otherwise).
	proxyOf := http.ProxyFromEnvironment
	if hc, err := d.t.Config.HTTP(); err == nil {
		if tr, ok := hc.Transport.(*http.Transport); ok {
			proxyOf = tr.Proxy
		}
	}
	var routes []string
	for _, u := range []string{d.t.Config.Endpoint, d.t.TokenURL} {
		if u == "" {
			continue
		}
		req, err := http.NewRequest(http.MethodPost, u, nil)
		if err != nil {
			continue
		}
		var p *url.URL
		if proxyOf != nil {
			p, err = proxyOf(req)
		}
		switch {
		case err != nil:
			return Fail(psgate.E(psgate.CodeConnectFailed, psgate.Args{"host": req.URL.Hostname(), "layer": client.LayerHTTP,
				"detail": "the proxy setting is invalid: " + err.Error(), "url": u}))
		case p == nil:
			routes = append(routes, req.URL.Host+" direct")
		default:
			routes = append(routes, req.URL.Host+" via proxy "+p.Redacted())
		}
	}
	msg := "no proxy variables set"
	if len(set) > 0 {
		msg = strings.Join(set, " ")
	}
	if len(routes) > 0 {
		msg += "; " + strings.Join(routes, ", ")
	}
	return Pass(msg)
}

// redactProxy hides a password in a proxy URL.
func redactProxy(v string) string {
	if i := strings.Index(v, "@"); i >= 0 {
		if j := strings.Index(v, "://"); j >= 0 && j < i {
			user := v[j+3 : i]
			if k := strings.Index(user, ":"); k >= 0 {
				return v[:j+3] + user[:k] + ":xxxxx" + v[i:]
			}
		}
	}
	return v
}

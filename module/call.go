package module

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/engine"
	"github.com/psgate/psgate/internal/logkey"
)

// Bounds of one call.
const (
	// maxResponse bounds one page of an answer.
	maxResponse = 32 << 20
	// maxPages bounds how many pages one call follows.
	maxPages = 10000
	// maxDetail bounds the backend's text shown in an error.
	maxDetail = 600
)

// errTooLarge is an answer page larger than maxResponse.
var errTooLarge = errors.New("module: the answer is too large")

// client calls one backend. Its transport pools connections across every
// cmdlet and shell of the process.
type client struct {
	b    *Backend
	cfg  Config
	base string // BaseURL, without a trailing slash
	http *http.Client
	// origin is the scheme and host next links must keep.
	origin string
	types  map[string]*TypeDef
	brk    breaker
}

func newClient(b *Backend, types map[string]*TypeDef, cfg Config) *client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: b.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       b.tls,
		TLSHandshakeTimeout:   b.Timeout,
		ResponseHeaderTimeout: b.Timeout,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	u, _ := url.Parse(b.BaseURL) // checked by Parse
	return &client{
		b:      b,
		cfg:    cfg,
		base:   strings.TrimRight(b.BaseURL, "/"),
		http:   &http.Client{Transport: tr, CheckRedirect: noRedirects},
		origin: u.Scheme + "://" + u.Host,
		types:  types,
	}
}

// noRedirects returns a redirect as the answer: following it could carry
// the caller's token to another host.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// query encodes the bound query parameters.
func (c *Cmdlet) query(inv *engine.Invocation) string {
	q := url.Values{}
	for _, b := range c.Request.Query {
		v, ok := inv.Params[b.Param]
		if !ok {
			continue
		}
		if list, ok := v.([]string); ok {
			for _, s := range list {
				q.Add(b.Wire, s)
			}
			continue
		}
		q.Add(b.Wire, textOf(v))
	}
	return q.Encode()
}

// body encodes the bound body parameters as a JSON object.
func (c *Cmdlet) body(inv *engine.Invocation) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	n := 0
	for _, b := range c.Request.Body {
		v, ok := inv.Params[b.Param]
		if !ok {
			continue
		}
		if t, ok := v.(time.Time); ok {
			v = t.UTC().Format(time.RFC3339Nano)
		}
		k, err := json.Marshal(b.Wire)
		if err != nil {
			return nil, err
		}
		val, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(val)
		n++
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// pages calls u and follows its pages, writing each page's objects as it
// arrives; a stopped pipeline (ctx) requests no further page.
func (cl *client) pages(ctx context.Context, inv *engine.Invocation, c *Cmdlet, u string, body []byte, tok string, target any) error {
	method := c.method()
	for page := 0; ; page++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if inv.Verbose() {
			inv.WriteVerbose(fmt.Sprintf("%s %s", method, u))
		}
		if wait, ok := cl.brk.allow(cl.cfg.Now()); !ok {
			return cl.paused(c, wait)
		}
		res, err := cl.do(ctx, method, u, body, tok)
		if err != nil && ctx.Err() != nil {
			cl.brk.release() // stopped by the caller: says nothing of the backend
			return ctx.Err()
		}
		cl.brk.done(cl.cfg.Now(), err != nil || res.status >= 500)
		if err != nil {
			return cl.unreachable(c, err)
		}
		if res.status < 200 || res.status > 299 {
			rec, terminating := cl.httpError(c, res, target)
			if terminating {
				return &engine.TerminatingError{Record: rec}
			}
			inv.WriteError(rec)
			return nil
		}
		next, err := cl.emit(inv, c, res)
		if err != nil {
			return cl.badResponse(c, err)
		}
		if next == "" {
			return nil
		}
		if next, err = cl.nextURL(c, u, next); err != nil {
			return cl.badResponse(c, err)
		}
		if next == u || page+1 >= maxPages {
			return cl.badResponse(c, fmt.Errorf("the paging never ends (page %d links to %s)", page+1, next))
		}
		u = next
	}
}

// nextURL resolves the next page's address: a next link (relative or on
// the backend's own origin), or the current request with the
// continuation token.
func (cl *client) nextURL(c *Cmdlet, cur, next string) (string, error) {
	if c.Paging.Token != "" {
		u, err := url.Parse(cur)
		if err != nil {
			return "", err
		}
		q := u.Query()
		q.Set(c.Paging.TokenQuery, next)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	base, err := url.Parse(cur)
	if err != nil {
		return "", err
	}
	ref, err := url.Parse(next)
	if err != nil {
		return "", fmt.Errorf("the next link %q is not a URL", clip(next))
	}
	u := base.ResolveReference(ref)
	if u.Scheme+"://"+u.Host != cl.origin {
		return "", fmt.Errorf("the next link %q leaves the backend's origin %s", clip(next), cl.origin)
	}
	return u.String(), nil
}

// response is one HTTP answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// idempotent reports whether a call may be repeated.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// retryable reports whether an answer is worth a retry.
func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// do makes one call, with retries for idempotent methods: after a
// connection failure or a 429, 502, 503 or 504, waiting the Retry-After
// the backend asks for or an exponential backoff with jitter, at most
// Backend.Retries times. POST and PATCH are made exactly once.
func (cl *client) do(ctx context.Context, method, u string, body []byte, tok string) (*response, error) {
	retries := 0
	if idempotent(method) {
		retries = cl.b.Retries
	}
	for attempt := 0; ; attempt++ {
		res, err := cl.once(ctx, method, u, body, tok)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var cv *tls.CertificateVerificationError
		if attempt >= retries || err == nil && !retryable(res.status) || errors.As(err, &cv) || errors.Is(err, errTooLarge) {
			return res, err
		}
		wait := backoff(attempt)
		if err == nil {
			if ra, ok := retryAfter(res.header, time.Now()); ok {
				if ra > cl.cfg.MaxRetryWait {
					return res, nil // report it: the caller decides to wait that long
				}
				wait = ra
			}
		}
		wait = min(wait, cl.cfg.MaxRetryWait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// backoff is 200ms, 400ms, 800ms... with up to 50% jitter.
func backoff(attempt int) time.Duration {
	d := 200 * time.Millisecond << min(attempt, 6)
	return d/2 + rand.N(d/2+1)
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// once makes one attempt, bounded by the backend's timeout.
func (cl *client) once(ctx context.Context, method, u string, body []byte, tok string) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, cl.b.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "psgate")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := cl.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxResponse {
		return nil, errTooLarge
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// unreachable is the terminating error of a call that got no answer.
func (cl *client) unreachable(c *Cmdlet, err error) error {
	cl.cfg.Logger.Warn("module backend unreachable", "backend", cl.b.Name, logkey.Command, c.Name, logkey.Err, err)
	detail := "the connection failed"
	var (
		ne net.Error
		cv *tls.CertificateVerificationError
		rh tls.RecordHeaderError
		dn *net.DNSError
	)
	switch {
	case errors.Is(err, errTooLarge):
		detail = fmt.Sprintf("its answer is larger than %d MiB", maxResponse>>20)
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
		detail = fmt.Sprintf("no answer within %v", cl.b.Timeout)
	case errors.As(err, &cv):
		detail = "its TLS certificate is not trusted (see caFile in the module file)"
	case errors.As(err, &rh):
		detail = "the TLS handshake failed (is the base URL's scheme right?)"
	case errors.As(err, &dn):
		detail = "its host name does not resolve"
	case errors.Is(err, syscall.ECONNREFUSED):
		detail = "the connection was refused"
	}
	e := psgate.Wrap(psgate.CodeBackendUnreachable, psgate.Args{"backend": cl.b.Name, "detail": detail}, err)
	rec := engine.NewErrorRecord(e, "BackendUnreachable,"+c.Name, engine.CategoryResourceUnavailable, nil)
	return &engine.TerminatingError{Record: rec}
}

// paused is the terminating error of a call the open circuit breaker
// refused without calling.
func (cl *client) paused(c *Cmdlet, wait time.Duration) error {
	secs := int((wait + time.Second - 1) / time.Second)
	detail := fmt.Sprintf("psgate paused calls to it for %d seconds after %d failed calls in a row", secs, breakerThreshold)
	e := psgate.E(psgate.CodeBackendUnreachable, psgate.Args{"backend": cl.b.Name, "detail": detail}).With("retry_after", strconv.Itoa(secs))
	rec := engine.NewErrorRecord(e, "BackendUnreachable,"+c.Name, engine.CategoryResourceUnavailable, nil)
	return &engine.TerminatingError{Record: rec}
}

// badResponse is the terminating error of an answer psgate cannot read.
func (cl *client) badResponse(c *Cmdlet, err error) error {
	cl.cfg.Logger.Warn("module backend answer unreadable", "backend", cl.b.Name, logkey.Command, c.Name, logkey.Err, err)
	e := psgate.Wrap(psgate.CodeBackendBadResponse, psgate.Args{"backend": cl.b.Name, "detail": clip(err.Error())}, err)
	rec := engine.NewErrorRecord(e, "BackendBadResponse,"+c.Name, engine.CategoryInvalidResult, nil)
	return &engine.TerminatingError{Record: rec}
}

// httpError maps an HTTP error answer to an error record, and says
// whether it stops the pipeline: an answer about the object (404, 403,
// 409, 400, 422) is written and the next input goes on; a backend that is
// busy, failing or refusing psgate's token stops the command.
func (cl *client) httpError(c *Cmdlet, res *response, target any) (*engine.ErrorRecord, bool) {
	detail := problemDetail(res.body)
	if detail == "" {
		detail = http.StatusText(res.status) + "."
	}
	args := psgate.Args{"backend": cl.b.Name, "detail": detail, "status": strconv.Itoa(res.status)}
	var (
		code        psgate.Code
		cat         engine.Category
		id          string
		terminating bool
	)
	switch s := res.status; {
	case s == http.StatusNotFound || s == http.StatusGone:
		code, cat, id = psgate.CodeBackendNotFound, engine.CategoryObjectNotFound, "ObjectNotFound"
	case s == http.StatusForbidden:
		code, cat, id = psgate.CodeBackendDenied, engine.CategoryPermissionDenied, "PermissionDenied"
	case s == http.StatusUnauthorized:
		// The backend refused psgate's token: every call would fail.
		code, cat, id, terminating = psgate.CodeBackendDenied, engine.CategoryPermissionDenied, "BackendUnauthorized", true
		cl.cfg.Logger.Warn("module backend refused psgate's token", "backend", cl.b.Name, logkey.Command, c.Name, "audience", cl.b.Audience, "detail", detail)
	case s == http.StatusConflict || s == http.StatusPreconditionFailed:
		code, cat, id = psgate.CodeBackendConflict, engine.CategoryResourceExists, "ResourceExists"
	case s == http.StatusBadRequest || s == http.StatusUnprocessableEntity:
		code, cat, id = psgate.CodeBackendInvalid, engine.CategoryInvalidArgument, "InvalidArgument"
	case s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable:
		code, cat, id, terminating = psgate.CodeBackendBusy, engine.CategoryLimitsExceeded, "BackendBusy", true
		args["retry_after"] = "a few"
		if ra, ok := retryAfter(res.header, time.Now()); ok {
			args["retry_after"] = strconv.Itoa(int((ra + time.Second - 1) / time.Second))
		}
	case s >= 500:
		code, cat, id, terminating = psgate.CodeBackendFailed, engine.CategoryResourceUnavailable, "BackendFailed", true
		cl.cfg.Logger.Warn("module backend failed", "backend", cl.b.Name, logkey.Command, c.Name, "status", s, "detail", detail)
	default:
		code, cat, id = psgate.CodeBackendFailed, engine.CategoryInvalidOperation, "BackendRefused"
	}
	e := psgate.E(code, args)
	if ra, ok := args["retry_after"]; ok && ra != "a few" {
		e = e.With("retry_after", ra)
	}
	e = e.With("status", strconv.Itoa(res.status))
	return engine.NewErrorRecord(e, id+","+c.Name, cat, target), terminating
}

// problemDetail extracts the backend's message from an error answer:
// RFC 9457 problem details (detail, title, errors), {"error": {"message",
// "details"}}, {"message": ..., "errors": [{"field", "message"}]}, or
// short plain text. Field messages are listed as "field: message".
func problemDetail(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		if len(body) <= maxDetail && !bytes.ContainsAny(body, "<>") {
			return clip(string(body))
		}
		return ""
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if inner, ok := obj["error"].(map[string]any); ok {
		obj = inner
	}
	msg := ""
	for _, k := range []string{"detail", "message", "title", "error", "error_description"} {
		if s, ok := obj[k].(string); ok && s != "" {
			msg = s
			break
		}
	}
	var fields []string
	for _, k := range []string{"errors", "details", "invalid-params", "invalidParams"} {
		fields = append(fields, fieldMessages(obj[k])...)
	}
	if len(fields) > 0 {
		if msg != "" && !strings.HasSuffix(msg, ".") {
			msg += "."
		}
		msg = strings.TrimSpace(msg + " " + strings.Join(fields, "; "))
	}
	return clip(msg)
}

// fieldMessages reads a list of {field|name|target, message|reason} or a
// map of field → message(s).
func fieldMessages(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				if s, ok := e.(string); ok {
					out = append(out, s)
				}
				continue
			}
			field := firstString(m, "field", "name", "target", "pointer")
			text := firstString(m, "message", "reason", "detail")
			switch {
			case field != "" && text != "":
				out = append(out, field+": "+text)
			case text != "":
				out = append(out, text)
			}
		}
	case map[string]any:
		for _, k := range sortedKeys(x) {
			switch m := x[k].(type) {
			case string:
				out = append(out, k+": "+m)
			case []any:
				for _, s := range m {
					if s, ok := s.(string); ok {
						out = append(out, k+": "+s)
					}
				}
			}
		}
	}
	return out
}

func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// clip makes backend text safe to show: no control characters, bounded.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > maxDetail {
		s = string(r[:maxDetail]) + "…"
	}
	return strings.TrimSpace(s)
}

// escapePath escapes one path segment.
func escapePath(s string) string { return url.PathEscape(s) }

package identity

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/logkey"
	"github.com/psgate/psgate/store"
)

// DefaultUserClaim is the claim that names the user in a federated token
// when the federation does not say.
const DefaultUserClaim = "preferred_username"

// federationStore is the part of the store federation reads.
type federationStore interface {
	ListTenants(ctx context.Context) ([]store.Tenant, error)
	Federation(ctx context.Context, tenantID psgate.TenantID) (store.Federation, error)
}

// federation validates tokens of the external OIDC providers that tenants
// trust. It keeps an index issuer → federations, rebuilt at most every
// indexTTL (and at most every minIndex on an unknown issuer), and one
// provider per issuer with its discovery document and key set.
//
// No lock is held across I/O: a rebuild of the index (store reads) and a
// provider's key set fetch (network) each run once at a time, outside the
// locks, and callers that need their result wait for it on a channel, so
// one slow provider (or a slow store) delays only the sign-ins that cannot
// go on without it.
type federation struct {
	st         federationStore
	client     *http.Client
	now        func() time.Time
	log        *slog.Logger
	minRefresh time.Duration // between key set fetches for an unknown kid
	keysTTL    time.Duration // key sets are refetched this often
	maxStale   time.Duration // known keys keep working this long while the provider is down
	indexTTL   time.Duration
	minIndex   time.Duration

	mu         sync.Mutex
	index      map[string][]fedTenant
	indexAt    time.Time
	rebuilding chan struct{} // closed when the running rebuild ends; nil when none runs
	indexErr   error         // of the last rebuild
	providers  map[string]*provider
}

type fedTenant struct {
	fed    store.Federation
	tenant store.Tenant
}

func newFederation(st federationStore, client *http.Client, now func() time.Time, minRefresh time.Duration, log *slog.Logger) *federation {
	return &federation{
		st:         st,
		client:     client,
		now:        now,
		log:        log,
		minRefresh: minRefresh,
		keysTTL:    time.Hour,
		maxStale:   24 * time.Hour,
		indexTTL:   time.Minute,
		minIndex:   5 * time.Second,
		providers:  make(map[string]*provider),
	}
}

// lookup returns the tenants that trust issuer, and its provider. While
// the index is being rebuilt, an issuer it already holds is answered from
// it; an issuer it does not hold waits for the rebuild.
func (f *federation) lookup(ctx context.Context, issuer string) ([]fedTenant, *provider, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	age := now.Sub(f.indexAt)
	ts, ok := f.index[issuer]
	if f.index == nil || age >= f.indexTTL || !ok && age >= f.minIndex {
		switch {
		case f.rebuilding == nil:
			if err := f.rebuild(ctx, now); err != nil {
				return nil, nil, err
			}
		case f.index == nil || !ok:
			if err := f.waitRebuild(ctx); err != nil {
				return nil, nil, err
			}
		}
		ts = f.index[issuer]
	}
	if len(ts) == 0 {
		return nil, nil, nil
	}
	p, ok := f.providers[issuer]
	if !ok {
		p = &provider{issuer: issuer}
		f.providers[issuer] = p
	}
	return ts, p, nil
}

// rebuild reads the index from the store with f.mu released, and installs
// it. f.mu is held on entry and on return.
func (f *federation) rebuild(ctx context.Context, now time.Time) error {
	done := make(chan struct{})
	f.rebuilding = done
	f.mu.Unlock()
	// Callers waiting for this rebuild must not fail because the client
	// that started it hung up.
	index, err := f.readIndex(context.WithoutCancel(ctx))
	f.mu.Lock()
	f.rebuilding, f.indexErr = nil, err
	close(done)
	if err != nil {
		return err
	}
	for iss := range f.providers {
		if _, ok := index[iss]; !ok {
			delete(f.providers, iss)
		}
	}
	f.index, f.indexAt = index, now
	return nil
}

// waitRebuild waits, with f.mu released, for the running rebuild, and
// returns its error. f.mu is held on entry and on return.
func (f *federation) waitRebuild(ctx context.Context) error {
	done := f.rebuilding
	f.mu.Unlock()
	select {
	case <-done:
		f.mu.Lock()
		return f.indexErr
	case <-ctx.Done():
		f.mu.Lock()
		return ctx.Err()
	}
}

// readIndex reads the enabled federations from the store, by issuer.
func (f *federation) readIndex(ctx context.Context) (map[string][]fedTenant, error) {
	tenants, err := f.st.ListTenants(ctx)
	if err != nil {
		return nil, storeError(err)
	}
	index := make(map[string][]fedTenant)
	for _, t := range tenants {
		fed, err := f.st.Federation(ctx, t.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, storeError(err)
		}
		if fed.Enabled && fed.Issuer != "" {
			index[fed.Issuer] = append(index[fed.Issuer], fedTenant{fed: fed, tenant: t})
		}
	}
	return index, nil
}

// provider caches one OIDC provider's key set.
type provider struct {
	issuer string

	mu       sync.Mutex
	keys     []jose.JSONWebKey
	fetched  time.Time     // last successful fetch
	tried    time.Time     // last attempt
	lastErr  error         // of the last attempt
	fetching chan struct{} // closed when the running fetch ends; nil when none runs
}

// key returns the provider's key kid for alg. It refetches the key set
// when kid is unknown (at most every minRefresh) or the set is older than
// keysTTL; while the provider is unreachable, known keys keep working for
// maxStale. The error is a *psgate.Error: CodeProviderUnreachable or
// CodeFederationMisconfig (503), or CodeFederatedTokenInvalid for a kid the
// provider does not publish.
//
// One fetch runs at a time, without p.mu held: the caller that starts it
// waits for it; others wait only when they have no usable key without it.
func (p *provider) key(ctx context.Context, f *federation, tenants []fedTenant, kid, alg string) (jose.JSONWebKey, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := f.now()
	k, found := p.find(kid, alg)
	fresh := !p.fetched.IsZero() && now.Sub(p.fetched) < f.keysTTL
	if found && fresh {
		return k, nil
	}
	switch {
	case p.fetching == nil && (p.tried.IsZero() || now.Sub(p.tried) >= f.minRefresh):
		p.tried = now
		p.fetch(ctx, f, tenants, now)
		k, found = p.find(kid, alg)
	case p.fetching != nil && !(found && now.Sub(p.fetched) < f.maxStale):
		if err := p.wait(ctx); err != nil {
			return jose.JSONWebKey{}, err
		}
		k, found = p.find(kid, alg)
	}
	var fe *fetchError
	switch {
	case found && now.Sub(p.fetched) < f.maxStale:
		return k, nil
	case errors.As(p.lastErr, &fe):
		return jose.JSONWebKey{}, fe.catalog(p.issuer)
	default:
		return jose.JSONWebKey{}, fedInvalid(p.issuer, "it is signed with key %q, which the provider did not publish for %s when last asked", kid, alg)
	}
}

// fetch fetches the key set with p.mu released, and installs it. p.mu is
// held on entry and on return.
func (p *provider) fetch(ctx context.Context, f *federation, tenants []fedTenant, now time.Time) {
	done := make(chan struct{})
	p.fetching = done
	p.mu.Unlock()
	// A client that hangs up must not leave the provider marked
	// unreachable for everyone.
	keys, err := f.fetchKeys(context.WithoutCancel(ctx), p.issuer)
	p.mu.Lock()
	p.fetching, p.lastErr = nil, err
	close(done)
	if err != nil {
		names := make([]string, len(tenants))
		for i, ft := range tenants {
			names[i] = ft.tenant.Name
		}
		f.log.Warn("federated provider unreachable or misconfigured", "issuer", p.issuer, "tenants", names, logkey.Err, err)
		return
	}
	p.keys, p.fetched = keys, now
}

// wait waits, with p.mu released, for the running fetch. p.mu is held on
// entry and on return.
func (p *provider) wait(ctx context.Context) error {
	done := p.fetching
	p.mu.Unlock()
	defer p.mu.Lock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// find returns the signing key kid that fits alg. A token without kid
// matches when the set holds exactly one such key.
func (p *provider) find(kid, alg string) (jose.JSONWebKey, bool) {
	var match []jose.JSONWebKey
	for _, k := range p.keys {
		if (kid == "" || k.KeyID == kid) && (k.Algorithm == "" || k.Algorithm == alg) {
			match = append(match, k)
		}
	}
	if len(match) != 1 {
		return jose.JSONWebKey{}, false
	}
	return match[0], true
}

// fetchError is a failure to fetch a provider's metadata or keys.
type fetchError struct {
	// unreachable is set for network failures and 5xx answers; otherwise
	// the provider answered something unusable (misconfiguration).
	unreachable bool
	// layer says what failed, e.g. "TCP connect to https://idp/keys".
	layer string
	err   error
}

func (e *fetchError) Error() string { return "identity: " + e.layer + ": " + e.err.Error() }
func (e *fetchError) Unwrap() error { return e.err }

// catalog is the refusal of a token that cannot be checked. It names the
// issuer, which the token itself names, and no tenant: until the token is
// verified nothing says which tenant it is for, and naming one that
// trusts the issuer would tell any caller who uses that provider.
func (e *fetchError) catalog(issuer string) error {
	if e.unreachable {
		return psgate.Wrap(psgate.CodeProviderUnreachable, psgate.Args{"issuer": issuer, "layer": e.layer}, e)
	}
	return psgate.Wrap(psgate.CodeFederationMisconfig, psgate.Args{"issuer": issuer, "reason": e.layer}, e)
}

// providerMetadata is the part of an OpenID Provider's discovery document
// psgate reads.
type providerMetadata struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

// fetchKeys fetches the issuer's discovery document, then its key set.
func (f *federation) fetchKeys(ctx context.Context, issuer string) ([]jose.JSONWebKey, error) {
	if err := checkProviderURL(issuer, issuer); err != nil {
		return nil, &fetchError{layer: "the issuer URL " + issuer + " " + err.Error(), err: err}
	}
	discovery := strings.TrimRight(issuer, "/") + PathDiscovery
	body, err := f.get(ctx, discovery)
	if err != nil {
		return nil, err
	}
	md, err := parseProviderMetadata(body, issuer)
	if err != nil {
		return nil, &fetchError{layer: "the discovery document " + discovery + " " + err.Error(), err: err}
	}
	body, err = f.get(ctx, md.JWKSURI)
	if err != nil {
		return nil, err
	}
	keys, err := parseJWKS(body)
	if err != nil {
		return nil, &fetchError{layer: "the key set " + md.JWKSURI + " " + err.Error(), err: err}
	}
	f.log.Info("federated provider keys fetched", "issuer", issuer, "keys", len(keys))
	return keys, nil
}

// parseProviderMetadata decodes a discovery document and checks that it
// belongs to issuer (OpenID Connect Discovery 1.0, section 4.3).
func parseProviderMetadata(body []byte, issuer string) (providerMetadata, error) {
	var md providerMetadata
	if err := json.Unmarshal(body, &md); err != nil {
		return providerMetadata{}, errors.New("is not a JSON object")
	}
	if md.Issuer != issuer {
		return providerMetadata{}, fmt.Errorf("names issuer %q, not %q", md.Issuer, issuer)
	}
	if err := checkProviderURL(md.JWKSURI, issuer); err != nil {
		return providerMetadata{}, fmt.Errorf("has jwks_uri %q, which %s", md.JWKSURI, err)
	}
	return md, nil
}

// parseJWKS decodes a key set, keeping the public signing keys it
// understands and skipping the others.
func parseJWKS(body []byte) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, errors.New("is not a JSON Web Key Set")
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil || !k.Valid() || k.Use == "enc" {
			continue
		}
		if !k.IsPublic() {
			k = k.Public()
		}
		if k.Valid() {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("holds no usable signing key")
	}
	return keys, nil
}

// checkProviderURL requires https, or http on a loopback host when the
// issuer itself is such a URL (development providers).
func checkProviderURL(raw, issuer string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("is not an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) && strings.HasPrefix(issuer, "http://") {
			return nil
		}
	}
	return errors.New("is not an https URL")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// maxMetadataSize bounds discovery documents and key sets.
const maxMetadataSize = 1 << 20

// get fetches url and classifies failures by layer.
func (f *federation) get(ctx context.Context, rawURL string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, &fetchError{layer: "the URL " + rawURL, err: err}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		if isPrivateAddress(err) {
			// Not a network failure: the provider is where the gateway
			// may not go.
			var pe *PrivateAddressError
			errors.As(err, &pe)
			return nil, &fetchError{layer: "the address of " + rawURL + ": " + pe.Error(), err: err}
		}
		return nil, &fetchError{unreachable: true, layer: netLayer(err) + " " + rawURL, err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataSize+1))
	if err != nil {
		return nil, &fetchError{unreachable: true, layer: "reading " + rawURL, err: err}
	}
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return nil, &fetchError{unreachable: true, layer: fmt.Sprintf("GET %s (HTTP %d)", rawURL, resp.StatusCode),
			err: fmt.Errorf("status %s", resp.Status)}
	case resp.StatusCode != http.StatusOK:
		return nil, &fetchError{layer: fmt.Sprintf("GET %s answered HTTP %d", rawURL, resp.StatusCode),
			err: fmt.Errorf("status %s", resp.Status)}
	case len(body) > maxMetadataSize:
		return nil, &fetchError{layer: fmt.Sprintf("GET %s returned more than %d bytes", rawURL, maxMetadataSize),
			err: errors.New("response too large")}
	}
	return body, nil
}

// netLayer names the network step that failed.
func netLayer(err error) string {
	var (
		dnsErr    *net.DNSError
		opErr     *net.OpError
		verifyErr *tls.CertificateVerificationError
		alertErr  tls.AlertError
		recordErr tls.RecordHeaderError
		authErr   x509.UnknownAuthorityError
		hostErr   x509.HostnameError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "timeout fetching"
	case errors.As(err, &dnsErr):
		return "DNS lookup for"
	case errors.As(err, &verifyErr) || errors.As(err, &alertErr) || errors.As(err, &recordErr) ||
		errors.As(err, &authErr) || errors.As(err, &hostErr):
		return "TLS handshake with"
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "TCP connect to"
	default:
		return "fetching"
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func fedInvalid(issuer, format string, args ...any) error {
	return psgate.E(psgate.CodeFederatedTokenInvalid, psgate.Args{"issuer": issuer, "reason": fmt.Sprintf(format, args...)})
}

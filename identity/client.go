package identity

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/logkey"
	"github.com/psgate/psgate/store"
)

// clientAssertionType is the client_assertion_type of private_key_jwt
// (RFC 7523 section 2.2).
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// maxAssertionLifetime bounds how far in the future a client assertion
// may expire, so that the replay cache stays small.
const maxAssertionLifetime = time.Hour

// oauthClient is the authenticated client of a token request.
type oauthClient struct {
	id string
	// registered is set for store.OAuthClient applications, which
	// authenticated with their secret or certificate; unset for public
	// clients (the connector).
	registered bool
	rec        store.OAuthClient
}

// authenticateClient identifies the client of a token endpoint request:
// client_secret_basic, client_secret_post, private_key_jwt, or a public
// client named by client_id (DefaultClientID when absent). A registered
// application must prove itself; failures count against the client
// address like failed sign-ins.
func (s *Service) authenticateClient(ctx context.Context, r *http.Request, form url.Values) (oauthClient, error) {
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil || form.Get("client_secret") != "" || form.Has("client_assertion") {
			return oauthClient{}, invalidRequest("the client authenticated in more than one way, or its Basic credentials are not form-encoded")
		}
		if fid := form.Get("client_id"); fid != "" && fid != id {
			return oauthClient{}, invalidRequest("client_id differs from the Basic user name")
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	assertion := form.Get("client_assertion")
	if assertion != "" || form.Has("client_assertion_type") {
		if form.Get("client_assertion_type") != clientAssertionType || secret != "" {
			return oauthClient{}, invalidRequest("client_assertion_type must be " + clientAssertionType + ", without a secret")
		}
		if id == "" {
			id = assertionSubject(assertion)
		}
	}
	if id == "" {
		id = DefaultClientID
	}
	rec, err := s.cfg.Store.OAuthClient(ctx, id)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return oauthClient{}, storeError(err)
	}
	if secret == "" && assertion == "" {
		if !known && s.public[id] {
			return oauthClient{id: id}, nil
		}
		// No credential at all: nothing was guessed, nothing is counted.
		return oauthClient{}, psgate.E(psgate.CodeInvalidClient, psgate.Args{"client": id}).
			With("reason", "the application presented no secret or client assertion")
	}
	// A credential is checked only from an address that is not blocked,
	// before any hashing.
	addr := s.ClientAddr(r)
	if err := s.cred.addressLocked(ctx, addr); err != nil {
		return oauthClient{}, err
	}
	if assertion != "" {
		if !known || len(rec.CertificatePEM) == 0 {
			return oauthClient{}, s.clientFailed(ctx, id, rec, known, addr, errors.New("no certificate registered"))
		}
		if err := s.verifyAssertion(assertion, rec); err != nil {
			return oauthClient{}, s.clientFailed(ctx, id, rec, known, addr, err)
		}
		return oauthClient{id: id, registered: true, rec: rec}, nil
	}
	// Unknown clients and applications without a secret burn the cost of
	// one hash, like a wrong secret.
	sum := sha256.Sum256([]byte(id))
	key := "client:" + base64.RawURLEncoding.EncodeToString(sum[:])
	loc := location{addr: addr, addrKey: addressKey(addr)}
	ok, fresh, err := s.cred.verifySecret(ctx, key, id, rec.SecretHash, secret, loc)
	switch {
	case err != nil:
		return oauthClient{}, err
	case !ok && fresh:
		return oauthClient{}, s.clientFailed(ctx, id, rec, known, addr, nil)
	case !ok:
		// The same wrong secret again: counted once already.
		return oauthClient{}, psgate.E(psgate.CodeInvalidClient, psgate.Args{"client": id})
	}
	return oauthClient{id: id, registered: true, rec: rec}, nil
}

// clientFailed counts a failed client authentication against the address,
// audits it, and returns invalid_client (or the throttling error).
func (s *Service) clientFailed(ctx context.Context, id string, rec store.OAuthClient, known bool, addr string, cause error) error {
	e := psgate.E(psgate.CodeInvalidClient, psgate.Args{"client": id})
	var ae assertionError
	if errors.As(cause, &ae) {
		e = e.With(logkey.Reason, "the client assertion was refused: "+string(ae))
	}
	var result error = e
	code := psgate.CodeInvalidClient
	if err := s.cred.failAddress(ctx, addr); err != nil {
		result, code = err, psgate.CodeOf(err)
	}
	f := signInFailure{addr: addr, via: viaClientSecret, code: code, detail: "unknown application"}
	if known {
		// Client IDs of registered applications are not secrets; an
		// unknown one might be something typed in the wrong field.
		f.tenantID, f.userID, f.detail = rec.TenantID, rec.UserID, "application '"+rec.ClientID+"'"
		if cause != nil {
			f.detail += ": " + cause.Error()
		}
	}
	if known {
		s.log.Info("client authentication failed", logkey.ClientID, rec.ClientID, logkey.Client, addr, logkey.Reason, f.detail)
	} else {
		s.log.Info("client authentication failed for an unknown application", logkey.Client, addr)
	}
	auditFailure(ctx, s.cfg.Audit, s.log, s.cfg.Now(), f)
	return result
}

// verifyAssertion checks a private_key_jwt client assertion (RFC 7523
// section 3) against the application's certificates.
func (s *Service) verifyAssertion(assertion string, rec store.OAuthClient) error {
	if len(assertion) > maxTokenSize {
		return assertionInvalid("it is too long")
	}
	tok, err := jwt.ParseSigned(assertion, acceptedAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return assertionInvalid("it is not a JWT signed with an accepted algorithm")
	}
	now := s.cfg.Now()
	keys := certificateKeys(rec.CertificatePEM, now)
	if len(keys) == 0 {
		return assertionInvalid("the application has no valid certificate")
	}
	var c jwt.Claims
	verified := false
	for _, k := range keys {
		if tok.Claims(k, &c) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return assertionInvalid("its signature does not match the application's certificate")
	}
	if c.Issuer != rec.ClientID || c.Subject != rec.ClientID {
		return assertionInvalid("its iss and sub must both be the client ID")
	}
	// Only the configured URLs: the Host header is the client's to choose,
	// so the request's own URL would let an assertion made for another
	// server be replayed here.
	if !c.Audience.Contains(s.cfg.Issuer) && !c.Audience.Contains(s.cfg.Issuer+PathToken) {
		return assertionInvalid("its audience must be the issuer or the token endpoint")
	}
	until, err := s.checkTimes(c, rec.ClientID, now, assertionInvalid)
	if err != nil {
		if errIs(err, psgate.CodeTokenExpired) {
			return assertionInvalid("it has expired")
		}
		return err
	}
	if c.Expiry.Time().Sub(now) > maxAssertionLifetime {
		return assertionInvalid("it expires more than an hour from now")
	}
	if c.ID == "" {
		return assertionInvalid("it has no jti")
	}
	switch s.replay.add(rec.ClientID, c.ID, until, now) {
	case replayUsed:
		return assertionInvalid("it was already used")
	case replayClientFull:
		return assertionInvalid("the application already has %d unexpired assertions recorded; reuse its access token until it expires, or give assertions a shorter lifetime", maxReplayPerClient)
	case replayFull:
		return assertionInvalid("the server already has %d unexpired assertions recorded; try again when some expire", maxReplayEntries)
	}
	return nil
}

// certificateKeys returns the public keys of the PEM certificates that are
// valid at now.
func certificateKeys(pemData []byte, now time.Time) []any {
	var keys []any
	for {
		var block *pem.Block
		block, pemData = pem.Decode(pemData)
		if block == nil {
			return keys
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil || now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
			continue
		}
		keys = append(keys, cert.PublicKey)
	}
}

// assertionSubject returns the unverified sub of an assertion, to find
// the client when client_id is absent.
func assertionSubject(assertion string) string {
	tok, err := jwt.ParseSigned(assertion, acceptedAlgs)
	if err != nil {
		return ""
	}
	var c jwt.Claims
	if tok.UnsafeClaimsWithoutVerification(&c) != nil {
		return ""
	}
	return c.Subject
}

// assertionError says why a client assertion was refused.
type assertionError string

func (e assertionError) Error() string { return string(e) }

func assertionInvalid(format string, args ...any) error {
	return assertionError(fmt.Sprintf(format, args...))
}

func errIs(err error, code psgate.Code) bool {
	e, ok := psgate.AsError(err)
	return ok && e.Code == code
}

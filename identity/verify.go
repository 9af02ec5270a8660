package identity

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// maxTokenSize bounds the tokens the verifier parses.
const maxTokenSize = 16 << 10

// acceptedAlgs are the JWS algorithms any token may use: asymmetric only,
// never "none" or HMAC (which would let a public key act as a shared
// secret).
var acceptedAlgs = []jose.SignatureAlgorithm{
	jose.ES256, jose.ES384, jose.ES512,
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.EdDSA,
}

// VerifyAccessToken verifies a bearer token: one of this service's
// access tokens, or a token of the OIDC provider a tenant trusts. It
// checks the signature (with an algorithm allow-list), exp and nbf with
// the configured clock skew, issuer, audience and tenant, that the user is
// still enabled (re-read at least every UserRecheck), and that the hint's
// user name and tenant are the token's. A verified token is cached until
// it expires, so repeated requests cost a hash and two map lookups.
func (s *Service) VerifyAccessToken(ctx context.Context, raw string, h Hint) (psgate.Principal, error) {
	now := s.cfg.Now()
	key := tokenKey(raw, h)
	v, ok := s.tokens.get(key)
	if !ok {
		var err error
		if v, err = s.verify(ctx, raw, h, now); err != nil {
			return psgate.Principal{}, err
		}
		s.tokens.put(key, v, now)
	}
	if !now.Before(v.until) {
		s.tokens.drop(key)
		return psgate.Principal{}, expired(v.p.UPN, v.p.ExpiresAt)
	}
	if v.p.Method == psgate.AuthFederated {
		if err := s.stillTrusted(ctx, v); err != nil {
			s.tokens.drop(key)
			return psgate.Principal{}, err
		}
	}
	if err := s.checkUser(ctx, v.p, now); err != nil {
		return psgate.Principal{}, err
	}
	return v.p, nil
}

// tokenKey identifies a token presented with a hint in the cache.
func tokenKey(raw string, h Hint) [32]byte {
	d := sha256.New()
	d.Write([]byte(raw))
	d.Write([]byte{0})
	d.Write([]byte(h.User))
	d.Write([]byte{0})
	d.Write([]byte(h.Tenant))
	var k [32]byte
	d.Sum(k[:0])
	return k
}

// checkUser refuses a principal whose account was disabled, deleted or
// moved since the token was issued.
func (s *Service) checkUser(ctx context.Context, p psgate.Principal, now time.Time) error {
	st, ok := s.users.get(p.UserID)
	if !ok || now.Sub(st.checked) >= s.cfg.UserRecheck || now.Before(st.checked) {
		u, err := s.cfg.Store.User(ctx, p.UserID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			st = userState{checked: now}
		case err != nil:
			return storeError(err)
		default:
			st = userState{ok: u.Enabled, tenantID: u.TenantID, checked: now}
		}
		s.users.put(p.UserID, st)
	}
	if !st.ok || st.tenantID != p.TenantID {
		return psgate.E(psgate.CodeLogonFailed, psgate.Args{"upn": p.UPN})
	}
	return nil
}

// verify checks a token that is not in the cache.
func (s *Service) verify(ctx context.Context, raw string, h Hint, now time.Time) (verifiedToken, error) {
	if len(raw) > maxTokenSize {
		return verifiedToken{}, tokenInvalid("it is longer than %d bytes", maxTokenSize)
	}
	tok, err := jwt.ParseSigned(raw, acceptedAlgs)
	if err != nil {
		if alg := headerAlg(raw); alg != "" {
			return verifiedToken{}, tokenInvalid("it is signed with %q, an algorithm this gateway does not accept", alg)
		}
		return verifiedToken{}, tokenInvalid("it is not a signed JWT")
	}
	if len(tok.Headers) != 1 {
		return verifiedToken{}, tokenInvalid("it does not have exactly one signature")
	}
	var unverified struct {
		Issuer string `json:"iss"`
	}
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return verifiedToken{}, tokenInvalid("its claims are not valid JSON")
	}
	var v verifiedToken
	if unverified.Issuer == s.cfg.Issuer {
		v, err = s.verifyLocal(ctx, tok, now)
	} else {
		v, err = s.verifyFederated(ctx, tok, unverified.Issuer, now)
	}
	if err != nil {
		return verifiedToken{}, err
	}
	if err := s.checkHint(ctx, v.p, h); err != nil {
		return verifiedToken{}, err
	}
	return v, nil
}

// verifyLocal verifies one of this service's access tokens.
func (s *Service) verifyLocal(ctx context.Context, tok *jwt.JSONWebToken, now time.Time) (verifiedToken, error) {
	hdr := tok.Headers[0]
	if typ, _ := hdr.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(strings.TrimPrefix(strings.ToLower(typ), "application/"), accessTokenType) {
		return verifiedToken{}, tokenInvalid("it is not an access token (typ %q)", typ)
	}
	sk, err := s.keys.verifier(ctx, hdr.KeyID)
	if err != nil {
		return verifiedToken{}, storeError(err)
	}
	if sk == nil {
		return verifiedToken{}, tokenInvalid("it is signed with an unknown or expired key %q", hdr.KeyID)
	}
	if hdr.Algorithm != string(sk.alg) {
		return verifiedToken{}, tokenInvalid("it is signed with %q but key %q is a %s key", hdr.Algorithm, hdr.KeyID, sk.alg)
	}
	var c accessClaims
	if err := tok.Claims(sk.public.Key, &c); err != nil {
		return verifiedToken{}, tokenInvalid("its signature does not verify")
	}
	until, err := s.checkTimes(c.Claims, c.Subject, now, tokenInvalid)
	if err != nil {
		return verifiedToken{}, err
	}
	if !c.Audience.Contains(s.cfg.Audience) {
		return verifiedToken{}, tokenInvalid("its audience %v is not this gateway (%s)", []string(c.Audience), s.cfg.Audience)
	}
	if c.TenantID <= 0 || c.UserID <= 0 || c.Subject == "" {
		return verifiedToken{}, tokenInvalid("it names no tenant or user")
	}
	method := psgate.AuthBearer
	if c.IdentityType == idtypApp {
		method = psgate.AuthApp
	}
	return verifiedToken{
		p: psgate.Principal{
			TenantID:  c.TenantID,
			Tenant:    c.Tenant,
			UserID:    c.UserID,
			UPN:       strings.ToLower(c.Subject),
			Method:    method,
			ExpiresAt: c.Expiry.Time(),
			TokenID:   c.ID,
		},
		until: until,
	}, nil
}

// checkTimes checks exp (required), nbf and iat against now with the
// clock skew, and returns when the token stops being valid. invalid builds
// the error for a token that is not valid yet.
func (s *Service) checkTimes(c jwt.Claims, who string, now time.Time, invalid func(string, ...any) error) (time.Time, error) {
	skew := s.cfg.ClockSkew
	if c.Expiry == nil {
		return time.Time{}, invalid("it has no expiry (exp)")
	}
	until := c.Expiry.Time().Add(skew)
	if !now.Before(until) {
		return time.Time{}, expired(who, c.Expiry.Time())
	}
	if c.NotBefore != nil && now.Add(skew).Before(c.NotBefore.Time()) {
		return time.Time{}, invalid("it is not valid before %s", c.NotBefore.Time().UTC().Format(time.RFC3339))
	}
	if c.IssuedAt != nil && now.Add(skew).Before(c.IssuedAt.Time()) {
		return time.Time{}, invalid("it was issued in the future (%s)", c.IssuedAt.Time().UTC().Format(time.RFC3339))
	}
	return until, nil
}

// checkHint checks the Basic user name and the addressed tenant against
// the verified principal. A name or tenant that is not the token's is
// answered the same way whether it exists or not, so a token cannot probe
// which tenant domains exist: identity.token-wrong-tenant naming the
// tenant as the request spelled it.
func (s *Service) checkHint(ctx context.Context, p psgate.Principal, h Hint) error {
	if h.Tenant != "" {
		same, err := s.isTokenTenant(ctx, p, h.Tenant)
		if err != nil {
			return err
		}
		if !same {
			return wrongTenant(p.Tenant, h.Tenant)
		}
	}
	if h.User == "" {
		return nil
	}
	upn, err := NormalizeUser(ctx, s.cfg.Store, h.User)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return storeError(err)
	}
	if err == nil && upn == p.UPN {
		return nil
	}
	// The name addresses a tenant (TENANT\user, or user@domain): unless it
	// is the token's own, say so rather than "wrong user".
	c := canonicalName(h.User)
	domain := ""
	if d, _, ok := strings.Cut(c, `\`); ok {
		domain = d
	} else if i := strings.LastIndexByte(c, '@'); i >= 0 {
		domain = c[i+1:]
	}
	if domain != "" {
		same, err := s.isTokenTenant(ctx, p, domain)
		if err != nil {
			return err
		}
		if !same {
			return wrongTenant(p.Tenant, domain)
		}
	}
	return psgate.E(psgate.CodeTokenUserMismatch, psgate.Args{"user": h.User, "subject": p.UPN})
}

// isTokenTenant reports whether nameOrDomain names the principal's
// tenant. It costs one store read whether the name exists or not.
func (s *Service) isTokenTenant(ctx context.Context, p psgate.Principal, nameOrDomain string) (bool, error) {
	t, err := s.cfg.Store.TenantByName(ctx, canonicalName(nameOrDomain))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, storeError(err)
	}
	return t.ID == p.TenantID, nil
}

func wrongTenant(tokenTenant, tenant string) error {
	return psgate.E(psgate.CodeTokenWrongTenant, psgate.Args{"token_tenant": tokenTenant, "tenant": tenant})
}

func expired(upn string, at time.Time) error {
	return psgate.E(psgate.CodeTokenExpired, psgate.Args{"upn": upn, "expired": at.UTC().Format(time.RFC3339)}).
		With("expired_at", at.UTC().Format(time.RFC3339))
}

func tokenInvalid(format string, args ...any) error {
	return psgate.E(psgate.CodeTokenInvalid, psgate.Args{"reason": fmt.Sprintf(format, args...)})
}

// headerAlg returns the alg of a compact JWS's protected header, for error
// messages; "" when there is none.
func headerAlg(raw string) string {
	h, _, ok := strings.Cut(raw, ".")
	if !ok || len(h) > 1024 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return ""
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(b, &hdr) != nil || len(hdr.Alg) > 32 {
		return ""
	}
	return hdr.Alg
}

package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/psgate/psgate"
)

// BackendTokenTTL is the longest a backend token lives: it is minted for
// one cmdlet call (all the pages of one call) and never stored.
const BackendTokenTTL = 5 * time.Minute

// BackendClaims are the claims of a backend token beyond the registered
// ones: who calls (sub is the UPN), for which tenant, with which roles.
// A backend decodes them after verifying the signature against the JWKS,
// iss, aud and exp.
type BackendClaims struct {
	jwt.Claims
	TenantID     psgate.TenantID `json:"tid"`
	Tenant       string          `json:"tenant"`
	UserID       psgate.UserID   `json:"uid"`
	Roles        []string        `json:"roles"`
	ClientID     string          `json:"client_id"`
	IdentityType string          `json:"idtyp"`
}

// BackendToken signs a short-lived access token that tells the
// operator's service behind a module cmdlet who calls: tenant, user and
// roles, for the one audience of that service. It is an RFC 9068 JWT
// access token signed with the service's current key, so the backend
// verifies it against the JWKS (PathJWKS). It never outlives the
// caller's own credential, and its audience can never be the gateway's,
// so a backend cannot replay it against psgate or another backend.
func (s *Service) BackendToken(ctx context.Context, p psgate.Principal, roles []string, audience string) (string, error) {
	audience = strings.TrimSpace(audience)
	if audience == "" {
		return "", errors.New("identity: backend token: no audience")
	}
	if audience == s.cfg.Audience || strings.TrimRight(audience, "/") == s.cfg.Issuer {
		return "", fmt.Errorf("identity: backend token: the audience %q is psgate's own", audience)
	}
	if p.TenantID <= 0 || p.UserID <= 0 || p.UPN == "" {
		return "", errors.New("identity: backend token: the caller names no tenant or user")
	}
	now := s.cfg.Now()
	exp := now.Add(BackendTokenTTL)
	if !p.ExpiresAt.IsZero() {
		if !now.Before(p.ExpiresAt) {
			return "", expired(p.UPN, p.ExpiresAt)
		}
		if p.ExpiresAt.Before(exp) {
			exp = p.ExpiresAt
		}
	}
	sk, err := s.keys.signer(ctx)
	if err != nil {
		return "", storeError(err)
	}
	c := BackendClaims{
		Claims: jwt.Claims{
			Issuer:    s.cfg.Issuer,
			Subject:   p.UPN,
			Audience:  jwt.Audience{audience},
			Expiry:    jwt.NewNumericDate(exp),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        randomID(16),
		},
		TenantID:     p.TenantID,
		Tenant:       p.Tenant,
		UserID:       p.UserID,
		Roles:        append([]string{}, roles...),
		ClientID:     DefaultClientID,
		IdentityType: idtypUser,
	}
	if p.Method == psgate.AuthApp {
		c.IdentityType = idtypApp
	}
	tok, err := jwt.Signed(sk.signer).Claims(c).Serialize()
	if err != nil {
		return "", fmt.Errorf("identity: sign backend token: %w", err)
	}
	return tok, nil
}

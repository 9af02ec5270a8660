package identity

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// verifyFederated verifies a token of an external OIDC provider that a
// tenant trusts: signature with the provider's published key, iss, exp
// and nbf, the audience the tenant configured, and the user claim naming
// an enabled user of that tenant.
func (s *Service) verifyFederated(ctx context.Context, tok *jwt.JSONWebToken, issuer string, now time.Time) (verifiedToken, error) {
	if issuer == "" {
		return verifiedToken{}, tokenInvalid("it names no issuer")
	}
	tenants, prov, err := s.fed.lookup(ctx, issuer)
	if err != nil {
		return verifiedToken{}, err
	}
	if len(tenants) == 0 {
		return verifiedToken{}, tokenInvalid("it was issued by %q, which neither this gateway nor any tenant trusts", issuer)
	}
	hdr := tok.Headers[0]
	key, err := prov.key(ctx, s.fed, tenants[0], hdr.KeyID, hdr.Algorithm)
	if err != nil {
		return verifiedToken{}, err
	}
	var std jwt.Claims
	var all map[string]any
	if err := tok.Claims(key.Key, &std, &all); err != nil {
		return verifiedToken{}, fedInvalid(issuer, "its signature does not verify")
	}
	invalid := func(format string, args ...any) error { return fedInvalid(issuer, format, args...) }
	var match []fedTenant
	for _, ft := range tenants {
		if ft.fed.Audience != "" && std.Audience.Contains(ft.fed.Audience) {
			match = append(match, ft)
		}
	}
	if len(match) == 0 {
		return verifiedToken{}, invalid("its audience %v is not the one the tenant trusts", []string(std.Audience))
	}
	for _, ft := range match {
		claim := ft.fed.UserClaim
		if claim == "" {
			claim = DefaultUserClaim
		}
		name, _ := all[claim].(string)
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			if len(match) == 1 {
				return verifiedToken{}, invalid("it has no %q claim naming the user", claim)
			}
			continue
		}
		until, err := s.checkTimes(std, name, now, invalid)
		if err != nil {
			return verifiedToken{}, err
		}
		u, err := s.cfg.Store.UserByUPN(ctx, name)
		if errors.Is(err, store.ErrNotFound) || err == nil && u.TenantID != ft.tenant.ID {
			if len(match) == 1 {
				return verifiedToken{}, invalid("%q is not a user of tenant '%s'", name, ft.tenant.Name)
			}
			continue
		}
		if err != nil {
			return verifiedToken{}, storeError(err)
		}
		return verifiedToken{
			p: psgate.Principal{
				TenantID:  ft.tenant.ID,
				Tenant:    ft.tenant.Name,
				UserID:    u.ID,
				UPN:       u.UPN,
				Method:    psgate.AuthFederated,
				ExpiresAt: std.Expiry.Time(),
				TokenID:   std.ID,
			},
			until: until,
		}, nil
	}
	return verifiedToken{}, invalid("it names no user of the tenants that trust this provider")
}

package identity

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/psgate/psgate"
	"github.com/psgate/psgate/store"
)

// verifyFederated verifies a token of an external OIDC provider that a
// tenant trusts: signature with the provider's published key, iss, exp
// and nbf, the audience the tenant configured, and the user claim naming
// an enabled user of that tenant.
func (s *Service) verifyFederated(ctx context.Context, tok *jwt.JSONWebToken, issuer string, now time.Time) (_ verifiedToken, err error) {
	hdr := tok.Headers[0]
	var std jwt.Claims
	var claim, tenant string
	defer func() {
		if err != nil {
			s.logFederatedRefusal(ctx, err, issuer, hdr, std, claim, tenant)
		}
	}()
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
	key, err := prov.key(ctx, s.fed, tenants, hdr.KeyID, hdr.Algorithm)
	if err != nil {
		return verifiedToken{}, err
	}
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
		tenant = ft.tenant.Name
		claim = ft.fed.UserClaim
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
			until:    until,
			issuer:   issuer,
			audience: ft.fed.Audience,
		}, nil
	}
	return verifiedToken{}, invalid("it names no user of the tenants that trust this provider")
}

// stillTrusted refuses a cached federated token whose tenant no longer
// trusts its provider (psgate tenant federation remove, or a changed
// issuer or audience): the federation index is re-read at least every
// minute, so a removal ends the sessions' tokens within that, not at
// their expiry.
func (s *Service) stillTrusted(ctx context.Context, v verifiedToken) error {
	tenants, _, err := s.fed.lookup(ctx, v.issuer)
	if err != nil {
		return err
	}
	for _, ft := range tenants {
		if ft.tenant.ID == v.p.TenantID && ft.fed.Audience == v.audience {
			return nil
		}
	}
	return tokenInvalid("it was issued by %q, which tenant '%s' no longer trusts", v.issuer, v.p.Tenant)
}

// logFederatedRefusal logs why a federated token was refused, for the
// operator: the fault body tells the caller, the log tells whoever runs
// the gateway. Never the token itself.
func (s *Service) logFederatedRefusal(ctx context.Context, err error, issuer string, hdr jose.Header, std jwt.Claims, claim, tenant string) {
	e, ok := psgate.AsError(err)
	if !ok {
		return
	}
	attrs := []any{"code", string(e.Code), "issuer", issuer, "kid", hdr.KeyID, "alg", hdr.Algorithm, "reason", e.Message}
	if len(std.Audience) > 0 {
		attrs = append(attrs, "audience", []string(std.Audience))
	}
	if claim != "" {
		attrs = append(attrs, "claim", claim)
	}
	if tenant != "" {
		attrs = append(attrs, "tenant", tenant)
	}
	level := slog.LevelInfo
	if e.Entry().HTTPStatus >= 500 {
		level = slog.LevelWarn
	}
	s.log.Log(ctx, level, "federated token refused", attrs...)
}

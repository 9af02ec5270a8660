package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/logkey"
	"github.com/psgate/psgate/store"
)

// accessTokenType is the JOSE typ of psgate access tokens (RFC 9068).
const accessTokenType = "at+jwt"

// Identity types of the idtyp claim.
const (
	idtypUser = "user"
	idtypApp  = "app"
)

// accessClaims are the claims of a psgate access token. sub is the UPN of
// the user (for app-only tokens: of the application's service principal).
type accessClaims struct {
	jwt.Claims
	TenantID     psgate.TenantID `json:"tid"`
	Tenant       string          `json:"tenant"`
	UserID       psgate.UserID   `json:"uid"`
	ObjectID     string          `json:"oid,omitempty"`
	ClientID     string          `json:"client_id"`
	Scope        string          `json:"scope,omitempty"`
	IdentityType string          `json:"idtyp"`
}

// grant is who a token is issued to.
type grant struct {
	user     store.User
	tenant   store.Tenant
	clientID string
	scope    string
	app      bool
}

// tokenResponse is the token endpoint's answer (RFC 6749 section 5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// issueAccess signs an access token for g.
func (s *Service) issueAccess(ctx context.Context, g grant) (string, accessClaims, error) {
	sk, err := s.keys.signer(ctx)
	if err != nil {
		return "", accessClaims{}, err
	}
	now := s.cfg.Now()
	c := accessClaims{
		Claims: jwt.Claims{
			Issuer:    s.cfg.Issuer,
			Subject:   g.user.UPN,
			Audience:  jwt.Audience{s.cfg.Audience},
			Expiry:    jwt.NewNumericDate(now.Add(s.cfg.AccessTokenTTL)),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        randomID(16),
		},
		TenantID:     g.tenant.ID,
		Tenant:       g.tenant.Name,
		UserID:       g.user.ID,
		ObjectID:     g.user.ObjectID,
		ClientID:     g.clientID,
		Scope:        g.scope,
		IdentityType: idtypUser,
	}
	if g.app {
		c.IdentityType = idtypApp
	}
	tok, err := jwt.Signed(sk.signer).Claims(c).Serialize()
	if err != nil {
		return "", accessClaims{}, fmt.Errorf("identity: sign access token: %w", err)
	}
	return tok, c, nil
}

// respond issues an access token and, when family is not empty, a refresh
// token of that family.
func (s *Service) respond(ctx context.Context, g grant, family string) (tokenResponse, error) {
	at, c, err := s.issueAccess(ctx, g)
	if err != nil {
		return tokenResponse{}, err
	}
	r := tokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int64(s.cfg.AccessTokenTTL / time.Second), Scope: g.scope}
	if family != "" {
		if r.RefreshToken, err = s.newRefreshToken(ctx, family, g); err != nil {
			return tokenResponse{}, err
		}
	}
	s.log.Info("access token issued", logkey.Tenant, g.tenant.Name, logkey.User, g.user.UPN, logkey.ClientID, g.clientID,
		"jti", c.ID, "app", g.app, "refresh", family != "")
	return r, nil
}

// newRefreshToken stores and returns a new refresh token of family. Only
// its hash is stored.
func (s *Service) newRefreshToken(ctx context.Context, family string, g grant) (string, error) {
	tok := randomID(32)
	now := s.cfg.Now()
	err := s.cfg.Store.SaveRefreshToken(ctx, store.RefreshToken{
		ID:        refreshID(tok),
		FamilyID:  family,
		TenantID:  g.tenant.ID,
		UserID:    g.user.ID,
		ClientID:  g.clientID,
		Scope:     g.scope,
		CreatedAt: now,
		ExpiresAt: now.Add(s.cfg.RefreshTokenTTL),
	})
	if err != nil {
		return "", storeError(err)
	}
	return tok, nil
}

// rotateRefresh redeems a refresh token for client and returns the grant
// it carries. A token used twice revokes its whole family
// (CodeRefreshTokenReused); a revoked, unknown or expired one is
// CodeInvalidGrant.
func (s *Service) rotateRefresh(ctx context.Context, tok string, client oauthClient) (grant, string, error) {
	rt, err := s.cfg.Store.UseRefreshToken(ctx, refreshID(tok), s.cfg.Now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return grant{}, "", invalidGrant("the refresh token is unknown or expired")
	case errors.Is(err, store.ErrConflict) && !rt.RevokedAt.IsZero():
		return grant{}, "", psgate.E(psgate.CodeInvalidGrant, psgate.Args{"reason": "the refresh token was revoked"})
	case errors.Is(err, store.ErrConflict):
		if rerr := s.cfg.Store.RevokeRefreshFamily(ctx, rt.FamilyID); rerr != nil {
			return grant{}, "", storeError(rerr)
		}
		s.log.Warn("refresh token reused: every token of its sign-in revoked", logkey.TenantID, rt.TenantID,
			logkey.UserID, rt.UserID, logkey.ClientID, rt.ClientID)
		return grant{}, "", psgate.E(psgate.CodeRefreshTokenReused, nil)
	case err != nil:
		return grant{}, "", storeError(err)
	}
	if rt.ClientID != client.id {
		if rerr := s.cfg.Store.RevokeRefreshFamily(ctx, rt.FamilyID); rerr != nil {
			return grant{}, "", storeError(rerr)
		}
		return grant{}, "", invalidGrant("the refresh token was issued to another client")
	}
	u, t, err := s.activeUser(ctx, rt.UserID)
	if err != nil {
		return grant{}, "", err
	}
	if u.ID == 0 || u.TenantID != rt.TenantID {
		if rerr := s.cfg.Store.RevokeRefreshFamily(ctx, rt.FamilyID); rerr != nil {
			return grant{}, "", storeError(rerr)
		}
		return grant{}, "", invalidGrant("the account is disabled or no longer exists")
	}
	return grant{user: u, tenant: t, clientID: rt.ClientID, scope: rt.Scope, app: false}, rt.FamilyID, nil
}

// revokeRefresh revokes the family of a refresh token. Unknown tokens are
// ignored (RFC 7009 section 2.2).
func (s *Service) revokeRefresh(ctx context.Context, tok string, client oauthClient) error {
	rt, err := s.cfg.Store.UseRefreshToken(ctx, refreshID(tok), s.cfg.Now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil && !errors.Is(err, store.ErrConflict):
		return storeError(err)
	}
	if rt.ClientID != client.id {
		// Not the caller's token: a client may only revoke its own
		// (RFC 7009 section 2.1). Answer as for an unknown token.
		return nil
	}
	if err := s.cfg.Store.RevokeRefreshFamily(ctx, rt.FamilyID); err != nil {
		return storeError(err)
	}
	s.log.Info("refresh token revoked", logkey.TenantID, rt.TenantID, logkey.UserID, rt.UserID, logkey.ClientID, rt.ClientID)
	return nil
}

// activeUser returns an enabled user and their tenant, or a zero user when
// the account is disabled or gone.
func (s *Service) activeUser(ctx context.Context, id psgate.UserID) (store.User, store.Tenant, error) {
	u, err := s.cfg.Store.User(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, store.Tenant{}, nil
	}
	if err != nil {
		return store.User{}, store.Tenant{}, storeError(err)
	}
	if !u.Enabled {
		return store.User{}, store.Tenant{}, nil
	}
	t, err := s.cfg.Store.Tenant(ctx, u.TenantID)
	if err != nil {
		return store.User{}, store.Tenant{}, storeError(err)
	}
	return u, t, nil
}

func invalidGrant(reason string) error {
	return psgate.E(psgate.CodeInvalidGrant, psgate.Args{"reason": reason})
}

// refreshID is the stored identifier of a refresh token: its SHA-256.
func refreshID(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// randomID returns n random bytes, base64url-encoded.
func randomID(n int) string {
	b := make([]byte, n)
	// crypto/rand.Read never fails (Go 1.24+).
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

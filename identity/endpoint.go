package identity

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/logkey"
)

// OAuth grant types.
const (
	grantPassword          = "password"
	grantRefreshToken      = "refresh_token"
	grantClientCredentials = "client_credentials"
	grantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
)

// maxFormSize bounds token endpoint request bodies.
const maxFormSize = 64 << 10

// maxScope bounds the scope parameter.
const maxScope = 512

// clientRequest reads an endpoint's form and authenticates the calling
// client; on failure it has written the OAuth error and ok is false.
func (s *Service) clientRequest(w http.ResponseWriter, r *http.Request) (url.Values, oauthClient, bool) {
	form, err := readForm(w, r)
	if err != nil {
		s.writeOAuthError(w, err)
		return nil, oauthClient{}, false
	}
	client, err := s.authenticateClient(r.Context(), r, form)
	if err != nil {
		s.writeOAuthError(w, err)
		return nil, oauthClient{}, false
	}
	return form, client, true
}

// serveToken is the token endpoint (RFC 6749 section 3.2).
func (s *Service) serveToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	form, client, ok := s.clientRequest(w, r)
	if !ok {
		return
	}
	var err error
	var resp tokenResponse
	switch gt := form.Get("grant_type"); gt {
	case grantPassword:
		resp, err = s.passwordGrant(ctx, r, form, client)
	case grantRefreshToken:
		resp, err = s.refreshGrant(ctx, form, client)
	case grantDeviceCode:
		resp, err = s.deviceGrant(ctx, form, client)
	case grantClientCredentials:
		resp, err = s.clientCredentialsGrant(ctx, form, client)
	case "":
		err = invalidRequest("grant_type is missing")
	default:
		err = psgate.E(psgate.CodeUnsupportedGrant, psgate.Args{"grant": gt})
	}
	if err != nil {
		s.writeOAuthError(w, err)
		return
	}
	s.cfg.Observer.TokenIssued(grantLabel(form.Get("grant_type")))
	writeJSON(w, http.StatusOK, resp)
}

func (s *Service) passwordGrant(ctx context.Context, r *http.Request, form url.Values, client oauthClient) (tokenResponse, error) {
	user, pass := form.Get("username"), form.Get("password")
	if user == "" || pass == "" {
		return tokenResponse{}, invalidRequest("username and password are required")
	}
	scope, err := scopeOf(form)
	if err != nil {
		return tokenResponse{}, err
	}
	u, t, err := s.cred.check(ctx, user, pass, s.ClientAddr(r), viaPasswordGrant)
	if err != nil {
		return tokenResponse{}, err
	}
	if !t.Policy.AllowPasswordAuthentication {
		return tokenResponse{}, psgate.E(psgate.CodePasswordAuthDisabled, psgate.Args{"tenant": t.Name})
	}
	if client.registered && client.rec.TenantID != u.TenantID {
		return tokenResponse{}, invalidGrant("the application belongs to another tenant")
	}
	return s.respond(ctx, grant{user: u, tenant: t, clientID: client.id, scope: scope}, randomID(16))
}

func (s *Service) refreshGrant(ctx context.Context, form url.Values, client oauthClient) (tokenResponse, error) {
	tok := form.Get("refresh_token")
	if tok == "" {
		return tokenResponse{}, invalidRequest("refresh_token is required")
	}
	g, family, err := s.rotateRefresh(ctx, tok, client)
	if err != nil {
		return tokenResponse{}, err
	}
	return s.respond(ctx, g, family)
}

func (s *Service) deviceGrant(ctx context.Context, form url.Values, client oauthClient) (tokenResponse, error) {
	code := form.Get("device_code")
	if code == "" {
		return tokenResponse{}, invalidRequest("device_code is required")
	}
	d, err := s.devices.poll(code, client.id, s.cfg.Now())
	if err != nil {
		return tokenResponse{}, err
	}
	u, t, err := s.activeUser(ctx, d.userID)
	if err != nil {
		return tokenResponse{}, err
	}
	if u.ID == 0 {
		return tokenResponse{}, invalidGrant("the account that approved the code is disabled or no longer exists")
	}
	return s.respond(ctx, grant{user: u, tenant: t, clientID: client.id, scope: d.scope}, randomID(16))
}

func (s *Service) clientCredentialsGrant(ctx context.Context, form url.Values, client oauthClient) (tokenResponse, error) {
	if !client.registered {
		return tokenResponse{}, psgate.E(psgate.CodeInvalidClient, psgate.Args{"client": client.id}).
			With("reason", "client_credentials needs a registered application with a secret or certificate")
	}
	scope, err := scopeOf(form)
	if err != nil {
		return tokenResponse{}, err
	}
	if client.rec.UserID == 0 {
		return tokenResponse{}, invalidGrant("the application has no service principal user to act as")
	}
	u, t, err := s.activeUser(ctx, client.rec.UserID)
	if err != nil {
		return tokenResponse{}, err
	}
	if u.ID == 0 || u.TenantID != client.rec.TenantID {
		return tokenResponse{}, invalidGrant("the application's service principal is disabled or no longer exists")
	}
	// No refresh token for client credentials (RFC 6749 section 4.4.3).
	return s.respond(ctx, grant{user: u, tenant: t, clientID: client.id, scope: scope, app: true}, "")
}

// serveRevoke is the revocation endpoint (RFC 7009). Refresh tokens are
// revoked with their whole family; access tokens are short-lived JWTs and
// cannot be revoked one by one (unsupported_token_type).
func (s *Service) serveRevoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	form, client, ok := s.clientRequest(w, r)
	if !ok {
		return
	}
	tok := form.Get("token")
	if tok == "" {
		s.writeOAuthError(w, invalidRequest("token is required"))
		return
	}
	if strings.Count(tok, ".") == 2 {
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusBadRequest, oauthErrorBody{
			Error:       "unsupported_token_type",
			Description: "access tokens cannot be revoked; they expire within their lifetime. Revoke the refresh token instead.",
		})
		return
	}
	if err := s.revokeRefresh(ctx, tok, client); err != nil {
		s.writeOAuthError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// readForm parses an application/x-www-form-urlencoded body. Parameters
// in the query string are ignored, and a repeated parameter is refused
// (RFC 6749 section 3.2).
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, invalidRequest("the body must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormSize)
	if err := r.ParseForm(); err != nil {
		return nil, invalidRequest("the form cannot be read")
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return nil, invalidRequest("parameter " + k + " is repeated")
		}
	}
	return r.PostForm, nil
}

func scopeOf(form url.Values) (string, error) {
	scope := strings.Join(strings.Fields(form.Get("scope")), " ")
	if len(scope) > maxScope {
		return "", invalidRequest("scope is too long")
	}
	return scope, nil
}

func invalidRequest(reason string) error {
	return psgate.E(psgate.CodeInvalidRequest, psgate.Args{"reason": reason})
}

// oauthErrorBody is an OAuth error response (RFC 6749 section 5.2) with
// psgate's catalog code, resolution and details.
type oauthErrorBody struct {
	Error       string            `json:"error"`
	Description string            `json:"error_description,omitempty"`
	Code        string            `json:"psgate_code,omitempty"`
	Resolution  string            `json:"psgate_resolution,omitempty"`
	Data        map[string]string `json:"psgate_data,omitempty"`
}

// oauthError maps a catalog code to an OAuth error and HTTP status.
func oauthError(code psgate.Code) (string, int) {
	switch code {
	case psgate.CodeInvalidClient:
		return "invalid_client", http.StatusUnauthorized
	case psgate.CodeInvalidRequest:
		return "invalid_request", http.StatusBadRequest
	case psgate.CodeUnsupportedGrant:
		return "unsupported_grant_type", http.StatusBadRequest
	case psgate.CodeAuthorizationPending:
		return "authorization_pending", http.StatusBadRequest
	case psgate.CodeSlowDown:
		return "slow_down", http.StatusBadRequest
	case psgate.CodeDeviceCodeExpired:
		return "expired_token", http.StatusBadRequest
	case psgate.CodeStoreDown, psgate.CodeShuttingDown, psgate.CodeSignInBusy:
		return "temporarily_unavailable", http.StatusServiceUnavailable
	case psgate.CodeTooManyPending:
		return "temporarily_unavailable", http.StatusTooManyRequests
	case psgate.CodeInternal:
		return "server_error", http.StatusInternalServerError
	case psgate.CodeSignInThrottled:
		return "invalid_grant", http.StatusTooManyRequests
	default:
		// Logon failed, account locked, password sign-in disabled,
		// refresh token reused or revoked, invalid grant.
		return "invalid_grant", http.StatusBadRequest
	}
}

func (s *Service) writeOAuthError(w http.ResponseWriter, err error) {
	e, ok := psgate.AsError(err)
	if !ok {
		e = psgate.Wrap(psgate.CodeInternal, psgate.Args{"request": "token"}, err)
	}
	switch {
	case errors.Is(e.Err, context.Canceled):
		// The client left (or the server is stopping) while its request
		// waited: nobody reads this answer, and nothing failed.
		s.log.Debug("token request abandoned", logkey.Code, string(e.Code), logkey.Err, e.Err)
	case e.Err != nil || e.Code == psgate.CodeInternal:
		s.log.Error("token service error", logkey.Code, string(e.Code), logkey.Err, e.Err)
	}
	name, status := oauthError(e.Code)
	body := oauthErrorBody{Error: name, Description: e.Message, Code: string(e.Code), Resolution: e.Resolution}
	if len(e.Data) > 0 {
		body.Data = make(map[string]string, len(e.Data))
		for _, kv := range e.Data {
			body.Data[kv.Key] = kv.Value
		}
	}
	for _, k := range []string{"retry_after", "interval"} {
		if v, ok := e.Value(k); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				w.Header().Set("Retry-After", v)
				break
			}
		}
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="psgate"`)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "identity: cannot encode the response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

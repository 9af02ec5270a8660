// Package widgetsvc is the example backend of the Contoso.Widgets module
// (examples/widgets/widgets.json): the operator's own HTTP service that
// psgate's module cmdlets call. It keeps widgets in memory, per tenant,
// and trusts nothing but the token psgate sends: it verifies the JWT
// against psgate's JWKS (issuer, audience, expiry, signature) and takes
// the tenant, user and roles from it.
//
// It is an example and a test fixture, not a product: the widgets are
// lost on restart.
package widgetsvc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Config configures the service.
type Config struct {
	// Issuer is psgate's token issuer URL (psgate serve prints it), and
	// JWKSURL its key set; empty means Issuer + /.well-known/jwks.json.
	Issuer, JWKSURL string
	// Audience is the aud the tokens must carry: the module's
	// backends.<name>.audience.
	Audience string
	// PageSize is how many widgets one page holds; zero means 50.
	PageSize int
	// HTTPClient fetches the JWKS; nil means a 10 s timeout client.
	HTTPClient *http.Client
	// Observe, when set, sees every request after it is answered.
	Observe func(Call)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Call is one request as the service saw it.
type Call struct {
	Method, Path, Query string
	// Caller is nil when the token was refused.
	Caller *Claims
	Status int
	// Refusal says why the token was refused.
	Refusal string
}

// Claims are what the service reads from psgate's token.
type Claims struct {
	jwt.Claims
	TenantID int64    `json:"tid"`
	Tenant   string   `json:"tenant"`
	UserID   int64    `json:"uid"`
	Roles    []string `json:"roles"`
}

// Widget is the service's object; its JSON names are PowerShell's
// property names.
type Widget struct {
	ID        string    `json:"Id"`
	Name      string    `json:"Name"`
	Color     string    `json:"Color"`
	Size      int       `json:"Size"`
	Tags      []string  `json:"Tags"`
	CreatedAt time.Time `json:"CreatedAt"`
	Owner     Owner     `json:"Owner"`
}

// Owner says who created a widget.
type Owner struct {
	Upn    string `json:"Upn"`
	Tenant string `json:"Tenant"`
}

// Service is the widget service.
type Service struct {
	cfg  Config
	keys *keySet
	mu   sync.Mutex
	next int
	// widgets by tenant id, then widget id.
	widgets map[int64]map[string]*Widget
}

// New returns the service; it fetches the JWKS on the first request.
func New(cfg Config) (*Service, error) {
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("widgetsvc: Issuer and Audience are required")
	}
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	if cfg.JWKSURL == "" {
		cfg.JWKSURL = cfg.Issuer + "/.well-known/jwks.json"
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 50
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, keys: &keySet{url: cfg.JWKSURL, client: cfg.HTTPClient, now: cfg.Now}, widgets: map[int64]map[string]*Widget{}}, nil
}

// ServeHTTP serves /api/widgets and /api/widgets/{id}.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	call := Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	defer func() {
		if s.cfg.Observe != nil {
			call.Status = rec.status
			s.cfg.Observe(call)
		}
	}()
	c, err := s.authenticate(r)
	if err != nil {
		call.Refusal = err.Error()
		rec.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		problem(rec, http.StatusUnauthorized, "The token is not valid for this service: "+err.Error(), nil)
		return
	}
	call.Caller = c
	id, hasID := strings.CutPrefix(r.URL.Path, "/api/widgets/")
	switch {
	case r.URL.Path == "/api/widgets" && r.Method == http.MethodGet:
		s.list(rec, r, c)
	case r.URL.Path == "/api/widgets" && r.Method == http.MethodPost:
		s.create(rec, r, c)
	case hasID && id != "" && !strings.Contains(id, "/"):
		switch r.Method {
		case http.MethodGet:
			s.get(rec, c, id)
		case http.MethodPatch:
			s.update(rec, r, c, id)
		case http.MethodDelete:
			s.remove(rec, c, id)
		default:
			problem(rec, http.StatusMethodNotAllowed, "Method not allowed.", nil)
		}
	default:
		problem(rec, http.StatusNotFound, "No such resource: "+r.URL.Path, nil)
	}
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// FieldError is one invalid field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func problem(w http.ResponseWriter, status int, msg string, fields []FieldError) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"title": http.StatusText(status), "status": status, "detail": msg, "errors": fields})
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Service) tenant(c *Claims) map[string]*Widget {
	m := s.widgets[c.TenantID]
	if m == nil {
		m = map[string]*Widget{}
		s.widgets[c.TenantID] = m
	}
	return m
}

func (s *Service) list(w http.ResponseWriter, r *http.Request, c *Claims) {
	q := r.URL.Query()
	color, minSize := q.Get("color"), 0
	if v := q.Get("minSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			problem(w, http.StatusBadRequest, "minSize is not a number.", []FieldError{{"minSize", "must be a whole number"}})
			return
		}
		minSize = n
	}
	start := 0
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			problem(w, http.StatusBadRequest, "The cursor is not valid.", nil)
			return
		}
		start = n
	}
	s.mu.Lock()
	var all []Widget
	for _, wd := range s.tenant(c) {
		if (color == "" || strings.EqualFold(wd.Color, color)) && wd.Size >= minSize {
			all = append(all, *wd)
		}
	}
	s.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return idNumber(all[i].ID) < idNumber(all[j].ID) })
	page := map[string]any{"items": []Widget{}}
	if start < len(all) {
		end := min(start+s.cfg.PageSize, len(all))
		page["items"] = all[start:end]
		if end < len(all) {
			q.Set("cursor", strconv.Itoa(end))
			page["nextLink"] = "/api/widgets?" + q.Encode()
		}
	}
	reply(w, http.StatusOK, page)
}

func idNumber(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "w-"))
	return n
}

func (s *Service) get(w http.ResponseWriter, c *Claims, id string) {
	s.mu.Lock()
	wd, ok := s.tenant(c)[id]
	var out Widget
	if ok {
		out = *wd
	}
	s.mu.Unlock()
	if !ok {
		problem(w, http.StatusNotFound, fmt.Sprintf("There is no widget %q in tenant %s.", id, c.Tenant), nil)
		return
	}
	reply(w, http.StatusOK, out)
}

// input is the body of a create or update.
type input struct {
	Name  *string  `json:"name"`
	Color *string  `json:"color"`
	Size  *int     `json:"size"`
	Tags  []string `json:"tags"`
}

func readInput(w http.ResponseWriter, r *http.Request) (input, bool) {
	var in input
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		problem(w, http.StatusBadRequest, "The body is not a widget: "+err.Error(), nil)
		return in, false
	}
	var fields []FieldError
	if in.Color != nil && !validColor(*in.Color) {
		fields = append(fields, FieldError{"color", "must be Red, Green or Blue"})
	}
	if in.Size != nil && (*in.Size < 1 || *in.Size > 10) {
		fields = append(fields, FieldError{"size", "must be from 1 to 10"})
	}
	if in.Name != nil && strings.TrimSpace(*in.Name) == "" {
		fields = append(fields, FieldError{"name", "must not be empty"})
	}
	if len(fields) > 0 {
		problem(w, http.StatusUnprocessableEntity, "The widget is not valid.", fields)
		return in, false
	}
	return in, true
}

func validColor(c string) bool {
	switch c {
	case "Red", "Green", "Blue":
		return true
	}
	return false
}

func (s *Service) create(w http.ResponseWriter, r *http.Request, c *Claims) {
	in, ok := readInput(w, r)
	if !ok {
		return
	}
	if in.Name == nil || in.Color == nil {
		problem(w, http.StatusUnprocessableEntity, "The widget is not valid.", []FieldError{{"name", "is required"}, {"color", "is required"}})
		return
	}
	size := 1
	if in.Size != nil {
		size = *in.Size
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, wd := range s.tenant(c) {
		if strings.EqualFold(wd.Name, *in.Name) {
			problem(w, http.StatusConflict, fmt.Sprintf("A widget named %q already exists (%s).", wd.Name, wd.ID), nil)
			return
		}
	}
	s.next++
	wd := &Widget{
		ID: "w-" + strconv.Itoa(s.next), Name: *in.Name, Color: *in.Color, Size: size, Tags: in.Tags,
		CreatedAt: s.cfg.Now().UTC().Truncate(time.Second), Owner: Owner{Upn: c.Subject, Tenant: c.Tenant},
	}
	if wd.Tags == nil {
		wd.Tags = []string{}
	}
	s.tenant(c)[wd.ID] = wd
	reply(w, http.StatusCreated, *wd)
}

func (s *Service) update(w http.ResponseWriter, r *http.Request, c *Claims, id string) {
	in, ok := readInput(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wd, ok := s.tenant(c)[id]
	if !ok {
		problem(w, http.StatusNotFound, fmt.Sprintf("There is no widget %q in tenant %s.", id, c.Tenant), nil)
		return
	}
	if in.Color != nil {
		wd.Color = *in.Color
	}
	if in.Size != nil {
		wd.Size = *in.Size
	}
	reply(w, http.StatusOK, *wd)
}

// remove deletes a widget; only a tenant administrator may.
func (s *Service) remove(w http.ResponseWriter, c *Claims, id string) {
	admin := false
	for _, r := range c.Roles {
		admin = admin || r == "Tenant Administrator"
	}
	if !admin {
		problem(w, http.StatusForbidden, "Only a Tenant Administrator may remove widgets.", nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tenant(c)[id]; !ok {
		problem(w, http.StatusNotFound, fmt.Sprintf("There is no widget %q in tenant %s.", id, c.Tenant), nil)
		return
	}
	delete(s.tenant(c), id)
	w.WriteHeader(http.StatusNoContent)
}

// Seed adds n widgets (Widget 1, Widget 2..., of the three colors in
// turn) to a tenant, for demos and tests.
func (s *Service) Seed(tenantID int64, tenant string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	colors := []string{"Red", "Green", "Blue"}
	for i := range n {
		s.next++
		id := "w-" + strconv.Itoa(s.next)
		s.tenant(&Claims{TenantID: tenantID})[id] = &Widget{
			ID: id, Name: "Widget " + strconv.Itoa(s.next), Color: colors[i%3], Size: 1 + i%10, Tags: []string{},
			CreatedAt: s.cfg.Now().UTC().Truncate(time.Second), Owner: Owner{Upn: "seed", Tenant: tenant},
		}
	}
}

// authenticate verifies the bearer token psgate sent.
func (s *Service) authenticate(r *http.Request) (*Claims, error) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		return nil, errors.New("no bearer token")
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("not a signed JWT: %w", err)
	}
	if len(tok.Headers) != 1 {
		return nil, errors.New("not one signature")
	}
	key, err := s.keys.key(r.Context(), tok.Headers[0].KeyID)
	if err != nil {
		return nil, err
	}
	var c Claims
	if err := tok.Claims(key, &c); err != nil {
		return nil, errors.New("the signature does not verify")
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: s.cfg.Issuer, AnyAudience: jwt.Audience{s.cfg.Audience}, Time: s.cfg.Now()}, time.Minute); err != nil {
		return nil, err
	}
	if c.Expiry == nil || c.TenantID <= 0 || c.Subject == "" {
		return nil, errors.New("the token names no tenant, user or expiry")
	}
	return &c, nil
}

// keySet caches psgate's JWKS, refetched for an unknown key at most every
// 5 seconds.
type keySet struct {
	url     string
	client  *http.Client
	now     func() time.Time
	mu      sync.Mutex
	keys    map[string]jose.JSONWebKey
	fetched time.Time
}

func (k *keySet) key(ctx context.Context, kid string) (any, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if jwk, ok := k.keys[kid]; ok {
		return jwk.Key, nil
	}
	if !k.fetched.IsZero() && k.now().Sub(k.fetched) < 5*time.Second {
		return nil, fmt.Errorf("unknown signing key %q", kid)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot fetch psgate's keys: %w", err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return nil, fmt.Errorf("psgate's key set is unreadable: %w", err)
	}
	k.fetched = k.now()
	k.keys = map[string]jose.JSONWebKey{}
	for _, jwk := range set.Keys {
		k.keys[jwk.KeyID] = jwk
	}
	if jwk, ok := k.keys[kid]; ok {
		return jwk.Key, nil
	}
	return nil, fmt.Errorf("unknown signing key %q", kid)
}

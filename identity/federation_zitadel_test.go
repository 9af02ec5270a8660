// Federation against a real OpenID Provider: the op package of
// github.com/zitadel/oidc/v3 (v3.52.0), with that module's in-memory
// example storage and login page, running in the test.
package identity_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/psgate/psgate"
	"github.com/psgate/psgate/identity"
	"github.com/psgate/psgate/store"
	"github.com/psgate/psgate/store/sqlite"
	"github.com/psgate/psgate/store/sqlite/sqlitetest"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// rotatingStorage is the example storage with a key set the test rotates.
type rotatingStorage struct {
	*storage.Storage
	mu   sync.Mutex
	keys []*rsaKey // the last one signs
}

type rsaKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *rsaKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *rsaKey) Key() any                                    { return k.key }
func (k *rsaKey) ID() string                                  { return k.id }

type pubKey struct{ *rsaKey }

func (k pubKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k pubKey) Use() string                        { return "sig" }
func (k pubKey) Key() any                           { return &k.key.PublicKey }

func (s *rotatingStorage) rotate(t *testing.T) string {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 8)
	rand.Read(b)
	rk := &rsaKey{id: base64.RawURLEncoding.EncodeToString(b), key: k}
	s.mu.Lock()
	s.keys = append(s.keys, rk)
	s.mu.Unlock()
	return rk.id
}

func (s *rotatingStorage) SigningKey(context.Context) (op.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[len(s.keys)-1], nil
}

func (s *rotatingStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *rotatingStorage) KeySet(context.Context) ([]op.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []op.Key
	for _, k := range s.keys {
		out = append(out, pubKey{k})
	}
	return out, nil
}

const (
	clientID    = "psgate-fabrikam"
	redirectURI = "https://client.example/cb"
)

// signIn runs the implicit id_token flow through the provider's login
// page and returns the ID token.
func signIn(t *testing.T, srv *httptest.Server, user, pw string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host == "client.example" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	q := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"id_token"},
		"scope": {"openid profile email"}, "state": {"s1"}, "nonce": {"n1"}}
	resp, err := c.Get(srv.URL + "/auth?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Request.URL.Query().Get("authRequestID")
	if resp.StatusCode != 200 || id == "" {
		t.Fatalf("authorize: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	resp, err = c.PostForm(srv.URL+"/login/username", url.Values{"id": {id}, "username": {user}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Host != "client.example" {
		t.Fatalf("login: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	frag, _ := url.ParseQuery(loc.Fragment)
	if frag.Get("id_token") == "" {
		t.Fatalf("no id_token in %s", loc)
	}
	return frag.Get("id_token")
}

func kid(t *testing.T, tok string) string {
	t.Helper()
	p, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	return p.Signatures[0].Header.KeyID
}

func TestFederationWithZitadelOP(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "https://" + srv.Listener.Addr().String()

	users := map[string]*storage.User{"id-bob": {ID: "id-bob", Username: "Bob@Fabrikam.test", Password: "verysecure",
		FirstName: "Bob", LastName: "Kelly", Email: "bob@fabrikam.test", EmailVerified: true}}
	path := filepath.Join(t.TempDir(), "users.json")
	b, _ := json.Marshal(users)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	us, err := storage.StoreFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	storage.RegisterClients(storage.WebClient(clientID, "secret", redirectURI))
	st := &rotatingStorage{Storage: storage.NewStorage(us)}
	kid1 := st.rotate(t)
	srv.Config.Handler = exampleop.SetupServer(issuer, st, slog.New(slog.DiscardHandler), false)
	srv.StartTLS()
	defer srv.Close()

	db := sqlitetest.Open(t, sqlite.Options{})
	fab, err := db.CreateTenant(ctx, store.Tenant{Name: "fabrikam", Domain: "fabrikam.test", Policy: store.DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := db.CreateUser(ctx, store.User{TenantID: fab.ID, UPN: "bob@fabrikam.test", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetFederation(ctx, store.Federation{TenantID: fab.ID, Issuer: issuer, Audience: clientID, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	svc, err := identity.NewService(identity.ServiceConfig{Store: db, Issuer: "https://psgate.test",
		HTTPClient: srv.Client(), FederationRefresh: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := identity.NewAuthenticator(identity.Config{Dir: db, Tokens: svc, Lockouts: db})
	if err != nil {
		t.Fatal(err)
	}
	authenticate := func(authz string) (psgate.Principal, error) {
		req := httptest.NewRequest(http.MethodPost, "/wsman", nil)
		req.Header.Set("Authorization", authz)
		return auth.Authenticate(ctx, req)
	}
	basic := func(user, pw string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
	}

	tok1 := signIn(t, srv, "Bob@Fabrikam.test", "verysecure")
	if kid(t, tok1) != kid1 {
		t.Fatal("the provider did not sign with its key")
	}
	p, err := authenticate(basic("bob@fabrikam.test", "Bearer "+tok1))
	if err != nil {
		t.Fatalf("ID token of the provider refused: %v", err)
	}
	if p.Method != psgate.AuthFederated || p.UserID != bob.ID || p.TenantID != fab.ID {
		t.Fatalf("principal = %+v", p)
	}

	// Key rotation at the provider: the new key signs at once.
	kid2 := st.rotate(t)
	time.Sleep(5 * time.Millisecond)
	tok2 := signIn(t, srv, "Bob@Fabrikam.test", "verysecure")
	if kid(t, tok2) != kid2 {
		t.Fatal("the provider did not sign with its new key")
	}
	if _, err := authenticate("Bearer " + tok2); err != nil {
		t.Fatalf("token of the rotated key refused: %v", err)
	}
	if _, err := authenticate("Bearer " + tok1); err != nil {
		t.Fatalf("token of the old key refused after rotation: %v", err)
	}
	if _, err := authenticate(basic("carol@fabrikam.test", "Bearer "+tok2)); psgate.CodeOf(err) != psgate.CodeTokenUserMismatch {
		t.Fatalf("other Basic user: %v", err)
	}

	// The provider goes away; a token with a key the gateway has not seen
	// cannot be checked: 503, not "bad credentials".
	kid3 := st.rotate(t)
	tok3 := signIn(t, srv, "Bob@Fabrikam.test", "verysecure")
	if kid(t, tok3) != kid3 {
		t.Fatal("the provider did not sign with its third key")
	}
	srv.CloseClientConnections()
	srv.Listener.Close()
	time.Sleep(5 * time.Millisecond)
	_, err = authenticate("Bearer " + tok3)
	var e *psgate.Error
	if !errors.As(err, &e) || e.Code != psgate.CodeProviderUnreachable || e.Entry().HTTPStatus != 503 ||
		!strings.Contains(e.Message, "This is not a problem with your credentials.") {
		t.Fatalf("provider down: %v, want provider-unreachable (503)", err)
	}
	t.Logf("provider down: %s\n%s", e.Message, e.Resolution)
	// Known keys keep working while it is down.
	if _, err := authenticate("Bearer " + tok2); err != nil {
		t.Fatalf("cached token while the provider is down: %v", err)
	}
}

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/client"
)

// remoteOpts are the connection flags of the connector commands (run,
// connect, sessions, login, doctor).
type remoteOpts struct {
	endpoint    string
	user        string
	tokenURL    string
	caFile      string
	fingerprint string
	insecure    bool
	// profile is what resolve read.
	profile profile
}

func addRemoteFlags(cmd *cobra.Command) *remoteOpts {
	o := &remoteOpts{}
	f := cmd.Flags()
	f.StringVar(&o.endpoint, "endpoint", "", "gateway URL, e.g. https://gw.example.com:5986/powershell (default: $PSGATE_ENDPOINT, then the last login)")
	f.StringVar(&o.user, "user", "", "user principal name (default: $PSGATE_USER, then the last login)")
	f.StringVar(&o.tokenURL, "token-url", "", "identity service token endpoint (default: <endpoint scheme and host>/oauth2/token)")
	f.StringVar(&o.caFile, "ca-file", "", "PEM file of a CA or self-signed certificate to trust")
	f.StringVar(&o.fingerprint, "fingerprint", "", "pin the gateway certificate's SHA-256 fingerprint")
	f.BoolVar(&o.insecure, "insecure", false, "accept any certificate (tests only)")
	return o
}

// profile is what the last `psgate login` remembers, so later commands
// need no flags.
type profile struct {
	Endpoint    string `json:"endpoint"`
	User        string `json:"user"`
	TokenURL    string `json:"token_url,omitempty"`
	CAFile      string `json:"ca_file,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	// ClientID, CertFile and KeyFile are the application of an app-only
	// login with a certificate, to sign in again when its token expires.
	ClientID string `json:"client_id,omitempty"`
	CertFile string `json:"certificate,omitempty"`
	KeyFile  string `json:"key,omitempty"`
}

func profilePath(cache *client.TokenCache) string { return filepath.Join(cache.Dir, "profile.json") }

func loadProfile(cache *client.TokenCache) profile {
	var p profile
	data, err := os.ReadFile(profilePath(cache))
	if err == nil {
		_ = json.Unmarshal(data, &p) // a broken profile is as good as none
	}
	return p
}

func saveProfile(cache *client.TokenCache, p profile) error {
	if err := os.MkdirAll(cache.Dir, 0o700); err != nil {
		return fmt.Errorf("save profile: %w", err)
	}
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("save profile: %w", err)
	}
	if err := os.WriteFile(profilePath(cache), data, 0o600); err != nil {
		return fmt.Errorf("save profile: %w", err)
	}
	return nil
}

// tokenCache returns the token cache: $PSGATE_CONFIG_DIR when set (tests,
// several identities), else os.UserConfigDir()/psgate.
func tokenCache() (*client.TokenCache, error) {
	if dir := os.Getenv("PSGATE_CONFIG_DIR"); dir != "" {
		return &client.TokenCache{Dir: dir}, nil
	}
	return client.DefaultTokenCache()
}

// resolve fills unset flags from the environment and the profile; the
// endpoint and the user are required.
func (o *remoteOpts) resolve(cache *client.TokenCache) error {
	if err := o.resolveEndpoint(cache); err != nil {
		return err
	}
	if o.user == "" {
		return errors.New("no user: pass --user UPN, set PSGATE_USER, or run `psgate login --user UPN` once")
	}
	return nil
}

// resolveEndpoint is resolve without requiring the user.
func (o *remoteOpts) resolveEndpoint(cache *client.TokenCache) error {
	p := loadProfile(cache)
	o.profile = p
	pick := func(dst *string, env, fromProfile string) {
		if *dst == "" {
			*dst = os.Getenv(env)
		}
		if *dst == "" {
			*dst = fromProfile
		}
	}
	pick(&o.endpoint, "PSGATE_ENDPOINT", p.Endpoint)
	pick(&o.user, "PSGATE_USER", p.User)
	pick(&o.tokenURL, "PSGATE_TOKEN_URL", p.TokenURL)
	pick(&o.caFile, "PSGATE_CA_FILE", p.CAFile)
	pick(&o.fingerprint, "PSGATE_FINGERPRINT", p.Fingerprint)
	if o.endpoint == "" {
		return errors.New("no endpoint: pass --endpoint URL, set PSGATE_ENDPOINT, or run `psgate login --endpoint URL` once")
	}
	if o.tokenURL == "" {
		u, err := url.Parse(o.endpoint)
		if err != nil || u.Host == "" {
			return fmt.Errorf("--endpoint %q is not a URL", o.endpoint)
		}
		o.tokenURL = u.Scheme + "://" + u.Host + "/oauth2/token"
	}
	return nil
}

func (o *remoteOpts) tls() client.TLSConfig {
	return client.TLSConfig{CAFile: o.caFile, Fingerprint: o.fingerprint, Insecure: o.insecure}
}

func (o *remoteOpts) oauth() (*client.OAuth, error) {
	tc := o.tls()
	hc, err := (client.Config{TLS: tc}).HTTP()
	if err != nil {
		return nil, err
	}
	return &client.OAuth{TokenURL: o.tokenURL, HTTPClient: hc}, nil
}

// config resolves the flags and signs in: from the token cache when it
// holds a token for the user (refreshing it as needed, with
// $PSGATE_PASSWORD as the fallback, or signing in again as the
// application of an app-only login), else with $PSGATE_PASSWORD. With
// neither and no terminal, it is identity.interactive-sign-in-required.
func (o *remoteOpts) config(stdin io.Reader) (client.Config, error) {
	cache, err := tokenCache()
	if err != nil {
		return client.Config{}, err
	}
	if err := o.resolve(cache); err != nil {
		return client.Config{}, err
	}
	cfg := client.Config{Endpoint: o.endpoint, User: o.user, TLS: o.tls()}
	tok, err := cache.Load(o.user, client.TenantOf(o.user))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return cfg, err
	}
	password := os.Getenv("PSGATE_PASSWORD")
	if tok != nil {
		oauth, err := o.oauth()
		if err != nil {
			return cfg, err
		}
		src := &client.CachedTokenSource{OAuth: oauth, Cache: cache, User: o.user, Password: password, Loaded: tok}
		if tok.ClientID != "" {
			// App-only tokens have no refresh token: sign in again as
			// the application when they expire (long connect sessions).
			src.Password = ""
			src.App = o.appCredentials(tok.ClientID)
		}
		cfg.Tokens = src
		return cfg, nil
	}
	if password == "" {
		if !isTerminal(stdin) {
			return cfg, interactiveRequired(o.user)
		}
		e := psgate.E(psgate.CodeAuthRequired, nil)
		e.Resolution = "Run `psgate login`, or set PSGATE_PASSWORD for scripts."
		return cfg, e
	}
	cfg.Password = password
	return cfg, nil
}

// appCredentials returns the application credentials to renew an app-only
// token of clientID: the certificate of the login, or
// $PSGATE_CLIENT_SECRET; nil when there are none.
func (o *remoteOpts) appCredentials(clientID string) *client.AppCredentials {
	p := o.profile
	if p.ClientID == clientID && p.CertFile != "" && p.KeyFile != "" {
		if app, err := client.LoadAppCertificate(clientID, p.CertFile, p.KeyFile); err == nil {
			return &app
		}
	}
	if secret := os.Getenv("PSGATE_CLIENT_SECRET"); secret != "" {
		return &client.AppCredentials{ClientID: clientID, Secret: secret}
	}
	return nil
}

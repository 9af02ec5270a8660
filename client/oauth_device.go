package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/psgate/psgate"
)

// DeviceAuthorization is the identity service's answer to a device
// authorization request (RFC 8628 section 3.2): show VerificationURI and
// UserCode to the user, then call PollDeviceCode.
type DeviceAuthorization struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
	// Expires is when the device code expires, by the OAuth clock.
	Expires time.Time `json:"-"`
}

// defaultPollInterval is RFC 8628's default when the answer names none.
const defaultPollInterval = 5 * time.Second

// slowDownStep is how much a slow_down answer lengthens the interval
// (RFC 8628 section 3.5) when the service does not say.
const slowDownStep = 5 * time.Second

// DeviceAuthURL returns the device authorization endpoint: the token
// endpoint's sibling /oauth2/devicecode.
func (o *OAuth) DeviceAuthURL() string {
	if i := strings.LastIndex(o.TokenURL, "/"); i >= 0 {
		return o.TokenURL[:i] + "/devicecode"
	}
	return o.TokenURL
}

// StartDeviceCode starts a device-code sign-in.
func (o *OAuth) StartDeviceCode(ctx context.Context) (*DeviceAuthorization, error) {
	form := url.Values{}
	if o.ClientID != "" {
		form.Set("client_id", o.ClientID)
	}
	endpoint := o.DeviceAuthURL()
	data, err := o.post(ctx, endpoint, form)
	if err != nil {
		return nil, err
	}
	var da DeviceAuthorization
	if err := json.Unmarshal(data, &da); err != nil || da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" {
		return nil, IdentityUnreachable(endpoint, errors.New("the device authorization answer lacks the device code, user code or verification URI"))
	}
	da.Expires = o.now().Add(time.Duration(da.ExpiresIn) * time.Second)
	return &da, nil
}

// PollDeviceCode polls the token endpoint until the user approves the
// code at the verification page, waiting the given interval between polls
// and lengthening it on slow_down. It returns the tokens, with User set to
// the approving user, or identity.device-code-expired when the code
// expires first.
func (o *OAuth) PollDeviceCode(ctx context.Context, da *DeviceAuthorization) (*Token, error) {
	interval := time.Duration(da.Interval) * time.Second
	if interval <= 0 {
		interval = defaultPollInterval
	}
	sleep := o.Sleep
	if sleep == nil {
		sleep = sleepContext
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {da.DeviceCode}}
	for {
		t, err := o.grant(ctx, form)
		if err == nil {
			t.User = SubjectOf(t.AccessToken)
			t.Tenant = TenantOf(t.User)
			return t, nil
		}
		switch psgate.CodeOf(err) {
		case psgate.CodeAuthorizationPending:
		case psgate.CodeSlowDown:
			interval += slowDownStep
			if e, ok := psgate.AsError(err); ok {
				if v, ok := e.Value("interval"); ok {
					if n, perr := strconv.Atoi(v); perr == nil && n > 0 {
						interval = time.Duration(n) * time.Second
					}
				}
			}
		default:
			return nil, err
		}
		if !da.Expires.IsZero() && !o.now().Before(da.Expires) {
			return nil, psgate.E(psgate.CodeDeviceCodeExpired, nil)
		}
		if err := sleep(ctx, interval); err != nil {
			return nil, err
		}
	}
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// SubjectOf returns the sub claim of a JWT access token, without checking
// its signature (the gateway does): the user principal name the token
// was issued to. It returns "" when tok is not a JWT.
func SubjectOf(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var c struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return ""
	}
	return c.Sub
}

// discovery is the part of the identity service's discovery document the
// connector reads.
type discovery struct {
	Issuer              string `json:"issuer"`
	MinConnectorVersion string `json:"psgate_min_connector_version"`
}

// Discover reads the identity service's discovery document
// (/.well-known/openid-configuration next to the token endpoint) and
// returns its issuer and the oldest connector version the server accepts
// ("" when the server does not say).
func (o *OAuth) Discover(ctx context.Context) (issuer, minConnector string, err error) {
	u, err := url.Parse(o.TokenURL)
	if err != nil || u.Host == "" {
		return "", "", fmt.Errorf("client: token URL %q is not a URL", o.TokenURL)
	}
	doc := u.Scheme + "://" + u.Host + "/.well-known/openid-configuration"
	hc := o.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, doc, nil)
	if err != nil {
		return "", "", fmt.Errorf("client: discovery: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", "", IdentityUnreachable(o.TokenURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", "", IdentityUnreachable(o.TokenURL, fmt.Errorf("the discovery document %s answered HTTP %s", doc, resp.Status))
	}
	var d discovery
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&d); err != nil {
		return "", "", IdentityUnreachable(o.TokenURL, fmt.Errorf("the discovery document %s is not JSON: %w", doc, err))
	}
	return d.Issuer, d.MinConnectorVersion, nil
}

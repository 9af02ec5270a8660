package identity

import (
	"net/http"

	"github.com/go-jose/go-jose/v4"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/logkey"
)

// metadata is the token service's discovery document (OpenID Connect
// Discovery 1.0 and RFC 8414). psgate issues access tokens only, so there
// is no authorization endpoint and no ID token.
type metadata struct {
	Issuer                      string   `json:"issuer"`
	TokenEndpoint               string   `json:"token_endpoint"`
	JWKSURI                     string   `json:"jwks_uri"`
	DeviceAuthorizationEndpoint string   `json:"device_authorization_endpoint"`
	RevocationEndpoint          string   `json:"revocation_endpoint"`
	GrantTypesSupported         []string `json:"grant_types_supported"`
	ResponseTypesSupported      []string `json:"response_types_supported"`
	SubjectTypesSupported       []string `json:"subject_types_supported"`
	TokenAuthMethods            []string `json:"token_endpoint_auth_methods_supported"`
	TokenAuthSigningAlgs        []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	RevocationAuthMethods       []string `json:"revocation_endpoint_auth_methods_supported"`
	AccessTokenSigningAlgs      []string `json:"access_token_signing_alg_values_supported"`
	ClaimsSupported             []string `json:"claims_supported"`
	// Audience is the aud of the gateway's access tokens (psgate
	// extension), so that clients need not be configured with it.
	Audience string `json:"psgate_audience"`
	// MinConnectorVersion is the oldest psgate connector the server
	// accepts (psgate extension), so that `psgate doctor` can compare.
	MinConnectorVersion string `json:"psgate_min_connector_version"`
}

func (s *Service) metadata() metadata {
	iss := s.cfg.Issuer
	auth := []string{"none", "client_secret_basic", "client_secret_post", "private_key_jwt"}
	algs := make([]string, len(acceptedAlgs))
	for i, a := range acceptedAlgs {
		algs[i] = string(a)
	}
	return metadata{
		Issuer:                      iss,
		TokenEndpoint:               iss + PathToken,
		JWKSURI:                     iss + PathJWKS,
		DeviceAuthorizationEndpoint: iss + PathDeviceCode,
		RevocationEndpoint:          iss + PathRevoke,
		GrantTypesSupported:         []string{grantPassword, grantRefreshToken, grantDeviceCode, grantClientCredentials},
		ResponseTypesSupported:      []string{"token"},
		SubjectTypesSupported:       []string{"public"},
		TokenAuthMethods:            auth,
		TokenAuthSigningAlgs:        algs,
		RevocationAuthMethods:       auth,
		AccessTokenSigningAlgs:      []string{string(jose.ES256), string(jose.RS256)},
		ClaimsSupported: []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "tid", "tenant", "uid", "oid",
			"client_id", "scope", "idtyp"},
		Audience:            s.cfg.Audience,
		MinConnectorVersion: psgate.MinConnectorVersion,
	}
}

func (s *Service) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.metadata())
}

func (s *Service) serveJWKS(w http.ResponseWriter, r *http.Request) {
	b, err := s.keys.jwks(r.Context())
	if err != nil {
		s.log.Error("JWKS unavailable", logkey.Err, err)
		s.writeOAuthError(w, storeError(err))
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	// Short, so that verifiers see a new key well before it signs.
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(b)
}
